//! Hex digits to bytes, fast: a table lookup per digit and one check per string, where
//! the `hex` crate branches on every digit (it was half the time of `veribatch log root`
//! over a file of hex leaves). A string that does not decode is handed to the `hex`
//! crate, so the error names the same character and place.

/// A digit's value, or `INVALID` for a byte that is not a hex digit (either case).
const VALUES: [u16; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u16;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u16;
        table[b'A' as usize + i] = 10 + i as u16;
        i += 1;
    }
    table
};

/// Above every digit's value: OR-ed over a string, it shows a bad digit anywhere.
const INVALID: u16 = 0x100;

/// Decodes `digits` (no `0x`) into `out`, which must be half their length.
pub fn decode_to_slice(digits: &[u8], out: &mut [u8]) -> Result<(), hex::FromHexError> {
    if digits.len() != 2 * out.len() {
        // The crate says which: an odd length, or a wrong one.
        return hex::decode_to_slice(digits, out);
    }
    let mut bad = 0u16;
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let high = VALUES[pair[0] as usize];
        let low = VALUES[pair[1] as usize];
        bad |= high | low;
        *byte = ((high << 4) | low) as u8;
    }
    if bad & INVALID != 0 {
        return hex::decode_to_slice(digits, out);
    }
    Ok(())
}

/// The bytes of `digits` (no `0x`).
pub fn decode(digits: &[u8]) -> Result<Vec<u8>, hex::FromHexError> {
    if digits.len() % 2 == 1 {
        return Err(hex::FromHexError::OddLength);
    }
    let mut out = vec![0; digits.len() / 2];
    decode_to_slice(digits, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_pair_decodes_as_the_hex_crate_decodes_it() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let digits = [b'0', b'f', a, b, b'A', b'9'];
                assert_eq!(decode(&digits), hex::decode(digits), "{a} {b}");
            }
        }
    }

    #[test]
    fn lengths_and_errors_are_the_hex_crate_s() {
        for digits in ["", "0", "abc", "0x00", "zz", "00zz00", "ffff"] {
            assert_eq!(decode(digits.as_bytes()), hex::decode(digits), "{digits:?}");
        }
        let mut out = [0u8; 3];
        assert_eq!(
            decode_to_slice(b"0011", &mut out),
            Err(hex::FromHexError::InvalidStringLength)
        );
    }
}
