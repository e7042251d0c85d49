//! Counters and histograms of the scheduler, kept with atomics so that reading them
//! (GetInfo, a metrics scrape) never blocks the work. Rendering is the service's job.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one batched operation since start.
#[derive(Debug, Default)]
pub struct OperationStats {
    /// Requests accepted into the queue.
    pub requests: AtomicU64,
    /// Items verified.
    pub items: AtomicU64,
    /// Batches run.
    pub batches: AtomicU64,
    /// Items in the largest batch run.
    pub largest_batch: AtomicU64,
    /// Items waiting now.
    pub queued: AtomicU64,
    /// Requests refused because the queue was full.
    pub rejected: AtomicU64,
    /// Items dropped unverified: deadline passed, or the caller left.
    pub expired: AtomicU64,
    /// Batches retried on the CPU after the device failed.
    pub fallbacks: AtomicU64,
    /// Items per batch.
    pub batch_size: Histogram,
    /// Seconds from enqueueing to the start of the batch, per request.
    pub queue_wait: Histogram,
}

impl OperationStats {
    pub fn new() -> Self {
        Self {
            batch_size: Histogram::new(BATCH_SIZE_BUCKETS),
            queue_wait: Histogram::new(SECONDS_BUCKETS),
            ..Self::default()
        }
    }
}

/// Upper bounds of the batch size buckets.
pub const BATCH_SIZE_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0,
    16384.0,
];

/// Upper bounds of the time buckets, in seconds (100 µs to 10 s).
pub const SECONDS_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// A Prometheus-style cumulative histogram with fixed buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Observations in each bucket (not cumulative), then the +Inf bucket.
    counts: Vec<AtomicU64>,
    /// Sum of observations, in millionths.
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: f64) {
        let bucket = self
            .bounds
            .iter()
            .position(|&b| value <= b)
            .unwrap_or(self.bounds.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((value * 1e6) as u64, Ordering::Relaxed);
    }

    /// (upper bound, cumulative count) per bucket, ending with (+Inf, total).
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut total = 0;
        self.counts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                total += c.load(Ordering::Relaxed);
                (self.bounds.get(i).copied().unwrap_or(f64::INFINITY), total)
            })
            .collect()
    }

    pub fn sum(&self) -> f64 {
        self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::new(&[1.0, 10.0]);
        for v in [0.5, 1.0, 3.0, 11.0, 100.0] {
            h.observe(v);
        }
        assert_eq!(
            h.cumulative(),
            vec![(1.0, 2), (10.0, 3), (f64::INFINITY, 5)]
        );
        assert_eq!(h.count(), 5);
        assert!((h.sum() - 115.5).abs() < 1e-6);
    }
}
