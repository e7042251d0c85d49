#!/usr/bin/env bash
# Coverage-guided fuzzing on stable Rust: builds every target of fuzz/ with libFuzzer's
# coverage instrumentation (the flags cargo-fuzz passes with `-s none`), replays the
# committed seeds and regressions, then fuzzes each target for SECONDS (default 30).
#
#   ci/fuzz.sh 30                 # what CI runs
#   ci/fuzz.sh 600 points         # ten minutes of one target
#   FUZZ_JOBS=2 ci/fuzz.sh 3600   # an hour per target, two at a time
#
# A crash, a failed assertion or a timeout leaves its input in fuzz/artifacts/TARGET/ and
# fails the run; copy it into fuzz/regressions/TARGET/ once fixed, so every later run
# replays it. The working corpus grows in fuzz/corpus/TARGET/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(points signature_set_json proto_requests groth16_json groth16_binary merkle_proof_file
           serve_config sm2)
fi
jobs="${FUZZ_JOBS:-1}"

host=$(rustc -vV | sed -n 's/^host: //p')
# --target keeps the instrumentation off build scripts and proc macros, which have no
# libFuzzer runtime to link against.
export RUSTFLAGS="-C passes=sancov-module -C llvm-args=-sanitizer-coverage-level=4 \
-C llvm-args=-sanitizer-coverage-inline-8bit-counters -C llvm-args=-sanitizer-coverage-pc-table \
-C llvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -C debug-assertions -C overflow-checks"
export CARGO_TARGET_DIR="$PWD/fuzz/target"
echo "--- building the fuzz targets (release, coverage-instrumented, $host)"
cargo build --locked --release --manifest-path fuzz/Cargo.toml --target "$host" --bins
bin="$CARGO_TARGET_DIR/$host/release"

run_target() {
  local target="$1"
  local corpus="fuzz/corpus/$target" artifacts="fuzz/artifacts/$target/"
  mkdir -p "$corpus" "$artifacts"
  cp -n fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
  local flags=(-timeout=20 -rss_limit_mb=4096 -max_len=16384 -artifact_prefix="$artifacts"
               -print_final_stats=1)
  if [ -d "fuzz/regressions/$target" ]; then
    "$bin/$target" "${flags[@]}" -runs=0 "fuzz/regressions/$target" >"fuzz/artifacts/$target.replay.log" 2>&1 \
      || { tail -30 "fuzz/artifacts/$target.replay.log"; echo "FAIL: $target regressions"; return 1; }
  fi
  if "$bin/$target" "${flags[@]}" -max_total_time="$seconds" "$corpus" >"fuzz/artifacts/$target.log" 2>&1; then
    local runs cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "fuzz/artifacts/$target.log" || true)
    cov=$(grep -o 'cov: [0-9]*' "fuzz/artifacts/$target.log" | tail -1 || true)
    echo "ok    $target: ${runs:-?} executions in ${seconds}s, $cov, corpus $(ls "$corpus" | wc -l)"
  else
    tail -40 "fuzz/artifacts/$target.log"
    echo "FAIL: $target (input saved under $artifacts)"
    return 1
  fi
}

echo "--- fuzzing ${#targets[@]} targets for ${seconds}s each, $jobs at a time"
failed=0
running=0
for target in "${targets[@]}"; do
  run_target "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
exit "$failed"
