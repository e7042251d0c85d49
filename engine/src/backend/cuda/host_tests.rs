//! The CUDA kernels' arithmetic, tested without a GPU: the `__host__ __device__`
//! headers of `kernels/cuda` are compiled by the system C++ compiler (found by the cc
//! crate) into `cuda/test/driver.cpp`, a process that reads operations on stdin and
//! answers on stdout; every answer is checked against blst and sha2. What runs on the GPU
//! is the same source, so only the launch code in `kernels.cu` is left untested here.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use blst::*;
use sha2::{Digest, Sha256};

use crate::backend::cpu::CpuBackend;
use crate::backend::gpu::msm_plan::{BucketPlan, window_bits};
use crate::backend::{Backend, Scalars};
use crate::curves::bls12_381::{G1, G1Affine, G2, G2Affine};
use crate::selftest::inputs::{self, Rng};

/// The driver, compiled once per test process.
fn driver() -> &'static PathBuf {
    static DRIVER: OnceLock<PathBuf> = OnceLock::new();
    DRIVER.get_or_init(|| {
        let out =
            std::env::temp_dir().join(format!("veribatch-cuda-driver-{}", std::process::id()));
        let (arch, os) = (std::env::consts::ARCH, std::env::consts::OS);
        let target = match os {
            "macos" => format!("{arch}-apple-darwin"),
            _ => format!("{arch}-unknown-{os}-gnu"),
        };
        let compiler = cc::Build::new()
            .cpp(true)
            .target(&target)
            .host(&target)
            .opt_level(2)
            .cargo_metadata(false)
            .get_compiler();
        let status = compiler
            .to_command()
            .args(["-std=c++17", "-I", veribatch_kernels::cuda::DIR])
            .arg(veribatch_kernels::cuda::TEST_DRIVER)
            .arg("-o")
            .arg(&out)
            .status()
            .expect("a C++ compiler runs (ci/test.sh installs g++)");
        assert!(status.success(), "the CUDA headers compile on the host");
        out
    })
}

/// Runs `lines` through the driver; one answer per line.
fn run(lines: &[String]) -> Vec<String> {
    let mut child = Command::new(driver())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the driver runs");
    let mut stdin = child.stdin.take().expect("piped");
    let input = lines.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("the driver finishes");
    writer.join().expect("writer").expect("stdin written");
    assert!(output.status.success(), "the driver exits cleanly");
    let answers: Vec<String> = String::from_utf8(output.stdout)
        .expect("text")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(answers.len(), lines.len(), "one answer per line");
    answers
}

fn bytes_of<T>(value: &T) -> &[u8] {
    // SAFETY: only used on blst's #[repr(C)] limb arrays, which have no padding.
    unsafe {
        std::slice::from_raw_parts((value as *const T).cast::<u8>(), std::mem::size_of::<T>())
    }
}

fn hex_of<T>(values: &[T]) -> String {
    if values.is_empty() {
        return "-".into();
    }
    values.iter().map(|v| hex::encode(bytes_of(v))).collect()
}

fn random_fp(rng: &mut Rng) -> blst_fp {
    let mut bytes: [u8; 48] = rng.bytes(48).try_into().expect("48");
    bytes[0] &= 0x0f; // below p
    let mut x = blst_fp::default();
    // SAFETY: 48 bytes in, one element out.
    unsafe { blst_fp_from_bendian(&mut x, bytes.as_ptr()) };
    x
}

/// 0, 1, p − 1, 2, and random elements.
fn fps(rng: &mut Rng, n: usize) -> Vec<blst_fp> {
    let mut one = blst_fp::default();
    let mut minus_one = blst_fp::default();
    let mut two = blst_fp::default();
    // SAFETY: conversions and negation of valid elements.
    unsafe {
        blst_fp_from_uint64(&mut one, [1u64, 0, 0, 0, 0, 0].as_ptr());
        blst_fp_cneg(&mut minus_one, &one, true);
        blst_fp_add(&mut two, &one, &one);
    }
    let mut out = vec![blst_fp::default(), one, minus_one, two];
    out.extend((0..n).map(|_| random_fp(rng)));
    out
}

