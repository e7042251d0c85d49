//! What both GPU drivers (`wgpu/`, `cuda/`) share on the host: the curves as the host
//! combines the kernels' partial results (blst's arithmetic, and the projective points
//! the kernels write turned into blst's Jacobian ones), the recombination of an MSM's
//! windows, and the plan that sorts points into buckets ([`msm_plan`]). The drivers keep
//! only what differs between them: how a coordinate is laid out in device memory, and
//! which kernels run.

pub mod msm_plan;

use blst::{blst_fp, blst_fp2};

use crate::curves::bls12_381::{self as curve, G1, G1Affine, G2, G2Affine};

/// A curve's group as the host sees it around the kernels, implemented by the group's
/// projective point type.
pub trait Curve {
    type Affine: Copy + Send + Sync;
    type Point: Copy + Default + Send + PartialEq;
    /// One coordinate: Fp for G1, Fp2 for G2, in blst's form.
    type Field: Copy;
    /// Fp elements in one coordinate.
    const DEGREE: usize;

    fn add(a: &Self::Point, b: &Self::Point) -> Self::Point;
    fn double(a: &Self::Point) -> Self::Point;

    /// The coordinate whose Fp elements (`DEGREE` of them, c0 first) `element(k)` reads.
    fn field(element: impl Fn(usize) -> blst_fp) -> Self::Field;

    /// blst's Jacobian point with the affine form of the kernels' projective (X : Y : Z):
    /// (X·Z, Y·Z², Z). Z = 0 is the identity in both.
    fn from_projective(x: Self::Field, y: Self::Field, z: Self::Field) -> Self::Point;
}

impl Curve for G1 {
    type Affine = G1Affine;
    type Point = G1;
    type Field = blst_fp;
    const DEGREE: usize = 1;

    fn add(a: &G1, b: &G1) -> G1 {
        curve::g1_add(a, b)
    }

    fn double(a: &G1) -> G1 {
        curve::g1_double(a)
    }

    fn field(element: impl Fn(usize) -> blst_fp) -> blst_fp {
        element(0)
    }

    fn from_projective(x: blst_fp, y: blst_fp, z: blst_fp) -> G1 {
        curve::g1_from_projective(x, y, z)
    }
}

impl Curve for G2 {
    type Affine = G2Affine;
    type Point = G2;
    type Field = blst_fp2;
    const DEGREE: usize = 2;

    fn add(a: &G2, b: &G2) -> G2 {
        curve::g2_add(a, b)
    }

    fn double(a: &G2) -> G2 {
        curve::g2_double(a)
    }

    fn field(element: impl Fn(usize) -> blst_fp) -> blst_fp2 {
        blst_fp2 {
            fp: [element(0), element(1)],
        }
    }

    fn from_projective(x: blst_fp2, y: blst_fp2, z: blst_fp2) -> G2 {
        curve::g2_from_projective(x, y, z)
    }
}

/// The point of the kernels' projective coordinates X, Y, Z, of `C::DEGREE` Fp elements
/// each: `fp(i)` reads the i-th element of the nine (G2) or three (G1) from the device's
/// words or bytes.
pub fn projective_point<C: Curve + ?Sized>(fp: impl Fn(usize) -> blst_fp) -> C::Point {
    let coordinate = |c: usize| C::field(|k| fp(c * C::DEGREE + k));
    C::from_projective(coordinate(0), coordinate(1), coordinate(2))
}

/// Σ_w 2^(bits·w)·window_w, by Horner from the top window, where window w is the sum of
/// `partials[w·segments .. (w+1)·segments]` (the segments the kernels reduced it to).
pub fn recombine_windows<C: Curve>(partials: &[C::Point], segments: usize, bits: u32) -> C::Point {
    let mut result = C::Point::default();
    for window in partials.chunks(segments.max(1)).rev() {
        for _ in 0..bits {
            result = C::double(&result);
        }
        for segment in window {
            result = C::add(&result, segment);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curves::bls12_381::p1_affine;
    use blst::blst_fp_mul;

    fn multiple(k: u64) -> G1 {
        curve::Fr::from_u64(k).times_g1_generator()
    }

    /// Windows of 2 bits, 2 segments each: Σ_w 4^w (a_w + b_w), compared with the sum
    /// computed directly.
    #[test]
    fn windows_recombine_by_powers_of_two() {
        let partials: Vec<G1> = [1u64, 2, 3, 0, 5, 1].into_iter().map(multiple).collect();
        // Windows: (1 + 2), (3 + 0), (5 + 1) at weights 1, 4, 16: 3 + 12 + 96 = 111.
        let got = recombine_windows::<G1>(&partials, 2, 2);
        assert_eq!(p1_affine(&got), p1_affine(&multiple(111)));
    }

    /// (X : Y : Z) with Z = 5 is the point (X/Z, Y/Z) of the curve.
    #[test]
    fn projective_points_become_the_same_jacobian_points() {
        let g = p1_affine(&multiple(7));
        let mut z = blst_fp::default();
        // SAFETY: conversion of a small integer into Montgomery form.
        unsafe { blst::blst_fp_from_uint64(&mut z, [5u64, 0, 0, 0, 0, 0].as_ptr()) };
        let scaled = |c: &blst_fp| {
            let mut out = blst_fp::default();
            // SAFETY: field multiplication of valid elements.
            unsafe { blst_fp_mul(&mut out, c, &z) };
            out
        };
        let coordinates = [scaled(&g.0.x), scaled(&g.0.y), z];
        let p = projective_point::<G1>(|i| coordinates[i]);
        assert_eq!(p1_affine(&p), g);
    }
}
