//! SSZ roots of chunks as they arrive (a file, stdin), in memory that does not depend on
//! their number.
//!
//! Chunks are gathered into blocks of [`BLOCK_CHUNKS`]; each whole block is one perfect
//! subtree, hashed by the backend (on every core, or on the GPU above its threshold)
//! into its root, which joins a stack of pending subtree roots, merged like a binary
//! counter's carries: at most one per height, so at most 64. At the end the last partial
//! block is cut into perfect subtrees by the bits of its length, and the stack is folded
//! with the zero-hash ladder up to the tree's depth. [`root_of_reader`] reads the next
//! block on another thread while this one is hashed.
//!
//! Memory: three blocks (one being hashed, one being read, one in the channel between)
//! of 8 MiB, and the backend's working space for one block (its levels, 8 MiB on the
//! CPU): about 32 MiB whatever the input's size.

use std::io::{self, Read};
use std::sync::mpsc;

use super::{MerkleError, Node, TreeHash, depth_for};
use crate::backend::Backend;

/// Chunks per block: 8 MiB, enough for every core (and a GPU) to have work.
pub const BLOCK_CHUNKS: usize = 1 << BLOCK_HEIGHT;
pub(crate) const BLOCK_HEIGHT: u32 = 18;
pub(crate) const BLOCK_BYTES: usize = 32 * BLOCK_CHUNKS;

/// Why a streamed root cannot be computed.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("cannot read the chunks: {0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Merkle(#[from] MerkleError),
}

/// The root of the chunks pushed so far, padded as [`super::root`] pads. It holds no
/// backend: each call that hashes is given one, so the state can move between threads
/// (a service hands it from one message's task to the next).
#[derive(Debug)]
pub struct RootStream {
    hash: TreeHash,
    limit: Option<u64>,
    /// Roots of perfect subtrees, heights strictly decreasing from the left.
    pending: Vec<(u32, Node)>,
    /// Chunks in `pending`.
    chunks: u64,
    /// Bytes of the block being gathered.
    block: Vec<u8>,
}

impl RootStream {
    pub fn new(limit: Option<u64>) -> Self {
        Self::with_hash(TreeHash::Sha256, limit)
    }

    /// A stream whose nodes are made by `hash`.
    pub fn with_hash(hash: TreeHash, limit: Option<u64>) -> Self {
        Self {
            hash,
            limit,
            pending: Vec::new(),
            chunks: 0,
            block: Vec::new(),
        }
    }

    /// The hash its nodes are made with.
    pub fn hash(&self) -> TreeHash {
        self.hash
    }

    /// Chunks taken so far (whole ones).
    pub fn chunks(&self) -> u64 {
        self.chunks + (self.block.len() / 32) as u64
    }

    /// Takes the next bytes, of any length; an error as soon as the chunks exceed the
    /// limit.
    pub fn push(&mut self, backend: &dyn Backend, mut bytes: &[u8]) -> Result<(), MerkleError> {
        while !bytes.is_empty() {
            if self.block.is_empty() && bytes.len() >= BLOCK_BYTES {
                let (block, rest) = bytes.split_at(BLOCK_BYTES);
                self.push_block(backend, block)?;
                bytes = rest;
                continue;
            }
            let take = (BLOCK_BYTES - self.block.len()).min(bytes.len());
            if self.block.capacity() == 0 {
                self.block.reserve_exact(BLOCK_BYTES);
            }
            self.block.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.block.len() == BLOCK_BYTES {
                let block = std::mem::take(&mut self.block);
                self.push_block(backend, &block)?;
                self.block = block;
                self.block.clear();
            }
        }
        Ok(())
    }

    /// Takes one whole block of chunks (a buffer the caller keeps).
    fn push_block(&mut self, backend: &dyn Backend, block: &[u8]) -> Result<(), MerkleError> {
        debug_assert!(self.block.is_empty() && block.len() == BLOCK_BYTES);
        self.check_limit(self.chunks + BLOCK_CHUNKS as u64)?;
        let root = backend.tree_root(self.hash, block, BLOCK_HEIGHT);
        self.push_subtree(BLOCK_HEIGHT, root);
        Ok(())
    }

    fn check_limit(&self, chunks: u64) -> Result<(), MerkleError> {
        match self.limit {
            Some(limit) if chunks > limit => Err(MerkleError::OverLimit {
                count: chunks,
                limit,
            }),
            _ => Ok(()),
        }
    }

    fn push_subtree(&mut self, height: u32, root: Node) {
        let mut node = (height, root);
        while let Some(&(h, left)) = self.pending.last()
            && h == node.0
        {
            self.pending.pop();
            node = (h + 1, self.hash.pair(&left, &node.1));
        }
        self.pending.push(node);
        self.chunks += 1 << height;
    }

