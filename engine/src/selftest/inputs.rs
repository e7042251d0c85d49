//! The self-test's inputs, with known answers, made deterministically from a seed: every
//! verdict is checkable without trusting the thing tested. The testkit crate
//! (`veribatch-testkit`) builds the load tests', benchmarks' and attacks' workloads on
//! these.
//!
//! Valid items are made valid by construction (signed with known keys); invalid ones by
//! a known corruption (another message, another key, swapped signatures), malformed ones
//! by truncation. Groth16 items are the snarkjs fixtures in `engine/vectors/`, which ship
//! with the engine for this reason.

use crate::backend::Scalars;
use crate::bls::{Ciphersuite, SignatureSet};
use crate::curves::bls12_381 as curve;
use crate::curves::bls12_381::{G1Affine, G2Affine};
use crate::engine::{Engine, ProofInput};

/// A deterministic byte stream (SplitMix64): the same seed, the same workload.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// What an item's verdict must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    Valid,
    Invalid,
    Malformed,
}

impl Expected {
    /// Whether `verdict` (valid flag, error present) is what was expected.
    pub fn matches(self, valid: bool, has_error: bool) -> bool {
        match self {
            Self::Valid => valid && !has_error,
            Self::Invalid => !valid && !has_error,
            Self::Malformed => !valid && has_error,
        }
    }
}

/// Validator keys: secret and compressed public keys.
pub struct Validators {
    pub secret_keys: Vec<[u8; 32]>,
    pub public_keys: Vec<Vec<u8>>,
}

impl Validators {
    pub fn new(engine: &Engine, n: usize, rng: &mut Rng) -> Self {
        let secret_keys: Vec<[u8; 32]> = (0..n)
            .map(|_| {
                let mut sk: [u8; 32] = rng.bytes(32).try_into().expect("32 bytes");
                sk[0] &= 0x3f; // below r
                sk[31] |= 1; // not zero
                sk
            })
            .collect();
        let public_keys = secret_keys
            .iter()
            .map(|sk| engine.public_key(sk).expect("a valid secret key").to_vec())
            .collect();
        Self {
            secret_keys,
            public_keys,
        }
    }
}

/// `n` signature sets over `messages` distinct messages, each valid, invalid or
/// malformed as its [`Expected`] says: about `bad_percent`% are not valid.
pub fn signature_sets(
    engine: &Engine,
    validators: &Validators,
    n: usize,
    messages: usize,
    bad_percent: u64,
    rng: &mut Rng,
) -> Vec<(SignatureSet, Expected)> {
    let keys = validators.public_keys.len();
    (0..n)
        .map(|_| {
            let v = rng.below(keys as u64) as usize;
            let message = format!("attestation {}", rng.below(messages.max(1) as u64)).into_bytes();
            let mut set = SignatureSet {
                signature: engine
                    .sign(&validators.secret_keys[v], &message, &Ciphersuite::ETHEREUM)
                    .expect("a valid key signs")
                    .to_vec(),
                public_keys: vec![validators.public_keys[v].clone()],
                messages: vec![message],
            };
            let expected = if rng.below(100) >= bad_percent {
                Expected::Valid
            } else {
                match rng.below(3) {
                    0 => {
                        set.messages[0].extend_from_slice(b" (tampered)");
                        Expected::Invalid
                    }
                    1 if keys > 1 => {
                        set.public_keys[0] = validators.public_keys[(v + 1) % keys].clone();
                        Expected::Invalid
                    }
                    _ => {
                        set.signature.truncate(95);
                        Expected::Malformed
                    }
                }
            };
            (set, expected)
        })
        .collect()
}

/// `n` random 32-byte Merkle chunks, concatenated.
pub fn chunks(n: usize, rng: &mut Rng) -> Vec<u8> {
    rng.bytes(32 * n)
}

/// `n` distinct points of G1: P, 2P, 3P, … for a random P (one addition each, so large
/// inputs are cheap to make; the primitives' speed does not depend on the points).
pub fn g1_points(n: usize, rng: &mut Rng) -> Vec<G1Affine> {
    let start = curve::g1_hash(&rng.bytes(32), b"");
    curve::p1s_to_affine(&multiples(start, n, curve::g1_add))
}

/// `n` distinct points of G2, made as [`g1_points`].
pub fn g2_points(n: usize, rng: &mut Rng) -> Vec<G2Affine> {
    let start = curve::g2_hash(&rng.bytes(32), b"");
    curve::p2s_to_affine(&multiples(start, n, curve::g2_add))
}

/// start, 2·start, …, n·start.
fn multiples<P: Copy>(start: P, n: usize, add: fn(&P, &P) -> P) -> Vec<P> {
    let mut point = start;
    (0..n)
        .map(|_| {
            let current = point;
            point = add(&current, &start);
            current
        })
        .collect()
}

