//! Differential tests of every kernel against the CPU (blst, sha2), on whatever adapter
//! wgpu finds: lavapipe where there is no GPU. With CI=true a missing adapter fails the
//! test; elsewhere the test says it was skipped.

use crate::curves::bls12_381::{G1, G1Affine, G2, G2Affine};
use std::sync::OnceLock;

use blst::*;
use sha2::{Digest, Sha256};
use veribatch_kernels::wgsl::{self, Entry};

use super::convert::{Curve, FP_WORDS, fp_from_words, fp_words};
use super::device::Gpu;
use super::{WgpuBackend, hash};
use crate::backend::Backend;
use crate::backend::Thresholds;
use crate::backend::binary_tree::TreeHash;
use crate::backend::cpu::CpuBackend;
use crate::curves::bls12_381::{g1_hash, g2_hash};
use crate::selftest::inputs::Rng;
use crate::selftest::{self, Agreement, Level, Primitive, ScalarKind};

/// The shared device, or `None` (after saying so) when this machine has no adapter.
fn gpu() -> Option<&'static Gpu> {
    static GPU: OnceLock<Option<Gpu>> = OnceLock::new();
    GPU.get_or_init(|| match Gpu::open(false) {
        Ok(gpu) => Some(gpu),
        Err(error) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true and {error}: install mesa-vulkan-drivers (ci/test.sh does)"
            );
            eprintln!("SKIPPED: {error}; install mesa-vulkan-drivers to run the wgpu tests");
            None
        }
    })
    .as_ref()
}

macro_rules! require_gpu {
    () => {
        match gpu() {
            Some(gpu) => gpu,
            None => return,
        }
    };
}

/// p - 1 and p's limbs, canonical.
const P_MINUS_1: [u64; 6] = [
    0xb9fe_ffff_ffff_aaaa,
    0x1eab_fffe_b153_ffff,
    0x6730_d2a0_f6b0_f624,
    0x6477_4b84_f385_12bf,
    0x4b1b_a7b6_434b_acd7,
    0x1a01_11ea_397f_e69a,
];

fn fp_from_u64s(limbs: &[u64; 6]) -> blst_fp {
    let mut x = blst_fp::default();
    unsafe { blst_fp_from_uint64(&mut x, limbs.as_ptr()) };
    x
}

/// Random elements below p, and the edge cases: 0, 1, p - 1, 2^380 and values above it.
fn field_samples(rng: &mut Rng, random: usize) -> Vec<blst_fp> {
    let mut values = vec![
        fp_from_u64s(&[0; 6]),
        fp_from_u64s(&[1, 0, 0, 0, 0, 0]),
        fp_from_u64s(&P_MINUS_1),
        fp_from_u64s(&[0, 0, 0, 0, 0, 1 << 60]),
        fp_from_u64s(&[
            u64::MAX,
            u64::MAX,
            u64::MAX,
            u64::MAX,
            u64::MAX,
            0x1a01_11ea_397f_e699,
        ]),
        fp_from_u64s(&[2, 0, 0, 0, 0, 0]),
    ];
    for _ in 0..random {
        let mut limbs = [0u64; 6];
        for l in &mut limbs {
            *l = rng.next_u64();
        }
        limbs[5] &= 0x0fff_ffff_ffff_ffff;
        if rng.next_u64().is_multiple_of(2) {
            limbs[5] |= 1 << 60; // at or above 2^380
            limbs[5] &= 0x19ff_ffff_ffff_ffff;
        }
        values.push(fp_from_u64s(&limbs));
    }
    values
}

fn fp_eq(a: &blst_fp, b: &blst_fp) -> bool {
    a.l == b.l
}

/// Runs `entry` of the fields module over operand pairs given as words.
fn run_field_op(gpu: &Gpu, entry: Entry, op: u32, a: &[u32], b: &[u32], width: usize) -> Vec<u32> {
    let count = (a.len() / width) as u32;
    gpu.run(|job| {
        let a_buffer = job.upload(a);
        let b_buffer = job.upload(b);
        let out = job.output(a.len());
        job.dispatch(
            &wgsl::FIELDS,
            entry,
            [count, op, 0, 0],
            [Some(a_buffer), Some(b_buffer), None],
            out,
            count,
        );
        job.read(out, a.len())
    })
    .expect("field kernel runs")
}

type FpOp = fn(&blst_fp, &blst_fp) -> blst_fp;

