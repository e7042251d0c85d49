//! SSZ-style SHA-256 Merkle trees: roots of 32-byte chunks padded to a power of two,
//! `mix_in_length`, and multi-proofs addressed by generalized indices.
//!
//! Padding is never materialised: a missing right child at height h is the root of an
//! all-zero subtree of height h, taken from the zero-hash ladder ([`zero_hash`]).

pub mod file;
mod proof;
mod tree;

pub use proof::{MultiProof, helper_count, helper_indices, multiproof_verdict, verify_multiproof};
pub use tree::{Tree, depth_for, parent_level, root};

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// A 32-byte chunk or node.
pub type Node = [u8; 32];

/// Deepest tree supported: generalized indices must fit in 64 bits, with one level to
/// spare for `mix_in_length`.
pub const MAX_DEPTH: u32 = 62;

/// Why a tree cannot be built or a proof checked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    #[error("chunks: {0} bytes is not a multiple of 32")]
    NotChunks(usize),
    #[error("chunks: {count} chunks exceed the limit of {limit}")]
    OverLimit { count: u64, limit: u64 },
    #[error("{0} chunks need a tree deeper than {MAX_DEPTH} levels")]
    TooDeep(u64),
    #[error("indices[{position}]: leaf {index} is outside a tree of {width} leaves")]
    LeafOutOfRange {
        position: usize,
        index: u64,
        width: u64,
    },
    #[error("indices: no leaf to prove")]
    NoLeaves,
    #[error("indices[{position}]: leaf {index} appears twice")]
    DuplicateLeaf { position: usize, index: u64 },
    #[error("leaves[{0}]: generalized indices start at 1")]
    ZeroIndex(usize),
    #[error("leaves: a generalized index appears twice")]
    RepeatedIndex,
    #[error("leaves[{position}]: generalized index {index} lies under another leaf, {ancestor}")]
    NestedLeaf {
        position: usize,
        index: u64,
        ancestor: u64,
    },
    #[error("proof: {given} nodes given, {needed} needed for these leaves")]
    HelperCount { given: usize, needed: usize },
}

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

/// mix_in_length: SHA-256(root ‖ length as a 256-bit little-endian integer).
pub fn mix_in_length(root: &Node, length: u64) -> Node {
    hash_pair(root, &length_chunk(length))
}

/// A length as SSZ serializes it into a chunk: a 256-bit little-endian integer.
pub fn length_chunk(length: u64) -> Node {
    let mut chunk = [0u8; 32];
    chunk[..8].copy_from_slice(&length.to_le_bytes());
    chunk
}
