//! Curve arithmetic and pairings on the CPU, over blst's single-threaded C routines.
//!
//! blst's bulk routines take arrays of pointers where `[first, NULL]` means "a contiguous
//! array starting at `first`"; [`contiguous`] builds that pair. Points at infinity are
//! removed before sums, MSMs and Miller loops, defensively: they add nothing there, and
//! blst documents infinity handling only for some of its bulk routines (batched affine
//! conversion and bulk addition handle it; the Miller loop does not).

use std::ptr;

use blst::*;
use rayon::prelude::*;

use crate::backend::Scalars;
use crate::curves::bls12_381::{Fp12, G1, G1Affine, G2, G2Affine, g2_hash, p2_affine};

/// Below this many points an MSM is a loop of scalar multiplications; above it, Pippenger.
const PIPPENGER_MIN_POINTS: usize = 8;
/// Points per parallel task in sums and multi-scalar multiplications.
const POINTS_PER_TASK: usize = 1024;
/// Pairs per parallel task in a multi-Miller loop (blst shares the squarings of up to 16).
const PAIRS_PER_TASK: usize = 16;

/// `[first, NULL]`: blst's spelling of "the contiguous array starting at `first`".
fn contiguous<T>(slice: &[T]) -> [*const T; 2] {
    [slice.as_ptr(), ptr::null()]
}

/// Splits `len` items into parallel tasks of at least `min` items, one per thread or more.
fn task_size(len: usize, min: usize) -> usize {
    len.div_ceil(rayon::current_num_threads()).max(min)
}

macro_rules! group_ops {
    (
        $sum:ident, $msm:ident, $msm_serial:ident, $affine:ty, $proj:ty,
        $is_inf:ident, $from_affine:ident, $add_or_double:ident, $mult:ident, $bulk_add:ident,
        $pippenger:ident, $scratch_sizeof:ident
    ) => {
        /// Sum of `points`, skipping points at infinity.
        pub fn $sum(points: &[$affine]) -> $proj {
            let finite: Vec<$affine> = points
                .iter()
                .filter(|p| !unsafe { $is_inf(&p.0) })
                .copied()
                .collect();
            finite
                .par_chunks(task_size(finite.len(), POINTS_PER_TASK))
                .map(|chunk| {
                    let mut sum = <$proj>::default();
                    let p = contiguous(<$affine>::raw_slice(chunk));
                    // SAFETY: `p` names `chunk.len()` contiguous, finite affine points.
                    unsafe { $bulk_add(&mut sum.0, p.as_ptr(), chunk.len()) };
                    sum
                })
                .reduce(<$proj>::default, |a, b| {
                    let mut sum = <$proj>::default();
                    // SAFETY: blst reads both inputs before writing the output.
                    unsafe { $add_or_double(&mut sum.0, &a.0, &b.0) };
                    sum
                })
        }

        /// Σ scalars[i]·points[i], skipping points at infinity.
        pub fn $msm(points: &[$affine], scalars: &Scalars) -> $proj {
            assert_eq!(points.len(), scalars.len(), "one scalar per point");
            let keep: Vec<usize> = (0..points.len())
                .filter(|&i| !unsafe { $is_inf(&points[i].0) })
                .collect();
            let finite: Vec<$affine> = keep.iter().map(|&i| points[i]).collect();
            let scalars = scalars.select(&keep);
            let width = scalars.width();
            let per_task = task_size(finite.len(), POINTS_PER_TASK);
            finite
                .par_chunks(per_task)
                .zip(scalars.as_bytes().par_chunks(per_task * width))
                .map(|(p, s)| $msm_serial(p, s, scalars.bits()))
                .reduce(<$proj>::default, |a, b| {
                    let mut sum = <$proj>::default();
                    // SAFETY: blst reads both inputs before writing the output.
                    unsafe { $add_or_double(&mut sum.0, &a.0, &b.0) };
                    sum
                })
        }

        /// One thread's MSM over finite points with packed `bits`-bit scalars.
        fn $msm_serial(points: &[$affine], scalars: &[u8], bits: usize) -> $proj {
            let width = bits.div_ceil(8);
            let mut acc = <$proj>::default();
            if points.len() < PIPPENGER_MIN_POINTS {
                for (point, scalar) in points.iter().zip(scalars.chunks_exact(width)) {
                    let mut p = <$proj>::default();
                    // SAFETY: `scalar` holds `width` bytes, enough for `bits` bits.
                    unsafe {
                        $from_affine(&mut p.0, &point.0);
                        $mult(&mut p.0, &p.0, scalar.as_ptr(), bits);
                        $add_or_double(&mut acc.0, &acc.0, &p.0);
                    }
                }
                return acc;
            }
            // SAFETY: pure size computation.
            let scratch_bytes = unsafe { $scratch_sizeof(points.len()) };
            let mut scratch = vec![0 as limb_t; scratch_bytes.div_ceil(size_of::<limb_t>())];
            let p = contiguous(<$affine>::raw_slice(points));
            let s = contiguous(scalars);
            // SAFETY: `points.len()` points and as many `width`-byte scalars are contiguous,
            // and the scratch buffer has the size blst asked for.
            unsafe {
                $pippenger(
                    &mut acc.0,
                    p.as_ptr(),
                    points.len(),
                    s.as_ptr(),
                    bits,
                    scratch.as_mut_ptr(),
                )
            };
            acc
        }
    };
}

