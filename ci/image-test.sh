#!/usr/bin/env bash
# Builds deploy/Dockerfile's cpu and cuda images with podman and runs them:
#   ci/image-test.sh [BINARY]     (default target/release/veribatch)
#
# No registry can be reached from this project's machines, so the public bases the
# Dockerfile names are replaced (through its build arguments) by a local base made from
# the binary's own shared libraries, and BINARY=prebuilt packages BINARY instead of
# compiling it in the image. What is checked is what the Dockerfile gives users: the
# entry point and command, the user, the HEALTHCHECK through the health service, a
# verdict served from inside the container, a clean drain on SIGTERM, and the cuda image
# falling back to the CPU with a reason where there is no GPU.
#
# Exits 0 when every check passes, 1 on a failed check, and 0 with SKIPPED where podman
# cannot be installed or cannot run a container at all on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-target/release/veribatch}
[ -x "$binary" ] || { echo "image-test: no binary at $binary (cargo build --release first)"; exit 1; }

skip() { echo "SKIPPED: $*"; exit 0; }
fail() { echo "image-test FAILED: $*"; exit 1; }

if ! command -v podman >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || skip "no podman and no apt-get to install it"
  echo "--- installing podman and runc"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc) \
    >/dev/null 2>&1 || skip "could not install podman"
fi

# A private store and configuration: runc (crun fails on hybrid cgroups), cgroupfs, the
# vfs driver (overlay needs kernel support the sandbox may lack), explicit ulimits.
state=$(mktemp -d /tmp/veribatch-image-test.XXXXXX)
cat >"$state/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF="$state/containers.conf"
pod() { podman --root "$state/storage" --runroot "$state/run" --storage-driver vfs "$@"; }
cleanup() {
  pod rm -f -t 0 vb-cpu >/dev/null 2>&1 || true
  pod rmi -a -f >/dev/null 2>&1 || true
  rm -rf "$state" 2>/dev/null || true
}
trap cleanup EXIT

# The local base: the dynamic loader and libraries the binary links, and a /tmp.
rootfs="$state/rootfs"
mkdir -p "$rootfs/tmp" && chmod 1777 "$rootfs/tmp"
for lib in $(ldd "$binary" | grep -o '/[^ ]*'); do
  cp --parents -L "$lib" "$rootfs"
done
tar -C "$rootfs" -c . | pod import - localhost/veribatch-test-base:latest >/dev/null \
  || skip "podman cannot import an image here"
pod run --rm --network none localhost/veribatch-test-base:latest /lib64/ld-linux-x86-64.so.2 --help \
  >/dev/null 2>&1 || skip "podman cannot run a container here"

context="$state/context"
mkdir -p "$context" && cp "$binary" "$context/veribatch"
strip "$context/veribatch" 2>/dev/null || true # a debug binary is mostly debug info
for target in cpu cuda; do
  echo "--- podman build --target $target"
  pod build --format docker -f deploy/Dockerfile --target "$target" \
    --build-arg BINARY=prebuilt \
    --build-arg CPU_BASE=localhost/veribatch-test-base:latest \
    --build-arg CUDA_BASE=localhost/veribatch-test-base:latest \
    -t "localhost/veribatch:$target" "$context" >"$state/build-$target.log" 2>&1 \
    || { cat "$state/build-$target.log"; fail "podman build --target $target"; }
done

expect() { # what, got, wanted
  [ "$2" = "$3" ] || fail "$1 is $2, not $3"
  echo "ok: $1 = $2"
}
for target in cpu cuda; do
  image="localhost/veribatch:$target"
  expect "$target user" "$(pod image inspect -f '{{.Config.User}}' "$image")" "10001:10001"
  expect "$target entry point" "$(pod image inspect -f '{{json .Config.Entrypoint}}' "$image")" '["veribatch"]'
  expect "$target healthcheck" "$(pod image inspect -f '{{json .Config.Healthcheck.Test}}' "$image")" \
    '["CMD","veribatch","health","--remote","http://127.0.0.1:50051"]'
done
expect "cpu command" "$(pod image inspect -f '{{json .Config.Cmd}}' localhost/veribatch:cpu)" \
  '["serve","--listen","0.0.0.0:50051","--metrics-listen","0.0.0.0:9090"]'
expect "cuda command" "$(pod image inspect -f '{{json .Config.Cmd}}' localhost/veribatch:cuda)" \
  '["serve","--listen","0.0.0.0:50051","--metrics-listen","0.0.0.0:9090","--backend","auto"]'

echo "--- the cpu image serves with its own command"
# No systemd here to time the HEALTHCHECK: it is run by hand below
# (podman's complaints that it has no systemd to time the checks go to podman.log).
pod run -d --name vb-cpu --network none -v "$PWD/examples:/examples:ro" localhost/veribatch:cpu \
  >/dev/null 2>>"$state/podman.log" || { cat "$state/podman.log"; fail "podman run"; }
healthy=
for _ in $(seq 1 60); do
  if pod healthcheck run vb-cpu >/dev/null 2>&1; then healthy=1; break; fi
  sleep 0.5
done
[ -n "$healthy" ] || { pod logs vb-cpu; fail "the HEALTHCHECK never passed"; }
echo "ok: HEALTHCHECK passes"
pid=$(pod inspect -f '{{.State.Pid}}' vb-cpu)
expect "serving uid" "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" "10001"

verdicts=$(pod exec vb-cpu veribatch verify bls --remote http://127.0.0.1:50051 /examples/valid.ndjson) \
  || fail "verify bls --remote inside the container exited $?"
sets=$(grep -c . examples/valid.ndjson)
valid=$(grep -c '"valid":true' <<<"$verdicts" || true)
[ "$valid" = "$sets" ] && [ "$(grep -c . <<<"$verdicts")" = "$sets" ] \
  || fail "expected $sets valid verdicts, got: $verdicts"
echo "ok: $sets verdicts from the served image, all valid"

pod stop -t 30 vb-cpu >/dev/null 2>>"$state/podman.log"
expect "exit status after SIGTERM" "$(pod inspect -f '{{.State.ExitCode}}' vb-cpu)" "0"
pod logs vb-cpu 2>&1 | grep -q 'every accepted request was answered' \
  || { pod logs vb-cpu; fail "the server did not say it drained"; }
echo "ok: drained on SIGTERM"

echo "--- the cuda image where there is no GPU"
info=$(pod run --rm --network none localhost/veribatch:cuda info 2>&1) || fail "info exited $?: $info"
grep -Eq '^  cuda +unavailable: .+' <<<"$info" || fail "info does not say why CUDA is unavailable: $info"
echo "ok: cuda image runs info: $(grep -E '^  cuda +unavailable' <<<"$info")"
echo "image-test: all checks passed"
