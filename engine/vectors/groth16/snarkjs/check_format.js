#!/usr/bin/env node
// Independent (no snarkjs / ffjavascript) check of the point encoding used in
// snarkjs BLS12-381 Groth16 JSON files.
//
// For every G1 point [x, y, z] it checks z == "1" and y^2 = x^3 + 4 over Fp.
// For every G2 point [[x0, x1], [y0, y1], [z0, z1]] it checks z == ["1","0"]
// and tests the twist equation y^2 = x^3 + 4(u+1) over Fp2 = Fp[u]/(u^2+1)
// under BOTH readings:
//   "c0,c1":  x = x0 + x1*u   (first element is the real part c0)
//   "c1,c0":  x = x1 + x0*u   (swapped)
// It also checks that every point is in the prime-order subgroup (r*P == O)
// under the reading that satisfies the curve equation.
//
// Usage: node check_format.js verification_key.json proof_0.json ...
"use strict";
const fs = require("fs");

const p = 0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaabn;
const r = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

const mod = (a) => ((a % p) + p) % p;
function powp(b, e) { let res = 1n; b = mod(b); while (e > 0n) { if (e & 1n) res = res * b % p; b = b * b % p; e >>= 1n; } return res; }
const inv = (a) => { if (mod(a) === 0n) throw new Error("inv(0)"); return powp(a, p - 2n); };

// ---- Fp2 (elements are [c0, c1] meaning c0 + c1*u, u^2 = -1)
const F2 = {
  add: (a, b) => [mod(a[0] + b[0]), mod(a[1] + b[1])],
  sub: (a, b) => [mod(a[0] - b[0]), mod(a[1] - b[1])],
  mul: (a, b) => [mod(a[0] * b[0] - a[1] * b[1]), mod(a[0] * b[1] + a[1] * b[0])],
  eq: (a, b) => mod(a[0]) === mod(b[0]) && mod(a[1]) === mod(b[1]),
  inv: (a) => { const n = inv(a[0] * a[0] + a[1] * a[1]); return [mod(a[0] * n), mod(-a[1] * n)]; },
  zero: () => [0n, 0n],
  isZero: (a) => mod(a[0]) === 0n && mod(a[1]) === 0n,
  fromInt: (k) => [mod(k), 0n],
};
const F1 = {
  add: (a, b) => mod(a + b), sub: (a, b) => mod(a - b), mul: (a, b) => mod(a * b),
  eq: (a, b) => mod(a) === mod(b), inv: (a) => inv(a), zero: () => 0n,
  isZero: (a) => mod(a) === 0n, fromInt: (k) => mod(k),
};

// Affine short-Weierstrass (a = 0) scalar multiplication; null = infinity.
function ecAdd(F, P, Q) {
  if (P === null) return Q; if (Q === null) return P;
  let lam;
  if (F.eq(P[0], Q[0])) {
    if (!F.eq(P[1], Q[1]) || F.isZero(P[1])) return null;
    const x2 = F.mul(P[0], P[0]);
    lam = F.mul(F.add(F.add(x2, x2), x2), F.inv(F.add(P[1], P[1])));
  } else {
    lam = F.mul(F.sub(Q[1], P[1]), F.inv(F.sub(Q[0], P[0])));
  }
  const x3 = F.sub(F.sub(F.mul(lam, lam), P[0]), Q[0]);
  const y3 = F.sub(F.mul(lam, F.sub(P[0], x3)), P[1]);
  return [x3, y3];
}
function ecMul(F, P, k) { let R = null, A = P; while (k > 0n) { if (k & 1n) R = ecAdd(F, R, A); A = ecAdd(F, A, A); k >>= 1n; } return R; }

const B1 = 4n;
const B2 = [4n, 4n]; // 4(u+1) = 4 + 4u
const onG1 = (x, y) => F1.eq(F1.mul(y, y), F1.add(F1.mul(F1.mul(x, x), x), B1));
const onG2 = (x, y) => F2.eq(F2.mul(y, y), F2.add(F2.mul(F2.mul(x, x), x), B2));

