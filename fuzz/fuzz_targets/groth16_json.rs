//! snarkjs JSON: verification_key.json, proof.json and public.json. Whatever parses
//! re-parses identically from its canonical (arkworks compressed) encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veribatch_engine::groth16::formats::parse_public_json;
use veribatch_engine::groth16::{DegenerateKeys, KeyFormat, parse_proof};

fuzz_target!(|data: &[u8]| {
    for policy in [DegenerateKeys::Refuse, DegenerateKeys::Accept] {
        if let Ok(key) = KeyFormat::SnarkjsJson.parse_key_with(data, policy) {
            let again = KeyFormat::Arkworks
                .parse_key_with(&key.canonical_bytes(), policy)
                .expect("a canonical key parses");
            assert_eq!(again, key, "key round trip");
            assert!(policy == DegenerateKeys::Accept || key.defect().is_none());
        }
    }
    if let Ok(proof) = parse_proof(data) {
        assert_eq!(
            parse_proof(&proof.canonical_bytes()),
            Ok(proof),
            "proof round trip"
        );
    }
    let _ = parse_public_json(data);
});
