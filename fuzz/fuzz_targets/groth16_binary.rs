//! arkworks and bellman verifying keys and 192-byte compressed proofs: whatever parses
//! re-parses identically from its canonical encoding, and detection never picks a format
//! the bytes then fail to be for a reason of length alone.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veribatch_engine::groth16::{DegenerateKeys, KeyFormat, parse_proof};

fuzz_target!(|data: &[u8]| {
    for format in [KeyFormat::Arkworks, KeyFormat::Bellman] {
        if let Ok(key) = format.parse_key_with(data, DegenerateKeys::Accept) {
            let canonical = key.canonical_bytes();
            assert_eq!(KeyFormat::detect(&canonical), Some(KeyFormat::Arkworks));
            let again = KeyFormat::Arkworks
                .parse_key_with(&canonical, DegenerateKeys::Accept)
                .expect("a canonical key parses");
            assert_eq!(again, key, "{format} key round trip");
            assert_eq!(
                format.parse_key(data).is_ok(),
                key.defect().is_none(),
                "refused exactly when degenerate"
            );
        }
    }
    let _ = KeyFormat::detect(data);
    if let Ok(proof) = parse_proof(data) {
        assert_eq!(
            &proof.canonical_bytes()[..],
            data,
            "binary proofs are canonical"
        );
    }
});
