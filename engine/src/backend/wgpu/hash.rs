//! SHA-256 or SM3 of 64-byte blocks, whole Merkle trees built level by level on the
//! device, and the leaf hashes and perfect subtrees of RFC 9162 trees.

use veribatch_kernels::wgsl::{self, Entry, Module};

use super::device::{Buf, Gpu, GpuError, Job};
use std::borrow::Cow;

use crate::backend::binary_tree::{MAX_DEPTH, Node, TreeHash};
use crate::backend::log_tree::{Hash, PackedLeaves};

/// The module whose `merkle_level` makes `hash`'s nodes.
fn module(hash: TreeHash) -> &'static Module {
    match hash {
        TreeHash::Sha256 => &wgsl::SHA256,
        TreeHash::Sm3 => &wgsl::SM3,
    }
}

/// `hash`'s zero-hash ladder as the kernel reads it: eight words per height.
fn zero_ladder(hash: TreeHash) -> Vec<u32> {
    (0..=MAX_DEPTH)
        .flat_map(|height| hash.zero(height))
        .collect::<Vec<u8>>()
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes(b.try_into().expect("four bytes")))
        .collect()
}

/// Records one level: `count` nodes at `height` in `level` hashed in pairs by `hash` into
/// a new buffer of ceil(count / 2) nodes.
fn level_up(
    job: &mut Job<'_>,
    hash: TreeHash,
    level: Buf,
    ladder: Buf,
    count: u32,
    height: u32,
) -> Buf {
    let parents = count.div_ceil(2);
    let next = job.output(parents as usize * 8);
    job.dispatch(
        module(hash),
        Entry::MerkleLevel,
        [count, height, 0, 0],
        [Some(level), Some(ladder), None],
        next,
        parents,
    );
    next
}

fn words_to_bytes(words: &[u32], out: &mut [u8]) {
    for (chunk, word) in out.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
}

/// `hash` of each 64-byte block, in jobs that fit one binding.
pub fn hash_blocks(
    gpu: &Gpu,
    hash: TreeHash,
    blocks: &[u8],
    digests: &mut [u8],
) -> Result<(), GpuError> {
    let per_job = (gpu.max_binding_words() * 4 / 64).max(1);
    for (input, output) in blocks
        .chunks(per_job * 64)
        .zip(digests.chunks_mut(per_job * 32))
    {
        let count = (input.len() / 64) as u32;
        let words = gpu.run(|job| {
            let level = job.upload_bytes(input);
            let ladder = job.upload(&[0; 8]);
            let next = level_up(job, hash, level, ladder, 2 * count, 0);
            job.read(next, count as usize * 8)
        })?;
        words_to_bytes(&words, output);
    }
    Ok(())
}

/// The root of `chunks` padded with zero chunks to 2^depth leaves, nodes made by `hash`.
///
/// Subtrees that fit one binding are built whole on the device, every level staying in
/// device memory; their roots form the level they stand on, which is reduced the same
/// way until one node is left.
pub fn merkle_root(gpu: &Gpu, hash: TreeHash, chunks: &[u8], depth: u32) -> Result<Node, GpuError> {
    let per_job = 1usize << (gpu.max_binding_words() * 4 / 32).max(2).ilog2();
    let mut level = Cow::Borrowed(chunks);
    let mut height = 0;
    while height < depth {
        let count = level.len() / 32;
        if count == 0 {
            return Ok(hash.zero(depth));
        }
        // Subtrees of `per_job` nodes (fewer when the tree is smaller): `levels` levels.
        let levels = (depth - height).min(per_job.ilog2());
        let subtree = 1usize << levels;
        let mut roots = vec![0u8; count.div_ceil(subtree) * 32];
        for (input, root) in level.chunks(subtree * 32).zip(roots.chunks_mut(32)) {
            let words = gpu.run(|job| subtree_root(job, hash, input, height, levels))?;
            words_to_bytes(&words, root);
        }
        level = Cow::Owned(roots);
        height += levels;
    }
    if level.is_empty() {
        return Ok(hash.zero(depth));
    }
    Ok(level[..32].try_into().expect("one root"))
}