/// `n` random 64-bit scalars (as batch verification draws them).
pub fn scalars_u64(n: usize, rng: &mut Rng) -> Scalars {
    Scalars::from_u64s(&(0..n).map(|_| rng.next_u64()).collect::<Vec<_>>())
}

/// `n` random 255-bit scalars below 2^254 (elements of Fr, as Groth16's MSMs use).
pub fn scalars_fr(n: usize, rng: &mut Rng) -> Scalars {
    let values: Vec<[u8; 32]> = (0..n)
        .map(|_| {
            let mut b: [u8; 32] = rng.bytes(32).try_into().expect("32 bytes");
            b[31] &= 0x3f;
            b
        })
        .collect();
    Scalars::from_fr_le(&values)
}

/// The snarkjs fixture key of the test suite (BLS12-381, three public inputs).
pub const GROTH16_KEY: &[u8] =
    include_bytes!("../../vectors/groth16/snarkjs/verification_key.json");

const GROTH16_PROOFS: [(&[u8], &[u8]); 4] = [
    (
        include_bytes!("../../vectors/groth16/snarkjs/proof_0.json"),
        include_bytes!("../../vectors/groth16/snarkjs/public_0.json"),
    ),
    (
        include_bytes!("../../vectors/groth16/snarkjs/proof_1.json"),
        include_bytes!("../../vectors/groth16/snarkjs/public_1.json"),
    ),
    (
        include_bytes!("../../vectors/groth16/snarkjs/proof_2.json"),
        include_bytes!("../../vectors/groth16/snarkjs/public_2.json"),
    ),
    (
        include_bytes!("../../vectors/groth16/snarkjs/proof_3.json"),
        include_bytes!("../../vectors/groth16/snarkjs/public_3.json"),
    ),
];

/// `n` proofs for [`GROTH16_KEY`]: the fixtures with their own inputs (valid), with
/// another proof's inputs (invalid), or with an input of r (malformed: not canonical).
pub fn groth16_proofs(n: usize, bad_percent: u64, rng: &mut Rng) -> Vec<(ProofInput, Expected)> {
    let inputs = |i: usize| -> Vec<Vec<u8>> {
        crate::groth16::formats::parse_public_json(GROTH16_PROOFS[i].1)
            .expect("fixture inputs parse")
            .iter()
            .map(|x| x.to_vec())
            .collect()
    };
    (0..n)
        .map(|_| {
            let i = rng.below(4) as usize;
            let mut input = ProofInput {
                proof: GROTH16_PROOFS[i].0.to_vec(),
                public_inputs: inputs(i),
            };
            let expected = if rng.below(100) >= bad_percent {
                Expected::Valid
            } else if rng.below(2) == 0 {
                input.public_inputs = inputs((i + 1) % 4);
                Expected::Invalid
            } else {
                input.public_inputs[0] = R_BE.to_vec();
                Expected::Malformed
            };
            (input, expected)
        })
        .collect()
}

/// The scalar field modulus r, big-endian: the smallest non-canonical public input.
const R_BE: [u8; 32] = [
    0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8, 0x08, 0x09, 0xa1, 0xd8, 0x05,
    0x53, 0xbd, 0xa4, 0x02, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EngineConfig;

    #[test]
    fn every_generated_item_has_the_verdict_it_claims() {
        let engine = Engine::new(&EngineConfig::default());
        let mut rng = Rng::new(3);
        let validators = Validators::new(&engine, 8, &mut rng);
        let items = signature_sets(&engine, &validators, 120, 4, 30, &mut rng);
        let sets: Vec<SignatureSet> = items.iter().map(|(s, _)| s.clone()).collect();
        let verdicts = engine.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM);
        for ((_, expected), v) in items.iter().zip(&verdicts) {
            assert!(
                expected.matches(*v == Ok(true), v.is_err()),
                "{expected:?} vs {v:?}"
            );
        }
        assert!(items.iter().any(|i| i.1 == Expected::Invalid));
        assert!(items.iter().any(|i| i.1 == Expected::Malformed));

        let key = engine.register_groth16_key(GROTH16_KEY, None).unwrap();
        let proofs = groth16_proofs(40, 40, &mut rng);
        let inputs: Vec<ProofInput> = proofs.iter().map(|(p, _)| p.clone()).collect();
        for ((_, expected), v) in proofs.iter().zip(engine.verify_groth16(&key, &inputs)) {
            assert!(
                expected.matches(v == Ok(true), v.is_err()),
                "{expected:?} vs {v:?}"
            );
        }
    }
}
