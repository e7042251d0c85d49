# Sourced by ci/test.sh and ci/gpu-test.sh: NVRTC for compiling the CUDA kernels.
# Without a CUDA toolkit it comes from NVIDIA's pip wheel, installed into a local folder
# and found through LD_LIBRARY_PATH (cudarc loads libnvrtc.so.12 at run time).
nvrtc_dir=ci/.cache/nvrtc
nvrtc_lib="$PWD/$nvrtc_dir/nvidia/cuda_nvrtc/lib"
if ! ls "$nvrtc_lib"/libnvrtc.so.* >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
  echo "--- installing NVRTC (pip wheel nvidia-cuda-nvrtc-cu12) into $nvrtc_dir"
  wheel="nvidia-cuda-nvrtc-cu12==12.9.86"
  pip_install=(python3 -m pip install --quiet --disable-pip-version-check --target "$nvrtc_dir")
  # A Debian-managed Python refuses plain installs, even into a folder of our own.
  "${pip_install[@]}" "$wheel" || "${pip_install[@]}" --break-system-packages "$wheel" \
    || echo "could not install NVRTC; the CUDA compile checks will fail with CI=true"
fi
if ls "$nvrtc_lib"/libnvrtc.so.* >/dev/null 2>&1; then
  export LD_LIBRARY_PATH="$nvrtc_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# Under CI a missing NVRTC fails the tests that need it instead of skipping them.
if [ "${CI:-}" = "true" ]; then
  export VERIBATCH_REQUIRE_NVRTC=1
fi