/// The root (eight words) of the subtree of `levels` levels over `nodes` at `height`.
fn subtree_root(
    job: &mut Job<'_>,
    hash: TreeHash,
    nodes: &[u8],
    height: u32,
    levels: u32,
) -> Result<Vec<u32>, GpuError> {
    let ladder = job.upload(&zero_ladder(hash));
    let mut level = job.upload_bytes(nodes);
    let mut count = (nodes.len() / 32) as u32;
    for h in height..height + levels {
        level = level_up(job, hash, level, ladder, count, h);
        count = count.div_ceil(2);
    }
    job.read(level, 8)
}

/// RFC 9162 leaf hashes of `leaves`, in jobs whose data, leaf ends and hashes each fit one
/// binding, and whose data is at most 2 GiB (the kernel's offsets and lengths are 32-bit).
pub fn log_leaf_hashes(gpu: &Gpu, leaves: &PackedLeaves) -> Result<Vec<Hash>, GpuError> {
    let max_bytes = (gpu.max_binding_words() * 4).min(1 << 31);
    let runs = leaves
        .device_runs(max_bytes, gpu.max_binding_words() / 8)
        .map_err(|bytes| GpuError::TooLarge {
            bytes,
            max: max_bytes,
        })?;
    let mut hashes = Vec::with_capacity(leaves.len());
    for run in runs {
        let n = run.ends.len();
        let words = gpu.run(|job| {
            let data = job.upload_bytes(run.data);
            let ends = job.upload(&run.ends);
            let out = job.output(n * 8);
            job.dispatch(
                &wgsl::SHA256,
                Entry::LogLeaves,
                [n as u32, 0, 0, 0],
                [Some(data), Some(ends), None],
                out,
                n as u32,
            );
            job.read(out, n * 8)
        })?;
        hashes.extend(words.chunks_exact(8).map(words_to_hash));
    }
    Ok(hashes)
}

/// The RFC 9162 root of the perfect subtree over `leaf_hashes` (a power of two of them):
/// subtrees that fit one binding are reduced whole on the device, every level in device
/// memory, and their roots the same way until one is left.
pub fn log_subtree_root(gpu: &Gpu, leaf_hashes: &[Hash]) -> Result<Hash, GpuError> {
    let per_job = 1usize << (gpu.max_binding_words() / 8).max(2).ilog2();
    let mut level = Cow::Borrowed(leaf_hashes);
    while level.len() > 1 {
        let subtree = level.len().min(per_job);
        let roots = level
            .chunks(subtree)
            .map(|block| gpu.run(|job| perfect_subtree_root(job, block)))
            .collect::<Result<Vec<Hash>, GpuError>>()?;
        level = Cow::Owned(roots);
    }
    Ok(level[0])
}

/// The root of a perfect subtree over `nodes`, reduced level by level in one job.
fn perfect_subtree_root(job: &mut Job<'_>, nodes: &[Hash]) -> Result<Hash, GpuError> {
    let mut level = job.upload_bytes(nodes.as_flattened());
    let mut count = nodes.len();
    while count > 1 {
        count /= 2;
        let next = job.output(count * 8);
        job.dispatch(
            &wgsl::SHA256,
            Entry::LogLevel,
            [count as u32, 0, 0, 0],
            [Some(level), None, None],
            next,
            count as u32,
        );
        level = next;
    }
    Ok(words_to_hash(&job.read(level, 8)?))
}

fn words_to_hash(words: &[u32]) -> Hash {
    let mut hash = [0u8; 32];
    words_to_bytes(words, &mut hash);
    hash
}

/// Checks the ladders the kernel reads against the host's: the first rung above the zero
/// chunk is the hash of two zero chunks.
#[cfg(test)]
#[test]
fn the_ladder_starts_with_the_hash_of_two_zero_chunks() {
    for hash in TreeHash::ALL {
        let ladder = zero_ladder(hash);
        let mut first = [0u8; 32];
        words_to_bytes(&ladder[8..16], &mut first);
        assert_eq!(first, hash.pair(&[0; 32], &[0; 32]), "{hash}");
    }
}
