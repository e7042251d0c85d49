#!/bin/sh
# The veribatch GPU kit: on a machine with a GPU and its driver, and nothing else (no
# Rust, no network, no package installs), prove the GPU computes what the CPU computes
# and measure where it is faster.
#
#   ./run.sh REPORT_DIR
#
# Writes into REPORT_DIR: info.txt, selftest-cuda.json, selftest-wgpu.json (when a
# Vulkan driver is present), bench/ (report.json, report.md, plots), calibrate-*.toml
# and .md, and summary.txt with each step's exit status and time. Exit 0 when every
# selftest that ran agreed, 1 when one found a difference, 2 when no GPU could be
# checked. VERIBATCH_KIT_QUICK=1 runs the small cases only (a software device).
set -u
kit=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: run.sh REPORT_DIR}
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)
vb="$kit/veribatch"
quick=
[ "${VERIBATCH_KIT_QUICK:-}" = 1 ] && quick=--quick

# The kernels compiled ahead of time: no NVRTC needed.
export VERIBATCH_CUDA_KERNELS="$kit/cuda-kernels"
# The Vulkan loader, carried for machines that have a driver but no loader.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  export LD_LIBRARY_PATH="$kit/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# NVIDIA's Vulkan driver manifest where container runtimes put it.
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
             /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then
      [ "$icd" = /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES="$icd"
      break
    fi
  done
fi

: >"$out/summary.txt"
# step NAME SECONDS COMMAND…: runs COMMAND with a time limit, stdout to NAME's file,
# stderr to NAME.err; records its exit status and time.
step() {
  name=$1 limit=$2
  shift 2
  echo "--- $name"
  start=$(date +%s)
  timeout "$limit" "$@" >"$out/$name" 2>"$out/$name.err"
  rc=$?
  echo "$name: exit $rc in $(($(date +%s) - start)) s" | tee -a "$out/summary.txt"
  return $rc
}

step info.txt 60 "$vb" info
status=2
backends=cpu
for backend in cuda wgpu; do
  step "selftest-$backend.json" 180 "$vb" selftest --backend "$backend" --json $quick
  case $? in
    0) backends="$backends,$backend"; [ $status = 2 ] && status=0 ;;
    1) backends="$backends,$backend"; status=1 ;;
    *) ;; # unavailable here (the .err file says why), or out of time
  esac
done
step bench.txt 180 "$vb" bench --quick --backend "$backends" --out "$out/bench"
for backend in cuda wgpu; do
  case ",$backends," in
    *",$backend,"*)
      step "calibrate-$backend.md" 120 "$vb" calibrate --backend "$backend" $quick \
        --out "$out/calibrate-$backend.toml"
      ;;
  esac
done
echo "kit: backends checked: $backends; reports in $out" | tee -a "$out/summary.txt"
exit $status
