//! The SHA-256 tree of transparency logs (RFC 9162 §2.1.1), as every backend needs it:
//! a leaf hash is SHA-256(0x00 ‖ data), a node hash SHA-256(0x01 ‖ left ‖ right). The
//! one-byte prefixes keep a leaf from passing for an inner node (a second-preimage
//! defence the SSZ trees of [`super::binary_tree`] do not need). `transparency_log/`
//! builds tree heads and proofs on top of these, and the CPU's versions here are the
//! reference for every device.
//!
//! The same tree with SM3 in place of SHA-256 ([`TreeHash::Sm3`]), for logs on China's
//! consortium chains, runs on all CPU cores whatever the backend: the backends' log
//! primitives are SHA-256's.

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::Backend;
use super::binary_tree::TreeHash;
use crate::sm3::Sm3;

/// A 32-byte leaf hash, node hash or tree head.
pub type Hash = [u8; 32];

/// The Merkle Tree Hash of the empty tree: SHA-256 of no bytes.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Leaves below which a perfect subtree is reduced on one thread (a split costs more
/// than the hashing it shares), and leaf hashes are computed per thread.
const SERIAL_LEAVES: usize = 1 << 11;

/// SHA-256(0x00 ‖ data): the hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    TreeHash::Sha256.log_leaf(data)
}

/// SHA-256(0x01 ‖ left ‖ right): the hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    TreeHash::Sha256.log_node(left, right)
}

/// The hash of the concatenation of `parts`.
fn digest(hash: TreeHash, parts: &[&[u8]]) -> Hash {
    match hash {
        TreeHash::Sha256 => {
            let mut h = Sha256::new();
            for part in parts {
                h.update(part);
            }
            h.finalize().into()
        }
        TreeHash::Sm3 => {
            let mut h = Sm3::new();
            for part in parts {
                h.update(part);
            }
            h.finalize()
        }
    }
}

/// RFC 9162's tree with this hash in place of SHA-256.
impl TreeHash {
    /// hash(0x00 ‖ data): the hash of one leaf.
    pub fn log_leaf(self, data: &[u8]) -> Hash {
        digest(self, &[&[0], data])
    }

    /// hash(0x01 ‖ left ‖ right): the hash of an inner node.
    pub fn log_node(self, left: &Hash, right: &Hash) -> Hash {
        digest(self, &[&[1], left, right])
    }

    /// The Merkle Tree Hash of the empty tree: the hash of no bytes.
    pub fn log_empty_root(self) -> Hash {
        match self {
            TreeHash::Sha256 => EMPTY_ROOT,
            TreeHash::Sm3 => digest(self, &[]),
        }
    }

    /// The leaf hash of every leaf: SHA-256's by `backend`, SM3's on all CPU cores.
    pub fn log_leaf_hashes(self, backend: &dyn Backend, leaves: &PackedLeaves) -> Vec<Hash> {
        match self {
            TreeHash::Sha256 => backend.log_leaf_hashes(leaves),
            TreeHash::Sm3 => leaf_hashes(self, leaves),
        }
    }

    /// The root of the perfect subtree over `leaf_hashes`: SHA-256's by `backend`, SM3's
    /// on all CPU cores.
    pub fn log_subtree_root(self, backend: &dyn Backend, leaf_hashes: &[Hash]) -> Hash {
        match self {
            TreeHash::Sha256 => backend.log_subtree_root(leaf_hashes),
            TreeHash::Sm3 => perfect_root(self, leaf_hashes),
        }
    }
}

/// Leaves' data one after another, with where each ends: the form a device takes them in
/// (one upload, no pointer per leaf).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackedLeaves {
    data: Vec<u8>,
    /// `ends[i]`: the end of leaf i in `data` (its start is the end of the one before).
    ends: Vec<usize>,
}

impl PackedLeaves {
    pub fn new() -> Self {
        Self::default()
    }

    /// The leaves of `leaves`, in order.
    pub fn of<T: AsRef<[u8]>>(leaves: &[T]) -> Self {
        let mut packed = Self {
            data: Vec::with_capacity(leaves.iter().map(|l| l.as_ref().len()).sum()),
            ends: Vec::with_capacity(leaves.len()),
        };
        for leaf in leaves {
            packed.push(leaf.as_ref());
        }
        packed
    }

    pub fn push(&mut self, leaf: &[u8]) {
        self.data.extend_from_slice(leaf);
        self.ends.push(self.data.len());
    }

    /// Appends every leaf of `other`.
    pub fn append(&mut self, other: &PackedLeaves) {
        let offset = self.data.len();
        self.data.extend_from_slice(&other.data);
        self.ends.extend(other.ends.iter().map(|end| end + offset));
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The data of leaf `i`.
    pub fn leaf(&self, i: usize) -> &[u8] {
        &self.data[self.start(i)..self.ends[i]]
    }

    fn start(&self, i: usize) -> usize {
        if i == 0 { 0 } else { self.ends[i - 1] }
    }

    /// The length of the longest leaf (0 if there are none).
    pub fn longest(&self) -> usize {
        (0..self.len())
            .map(|i| self.ends[i] - self.start(i))
            .max()
            .unwrap_or(0)
    }

    /// The leaves cut into runs of at most `max_leaves` leaves and `max_bytes` of data
    /// (no more than `u32::MAX`), each with the ends of its leaves as 32-bit offsets into
    /// its own data: how a device takes them, a run per launch. `Err` with the size of
    /// the first leaf larger than `max_bytes`.
    pub fn device_runs(
        &self,
        max_bytes: usize,
        max_leaves: usize,
    ) -> Result<Vec<LeafRun<'_>>, usize> {
        let max_bytes = max_bytes.min(u32::MAX as usize);
        let mut runs = Vec::new();
        let mut first = 0;
        while first < self.ends.len() {
            let base = self.start(first);
            let fit = self.ends[first..]
                .partition_point(|&end| end - base <= max_bytes)
                .min(max_leaves.max(1));
            if fit == 0 {
                return Err(self.ends[first] - base);
            }
            let ends = &self.ends[first..first + fit];
            runs.push(LeafRun {
                data: &self.data[base..ends[fit - 1]],
                ends: ends.iter().map(|&end| (end - base) as u32).collect(),
            });
            first += fit;
        }
        Ok(runs)
    }
}

