//! The points of G1 and G2, and the values of Fp12 a Miller loop yields, as types of this
//! layer: `repr(transparent)` over blst's, so that a slice of them is a slice of blst's
//! (the CPU backend hands them to blst's bulk routines as they are, the CUDA driver
//! uploads their bytes), while nothing above the curve layer and the backends names a
//! C type. The coordinates are `pub(crate)` for the backends' conversions to limbs.

use blst::{
    blst_fp12, blst_p1, blst_p1_affine, blst_p1_is_equal, blst_p2, blst_p2_affine, blst_p2_is_equal,
};

/// A point of G1 (or of E(Fp), before a subgroup check) in affine form; the default is
/// the point at infinity. Affine coordinates are unique, so `==` is the points' equality.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct G1Affine(pub(crate) blst_p1_affine);

/// A point of G1 in blst's Jacobian form (Z = 0 is the identity, the default). `==`
/// compares the points, not their coordinates.
#[derive(Clone, Copy, Debug, Default)]
#[repr(transparent)]
pub struct G1(pub(crate) blst_p1);

/// A point of G2 in affine form, as [`G1Affine`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct G2Affine(pub(crate) blst_p2_affine);

/// A point of G2 in Jacobian form, as [`G1`].
#[derive(Clone, Copy, Debug, Default)]
#[repr(transparent)]
pub struct G2(pub(crate) blst_p2);

/// An element of Fp12: a product of Miller loops, before the final exponentiation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct Fp12(pub(crate) blst_fp12);

impl PartialEq for G1 {
    fn eq(&self, other: &Self) -> bool {
        // SAFETY: plain comparison of projective points.
        unsafe { blst_p1_is_equal(&self.0, &other.0) }
    }
}

impl Eq for G1 {}

impl PartialEq for G2 {
    fn eq(&self, other: &Self) -> bool {
        // SAFETY: plain comparison of projective points.
        unsafe { blst_p2_is_equal(&self.0, &other.0) }
    }
}

impl Eq for G2 {}

/// Views of slices of this layer's types as slices of blst's, for the backends' bulk
/// calls (sound because each type is `repr(transparent)` over the blst type).
macro_rules! raw_slices {
    ($($ty:ident => $raw:ty),*) => {$(
        impl $ty {
            pub(crate) fn raw_slice(points: &[$ty]) -> &[$raw] {
                // SAFETY: `$ty` is `repr(transparent)` over `$raw`: same size, alignment
                // and validity, so the slice reinterprets element for element.
                unsafe { std::slice::from_raw_parts(points.as_ptr().cast::<$raw>(), points.len()) }
            }
        }
    )*};
}

raw_slices!(
    G1Affine => blst_p1_affine,
    G1 => blst_p1,
    G2Affine => blst_p2_affine,
    G2 => blst_p2
);
