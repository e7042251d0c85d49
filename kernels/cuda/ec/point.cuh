// Points of a short Weierstrass curve y^2 = x^3 + b (a = 0) over a field F (fp or fp2),
// in homogeneous projective coordinates: (X, Y, Z) stands for (X/Z, Y/Z) and the
// identity is (0, 1, 0). Addition and doubling are the complete formulas of
// Renes–Costello–Batina 2015 (algorithms 7, 8 and 9 for a = 0): no special cases for
// the identity, P = Q or P = -Q, so GPU threads never diverge on them.
//
// The curve enters only through mul_b3(F), 3·b times a field element, which each curve
// header (ec/g1.cuh, ec/g2.cuh) supplies for its own field and which the templates
// below find by argument-dependent lookup when they are instantiated.
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

// The common end of RCB algorithms 7 and 8, from t0 = X1·X2, t1 = Y1·Y2, t2 = Z1·Z2,
// t3 = X1·Y2 + X2·Y1, t4 = Y1·Z2 + Y2·Z1 and y3 = X1·Z2 + X2·Z1.
template <class F>
VB_HD xyz<F> rcb_finish(F t0, F t1, F t2, F t3, F t4, F y3) {
    t0 = add(dbl(t0), t0);                   // 3·X1·X2
    t2 = mul_b3(t2);
    F z3 = add(t1, t2);
    t1 = sub(t1, t2);
    y3 = mul_b3(y3);
    F x3 = sub(mul(t3, t1), mul(t4, y3));
    y3 = add(mul(t1, z3), mul(y3, t0));
    z3 = add(mul(z3, t4), mul(t0, t3));
    xyz<F> r = {x3, y3, z3};
    return r;
}

// P + Q, RCB algorithm 7: 12 multiplications, 2 by b3.
template <class F>
VB_HD_CALL xyz<F> add(const xyz<F>& p, const xyz<F>& q) {
    F t0 = mul(p.x, q.x);
    F t1 = mul(p.y, q.y);
    F t2 = mul(p.z, q.z);
    F t3 = mul(add(p.x, p.y), add(q.x, q.y));
    F t4 = add(t0, t1);
    t3 = sub(t3, t4);                        // X1·Y2 + X2·Y1
    t4 = mul(add(p.y, p.z), add(q.y, q.z));
    t4 = sub(t4, add(t1, t2));               // Y1·Z2 + Y2·Z1
    F y3 = mul(add(p.x, p.z), add(q.x, q.z));
    y3 = sub(y3, add(t0, t2));               // X1·Z2 + X2·Z1
    return rcb_finish(t0, t1, t2, t3, t4, y3);
}

// P + Q for an affine Q, RCB algorithm 8 (Z2 = 1): 11 multiplications. The formula
// cannot see the (0, 0) encoding of infinity, hence the explicit case.
template <class F>
VB_HD_CALL xyz<F> add(const xyz<F>& p, const affine<F>& q) {
    if (is_infinity(q)) return p;
    F t0 = mul(p.x, q.x);
    F t1 = mul(p.y, q.y);
    F t3 = mul(add(q.x, q.y), add(p.x, p.y));
    t3 = sub(t3, add(t0, t1));               // X1·y2 + x2·Y1
    F t4 = add(mul(q.y, p.z), p.y);          // Y1 + y2·Z1
    F y3 = add(mul(q.x, p.z), p.x);          // X1 + x2·Z1
    return rcb_finish(t0, t1, p.z, t3, t4, y3);
}

// 2·P, RCB algorithm 9: 6 multiplications and 2 squarings, 1 by b3.
template <class F>
VB_HD_CALL xyz<F> dbl(const xyz<F>& p) {
    F t0 = sqr(p.y);
    F z3 = dbl(dbl(dbl(t0)));                // 8·Y^2
    F t1 = mul(p.y, p.z);
    F t2 = mul_b3(sqr(p.z));
    F x3 = mul(t2, z3);
    F y3 = add(t0, t2);
    z3 = mul(t1, z3);
    t0 = sub(t0, add(dbl(t2), t2));          // Y^2 - 3·b3·Z^2
    y3 = add(x3, mul(t0, y3));
    x3 = dbl(mul(t0, mul(p.x, p.y)));
    xyz<F> r = {x3, y3, z3};
    return r;
}

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

}  // namespace vb
