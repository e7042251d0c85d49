//! SM3, the Chinese national hash (GM/T 0004-2012, GB/T 32905-2016): 256-bit digests over
//! 512-bit blocks, padded as SHA-256 is (a one bit, zeros, the length in bits as a
//! 64-bit big-endian integer).
//!
//! Written here rather than taken from RustCrypto's `sm3` (which the tests compare with)
//! for the Merkle case: a 64-byte message is one block and a padding block that is the
//! same for every message, so that block's message expansion is computed once
//! ([`hash_64`]), and many blocks are hashed without a hasher's buffering.

/// Digest size in bytes.
pub const DIGEST_BYTES: usize = 32;

const BLOCK_BYTES: usize = 64;

const IV: [u32; 8] = [
    0x7380_166f,
    0x4914_b2b9,
    0x1724_42d7,
    0xda8a_0600,
    0xa96f_30bc,
    0x1631_38aa,
    0xe38d_ee4d,
    0xb0fb_0e4e,
];

/// The round constants T_j rotated left by j mod 32, as every round uses them.
const T_ROTATED: [u32; 64] = {
    let mut t = [0u32; 64];
    let mut j = 0;
    while j < 64 {
        let base: u32 = if j < 16 { 0x79cc_4519 } else { 0x7a87_9d8a };
        t[j] = base.rotate_left((j % 32) as u32);
        j += 1;
    }
    t
};

/// The expanded message of one block: W_0..W_67 (W'_j = W_j ^ W_{j+4} is formed in
/// the rounds).
type Expanded = [u32; 68];

fn p0(x: u32) -> u32 {
    x ^ x.rotate_left(9) ^ x.rotate_left(17)
}

const fn p1(x: u32) -> u32 {
    x ^ x.rotate_left(15) ^ x.rotate_left(23)
}

const fn expand(words: [u32; 16]) -> Expanded {
    let mut w = [0u32; 68];
    let mut j = 0;
    while j < 16 {
        w[j] = words[j];
        j += 1;
    }
    while j < 68 {
        w[j] = p1(w[j - 16] ^ w[j - 9] ^ w[j - 3].rotate_left(15))
            ^ w[j - 13].rotate_left(7)
            ^ w[j - 6];
        j += 1;
    }
    w
}

fn words_of(block: &[u8; BLOCK_BYTES]) -> [u32; 16] {
    let mut words = [0u32; 16];
    for (word, bytes) in words.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes(bytes.try_into().expect("4 bytes"));
    }
    words
}

/// The compression function CF(V, B) on an expanded block.
#[inline(always)]
fn compress_expanded(state: &mut [u32; 8], w: &Expanded) {
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for j in 0..64 {
        let a12 = a.rotate_left(12);
        let ss1 = a12
            .wrapping_add(e)
            .wrapping_add(T_ROTATED[j])
            .rotate_left(7);
        let ss2 = ss1 ^ a12;
        let (ff, gg) = if j < 16 {
            (a ^ b ^ c, e ^ f ^ g)
        } else {
            ((a & b) | (a & c) | (b & c), (e & f) | (!e & g))
        };
        let tt1 = ff
            .wrapping_add(d)
            .wrapping_add(ss2)
            .wrapping_add(w[j] ^ w[j + 4]);
        let tt2 = gg.wrapping_add(h).wrapping_add(ss1).wrapping_add(w[j]);
        d = c;
        c = b.rotate_left(9);
        b = a;
        a = tt1;
        h = g;
        g = f.rotate_left(19);
        f = e;
        e = p0(tt2);
    }
    for (v, x) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *v ^= x;
    }
}

fn compress(state: &mut [u32; 8], block: &[u8; BLOCK_BYTES]) {
    compress_expanded(state, &expand(words_of(block)));
}

