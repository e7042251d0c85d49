// Kernel entry points of the CUDA backend, compiled at run time by NVRTC after the host
// pastes the headers below in place (each once). All arithmetic is in those headers, as
// __host__ __device__ code that test/driver.cpp runs on the CPU against blst; these
// wrappers only map threads to items. One thread per item on a 1-D grid; threads past
// the item count n return at once, except in the sum kernels, whose every thread takes
// part in the block's barriers.
#include "common.cuh"
#include "ec/g1.cuh"
#include "ec/g2.cuh"
#include "hash/sha256.cuh"
#include "hash/sm3.cuh"
#include "hash/merkle.cuh"
#include "hash/log.cuh"
#include "reduce/sum.cuh"
#include "msm/pippenger.cuh"

using namespace vb;

__device__ __forceinline__ u64 thread_index() {
    return (u64)blockIdx.x * blockDim.x + threadIdx.x;
}

// SHA-256 of n independent 64-byte blocks.
extern "C" __global__ void sha256_blocks(const u8* blocks, u8* digests, u32 n) {
    const u64 i = thread_index();
    if (i >= n) return;
    sha256_pair(blocks + 64 * i, blocks + 64 * i + 32, digests + 32 * i);
}

// The ceil(n_children / 2) parents of a Merkle level; zero_hash: the 32-byte root of an
// all-zero subtree of the children's height.
extern "C" __global__ void merkle_level(const u8* children, u8* parents, u32 n_children,
                                        const u8* zero_hash) {
    const u64 i = thread_index();
    if (i >= ((u64)n_children + 1) / 2) return;
    merkle_parent<sha256_node>(children, n_children, zero_hash, (u32)i, parents + 32 * i);
}

// SM3 of n independent 64-byte blocks.
extern "C" __global__ void sm3_blocks(const u8* blocks, u8* digests, u32 n) {
    const u64 i = thread_index();
    if (i >= n) return;
    sm3_pair(blocks + 64 * i, blocks + 64 * i + 32, digests + 32 * i);
}

// merkle_level for the trees whose nodes SM3 makes (zero_hash from SM3's ladder).
extern "C" __global__ void sm3_merkle_level(const u8* children, u8* parents, u32 n_children,
                                            const u8* zero_hash) {
    const u64 i = thread_index();
    if (i >= ((u64)n_children + 1) / 2) return;
    merkle_parent<sm3_node>(children, n_children, zero_hash, (u32)i, parents + 32 * i);
}

// RFC 9162 leaf hashes of n leaves packed in data; leaf i ends at ends[i] (and starts
// where leaf i - 1 ends).
extern "C" __global__ void log_leaves(const u8* data, const u32* ends, u8* hashes, u32 n) {
    const u64 i = thread_index();
    if (i >= n) return;
    const u32 start = i == 0 ? 0 : ends[i - 1];
    log_leaf_hash(data + start, ends[i] - start, hashes + 32 * i);
}

// The n_parents RFC 9162 parents of a level of a perfect subtree.
extern "C" __global__ void log_level(const u8* children, u8* parents, u32 n_parents) {
    const u64 i = thread_index();
    if (i >= n_parents) return;
    log_node_hash(children + 64 * i, children + 64 * i + 32, parents + 32 * i);
}

// Block sum for blockDim.x = SUM_THREADS: partial[blockIdx.x] = the sum of the points
// this block's threads visit with a grid-wide stride.
template <class F, class In>
__device__ __forceinline__ void block_sum(const In* points, u32 n, xyz<F>* partial) {
    __shared__ xyz<F> slots[SUM_THREADS];
    const u32 t = threadIdx.x;
    slots[t] = strided_sum(points, n, (u64)blockIdx.x * SUM_THREADS + t,
                           (u64)gridDim.x * SUM_THREADS);
    __syncthreads();
    for (u32 half = SUM_THREADS / 2; half > 0; half >>= 1) {
        sum_combine(slots, t, half);
        __syncthreads();
    }
    if (t == 0) partial[blockIdx.x] = slots[0];
}

extern "C" __global__ void g1_sum_affine(const g1_affine* points, u32 n, g1_xyz* partial) {
    block_sum(points, n, partial);
}
extern "C" __global__ void g1_sum_projective(const g1_xyz* points, u32 n, g1_xyz* partial) {
    block_sum(points, n, partial);
}
extern "C" __global__ void g2_sum_affine(const g2_affine* points, u32 n, g2_xyz* partial) {
    block_sum(points, n, partial);
}
extern "C" __global__ void g2_sum_projective(const g2_xyz* points, u32 n, g2_xyz* partial) {
    block_sum(points, n, partial);
}

// Bucket b = Σ ±points over entries[offsets[b] .. offsets[b + 1]).
extern "C" __global__ void g1_bucket_sum(const g1_affine* points, const u32* entries,
                                         const u32* offsets, u32 n_buckets, g1_xyz* buckets) {
    const u64 i = thread_index();
    if (i >= n_buckets) return;
    buckets[i] = bucket_sum(points, entries, offsets[i], offsets[i + 1]);
}
extern "C" __global__ void g2_bucket_sum(const g2_affine* points, const u32* entries,
                                         const u32* offsets, u32 n_buckets, g2_xyz* buckets) {
    const u64 i = thread_index();
    if (i >= n_buckets) return;
    buckets[i] = bucket_sum(points, entries, offsets[i], offsets[i + 1]);
}

// n = windows · segments; thread i reduces segment i % segments of window i / segments.
extern "C" __global__ void g1_window_segment(const g1_xyz* buckets, u32 buckets_per_window,
                                             u32 segments, u32 n, g1_xyz* out) {
    const u64 i = thread_index();
    if (i >= n) return;
    out[i] = window_segment(buckets, buckets_per_window, segments, (u32)i);
}
extern "C" __global__ void g2_window_segment(const g2_xyz* buckets, u32 buckets_per_window,
                                             u32 segments, u32 n, g2_xyz* out) {
    const u64 i = thread_index();
    if (i >= n) return;
    out[i] = window_segment(buckets, buckets_per_window, segments, (u32)i);
}

// out[i] = scalar_i · points[i], scalar_i: scalar_bytes little-endian bytes at
// scalars + i · scalar_bytes.
extern "C" __global__ void g1_scale(const g1_affine* points, const u8* scalars,
                                    u32 scalar_bytes, u32 n, g1_xyz* out) {
    const u64 i = thread_index();
    if (i >= n) return;
    out[i] = scale(points[i], scalars + i * scalar_bytes, scalar_bytes);
}
