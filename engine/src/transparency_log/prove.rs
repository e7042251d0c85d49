//! Inclusion and consistency proofs, made in one pass over the leaves.
//!
//! RFC 9162's tree of n leaves is the left-balanced binary tree over them: the node at
//! height h and position j covers leaves [j·2^h, (j+1)·2^h) cut at n, and a node whose
//! right half would be empty is its left child. A proof is the hashes of the siblings of
//! one node's ancestors, bottom up, each the tree head of a run of leaves:
//! - the inclusion proof of leaf m (§2.1.3.1) is the siblings of leaf m;
//! - the consistency proof from m to n leaves (§2.1.4.1) is the siblings of the last
//!   perfect subtree of the old tree (height h = trailing zeros of m, ending at leaf m),
//!   preceded by that subtree's own hash unless it is the whole old tree (m a power of
//!   two).
//!
//! So a [`Prover`] knows before reading which runs of leaves it needs (disjoint, at most
//! one per height) and keeps one [`TreeHead`] per run: memory O(log² n) hashes, whatever
//! the number of leaves, and the size need not be known in advance (runs past the end are
//! empty and dropped). tests/transparency_log.rs checks the proofs against §2.1.3.1's
//! and §2.1.4.1's recursive definitions.

use super::{ConsistencyProof, Hash, InclusionProof, LeafBatch, LeafError, TreeHead};
use crate::backend::Backend;
use crate::merkle::TreeHash;

/// Why a proof cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    #[error(transparent)]
    Leaves(#[from] LeafError),
    #[error("the tree has {size} leaves: there is no leaf {index}")]
    NoSuchLeaf { index: u64, size: u64 },
    #[error("the old size {old_size} is larger than the tree's size {size}")]
    OldSizeTooLarge { old_size: u64, size: u64 },
    #[error("the leaves end after {have}, short of the size {size}")]
    TooFewLeaves { have: u64, size: u64 },
}

/// A run of leaves whose tree head is one node of a proof.
#[derive(Debug)]
struct Run {
    start: u64,
    /// One past the last leaf, before the tree's end cuts it.
    end: u64,
    head: TreeHead,
}

/// What a proof is of.
#[derive(Debug)]
enum Claim {
    Inclusion { index: u64, leaf: Option<Vec<u8>> },
    Consistency { old_size: u64, old_head: TreeHead },
}

/// A proof, made as the leaves are read: [`Prover::inclusion`] or
/// [`Prover::consistency`], then [`Prover::add`] every batch, then `finish_*`.
#[derive(Debug)]
pub struct Prover {
    hash: TreeHash,
    claim: Claim,
    /// The tree's size, if known before reading.
    size: Option<u64>,
    /// The proof's runs, bottom up (the subtree of a consistency proof first).
    runs: Vec<Run>,
    head: TreeHead,
}

/// The runs of the siblings of node (`height`, `position`)'s ancestors, bottom up, in a
/// tree made by `hash`.
fn sibling_runs(hash: TreeHash, height: u32, position: u64) -> Vec<Run> {
    (height..64)
        .filter_map(|h| {
            let sibling = (position >> (h - height)) ^ 1;
            let start = sibling.checked_shl(h).filter(|s| s >> h == sibling)?;
            Some(Run {
                start,
                end: start.saturating_add(1 << h),
                head: TreeHead::with_hash(hash),
            })
        })
        .collect()
}

impl Prover {
    /// The inclusion proof of leaf `index`, in the tree of `size` leaves (all of them if
    /// `None`) made by `hash`.
    pub fn inclusion(hash: TreeHash, index: u64, size: Option<u64>) -> Result<Self, ProveError> {
        if let Some(size) = size
            && index >= size
        {
            return Err(ProveError::NoSuchLeaf { index, size });
        }
        Ok(Self {
            hash,
            claim: Claim::Inclusion { index, leaf: None },
            size,
            runs: sibling_runs(hash, 0, index),
            head: TreeHead::with_hash(hash),
        })
    }

