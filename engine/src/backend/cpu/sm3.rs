//! SM3 of many 64-byte blocks (two Merkle children at a time) with the engine's SM3,
//! whose padding block is expanded once, split over every core.

use rayon::prelude::*;

/// Blocks per parallel task: about a millisecond of hashing each.
const BLOCKS_PER_TASK: usize = 4096;

/// Writes SM3(block) for each 64-byte block of `blocks` into `digests`, split over every
/// core.
///
/// # Panics
/// On lengths that are not a whole number of blocks and one digest for each.
pub fn sm3_blocks(blocks: &[u8], digests: &mut [u8]) {
    if blocks.len() <= 64 * BLOCKS_PER_TASK {
        crate::sm3::hash_blocks(blocks, digests);
        return;
    }
    assert!(
        blocks.len().is_multiple_of(64) && digests.len() * 2 == blocks.len(),
        "sm3_blocks: {} input bytes and {} output bytes",
        blocks.len(),
        digests.len()
    );
    blocks
        .par_chunks(64 * BLOCKS_PER_TASK)
        .zip(digests.par_chunks_mut(32 * BLOCKS_PER_TASK))
        .for_each(|(input, output)| crate::sm3::hash_blocks(input, output));
}
