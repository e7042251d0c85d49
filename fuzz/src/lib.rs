//! What the fuzz targets share: one CPU engine, and the differential check that a
//! signature set's verdict in a batch is its verdict alone.

use std::sync::OnceLock;

use veribatch_engine::backend::BackendChoice;
use veribatch_engine::bls::{Ciphersuite, SignatureSet};
use veribatch_engine::{Engine, EngineConfig};

/// The engine every target uses: the CPU backend (the reference), caches small.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::new(&EngineConfig {
            backend: BackendChoice::Cpu,
            public_key_cache: 64,
            groth16_keys: 4,
            ..EngineConfig::default()
        })
    })
}

/// A valid Ethereum set (one key, one message), made once.
fn valid_set() -> &'static SignatureSet {
    static SET: OnceLock<SignatureSet> = OnceLock::new();
    SET.get_or_init(|| {
        let sk = [7u8; 32];
        let e = engine();
        let suite = &Ciphersuite::ETHEREUM;
        SignatureSet {
            signature: e.sign(&sk, b"fuzz", suite).expect("a valid key").to_vec(),
            public_keys: vec![e.public_key(&sk).expect("a valid key").to_vec()],
            messages: vec![b"fuzz".to_vec()],
        }
    })
}

/// Verifies `sets` one by one and together, beside a known valid set at each end, and
/// panics (a finding) if any verdict differs between the runs or the valid set fails.
pub fn batch_equals_singles(sets: &[SignatureSet], suite: &Ciphersuite) {
    let e = engine();
    let alone: Vec<_> = sets
        .iter()
        .map(|s| {
            e.verify_signature_sets(std::slice::from_ref(s), suite)
                .remove(0)
        })
        .collect();
    let mut batch = Vec::with_capacity(sets.len() + 2);
    batch.push(valid_set().clone());
    batch.extend_from_slice(sets);
    batch.push(valid_set().clone());
    let together = e.verify_signature_sets(&batch, suite);
    assert_eq!(together.len(), sets.len() + 2, "one verdict per set");
    assert_eq!(
        &together[1..=sets.len()],
        &alone[..],
        "batch verdicts differ from single ones"
    );
    if *suite == Ciphersuite::ETHEREUM {
        assert_eq!(
            together[0],
            Ok(true),
            "a valid set failed beside fuzzed ones"
        );
        assert_eq!(
            together[sets.len() + 1],
            Ok(true),
            "a valid set failed beside fuzzed ones"
        );
    }
}
