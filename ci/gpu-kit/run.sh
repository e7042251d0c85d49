#!/bin/sh
# The veribatch GPU kit: on a machine with a GPU and its driver, and nothing else (no
# Rust, no network, no package installs), prove the GPU computes what the CPU computes
# and measure where it is faster.
#
#   ./run.sh REPORT_DIR
#
# Writes into REPORT_DIR: info.txt, selftest-cuda.json, selftest-wgpu.json (when a
# Vulkan driver is present), bench/ (report.json, report.md, plots), calibrate-BACKEND
# .toml and .md (CUDA's where it was checked, else wgpu's), and summary.txt with each step's exit status and time. Exit 0 when every
# selftest that ran agreed on a GPU, 1 when one found a difference or crashed or ran out
# of time, 2 when no GPU could be checked (a software adapter is checked, and reported,
# but is no GPU). Every step has a time limit; together they fit in 8 minutes.
# VERIBATCH_KIT_QUICK=1 runs the small cases only, with four times the time limits: for
# a software device (lavapipe), which is slower at the small cases than a GPU at all.
set -u
kit=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: run.sh REPORT_DIR}
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)
vb="$kit/veribatch"
quick=
slow=1
if [ "${VERIBATCH_KIT_QUICK:-}" = 1 ]; then
  quick=--quick
  slow=4
fi

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
  name=$1 limit=$(($2 * slow))
  shift 2
  echo "--- $name"
  start=$(date +%s)
  timeout -k 10 "$limit" "$@" >"$out/$name" 2>"$out/$name.err"
  rc=$?
  echo "$name: exit $rc in $(($(date +%s) - start)) s" | tee -a "$out/summary.txt"
  return $rc
}

step info.txt 30 "$vb" info
status=2
backends=cpu
for backend in cuda wgpu; do
  limit=120
  [ "$backend" = wgpu ] && limit=90
  step "selftest-$backend.json" "$limit" "$vb" selftest --backend "$backend" --json $quick
  rc=$?
  software=
  grep -q '"software": true' "$out/selftest-$backend.json" 2>/dev/null && software=1
  case $rc in
    0) backends="$backends,$backend"
       if [ -n "$software" ]; then
         echo "selftest-$backend: a software adapter; it counts as no GPU" | tee -a "$out/summary.txt"
       elif [ $status = 2 ]; then
         status=0
       fi ;;
    1) backends="$backends,$backend"; status=1 ;;
    2) ;; # unavailable here: the .err file says why
    *) echo "selftest-$backend: crashed or out of time (exit $rc)" | tee -a "$out/summary.txt"
       status=1 ;;
  esac
done
step bench.txt 120 "$vb" bench --quick --backend "$backends" --out "$out/bench"
# Calibrate the device --backend auto would use: CUDA where it was checked, else wgpu.
for backend in cuda wgpu; do
  case ",$backends," in
    *",$backend,"*)
      step "calibrate-$backend.md" 120 "$vb" calibrate --backend "$backend" $quick \
        --out "$out/calibrate-$backend.toml"
      break
      ;;
  esac
done
echo "kit: backends checked: $backends; reports in $out" | tee -a "$out/summary.txt"
exit $status
