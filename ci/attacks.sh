#!/usr/bin/env bash
# The attacks of a shared service, measured: for each kind, a fresh `veribatch serve
# --backend cpu` and `veribatch load --attack KIND` (well-behaved clients sending one-set
# requests, then the same beside the hostile caller). Writes OUT/attack-KIND.json and
# prints a Markdown table of the well-behaved clients' p50/p99/max with and without.
#
#   ci/attacks.sh 10 docs/bench/attacks            # 10 s per run (what docs/PERFORMANCE.md shows)
#   ci/attacks.sh 10 target/attacks merkle bad-sets # only these kinds
set -euo pipefail
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
cd "$(dirname "$0")/.."
seconds="${1:-10}"
out="${2:-target/attacks}"
mkdir -p "$out"
bin="${CARGO_TARGET_DIR:-target}/release/veribatch"
[ -x "$bin" ] || cargo build --release --locked --bin veribatch
echo "| attack | p50 without → with (ms) | p99 without → with (ms) | max without → with (ms) | p99 ratio | hostile requests: answers | server RSS / peak (MiB) |"
echo "|---|---|---|---|---|---|---|"
kinds=("${@:3}")
[ ${#kinds[@]} -gt 0 ] || kinds=(keys merkle bad-sets register-flood idle-connections)
for kind in "${kinds[@]}"; do
  log="$out/serve-$kind.log"  # removed after the run
  "$bin" serve --backend cpu --listen 127.0.0.1:0 >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
  addr=$(sed -n 's/^listening on //p' "$log")
  "$bin" load --target "http://$addr" --workload bls --items-per-request 1 --concurrency 4 \
    --duration "${seconds}s" --attack "$kind" --server-pid "$pid" --json >"$out/attack-$kind.json" \
    || echo "load --attack $kind exited $?" >&2
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$log"
  python3 - "$out/attack-$kind.json" "$kind" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); a = r["attack"]; b = r["latency_ms"]; w = a["attacked"]["latency_ms"]
m = a.get("server_memory_kib") or {}
answers = ", ".join(f"{k} {v}" for k, v in a["hostile"]["answers"].items()) or f"{a['hostile']['connections']} connections held"
print(f"| {sys.argv[2]} | {b['p50']:.2f} → {w['p50']:.2f} | {b['p99']:.2f} → {w['p99']:.2f} | {b['max']:.2f} → {w['max']:.2f} "
      f"| {a['p99_ratio']:.2f} | {a['hostile']['requests']}: {answers} | {m.get('rss', 0) >> 10} / {m.get('peak', 0) >> 10} |")
PY
done