#[test]
fn fp_operations_match_blst() {
    let mut rng = Rng::new(1);
    let values = fps(&mut rng, 60);
    let mut lines = Vec::new();
    let mut expected = Vec::new();
    for (i, a) in values.iter().enumerate() {
        let b = &values[(i * 7 + 3) % values.len()];
        let mut out = [blst_fp::default(); 6];
        // SAFETY: field operations on valid elements.
        unsafe {
            blst_fp_mul(&mut out[0], a, b);
            blst_fp_add(&mut out[1], a, b);
            blst_fp_sub(&mut out[2], a, b);
            blst_fp_sqr(&mut out[3], a);
            blst_fp_inverse(&mut out[4], a);
            blst_fp_cneg(&mut out[5], a, true);
        }
        let (ha, hb) = (hex_of(&[*a]), hex_of(&[*b]));
        for (op, args, result) in [
            ("fp_mul", format!("{ha} {hb}"), out[0]),
            ("fp_add", format!("{ha} {hb}"), out[1]),
            ("fp_sub", format!("{ha} {hb}"), out[2]),
            ("fp_sqr", ha.clone(), out[3]),
            ("fp_inv", ha.clone(), out[4]),
            ("fp_neg", ha.clone(), out[5]),
        ] {
            lines.push(format!("{op} {args}"));
            expected.push(hex_of(&[result]));
        }
    }
    let answers = run(&lines);
    for ((line, answer), want) in lines.iter().zip(&answers).zip(&expected) {
        assert_eq!(answer, want, "{line}");
    }
}

#[test]
fn fp2_operations_match_blst() {
    let mut rng = Rng::new(2);
    let parts = fps(&mut rng, 80);
    let values: Vec<blst_fp2> = (0..parts.len())
        .map(|i| blst_fp2 {
            fp: [parts[i], parts[(i * 5 + 1) % parts.len()]],
        })
        .chain([blst_fp2::default()])
        .collect();
    let mut lines = Vec::new();
    let mut expected = Vec::new();
    for (i, a) in values.iter().enumerate() {
        let b = &values[(i * 3 + 2) % values.len()];
        let mut out = [blst_fp2::default(); 6];
        // SAFETY: field operations on valid elements.
        unsafe {
            blst_fp2_mul(&mut out[0], a, b);
            blst_fp2_add(&mut out[1], a, b);
            blst_fp2_sub(&mut out[2], a, b);
            blst_fp2_sqr(&mut out[3], a);
            blst_fp2_inverse(&mut out[4], a);
            blst_fp2_cneg(&mut out[5], a, true);
        }
        let (ha, hb) = (hex_of(&[*a]), hex_of(&[*b]));
        for (op, args, result) in [
            ("fp2_mul", format!("{ha} {hb}"), out[0]),
            ("fp2_add", format!("{ha} {hb}"), out[1]),
            ("fp2_sub", format!("{ha} {hb}"), out[2]),
            ("fp2_sqr", ha.clone(), out[3]),
            ("fp2_inv", ha.clone(), out[4]),
            ("fp2_neg", ha.clone(), out[5]),
        ] {
            lines.push(format!("{op} {args}"));
            expected.push(hex_of(&[result]));
        }
    }
    let answers = run(&lines);
    for ((line, answer), want) in lines.iter().zip(&answers).zip(&expected) {
        assert_eq!(answer, want, "{line}");
    }
}

/// A curve's blst operations, for the point tests.
trait Blst {
    type Affine: Copy + Default;
    type Point: Copy + Default;
    type Field: Copy;
    const NAME: &'static str;
    fn points(n: usize, rng: &mut Rng) -> Vec<Self::Affine>;
    fn field(rng: &mut Rng) -> Self::Field;
    /// (x·λ, y·λ, λ): a homogeneous projective form of `p`, (0, λ, 0) for infinity.
    fn projective(p: &Self::Affine, lambda: &Self::Field) -> [Self::Field; 3];
    fn add(a: &Self::Affine, b: &Self::Affine) -> Self::Affine;
    fn neg(a: &Self::Affine) -> Self::Affine;
    fn sum(points: &[Self::Affine]) -> Self::Affine;
    fn msm(points: &[Self::Affine], scalars: &Scalars) -> Self::Affine;
}

impl Blst for G1 {
    type Affine = G1Affine;
    type Point = G1;
    type Field = blst_fp;
    const NAME: &'static str = "g1";

    fn points(n: usize, rng: &mut Rng) -> Vec<G1Affine> {
        inputs::g1_points(n, rng)
    }

    fn field(rng: &mut Rng) -> blst_fp {
        random_fp(rng)
    }

    fn projective(p: &G1Affine, lambda: &blst_fp) -> [blst_fp; 3] {
        let mut out = [blst_fp::default(), *lambda, blst_fp::default()];
        if crate::curves::bls12_381::g1_is_infinity(p) {
            return out;
        }
        // SAFETY: field operations on valid elements.
        unsafe {
            blst_fp_mul(&mut out[0], &p.0.x, lambda);
            blst_fp_mul(&mut out[1], &p.0.y, lambda);
        }
        out[2] = *lambda;
        out
    }

