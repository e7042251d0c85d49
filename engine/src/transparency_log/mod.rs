//! Transparency-log trees as RFC 9162 defines them (Certificate Transparency 2.0, and the
//! trees of Sigstore's Rekor, Trillian and Go's checksum database): any number of leaves,
//! no padding, leaf hash SHA-256(0x00 ‖ data), node hash SHA-256(0x01 ‖ left ‖ right).
//!
//! The hashes, and the leaf hashing and perfect subtrees every tree is made of, are the
//! backend's ([`crate::backend::log_tree`]), so a GPU backend computes them where the
//! tree is large.
//!
//! - [`TreeHead`]: the Merkle Tree Hash (§2.1.1) of leaves as they arrive, in O(log n)
//!   memory (the roots of the perfect subtrees seen so far); large runs of leaves are
//!   reduced by the backend.
//! - [`LeafLines`]: leaves read from text, one hex leaf per line, in batches decoded on
//!   all cores and hashed by the backend, so a file of any size is read in bounded memory.
//! - [`Prover`]: inclusion (§2.1.3.1) and consistency (§2.1.4.1) proofs made in one pass
//!   over the leaves, keeping only the O(log n) subtree hashes a proof needs.
//! - [`verify_inclusion`] and [`verify_consistency`]: the verification algorithms of
//!   §2.1.3.2 and §2.1.4.2, step by step; [`verify_all`] checks many proofs on all cores.
//! - [`record`]: the JSON records `veribatch log prove` writes and `log verify` reads.

mod head;
mod leaves;
mod prove;
pub mod record;
mod verify;

pub use crate::backend::log_tree::{EMPTY_ROOT, Hash, PackedLeaves, leaf_hash, node_hash};
pub use head::{TreeHead, tree_head_of};
pub use leaves::{LeafBatch, LeafError, LeafLines, MAX_LEAF_BYTES};
pub use prove::{ProveError, Prover};
pub use verify::{
    ConsistencyProof, InclusionProof, LogProof, verdicts, verify_all, verify_consistency,
    verify_inclusion,
};
