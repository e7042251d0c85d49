// One level of a Merkle tree: parent i = SHA-256(child 2i || child 2i+1), 32-byte nodes.
// A last child without a sibling (odd count) is paired with the root of an all-zero
// subtree of the same height, which the host passes in, so padding is never stored.
#pragma once
#include "common.cuh"
#include "hash/sha256.cuh"

namespace vb {

VB_HD void merkle_parent(const u8* children, u32 n_children, const u8* zero_hash, u32 i,
                         u8* parent) {
    const u64 left = 2 * (u64)i;
    const u8* right = left + 1 < n_children ? children + 32 * (left + 1) : zero_hash;
    sha256_pair(children + 32 * left, right, parent);
}

}  // namespace vb
