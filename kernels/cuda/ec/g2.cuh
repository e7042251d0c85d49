// G2 of BLS12-381 (the sextic twist): y^2 = x^3 + 4·(1 + u) over Fp2.
#pragma once
#include "ff/fp2.cuh"
#include "ec/formulas.cuh"

namespace vb {

typedef xyz<fp2> g2_xyz;
typedef affine<fp2> g2_affine;

// 3·b = 12·(1 + u): additions only, no Fp2 product.
VB_HD fp2 mul_b3(const fp2& a) {
    const fp2 a4 = dbl(dbl(a));
    return mul_by_u_plus_1(add(dbl(a4), a4));
}

}  // namespace vb
