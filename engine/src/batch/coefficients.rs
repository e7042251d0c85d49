//! Random coefficients for batch verification, from the operating system's CSPRNG.
//!
//! Soundness of a random linear combination rests on the coefficients being unknown to
//! whoever made the inputs, so they are drawn fresh for every batch and never accepted
//! from a caller. 64 bits give a forgery probability of at most 2^-64 per batch.

/// `n` nonzero 64-bit coefficients from the OS CSPRNG.
pub fn coefficients(n: usize) -> Vec<u64> {
    let mut bytes = vec![0u8; n * 8];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes
        .chunks_exact(8)
        // A zero coefficient would drop its item from the check; 2^-64 odds, but free to rule out.
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")).max(1))
        .collect()
}
