// The hashes of RFC 9162 transparency-log trees: a leaf hash is SHA-256(0x00 || data), a
// node hash SHA-256(0x01 || left || right). The prefix byte shifts the message by one
// byte against the words SHA-256 reads, so words are assembled byte by byte.
#pragma once
#include "common.cuh"
#include "hash/sha256.cuh"

namespace vb {

VB_HD void sha256_init(u32 state[8]) {
    const u32 iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (int i = 0; i < 8; ++i) state[i] = iv[i];
}

VB_HD void sha256_store(const u32 state[8], u8* out) {
    for (int i = 0; i < 8; ++i) {
        out[4 * i] = (u8)(state[i] >> 24);
        out[4 * i + 1] = (u8)(state[i] >> 16);
        out[4 * i + 2] = (u8)(state[i] >> 8);
        out[4 * i + 3] = (u8)state[i];
    }
}

// SHA-256(0x00 || data[0..len]) into out[0..32].
VB_HD void log_leaf_hash(const u8* data, u32 len, u8* out) {
    u32 state[8];
    sha256_init(state);
    // The message is 1 + len bytes; padding adds 0x80 and an 8-byte length.
    const u64 total = (u64)len + 1;
    const u64 blocks = (total + 8) / 64 + 1;
    for (u64 b = 0; b < blocks; ++b) {
        u32 w[16];
        for (int j = 0; j < 16; ++j) {
            u32 word = 0;
            for (int k = 0; k < 4; ++k) {
                const u64 p = 64 * b + 4 * j + k;
                const u32 byte = p == 0 ? 0u : p <= len ? (u32)data[p - 1] : p == total ? 0x80u : 0u;
                word = word << 8 | byte;
            }
            w[j] = word;
        }
        if (b + 1 == blocks) {
            const u64 bits = total * 8;
            w[14] = (u32)(bits >> 32);
            w[15] = (u32)bits;
        }
        sha256_compress(state, w);
    }
    sha256_store(state, out);
}

// SHA-256(0x01 || left[0..32] || right[0..32]) into out[0..32]: 65 bytes, the last
// child byte, 0x80 and the bit length 520 in the second block.
VB_HD void log_node_hash(const u8* left, const u8* right, u8* out) {
    u32 state[8];
    sha256_init(state);
    u32 w[16];
    VB_UNROLL
    for (int j = 0; j < 16; ++j) {
        u32 word = 0;
        VB_UNROLL
        for (int k = 0; k < 4; ++k) {
            const int p = 4 * j + k;
            const u32 byte = p == 0 ? 1u : p <= 32 ? (u32)left[p - 1] : (u32)right[p - 33];
            word = word << 8 | byte;
        }
        w[j] = word;
    }
    sha256_compress(state, w);
    u32 last[16] = {(u32)right[31] << 24 | 0x00800000u, 0, 0, 0, 0, 0, 0, 0,
                    0, 0, 0, 0, 0, 0, 0, 520};
    sha256_compress(state, last);
    sha256_store(state, out);
}

}  // namespace vb
