// SM3 (GB/T 32905-2016, GM/T 0004-2012): the compression of one block, and 64-byte
// messages (two 32-byte Merkle nodes) for the trees whose nodes SM3 makes.
//
// A 64-byte message is one block of data and one block of padding (0x80, zeros, the bit
// length 512), as for SHA-256.

// T_j rotated left by j mod 32: the round constant as each round adds it, so no round
// rotates by a variable amount.
const SM3_T = array<u32, 64>(
    0x79cc4519u, 0xf3988a32u, 0xe7311465u, 0xce6228cbu, 0x9cc45197u, 0x3988a32fu, 0x7311465eu, 0xe6228cbcu,
    0xcc451979u, 0x988a32f3u, 0x311465e7u, 0x6228cbceu, 0xc451979cu, 0x88a32f39u, 0x11465e73u, 0x228cbce6u,
    0x9d8a7a87u, 0x3b14f50fu, 0x7629ea1eu, 0xec53d43cu, 0xd8a7a879u, 0xb14f50f3u, 0x629ea1e7u, 0xc53d43ceu,
    0x8a7a879du, 0x14f50f3bu, 0x29ea1e76u, 0x53d43cecu, 0xa7a879d8u, 0x4f50f3b1u, 0x9ea1e762u, 0x3d43cec5u,
    0x7a879d8au, 0xf50f3b14u, 0xea1e7629u, 0xd43cec53u, 0xa879d8a7u, 0x50f3b14fu, 0xa1e7629eu, 0x43cec53du,
    0x879d8a7au, 0x0f3b14f5u, 0x1e7629eau, 0x3cec53d4u, 0x79d8a7a8u, 0xf3b14f50u, 0xe7629ea1u, 0xcec53d43u,
    0x9d8a7a87u, 0x3b14f50fu, 0x7629ea1eu, 0xec53d43cu, 0xd8a7a879u, 0xb14f50f3u, 0x629ea1e7u, 0xc53d43ceu,
    0x8a7a879du, 0x14f50f3bu, 0x29ea1e76u, 0x53d43cecu, 0xa7a879d8u, 0x4f50f3b1u, 0x9ea1e762u, 0x3d43cec5u,
);

const SM3_IV = array<u32, 8>(
    0x7380166fu, 0x4914b2b9u, 0x172442d7u, 0xda8a0600u,
    0xa96f30bcu, 0x163138aau, 0xe38dee4du, 0xb0fb0e4eu,
);

// x rotated left by n, for n in 1..31.
fn sm3_rotl(x: u32, n: u32) -> u32 {
    return (x << n) | (x >> (32u - n));
}

fn sm3_p0(x: u32) -> u32 {
    return x ^ sm3_rotl(x, 9u) ^ sm3_rotl(x, 17u);
}

fn sm3_p1(x: u32) -> u32 {
    return x ^ sm3_rotl(x, 15u) ^ sm3_rotl(x, 23u);
}

// The state after compressing one block given as sixteen big-endian words (the
// standard's CF: expansion to W[0..68], then 64 rounds with W'[j] = W[j] ^ W[j + 4]).
fn sm3_compress(state: array<u32, 8>, block: array<u32, 16>) -> array<u32, 8> {
    var w: array<u32, 68>;
    for (var j = 0u; j < 16u; j++) {
        w[j] = block[j];
    }
    for (var j = 16u; j < 68u; j++) {
        w[j] = sm3_p1(w[j - 16u] ^ w[j - 9u] ^ sm3_rotl(w[j - 3u], 15u))
            ^ sm3_rotl(w[j - 13u], 7u) ^ w[j - 6u];
    }
    var a = state[0];
    var b = state[1];
    var c = state[2];
    var d = state[3];
    var e = state[4];
    var f = state[5];
    var g = state[6];
    var h = state[7];
    for (var j = 0u; j < 64u; j++) {
        let a12 = sm3_rotl(a, 12u);
        let ss1 = sm3_rotl(a12 + e + SM3_T[j], 7u);
        let ss2 = ss1 ^ a12;
        var ff: u32;
        var gg: u32;
        if j < 16u {
            ff = a ^ b ^ c;
            gg = e ^ f ^ g;
        } else {
            ff = (a & b) | (a & c) | (b & c);
            gg = (e & f) | (~e & g);
        }
        let tt1 = ff + d + ss2 + (w[j] ^ w[j + 4u]);
        let tt2 = gg + h + ss1 + w[j];
        d = c;
        c = sm3_rotl(b, 9u);
        b = a;
        a = tt1;
        h = g;
        g = sm3_rotl(f, 19u);
        f = e;
        e = sm3_p0(tt2);
    }
    return array<u32, 8>(
        state[0] ^ a, state[1] ^ b, state[2] ^ c, state[3] ^ d,
        state[4] ^ e, state[5] ^ f, state[6] ^ g, state[7] ^ h,
    );
}

// The digest of a 64-byte message given as sixteen big-endian words.
fn sm3_64(message: array<u32, 16>) -> array<u32, 8> {
    var padding: array<u32, 16>;
    padding[0] = 0x80000000u;
    padding[15] = 512u;
    return sm3_compress(sm3_compress(SM3_IV, message), padding);
}

// The node hash merkle.wgsl calls: this module's trees are SM3's.
fn node_hash_64(message: array<u32, 16>) -> array<u32, 8> {
    return sm3_64(message);
}
