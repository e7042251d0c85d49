//! Signature sets with known answers, made with the engine's own signing (checked against
//! the Ethereum `sign` vectors). Shared by the tests and the benchmarks.

use veribatch_engine::Engine;
use veribatch_engine::bls::{Ciphersuite, SignatureSet};

use super::{TestRng, secret_key};

/// A pool of validator keys.
pub struct Validators {
    pub secret_keys: Vec<Vec<u8>>,
    pub public_keys: Vec<Vec<u8>>,
}

impl Validators {
    pub fn new(n: usize, rng: &mut TestRng) -> Self {
        let secret_keys: Vec<Vec<u8>> = (0..n).map(|_| secret_key(rng)).collect();
        let public_keys = secret_keys.iter().map(|sk| public_key(sk)).collect();
        Self {
            secret_keys,
            public_keys,
        }
    }
}

/// SkToPk with blst directly, so keys do not come from the code under test.
pub fn public_key(sk: &[u8]) -> Vec<u8> {
    blst::min_pk::SecretKey::from_bytes(sk)
        .expect("a secret key below r")
        .sk_to_pk()
        .compress()
        .to_vec()
}

/// `n` valid single-key sets whose messages cycle through `distinct_messages` messages.
pub fn single_key_sets(
    engine: &Engine,
    validators: &Validators,
    n: usize,
    distinct_messages: usize,
) -> Vec<SignatureSet> {
    (0..n)
        .map(|i| {
            let v = i % validators.public_keys.len();
            let message = format!("attestation data {}", i % distinct_messages).into_bytes();
            SignatureSet {
                signature: engine
                    .sign(&validators.secret_keys[v], &message, &Ciphersuite::ETHEREUM)
                    .unwrap()
                    .to_vec(),
                public_keys: vec![validators.public_keys[v].clone()],
                messages: vec![message],
            }
        })
        .collect()
}

/// A valid committee set: `size` validators starting at `first` all sign `message`.
pub fn committee_set(
    engine: &Engine,
    validators: &Validators,
    first: usize,
    size: usize,
    message: &[u8],
) -> SignatureSet {
    let members: Vec<usize> = (0..size)
        .map(|k| (first + k) % validators.public_keys.len())
        .collect();
    let signatures: Vec<[u8; 96]> = members
        .iter()
        .map(|&v| {
            engine
                .sign(&validators.secret_keys[v], message, &Ciphersuite::ETHEREUM)
                .unwrap()
        })
        .collect();
    SignatureSet {
        signature: engine.aggregate_signatures(&signatures).unwrap().to_vec(),
        public_keys: members
            .iter()
            .map(|&v| validators.public_keys[v].clone())
            .collect(),
        messages: vec![message.to_vec()],
    }
}
