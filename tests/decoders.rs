//! Every decoder fed truncated, oversized, non-canonical and random bytes returns an
//! error (or, for bytes that happen to be valid, a value), never panics.

mod common;

use common::TestRng;
use common::groth16::{Fixture, bellman_key, compressed};
use veribatch_engine::bls::keys::deserialize_g1;
use veribatch_engine::bls::{PublicKey, Signature};
use veribatch_engine::groth16::formats::parse_public_json;
use veribatch_engine::groth16::{KeyFormat, PublicInput, parse_proof};
use veribatch_engine::merkle::verify_multiproof;

/// Variants of `valid`: every truncation, extensions, single-bit flips, flag-byte
/// changes, and random bytes of nearby lengths.
fn mutations(valid: &[u8], rng: &mut TestRng) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for n in 0..valid.len() {
        out.push(valid[..n].to_vec());
    }
    for extra in [1, 2, 48, 96] {
        let mut v = valid.to_vec();
        v.extend(rng.bytes(extra));
        out.push(v);
    }
    for _ in 0..200 {
        let mut v = valid.to_vec();
        let bit = rng.below(8 * valid.len() as u64);
        v[(bit / 8) as usize] ^= 1 << (bit % 8);
        out.push(v);
    }
    for flags in 0..8u8 {
        let mut v = valid.to_vec();
        v[0] = (v[0] & 0x1f) | (flags << 5);
        out.push(v);
    }
    for _ in 0..200 {
        let len = valid.len() + rng.below(3) as usize - 1;
        out.push(rng.bytes(len));
    }
    out
}

#[test]
fn bls_point_decoders_never_panic() {
    let mut rng = TestRng::new(11);
    let engine = common::engine();
    let sk = common::secret_key(&mut rng);
    let pk = common::bls::public_key(&sk);
    let sig = engine
        .sign(&sk, b"m", &veribatch_engine::bls::Ciphersuite::ETHEREUM)
        .unwrap();
    assert!(PublicKey::from_bytes(&pk).is_ok());
    assert!(Signature::from_bytes(&sig).is_ok());
    let mut rejected = 0;
    for bytes in mutations(&pk, &mut rng) {
        rejected += usize::from(PublicKey::from_bytes(&bytes).is_err());
        let _ = deserialize_g1(&bytes);
    }
    for bytes in mutations(&sig, &mut rng) {
        rejected += usize::from(Signature::from_bytes(&bytes).is_err());
    }
    assert!(rejected > 800, "most mutations are rejected ({rejected})");
    // Coordinates equal to p, with each flag combination: never canonical.
    let p = hex::decode("1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab").unwrap();
    for flags in [0x80u8, 0xa0] {
        let mut x = p.clone();
        x[0] |= flags;
        assert!(PublicKey::from_bytes(&x).is_err());
    }
}

#[test]
fn groth16_key_decoders_never_panic() {
    let mut rng = TestRng::new(12);
    let fx = Fixture::new(9);
    let ark = compressed(&fx.vk);
    let bellman = bellman_key(&fx.vk);
    for (valid, format) in [(ark, KeyFormat::Arkworks), (bellman, KeyFormat::Bellman)] {
        assert!(format.parse_key(&valid).is_ok());
        // Bit flips within a whole key are numerous; sample the mutations.
        for bytes in mutations(&valid, &mut rng).into_iter().step_by(3) {
            let _ = format.parse_key(&bytes);
            let _ = KeyFormat::detect(&bytes);
        }
    }
    let json = std::fs::read(common::snarkjs_vectors().join("verification_key.json")).unwrap();
    assert!(KeyFormat::SnarkjsJson.parse_key(&json).is_ok());
    for bytes in mutations(&json, &mut rng).into_iter().step_by(7) {
        let _ = KeyFormat::SnarkjsJson.parse_key(&bytes);
    }
    for text in [
        "{}",
        "[]",
        "null",
        "{\"IC\": []}",
        "{\"IC\": [[\"1\"]]}",
        "{\"IC\": 5, \"nPublic\": -1}",
    ] {
        assert!(
            KeyFormat::SnarkjsJson.parse_key(text.as_bytes()).is_err(),
            "{text}"
        );
    }
}

#[test]
fn groth16_proof_and_input_decoders_never_panic() {
    let mut rng = TestRng::new(13);
    let mut fx = Fixture::new(10);
    let (proof, _) = fx.prove(2, 3);
    let bytes = compressed(&proof);
    assert!(parse_proof(&bytes).is_ok());
    let mut rejected = 0;
    for m in mutations(&bytes, &mut rng) {
        rejected += usize::from(parse_proof(&m).is_err());
    }
    assert!(rejected > 400, "{rejected}");
    let json = std::fs::read(common::snarkjs_vectors().join("proof_0.json")).unwrap();
    for m in mutations(&json, &mut rng).into_iter().step_by(5) {
        let _ = parse_proof(&m);
    }
    for m in mutations(b"[\"1\", \"2\", \"3\"]", &mut rng) {
        let _ = parse_public_json(&m);
    }
    for _ in 0..1000 {
        let len = rng.below(40) as usize;
        let _ = PublicInput::from_be_bytes(&rng.bytes(len), 0);
    }
}

#[test]
fn merkle_proof_verification_never_panics() {
    let mut rng = TestRng::new(14);
    for _ in 0..2000 {
        let leaves: Vec<(u64, [u8; 32])> = (0..rng.below(4))
            .map(|_| {
                let g = match rng.below(3) {
                    0 => rng.next_u64(),
                    1 => rng.below(64),
                    _ => u64::MAX - rng.below(4),
                };
                (g, [0u8; 32])
            })
            .collect();
        let proof: Vec<[u8; 32]> = (0..rng.below(70)).map(|_| [1u8; 32]).collect();
        let _ = verify_multiproof(&leaves, &proof, &[0; 32]);
    }
    assert!(verify_multiproof(&[(0, [0; 32])], &[], &[0; 32]).is_err());
    assert!(verify_multiproof(&[(4, [0; 32]), (2, [0; 32])], &[[0; 32]; 2], &[0; 32]).is_err());
    // The root itself, with no helpers: valid exactly when it is the root.
    assert_eq!(verify_multiproof(&[(1, [7; 32])], &[], &[7; 32]), Ok(true));
}
