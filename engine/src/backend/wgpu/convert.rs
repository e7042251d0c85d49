//! blst values to and from the kernels' storage form.
//!
//! The kernels keep Fp in Montgomery form with radix 2^390 (thirteen-bit limbs × 30);
//! blst keeps it with radix 2^384. A field element x is x·2^384 in blst's limbs and must
//! be x·2^390 on the device. Multiplying blst's representation by 2^6 (a modular shift,
//! which acts on the representation linearly) gives exactly the device's value; a blst
//! Montgomery product with the raw constant 2^378 (2^6 / 2^384) brings it back. Words are 32-bit, least significant first.

use crate::curves::bls12_381::{G1, G1Affine, G2, G2Affine};
use blst::{blst_fp, blst_fp_lshift, blst_fp_mul, blst_fp2};
use veribatch_kernels::wgsl::{self, Module};

use crate::backend::gpu;

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

/// A curve as the wgpu kernels see it: coordinate size and storage form. The host
/// arithmetic is the shared [`gpu::Curve`].
pub trait Curve: gpu::Curve {
    /// Words of one coordinate.
    const FIELD_WORDS: usize = Self::DEGREE * FP_WORDS;
    /// Workgroup size of the module's point sums (`SUM_WORKGROUP` in its curve file).
    const SUM_WORKGROUP: u32;
    const MODULE: Module;

    fn push_affine(point: &Self::Affine, out: &mut Vec<u32>);

    /// Device words of a projective point (X : Y : Z) as blst's Jacobian point.
    fn point_from_words(words: &[u32]) -> Self::Point {
        gpu::projective_point::<Self>(|i| fp_from_words(&words[i * FP_WORDS..(i + 1) * FP_WORDS]))
    }
}

impl Curve for G1 {
    const SUM_WORKGROUP: u32 = 32;
    const MODULE: Module = wgsl::G1;

    fn push_affine(point: &G1Affine, out: &mut Vec<u32>) {
        fp_words(&point.0.x, out);
        fp_words(&point.0.y, out);
    }
}

impl Curve for G2 {
    const SUM_WORKGROUP: u32 = 16;
    const MODULE: Module = wgsl::G2;

    fn push_affine(point: &G2Affine, out: &mut Vec<u32>) {
        fp2_words(&point.0.x, out);
        fp2_words(&point.0.y, out);
    }
}
