//! Keys that let anyone forge proofs.
//!
//! A Groth16 proof is sound only if nobody knows the discrete logarithms between the
//! key's points. Some keys give them away by their shape, and for those a proof can be
//! built from the key alone, for any public inputs (e(A, B) = e(α, β) · e(L, γ) · e(C, δ),
//! with L = IC₀ + Σ x_j·IC_j):
//! - γ = ±δ: A = α, B = β, C = ∓L;
//! - β = ±γ: A = α ± L, B = β, C = 0;
//! - α, β, γ or δ the point at infinity: A = L, B = γ, C = 0 (α or β), or the inputs or C
//!   drop out of the equation (γ or δ);
//! - IC_j at infinity for a public input j: that input is not constrained at all;
//! - IC_j = ±IC_k for two public inputs: only x_j ± x_k is constrained, so the two can be
//!   traded against each other.
//!
//! A real setup makes none of these except with negligible probability; they arise from
//! skipped ceremonies (snarkjs keys without a phase-2 contribution have γ = δ) and from
//! tampering. They are refused unless the caller says they study broken setups.

use super::VerifyingKey;
use crate::curves::bls12_381::G1Affine;
use crate::curves::bls12_381::{compress_g1, compress_g2, g1_is_infinity, g2_is_infinity};

/// Why a key lets anyone forge proofs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyDefect {
    #[error("{0} is the point at infinity: anyone can forge proofs for this key")]
    AtInfinity(&'static str),
    #[error("gamma equals {0}delta: anyone can forge proofs for this key")]
    GammaIsDelta(&'static str),
    #[error("beta equals {0}gamma: anyone can forge proofs for this key")]
    BetaIsGamma(&'static str),
    #[error(
        "IC[{0}] is the point at infinity: public input {index} is unconstrained, so anyone \
         can forge proofs of any value for it",
        index = .0 - 1
    )]
    InputUnconstrained(usize),
    #[error(
        "IC[{later}] equals {sign}IC[{earlier}]: public inputs {} and {} can be traded \
         against each other, so anyone can forge proofs for this key",
        earlier - 1,
        later - 1
    )]
    InputsTied {
        earlier: usize,
        later: usize,
        sign: &'static str,
    },
}

/// Whether keys with a [`KeyDefect`] are refused (the default) or accepted, for people
/// studying broken setups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DegenerateKeys {
    #[default]
    Refuse,
    Accept,
}

/// The compressed encodings of P and −P differ only in the sign flag (for P not at
/// infinity): the bit that says which square root y is.
const SIGN_FLAG: u8 = 0x20;

/// "" if the encodings are of equal points, "−" if of opposite points, `None` otherwise.
fn relation(a: &[u8], b: &[u8]) -> Option<&'static str> {
    if a == b {
        return Some("");
    }
    let flipped = a[0] ^ SIGN_FLAG;
    (flipped == b[0] && a[1..] == b[1..]).then_some("minus ")
}

impl VerifyingKey {
    /// The first defect that lets anyone forge proofs for this key, if any.
    pub fn defect(&self) -> Option<KeyDefect> {
        let at_infinity = [
            ("alpha", g1_is_infinity(&self.alpha_g1)),
            ("beta", g2_is_infinity(&self.beta_g2)),
            ("gamma", g2_is_infinity(&self.gamma_g2)),
            ("delta", g2_is_infinity(&self.delta_g2)),
        ];
        if let Some((name, _)) = at_infinity.iter().find(|(_, inf)| *inf) {
            return Some(KeyDefect::AtInfinity(name));
        }
        let (beta, gamma, delta) = (
            compress_g2(&self.beta_g2),
            compress_g2(&self.gamma_g2),
            compress_g2(&self.delta_g2),
        );
        if let Some(sign) = relation(&gamma, &delta) {
            return Some(KeyDefect::GammaIsDelta(sign));
        }
        if let Some(sign) = relation(&beta, &gamma) {
            return Some(KeyDefect::BetaIsGamma(sign));
        }
        inputs_defect(&self.ic)
    }
}

/// IC₁… (the points of the public inputs) at infinity, or two of them equal up to sign.
/// Sorted with the sign flag cleared, equal-up-to-sign points are neighbours: n log n.
fn inputs_defect(ic: &[G1Affine]) -> Option<KeyDefect> {
    let mut encoded: Vec<([u8; 48], usize)> = Vec::with_capacity(ic.len());
    for (j, point) in ic.iter().enumerate().skip(1) {
        if g1_is_infinity(point) {
            return Some(KeyDefect::InputUnconstrained(j));
        }
        encoded.push((compress_g1(point), j));
    }
    let unsigned = |e: &[u8; 48]| {
        let mut e = *e;
        e[0] &= !SIGN_FLAG;
        e
    };
    encoded.sort_unstable_by_key(|(e, j)| (unsigned(e), *j));
    encoded
        .windows(2)
        .filter_map(|w| Some((w[0].1, w[1].1, relation(&w[0].0, &w[1].0)?)))
        .min_by_key(|&(_, later, _)| later)
        .map(|(earlier, later, sign)| KeyDefect::InputsTied {
            earlier,
            later,
            sign,
        })
}