/// Leaves for one device launch ([`PackedLeaves::device_runs`]).
#[derive(Debug)]
pub struct LeafRun<'a> {
    pub data: &'a [u8],
    /// Where each leaf ends in `data`.
    pub ends: Vec<u32>,
}

/// The leaf hash of every leaf, on all cores: with SHA-256, the CPU's
/// [`super::Backend::log_leaf_hashes`].
pub fn leaf_hashes(hash: TreeHash, leaves: &PackedLeaves) -> Vec<Hash> {
    (0..leaves.len())
        .into_par_iter()
        .with_min_len(SERIAL_LEAVES)
        .map(|i| hash.log_leaf(leaves.leaf(i)))
        .collect()
}

/// The root of the perfect subtree over `leaf_hashes` (a power of two of them), halves
/// on all cores: with SHA-256, the CPU's [`super::Backend::log_subtree_root`].
pub fn perfect_root(hash: TreeHash, leaf_hashes: &[Hash]) -> Hash {
    debug_assert!(leaf_hashes.len().is_power_of_two(), "not a perfect subtree");
    match leaf_hashes.len() {
        1 => leaf_hashes[0],
        n if n <= SERIAL_LEAVES => {
            let mut level: Vec<Hash> = leaf_hashes
                .chunks_exact(2)
                .map(|pair| hash.log_node(&pair[0], &pair[1]))
                .collect();
            while level.len() > 1 {
                for i in 0..level.len() / 2 {
                    level[i] = hash.log_node(&level[2 * i], &level[2 * i + 1]);
                }
                level.truncate(level.len() / 2);
            }
            level[0]
        }
        n => {
            let (left, right) = leaf_hashes.split_at(n / 2);
            let (l, r) = rayon::join(|| perfect_root(hash, left), || perfect_root(hash, right));
            hash.log_node(&l, &r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_tree_hash_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest([])));
    }

    #[test]
    fn leaves_and_nodes_hash_apart() {
        let (l, r) = ([1u8; 32], [2u8; 32]);
        let data = [&[1u8][..], &l, &r].concat();
        assert_ne!(leaf_hash(&data[1..]), node_hash(&l, &r));
        assert_eq!(<[u8; 32]>::from(Sha256::digest(&data)), node_hash(&l, &r));
    }

    #[test]
    fn packed_leaves_keep_each_leaf() {
        let leaves: Vec<Vec<u8>> = vec![vec![], vec![1, 2], vec![], vec![3; 70]];
        let packed = PackedLeaves::of(&leaves);
        assert_eq!(packed.len(), 4);
        assert_eq!(packed.longest(), 70);
        for (i, leaf) in leaves.iter().enumerate() {
            assert_eq!(packed.leaf(i), &leaf[..]);
        }
        let mut joined = PackedLeaves::of(&leaves[..1]);
        joined.append(&PackedLeaves::of(&leaves[1..]));
        assert_eq!(joined, packed);
        assert_eq!(
            leaf_hashes(TreeHash::Sha256, &packed)[3],
            leaf_hash(&[3; 70])
        );
        let runs = packed.device_runs(70, 2).unwrap();
        let shapes: Vec<(usize, Vec<u32>)> = runs
            .iter()
            .map(|r| (r.data.len(), r.ends.clone()))
            .collect();
        assert_eq!(shapes, [(2, vec![0, 2]), (70, vec![0, 70])]);
        assert_eq!(packed.device_runs(69, 8).unwrap_err(), 70);
    }

    #[test]
    fn a_perfect_root_is_the_pairs_hashed_level_by_level() {
        for hash in TreeHash::ALL {
            for n in [1usize, 2, 4, 8, 2 * SERIAL_LEAVES] {
                let leaves: Vec<Hash> = (0..n as u32)
                    .map(|i| hash.log_leaf(&i.to_le_bytes()))
                    .collect();
                let mut level = leaves.clone();
                while level.len() > 1 {
                    level = level
                        .chunks(2)
                        .map(|p| hash.log_node(&p[0], &p[1]))
                        .collect();
                }
                assert_eq!(perfect_root(hash, &leaves), level[0], "{hash}: {n} leaves");
            }
        }
    }

    /// SM3's leaf and node hashes are SM3 of the prefixed bytes (GB/T 32905's example
    /// "abc" checks the hash itself in `sm3.rs`), and differ from SHA-256's.
    #[test]
    fn sm3_logs_prefix_as_rfc_9162_does() {
        let (l, r) = ([1u8; 32], [2u8; 32]);
        let sm3 = TreeHash::Sm3;
        assert_eq!(sm3.log_leaf(b"abc"), crate::sm3::sm3(b"\x00abc"));
        assert_eq!(
            sm3.log_node(&l, &r),
            crate::sm3::sm3(&[&[1u8][..], &l, &r].concat())
        );
        assert_eq!(sm3.log_empty_root(), crate::sm3::sm3(b""));
        assert_ne!(sm3.log_leaf(b"abc"), leaf_hash(b"abc"));
    }
}
