//! Group operations on BLS12-381 points: sums, doublings, negation, multiples of the
//! generators, hashing to a point, and the conversions to affine form.

use blst::*;

use super::{G1, G1Affine, G2, G2Affine};

pub fn g1_is_infinity(point: &G1Affine) -> bool {
    // SAFETY: plain predicate.
    unsafe { blst_p1_affine_is_inf(&point.0) }
}

pub fn g2_is_infinity(point: &G2Affine) -> bool {
    // SAFETY: plain predicate.
    unsafe { blst_p2_affine_is_inf(&point.0) }
}

pub fn p1_affine(p: &G1) -> G1Affine {
    let mut out = blst_p1_affine::default();
    // SAFETY: plain conversion (infinity maps to blst's affine infinity).
    unsafe { blst_p1_to_affine(&mut out, &p.0) };
    G1Affine(out)
}

pub fn p2_affine(p: &G2) -> G2Affine {
    let mut out = blst_p2_affine::default();
    // SAFETY: plain conversion (infinity maps to blst's affine infinity).
    unsafe { blst_p2_to_affine(&mut out, &p.0) };
    G2Affine(out)
}

/// Many G1 points to affine form with one shared field inversion per parallel task.
pub fn p1s_to_affine(points: &[G1]) -> Vec<G1Affine> {
    use rayon::prelude::*;
    let per_task = points.len().div_ceil(rayon::current_num_threads()).max(256);
    points
        .par_chunks(per_task)
        .flat_map_iter(p1s_to_affine_serial)
        .collect()
}

/// [`p1s_to_affine`] on the calling thread. Points at infinity are allowed.
pub fn p1s_to_affine_serial(points: &[G1]) -> Vec<G1Affine> {
    let mut out = vec![blst_p1_affine::default(); points.len()];
    if !points.is_empty() {
        let p = [G1::raw_slice(points).as_ptr(), std::ptr::null()];
        // SAFETY: `points.len()` contiguous points in, as many affine points out; blst
        // maps points at infinity to the affine infinity.
        unsafe { blst_p1s_to_affine(out.as_mut_ptr(), p.as_ptr(), points.len()) };
    }
    out.into_iter().map(G1Affine).collect()
}

/// Many G2 points to affine form with one shared field inversion. Points at infinity
/// are allowed.
pub fn p2s_to_affine(points: &[G2]) -> Vec<G2Affine> {
    let mut out = vec![blst_p2_affine::default(); points.len()];
    if !points.is_empty() {
        let p = [G2::raw_slice(points).as_ptr(), std::ptr::null()];
        // SAFETY: `points.len()` contiguous points in, as many affine points out.
        unsafe { blst_p2s_to_affine(out.as_mut_ptr(), p.as_ptr(), points.len()) };
    }
    out.into_iter().map(G2Affine).collect()
}

/// −p for an affine G1 point (the point at infinity is its own negation).
pub fn neg_g1_affine(p: &G1Affine) -> G1Affine {
    neg_g1(&g1_from_affine(p))
}

/// −p for an affine G2 point.
pub fn neg_g2_affine(p: &G2Affine) -> G2Affine {
    let mut q = g2_from_affine(p);
    // SAFETY: plain negation.
    unsafe { blst_p2_cneg(&mut q.0, true) };
    p2_affine(&q)
}

/// −p for a G1 point in projective form, returned in affine form.
pub fn neg_g1(p: &G1) -> G1Affine {
    let mut q = *p;
    // SAFETY: plain negation.
    unsafe { blst_p1_cneg(&mut q.0, true) };
    p1_affine(&q)
}

/// −g1, the negated generator of G1.
pub fn neg_g1_generator() -> G1Affine {
    neg_g1(&g1_generator())
}

/// An affine point in projective form.
pub fn g1_from_affine(p: &G1Affine) -> G1 {
    let mut out = blst_p1::default();
    // SAFETY: plain conversion of a valid point.
    unsafe { blst_p1_from_affine(&mut out, &p.0) };
    G1(out)
}

pub fn g2_from_affine(p: &G2Affine) -> G2 {
    let mut out = blst_p2::default();
    // SAFETY: plain conversion of a valid point.
    unsafe { blst_p2_from_affine(&mut out, &p.0) };
    G2(out)
}

