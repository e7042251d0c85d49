#!/usr/bin/env bash
# Builds the GPU kit, here, on a machine without a GPU:
#   ci/gpu-kit.sh [DIR]          (default gpu-kit/, ignored by git)
#
# DIR then holds everything a GPU machine with only a driver needs to check itself in
# minutes (docs/GPU.md): a stripped release binary, the CUDA kernels compiled ahead of
# time for sm_80 and sm_90 with their manifest (no NVRTC needed there), the Vulkan
# loader (for drivers installed without one), and run.sh. Run it there as
#   DIR/run.sh REPORTS
# VERIBATCH_KIT_BINARY=PATH packages that binary instead of building one. The kit must
# stay under 48 MiB (it travels with the working tree to machines with a size limit).
set -euo pipefail
cd "$(dirname "$0")/.."
kit=${1:-gpu-kit}
limit=$((48 * 1024 * 1024))
source ci/nvrtc.sh

binary=${VERIBATCH_KIT_BINARY:-}
if [ -z "$binary" ]; then
  echo "--- cargo build --release"
  cargo build --release --locked --bin veribatch
  binary=target/release/veribatch
fi

rm -rf "$kit"
mkdir -p "$kit/lib"
cp "$binary" "$kit/veribatch"
strip "$kit/veribatch"

echo "--- the CUDA kernels, ahead of time"
"$kit/veribatch" kernels compile --target cuda --arch sm_80,sm_90 --out "$kit/cuda-kernels"

vulkan_loader() {
  { ldconfig -p 2>/dev/null || true; } | awk '/libvulkan\.so\.1 / && !found {print $NF; found=1}'
}
loader=$(vulkan_loader)
if [ -z "$loader" ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq libvulkan1) >/dev/null 2>&1 || true
  loader=$(vulkan_loader)
fi
if [ -n "$loader" ]; then
  cp -L "$loader" "$kit/lib/libvulkan.so.1"
else
  echo "no Vulkan loader here to carry: the kit's wgpu checks need one on the GPU machine"
fi

cp ci/gpu-kit/run.sh "$kit/run.sh"
chmod +x "$kit/run.sh"

size=$(du -sb "$kit" | cut -f1)
binary_size=$(stat -c %s "$kit/veribatch")
echo "kit: $kit: $((size / 1024)) KiB in all, the binary $((binary_size / 1024)) KiB"
echo "     needs glibc $(objdump -T "$kit/veribatch" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
if [ "$size" -gt "$limit" ]; then
  echo "kit: over the 48 MiB limit"
  exit 1
fi
