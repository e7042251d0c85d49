//! Inputs with known verdicts for everything that drives veribatch from outside: the
//! load generator and its attacks, calibration, benchmarks and the integration tests.
//!
//! The seeded generators the self-test also uses (signature sets, points, scalars,
//! chunks, the snarkjs Groth16 fixtures) live in the engine, in
//! [`veribatch_engine::selftest::inputs`], because the self-test ships with the
//! engine; they are re-exported here so callers have one place to look. What only the
//! load, attack and benchmark paths need is defined here, outside the product crates.

pub use veribatch_engine::selftest::inputs::*;

use veribatch_engine::Engine;
use veribatch_engine::bls::Ciphersuite;
use veribatch_engine::curves::bls12_381 as curve;
use veribatch_engine::merkle::TreeHash;
use veribatch_engine::sm2::{self, DEFAULT_ID, Signed, Sm2Item};
use veribatch_engine::transparency_log::{Hash, InclusionProof, LogProof, node_hash};

/// A committee of `size` validators all signing one message, for FastAggregateVerify:
/// the members' compressed keys, the message and the aggregate signature (valid).
pub fn committee(
    engine: &Engine,
    validators: &Validators,
    size: usize,
    rng: &mut Rng,
) -> (Vec<Vec<u8>>, Vec<u8>, Vec<u8>) {
    let message = format!("block root {}", rng.next_u64()).into_bytes();
    let members: Vec<usize> = (0..size)
        .map(|_| rng.below(validators.public_keys.len() as u64) as usize)
        .collect();
    let signatures: Vec<[u8; 96]> = members
        .iter()
        .map(|&v| {
            engine
                .sign(&validators.secret_keys[v], &message, &Ciphersuite::ETHEREUM)
                .expect("a valid key signs")
        })
        .collect();
    let signature = engine
        .aggregate_signatures(&signatures)
        .expect("valid signatures aggregate")
        .to_vec();
    let keys = members
        .iter()
        .map(|&v| validators.public_keys[v].clone())
        .collect();
    (keys, message, signature)
}

/// `n` valid RFC 9162 inclusion proofs in a perfect tree of `2^height` leaves: random
/// leaf hashes, indices and paths, each root folded from its path.
pub fn log_inclusion_proofs(n: usize, height: u32, rng: &mut Rng) -> Vec<LogProof> {
    let mut hash = || -> Hash { rng.bytes(32).try_into().expect("32 bytes") };
    (0..n)
        .map(|_| {
            let leaf_hash = hash();
            let index = u64::from_le_bytes(hash()[..8].try_into().expect("8 bytes"))
                .checked_shr(64 - height)
                .unwrap_or(0);
            let path: Vec<Hash> = (0..height).map(|_| hash()).collect();
            let root = path.iter().enumerate().fold(leaf_hash, |r, (h, node)| {
                if index >> h & 1 == 1 {
                    node_hash(node, &r)
                } else {
                    node_hash(&r, node)
                }
            });
            LogProof::Inclusion(InclusionProof {
                hash: TreeHash::Sha256,
                size: 1 << height,
                index,
                leaf_hash,
                path,
                root,
            })
        })
        .collect()
}

/// `n` valid SM2 signatures (DER, default ID) of 100-byte messages by `keys` accounts
/// in turn, as transactions of many accounts come.
pub fn sm2_signatures(n: usize, keys: usize, rng: &mut Rng) -> Vec<Sm2Item> {
    let accounts: Vec<_> = (0..keys.max(1))
        .map(|_| {
            let secret = sm2::signing::SecretKey::from_seed(&rng.bytes(32));
            (secret, secret.public_key().to_uncompressed().to_vec())
        })
        .collect();
    (0..n)
        .map(|i| {
            let (secret, public_key) = &accounts[i % accounts.len()];
            let message = rng.bytes(100);
            let signature = secret.sign(DEFAULT_ID, &message, &i.to_le_bytes()).to_der();
            Sm2Item {
                public_key: public_key.clone(),
                signed: Signed::Message(message),
                signature,
                id: None,
            }
        })
        .collect()
}

