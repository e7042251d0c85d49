//! Batch verification by random linear combination, written once for every scheme.
//!
//! A scheme states its verification equation over many items at once, each item
//! weighted by a coefficient ([`BatchEquation`]); this module draws the coefficients from
//! the operating system ([`coefficients`]: never chosen by a caller, or a forger could
//! cancel a bad item against another), checks the batch, and when it fails finds exactly
//! which items are invalid ([`verdicts`]). The scheduler queues and dispatches batches;
//! it knows none of this.

mod coefficients;
mod search;

pub use coefficients::coefficients;
pub use search::{Listener, Report, find_invalid, unreported, verdicts};

/// A scheme's verification equation over a batch of items, combined with weights.
///
/// With weights drawn at random, the combined equation holds (up to 2^-64 for 64-bit
/// weights) iff every item's own equation does; with the same weights, the equation over
/// a union of items holds iff it holds over each part, which is what lets a failed batch
/// be searched by halves.
pub trait BatchEquation: Sync {
    /// How many items the batch holds.
    fn items(&self) -> usize;

    /// Whether the equation holds over the items at `indices`, item `indices[k]` weighted
    /// by `coefficients[k]`. Called with one index and the coefficient 1, it must be the
    /// item's own verification, exactly: only that call declares an item invalid.
    fn holds(&self, indices: &[usize], coefficients: &[u64]) -> bool;
}
