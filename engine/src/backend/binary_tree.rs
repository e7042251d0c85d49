//! The binary tree that Merkle roots are made of, as every backend needs it: a node is
//! the hash (SHA-256, or SM3 for [`TreeHash::Sm3`]) of its two children, and padding is
//! never materialised (a missing right child at height h is the root of an all-zero
//! subtree of height h, from the zero-hash ladder). `merkle/` builds trees, proofs and
//! streams on top of these.

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
    TreeHash::Sha256.zero(height)
}

/// The hash a binary tree's nodes are made with: SHA-256 (SSZ, Ethereum) or SM3
/// (GM/T 0004, for China's consortium chains). Padding is the zero-hash ladder of the
/// same hash.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TreeHash {
    #[default]
    Sha256,
    Sm3,
}

impl TreeHash {
    pub const ALL: [TreeHash; 2] = [TreeHash::Sha256, TreeHash::Sm3];

    pub fn name(self) -> &'static str {
        match self {
            TreeHash::Sha256 => "sha256",
            TreeHash::Sm3 => "sm3",
        }
    }

    /// hash(left ‖ right).
    pub fn pair(self, left: &Node, right: &Node) -> Node {
        match self {
            TreeHash::Sha256 => hash_pair(left, right),
            TreeHash::Sm3 => {
                let mut block = [0u8; 64];
                block[..32].copy_from_slice(left);
                block[32..].copy_from_slice(right);
                crate::sm3::hash_64(&block)
            }
        }
    }

    /// The root of an all-zero subtree of height `height`, for this hash: its
    /// zero-hash ladder, built on first use.
    pub fn zero(self, height: u32) -> Node {
        static LADDERS: [OnceLock<Vec<Node>>; 2] = [OnceLock::new(), OnceLock::new()];
        LADDERS[self as usize].get_or_init(|| {
            let mut ladder = vec![[0u8; 32]];
            for h in 0..=MAX_DEPTH as usize + 1 {
                ladder.push(self.pair(&ladder[h], &ladder[h]));
            }
            ladder
        })[height as usize]
    }

    /// The root of `chunks` padded to 2^depth leaves, level by level with the
    /// backend's block hashing: the default of [`Backend::merkle_root`] and
    /// [`Backend::tree_root`].
    pub fn root_by_levels<B: Backend + ?Sized>(
        self,
        backend: &B,
        chunks: &[u8],
        depth: u32,
    ) -> Node {
        let mut level = std::borrow::Cow::Borrowed(chunks);
        for height in 0..depth {
            level = std::borrow::Cow::Owned(self.parent_level(backend, &level, height));
        }
        match level.get(..32) {
            Some(root) => root.try_into().expect("32 bytes"),
            None => self.zero(depth),
        }
    }

    /// Each 64-byte block of `blocks` hashed into `digests`, by `backend`.
    pub fn hash_blocks<B: Backend + ?Sized>(self, backend: &B, blocks: &[u8], digests: &mut [u8]) {
        match self {
            TreeHash::Sha256 => backend.hash_blocks(blocks, digests),
            TreeHash::Sm3 => backend.sm3_blocks(blocks, digests),
        }
    }

    /// The level above `level` (concatenated nodes at `height`): pairs hashed by the
    /// backend, a last odd node paired with the zero subtree of its height. An empty
    /// level stays empty.
    pub fn parent_level<B: Backend + ?Sized>(
        self,
        backend: &B,
        level: &[u8],
        height: u32,
    ) -> Vec<u8> {
        let width = level.len() / 32;
        let pairs = width / 2;
        let mut next = vec![0u8; width.div_ceil(2) * 32];
        self.hash_blocks(backend, &level[..pairs * 64], &mut next[..pairs * 32]);
        if width % 2 == 1 {
            let last: Node = level[pairs * 64..].try_into().expect("one node");
            next[pairs * 32..].copy_from_slice(&self.pair(&last, &self.zero(height)));
        }
        next
    }
}

impl std::fmt::Display for TreeHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for TreeHash {
    type Err = crate::UnknownName;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        TreeHash::ALL
            .into_iter()
            .find(|h| h.name() == name)
            .ok_or_else(|| crate::UnknownName {
                what: "hash",
                name: name.to_string(),
                expected: "sha256 or sm3",
            })
    }
}