/// The `n`-th of a family of distinct, sound Groth16 keys (one public input) in arkworks'
/// compressed layout: every point a different multiple of the generator, so no two keys
/// are equal and none is degenerate (`veribatch load --attack register-flood`).
pub fn distinct_groth16_key(n: u64) -> Vec<u8> {
    // In Fr: n·1000003 + 7 times small k overflows no integer and is never zero.
    let base = curve::Fr::from_u64(n) * curve::Fr::from_u64(1_000_003) + curve::Fr::from_u64(7);
    let scalar = |k: u64| base * curve::Fr::from_u64(k);
    let g1 = |k: u64| curve::compress_g1(&curve::p1_affine(&scalar(k).times_g1_generator()));
    let g2 = |k: u64| curve::compress_g2(&curve::p2_affine(&scalar(k).times_g2_generator()));
    let mut key = Vec::with_capacity(48 + 3 * 96 + 8 + 2 * 48);
    key.extend_from_slice(&g1(2));
    for k in [3, 5, 7] {
        key.extend_from_slice(&g2(k));
    }
    key.extend_from_slice(&2u64.to_le_bytes());
    for k in [11, 13] {
        key.extend_from_slice(&g1(k));
    }
    key
}

/// Writes `sets` valid BLS signature sets as NDJSON lines (what `veribatch verify bls`
/// reads), each by its own validator, over `messages` distinct messages taken in turn:
/// the input of the streamed verification figures. Keys come from a fixed seed, so the
/// same arguments write the same bytes; each message is hashed to G2 once and signed by
/// multiplying that point by each key, on every core.
pub fn write_signature_set_lines(
    out: &mut impl std::io::Write,
    sets: usize,
    messages: usize,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    use veribatch_engine::bls::ETH_DST;
    let messages: Vec<Vec<u8>> = (0..messages.max(1))
        .map(|m| format!("attestation {m}").into_bytes())
        .collect();
    let hashed: Vec<_> = messages
        .iter()
        .map(|m| curve::p2_affine(&curve::g2_hash(m, ETH_DST)))
        .collect();
    let mut rng = Rng::new(0x5e75);
    const CHUNK: usize = 1 << 14;
    let mut written = 0;
    while written < sets {
        let n = CHUNK.min(sets - written);
        let keys: Vec<(usize, curve::Scalar)> = (written..written + n)
            .map(|i| {
                let mut sk: [u8; 32] = rng.bytes(32).try_into().expect("32 bytes");
                sk[0] &= 0x3f;
                sk[31] |= 1;
                let key = curve::Scalar::from_be_bytes_nonzero(&sk).expect("a key below r");
                (i % messages.len(), key)
            })
            .collect();
        let lines: Vec<String> = keys
            .par_iter()
            .map(|(m, key)| {
                let public_key = curve::compress_g1(&curve::p1_affine(&key.times_g1_generator()));
                let signature = curve::compress_g2(&curve::p2_affine(&key.times_g2(&hashed[*m])));
                format!(
                    "{{\"signature\":\"0x{}\",\"pubkeys\":[\"0x{}\"],\"messages\":[\"0x{}\"]}}\n",
                    hex::encode(signature),
                    hex::encode(public_key),
                    hex::encode(&messages[*m])
                )
            })
            .collect();
        for line in lines {
            out.write_all(line.as_bytes())?;
        }
        written += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use veribatch_engine::EngineConfig;
    use veribatch_engine::groth16::KeyFormat;

    /// The flood's keys are all sound, one public input each, and never repeat.
    #[test]
    fn distinct_groth16_keys_register_and_differ() {
        let engine = Engine::new(&EngineConfig::default());
        for n in [0, 1, 1 << 40, u64::MAX] {
            let key = distinct_groth16_key(n);
            assert_eq!(KeyFormat::detect(&key), Some(KeyFormat::Arkworks));
            let registered = engine
                .register_groth16_key(&key, None)
                .expect("a sound key");
            assert_eq!(registered.key().public_inputs(), 1);
        }
        assert_ne!(distinct_groth16_key(1), distinct_groth16_key(2));
    }

    /// A committee's aggregate verifies under FastAggregateVerify, and the generated
    /// log proofs verify against their own roots.
    #[test]
    fn committees_and_log_proofs_are_valid() {
        let engine = Engine::new(&EngineConfig::default());
        let mut rng = Rng::new(5);
        let validators = Validators::new(&engine, 8, &mut rng);
        let (keys, message, signature) = committee(&engine, &validators, 5, &mut rng);
        assert_eq!(keys.len(), 5);
        assert_eq!(
            engine.fast_aggregate_verify(&keys, &message, &signature, &Ciphersuite::ETHEREUM),
            Ok(true)
        );
        let proofs = log_inclusion_proofs(16, 10, &mut rng);
        assert_eq!(proofs.len(), 16);
        assert!(proofs.iter().all(LogProof::verify));
        let signatures = sm2_signatures(30, 7, &mut rng);
        let engine = Engine::new(&veribatch_engine::EngineConfig::default());
        assert!(
            engine
                .verify_sm2(&signatures)
                .iter()
                .all(|v| *v == Ok(true))
        );
        assert_eq!(engine.cached_sm2_signers(), 7);
    }
}
