// Sum of many points in two stages, the shape of the sum kernels: each thread adds a
// strided slice of the input, then a block of SUM_THREADS threads folds its partial sums
// as a tree in shared memory. The host adds the per-block results.
#pragma once
#include "ec/formulas.cuh"

// Threads per block of the sum kernels; a power of two for the tree. 128 G2 partial sums
// (288 bytes each) are 36 KiB of static shared memory, under the 48 KiB limit.
#define SUM_THREADS 128

namespace vb {

// points[start] + points[start + stride] + ...; a stride of the whole grid keeps a warp's
// loads of one step adjacent in memory.
template <class F>
VB_HD xyz<F> strided_sum(const affine<F>* points, u32 n, u64 start, u64 stride) {
    xyz<F> acc = identity<F>();
    for (u64 i = start; i < n; i += stride) acc = add(acc, points[i]);
    return acc;
}

template <class F>
VB_HD xyz<F> strided_sum(const xyz<F>* points, u32 n, u64 start, u64 stride) {
    xyz<F> acc = identity<F>();
    for (u64 i = start; i < n; i += stride) acc = add(acc, points[i]);
    return acc;
}

// One level of the tree: slot t (< half) absorbs slot t + half. Levels half =
// SUM_THREADS/2, ..., 1 with a barrier between them leave the block's sum in slot 0.
template <class F>
VB_HD void sum_combine(xyz<F>* slots, u32 t, u32 half) {
    if (t < half) slots[t] = add(slots[t], slots[t + half]);
}

}  // namespace vb
