// Per-thread bodies of the multi-scalar multiplication (Pippenger's bucket method). The
// host cuts the scalars into signed digits and counting-sorts the (point, sign) entries
// into buckets; the device only adds points:
//   1. bucket_sum: every bucket's points, one thread per bucket;
//   2. window_segment: Σ (k + 1)·bucket_k over a slice of a window's buckets, so that a
//      window's reduction is spread over several threads;
// and the host adds the segments and combines the windows. scale is the plain
// per-point product for small batches.
#pragma once
#include "ec/formulas.cuh"

namespace vb {

// k·P for a small k (bucket weights in the MSM window reduction), right to left.
template <class F>
VB_HD xyz<F> mul_small(xyz<F> p, u32 k) {
    xyz<F> acc = identity<F>();
    while (k != 0) {
        if (k & 1) acc = add(acc, p);
        k >>= 1;
        if (k != 0) p = dbl(p);
    }
    return acc;
}

// Σ ±points[entry & 0x7fffffff] over entries[begin..end); bit 31 of an entry negates the
// point (the layout of the host's bucket plan, engine/src/backend/msm_plan.rs).
template <class F>
VB_HD xyz<F> bucket_sum(const affine<F>* points, const u32* entries, u32 begin, u32 end) {
    xyz<F> acc = identity<F>();
    for (u32 e = begin; e < end; ++e) {
        const u32 entry = entries[e];
        affine<F> p = points[entry & 0x7fffffffu];
        if (entry >> 31) p = neg(p);
        acc = add(acc, p);
    }
    return acc;
}

// Segment i % segments of window i / segments. Bucket k of a window (at k of the
// window's buckets_per_window contiguous slots) holds the points of digit k + 1; the
// segment covers buckets [lo, hi) of ceil(buckets_per_window / segments) each and
// returns Σ_{k in [lo, hi)} (k + 1)·B_k.
//
// Running sums from the top: after bucket k, running = Σ_{j >= k} B_j, and adding
// running into acc at every step weights B_j by (j - lo + 1), two additions per bucket
// instead of a scalar product. The missing lo·Σ B_j is one small multiplication.
template <class F>
VB_HD xyz<F> window_segment(const xyz<F>* buckets, u32 buckets_per_window, u32 segments, u32 i) {
    const u32 window = i / segments, segment = i % segments;
    const u32 len = (buckets_per_window + segments - 1) / segments;
    const u64 lo = (u64)segment * len;
    if (lo >= buckets_per_window) return identity<F>();
    const u64 hi = lo + len < buckets_per_window ? lo + len : buckets_per_window;
    const xyz<F>* window_buckets = buckets + (u64)window * buckets_per_window;
    xyz<F> running = identity<F>();
    xyz<F> acc = identity<F>();
    for (u64 k = hi; k-- > lo;) {
        running = add(running, window_buckets[k]);
        acc = add(acc, running);
    }
    return add(acc, mul_small(running, (u32)lo));
}

// scalar·p, scalar as n_bytes little-endian bytes; double-and-add from the top bit.
// The bit loop stays rolled: an unrolled body would copy a doubling and an addition
// (some twenty field products) per bit.
template <class F>
VB_HD xyz<F> scale(const affine<F>& p, const u8* scalar, u32 n_bytes) {
    xyz<F> acc = identity<F>();
    for (u64 bit = 8 * (u64)n_bytes; bit-- > 0;) {
        acc = dbl(acc);
        if ((scalar[bit >> 3] >> (bit & 7)) & 1) acc = add(acc, p);
    }
    return acc;
}

}  // namespace vb