#[test]
fn fp_operations_match_blst() {
    let gpu = require_gpu!();
    let mut rng = Rng::new(1);
    let xs = field_samples(&mut rng, 200);
    let mut ys = field_samples(&mut rng, 200);
    ys.rotate_left(3);
    let ops: [(u32, &str, FpOp); 6] = [
        (0, "mul", |a, b| {
            let mut r = blst_fp::default();
            unsafe { blst_fp_mul(&mut r, a, b) };
            r
        }),
        (1, "add", |a, b| {
            let mut r = blst_fp::default();
            unsafe { blst_fp_add(&mut r, a, b) };
            r
        }),
        (2, "sub", |a, b| {
            let mut r = blst_fp::default();
            unsafe { blst_fp_sub(&mut r, a, b) };
            r
        }),
        (3, "square", |a, _| {
            let mut r = blst_fp::default();
            unsafe { blst_fp_sqr(&mut r, a) };
            r
        }),
        (4, "inverse", |a, _| {
            let mut r = blst_fp::default();
            unsafe { blst_fp_inverse(&mut r, a) };
            r
        }),
        (5, "negation", |a, _| {
            let mut r = blst_fp::default();
            unsafe { blst_fp_cneg(&mut r, a, true) };
            r
        }),
    ];
    let mut a_words = Vec::new();
    let mut b_words = Vec::new();
    for (a, b) in xs.iter().zip(&ys) {
        fp_words(a, &mut a_words);
        fp_words(b, &mut b_words);
    }
    for (op, name, reference) in ops {
        let out = run_field_op(gpu, Entry::FpOps, op, &a_words, &b_words, FP_WORDS);
        for (i, (a, b)) in xs.iter().zip(&ys).enumerate() {
            let got = fp_from_words(&out[i * FP_WORDS..(i + 1) * FP_WORDS]);
            assert!(fp_eq(&got, &reference(a, b)), "Fp {name} of sample {i}");
        }
    }
}

type Fp2Op = fn(&blst_fp2, &blst_fp2) -> blst_fp2;

#[test]
fn fp2_operations_match_blst() {
    let gpu = require_gpu!();
    let mut rng = Rng::new(2);
    let c0 = field_samples(&mut rng, 100);
    let c1 = field_samples(&mut rng, 100);
    let n = c0.len();
    // Every edge value meets every edge value in some element.
    let xs: Vec<blst_fp2> = (0..n)
        .map(|i| blst_fp2 {
            fp: [c0[i], c1[(i * 7) % n]],
        })
        .collect();
    let ys: Vec<blst_fp2> = (0..n)
        .map(|i| blst_fp2 {
            fp: [c1[i], c0[(i + 5) % n]],
        })
        .collect();
    let ops: [(u32, &str, Fp2Op); 6] = [
        (0, "mul", |a, b| {
            let mut r = blst_fp2::default();
            unsafe { blst_fp2_mul(&mut r, a, b) };
            r
        }),
        (1, "add", |a, b| {
            let mut r = blst_fp2::default();
            unsafe { blst_fp2_add(&mut r, a, b) };
            r
        }),
        (2, "sub", |a, b| {
            let mut r = blst_fp2::default();
            unsafe { blst_fp2_sub(&mut r, a, b) };
            r
        }),
        (3, "square", |a, _| {
            let mut r = blst_fp2::default();
            unsafe { blst_fp2_sqr(&mut r, a) };
            r
        }),
        (4, "inverse", |a, _| {
            let mut r = blst_fp2::default();
            unsafe { blst_fp2_inverse(&mut r, a) };
            r
        }),
        (5, "negation", |a, _| {
            let mut r = blst_fp2::default();
            unsafe { blst_fp2_cneg(&mut r, a, true) };
            r
        }),
    ];
    let mut a_words = Vec::new();
    let mut b_words = Vec::new();
    for (a, b) in xs.iter().zip(&ys) {
        for c in &a.fp {
            fp_words(c, &mut a_words);
        }
        for c in &b.fp {
            fp_words(c, &mut b_words);
        }
    }
    for (op, name, reference) in ops {
        let out = run_field_op(gpu, Entry::Fp2Ops, op, &a_words, &b_words, 2 * FP_WORDS);
        for (i, (a, b)) in xs.iter().zip(&ys).enumerate() {
            let at = i * 2 * FP_WORDS;
            let expected = reference(a, b);
            let got = [
                fp_from_words(&out[at..at + FP_WORDS]),
                fp_from_words(&out[at + FP_WORDS..at + 2 * FP_WORDS]),
            ];
            assert!(
                fp_eq(&got[0], &expected.fp[0]) && fp_eq(&got[1], &expected.fp[1]),
                "Fp2 {name} of sample {i}"
            );
        }
    }
}

