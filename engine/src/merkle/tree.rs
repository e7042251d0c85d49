//! Merkle roots and whole trees, built level by level with the backend's block hashing.

use super::{MAX_DEPTH, MerkleError, MultiProof, Node, helper_indices, length_chunk};
use crate::backend::Backend;
use crate::backend::binary_tree::TreeHash;

/// Depth of the tree over `count` chunks: the next power of two of the limit if there is
/// one, else of the count (an empty list still has one, zero, leaf).
pub fn depth_for(count: u64, limit: Option<u64>) -> Result<u32, MerkleError> {
    if let Some(limit) = limit
        && count > limit
    {
        return Err(MerkleError::OverLimit { count, limit });
    }
    let width = limit.unwrap_or(count).max(1);
    match width.checked_next_power_of_two() {
        Some(w) if w.trailing_zeros() <= MAX_DEPTH => Ok(w.trailing_zeros()),
        _ => Err(MerkleError::TooDeep(width)),
    }
}

fn chunk_count(chunks: &[u8]) -> Result<u64, MerkleError> {
    if !chunks.len().is_multiple_of(32) {
        return Err(MerkleError::NotChunks(chunks.len()));
    }
    Ok((chunks.len() / 32) as u64)
}

/// The root of `chunks` (concatenated 32-byte chunks) padded with zero chunks to the next
/// power of two of `limit`, or of the chunk count when there is no limit.
pub fn root(backend: &dyn Backend, chunks: &[u8], limit: Option<u64>) -> Result<Node, MerkleError> {
    root_with(backend, TreeHash::Sha256, chunks, limit)
}

/// [`root`] with nodes made by `hash`.
pub fn root_with(
    backend: &dyn Backend,
    hash: TreeHash,
    chunks: &[u8],
    limit: Option<u64>,
) -> Result<Node, MerkleError> {
    let depth = depth_for(chunk_count(chunks)?, limit)?;
    if chunks.is_empty() {
        return Ok(hash.zero(depth));
    }
    Ok(backend.tree_root(hash, chunks, depth))
}

/// A tree's shape: its depth and the length mixed into its root, if any. It maps
/// generalized indices to the nodes of the data tree and makes multi-proofs from any
/// source of those nodes: all levels in memory ([`Tree`]), or the levels above the
/// blocks with the blocks read again from a file ([`super::file_tree::FileTree`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    pub hash: TreeHash,
    pub depth: u32,
    pub length: Option<u64>,
}

impl Shape {
    /// The generalized index of leaf `index`, if the tree has such a leaf.
    pub fn leaf_gindex(&self, index: u64) -> Option<u64> {
        let data_root: u64 = if self.length.is_some() { 2 } else { 1 };
        (index < 1 << self.depth).then(|| (data_root << self.depth) + index)
    }

    /// The node at generalized index `gindex` (1 is the root), with `data_node` giving the
    /// data tree's node at (height, position).
    ///
    /// # Panics
    /// If `gindex` is 0, below the leaves, or under the length chunk of a mixed-in tree:
    /// callers pass leaf indices from [`Shape::leaf_gindex`] and their helpers only.
    pub fn node<E>(
        &self,
        gindex: u64,
        data_node: &mut impl FnMut(u32, u64) -> Result<Node, E>,
    ) -> Result<Node, E> {
        assert!(gindex >= 1, "generalized indices start at 1");
        let gindex = match self.length {
            None => gindex,
            Some(length) => match gindex {
                1 => {
                    let data_root = self.data_node(1, data_node)?;
                    return Ok(super::mix_in_length_with(self.hash, &data_root, length));
                }
                3 => return Ok(length_chunk(length)),
                _ => {
                    let level = 63 - gindex.leading_zeros();
                    assert!(gindex >> (level - 1) == 2, "no node under the length chunk");
                    gindex - (1 << (level - 1))
                }
            },
        };
        self.data_node(gindex, data_node)
    }

    /// A node of the data tree, by its generalized index within the data tree.
    fn data_node<E>(
        &self,
        gindex: u64,
        data_node: &mut impl FnMut(u32, u64) -> Result<Node, E>,
    ) -> Result<Node, E> {
        let level = 63 - gindex.leading_zeros();
        assert!(level <= self.depth, "no node below the leaves");
        data_node(self.depth - level, gindex - (1 << level))
    }

