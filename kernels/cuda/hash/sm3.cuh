// SM3 (GB/T 32905-2016, GM/T 0004-2012) of exactly 64 bytes: the message block, then the
// fixed padding block of a 512-bit message, as for SHA-256. Merkle nodes of the trees
// whose nodes SM3 makes, and the independent-block hashing, are all this shape.
#pragma once
#include "common.cuh"
#include "hash/words.cuh"

namespace vb {

// x rotated left by n, for n in 1..31.
VB_HD u32 rotl32(u32 x, int n) { return (x << n) | (x >> (32 - n)); }

VB_HD u32 sm3_p0(u32 x) { return x ^ rotl32(x, 9) ^ rotl32(x, 17); }

VB_HD u32 sm3_p1(u32 x) { return x ^ rotl32(x, 15) ^ rotl32(x, 23); }

// One compression (the standard's CF) of the 16 big-endian words b into state: the
// expansion to W[0..68] kept as a 16-word ring, W'[j] = W[j] ^ W[j + 4]. t[j] is T_j
// rotated left by j mod 32, so no round rotates by a variable amount.
VB_HD void sm3_compress(u32 state[8], const u32 b[16]) {
    const u32 t[64] = {
        0x79cc4519, 0xf3988a32, 0xe7311465, 0xce6228cb, 0x9cc45197, 0x3988a32f, 0x7311465e, 0xe6228cbc,
        0xcc451979, 0x988a32f3, 0x311465e7, 0x6228cbce, 0xc451979c, 0x88a32f39, 0x11465e73, 0x228cbce6,
        0x9d8a7a87, 0x3b14f50f, 0x7629ea1e, 0xec53d43c, 0xd8a7a879, 0xb14f50f3, 0x629ea1e7, 0xc53d43ce,
        0x8a7a879d, 0x14f50f3b, 0x29ea1e76, 0x53d43cec, 0xa7a879d8, 0x4f50f3b1, 0x9ea1e762, 0x3d43cec5,
        0x7a879d8a, 0xf50f3b14, 0xea1e7629, 0xd43cec53, 0xa879d8a7, 0x50f3b14f, 0xa1e7629e, 0x43cec53d,
        0x879d8a7a, 0x0f3b14f5, 0x1e7629ea, 0x3cec53d4, 0x79d8a7a8, 0xf3b14f50, 0xe7629ea1, 0xcec53d43,
        0x9d8a7a87, 0x3b14f50f, 0x7629ea1e, 0xec53d43c, 0xd8a7a879, 0xb14f50f3, 0x629ea1e7, 0xc53d43ce,
        0x8a7a879d, 0x14f50f3b, 0x29ea1e76, 0x53d43cec, 0xa7a879d8, 0x4f50f3b1, 0x9ea1e762, 0x3d43cec5};
    u32 w[16];
    VB_UNROLL
    for (int i = 0; i < 16; ++i) w[i] = b[i];
    u32 a = state[0], bb = state[1], c = state[2], d = state[3];
    u32 e = state[4], f = state[5], g = state[6], h = state[7];
    VB_UNROLL
    for (int j = 0; j < 64; ++j) {
        // W[j + 4], which W'[j] needs, is expanded four rounds ahead into the ring.
        if (j + 4 >= 16) {
            const int k = j + 4;
            w[k & 15] = sm3_p1(w[(k - 16) & 15] ^ w[(k - 9) & 15] ^ rotl32(w[(k - 3) & 15], 15)) ^
                        rotl32(w[(k - 13) & 15], 7) ^ w[(k - 6) & 15];
        }
        const u32 wj = w[j & 15], wj4 = w[(j + 4) & 15];
        const u32 a12 = rotl32(a, 12);
        const u32 ss1 = rotl32(a12 + e + t[j], 7);
        const u32 ss2 = ss1 ^ a12;
        const u32 ff = j < 16 ? (a ^ bb ^ c) : ((a & bb) | (a & c) | (bb & c));
        const u32 gg = j < 16 ? (e ^ f ^ g) : ((e & f) | (~e & g));
        const u32 tt1 = ff + d + ss2 + (wj ^ wj4);
        const u32 tt2 = gg + h + ss1 + wj;
        d = c;
        c = rotl32(bb, 9);
        bb = a;
        a = tt1;
        h = g;
        g = rotl32(f, 19);
        f = e;
        e = sm3_p0(tt2);
    }
    state[0] ^= a; state[1] ^= bb; state[2] ^= c; state[3] ^= d;
    state[4] ^= e; state[5] ^= f; state[6] ^= g; state[7] ^= h;
}

// SM3(left[0..32] || right[0..32]) into out[0..32].
VB_HD void sm3_pair(const u8* left, const u8* right, u8* out) {
    u32 state[8] = {0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600,
                    0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e};
    u32 w[16];
    load_pair_be(left, right, w);
    sm3_compress(state, w);
    padding_of_64(w);
    sm3_compress(state, w);
    store_be(state, out);
}

}  // namespace vb
