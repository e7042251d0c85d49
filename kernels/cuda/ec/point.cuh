// Points of a short Weierstrass curve y^2 = x^3 + b (a = 0) over a field F (fp or fp2),
// in homogeneous projective coordinates: (X, Y, Z) stands for (X/Z, Y/Z) and the
// identity is (0, 1, 0). Addition and doubling are in ec/formulas.cuh, generated from
// the formulas the WGSL kernels run (kernels/src/formulas.rs); this header holds the
// point types and the operations around them.
#pragma once
#include "common.cuh"

namespace vb {

template <class F>
struct xyz {
    F x, y, z;
};

// Affine point as blst stores it: (0, 0), all zero bytes, is the point at infinity
// (never on the curve, as b != 0).
template <class F>
struct affine {
    F x, y;
};

template <class F>
VB_HD xyz<F> identity() {
    xyz<F> r = {F::zero(), F::one(), F::zero()};
    return r;
}

template <class F>
VB_HD bool is_infinity(const affine<F>& a) {
    return is_zero(a.x) && is_zero(a.y);
}

template <class F>
VB_HD xyz<F> from_affine(const affine<F>& a) {
    if (is_infinity(a)) return identity<F>();
    xyz<F> r = {a.x, a.y, F::one()};
    return r;
}

// The identity (Z = 0) comes out as all zero: inverse(0) = 0 zeroes both coordinates.
template <class F>
VB_HD affine<F> to_affine(const xyz<F>& p) {
    const F zi = inverse(p.z);
    affine<F> r = {mul(p.x, zi), mul(p.y, zi)};
    return r;
}

template <class F>
VB_HD xyz<F> neg(const xyz<F>& p) {
    xyz<F> r = {p.x, neg(p.y), p.z};
    return r;
}

template <class F>
VB_HD affine<F> neg(const affine<F>& a) {
    // neg(0) = 0 keeps the infinity encoding intact.
    affine<F> r = {a.x, neg(a.y)};
    return r;
}

}  // namespace vb
