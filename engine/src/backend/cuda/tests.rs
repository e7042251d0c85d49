//! Differential tests of the CUDA backend on a real GPU against the CPU backend (blst,
//! sha2): every primitive on random and edge inputs. They need an NVIDIA GPU, so they are
//! ignored by default; `ci/gpu-test.sh` runs them on a GPU machine. They call the device
//! itself, not the backend, whose CPU fallback would hide a device error.

use blst::{blst_p1_affine, blst_p2_affine};

use super::{Cuda, CudaBackend, CudaError, availability};
use crate::backend::cpu::CpuBackend;
use crate::backend::{Backend, Device, Scalars, Thresholds};
use crate::points::{compress_g1, compress_g2, p1_affine, p2_affine};
use crate::workload::{self, Rng};

const NEEDS_GPU: &str = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)";

fn device() -> Cuda {
    Cuda::open().unwrap_or_else(|e| panic!("{NEEDS_GPU}: {e}"))
}

/// The device's answer, or the test fails with the device's error.
fn ok<T>(result: Result<T, CudaError>) -> T {
    result.unwrap_or_else(|e| panic!("the device failed: {e}"))
}

fn g1(p: &blst::blst_p1) -> [u8; 48] {
    compress_g1(&p1_affine(p))
}

fn g2(p: &blst::blst_p2) -> [u8; 96] {
    compress_g2(&p2_affine(p))
}

/// Scalars with the edge values first: 0, 1, all ones, the top bit alone.
fn scalar_sets(n: usize, rng: &mut Rng) -> [Scalars; 2] {
    let mut small: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
    for (i, edge) in [0, 1, u64::MAX, 1 << 63].into_iter().enumerate().take(n) {
        small[i] = edge;
    }
    let mut wide: Vec<[u8; 32]> = (0..n)
        .map(|_| {
            let mut b: [u8; 32] = rng.bytes(32).try_into().expect("32");
            b[31] &= 0x3f;
            b
        })
        .collect();
    // r − 1, the largest scalar.
    const R_MINUS_1: [u8; 32] = [
        0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0x02, 0xa4, 0xbd,
        0x53, 0x05, 0xd8, 0xa1, 0x09, 0x08, 0xd8, 0x39, 0x33, 0x48, 0x7d, 0x9d, 0x29, 0x53, 0xa7,
        0xed, 0x73,
    ];
    for (i, edge) in [[0u8; 32], R_MINUS_1].into_iter().enumerate().take(n) {
        wide[i] = edge;
    }
    [Scalars::from_u64s(&small), Scalars::from_fr_le(&wide)]
}

/// Points with the identity and repeats mixed in, so P + P and P + (−P) occur.
fn g1_points(n: usize, rng: &mut Rng) -> Vec<blst_p1_affine> {
    let mut points = workload::g1_points(n, rng);
    if n > 3 {
        points[1] = blst_p1_affine::default();
        points[3] = points[2];
    }
    points
}

fn g2_points(n: usize, rng: &mut Rng) -> Vec<blst_p2_affine> {
    let mut points = workload::g2_points(n, rng);
    if n > 3 {
        points[1] = blst_p2_affine::default();
        points[3] = points[2];
    }
    points
}

#[test]
#[ignore = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)"]
fn sums_match_the_cpu() {
    let (gpu, cpu) = (device(), CpuBackend::new());
    let mut rng = Rng::new(1);
    for n in [0, 1, 2, 3, 127, 128, 129, 1000, 1 << 16, 300_000] {
        let p1 = g1_points(n, &mut rng);
        assert_eq!(
            g1(&ok(gpu.g1_sum(&p1))),
            g1(&cpu.g1_sum(&p1)),
            "g1, {n} points"
        );
        let p2 = g2_points(n.min(1 << 16), &mut rng);
        assert_eq!(
            g2(&ok(gpu.g2_sum(&p2))),
            g2(&cpu.g2_sum(&p2)),
            "g2, {n} points"
        );
    }
}

#[test]
#[ignore = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)"]
fn msms_match_the_cpu() {
    let (gpu, cpu) = (device(), CpuBackend::new());
    let mut rng = Rng::new(2);
    for n in [1, 2, 5, 64, 1000, 4096, 1 << 16] {
        let p1 = g1_points(n, &mut rng);
        let p2 = g2_points(n, &mut rng);
        for scalars in scalar_sets(n, &mut rng) {
            let bits = scalars.bits();
            assert_eq!(
                g1(&ok(gpu.g1_msm(&p1, &scalars))),
                g1(&cpu.g1_msm(&p1, &scalars)),
                "g1, {n} points, {bits}-bit"
            );
            assert_eq!(
                g2(&ok(gpu.g2_msm(&p2, &scalars))),
                g2(&cpu.g2_msm(&p2, &scalars)),
                "g2, {n} points, {bits}-bit"
            );
        }
    }
    // Skewed: every scalar the same, so one bucket per window holds every point.
    let p1 = g1_points(5000, &mut rng);
    let same = Scalars::from_u64s(&[u64::MAX; 5000]);
    assert_eq!(g1(&ok(gpu.g1_msm(&p1, &same))), g1(&cpu.g1_msm(&p1, &same)));
}

#[test]
#[ignore = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)"]
fn scaling_matches_the_cpu() {
    let (gpu, cpu) = (device(), CpuBackend::new());
    let mut rng = Rng::new(3);
    let points = g1_points(3000, &mut rng);
    for scalars in scalar_sets(3000, &mut rng) {
        assert_eq!(
            ok(gpu.g1_scale(&points, &scalars)),
            cpu.g1_scale(&points, &scalars)
        );
    }
}

#[test]
#[ignore = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)"]
fn hashes_and_merkle_roots_match_the_cpu() {
    let (gpu, cpu) = (device(), CpuBackend::new());
    let mut rng = Rng::new(4);
    for n in [1, 2, 255, 256, 257, 1 << 20] {
        let blocks = rng.bytes(64 * n);
        let (mut a, mut b) = (vec![0u8; 32 * n], vec![0u8; 32 * n]);
        ok(gpu.hash_blocks(&blocks, &mut a));
        cpu.hash_blocks(&blocks, &mut b);
        assert_eq!(a, b, "{n} blocks");
    }
    for (count, depth) in [
        (0, 0),
        (0, 5),
        (1, 0),
        (1, 3),
        (3, 2),
        (5, 3),
        (300, 9),
        (1 << 18, 18),
        (1000, 40),
    ] {
        let chunks = rng.bytes(32 * count);
        assert_eq!(
            ok(gpu.merkle_root(&chunks, depth)),
            cpu.merkle_root(&chunks, depth),
            "{count} chunks, depth {depth}"
        );
    }
}

/// Without a driver (this machine and CI), the backend refuses to open with the reason,
/// and never panics.
#[test]
fn without_a_driver_opening_fails_with_the_reason() {
    match availability() {
        Ok(devices) => assert!(!devices.is_empty()),
        Err(reason) => {
            assert!(CudaBackend::open(Thresholds::ALWAYS, Default::default()).is_err());
            let message = reason.to_string();
            assert!(
                matches!(
                    reason,
                    CudaError::NoDriver | CudaError::NoDevice | CudaError::NoNvrtc
                ) || message.contains("CUDA"),
                "{message}"
            );
        }
    }
}
