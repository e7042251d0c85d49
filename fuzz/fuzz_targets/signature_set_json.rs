//! Signature sets from NDJSON lines, as `veribatch verify bls` reads them, verified under
//! a scheme the first byte picks: the verdict in a batch equals the verdict alone.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veribatch_engine::bls::{Ciphersuite, Scheme, SignatureSet};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, line)) = data.split_first() else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(line) else {
        return;
    };
    let Ok(set) = SignatureSet::from_json(&value) else {
        return;
    };
    let suite = match pick % 4 {
        0 => Ciphersuite::ETHEREUM,
        n => Ciphersuite::new(b"FUZZ_TAG".to_vec(), Some(Scheme::ALL[usize::from(n - 1)]))
            .expect("a valid tag"),
    };
    veribatch_fuzz::batch_equals_singles(&[set], &suite);
});