group_ops!(
    g1_sum,
    g1_msm,
    g1_msm_serial,
    G1Affine,
    G1,
    blst_p1_affine_is_inf,
    blst_p1_from_affine,
    blst_p1_add_or_double,
    blst_p1_mult,
    blst_p1s_add,
    blst_p1s_mult_pippenger,
    blst_p1s_mult_pippenger_scratch_sizeof
);

group_ops!(
    g2_sum,
    g2_msm,
    g2_msm_serial,
    G2Affine,
    G2,
    blst_p2_affine_is_inf,
    blst_p2_from_affine,
    blst_p2_add_or_double,
    blst_p2_mult,
    blst_p2s_add,
    blst_p2s_mult_pippenger,
    blst_p2s_mult_pippenger_scratch_sizeof
);

/// scalars[i]·points[i] for each i, in affine form (one field inversion per task, not
/// per point: an inversion costs as much as a 64-bit scalar multiplication).
pub fn g1_scale(points: &[G1Affine], scalars: &Scalars) -> Vec<G1Affine> {
    assert_eq!(points.len(), scalars.len(), "one scalar per point");
    let per_task = task_size(points.len(), POINTS_PER_TASK / 4);
    let width = scalars.width();
    points
        .par_chunks(per_task)
        .zip(scalars.as_bytes().par_chunks(per_task * width))
        .flat_map_iter(|(points, scalars_bytes)| {
            let projective: Vec<G1> = points
                .iter()
                .zip(scalars_bytes.chunks_exact(width))
                .map(|(point, scalar)| {
                    let mut p = G1::default();
                    // SAFETY: `scalar` holds enough bytes for `scalars.bits()` bits.
                    unsafe {
                        blst_p1_from_affine(&mut p.0, &point.0);
                        blst_p1_mult(&mut p.0, &p.0, scalar.as_ptr(), scalars.bits());
                    }
                    p
                })
                .collect();
            crate::curves::bls12_381::p1s_to_affine_serial(&projective)
        })
        .collect()
}

/// hash_to_curve (RFC 9380, BLS12381G2_XMD:SHA-256_SSWU_RO_) of each message.
pub fn hash_to_g2(messages: &[&[u8]], dst: &[u8]) -> Vec<G2Affine> {
    messages
        .par_iter()
        .map(|msg| p2_affine(&g2_hash(msg, dst)))
        .collect()
}

