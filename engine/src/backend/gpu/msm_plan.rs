//! Pippenger's bucket method, the host's part: scalars cut into signed windowed digits,
//! and the points sorted by bucket (a counting sort, linear integer work) for a device
//! to sum. Shared by the GPU backends.

use crate::backend::Scalars;

/// Window width for `n` points: about n/4 buckets per window, so that filling the
/// buckets (n additions per window) and reducing them (two per bucket) cost alike.
pub fn window_bits(n: usize, max_window: u32) -> u32 {
    (n.max(1).ilog2()).saturating_sub(1).clamp(4, max_window)
}

/// The scalars cut into signed digits and the points sorted by bucket: the sparse
/// matrix the device's bucket kernel walks.
pub struct BucketPlan {
    pub window: u32,
    /// Read by the wgpu host code only.
    #[cfg_attr(not(feature = "wgpu"), allow(dead_code))]
    pub windows: u32,
    /// Point index (within the job) | sign << 31, sorted by (window, bucket).
    pub entries: Vec<u32>,
    /// Start of each bucket's entries, one past the end for the last.
    pub offsets: Vec<u32>,
}

impl BucketPlan {
    pub fn new(
        scalars: &Scalars,
        range: std::ops::Range<usize>,
        window: u32,
        windows: u32,
    ) -> Self {
        let buckets = 1usize << (window - 1);
        let total = windows as usize * buckets;
        let mut digits = Vec::with_capacity(range.len() * windows as usize);
        let mut counts = vec![0u32; total + 1];
        for (local, i) in range.enumerate() {
            let scalar = scalars.get(i);
            let mut carry = 0u32;
            for w in 0..windows {
                let raw = bits_at(scalar, (w * window) as usize, window as usize) + carry;
                // Signed digit in (-2^(c-1), 2^(c-1)]: a larger value borrows from the
                // next window.
                let (magnitude, negative) = if raw > 1 << (window - 1) {
                    carry = 1;
                    ((1 << window) - raw, true)
                } else {
                    carry = 0;
                    (raw, false)
                };
                if magnitude != 0 {
                    let bucket = w as usize * buckets + magnitude as usize - 1;
                    counts[bucket + 1] += 1;
                    digits.push((bucket, local as u32 | (u32::from(negative) << 31)));
                }
            }
        }
        for b in 0..total {
            counts[b + 1] += counts[b];
        }
        let offsets = counts.clone();
        let mut next = counts;
        let mut entries = vec![0u32; digits.len()];
        for (bucket, entry) in digits {
            entries[next[bucket] as usize] = entry;
            next[bucket] += 1;
        }
        Self {
            window,
            windows,
            entries,
            offsets,
        }
    }

    pub fn buckets_per_window(&self) -> u32 {
        1 << (self.window - 1)
    }
}

/// `count` bits of the little-endian `bytes` from bit `offset`, zero past the end.
pub fn bits_at(bytes: &[u8], offset: usize, count: usize) -> u32 {
    let mut value = 0u64;
    for k in 0..5 {
        if let Some(&b) = bytes.get(offset / 8 + k) {
            value |= u64::from(b) << (8 * k);
        }
    }
    ((value >> (offset % 8)) & ((1u64 << count) - 1)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_read_across_bytes_and_past_the_end() {
        let bytes = [0b1010_1100u8, 0xff, 0x01];
        assert_eq!(bits_at(&bytes, 0, 4), 0b1100);
        assert_eq!(bits_at(&bytes, 6, 4), 0b1110);
        assert_eq!(bits_at(&bytes, 16, 8), 1);
        assert_eq!(bits_at(&bytes, 20, 8), 0);
    }

    #[test]
    fn signed_digits_recompose_every_scalar() {
        let values = [
            0u64,
            1,
            7,
            8,
            9,
            255,
            u64::MAX,
            0x8000_0000_0000_0000,
            12345678901234567,
        ];
        let scalars = Scalars::from_u64s(&values);
        let window = 4;
        let windows = (64 + 1u32).div_ceil(window);
        let plan = BucketPlan::new(&scalars, 0..values.len(), window, windows);
        let mut sums = vec![0i128; values.len()];
        let buckets = plan.buckets_per_window() as usize;
        for bucket in 0..windows as usize * buckets {
            let (w, k) = (bucket / buckets, bucket % buckets);
            for e in plan.offsets[bucket]..plan.offsets[bucket + 1] {
                let entry = plan.entries[e as usize];
                let digit = (k as i128 + 1) * if entry >> 31 == 1 { -1 } else { 1 };
                sums[(entry & 0x7fff_ffff) as usize] += digit << (window as usize * w);
            }
        }
        for (sum, value) in sums.iter().zip(values) {
            assert_eq!(*sum, i128::from(value));
        }
    }
}
