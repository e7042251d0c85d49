// G1 of BLS12-381: y^2 = x^3 + 4 over Fp.
#pragma once
#include "ff/fp.cuh"
#include "ec/formulas.cuh"

namespace vb {

typedef xyz<fp> g1_xyz;
typedef affine<fp> g1_affine;

// 3·b = 12: three doublings and an addition are cheaper than a Montgomery product.
VB_HD fp mul_b3(const fp& a) {
    const fp a4 = dbl(dbl(a));
    return add(dbl(a4), a4);
}

}  // namespace vb
