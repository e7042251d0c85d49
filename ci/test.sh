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

echo "--- cargo fmt --check"
cargo fmt --all -- --check

echo "--- cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "--- cargo test"
cargo test --workspace --locked
