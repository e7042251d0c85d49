#!/usr/bin/env bash
# Soak: a real `veribatch serve` under `veribatch load` (mixed workload, 10% bad items) at
# about 80% of the capacity it measures first, in windows of WINDOW seconds for SECONDS
# in all. Every window must verify every verdict right with no unexpected error, and the
# server's resident memory must stay flat after the warm-up (the first quarter): at most
# 10% (and 32 MiB) above it at the end. Writes a table of the windows to OUT/soak.md.
#
#   ci/soak.sh 60                    # what CI runs (debug build, 15 s windows)
#   ci/soak.sh 1800 60 release       # the 30-minute soak of docs/TESTING.md
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
window="${2:-15}"
profile="${3:-debug}"
out="${SOAK_OUT:-target/soak}"
mkdir -p "$out"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

# SOAK_BIN runs a binary already built (CI passes the one `cargo test` made, which a
# plain `cargo build` would build again from every crate).
if [ -n "${SOAK_BIN:-}" ]; then
  bin="$SOAK_BIN"
elif [ "$profile" = release ]; then
  cargo build --locked --release --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/veribatch"
else
  cargo build --locked --quiet
  bin="${CARGO_TARGET_DIR:-target}/debug/veribatch"
fi

"$bin" serve --listen 127.0.0.1:0 --backend cpu >"$out/serve.log" 2>"$out/serve.err" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q '^listening on ' "$out/serve.log" 2>/dev/null && break
  sleep 0.1
done
addr=$(sed -n 's/^listening on //p' "$out/serve.log")
if [ -z "$addr" ]; then
  cat "$out/serve.err"
  echo "FAIL: the server did not start"
  exit 1
fi
url="http://$addr"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }
field() { sed -n "s/^ *\"$1\": *\([0-9.]*\).*/\1/p" "$2" | head -1; }

echo "--- soak of $url: measuring capacity (10 s, unthrottled)"
if ! "$bin" load --target "$url" --workload mixed --bad-percent 10 --duration 10s --json >"$out/capacity.json"; then
  cat "$out/capacity.json"
  echo "FAIL: the capacity run failed (wrong verdicts or errors)"
  exit 1
fi
capacity=$(field requests_per_second "$out/capacity.json")
if ! awk -v c="${capacity:-0}" 'BEGIN { exit !(c > 0) }'; then
  echo "FAIL: no capacity measured"
  exit 1
fi
rate=$(awk -v c="$capacity" 'BEGIN { printf "%.1f", c * 0.8 }')
echo "capacity $capacity requests/s; soaking at $rate requests/s for ${seconds}s in ${window}s windows"

windows=$(( (seconds + window - 1) / window ))
warm_after=$(( (windows + 3) / 4 ))
{
  echo "| window | requests/s | p99 ms | items checked | wrong verdicts | unexpected errors | server RSS MiB |"
  echo "|---|---|---|---|---|---|---|"
} >"$out/soak.md"
failed=0
warm_rss=""
for i in $(seq "$windows"); do
  status=0
  "$bin" load --target "$url" --workload mixed --bad-percent 10 --seed "$i" \
    --rate "$rate" --duration "${window}s" --json >"$out/window-$i.json" || status=$?
  now=$(rss)
  [ "$i" -eq "$warm_after" ] && warm_rss=$now
  wrong=$(field mismatches "$out/window-$i.json")
  printf '| %s | %.1f | %.0f | %s | %s | %s | %s |\n' "$i" \
    "$(field requests_per_second "$out/window-$i.json")" "$(field p99 "$out/window-$i.json")" \
    "$(field items_checked "$out/window-$i.json")" "${wrong:-?}" "$([ $status -eq 0 ] && echo 0 || echo "exit $status")" \
    "$((now / 1024))" >>"$out/soak.md"
  if [ "$status" -ne 0 ]; then
    echo "FAIL: window $i: load exited $status (wrong verdicts or unexpected errors)"
    failed=1
  fi
done
end_rss=$(rss)
cat "$out/soak.md"
limit=$(awk -v w="$warm_rss" 'BEGIN { a = w * 1.10; b = w + 32768; printf "%d", (a > b ? a : b) }')
echo "server RSS after warm-up $((warm_rss / 1024)) MiB, at the end $((end_rss / 1024)) MiB (limit $((limit / 1024)) MiB)"
if [ "$end_rss" -gt "$limit" ]; then
  echo "FAIL: resident memory grew after the warm-up"
  failed=1
fi
kill -INT "$server"
wait "$server" || true
trap - EXIT
exit "$failed"
