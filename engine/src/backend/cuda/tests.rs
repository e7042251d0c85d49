//! Differential tests of the CUDA backend on a real GPU against the CPU backend (blst,
//! sha2): every case of the selftest's list ([`crate::selftest::cases`], the full level),
//! on random and edge inputs. They need an NVIDIA GPU, so they are ignored by default;
//! `ci/gpu-test.sh` runs them on a GPU machine (and `veribatch selftest --backend cuda`
//! runs the same cases from the release binary). They call the device itself, not the
//! backend, whose CPU fallback would hide a device error.

use super::{Cuda, CudaBackend, CudaError, availability};
use crate::backend::Thresholds;
use crate::selftest::{self, Agreement, Level, Primitive};

const NEEDS_GPU: &str = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)";

fn device() -> Cuda {
    Cuda::open().unwrap_or_else(|e| panic!("{NEEDS_GPU}: {e}"))
}

/// Every full-level case of `primitive` agrees with the CPU.
fn cases_match(primitive: Primitive) {
    let gpu = device();
    let differing: Vec<String> = selftest::cases(Level::Full)
        .iter()
        .filter(|case| case.primitive == primitive)
        .map(|case| selftest::check(&gpu, case, None))
        .filter(|checked| checked.agreement != Agreement::Same)
        .map(|checked| format!("{}: {:?}", checked.case, checked.agreement))
        .collect();
    assert!(differing.is_empty(), "{}", differing.join("\n"));
}

#[test]
#[ignore = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)"]
fn hashes_match_the_cpu() {
    cases_match(Primitive::Sha256);
}

#[test]
#[ignore = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)"]
fn merkle_roots_match_the_cpu() {
    cases_match(Primitive::MerkleRoot);
}

#[test]
#[ignore = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)"]
fn sm3_hashes_and_roots_match_the_cpu() {
    cases_match(Primitive::Sm3);
    cases_match(Primitive::Sm3Root);
}

#[test]
#[ignore = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)"]
fn log_leaf_hashes_match_the_cpu() {
    cases_match(Primitive::LogLeaves);
}

#[test]
#[ignore = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)"]
fn log_subtrees_match_the_cpu() {
    cases_match(Primitive::LogSubtree);
}

#[test]
#[ignore = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)"]
fn g1_sums_match_the_cpu() {
    cases_match(Primitive::G1Sum);
}

#[test]
#[ignore = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)"]
fn g2_sums_match_the_cpu() {
    cases_match(Primitive::G2Sum);
}

#[test]
#[ignore = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)"]
fn g1_msms_match_the_cpu() {
    cases_match(Primitive::G1Msm);
}

#[test]
#[ignore = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)"]
fn g2_msms_match_the_cpu() {
    cases_match(Primitive::G2Msm);
}

#[test]
#[ignore = "needs an NVIDIA GPU with its driver (run by ci/gpu-test.sh)"]
fn scaling_matches_the_cpu() {
    cases_match(Primitive::G1Scale);
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
