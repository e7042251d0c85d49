//! Multi-proofs of trees larger than memory, from a file.
//!
//! The first pass reads the file block by block ([`super::stream::BLOCK_CHUNKS`] chunks), as
//! [`super::stream`] does, and keeps only the levels from the blocks' roots up: 32 bytes
//! per block (4 KiB for a 1 GiB file). A proof then needs nodes below the blocks only in
//! the blocks its leaves and helpers fall in: the proof is first made with those nodes
//! unknown, to learn which they are, then each such block is read again from the file,
//! one at a time, and the proof made with them. Memory: the upper levels, one block's
//! subtree (about 16 MiB), and the proof.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom};

use super::stream::{BLOCK_BYTES, BLOCK_HEIGHT, StreamError, read_full};
use super::tree::{Shape, node_or_zero};
use super::{MerkleError, MultiProof, Node, Tree, TreeHash, depth_for};
use crate::backend::Backend;

/// A tree over a file's chunks, held from its blocks' roots up.
pub struct FileTree {
    shape: Shape,
    chunks: u64,
    /// `upper[k]`: the nodes at height `BLOCK_HEIGHT + k` that cover at least one chunk
    /// (`upper[0]`, the blocks' roots); empty for a tree no deeper than a block.
    upper: Vec<Vec<u8>>,
}

impl FileTree {
    /// The tree of the chunks `file` holds, its nodes made by `hash`, padded to `limit`
    /// as [`super::root`] pads, with the length `mix_in_length` finds from the chunk
    /// count mixed into its root.
    pub fn build(
        backend: &dyn Backend,
        hash: TreeHash,
        mut file: impl Read,
        limit: Option<u64>,
        mix_in_length: impl FnOnce(u64) -> Option<u64>,
    ) -> Result<Self, StreamError> {
        let mut roots = Vec::new();
        let mut chunks = 0u64;
        let mut block = vec![0u8; BLOCK_BYTES];
        loop {
            let n = read_full(&mut file, &mut block)?;
            if !n.is_multiple_of(32) {
                let bytes = chunks * 32 + n as u64;
                return Err(
                    MerkleError::NotChunks(usize::try_from(bytes).unwrap_or(usize::MAX)).into(),
                );
            }
            if n > 0 {
                chunks += (n / 32) as u64;
                if let Some(limit) = limit
                    && chunks > limit
                {
                    return Err(MerkleError::OverLimit {
                        count: chunks,
                        limit,
                    }
                    .into());
                }
                roots.extend_from_slice(&backend.tree_root(hash, &block[..n], BLOCK_HEIGHT));
            }
            if n < block.len() {
                break;
            }
        }
        let depth = depth_for(chunks, limit)?;
        let mut upper = Vec::new();
        if depth > BLOCK_HEIGHT {
            upper.push(roots);
            for height in BLOCK_HEIGHT..depth {
                let next = hash.parent_level(backend, upper.last().expect("a level"), height);
                upper.push(next);
            }
        }
        Ok(Self {
            shape: Shape {
                hash,
                depth,
                length: mix_in_length(chunks),
            },
            chunks,
            upper,
        })
    }

    /// A multi-proof of the leaves at `indices`, reading from `file` (the file the tree
    /// was built from) the blocks the proof needs.
    pub fn prove(
        &self,
        backend: &dyn Backend,
        file: &mut (impl Read + Seek),
        indices: &[u64],
    ) -> Result<MultiProof, StreamError> {
        // The nodes below the blocks that the proof needs, by block.
        let mut wanted: BTreeMap<u64, BTreeSet<(u32, u64)>> = BTreeMap::new();
        self.shape.prove(indices, |height, position| {
            if let Some(node) = self.known(height, position) {
                return Ok::<_, MerkleError>(node);
            }
            let block = position >> (self.cut() - height);
            wanted.entry(block).or_default().insert((height, position));
            Ok([0; 32])
        })?;
        let mut found = BTreeMap::new();
        for (block, nodes) in wanted {
            let tree = self.read_block(backend, file, block)?;
            for (height, position) in nodes {
                let within = position - (block << (self.cut() - height));
                found.insert(
                    (height, position),
                    node_or_zero(self.shape.hash, tree.level(height), height, within),
                );
            }
        }
        self.shape.prove(indices, |height, position| {
            Ok(self
                .known(height, position)
                .unwrap_or_else(|| found[&(height, position)]))
        })
    }

