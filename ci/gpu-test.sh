#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and its driver: the CUDA backend's tests that need a
# real device (ignored elsewhere), then the conformance, Merkle and Groth16 tests with
# every GPU primitive forced onto CUDA. ci/test.sh covers everything that needs no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/nvrtc.sh

echo "--- veribatch info"
cargo run --locked --quiet -- info

echo "--- CUDA differential tests against the CPU (blst, sha2)"
cargo test --locked -p veribatch-engine --lib backend::cuda -- --include-ignored

echo "--- the conformance, Merkle and Groth16 tests, every GPU primitive on CUDA"
VERIBATCH_STRICT_DEVICE=1 VERIBATCH_TEST_BACKEND=cuda cargo test --locked --test bls_conformance --test merkle --test groth16 --test transparency_log --test sm3_merkle

echo "--- injected device faults under the CUDA backend's Offload routing"
VERIBATCH_TEST_BACKEND=cuda cargo test --locked --test fault_injection
