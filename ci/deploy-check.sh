#!/usr/bin/env bash
# Checks deploy/ as users run it:
# - every Kubernetes manifest (each overlay rendered, and the extras) against the
#   Kubernetes 1.37 schemas, offline (PyPI's kubernetes-validate, --strict);
# - ci/kustomize.py's rendering against `kubectl kustomize`, where kubectl exists (CI
#   machines have none, so CI renders with ci/kustomize.py);
# - each overlay's serve.toml (its ConfigMap) by starting the real server with it;
# - deploy/grafana/veribatch.json: valid JSON whose every metric the server exports;
# - deploy/envoy/envoy.yaml with `envoy --mode validate`, where Envoy is installed.
#
#   ci/deploy-check.sh [path/to/veribatch]   # default target/debug/veribatch
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/debug/veribatch}"
env=ci/.cache/k8s
if [ ! -x "$env/bin/kubernetes-validate" ]; then
  echo "--- installing kubernetes-validate, jsonpatch and PyYAML into $env"
  python3 -m venv "$env" && "$env/bin/pip" install --quiet kubernetes-validate==1.37.0 jsonpatch pyyaml \
    || { echo "cannot install kubernetes-validate from PyPI: the deploy/ checks cannot run" >&2; exit 1; }
fi
py="$env/bin/python"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  "$py" ci/kustomize.py "$overlay" >"$out/$name.yaml"
  if command -v kubectl >/dev/null 2>&1; then
    kubectl kustomize "$overlay" >"$out/$name.kubectl.yaml"
    "$py" - "$out/$name.yaml" "$out/$name.kubectl.yaml" <<'PY'
import sys, yaml
def load(p):
    return sorted((d for d in yaml.safe_load_all(open(p)) if d), key=lambda d: (d["kind"], d["metadata"]["name"]))
if load(sys.argv[1]) != load(sys.argv[2]):
    sys.exit("ci/kustomize.py and kubectl kustomize render " + sys.argv[1] + " differently")
PY
  fi
  "$env/bin/kubernetes-validate" --strict --quiet "$out/$name.yaml"
  "$py" - "$out/$name.yaml" >"$out/$name.toml" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "ConfigMap" and d["metadata"]["name"] == "veribatch-config":
        print(d["data"]["serve.toml"])
PY
  log="$out/$name.log"
  "$bin" serve --config "$out/$name.toml" --listen 127.0.0.1:0 >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do grep -q "listening on" "$log" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if ! grep -q "listening on" "$log"; then
    cat "$log"; kill "$pid" 2>/dev/null || true
    echo "the $name overlay's serve.toml does not start the server" >&2; exit 1
  fi
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  echo "deploy/k8s/overlays/$name: valid, and its serve.toml starts the server"
done
"$env/bin/kubernetes-validate" --strict --quiet deploy/k8s/extras/*.yaml
echo "deploy/k8s/extras: valid"

"$py" - deploy/grafana/veribatch.json service/src/metrics.rs <<'PY'
import json, re, sys
dashboard = json.load(open(sys.argv[1]))
exported = open(sys.argv[2]).read()
for panel in dashboard["panels"]:
    for target in panel["targets"]:
        for name in re.findall(r"veribatch_[a-z_]+", target["expr"]):
            if f'"{re.sub(r"_(bucket|sum|count)$", "", name)}' not in exported:
                sys.exit(f"{sys.argv[1]}: panel {panel['title']!r} names {name}, which the server does not export")
PY
echo "deploy/grafana/veribatch.json: every metric it names is exported"

if [ -n "${VERIBATCH_ENVOY:-}" ]; then
  "$VERIBATCH_ENVOY" --mode validate -c deploy/envoy/envoy.yaml --log-level error >/dev/null
  echo "deploy/envoy/envoy.yaml: valid"
fi
