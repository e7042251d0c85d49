// One level of a Merkle tree: parent i = H(child 2i || child 2i+1), 32-byte nodes, H
// SHA-256 or SM3 (the trees whose nodes SM3 makes). A last child without a sibling (odd
// count) is paired with the root of an all-zero subtree of the same height, which the
// host passes in, so padding is never stored.
#pragma once
#include "common.cuh"
#include "hash/sha256.cuh"
#include "hash/sm3.cuh"

namespace vb {

// The node hashes a level can be made with.
struct sha256_node {
    static VB_HD void pair(const u8* left, const u8* right, u8* out) { sha256_pair(left, right, out); }
};
struct sm3_node {
    static VB_HD void pair(const u8* left, const u8* right, u8* out) { sm3_pair(left, right, out); }
};

template <class H>
VB_HD void merkle_parent(const u8* children, u32 n_children, const u8* zero_hash, u32 i,
                         u8* parent) {
    const u64 left = 2 * (u64)i;
    const u8* right = left + 1 < n_children ? children + 32 * (left + 1) : zero_hash;
    H::pair(children + 32 * left, right, parent);
}

}  // namespace vb
