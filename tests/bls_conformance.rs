//! The Ethereum BLS conformance vectors (ethereum/bls12-381-tests v0.1.2, all 98 cases)
//! and the RFC 9380 hash-to-G2 vectors, run through the engine's public API.

mod common;

use common::{engine, json_files, unhex};
use serde_json::Value;
use veribatch_engine::bls::keys::deserialize_g1;
use veribatch_engine::bls::{Ciphersuite, PublicKey, Signature, SignatureSet};

const RFC_G2_DST: &[u8] = b"QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";

fn bytes(v: &Value) -> Option<Vec<u8>> {
    unhex(v.as_str().expect("hex string"))
}

fn byte_list(v: &Value) -> Option<Vec<Vec<u8>>> {
    v.as_array().expect("array").iter().map(bytes).collect()
}

/// A boolean outcome: malformed input (bad hex, bad point) counts as `false`, as the
/// vectors expect.
fn outcome(r: Option<Result<bool, impl std::fmt::Debug>>) -> bool {
    matches!(r, Some(Ok(true)))
}

fn cases(category: &str) -> Vec<(String, Value, Value)> {
    let files = json_files(&format!("bls/ethereum-v0.1.2/{category}"));
    assert!(!files.is_empty(), "no vectors in {category}");
    files
        .into_iter()
        .map(|(name, v)| (name, v["input"].clone(), v["output"].clone()))
        .collect()
}

#[test]
fn all_98_ethereum_cases_are_present() {
    let counts = [
        ("aggregate", 6),
        ("aggregate_verify", 5),
        ("batch_verify", 4),
        ("deserialization_G1", 13),
        ("deserialization_G2", 15),
        ("fast_aggregate_verify", 12),
        ("hash_to_G2", 4),
        ("sign", 10),
        ("verify", 29),
    ];
    for (category, n) in counts {
        assert_eq!(cases(category).len(), n, "{category}");
    }
    assert_eq!(counts.iter().map(|c| c.1).sum::<usize>(), 98);
}

#[test]
fn verify() {
    let engine = engine();
    for (name, input, expected) in cases("verify") {
        let got = outcome((|| {
            Some(engine.verify(
                &bytes(&input["pubkey"])?,
                &bytes(&input["message"])?,
                &bytes(&input["signature"])?,
                &Ciphersuite::ETHEREUM,
            ))
        })());
        assert_eq!(got, expected.as_bool().unwrap(), "{name}");
    }
}

#[test]
fn fast_aggregate_verify() {
    let engine = engine();
    for (name, input, expected) in cases("fast_aggregate_verify") {
        let got = outcome((|| {
            Some(engine.fast_aggregate_verify(
                &byte_list(&input["pubkeys"])?,
                &bytes(&input["message"])?,
                &bytes(&input["signature"])?,
                &Ciphersuite::ETHEREUM,
            ))
        })());
        assert_eq!(got, expected.as_bool().unwrap(), "{name}");
    }
}

#[test]
fn aggregate_verify() {
    let engine = engine();
    for (name, input, expected) in cases("aggregate_verify") {
        let got = outcome((|| {
            Some(engine.aggregate_verify(
                &byte_list(&input["pubkeys"])?,
                &byte_list(&input["messages"])?,
                &bytes(&input["signature"])?,
                &Ciphersuite::ETHEREUM,
            ))
        })());
        assert_eq!(got, expected.as_bool().unwrap(), "{name}");
    }
}

#[test]
fn batch_verify() {
    let engine = engine();
    for (name, input, expected) in cases("batch_verify") {
        let pubkeys = byte_list(&input["pubkeys"]).unwrap();
        let messages = byte_list(&input["messages"]).unwrap();
        let signatures = byte_list(&input["signatures"]).unwrap();
        let sets: Vec<SignatureSet> = (0..pubkeys.len())
            .map(|i| SignatureSet {
                signature: signatures[i].clone(),
                public_keys: vec![pubkeys[i].clone()],
                messages: vec![messages[i].clone()],
            })
            .collect();
        let verdicts = engine.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM);
        let all_valid = verdicts.iter().all(|v| matches!(v, Ok(true)));
        assert_eq!(all_valid, expected.as_bool().unwrap(), "{name}");
        // Each set's verdict is its own Verify.
        for (i, set) in sets.iter().enumerate() {
            let alone = engine.verify(
                &set.public_keys[0],
                &set.messages[0],
                &set.signature,
                &Ciphersuite::ETHEREUM,
            );
            assert_eq!(
                verdicts[i].clone().unwrap_or(false),
                alone.unwrap_or(false),
                "{name} set {i}"
            );
        }
    }
}

