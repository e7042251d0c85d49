// Portability layer: the arithmetic headers are compiled both by NVRTC (device code of
// kernels.cu) and by the host C++ compiler (test/driver.cpp, checked against blst), so
// nothing here may include a system header: NVRTC has none.
#pragma once

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define VB_CUDA 1
#define VB_HD __host__ __device__ __forceinline__
// Large bodies (an Fp product, the point formulas) are called, not inlined: inlined at
// every use they make modules of megabytes that NVRTC takes minutes to compile and that
// overflow the instruction cache.
#define VB_HD_CALL __host__ __device__ __noinline__
#define VB_UNROLL _Pragma("unroll")
#define VB_NO_UNROLL _Pragma("unroll 1")
#else
#define VB_HD inline
#define VB_HD_CALL inline
// The same hints for g++, which warns about an unknown `#pragma unroll`.
#define VB_UNROLL _Pragma("GCC unroll 64")
#define VB_NO_UNROLL _Pragma("GCC unroll 1")
#endif

namespace vb {

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

// High 64 bits of the 128-bit product a·b.
VB_HD u64 mul_hi(u64 a, u64 b) {
#ifdef VB_CUDA
    return __umul64hi(a, b);
#else
    return (u64)(((unsigned __int128)a * b) >> 64);
#endif
}

// a + b + carry; carry (0 or 1) is replaced by the carry out.
VB_HD u64 adc(u64 a, u64 b, u64& carry) {
    u64 s = a + b;
    u64 c1 = s < a;
    u64 r = s + carry;
    carry = c1 | (r < s);
    return r;
}

// a - b - borrow; borrow (0 or 1) is replaced by the borrow out.
VB_HD u64 sbb(u64 a, u64 b, u64& borrow) {
    u64 d = a - b;
    u64 b1 = a < b;
    u64 r = d - borrow;
    borrow = b1 | (d < borrow);
    return r;
}

// a·b + c + carry as 128 bits: returns the low word, carry becomes the high word. Cannot
// overflow: (2^64 - 1)^2 + 2·(2^64 - 1) = 2^128 - 1.
VB_HD u64 mac(u64 a, u64 b, u64 c, u64& carry) {
    u64 lo = a * b;
    u64 hi = mul_hi(a, b);
    lo += c;
    hi += lo < c;
    lo += carry;
    hi += lo < carry;
    carry = hi;
    return lo;
}

}  // namespace vb