    /// The consistency proof from the first `old_size` leaves to the tree of `size`
    /// leaves (all of them if `None`), made by `hash`.
    pub fn consistency(
        hash: TreeHash,
        old_size: u64,
        size: Option<u64>,
    ) -> Result<Self, ProveError> {
        if let Some(size) = size
            && old_size > size
        {
            return Err(ProveError::OldSizeTooLarge { old_size, size });
        }
        let runs = if old_size == 0 {
            Vec::new()
        } else {
            let height = old_size.trailing_zeros();
            let position = (old_size >> height) - 1;
            let subtree = Run {
                start: position << height,
                end: old_size,
                head: TreeHead::with_hash(hash),
            };
            let own = (!old_size.is_power_of_two()).then_some(subtree);
            own.into_iter()
                .chain(sibling_runs(hash, height, position))
                .collect()
        };
        Ok(Self {
            hash,
            claim: Claim::Consistency {
                old_size,
                old_head: TreeHead::with_hash(hash),
            },
            size,
            runs,
            head: TreeHead::with_hash(hash),
        })
    }

    /// Leaves read so far.
    pub fn leaves(&self) -> u64 {
        self.head.size()
    }

    /// Takes the next batch of leaves (which must follow the last: `batch.first` is
    /// [`Prover::leaves`]), its subtrees reduced by `backend`; leaves past the size are
    /// ignored.
    pub fn add(&mut self, backend: &dyn Backend, batch: &LeafBatch) {
        assert_eq!(batch.first, self.head.size(), "batches out of order");
        assert_eq!(batch.hash, self.hash, "a batch hashed for another tree");
        let first = batch.first;
        let end = self.size.map_or(u64::MAX, |size| size.max(first));
        let take = (batch.len() as u64).min(end - first) as usize;
        let hashes = &batch.hashes[..take];
        let last = first + take as u64;
        let range = |start: u64, end: u64| {
            let (a, b) = (start.clamp(first, last), end.clamp(first, last));
            ((a - first) as usize, (b - first) as usize)
        };
        for run in &mut self.runs {
            let (a, b) = range(run.start, run.end);
            run.head.extend(backend, &hashes[a..b]);
        }
        match &mut self.claim {
            Claim::Inclusion { index, leaf } => {
                if (first..last).contains(index) {
                    *leaf = Some(batch.leaf((*index - first) as usize).to_vec());
                }
            }
            Claim::Consistency { old_size, old_head } => {
                let (a, b) = range(0, *old_size);
                old_head.extend(backend, &hashes[a..b]);
            }
        }
        self.head.extend(backend, hashes);
    }

    /// The tree's size: as given, or every leaf read; checked against what was read.
    fn final_size(&self) -> Result<u64, ProveError> {
        let have = self.head.size();
        match self.size {
            Some(size) if have < size => Err(ProveError::TooFewLeaves { have, size }),
            Some(size) => Ok(size),
            None => Ok(have),
        }
    }

    /// The proof's path: the runs that hold leaves, bottom up.
    fn path(&self, size: u64) -> Vec<Hash> {
        self.runs
            .iter()
            .filter(|run| run.start < size)
            .map(|run| run.head.root())
            .collect()
    }

    /// The inclusion proof, and the leaf's data.
    ///
    /// # Panics
    /// If the prover was made for a consistency proof.
    pub fn finish_inclusion(self) -> Result<(InclusionProof, Vec<u8>), ProveError> {
        let size = self.final_size()?;
        let Claim::Inclusion { index, ref leaf } = self.claim else {
            panic!("a consistency prover finished as an inclusion proof");
        };
        let Some(leaf) = leaf.clone() else {
            return Err(ProveError::NoSuchLeaf { index, size });
        };
        let proof = InclusionProof {
            hash: self.hash,
            size,
            index,
            leaf_hash: self.hash.log_leaf(&leaf),
            path: self.path(size),
            root: self.head.root(),
        };
        debug_assert!(super::verify_inclusion(&proof), "{proof:?}");
        Ok((proof, leaf))
    }

    /// The consistency proof.
    ///
    /// # Panics
    /// If the prover was made for an inclusion proof.
    pub fn finish_consistency(self) -> Result<ConsistencyProof, ProveError> {
        let size = self.final_size()?;
        let Claim::Consistency {
            old_size,
            ref old_head,
        } = self.claim
        else {
            panic!("an inclusion prover finished as a consistency proof");
        };
        if old_size > size {
            return Err(ProveError::OldSizeTooLarge { old_size, size });
        }
        let path = if old_size == size {
            Vec::new()
        } else {
            self.path(size)
        };
        let proof = ConsistencyProof {
            hash: self.hash,
            old_size,
            old_root: old_head.root(),
            size,
            root: self.head.root(),
            path,
        };
        debug_assert!(super::verify_consistency(&proof), "{proof:?}");
        Ok(proof)
    }
}