    fn add(a: &G1Affine, b: &G1Affine) -> G1Affine {
        let mut p = G1::default();
        let mut q = G1::default();
        // SAFETY: valid points.
        unsafe {
            blst_p1_from_affine(&mut p.0, &a.0);
            blst_p1_add_or_double_affine(&mut q.0, &p.0, &b.0);
        }
        crate::curves::bls12_381::p1_affine(&q)
    }

    fn neg(a: &G1Affine) -> G1Affine {
        let mut p = G1::default();
        // SAFETY: valid points.
        unsafe {
            blst_p1_from_affine(&mut p.0, &a.0);
            blst_p1_cneg(&mut p.0, true);
        }
        crate::curves::bls12_381::p1_affine(&p)
    }

    fn sum(points: &[G1Affine]) -> G1Affine {
        crate::curves::bls12_381::p1_affine(&CpuBackend::new().g1_sum(points))
    }

    fn msm(points: &[G1Affine], scalars: &Scalars) -> G1Affine {
        crate::curves::bls12_381::p1_affine(&CpuBackend::new().g1_msm(points, scalars))
    }
}

impl Blst for G2 {
    type Affine = G2Affine;
    type Point = G2;
    type Field = blst_fp2;
    const NAME: &'static str = "g2";

    fn points(n: usize, rng: &mut Rng) -> Vec<G2Affine> {
        inputs::g2_points(n, rng)
    }

    fn field(rng: &mut Rng) -> blst_fp2 {
        blst_fp2 {
            fp: [random_fp(rng), random_fp(rng)],
        }
    }

    fn projective(p: &G2Affine, lambda: &blst_fp2) -> [blst_fp2; 3] {
        let mut out = [blst_fp2::default(), *lambda, blst_fp2::default()];
        if crate::curves::bls12_381::g2_is_infinity(p) {
            return out;
        }
        // SAFETY: field operations on valid elements.
        unsafe {
            blst_fp2_mul(&mut out[0], &p.0.x, lambda);
            blst_fp2_mul(&mut out[1], &p.0.y, lambda);
        }
        out[2] = *lambda;
        out
    }

    fn add(a: &G2Affine, b: &G2Affine) -> G2Affine {
        let mut p = G2::default();
        let mut q = G2::default();
        // SAFETY: valid points.
        unsafe {
            blst_p2_from_affine(&mut p.0, &a.0);
            blst_p2_add_or_double_affine(&mut q.0, &p.0, &b.0);
        }
        crate::curves::bls12_381::p2_affine(&q)
    }

    fn neg(a: &G2Affine) -> G2Affine {
        let mut p = G2::default();
        // SAFETY: valid points.
        unsafe {
            blst_p2_from_affine(&mut p.0, &a.0);
            blst_p2_cneg(&mut p.0, true);
        }
        crate::curves::bls12_381::p2_affine(&p)
    }

    fn sum(points: &[G2Affine]) -> G2Affine {
        crate::curves::bls12_381::p2_affine(&CpuBackend::new().g2_sum(points))
    }

    fn msm(points: &[G2Affine], scalars: &Scalars) -> G2Affine {
        crate::curves::bls12_381::p2_affine(&CpuBackend::new().g2_msm(points, scalars))
    }
}

/// Add (projective and mixed) and double on random projective forms, including P + P,
/// P + (−P) and the identity on either side.
fn check_point_formulas<C: Blst>(seed: u64) {
    let mut rng = Rng::new(seed);
    let mut points = C::points(40, &mut rng);
    points.push(C::Affine::default());
    let mut lines = Vec::new();
    let mut expected = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let q = points[(i * 11 + 5) % points.len()];
        let pairs = [
            (*p, q),
            (*p, *p),
            (*p, C::neg(p)),
            (*p, C::Affine::default()),
        ];
        for (a, b) in pairs {
            let pa = C::projective(&a, &C::field(&mut rng));
            let pb = C::projective(&b, &C::field(&mut rng));
            lines.push(format!("{}_add {} {}", C::NAME, hex_of(&pa), hex_of(&pb)));
            expected.push(hex_of(&[C::add(&a, &b)]));
            lines.push(format!(
                "{}_add_affine {} {}",
                C::NAME,
                hex_of(&pa),
                hex_of(&[b])
            ));
            expected.push(hex_of(&[C::add(&a, &b)]));
        }
        let pa = C::projective(p, &C::field(&mut rng));
        lines.push(format!("{}_dbl {}", C::NAME, hex_of(&pa)));
        expected.push(hex_of(&[C::add(p, p)]));
    }
    let answers = run(&lines);
    for ((line, answer), want) in lines.iter().zip(&answers).zip(&expected) {
        assert_eq!(answer, want, "{line}");
    }
}

