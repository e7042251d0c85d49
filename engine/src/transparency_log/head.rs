//! The Merkle Tree Hash of leaves as they arrive.
//!
//! RFC 9162 splits n leaves at the largest power of two below n, so the tree of n leaves
//! is the perfect subtrees of n's binary digits, largest first, joined from the right.
//! [`TreeHead`] keeps exactly those subtrees' roots: pushing a leaf merges equal heights
//! like a binary counter's carry, and the head is a fold of at most 64 hashes.

use rayon::prelude::*;

use super::{EMPTY_ROOT, Hash, node_hash};

/// Leaves below which a perfect subtree is reduced on one thread (a split costs more
/// than the hashing it shares).
const SERIAL_LEAVES: usize = 1 << 11;

/// The tree head of the leaves pushed so far, in O(log n) memory.
#[derive(Clone, Debug, Default)]
pub struct TreeHead {
    /// Roots of perfect subtrees, heights strictly decreasing: the binary digits of `size`.
    subtrees: Vec<(u32, Hash)>,
    size: u64,
}

impl TreeHead {
    pub fn new() -> Self {
        Self::default()
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
    /// reduced on all cores.
    pub fn extend(&mut self, leaf_hashes: &[Hash]) {
        let mut rest = leaf_hashes;
        while !rest.is_empty() {
            // The largest subtree that starts here: as high as the size's alignment
            // allows, and no more leaves than are left.
            let aligned = self.size.trailing_zeros();
            let fits = usize::BITS - 1 - rest.len().leading_zeros();
            let height = aligned.min(fits);
            let (block, tail) = rest.split_at(1 << height);
            self.push_subtree(height, perfect_root(block));
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
            node = (h + 1, node_hash(&left, &node.1));
        }
        self.subtrees.push(node);
        self.size += 1 << height;
    }

    /// The Merkle Tree Hash of the leaves so far (of the empty tree if none).
    pub fn root(&self) -> Hash {
        let mut subtrees = self.subtrees.iter().rev();
        let Some(&(_, last)) = subtrees.next() else {
            return EMPTY_ROOT;
        };
        subtrees.fold(last, |right, (_, left)| node_hash(left, &right))
    }
}

/// The root of a perfect subtree: `leaf_hashes.len()` is a power of two.
fn perfect_root(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes.len() {
        1 => leaf_hashes[0],
        n if n <= SERIAL_LEAVES => {
            let mut level: Vec<Hash> = leaf_hashes
                .chunks_exact(2)
                .map(|pair| node_hash(&pair[0], &pair[1]))
                .collect();
            while level.len() > 1 {
                for i in 0..level.len() / 2 {
                    level[i] = node_hash(&level[2 * i], &level[2 * i + 1]);
                }
                level.truncate(level.len() / 2);
            }
            level[0]
        }
        n => {
            let (left, right) = leaf_hashes.split_at(n / 2);
            let (l, r) = rayon::join(|| perfect_root(left), || perfect_root(right));
            node_hash(&l, &r)
        }
    }
}

/// The tree head of `leaves` (their data), hashed on all cores, a slice at a time so that
/// the leaf hashes held are bounded (2 MiB), whatever the number of leaves.
pub fn tree_head_of<T: AsRef<[u8]> + Sync>(leaves: &[T]) -> Hash {
    let mut head = TreeHead::new();
    for slice in leaves.chunks(1 << 16) {
        let hashes: Vec<Hash> = slice
            .par_iter()
            .with_min_len(SERIAL_LEAVES)
            .map(|leaf| super::leaf_hash(leaf.as_ref()))
            .collect();
        head.extend(&hashes);
    }
    head.root()
}

#[cfg(test)]
mod tests {
    use super::super::leaf_hash;
    use super::*;

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
                runs.extend(run);
            }
            assert_eq!(runs.root(), mth(&leaves), "runs of {cut}");
            assert_eq!(runs.size(), 300);
        }
    }

    #[test]
    fn subtrees_reduced_in_parallel_agree() {
        let leaves: Vec<Hash> = (0u32..(3 * SERIAL_LEAVES as u32 + 5))
            .map(|i| leaf_hash(&i.to_le_bytes()))
            .collect();
        for n in [leaves.len(), 2 * SERIAL_LEAVES] {
            let mut head = TreeHead::new();
            head.extend(&leaves[..n]);
            assert_eq!(head.root(), mth(&leaves[..n]), "{n} leaves");
        }
    }
}