fn random_g1(rng: &mut Rng) -> G1 {
    g1_hash(&rng.next_u64().to_le_bytes(), b"T")
}

fn random_g2(rng: &mut Rng) -> G2 {
    g2_hash(&rng.next_u64().to_le_bytes(), b"T")
}

/// Host-side helpers the point tests need for both curves.
trait TestCurve: Curve {
    fn random(rng: &mut Rng) -> Self::Point;
    fn to_affine(p: &Self::Point) -> Self::Affine;
    fn neg(p: &Self::Point) -> Self::Point;
    /// Projective device words (X : Y : Z) of `p` with Z = λ, or the identity (0 : 1 : 0).
    fn projective_words(p: &Self::Point, lambda: &blst_fp, out: &mut Vec<u32>);
}

fn one() -> blst_fp {
    fp_from_u64s(&[1, 0, 0, 0, 0, 0])
}

fn fp_mul(a: &blst_fp, b: &blst_fp) -> blst_fp {
    let mut r = blst_fp::default();
    unsafe { blst_fp_mul(&mut r, a, b) };
    r
}

impl TestCurve for G1 {
    fn random(rng: &mut Rng) -> G1 {
        random_g1(rng)
    }
    fn to_affine(p: &G1) -> G1Affine {
        let mut a = G1Affine::default();
        unsafe { blst_p1_to_affine(&mut a.0, &p.0) };
        a
    }
    fn neg(p: &G1) -> G1 {
        let mut r = *p;
        unsafe { blst_p1_cneg(&mut r.0, true) };
        r
    }
    fn projective_words(p: &G1, lambda: &blst_fp, out: &mut Vec<u32>) {
        if unsafe { blst_p1_is_inf(&p.0) } {
            fp_words(&blst_fp::default(), out);
            fp_words(&one(), out);
            fp_words(&blst_fp::default(), out);
            return;
        }
        let a = Self::to_affine(p);
        fp_words(&fp_mul(&a.0.x, lambda), out);
        fp_words(&fp_mul(&a.0.y, lambda), out);
        fp_words(lambda, out);
    }
}

impl TestCurve for G2 {
    fn random(rng: &mut Rng) -> G2 {
        random_g2(rng)
    }
    fn to_affine(p: &G2) -> G2Affine {
        let mut a = G2Affine::default();
        unsafe { blst_p2_to_affine(&mut a.0, &p.0) };
        a
    }
    fn neg(p: &G2) -> G2 {
        let mut r = *p;
        unsafe { blst_p2_cneg(&mut r.0, true) };
        r
    }
    fn projective_words(p: &G2, lambda: &blst_fp, out: &mut Vec<u32>) {
        let zero = blst_fp::default();
        if unsafe { blst_p2_is_inf(&p.0) } {
            for c in [&zero, &zero, &one(), &zero, &zero, &zero] {
                fp_words(c, out);
            }
            return;
        }
        let a = Self::to_affine(p);
        for c in [&a.0.x.fp[0], &a.0.x.fp[1], &a.0.y.fp[0], &a.0.y.fp[1]] {
            fp_words(&fp_mul(c, lambda), out);
        }
        fp_words(lambda, out);
        fp_words(&zero, out);
    }
}

/// Additions and doublings of random points (with random Z), P + P, P + (-P), and the
/// identity on either side.
fn point_ops_match<C: TestCurve>() {
    let gpu = require_gpu!();
    let mut rng = Rng::new(3);
    let identity = C::Point::default();
    let mut pairs: Vec<(C::Point, C::Point)> = Vec::new();
    for _ in 0..24 {
        let p = C::random(&mut rng);
        let q = C::random(&mut rng);
        pairs.push((p, q));
        pairs.push((p, p));
        pairs.push((p, C::neg(&p)));
        pairs.push((p, identity));
        pairs.push((identity, q));
    }
    pairs.push((identity, identity));
    let lambdas = field_samples(&mut rng, pairs.len());
    let mut a_words = Vec::new();
    let mut b_words = Vec::new();
    for (i, (p, q)) in pairs.iter().enumerate() {
        // Z = λ must not be zero for a finite point: the samples start with 0, skip it.
        C::projective_words(p, &lambdas[1 + i % (lambdas.len() - 1)], &mut a_words);
        C::projective_words(q, &lambdas[1 + (i + 1) % (lambdas.len() - 1)], &mut b_words);
    }
    let width = 3 * C::FIELD_WORDS;
    let count = pairs.len() as u32;
    for (op, name) in [(0u32, "add"), (1, "double")] {
        let out = gpu
            .run(|job| {
                let a = job.upload(&a_words);
                let b = job.upload(&b_words);
                let out = job.output(pairs.len() * width);
                job.dispatch(
                    &C::MODULE,
                    Entry::PointOps,
                    [count, op, 0, 0],
                    [Some(a), Some(b), None],
                    out,
                    count,
                );
                job.read(out, pairs.len() * width)
            })
            .expect("point kernel runs");
        for (i, (p, q)) in pairs.iter().enumerate() {
            let got = C::point_from_words(&out[i * width..(i + 1) * width]);
            let expected = if op == 0 { C::add(p, q) } else { C::double(p) };
            assert!(got == expected, "{} {name} of pair {i}", C::MODULE.name);
        }
    }
}