pub fn multi_miller_loop(g1: &[G1Affine], g2: &[G2Affine]) -> Fp12 {
    assert_eq!(
        g1.len(),
        g2.len(),
        "pairs need one G1 and one G2 point each"
    );
    let (ps, qs): (Vec<G1Affine>, Vec<G2Affine>) = g1
        .iter()
        .zip(g2)
        .filter(|(p, q)| unsafe { !blst_p1_affine_is_inf(&p.0) && !blst_p2_affine_is_inf(&q.0) })
        .map(|(p, q)| (*p, *q))
        .unzip();
    let per_task = task_size(ps.len(), PAIRS_PER_TASK);
    ps.par_chunks(per_task)
        .zip(qs.par_chunks(per_task))
        .map(|(p, q)| {
            let mut f = Fp12::default();
            let pp = contiguous(G1Affine::raw_slice(p));
            let qq = contiguous(G2Affine::raw_slice(q));
            // SAFETY: `p.len()` contiguous finite pairs.
            unsafe { blst_miller_loop_n(&mut f.0, qq.as_ptr(), pp.as_ptr(), p.len()) };
            f
        })
        .reduce(fp12_one, |a, b| {
            let mut f = Fp12::default();
            // SAFETY: blst reads both inputs before writing the output.
            unsafe { blst_fp12_mul(&mut f.0, &a.0, &b.0) };
            f
        })
}

/// Whether the final exponentiation of `f` is one.
pub fn final_exp_is_one(f: &Fp12) -> bool {
    let mut out = blst_fp12::default();
    // SAFETY: plain value computation.
    unsafe {
        blst_final_exp(&mut out, &f.0);
        blst_fp12_is_one(&out)
    }
}

