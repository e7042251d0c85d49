// Fp2 = Fp[u] / (u^2 + 1): c0 + c1·u, the same layout as blst's blst_fp2.
#pragma once
#include "ff/fp.cuh"

namespace vb {

struct fp2 {
    fp c0, c1;

    static VB_HD fp2 zero() {
        fp2 r = {fp::zero(), fp::zero()};
        return r;
    }
    static VB_HD fp2 one() {
        fp2 r = {fp::one(), fp::zero()};
        return r;
    }
};

VB_HD fp2 make_fp2(const fp& c0, const fp& c1) {
    fp2 r = {c0, c1};
    return r;
}

VB_HD bool is_zero(const fp2& a) { return is_zero(a.c0) && is_zero(a.c1); }
VB_HD bool eq(const fp2& a, const fp2& b) { return eq(a.c0, b.c0) && eq(a.c1, b.c1); }
VB_HD fp2 add(const fp2& a, const fp2& b) { return make_fp2(add(a.c0, b.c0), add(a.c1, b.c1)); }
VB_HD fp2 sub(const fp2& a, const fp2& b) { return make_fp2(sub(a.c0, b.c0), sub(a.c1, b.c1)); }
VB_HD fp2 neg(const fp2& a) { return make_fp2(neg(a.c0), neg(a.c1)); }
VB_HD fp2 dbl(const fp2& a) { return make_fp2(dbl(a.c0), dbl(a.c1)); }

// Karatsuba: three Fp products instead of four.
VB_HD fp2 mul(const fp2& a, const fp2& b) {
    const fp v0 = mul(a.c0, b.c0);
    const fp v1 = mul(a.c1, b.c1);
    const fp s = mul(add(a.c0, a.c1), add(b.c0, b.c1));
    return make_fp2(sub(v0, v1), sub(sub(s, v0), v1));
}

// (c0 + c1·u)^2 = (c0 + c1)(c0 - c1) + 2·c0·c1·u: two Fp products.
VB_HD fp2 sqr(const fp2& a) {
    const fp t = mul(a.c0, a.c1);
    return make_fp2(mul(add(a.c0, a.c1), sub(a.c0, a.c1)), dbl(t));
}

// (c0 + c1·u)·(1 + u) = (c0 - c1) + (c0 + c1)·u; G2's b is 4·(1 + u).
VB_HD fp2 mul_by_u_plus_1(const fp2& a) {
    return make_fp2(sub(a.c0, a.c1), add(a.c0, a.c1));
}

// 1 / (c0 + c1·u) = (c0 - c1·u) / (c0^2 + c1^2), one Fp inversion; 0 maps to 0.
VB_HD fp2 inverse(const fp2& a) {
    const fp t = inverse(add(sqr(a.c0), sqr(a.c1)));
    return make_fp2(mul(a.c0, t), neg(mul(a.c1, t)));
}

}  // namespace vb