#[test]
fn g1_formulas_match_blst() {
    check_point_formulas::<G1>(3);
}

#[test]
fn g2_formulas_match_blst() {
    check_point_formulas::<G2>(4);
}

/// Sums of 0 … 1000 points, with the identity and repeats mixed in.
fn check_sums<C: Blst>(seed: u64) {
    let mut rng = Rng::new(seed);
    let mut lines = Vec::new();
    let mut expected = Vec::new();
    for n in [0, 1, 2, 3, 127, 128, 129, 300, 1000] {
        let mut points = C::points(n, &mut rng);
        if n > 3 {
            points[1] = C::Affine::default();
            points[3] = points[2];
            points[0] = C::neg(&points[2]);
        }
        lines.push(format!("{}_sum {}", C::NAME, hex_of(&points)));
        expected.push(hex_of(&[C::sum(&points)]));
    }
    let answers = run(&lines);
    for ((line, answer), want) in lines.iter().zip(&answers).zip(&expected) {
        assert_eq!(answer, want, "{}", &line[..20]);
    }
}

#[test]
fn g1_sums_match_blst() {
    check_sums::<G1>(5);
}

#[test]
fn g2_sums_match_blst() {
    check_sums::<G2>(6);
}

/// The whole MSM through the kernels' bodies: the host's bucket plan (the one the CUDA
/// backend uses), bucket sums and window segments in the driver, then the windows
/// combined as the backend does, against blst's Pippenger.
fn check_msm<C: Blst>(seed: u64) {
    let mut rng = Rng::new(seed);
    for (n, bits) in [(1, 64), (7, 64), (100, 255), (600, 64), (600, 255)] {
        let points = C::points(n, &mut rng);
        let scalars = if bits == 64 {
            let mut values: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
            values[0] = u64::MAX;
            Scalars::from_u64s(&values)
        } else {
            inputs::scalars_fr(n, &mut rng)
        };
        let window = window_bits(n, 16);
        let windows = (bits as u32 + 1).div_ceil(window);
        let plan = BucketPlan::new(&scalars, 0..n, window, windows);
        let per_window = plan.buckets_per_window();
        let entries: Vec<u8> = plan.entries.iter().flat_map(|e| e.to_le_bytes()).collect();
        let offsets: Vec<u8> = plan.offsets.iter().flat_map(|o| o.to_le_bytes()).collect();
        let buckets = run(&[format!(
            "{}_bucket_sum {} {} {}",
            C::NAME,
            hex_of(&points),
            hex::encode(entries),
            hex::encode(offsets)
        )])
        .remove(0);
        for segments in [1, 3, per_window] {
            let reduced = run(&[format!(
                "{}_window_segment {buckets} {per_window} {segments}",
                C::NAME
            )])
            .remove(0);
            let reduced = hex::decode(&reduced).expect("hex");
            let affine_bytes = std::mem::size_of::<C::Affine>();
            assert_eq!(reduced.len(), (windows * segments) as usize * affine_bytes);
            // Σ_w 2^(c·w) Σ_s segment(w, s), by Horner, on affine points through blst.
            let segment = |w: usize, s: usize| -> C::Affine {
                let at = (w * segments as usize + s) * affine_bytes;
                let mut p = C::Affine::default();
                // SAFETY: `affine_bytes` bytes of a blst affine point, written by the driver.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        reduced[at..].as_ptr(),
                        (&mut p as *mut C::Affine).cast::<u8>(),
                        affine_bytes,
                    )
                };
                p
            };
            let mut result = C::Affine::default();
            for w in (0..windows as usize).rev() {
                for _ in 0..window {
                    result = C::add(&result, &result);
                }
                for s in 0..segments as usize {
                    result = C::add(&result, &segment(w, s));
                }
            }
            assert_eq!(
                hex_of(&[result]),
                hex_of(&[C::msm(&points, &scalars)]),
                "{} MSM of {n} points, {bits}-bit scalars, {segments} segments",
                C::NAME
            );
        }
    }
}

#[test]
fn g1_msm_matches_blst() {
    check_msm::<G1>(7);
}

#[test]
fn g2_msm_matches_blst() {
    check_msm::<G2>(8);
}

