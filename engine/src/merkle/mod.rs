//! SSZ-style Merkle trees: roots of 32-byte chunks padded to a power of two,
//! `mix_in_length`, and multi-proofs addressed by generalized indices; nodes are SHA-256
//! as SSZ has them, or SM3 ([`TreeHash`]) for the chains that hash with it.
//!
//! Padding is never materialised: a missing right child at height h is the root of an
//! all-zero subtree of height h, taken from the zero-hash ladder ([`zero_hash`]).

pub mod file;
pub mod file_tree;
mod proof;
pub mod stream;
mod tree;

pub use proof::{
    MultiProof, helper_count, helper_indices, multiproof_verdict, verify_multiproof,
    verify_multiproof_with,
};
pub use tree::{Tree, depth_for, root, root_with};

// The binary tree every backend hashes (SHA-256 or SM3 nodes): nodes, the zero-hash
// ladders and one level from the one below. They live with the backends, which need
// them to pad a level, and are named here for the rest of the engine.
pub use crate::backend::binary_tree::{MAX_DEPTH, Node, TreeHash, hash_pair, zero_hash};

use std::fmt;

/// Why a tree cannot be built or a proof checked. Shown as `location: reason`
/// (`indices[3]: leaf 9 appears twice`); the two parts are [`MerkleError::location`] and
/// [`MerkleError::reason`], for callers that name the place in their own terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MerkleError {
    NotChunks(usize),
    OverLimit {
        count: u64,
        limit: u64,
    },
    TooDeep(u64),
    LeafOutOfRange {
        position: usize,
        index: u64,
        width: u64,
    },
    NoLeaves,
    DuplicateLeaf {
        position: usize,
        index: u64,
    },
    /// A generalized index of 0 (they start at 1, the root).
    ZeroIndex(usize),
    RepeatedIndex,
    NestedLeaf {
        position: usize,
        index: u64,
        ancestor: u64,
    },
    HelperCount {
        given: usize,
        needed: usize,
    },
}

impl MerkleError {
    /// The input the defect is in (`chunks`, `indices`: the leaves to prove; `leaves`:
    /// the generalized indices of a proof's leaves; `proof`: its helper nodes) and the
    /// element's position, where there is one.
    pub fn location(&self) -> Option<(&'static str, Option<usize>)> {
        match *self {
            MerkleError::NotChunks(_) | MerkleError::OverLimit { .. } => Some(("chunks", None)),
            MerkleError::TooDeep(_) => None,
            MerkleError::LeafOutOfRange { position, .. }
            | MerkleError::DuplicateLeaf { position, .. } => Some(("indices", Some(position))),
            MerkleError::NoLeaves => Some(("indices", None)),
            MerkleError::ZeroIndex(position) | MerkleError::NestedLeaf { position, .. } => {
                Some(("leaves", Some(position)))
            }
            MerkleError::RepeatedIndex => Some(("leaves", None)),
            MerkleError::HelperCount { .. } => Some(("proof", None)),
        }
    }

    /// What is wrong, without the location.
    pub fn reason(&self) -> impl fmt::Display + '_ {
        Reason(self)
    }
}

struct Reason<'a>(&'a MerkleError);

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self.0 {
            MerkleError::NotChunks(bytes) => write!(f, "{bytes} bytes is not a multiple of 32"),
            MerkleError::OverLimit { count, limit } => {
                write!(f, "{count} chunks exceed the limit of {limit}")
            }
            MerkleError::TooDeep(chunks) => {
                write!(
                    f,
                    "{chunks} chunks need a tree deeper than {MAX_DEPTH} levels"
                )
            }
            MerkleError::LeafOutOfRange { index, width, .. } => {
                write!(f, "leaf {index} is outside a tree of {width} leaves")
            }
            MerkleError::NoLeaves => f.write_str("no leaf to prove"),
            MerkleError::DuplicateLeaf { index, .. } => write!(f, "leaf {index} appears twice"),
            MerkleError::ZeroIndex(_) => f.write_str("generalized indices start at 1"),
            MerkleError::RepeatedIndex => f.write_str("a generalized index appears twice"),
            MerkleError::NestedLeaf {
                index, ancestor, ..
            } => write!(
                f,
                "generalized index {index} lies under another leaf, {ancestor}"
            ),
            MerkleError::HelperCount { given, needed } => {
                write!(f, "{given} nodes given, {needed} needed for these leaves")
            }
        }
    }
}

impl fmt::Display for MerkleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location() {
            Some((name, Some(i))) => write!(f, "{name}[{i}]: {}", self.reason()),
            Some((name, None)) => write!(f, "{name}: {}", self.reason()),
            None => write!(f, "{}", self.reason()),
        }
    }
}

impl std::error::Error for MerkleError {}

/// mix_in_length: SHA-256(root ‖ length as a 256-bit little-endian integer).
pub fn mix_in_length(root: &Node, length: u64) -> Node {
    mix_in_length_with(TreeHash::Sha256, root, length)
}

/// [`mix_in_length`] with `hash`.
pub fn mix_in_length_with(hash: TreeHash, root: &Node, length: u64) -> Node {
    hash.pair(root, &length_chunk(length))
}

/// The length mixed into a root (`mix_in_length`), as requests say it: `length` if given
/// (an SSZ list's length in elements, for lists of packed values), else the number of
/// chunks when `mix_in_chunk_count`; `None` for a plain root. The one rule the service,
/// the CLI and the fuzz targets share.
pub fn mixed_length(
    chunk_count: u64,
    mix_in_chunk_count: bool,
    length: Option<u64>,
) -> Option<u64> {
    length.or(mix_in_chunk_count.then_some(chunk_count))
}

/// A length as SSZ serializes it into a chunk: a 256-bit little-endian integer.
pub fn length_chunk(length: u64) -> Node {
    let mut chunk = [0u8; 32];
    chunk[..8].copy_from_slice(&length.to_le_bytes());
    chunk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_length_is_mixed_in_before_the_chunk_count() {
        assert_eq!(mixed_length(3, false, None), None);
        assert_eq!(mixed_length(3, true, None), Some(3));
        assert_eq!(mixed_length(3, true, Some(70)), Some(70));
        assert_eq!(mixed_length(3, false, Some(70)), Some(70));
    }
}