#[test]
fn g1_point_operations_match_blst() {
    point_ops_match::<G1>();
}

#[test]
fn g2_point_operations_match_blst() {
    point_ops_match::<G2>();
}

/// Every case of the selftest's list for `primitive` (the quick level: the sizes a
/// software adapter runs in CI) agrees with the CPU.
fn selftest_cases_match(primitive: Primitive) {
    let gpu = require_gpu!();
    let differing: Vec<String> = selftest::cases(Level::Quick)
        .iter()
        .filter(|case| case.primitive == primitive)
        .map(|case| selftest::check(gpu, case, None))
        .filter(|checked| checked.agreement != Agreement::Same)
        .map(|checked| format!("{}: {:?}", checked.case, checked.agreement))
        .collect();
    assert!(differing.is_empty(), "{}", differing.join("\n"));
}

#[test]
fn sha256_of_blocks_matches_the_cpu() {
    selftest_cases_match(Primitive::Sha256);
}

#[test]
fn merkle_roots_match_the_cpu() {
    selftest_cases_match(Primitive::MerkleRoot);
}

#[test]
fn log_leaf_hashes_match_the_cpu() {
    selftest_cases_match(Primitive::LogLeaves);
}

#[test]
fn sm3_of_blocks_matches_the_cpu() {
    selftest_cases_match(Primitive::Sm3);
}

#[test]
fn sm3_merkle_roots_match_the_cpu() {
    selftest_cases_match(Primitive::Sm3Root);
}

/// The SM3 kernel on GB/T 32905's second example, "abcd" sixteen times: 64 bytes, the
/// shape of a Merkle node.
#[test]
fn the_sm3_kernel_hashes_the_standards_64_byte_example() {
    let gpu = require_gpu!();
    let mut digest = [0u8; 32];
    hash::hash_blocks(gpu, TreeHash::Sm3, &b"abcd".repeat(16), &mut digest).unwrap();
    assert_eq!(
        hex::encode(digest),
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    );
}

#[test]
fn log_subtrees_match_the_cpu() {
    selftest_cases_match(Primitive::LogSubtree);
}

/// Through the routing: a transparency-log primitive's first calls are spot-checked
/// however many SHA-256 calls came before (each primitive counts its own calls), and a
/// call with a long leaf stays on the CPU.
#[test]
fn log_primitives_are_checked_on_their_own_and_long_leaves_stay_on_the_cpu() {
    require_gpu!();
    let backend =
        WgpuBackend::open(false, Thresholds::ALWAYS, Default::default()).expect("adapter");
    let mut digests = [0u8; 32];
    for _ in 0..100 {
        backend.hash_blocks(&[7u8; 64], &mut digests);
    }
    let checked = || backend.device_health().expect("a device").spot_checks;
    let before = checked();
    let short = crate::backend::PackedLeaves::of(&[vec![1u8; 100], vec![]]);
    let cpu = CpuBackend::new();
    assert_eq!(backend.log_leaf_hashes(&short), cpu.log_leaf_hashes(&short));
    assert_eq!(
        checked(),
        before + 1,
        "the first log_leaves call is checked"
    );
    let hashes = cpu.log_leaf_hashes(&short);
    assert_eq!(
        backend.log_subtree_root(&hashes),
        cpu.log_subtree_root(&hashes)
    );
    assert_eq!(
        checked(),
        before + 2,
        "the first log_subtree call is checked"
    );
    let long = crate::backend::PackedLeaves::of(&[vec![1u8; 5000]]);
    assert_eq!(backend.log_leaf_hashes(&long), cpu.log_leaf_hashes(&long));
    assert_eq!(
        checked(),
        before + 2,
        "a long leaf is hashed on the CPU alone"
    );
}