let failures = 0;
const report = (ok, msg) => { console.log(`${ok ? "ok  " : "FAIL"} ${msg}`); if (!ok) failures++; };
const big = (s) => { const v = BigInt(s); if (v < 0n || v >= p) throw new Error(`coord out of range: ${s}`); return v; };

function checkG1(name, pt) {
  if (!Array.isArray(pt) || pt.length !== 3 || pt.some((c) => typeof c !== "string"))
    return report(false, `${name}: not [x, y, z] of decimal strings`);
  report(pt[2] === "1", `${name}: z == "1" (affine)`);
  const x = big(pt[0]), y = big(pt[1]);
  const on = onG1(x, y);
  report(on, `${name}: on G1 (y^2 = x^3 + 4)`);
  if (on) report(ecMul(F1, [x, y], r) === null, `${name}: in r-torsion subgroup`);
}

const summary = { "c0,c1": 0, "c1,c0": 0, total: 0 };
function checkG2(name, pt) {
  if (!Array.isArray(pt) || pt.length !== 3 || pt.some((c) => !Array.isArray(c) || c.length !== 2))
    return report(false, `${name}: not [[x0,x1],[y0,y1],[z0,z1]]`);
  report(pt[2][0] === "1" && pt[2][1] === "0", `${name}: z == ["1","0"] (affine)`);
  const x0 = big(pt[0][0]), x1 = big(pt[0][1]), y0 = big(pt[1][0]), y1 = big(pt[1][1]);
  const asC0C1 = onG2([x0, x1], [y0, y1]);
  const asC1C0 = onG2([x1, x0], [y1, y0]);
  summary.total++; if (asC0C1) summary["c0,c1"]++; if (asC1C0) summary["c1,c0"]++;
  report(asC0C1 && !asC1C0,
    `${name}: on G2 twist when read as [c0, c1]: ${asC0C1}; when read swapped [c1, c0]: ${asC1C0}`);
  if (asC0C1) report(ecMul(F2, [[x0, x1], [y0, y1]], r) === null, `${name}: in r-torsion subgroup (as [c0, c1])`);
}

for (const file of process.argv.slice(2)) {
  const j = JSON.parse(fs.readFileSync(file, "utf8"));
  console.log(`--- ${file}`);
  if (j.protocol !== undefined) report(j.protocol === "groth16", `${file}: protocol == "groth16" (got ${JSON.stringify(j.protocol)})`);
  if (j.curve !== undefined) report(j.curve === "bls12381", `${file}: curve == "bls12381" (got ${JSON.stringify(j.curve)})`);
  if (j.vk_alpha_1) {
    console.log(`     nPublic = ${j.nPublic}, IC.length = ${j.IC.length}`);
    report(j.IC.length === j.nPublic + 1, `${file}: IC.length == nPublic + 1`);
    checkG1(`${file} vk_alpha_1`, j.vk_alpha_1);
    for (const k of ["vk_beta_2", "vk_gamma_2", "vk_delta_2"]) checkG2(`${file} ${k}`, j[k]);
    j.IC.forEach((pt, i) => checkG1(`${file} IC[${i}]`, pt));
  }
  if (j.pi_a) {
    checkG1(`${file} pi_a`, j.pi_a);
    checkG2(`${file} pi_b`, j.pi_b);
    checkG1(`${file} pi_c`, j.pi_c);
  }
}
console.log(`\nG2 points satisfying the twist equation: read as [c0,c1]: ${summary["c0,c1"]}/${summary.total}; read as [c1,c0]: ${summary["c1,c0"]}/${summary.total}`);
if (failures) { console.log(`${failures} check(s) FAILED`); process.exit(1); }
console.log("all format checks passed");
