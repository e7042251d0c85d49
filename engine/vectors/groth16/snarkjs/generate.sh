#!/usr/bin/env bash
# Reproduces the BLS12-381 Groth16 fixtures in this folder from scratch.
#
# Usage:  ./generate.sh [WORKDIR]
#   WORKDIR defaults to a fresh temporary directory. The script copies
#   circuit.circom (which must sit next to this script) into WORKDIR, installs
#   the pinned tool versions there with npm, runs the whole pipeline, and leaves
#   verification_key.json, proof_N.json and public_N.json in WORKDIR.
#
# Needs: node (tested with v20.20.2), npm, network access to the npm registry.
#
# NOTE: snarkjs mixes OS randomness into every contribution even when -e is
# given, so each run yields a different (but equally valid) key and proofs.
set -euo pipefail

CIRCOM2_VERSION=0.2.23   # npm package "circom2" (bundles circom compiler 2.2.3)
SNARKJS_VERSION=0.7.6    # npm package "snarkjs"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="${1:-$(mktemp -d)}"
mkdir -p "$WORK"
cp "$HERE/circuit.circom" "$WORK/circuit.circom"
cd "$WORK"
echo "working in $WORK"

[ -f package.json ] || npm init -y >/dev/null
npm install --no-save "circom2@${CIRCOM2_VERSION}" "snarkjs@${SNARKJS_VERSION}"

SNARKJS="npx snarkjs"

# 1. Compile the circuit over the BLS12-381 scalar field.
npx circom2 circuit.circom --r1cs --wasm --sym --prime bls12381
$SNARKJS r1cs info circuit.r1cs

# 2. Phase 1 (powers of tau) on bls12381, power 8 (up to 256 constraints).
$SNARKJS powersoftau new bls12381 8 pot8_0000.ptau -v
$SNARKJS powersoftau contribute pot8_0000.ptau pot8_0001.ptau \
    --name="veribatch fixture contribution" -e="veribatch phase1 entropy" -v
$SNARKJS powersoftau prepare phase2 pot8_0001.ptau pot8_final.ptau -v
$SNARKJS powersoftau verify pot8_final.ptau

# 3. Phase 2 (circuit specific) + Groth16 key.
$SNARKJS groth16 setup circuit.r1cs pot8_final.ptau circuit_0000.zkey
$SNARKJS zkey contribute circuit_0000.zkey circuit_final.zkey \
    --name="veribatch fixture zkey contribution" -e="veribatch phase2 entropy" -v
$SNARKJS zkey verify circuit.r1cs pot8_final.ptau circuit_final.zkey
$SNARKJS zkey export verificationkey circuit_final.zkey verification_key.json

# 4. Four witnesses -> four proofs, each checked with snarkjs groth16 verify.
#    Each line: "a b"; c = a*b, d = a+b, e = a*a+b are computed here.
WITNESSES=(
  "3 5"
  "2 7"
  "11 13"
  "123456789 987654321"
)
for i in 0 1 2 3; do
  read -r A B <<<"${WITNESSES[$i]}"
  node -e '
    const a = BigInt(process.argv[1]), b = BigInt(process.argv[2]);
    const o = { a: a.toString(), b: b.toString(),
                c: (a*b).toString(), d: (a+b).toString(), e: (a*a+b).toString() };
    process.stdout.write(JSON.stringify(o, null, 1) + "\n");
  ' "$A" "$B" > "input_${i}.json"
  $SNARKJS wtns calculate circuit_js/circuit.wasm "input_${i}.json" "witness_${i}.wtns"
  $SNARKJS wtns check circuit.r1cs "witness_${i}.wtns"
  $SNARKJS groth16 prove circuit_final.zkey "witness_${i}.wtns" "proof_${i}.json" "public_${i}.json"
  echo "== groth16 verify proof_${i}.json public_${i}.json"
  $SNARKJS groth16 verify verification_key.json "public_${i}.json" "proof_${i}.json" \
      | tee "verify_${i}.log"
  grep -q "OK" "verify_${i}.log" || { echo "proof ${i} did NOT verify" >&2; exit 1; }
done

# 5. Independent format check: all G1/G2 points lie on the BLS12-381 curves
#    when read as [x, y, z] / [[x.c0, x.c1], [y.c0, y.c1], [z.c0, z.c1]].
node "$HERE/check_format.js" verification_key.json proof_*.json

echo "done; outputs in $WORK"
