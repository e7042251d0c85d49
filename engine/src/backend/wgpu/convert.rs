//! blst values to and from the kernels' storage form.
//!
//! The kernels keep Fp in Montgomery form with radix 2^390 (thirteen-bit limbs × 30);
//! blst keeps it with radix 2^384. A field element x is x·2^384 in blst's limbs and must
//! be x·2^390 on the device. Multiplying blst's representation by 2^6 (a modular shift,
//! which acts on the representation linearly) gives exactly the device's value; a blst
//! Montgomery product with the raw constant 2^378 (2^6 / 2^384) brings it back. Words are 32-bit, least significant first.

use blst::{
    blst_fp, blst_fp_lshift, blst_fp_mul, blst_fp_sqr, blst_fp2, blst_fp2_mul, blst_fp2_sqr,
    blst_p1, blst_p1_add_or_double, blst_p1_affine, blst_p1_double, blst_p2, blst_p2_add_or_double,
    blst_p2_affine, blst_p2_double,
};
use veribatch_kernels::wgsl::{self, Module};

/// Words of one Fp element.
pub const FP_WORDS: usize = 12;

const RADIX_SHIFT: usize = 390 - 384;

/// blst's raw limbs of 2^378: `blst_fp_mul` by it divides a representation by 2^6.
const DIVIDE_BY_64: blst_fp = blst_fp {
    l: [0, 0, 0, 0, 0, 1 << (378 - 320)],
};

pub fn fp_words(x: &blst_fp, out: &mut Vec<u32>) {
    let mut shifted = blst_fp::default();
    // SAFETY: blst reads one element and writes one; both are valid for the call.
    unsafe { blst_fp_lshift(&mut shifted, x, RADIX_SHIFT) };
    for limb in shifted.l {
        out.push(limb as u32);
        out.push((limb >> 32) as u32);
    }
}

/// The element whose device form is `words` (twelve words, fully reduced).
pub fn fp_from_words(words: &[u32]) -> blst_fp {
    let mut raw = blst_fp::default();
    for (limb, pair) in raw.l.iter_mut().zip(words.chunks_exact(2)) {
        *limb = u64::from(pair[0]) | (u64::from(pair[1]) << 32);
    }
    let mut x = blst_fp::default();
    // SAFETY: as above.
    unsafe { blst_fp_mul(&mut x, &raw, &DIVIDE_BY_64) };
    x
}

fn fp2_words(x: &blst_fp2, out: &mut Vec<u32>) {
    fp_words(&x.fp[0], out);
    fp_words(&x.fp[1], out);
}

fn fp2_from_words(words: &[u32]) -> blst_fp2 {
    blst_fp2 {
        fp: [
            fp_from_words(&words[..FP_WORDS]),
            fp_from_words(&words[FP_WORDS..2 * FP_WORDS]),
        ],
    }
}

/// A curve as the device sees it: coordinate size, storage forms, and the blst types on
/// the host side.
pub trait Curve {
    type Affine: Copy + Send + Sync;
    type Point: Copy + Default + Send;
    /// Words of one coordinate.
    const FIELD_WORDS: usize;
    /// Workgroup size of the module's point sums (`SUM_WORKGROUP` in its curve file).
    const SUM_WORKGROUP: u32;
    const MODULE: Module;

    fn add(a: &Self::Point, b: &Self::Point) -> Self::Point;
    fn double(a: &Self::Point) -> Self::Point;

    fn push_affine(point: &Self::Affine, out: &mut Vec<u32>);

    /// Device words of a projective point (X : Y : Z) as blst's Jacobian point
    /// (X·Z, Y·Z², Z), which has the same affine form; Z = 0 is the identity in both.
    fn point_from_words(words: &[u32]) -> Self::Point;
}

/// Tag type for G1.
pub struct G1;
/// Tag type for G2.
pub struct G2;

impl Curve for G1 {
    type Affine = blst_p1_affine;
    type Point = blst_p1;
    const FIELD_WORDS: usize = FP_WORDS;
    const SUM_WORKGROUP: u32 = 32;
    const MODULE: Module = wgsl::G1;

    fn add(a: &blst_p1, b: &blst_p1) -> blst_p1 {
        let mut r = blst_p1::default();
        // SAFETY: blst point operations on valid points.
        unsafe { blst_p1_add_or_double(&mut r, a, b) };
        r
    }

    fn double(a: &blst_p1) -> blst_p1 {
        let mut r = blst_p1::default();
        // SAFETY: as above.
        unsafe { blst_p1_double(&mut r, a) };
        r
    }

    fn push_affine(point: &blst_p1_affine, out: &mut Vec<u32>) {
        fp_words(&point.x, out);
        fp_words(&point.y, out);
    }

    fn point_from_words(words: &[u32]) -> blst_p1 {
        let x = fp_from_words(&words[..FP_WORDS]);
        let y = fp_from_words(&words[FP_WORDS..2 * FP_WORDS]);
        let z = fp_from_words(&words[2 * FP_WORDS..3 * FP_WORDS]);
        let mut p = blst_p1 {
            z,
            ..Default::default()
        };
        let mut zz = blst_fp::default();
        // SAFETY: blst field operations on valid, initialized elements.
        unsafe {
            blst_fp_mul(&mut p.x, &x, &z);
            blst_fp_sqr(&mut zz, &z);
            blst_fp_mul(&mut p.y, &y, &zz);
        }
        p
    }
}

impl Curve for G2 {
    type Affine = blst_p2_affine;
    type Point = blst_p2;
    const FIELD_WORDS: usize = 2 * FP_WORDS;
    const SUM_WORKGROUP: u32 = 16;
    const MODULE: Module = wgsl::G2;

    fn add(a: &blst_p2, b: &blst_p2) -> blst_p2 {
        let mut r = blst_p2::default();
        // SAFETY: blst point operations on valid points.
        unsafe { blst_p2_add_or_double(&mut r, a, b) };
        r
    }

    fn double(a: &blst_p2) -> blst_p2 {
        let mut r = blst_p2::default();
        // SAFETY: as above.
        unsafe { blst_p2_double(&mut r, a) };
        r
    }

    fn push_affine(point: &blst_p2_affine, out: &mut Vec<u32>) {
        fp2_words(&point.x, out);
        fp2_words(&point.y, out);
    }

    fn point_from_words(words: &[u32]) -> blst_p2 {
        let w = Self::FIELD_WORDS;
        let x = fp2_from_words(&words[..w]);
        let y = fp2_from_words(&words[w..2 * w]);
        let z = fp2_from_words(&words[2 * w..3 * w]);
        let mut p = blst_p2 {
            z,
            ..Default::default()
        };
        let mut zz = blst_fp2::default();
        // SAFETY: as above.
        unsafe {
            blst_fp2_mul(&mut p.x, &x, &z);
            blst_fp2_sqr(&mut zz, &z);
            blst_fp2_mul(&mut p.y, &y, &zz);
        }
        p
    }
}
