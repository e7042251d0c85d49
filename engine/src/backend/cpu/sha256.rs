//! SHA-256 of many 64-byte blocks (two Merkle children at a time) with hashtree, whose
//! multi-buffer SHA-NI/AVX2/AVX-512 code hashes a 64-byte message in about the time of one
//! compression (the padding block's schedule is precomputed), split over every core.

use std::sync::Once;

use rayon::prelude::*;

/// Blocks per parallel task: large enough that scheduling costs nothing next to hashing
/// (4096 blocks take about a millisecond), small enough to balance the cores.
const BLOCKS_PER_TASK: usize = 4096;

static INIT: Once = Once::new();

/// Selects hashtree's fastest implementation for this CPU, once per process.
pub fn init() {
    INIT.call_once(|| {
        hashtree_rs::init();
    });
}

/// Writes SHA-256(block) for each 64-byte block of `blocks` into `digests`.
///
/// # Panics
/// If `blocks` is not a whole number of blocks or `digests` does not have room for
/// exactly one digest per block: both are programming errors of the caller.
pub fn hash_blocks(blocks: &[u8], digests: &mut [u8]) {
    assert!(
        blocks.len().is_multiple_of(64) && digests.len() * 2 == blocks.len(),
        "hash_blocks: {} input bytes and {} output bytes",
        blocks.len(),
        digests.len()
    );
    init();
    if blocks.len() <= 64 * BLOCKS_PER_TASK {
        hash_serial(blocks, digests);
        return;
    }
    blocks
        .par_chunks(64 * BLOCKS_PER_TASK)
        .zip(digests.par_chunks_mut(32 * BLOCKS_PER_TASK))
        .for_each(|(input, output)| hash_serial(input, output));
}

fn hash_serial(blocks: &[u8], digests: &mut [u8]) {
    let count = blocks.len() / 64;
    if count > 0 {
        // Lengths checked by the caller: hashtree reads 64·count and writes 32·count bytes.
        hashtree_rs::hash(digests, blocks, count);
    }
}
