// BLS12-381 base field Fp, in Montgomery form with thirteen-bit limbs.
//
// An element is 30 limbs of 13 bits held in u32 (390 bits of room for a 381-bit p),
// least significant first. WGSL has no 64-bit integers and no multiply-high without
// the SHADER_INT64 feature, so a limb product must fit in 32 bits: 13-bit limbs make
// each product < 2^26, and a whole Montgomery multiplication accumulates at most 60
// products per column (< 2^32) without propagating a carry inside the loop. One carry
// pass and one conditional subtraction end it.
//
// Montgomery radix R = 2^390. Values are kept fully reduced (< p) between operations,
// so equality is limb equality and packing to twelve 32-bit words is lossless.
// The host converts to and from this form (blst's own radix is 2^384, so a shift by
// six bits is the whole conversion).

alias Fp = array<u32, 30>;

const FP_LIMBS: u32 = 30u;
const FP_BITS: u32 = 13u;
const FP_MASK: u32 = 0x1fffu;

// p, thirteen bits per limb.
const FP_P = Fp(
    2731u, 8189u, 8191u, 7679u, 7071u, 8191u, 1359u, 8150u, 3071u, 245u,
    7561u, 3425u, 2575u, 6249u, 7580u, 599u, 4997u, 7207u, 7634u, 3784u,
    6861u, 421u, 7897u, 884u, 6731u, 7988u, 3679u, 980u, 17u, 13u);

// -p^-1 mod 2^13.
const FP_PINV: u32 = 8189u;

// R mod p: one in Montgomery form.
const FP_ONE = Fp(
    7982u, 1679u, 0u, 3072u, 1127u, 86u, 3360u, 1779u, 6147u, 1061u,
    4295u, 4356u, 7694u, 3283u, 55u, 7071u, 5763u, 5765u, 6921u, 7556u,
    2654u, 4578u, 5593u, 7720u, 2857u, 5122u, 8143u, 4908u, 5598u, 0u);

fn fp_zero() -> Fp {
    return Fp();
}

fn fp_one() -> Fp {
    return FP_ONE;
}

fn fp_is_zero(a: Fp) -> bool {
    var acc = 0u;
    for (var i = 0u; i < FP_LIMBS; i++) {
        acc |= a[i];
    }
    return acc == 0u;
}

fn fp_eq(a: Fp, b: Fp) -> bool {
    var acc = 0u;
    for (var i = 0u; i < FP_LIMBS; i++) {
        acc |= a[i] ^ b[i];
    }
    return acc == 0u;
}

// fp_add, fp_sub (a - b, plus p on a borrow) and fp_reduce_once (a - p if a >= p) are
// generated unrolled over the limbs (veribatch-kernels, src/montgomery.rs) and follow
// this file, like fp_mul.

fn fp_neg(a: Fp) -> Fp {
    return fp_sub(fp_zero(), a);
}

fn fp_double(a: Fp) -> Fp {
    return fp_add(a, a);
}

// Montgomery multiplication a·b·R^-1 mod p: operand scanning with lazy carries. Column
// t[j] gathers at most two products (< 2^26 each) per round over 30 rounds, plus one
// carry of < 2^19: below 2^32, so limbs are normalized only at the end, then p is
// subtracted once if needed (the result is below 2p). `fp_mul` itself is generated
// unrolled over scalar limbs (veribatch-kernels, src/montgomery.rs) and follows this file.

fn fp_square(a: Fp) -> Fp {
    return fp_mul(a, a);
}

// a^(p-2) = a^-1 (and 0 for 0), by square-and-multiply over the bits of p - 2.
fn fp_inverse(a: Fp) -> Fp {
    var r = fp_one();
    for (var bit = 381i; bit >= 0i; bit--) {
        r = fp_square(r);
        let limb = u32(bit) / FP_BITS;
        var e = FP_P[limb];
        if limb == 0u {
            e -= 2u;
        }
        if ((e >> (u32(bit) % FP_BITS)) & 1u) == 1u {
            r = fp_mul(r, a);
        }
    }
    return r;
}

// Storage form: twelve little-endian 32-bit words of the (Montgomery) value.
fn fp_unpack(w: array<u32, 12>) -> Fp {
    var a: Fp;
    for (var i = 0u; i < FP_LIMBS; i++) {
        let bit = i * FP_BITS;
        let word = bit / 32u;
        let shift = bit % 32u;
        var v = w[word] >> shift;
        if shift > 32u - FP_BITS && word + 1u < 12u {
            v |= w[word + 1u] << (32u - shift);
        }
        a[i] = v & FP_MASK;
    }
    return a;
}

fn fp_pack(a: Fp) -> array<u32, 12> {
    var w: array<u32, 12>;
    for (var i = 0u; i < FP_LIMBS; i++) {
        let bit = i * FP_BITS;
        let word = bit / 32u;
        let shift = bit % 32u;
        w[word] |= a[i] << shift;
        if shift > 32u - FP_BITS && word + 1u < 12u {
            w[word + 1u] |= a[i] >> (32u - shift);
        }
    }
    return w;
}
