//! The binary SHA-256 tree that Merkle roots are made of, as every backend needs it:
//! a node is SHA-256 of its two children, and padding is never materialised (a missing
//! right child at height h is the root of an all-zero subtree of height h, from the
//! zero-hash ladder). `merkle/` builds trees, proofs and streams on top of these.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::Backend;

/// A 32-byte chunk or node.
pub type Node = [u8; 32];

/// Deepest tree supported: generalized indices must fit in 64 bits, with one level to
/// spare for `mix_in_length`.
pub const MAX_DEPTH: u32 = 62;

/// SHA-256(left ‖ right).
pub fn hash_pair(left: &Node, right: &Node) -> Node {
    let mut h = Sha256::new();
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of a tree of height `height` whose leaves are all zero chunks.
pub fn zero_hash(height: u32) -> Node {
    static LADDER: OnceLock<Vec<Node>> = OnceLock::new();
    LADDER.get_or_init(|| {
        let mut ladder = vec![[0u8; 32]];
        for h in 0..=MAX_DEPTH as usize + 1 {
            ladder.push(hash_pair(&ladder[h], &ladder[h]));
        }
        ladder
    })[height as usize]
}

/// The level above `level` (concatenated nodes at `height`): pairs hashed by the backend,
/// a last odd node paired with the zero subtree of its height. An empty level stays empty.
pub fn parent_level<B: Backend + ?Sized>(backend: &B, level: &[u8], height: u32) -> Vec<u8> {
    let width = level.len() / 32;
    let pairs = width / 2;
    let mut next = vec![0u8; width.div_ceil(2) * 32];
    backend.hash_blocks(&level[..pairs * 64], &mut next[..pairs * 32]);
    if width % 2 == 1 {
        let last: Node = level[pairs * 64..].try_into().expect("one node");
        next[pairs * 32..].copy_from_slice(&hash_pair(&last, &zero_hash(height)));
    }
    next
}
