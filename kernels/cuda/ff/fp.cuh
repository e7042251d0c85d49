// The base field Fp of BLS12-381, p = 0x1a0111ea...ffffaaab (381 bits), in Montgomery
// form with R = 2^384 and six little-endian 64-bit limbs: bit for bit blst's blst_fp,
// so the host copies blst values to the device unchanged. Every function takes and
// returns fully reduced values (< p); the bounds below rely on that.
#pragma once
#include "common.cuh"

namespace vb {

struct fp {
    u64 l[6];

    static VB_HD fp zero() {
        fp r = {{0, 0, 0, 0, 0, 0}};
        return r;
    }
    // R mod p: 1 in Montgomery form.
    static VB_HD fp one() {
        fp r = {{0x760900000002fffdULL, 0xebf4000bc40c0002ULL, 0x5f48985753c758baULL,
                 0x77ce585370525745ULL, 0x5c071a97a256ec6dULL, 0x15f65ec3fa80e493ULL}};
        return r;
    }
};

VB_HD fp fp_modulus() {
    fp r = {{0xb9feffffffffaaabULL, 0x1eabfffeb153ffffULL, 0x6730d2a0f6b0f624ULL,
             0x64774b84f38512bfULL, 0x4b1ba7b6434bacd7ULL, 0x1a0111ea397fe69aULL}};
    return r;
}

// -p^-1 mod 2^64, the Montgomery reduction factor.
constexpr u64 fp_n0 = 0x89f3fffcfffcfffdULL;

VB_HD bool is_zero(const fp& a) {
    u64 acc = 0;
    VB_UNROLL
    for (int i = 0; i < 6; ++i) acc |= a.l[i];
    return acc == 0;
}

VB_HD bool eq(const fp& a, const fp& b) {
    u64 acc = 0;
    VB_UNROLL
    for (int i = 0; i < 6; ++i) acc |= a.l[i] ^ b.l[i];
    return acc == 0;
}

// t - p if t >= p, else t; for t < 2p. Selected by mask rather than branch so GPU
// threads do not diverge.
VB_HD fp reduce_once(const fp& t) {
    const fp p = fp_modulus();
    fp d;
    u64 borrow = 0;
    VB_UNROLL
    for (int i = 0; i < 6; ++i) d.l[i] = sbb(t.l[i], p.l[i], borrow);
    const u64 keep_t = 0 - borrow;  // all ones when t < p
    VB_UNROLL
    for (int i = 0; i < 6; ++i) d.l[i] = (t.l[i] & keep_t) | (d.l[i] & ~keep_t);
    return d;
}

VB_HD fp add(const fp& a, const fp& b) {
    // a + b < 2p < 2^384: no carry out of the top limb.
    fp s;
    u64 carry = 0;
    VB_UNROLL
    for (int i = 0; i < 6; ++i) s.l[i] = adc(a.l[i], b.l[i], carry);
    return reduce_once(s);
}

VB_HD fp dbl(const fp& a) { return add(a, a); }

VB_HD fp sub(const fp& a, const fp& b) {
    const fp p = fp_modulus();
    fp d;
    u64 borrow = 0;
    VB_UNROLL
    for (int i = 0; i < 6; ++i) d.l[i] = sbb(a.l[i], b.l[i], borrow);
    // On borrow the difference wrapped by 2^384; adding p (and dropping the carry)
    // lands on a - b + p.
    const u64 mask = 0 - borrow;
    u64 carry = 0;
    VB_UNROLL
    for (int i = 0; i < 6; ++i) d.l[i] = adc(d.l[i], p.l[i] & mask, carry);
    return d;
}

VB_HD fp neg(const fp& a) {
    const fp p = fp_modulus();
    // p - a is p for a = 0, which is not reduced: mask it to 0.
    const u64 mask = is_zero(a) ? 0 : ~0ULL;
    fp d;
    u64 borrow = 0;
    VB_UNROLL
    for (int i = 0; i < 6; ++i) d.l[i] = sbb(p.l[i], a.l[i], borrow) & mask;
    return d;
}

// Montgomery product a·b·R^-1 mod p by CIOS (coarsely integrated operand scanning).
// Invariant: the accumulator t stays below 2p at the top of each round, as a, b < p.
// So a round's t + a·b_i fits in seven limbs, and after adding m·p and dropping the
// zero low limb the result fits in six again: no eighth limb or extra carry is needed.
//
// The one field function that is called rather than inlined on the GPU (see
// VB_HD_CALL): inlined into every point formula it made a 17 MB module that NVRTC
// compiled for minutes; called, it compiles in about 15 s. The operands are taken
// by value so that the call passes them in registers rather than through local memory.
VB_HD_CALL fp mul(fp a, fp b) {
    const fp p = fp_modulus();
    u64 t[6] = {0, 0, 0, 0, 0, 0};
    VB_UNROLL
    for (int i = 0; i < 6; ++i) {
        u64 c = 0;
        VB_UNROLL
        for (int j = 0; j < 6; ++j) t[j] = mac(a.l[j], b.l[i], t[j], c);
        const u64 t6 = c;
        // m makes t + m·p divisible by 2^64.
        const u64 m = t[0] * fp_n0;
        c = 0;
        (void)mac(m, p.l[0], t[0], c);
        VB_UNROLL
        for (int j = 1; j < 6; ++j) t[j - 1] = mac(m, p.l[j], t[j], c);
        t[5] = t6 + c;
    }
    fp r;
    VB_UNROLL
    for (int i = 0; i < 6; ++i) r.l[i] = t[i];
    return reduce_once(r);
}

VB_HD fp sqr(const fp& a) { return mul(a, a); }

// Limb i of p - 2, the Fermat exponent; it differs from p only in limb 0. A switch on
// the loop counter rather than an array keeps it out of GPU local memory.
VB_HD u64 fp_inverse_exponent_limb(int i) {
    switch (i) {
        case 0: return 0xb9feffffffffaaa9ULL;
        case 1: return 0x1eabfffeb153ffffULL;
        case 2: return 0x6730d2a0f6b0f624ULL;
        case 3: return 0x64774b84f38512bfULL;
        case 4: return 0x4b1ba7b6434bacd7ULL;
        default: return 0x1a0111ea397fe69aULL;
    }
}

// a^(p-2) = a^-1 (Fermat), left-to-right square-and-multiply; 0 maps to 0. Not constant
// time: only public data (verification) goes through here.
VB_HD fp inverse(const fp& a) {
    fp r = fp::one();
    VB_NO_UNROLL
    for (int i = 5; i >= 0; --i) {
        const u64 w = fp_inverse_exponent_limb(i);
        VB_NO_UNROLL
        for (int bit = 63; bit >= 0; --bit) {
            r = sqr(r);
            if ((w >> bit) & 1) r = mul(r, a);
        }
    }
    return r;
}

}  // namespace vb