/// a + b in G1 (blst's complete addition: a = b and the identity are handled).
pub fn g1_add(a: &G1, b: &G1) -> G1 {
    let mut out = blst_p1::default();
    // SAFETY: addition of valid points.
    unsafe { blst_p1_add_or_double(&mut out, &a.0, &b.0) };
    G1(out)
}

pub fn g1_double(a: &G1) -> G1 {
    let mut out = blst_p1::default();
    // SAFETY: doubling of a valid point.
    unsafe { blst_p1_double(&mut out, &a.0) };
    G1(out)
}

/// a + b in G2.
pub fn g2_add(a: &G2, b: &G2) -> G2 {
    let mut out = blst_p2::default();
    // SAFETY: addition of valid points.
    unsafe { blst_p2_add_or_double(&mut out, &a.0, &b.0) };
    G2(out)
}

pub fn g2_double(a: &G2) -> G2 {
    let mut out = blst_p2::default();
    // SAFETY: doubling of a valid point.
    unsafe { blst_p2_double(&mut out, &a.0) };
    G2(out)
}

/// blst's Jacobian point (X·Z, Y·Z², Z) with the affine form of the projective
/// (X : Y : Z), the form the GPU kernels write. Z = 0 is the identity in both.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub(crate) fn g1_from_projective(x: blst_fp, y: blst_fp, z: blst_fp) -> G1 {
    let mut p = blst_p1 { x, y, z };
    let mut zz = blst_fp::default();
    // SAFETY: field operations on valid elements.
    unsafe {
        blst_fp_sqr(&mut zz, &z);
        blst_fp_mul(&mut p.x, &x, &z);
        blst_fp_mul(&mut p.y, &y, &zz);
    }
    G1(p)
}

/// [`g1_from_projective`] in G2.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub(crate) fn g2_from_projective(x: blst_fp2, y: blst_fp2, z: blst_fp2) -> G2 {
    let mut p = blst_p2 { x, y, z };
    let mut zz = blst_fp2::default();
    // SAFETY: field operations on valid elements.
    unsafe {
        blst_fp2_sqr(&mut zz, &z);
        blst_fp2_mul(&mut p.x, &x, &z);
        blst_fp2_mul(&mut p.y, &y, &zz);
    }
    G2(p)
}

/// The generator of G1.
pub fn g1_generator() -> G1 {
    // SAFETY: blst_p1_generator points to a static constant.
    G1(unsafe { *blst_p1_generator() })
}

/// The generator of G2.
pub fn g2_generator() -> G2 {
    // SAFETY: blst_p2_generator points to a static constant.
    G2(unsafe { *blst_p2_generator() })
}

/// hash_to_curve of `message` into G1 under the tag `dst` (RFC 9380, SSWU, random
/// oracle): a point whose discrete log nobody knows.
pub fn g1_hash(message: &[u8], dst: &[u8]) -> G1 {
    let mut p = blst_p1::default();
    // SAFETY: blst reads `message` and `dst` and writes one point; no augmentation string.
    unsafe {
        blst_hash_to_g1(
            &mut p,
            message.as_ptr(),
            message.len(),
            dst.as_ptr(),
            dst.len(),
            std::ptr::null(),
            0,
        )
    };
    G1(p)
}

/// hash_to_curve into G2, as [`g1_hash`] (the BLS signatures' H(m)).
pub fn g2_hash(message: &[u8], dst: &[u8]) -> G2 {
    let mut p = blst_p2::default();
    // SAFETY: as above.
    unsafe {
        blst_hash_to_g2(
            &mut p,
            message.as_ptr(),
            message.len(),
            dst.as_ptr(),
            dst.len(),
            std::ptr::null(),
            0,
        )
    };
    G2(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curves::bls12_381::Fr;

    #[test]
    fn multiples_of_the_generator_add_up() {
        let two = g1_double(&g1_generator());
        let three = g1_add(&two, &g1_generator());
        assert_eq!(
            p1_affine(&three),
            p1_affine(&Fr::from_u64(3).times_g1_generator())
        );
        let two = g2_double(&g2_generator());
        let three = g2_add(&two, &g2_generator());
        assert_eq!(
            p2_affine(&three),
            p2_affine(&Fr::from_u64(3).times_g2_generator())
        );
        assert_eq!(neg_g1_generator(), neg_g1(&g1_generator()));
        assert!(g1_is_infinity(&p1_affine(
            &Fr::from_u64(0).times_g1_generator()
        )));
    }
}
