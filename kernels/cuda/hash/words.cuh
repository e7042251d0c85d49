// Big-endian words of the 64-byte messages SHA-256 and SM3 hash for Merkle nodes: two
// 32-byte halves in, a 32-byte digest out, and the padding block of a 512-bit message.
#pragma once
#include "common.cuh"

namespace vb {

// The 16 big-endian words of left[0..32] || right[0..32] (the halves may come from
// different buffers: a Merkle node and the zero hash).
VB_HD void load_pair_be(const u8* left, const u8* right, u32 w[16]) {
    VB_UNROLL
    for (int i = 0; i < 16; ++i) {
        const u8* src = i < 8 ? left + 4 * i : right + 4 * (i - 8);
        w[i] = ((u32)src[0] << 24) | ((u32)src[1] << 16) | ((u32)src[2] << 8) | (u32)src[3];
    }
}

// The padding block of a 64-byte message: 0x80, zeros, then the bit length 512.
VB_HD void padding_of_64(u32 pad[16]) {
    VB_UNROLL
    for (int i = 0; i < 16; ++i) pad[i] = 0;
    pad[0] = 0x80000000;
    pad[15] = 512;
}

// The eight state words, big-endian, into out[0..32].
VB_HD void store_be(const u32 state[8], u8* out) {
    VB_UNROLL
    for (int i = 0; i < 8; ++i) {
        out[4 * i] = (u8)(state[i] >> 24);
        out[4 * i + 1] = (u8)(state[i] >> 16);
        out[4 * i + 2] = (u8)(state[i] >> 8);
        out[4 * i + 3] = (u8)state[i];
    }
}

}  // namespace vb
