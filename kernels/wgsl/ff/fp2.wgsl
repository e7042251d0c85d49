// Fp2 = Fp[i] / (i^2 + 1), the field of G2's coordinates: c0 + c1·i.

struct Fp2 {
    c0: Fp,
    c1: Fp,
}

fn fp2_zero() -> Fp2 {
    return Fp2(fp_zero(), fp_zero());
}

fn fp2_one() -> Fp2 {
    return Fp2(fp_one(), fp_zero());
}

fn fp2_is_zero(a: Fp2) -> bool {
    return fp_is_zero(a.c0) && fp_is_zero(a.c1);
}

fn fp2_eq(a: Fp2, b: Fp2) -> bool {
    return fp_eq(a.c0, b.c0) && fp_eq(a.c1, b.c1);
}

fn fp2_add(a: Fp2, b: Fp2) -> Fp2 {
    return Fp2(fp_add(a.c0, b.c0), fp_add(a.c1, b.c1));
}

fn fp2_sub(a: Fp2, b: Fp2) -> Fp2 {
    return Fp2(fp_sub(a.c0, b.c0), fp_sub(a.c1, b.c1));
}

fn fp2_neg(a: Fp2) -> Fp2 {
    return Fp2(fp_neg(a.c0), fp_neg(a.c1));
}

fn fp2_double(a: Fp2) -> Fp2 {
    return fp2_add(a, a);
}

// Karatsuba: three Fp multiplications.
fn fp2_mul(a: Fp2, b: Fp2) -> Fp2 {
    let v0 = fp_mul(a.c0, b.c0);
    let v1 = fp_mul(a.c1, b.c1);
    let s = fp_mul(fp_add(a.c0, a.c1), fp_add(b.c0, b.c1));
    return Fp2(fp_sub(v0, v1), fp_sub(fp_sub(s, v0), v1));
}

// (c0 + c1)(c0 - c1) + 2·c0·c1·i: two Fp multiplications.
fn fp2_square(a: Fp2) -> Fp2 {
    let re = fp_mul(fp_add(a.c0, a.c1), fp_sub(a.c0, a.c1));
    let im = fp_mul(a.c0, a.c1);
    return Fp2(re, fp_double(im));
}

// (c0 - c1·i) / (c0^2 + c1^2); zero for zero.
fn fp2_inverse(a: Fp2) -> Fp2 {
    let norm = fp_add(fp_square(a.c0), fp_square(a.c1));
    let inv = fp_inverse(norm);
    return Fp2(fp_mul(a.c0, inv), fp_neg(fp_mul(a.c1, inv)));
}

// Storage form: c0's twelve words, then c1's.
fn fp2_unpack(w: array<u32, 24>) -> Fp2 {
    var lo: array<u32, 12>;
    var hi: array<u32, 12>;
    for (var i = 0u; i < 12u; i++) {
        lo[i] = w[i];
        hi[i] = w[12u + i];
    }
    return Fp2(fp_unpack(lo), fp_unpack(hi));
}

fn fp2_pack(a: Fp2) -> array<u32, 24> {
    let lo = fp_pack(a.c0);
    let hi = fp_pack(a.c1);
    var w: array<u32, 24>;
    for (var i = 0u; i < 12u; i++) {
        w[i] = lo[i];
        w[12u + i] = hi[i];
    }
    return w;
}