#[test]
fn aggregate() {
    let engine = engine();
    for (name, input, expected) in cases("aggregate") {
        let signatures = byte_list(&input).unwrap();
        let got = engine.aggregate_signatures(&signatures).ok();
        let expected = if expected.is_null() {
            None
        } else {
            Some(bytes(&expected).unwrap())
        };
        assert_eq!(got.map(|s| s.to_vec()), expected, "{name}");
    }
}

#[test]
fn sign() {
    let engine = engine();
    for (name, input, expected) in cases("sign") {
        let got = engine
            .sign(
                &bytes(&input["privkey"]).unwrap(),
                &bytes(&input["message"]).unwrap(),
                &Ciphersuite::ETHEREUM,
            )
            .ok();
        let expected = if expected.is_null() {
            None
        } else {
            Some(bytes(&expected).unwrap())
        };
        assert_eq!(got.map(|s| s.to_vec()), expected, "{name}");
    }
}

#[test]
fn deserialization_g1() {
    for (name, input, expected) in cases("deserialization_G1") {
        let encoding = bytes(&input["pubkey"]);
        let got = encoding
            .as_deref()
            .is_some_and(|b| deserialize_g1(b).is_ok());
        assert_eq!(got, expected.as_bool().unwrap(), "{name}");
        // KeyValidate additionally rejects the point at infinity.
        let infinity = name.contains("infinity");
        let key_valid = encoding.is_some_and(|b| PublicKey::from_bytes(&b).is_ok());
        assert_eq!(key_valid, got && !infinity, "{name}");
    }
}

#[test]
fn deserialization_g2() {
    for (name, input, expected) in cases("deserialization_G2") {
        let got = bytes(&input["signature"]).is_some_and(|b| Signature::from_bytes(&b).is_ok());
        assert_eq!(got, expected.as_bool().unwrap(), "{name}");
    }
}

/// "0x<c0>,0x<c1>" as the 96 bytes c1 ‖ c0 of the uncompressed encoding.
fn fp2(v: &Value) -> Vec<u8> {
    let parts: Vec<Vec<u8>> = v
        .as_str()
        .unwrap()
        .split(',')
        .map(|p| unhex(p).unwrap())
        .collect();
    assert_eq!(parts.len(), 2);
    [parts[1].clone(), parts[0].clone()].concat()
}

#[test]
fn hash_to_g2_ethereum() {
    let engine = engine();
    for (name, input, expected) in cases("hash_to_G2") {
        let msg = input["msg"].as_str().unwrap().as_bytes();
        let got = engine.hash_to_g2(msg, RFC_G2_DST).unwrap();
        let want = [fp2(&expected["x"]), fp2(&expected["y"])].concat();
        assert_eq!(got.to_vec(), want, "{name}");
    }
}

#[test]
fn hash_to_g2_rfc9380() {
    let engine = engine();
    let (_, suite) = json_files("bls/rfc9380")
        .into_iter()
        .find(|(name, _)| name == "BLS12381G2_XMD_SHA-256_SSWU_RO_.json")
        .expect("G2 suite");
    let dst = suite["dst"].as_str().unwrap().as_bytes();
    assert_eq!(dst, RFC_G2_DST);
    let vectors = suite["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 5);
    for v in vectors {
        let msg = v["msg"].as_str().unwrap();
        let got = engine.hash_to_g2(msg.as_bytes(), dst).unwrap();
        let want = [fp2(&v["P"]["x"]), fp2(&v["P"]["y"])].concat();
        assert_eq!(got.to_vec(), want, "msg {msg:?}");
    }
}

/// The draft's Aggregate only decodes (signature_to_point): a point on the curve outside
/// the subgroup aggregates, and the aggregate then fails verification's subgroup check.
#[test]
fn aggregate_does_not_check_the_subgroup_but_verify_does() {
    let engine = engine();
    let (_, case) = json_files("bls/ethereum-v0.1.2/deserialization_G2")
        .into_iter()
        .find(|(name, _)| name == "deserialization_fails_not_in_G2.json")
        .unwrap();
    let outside = bytes(&case["input"]["signature"]).unwrap();
    assert!(Signature::from_bytes(&outside).is_err());
    let aggregate = engine.aggregate_signatures(&[&outside]).unwrap();
    assert_eq!(
        aggregate.to_vec(),
        outside,
        "a single point aggregates to itself"
    );
    let (_, input, _) = cases("verify")
        .into_iter()
        .find(|(name, _, _)| name.starts_with("verify_valid"))
        .unwrap();
    let pubkey = bytes(&input["pubkey"]).unwrap();
    let verdict = engine.verify(&pubkey, b"m", &aggregate, &Ciphersuite::ETHEREUM);
    assert_eq!(
        verdict.unwrap_err().to_string(),
        "signature: not in the prime-order subgroup"
    );
}