fn digest_of(state: &[u32; 8]) -> [u8; DIGEST_BYTES] {
    let mut out = [0u8; DIGEST_BYTES];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// The padding block of every 64-byte message, expanded once.
const PADDING_OF_64: Expanded = {
    let mut words = [0u32; 16];
    words[0] = 0x8000_0000;
    words[15] = 512;
    expand(words)
};

/// SM3 of one 64-byte message (two Merkle children): one compression of the message
/// and one of the precomputed padding block.
pub fn hash_64(block: &[u8; BLOCK_BYTES]) -> [u8; DIGEST_BYTES] {
    let mut state = IV;
    compress(&mut state, block);
    compress_expanded(&mut state, &PADDING_OF_64);
    digest_of(&state)
}

/// Writes SM3(block) for each 64-byte block of `blocks` into `digests`, on this thread.
///
/// # Panics
/// If `blocks` is not a whole number of blocks or `digests` does not have room for
/// exactly one digest per block: both are programming errors of the caller.
pub fn hash_blocks(blocks: &[u8], digests: &mut [u8]) {
    assert!(
        blocks.len().is_multiple_of(BLOCK_BYTES) && digests.len() * 2 == blocks.len(),
        "sm3::hash_blocks: {} input bytes and {} output bytes",
        blocks.len(),
        digests.len()
    );
    for (block, digest) in blocks
        .chunks_exact(BLOCK_BYTES)
        .zip(digests.chunks_exact_mut(DIGEST_BYTES))
    {
        digest.copy_from_slice(&hash_64(block.try_into().expect("64 bytes")));
    }
}

/// SM3 of a message given in pieces.
#[derive(Clone, Debug)]
pub struct Sm3 {
    state: [u32; 8],
    buffer: [u8; BLOCK_BYTES],
    buffered: usize,
    /// Message bytes so far; SM3 is defined for messages under 2^64 bits.
    length: u64,
}

impl Default for Sm3 {
    fn default() -> Self {
        Self::new()
    }
}

impl Sm3 {
    pub fn new() -> Self {
        Self {
            state: IV,
            buffer: [0; BLOCK_BYTES],
            buffered: 0,
            length: 0,
        }
    }

    pub fn update(&mut self, mut data: &[u8]) -> &mut Self {
        self.length = self.length.wrapping_add(data.len() as u64);
        if self.buffered > 0 {
            let take = data.len().min(BLOCK_BYTES - self.buffered);
            self.buffer[self.buffered..self.buffered + take].copy_from_slice(&data[..take]);
            self.buffered += take;
            data = &data[take..];
            if self.buffered < BLOCK_BYTES {
                return self;
            }
            let block = self.buffer;
            compress(&mut self.state, &block);
            self.buffered = 0;
        }
        let mut blocks = data.chunks_exact(BLOCK_BYTES);
        for block in &mut blocks {
            compress(&mut self.state, block.try_into().expect("64 bytes"));
        }
        let rest = blocks.remainder();
        self.buffer[..rest.len()].copy_from_slice(rest);
        self.buffered = rest.len();
        self
    }

    pub fn finalize(mut self) -> [u8; DIGEST_BYTES] {
        let bits = self.length.wrapping_mul(8);
        self.buffer[self.buffered] = 0x80;
        self.buffer[self.buffered + 1..].fill(0);
        if self.buffered + 1 > BLOCK_BYTES - 8 {
            let block = self.buffer;
            compress(&mut self.state, &block);
            self.buffer.fill(0);
        }
        self.buffer[BLOCK_BYTES - 8..].copy_from_slice(&bits.to_be_bytes());
        let block = self.buffer;
        compress(&mut self.state, &block);
        digest_of(&self.state)
    }
}

/// SM3 of `data`.
pub fn sm3(data: &[u8]) -> [u8; DIGEST_BYTES] {
    let mut hasher = Sm3::new();
    hasher.update(data);
    hasher.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(s: &str) -> [u8; 32] {
        hex::decode(s.replace(' ', "")).unwrap().try_into().unwrap()
    }

    #[test]
    fn the_standards_examples() {
        // GB/T 32905-2016 Annex A (and GM/T 0004-2012 Appendix A): "abc", and "abcd"
        // sixteen times (one full block, then the padding block).
        assert_eq!(
            sm3(b"abc"),
            hex32("66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 4167c487 5cf2f7a2 297da02b 8f4ba8e0")
        );
        let abcd = b"abcd".repeat(16);
        assert_eq!(
            sm3(&abcd),
            hex32("debe9ff9 2275b8a1 38604889 c18e5a4d 6fdb70e5 387e5765 293dcba3 9c0c5732")
        );
        assert_eq!(hash_64(abcd.as_slice().try_into().unwrap()), sm3(&abcd));
    }

    #[test]
    fn agrees_with_rustcrypto_on_every_length_and_on_blocks() {
        use ::sm3::Digest as _;
        let data: Vec<u8> = (0..3000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in (0..300).chain([511, 512, 513, 1000, 2999]) {
            let reference: [u8; 32] = ::sm3::Sm3::digest(&data[..len]).into();
            assert_eq!(sm3(&data[..len]), reference, "length {len}");
        }
        let blocks = &data[..64 * 40];
        let mut digests = vec![0u8; 32 * 40];
        hash_blocks(blocks, &mut digests);
        for (block, digest) in blocks.chunks(64).zip(digests.chunks(32)) {
            let reference: [u8; 32] = ::sm3::Sm3::digest(block).into();
            assert_eq!(digest, reference);
        }
    }

    #[test]
    fn pieces_of_any_size_give_one_digest() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 999] {
            let whole = sm3(&data[..len]);
            for piece in [1, 3, 64, 100] {
                let mut hasher = Sm3::new();
                for part in data[..len].chunks(piece) {
                    hasher.update(part);
                }
                assert_eq!(
                    hasher.finalize(),
                    whole,
                    "length {len} in pieces of {piece}"
                );
            }
        }
    }
}