#[test]
fn scaling_matches_blst() {
    let mut rng = Rng::new(9);
    let mut points = inputs::g1_points(50, &mut rng);
    points[7] = G1Affine::default();
    let cpu = CpuBackend::new();
    for scalars in [
        inputs::scalars_u64(50, &mut rng),
        inputs::scalars_fr(50, &mut rng),
    ] {
        let line = format!(
            "g1_scale {} {} {}",
            hex_of(&points),
            hex::encode(scalars.as_bytes()),
            scalars.width()
        );
        assert_eq!(
            run(&[line])[0],
            hex_of(&cpu.g1_scale(&points, &scalars)),
            "{}-bit",
            scalars.bits()
        );
    }
}

#[test]
fn sha256_and_merkle_levels_match_sha2() {
    let mut rng = Rng::new(10);
    let blocks = rng.bytes(64 * 33);
    let digests: String = blocks
        .chunks(64)
        .map(|b| hex::encode(Sha256::digest(b)))
        .collect();
    assert_eq!(
        run(&[format!("sha256 {}", hex::encode(&blocks))])[0],
        digests
    );
    merkle_levels_match("merkle_level", &mut rng, |m| Sha256::digest(m).to_vec());
}

/// The driver's `op` (a Merkle level) on levels of 1, 2, 5 and 8 random nodes, against
/// `digest` of each pair of 64 bytes, a last odd node paired with the zero node given.
fn merkle_levels_match(op: &str, rng: &mut Rng, digest: impl Fn(&[u8]) -> Vec<u8>) {
    for children in [1usize, 2, 5, 8] {
        let level = rng.bytes(32 * children);
        let zero = rng.bytes(32);
        let parents: String = (0..children.div_ceil(2))
            .map(|i| {
                let left = &level[64 * i..64 * i + 32];
                let right = level.get(64 * i + 32..64 * i + 64).unwrap_or(&zero);
                hex::encode(digest(&[left, right].concat()))
            })
            .collect();
        let line = format!("{op} {} {}", hex::encode(&level), hex::encode(&zero));
        assert_eq!(run(&[line])[0], parents, "{op}: {children} children");
    }
}

/// The SM3 headers against RustCrypto's sm3: blocks (GB/T 32905's 64-byte example
/// first) and Merkle levels with an odd last node.
#[test]
fn sm3_and_its_merkle_levels_match_rustcrypto() {
    use sm3::{Digest as _, Sm3};
    let mut rng = Rng::new(12);
    let mut blocks = b"abcd".repeat(16);
    blocks.extend(rng.bytes(64 * 20));
    let answer = &run(&[format!("sm3 {}", hex::encode(&blocks))])[0];
    assert!(answer.starts_with("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"));
    let digests: String = blocks
        .chunks(64)
        .map(|b| hex::encode(Sm3::digest(b)))
        .collect();
    assert_eq!(*answer, digests);
    merkle_levels_match("sm3_merkle_level", &mut rng, |m| Sm3::digest(m).to_vec());
}

/// RFC 9162 leaf hashes of every length around the block boundaries (the one-byte prefix
/// and the 9 bytes of padding move them), and node hashes, against the CPU's.
#[test]
fn log_leaf_and_node_hashes_match_the_cpu() {
    use crate::backend::log_tree::{leaf_hash, node_hash};
    let mut rng = Rng::new(11);
    let lengths: Vec<usize> = (0..140).chain([183, 1000, 4096]).collect();
    let leaves: Vec<Vec<u8>> = lengths.iter().map(|&n| rng.bytes(n)).collect();
    let lines: Vec<String> = leaves
        .iter()
        .map(|l| {
            format!(
                "log_leaf {}",
                if l.is_empty() {
                    "-".to_string()
                } else {
                    hex::encode(l)
                }
            )
        })
        .collect();
    for ((answer, leaf), n) in run(&lines).iter().zip(&leaves).zip(&lengths) {
        assert_eq!(*answer, hex::encode(leaf_hash(leaf)), "a leaf of {n} bytes");
    }
    let nodes = rng.bytes(32 * 6);
    let parents: String = nodes
        .chunks(64)
        .map(|pair| {
            let (l, r) = pair.split_at(32);
            hex::encode(node_hash(l.try_into().unwrap(), r.try_into().unwrap()))
        })
        .collect();
    assert_eq!(
        run(&[format!("log_level {}", hex::encode(&nodes))])[0],
        parents
    );
}

#[test]
fn the_driver_rejects_malformed_lines() {
    let answers = run(&[
        "fp_mul zz".into(),
        "no_such_op 00".into(),
        "fp_add 00".into(),
    ]);
    assert!(
        answers.iter().all(|a| a.starts_with("error")),
        "{answers:?}"
    );
}