    /// A multi-proof of the leaves at `indices` (leaf positions, counted from 0).
    pub fn prove<E: From<MerkleError>>(
        &self,
        indices: &[u64],
        mut data_node: impl FnMut(u32, u64) -> Result<Node, E>,
    ) -> Result<MultiProof, E> {
        if indices.is_empty() {
            return Err(MerkleError::NoLeaves.into());
        }
        let mut gindices = Vec::with_capacity(indices.len());
        let mut seen = std::collections::HashSet::with_capacity(indices.len());
        for (position, &index) in indices.iter().enumerate() {
            let gindex = self.leaf_gindex(index).ok_or(MerkleError::LeafOutOfRange {
                position,
                index,
                width: 1 << self.depth,
            })?;
            if !seen.insert(gindex) {
                return Err(MerkleError::DuplicateLeaf { position, index }.into());
            }
            gindices.push(gindex);
        }
        let mut node = |g| self.node(g, &mut data_node).map(|n| (g, n));
        let leaves = gindices
            .iter()
            .map(|&g| node(g))
            .collect::<Result<_, _>>()?;
        let helpers = helper_indices(&gindices)
            .into_iter()
            .map(&mut node)
            .collect::<Result<_, _>>()?;
        Ok(MultiProof {
            leaves,
            helpers,
            root: node(1)?.1,
        })
    }
}

/// The node at `position` of `nodes` (concatenated 32-byte nodes at `height`), or the
/// zero subtree of that height (made by `hash`) past their end.
pub(crate) fn node_or_zero(hash: TreeHash, nodes: &[u8], height: u32, position: u64) -> Node {
    match usize::try_from(position) {
        Ok(p) if p < nodes.len() / 32 => nodes[p * 32..p * 32 + 32].try_into().expect("32 bytes"),
        _ => hash.zero(height),
    }
}

/// A whole tree kept in memory, to answer proofs.
pub struct Tree {
    /// `levels[h]`: the nodes at height h that cover at least one chunk.
    levels: Vec<Vec<u8>>,
    shape: Shape,
}

impl Tree {
    /// Builds the tree of `chunks` padded to `limit` (see [`root`]), its nodes made by
    /// `hash`, with `mix_in_length` the length mixed into the root, if any.
    pub fn new(
        backend: &dyn Backend,
        hash: TreeHash,
        chunks: &[u8],
        limit: Option<u64>,
        mix_in_length: Option<u64>,
    ) -> Result<Self, MerkleError> {
        let depth = depth_for(chunk_count(chunks)?, limit)?;
        let mut levels = vec![chunks.to_vec()];
        for height in 0..depth {
            let next = hash.parent_level(backend, &levels[height as usize], height);
            levels.push(next);
        }
        Ok(Self {
            levels,
            shape: Shape {
                hash,
                depth,
                length: mix_in_length,
            },
        })
    }

    /// The nodes at `height` that cover at least one chunk.
    pub(crate) fn level(&self, height: u32) -> &[u8] {
        &self.levels[height as usize]
    }

    fn data_node(&self, height: u32, position: u64) -> Result<Node, std::convert::Infallible> {
        Ok(node_or_zero(
            self.shape.hash,
            self.level(height),
            height,
            position,
        ))
    }

    /// The root, with the length mixed in if the tree has one.
    pub fn root(&self) -> Node {
        let Ok(root) = self.shape.node(1, &mut |h, p| self.data_node(h, p));
        root
    }

    /// The generalized index of leaf `index`, if the tree has such a leaf.
    pub fn leaf_gindex(&self, index: u64) -> Option<u64> {
        self.shape.leaf_gindex(index)
    }

    /// A multi-proof of the leaves at `indices` (leaf positions, counted from 0).
    pub fn prove(&self, indices: &[u64]) -> Result<MultiProof, MerkleError> {
        self.shape.prove(indices, |h, p| {
            self.data_node(h, p).map_err(|never| match never {})
        })
    }
}