    /// The root; an error if the bytes were not whole chunks or are too many.
    pub fn finish(mut self, backend: &dyn Backend) -> Result<Node, MerkleError> {
        let total = self.chunks * 32 + self.block.len() as u64;
        if !self.block.len().is_multiple_of(32) {
            return Err(MerkleError::NotChunks(
                usize::try_from(total).unwrap_or(usize::MAX),
            ));
        }
        let depth = depth_for(self.chunks(), self.limit)?;
        // The last partial block, as perfect subtrees by the bits of its length.
        let block = std::mem::take(&mut self.block);
        let mut rest = &block[..];
        while !rest.is_empty() {
            let height = usize::BITS - 1 - (rest.len() / 32).leading_zeros();
            let (subtree, tail) = rest.split_at(32 << height);
            let root = backend.tree_root(self.hash, subtree, height);
            self.push_subtree(height, root);
            rest = tail;
        }
        let mut subtrees = self.pending.into_iter().rev();
        let Some((mut height, mut node)) = subtrees.next() else {
            return Ok(self.hash.zero(depth));
        };
        // The smallest subtree is a left child up to the next pending one, whose right
        // child it then is; padding is zero subtrees.
        for (left_height, left) in subtrees {
            while height < left_height {
                node = self.hash.pair(&node, &self.hash.zero(height));
                height += 1;
            }
            node = self.hash.pair(&left, &node);
            height += 1;
        }
        while height < depth {
            node = self.hash.pair(&node, &self.hash.zero(height));
            height += 1;
        }
        Ok(node)
    }
}

/// The root of every chunk `reader` gives, padded to `limit` as [`super::root`] pads, and
/// the number of chunks; the next block is read on another thread while one is hashed.
/// That thread is not joined: on an error the root is refused at once, and a reader
/// blocked on a pipe that stays open ends at its next block.
pub fn root_of_reader<R: Read + Send + 'static>(
    backend: &dyn Backend,
    hash: TreeHash,
    mut reader: R,
    limit: Option<u64>,
) -> Result<(Node, u64), StreamError> {
    let (full, blocks) = mpsc::sync_channel::<io::Result<Vec<u8>>>(1);
    std::thread::spawn(move || {
        loop {
            let mut buffer = vec![0u8; BLOCK_BYTES];
            let filled = read_full(&mut reader, &mut buffer);
            let last = !matches!(filled, Ok(n) if n == BLOCK_BYTES);
            let block = filled.map(|n| {
                buffer.truncate(n);
                buffer
            });
            if full.send(block).is_err() || last {
                return;
            }
        }
    });
    let mut stream = RootStream::with_hash(hash, limit);
    for block in blocks {
        stream.push(backend, &block?)?;
    }
    let chunks = stream.chunks();
    Ok((stream.finish(backend)?, chunks))
}

/// Reads until `buffer` is full or the input ends; the bytes read (fewer than the
/// buffer's length only at the end). Shared by the readers of chunk files here, in
/// [`super::file_tree`] and in the client's MerkleRootStream.
pub fn read_full(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::CpuBackend;

    #[test]
    fn streamed_roots_are_the_roots_of_the_whole() {
        let backend = CpuBackend::new();
        let mut bytes = vec![0u8; 32 * (2 * BLOCK_CHUNKS + 777)];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i * 31 % 251) as u8;
        }
        for chunks in [
            0,
            1,
            5,
            64,
            777,
            BLOCK_CHUNKS,
            BLOCK_CHUNKS + 1,
            2 * BLOCK_CHUNKS + 777,
        ] {
            let data = &bytes[..32 * chunks];
            for limit in [None, Some(chunks as u64), Some(1 << 21)] {
                let whole = super::super::root(&backend, data, limit).unwrap();
                let (streamed, n) = root_of_reader(
                    &backend,
                    TreeHash::Sha256,
                    io::Cursor::new(data.to_vec()),
                    limit,
                )
                .unwrap();
                assert_eq!(
                    (streamed, n),
                    (whole, chunks as u64),
                    "{chunks} chunks, {limit:?}"
                );
                // Pushed in odd pieces.
                let mut stream = RootStream::new(limit);
                for piece in data.chunks(1_000_003) {
                    stream.push(&backend, piece).unwrap();
                }
                assert_eq!(stream.finish(&backend).unwrap(), whole);
            }
        }
    }

    #[test]
    fn bad_inputs_are_the_whole_roots_errors() {
        let backend = CpuBackend::new();
        let e = root_of_reader(&backend, TreeHash::Sha256, &[0u8; 33][..], None).unwrap_err();
        assert_eq!(e.to_string(), "chunks: 33 bytes is not a multiple of 32");
        let e =
            root_of_reader(&backend, TreeHash::Sha256, &[0u8; 32 * 5][..], Some(4)).unwrap_err();
        assert_eq!(e.to_string(), "chunks: 5 chunks exceed the limit of 4");
    }
}
