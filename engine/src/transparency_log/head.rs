//! The Merkle Tree Hash of leaves as they arrive.
//!
//! RFC 9162 splits n leaves at the largest power of two below n, so the tree of n leaves
//! is the perfect subtrees of n's binary digits, largest first, joined from the right.
//! [`TreeHead`] keeps exactly those subtrees' roots: pushing a leaf merges equal heights
//! like a binary counter's carry, and the head is a fold of at most 64 hashes.

use super::{Hash, PackedLeaves};
use crate::backend::Backend;
use crate::merkle::TreeHash;

/// Leaves hashed at a time by [`tree_head_of`]: the leaf hashes held are bounded (2 MiB).
const LEAVES_PER_SLICE: usize = 1 << 16;

/// The tree head of the leaves pushed so far, in O(log n) memory.
#[derive(Clone, Debug, Default)]
pub struct TreeHead {
    hash: TreeHash,
    /// Roots of perfect subtrees, heights strictly decreasing: the binary digits of `size`.
    subtrees: Vec<(u32, Hash)>,
    size: u64,
}

impl TreeHead {
    /// The head of a SHA-256 tree, as RFC 9162 has it.
    pub fn new() -> Self {
        Self::default()
    }

    /// The head of a tree whose leaves and nodes `hash` makes.
    pub fn with_hash(hash: TreeHash) -> Self {
        Self {
            hash,
            ..Self::default()
        }
    }

    /// Leaves pushed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf, by its leaf hash.
    pub fn push(&mut self, leaf_hash: Hash) {
        self.push_subtree(0, leaf_hash);
    }

    /// Appends leaves by their leaf hashes; runs that make whole perfect subtrees are
    /// reduced by `backend`.
    pub fn extend(&mut self, backend: &dyn Backend, leaf_hashes: &[Hash]) {
        let mut rest = leaf_hashes;
        while !rest.is_empty() {
            // The largest subtree that starts here: as high as the size's alignment
            // allows, and no more leaves than are left.
            let aligned = self.size.trailing_zeros();
            let fits = usize::BITS - 1 - rest.len().leading_zeros();
            let height = aligned.min(fits);
            let (block, tail) = rest.split_at(1 << height);
            let root = match block {
                [one] => *one,
                block => self.hash.log_subtree_root(backend, block),
            };
            self.push_subtree(height, root);
            rest = tail;
        }
    }

    /// Appends a perfect subtree of `2^height` leaves; the size must be a multiple of its
    /// width, so the subtree lines up as RFC 9162's split would place it.
    fn push_subtree(&mut self, height: u32, root: Hash) {
        debug_assert!(self.size.trailing_zeros() >= height, "subtree out of line");
        let mut node = (height, root);
        while let Some(&(h, left)) = self.subtrees.last()
            && h == node.0
        {
            self.subtrees.pop();
            node = (h + 1, self.hash.log_node(&left, &node.1));
        }
        self.subtrees.push(node);
        self.size += 1 << height;
    }

    /// The Merkle Tree Hash of the leaves so far (of the empty tree if none).
    pub fn root(&self) -> Hash {
        let mut subtrees = self.subtrees.iter().rev();
        let Some(&(_, last)) = subtrees.next() else {
            return self.hash.log_empty_root();
        };
        subtrees.fold(last, |right, (_, left)| self.hash.log_node(left, &right))
    }
}

/// The tree head of `leaves` (their data) with `hash`, hashed by `backend` a slice at a
/// time, so that the leaf hashes held are bounded whatever the number of leaves.
pub fn tree_head_of<T: AsRef<[u8]>>(backend: &dyn Backend, hash: TreeHash, leaves: &[T]) -> Hash {
    let mut head = TreeHead::with_hash(hash);
    for slice in leaves.chunks(LEAVES_PER_SLICE) {
        let hashes = hash.log_leaf_hashes(backend, &PackedLeaves::of(slice));
        head.extend(backend, &hashes);
    }
    head.root()
}

#[cfg(test)]
mod tests {
    use super::super::{EMPTY_ROOT, leaf_hash, node_hash};
    use super::*;
    use crate::backend::cpu::CpuBackend;

    /// MTH of RFC 9162 §2.1.1, as written there.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => EMPTY_ROOT,
            1 => leaves[0],
            n => {
                let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn pushed_one_by_one_or_in_runs_the_head_is_the_rfc_hash() {
        let leaves: Vec<Hash> = (0u32..300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut one_by_one = TreeHead::new();
        for n in 0..leaves.len() {
            assert_eq!(one_by_one.root(), mth(&leaves[..n]), "{n} leaves");
            one_by_one.push(leaves[n]);
        }
        for cut in [1, 7, 64, 200] {
            let mut runs = TreeHead::new();
            for run in leaves.chunks(cut) {
                runs.extend(&CpuBackend::new(), run);
            }
            assert_eq!(runs.root(), mth(&leaves), "runs of {cut}");
            assert_eq!(runs.size(), 300);
        }
    }

    #[test]
    fn subtrees_reduced_in_parallel_agree() {
        let leaves: Vec<Hash> = (0u32..(3 * 2048 + 5))
            .map(|i| leaf_hash(&i.to_le_bytes()))
            .collect();
        for n in [leaves.len(), 2 * 2048] {
            let mut head = TreeHead::new();
            head.extend(&CpuBackend::new(), &leaves[..n]);
            assert_eq!(head.root(), mth(&leaves[..n]), "{n} leaves");
        }
    }
}