#[test]
fn g1_sums_match_the_cpu() {
    selftest_cases_match(Primitive::G1Sum);
}

#[test]
fn g2_sums_match_the_cpu() {
    selftest_cases_match(Primitive::G2Sum);
}

#[test]
fn g1_msms_match_the_cpu() {
    selftest_cases_match(Primitive::G1Msm);
}

#[test]
fn g2_msms_match_the_cpu() {
    selftest_cases_match(Primitive::G2Msm);
}

#[test]
fn g1_scaling_matches_the_cpu() {
    selftest_cases_match(Primitive::G1Scale);
}

/// A spoiled primitive is caught, named by the case, with the first differing output.
#[test]
fn a_spoiled_primitive_is_reported_as_differing() {
    let gpu = require_gpu!();
    let case = selftest::cases(Level::Quick)
        .into_iter()
        .find(|c| c.primitive == Primitive::G1Msm && c.size == 100)
        .expect("a case");
    let checked = selftest::check(gpu, &case, Some(Primitive::G1Msm));
    assert!(
        matches!(checked.agreement, Agreement::Differs { index: 0, .. }),
        "{:?}",
        checked.agreement
    );
    let other = selftest::check(gpu, &case, Some(Primitive::G2Msm));
    assert_eq!(other.agreement, Agreement::Same);
}

/// The backend's routing: forced onto the device, its primitives agree with the CPU.
#[test]
fn the_forced_backend_matches_the_cpu() {
    if gpu().is_none() {
        return;
    }
    let backend =
        WgpuBackend::open(false, Thresholds::ALWAYS, Default::default()).expect("adapter");
    let cpu = CpuBackend::new();
    let mut rng = Rng::new(10);
    let points = selftest::g1_points(50, &mut rng);
    assert_eq!(backend.g1_sum(&points), cpu.g1_sum(&points));
    let small = ScalarKind::U64.scalars(50, &mut rng);
    assert_eq!(backend.g1_msm(&points, &small), cpu.g1_msm(&points, &small));
    let blocks: Vec<u8> = (0..64 * 10).map(|i| i as u8).collect();
    let (mut a, mut b) = (vec![0u8; 320], vec![0u8; 320]);
    backend.hash_blocks(&blocks, &mut a);
    cpu.hash_blocks(&blocks, &mut b);
    assert_eq!(a, b);
}

#[test]
#[ignore = "prints how long the adapter takes to compile each pipeline"]
fn pipeline_compile_times() {
    let gpu = require_gpu!();
    for module in veribatch_kernels::wgsl::MODULES {
        for &entry in module.entry_points {
            let start = std::time::Instant::now();
            gpu.compile(&module, entry);
            eprintln!("{} {}: {:?}", module.name, entry.name(), start.elapsed());
        }
    }
}

/// A device error (here a binding over the adapter's limit) comes back as an error, never
/// a panic; the backend then answers from the CPU.
#[test]
fn device_errors_are_errors_and_fall_back_to_the_cpu() {
    let gpu = require_gpu!();
    let too_big = gpu.max_binding_words() + 1024;
    let result = gpu.run(|job| {
        let input = job.output(too_big);
        let out = job.output(8);
        job.dispatch(
            &wgsl::SHA256,
            Entry::MerkleLevel,
            [2, 0, 0, 0],
            [Some(input), Some(input), None],
            out,
            1,
        );
        job.read(out, 8)
    });
    assert!(
        matches!(result, Err(super::GpuError::Validation(_))),
        "{result:?}"
    );
    // The device still works afterwards.
    let mut digest = [0u8; 32];
    hash::hash_blocks(gpu, TreeHash::Sha256, &[7u8; 64], &mut digest).expect("later jobs run");
    assert_eq!(digest.as_slice(), Sha256::digest([7u8; 64]).as_slice());

    let backend =
        WgpuBackend::open(false, Thresholds::ALWAYS, Default::default()).expect("adapter");
    let answer = backend.route(
        "merkle_root",
        1,
        0,
        |_: &[u8; 32]| true,
        || (),
        |_, ()| Err(super::GpuError::OutOfMemory),
        |_| [42u8; 32],
    );
    assert_eq!(answer, [42u8; 32]);
    assert_eq!(backend.device_health().map(|h| h.fallbacks), Some(1));
}