    /// The height of the blocks' roots, or of the root if the tree is no deeper.
    fn cut(&self) -> u32 {
        BLOCK_HEIGHT.min(self.shape.depth)
    }

    /// A node known without reading the file: at or above the blocks' roots, or padding.
    fn known(&self, height: u32, position: u64) -> Option<Node> {
        if let Some(level) = height
            .checked_sub(BLOCK_HEIGHT)
            .and_then(|k| self.upper.get(k as usize))
        {
            return Some(node_or_zero(self.shape.hash, level, height, position));
        }
        let first_chunk = position
            .checked_shl(height)
            .filter(|c| c >> height == position);
        match first_chunk {
            Some(chunk) if chunk < self.chunks => None,
            _ => Some(self.shape.hash.zero(height)),
        }
    }

    /// The subtree of block `block`, read from `file`.
    fn read_block(
        &self,
        backend: &dyn Backend,
        file: &mut (impl Read + Seek),
        block: u64,
    ) -> Result<Tree, StreamError> {
        let start = block * BLOCK_BYTES as u64;
        let len = (self.chunks * 32 - start).min(BLOCK_BYTES as u64);
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = vec![0u8; len as usize];
        file.read_exact(&mut bytes)?;
        let width = 1u64 << self.cut();
        Ok(Tree::new(
            backend,
            self.shape.hash,
            &bytes,
            Some(width),
            None,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::stream::BLOCK_CHUNKS;
    use super::*;
    use crate::backend::cpu::CpuBackend;

    #[test]
    fn proofs_from_the_file_are_the_whole_trees_proofs() {
        let backend = CpuBackend::new();
        let mut bytes = vec![0u8; 32 * (2 * BLOCK_CHUNKS + 1000)];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i * 7 % 253) as u8;
        }
        for chunks in [
            1,
            9,
            1000,
            BLOCK_CHUNKS,
            BLOCK_CHUNKS + 1,
            2 * BLOCK_CHUNKS + 1000,
        ] {
            let data = &bytes[..32 * chunks];
            for (hash, limit, mix) in [
                (TreeHash::Sha256, None, None),
                (TreeHash::Sha256, Some(1u64 << 21), Some(chunks as u64)),
                (TreeHash::Sha256, Some(chunks as u64), Some(77)),
                (TreeHash::Sm3, None, None),
                (TreeHash::Sm3, Some(1u64 << 21), Some(chunks as u64)),
            ] {
                let whole = Tree::new(&backend, hash, data, limit, mix).unwrap();
                let tree = FileTree::build(&backend, hash, data, limit, |_| mix).unwrap();
                let last = chunks as u64 - 1;
                for indices in [
                    vec![0],
                    vec![last],
                    // Distinct leaves in several blocks, asked for out of order.
                    [last, 0, last / 2]
                        .into_iter()
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .rev()
                        .collect(),
                    vec![(BLOCK_CHUNKS as u64).min(last)],
                ] {
                    let mut file = std::io::Cursor::new(data);
                    let proof = tree.prove(&backend, &mut file, &indices).unwrap();
                    assert_eq!(
                        proof,
                        whole.prove(&indices).unwrap(),
                        "{hash}: {chunks} chunks, {limit:?}, {indices:?}"
                    );
                }
                let beyond = tree.prove(&backend, &mut std::io::Cursor::new(data), &[1 << 22]);
                assert!(beyond.is_err());
            }
        }
    }

    #[test]
    fn bad_files_are_the_whole_trees_errors() {
        let backend = CpuBackend::new();
        let e = FileTree::build(&backend, TreeHash::Sha256, &[0u8; 33][..], None, |_| None)
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "chunks: 33 bytes is not a multiple of 32");
        let e = FileTree::build(
            &backend,
            TreeHash::Sha256,
            &[0u8; 32 * 5][..],
            Some(4),
            |_| None,
        )
        .err()
        .unwrap();
        assert_eq!(e.to_string(), "chunks: 5 chunks exceed the limit of 4");
    }
}