fn fp12_one() -> Fp12 {
    // SAFETY: blst_fp12_one returns a pointer to a static constant.
    Fp12(unsafe { *blst_fp12_one() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// k·g1 for small k, from the generator.
    fn g1_points(n: usize) -> Vec<G1Affine> {
        let mut acc = blst_p1::default();
        (0..n)
            .map(|_| {
                // SAFETY: plain group operations on owned values.
                unsafe {
                    blst_p1_add_or_double(&mut acc, &acc, blst_p1_generator());
                    let mut a = blst_p1_affine::default();
                    blst_p1_to_affine(&mut a, &acc);
                    G1Affine(a)
                }
            })
            .collect()
    }

    fn g2_points(n: usize) -> Vec<G2Affine> {
        let mut acc = blst_p2::default();
        (0..n)
            .map(|_| unsafe {
                blst_p2_add_or_double(&mut acc, &acc, blst_p2_generator());
                let mut a = blst_p2_affine::default();
                blst_p2_to_affine(&mut a, &acc);
                G2Affine(a)
            })
            .collect()
    }

    /// Σ s_i·P_i one multiplication at a time: the reference for the MSMs.
    fn naive_g1(points: &[G1Affine], scalars: &Scalars) -> G1Affine {
        let mut acc = blst_p1::default();
        for (i, p) in points.iter().enumerate() {
            unsafe {
                let mut q = blst_p1::default();
                blst_p1_from_affine(&mut q, &p.0);
                blst_p1_mult(&mut q, &q, scalars.get(i).as_ptr(), scalars.bits());
                blst_p1_add_or_double(&mut acc, &acc, &q);
            }
        }
        crate::curves::bls12_381::p1_affine(&G1(acc))
    }

    fn naive_g2(points: &[G2Affine], scalars: &Scalars) -> G2Affine {
        let mut acc = blst_p2::default();
        for (i, p) in points.iter().enumerate() {
            unsafe {
                let mut q = blst_p2::default();
                blst_p2_from_affine(&mut q, &p.0);
                blst_p2_mult(&mut q, &q, scalars.get(i).as_ptr(), scalars.bits());
                blst_p2_add_or_double(&mut acc, &acc, &q);
            }
        }
        crate::curves::bls12_381::p2_affine(&G2(acc))
    }

    /// Scalars with the edge values 0, 1 and all-ones among pseudo-random ones.
    fn scalars64(n: usize) -> Scalars {
        let mut x = 0x1234_5678_9abc_def0u64;
        let values: Vec<u64> = (0..n)
            .map(|i| match i % 7 {
                0 => 0,
                1 => 1,
                2 => u64::MAX,
                _ => {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    x
                }
            })
            .collect();
        Scalars::from_u64s(&values)
    }

    #[test]
    fn msms_match_one_multiplication_at_a_time() {
        for n in [0, 1, 7, 8, 9, 100, 1500] {
            let mut g1 = g1_points(n);
            let mut g2 = g2_points(n);
            if n > 3 {
                g1[3] = G1Affine::default(); // infinity
                g2[3] = G2Affine::default();
            }
            let s = scalars64(n);
            assert_eq!(
                crate::curves::bls12_381::p1_affine(&g1_msm(&g1, &s)),
                naive_g1(&g1, &s),
                "g1, n = {n}"
            );
            assert_eq!(
                crate::curves::bls12_381::p2_affine(&g2_msm(&g2, &s)),
                naive_g2(&g2, &s),
                "g2, n = {n}"
            );
            let wide: Vec<[u8; 32]> = (0..n)
                .map(|i| {
                    let mut b = [0u8; 32];
                    b[..8].copy_from_slice(&(i as u64 * 0x9e37_79b9).to_le_bytes());
                    b[31] = 0x73; // close to r's size
                    b
                })
                .collect();
            let s = Scalars::from_fr_le(&wide);
            assert_eq!(
                crate::curves::bls12_381::p1_affine(&g1_msm(&g1, &s)),
                naive_g1(&g1, &s),
                "g1 255-bit, n = {n}"
            );
        }
    }

    #[test]
    fn sums_and_scaling_match_the_msm() {
        for n in [0, 1, 5, 3000] {
            let g1 = g1_points(n);
            let g2 = g2_points(n);
            let ones = Scalars::from_u64s(&vec![1; n]);
            assert_eq!(
                crate::curves::bls12_381::p1_affine(&g1_sum(&g1)),
                naive_g1(&g1, &ones),
                "n = {n}"
            );
            assert_eq!(
                crate::curves::bls12_381::p2_affine(&g2_sum(&g2)),
                naive_g2(&g2, &ones),
                "n = {n}"
            );
            let s = scalars64(n);
            let scaled = g1_scale(&g1, &s);
            for (i, p) in scaled.iter().enumerate() {
                assert_eq!(
                    *p,
                    naive_g1(&g1[i..=i], &s.select(&[i])),
                    "n = {n}, i = {i}"
                );
            }
        }
    }

    #[test]
    fn miller_loop_skips_infinity_and_matches_the_product() {
        let g1 = g1_points(40);
        let g2 = g2_points(40);
        let whole = multi_miller_loop(&g1, &g2);
        let mut product = fp12_one();
        for i in 0..40 {
            let f = multi_miller_loop(&g1[i..=i], &g2[i..=i]);
            unsafe { blst_fp12_mul(&mut product.0, &product.0, &f.0) };
        }
        // Miller loop values are defined up to final exponentiation.
        let (mut a, mut b) = (blst_fp12::default(), blst_fp12::default());
        unsafe {
            blst_final_exp(&mut a, &whole.0);
            blst_final_exp(&mut b, &product.0);
            assert!(blst_fp12_is_equal(&a, &b));
        }
        let mut with_infinity = g1.clone();
        with_infinity.push(G1Affine::default());
        let mut g2_more = g2.clone();
        g2_more.push(g2[0]);
        let f = multi_miller_loop(&with_infinity, &g2_more);
        unsafe {
            blst_final_exp(&mut b, &f.0);
            assert!(blst_fp12_is_equal(&a, &b));
        }
        assert!(final_exp_is_one(&multi_miller_loop(&[], &[])));
    }
}
