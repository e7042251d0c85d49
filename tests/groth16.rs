//! Groth16 verification against proofs made by independent provers: arkworks
//! (ark-groth16, in arkworks and bellman encodings) and snarkjs (fixtures made with
//! circom2 and snarkjs 0.7.6; see engine/vectors/groth16/snarkjs/README.md).

mod common;

use ark_bls12_381::{Bls12_381, Fr};
use ark_ff::PrimeField;
use ark_groth16::Groth16;
use common::groth16::{Fixture, bellman_key, compressed, fr_be};
use veribatch_engine::groth16::{FormatError, KeyFormat, formats::parse_public_json};
use veribatch_engine::{ProofInput, Verdict};

fn proof_input(proof: &ark_groth16::Proof<Bls12_381>, inputs: &[Fr]) -> ProofInput {
    ProofInput {
        proof: compressed(proof),
        public_inputs: inputs.iter().map(fr_be).collect(),
    }
}

fn verdicts_ok(verdicts: &[Verdict]) -> Vec<bool> {
    verdicts.iter().map(|v| matches!(v, Ok(true))).collect()
}

#[test]
fn arkworks_proofs_verify_alone_and_in_batches() {
    let mut fx = Fixture::new(1);
    let engine = common::engine();
    let key = engine
        .register_groth16_key(&compressed(&fx.vk), None)
        .unwrap();
    assert_eq!(key.key().public_inputs(), 3);

    let proofs: Vec<ProofInput> = (0..12)
        .map(|i| {
            let (p, x) = fx.prove(i + 2, 3 * i + 7);
            proof_input(&p, &x)
        })
        .collect();
    assert_eq!(
        verdicts_ok(&engine.verify_groth16(&key, &proofs[..1])),
        [true]
    );
    assert_eq!(
        verdicts_ok(&engine.verify_groth16(&key, &proofs)),
        [true; 12]
    );
    assert!(engine.verify_groth16(&key, &[]).is_empty());
}

#[test]
fn bad_proofs_in_a_batch_are_named_exactly() {
    let mut fx = Fixture::new(2);
    let engine = common::engine();
    let pvk = ark_groth16::prepare_verifying_key(&fx.vk);
    let key = engine
        .register_groth16_key(&compressed(&fx.vk), Some(KeyFormat::Arkworks))
        .unwrap();
    let mut proofs = Vec::new();
    let mut ark_inputs = Vec::new();
    for i in 0..20 {
        let (p, x) = fx.prove(i + 1, i + 100);
        proofs.push(p);
        ark_inputs.push(x);
    }
    // 3: inputs of another statement; 7: A and C of another proof; 11: an input
    // changed; 12 and 13: proofs swapped between statements.
    ark_inputs[3] = ark_inputs[4].clone();
    proofs[7].a = proofs[8].a;
    proofs[7].c = proofs[8].c;
    ark_inputs[11][1] += Fr::from(1u64);
    proofs.swap(12, 13);
    let inputs: Vec<ProofInput> = proofs
        .iter()
        .zip(&ark_inputs)
        .map(|(p, x)| proof_input(p, x))
        .collect();
    let got = verdicts_ok(&engine.verify_groth16(&key, &inputs));
    let want: Vec<bool> = (0..20)
        .map(|i| Groth16::<Bls12_381>::verify_proof(&pvk, &proofs[i], &ark_inputs[i]).unwrap())
        .collect();
    assert_eq!(got, want, "the same verdicts as ark-groth16");
    let bad: Vec<usize> = (0..20).filter(|&i| !got[i]).collect();
    assert_eq!(bad, [3, 7, 11, 12, 13]);
}

#[test]
fn malformed_proofs_get_errors_that_name_the_problem() {
    let mut fx = Fixture::new(3);
    let engine = common::engine();
    let key = engine
        .register_groth16_key(&compressed(&fx.vk), None)
        .unwrap();
    let (p, x) = fx.prove(4, 9);
    let good = proof_input(&p, &x);

    // Public input plus r: the same field element, not canonical.
    let mut plus_r = good.clone();
    let mut big = num_be_add(&plus_r.public_inputs[0], &fr_be_modulus());
    assert_eq!(big.len(), 32, "x + r still fits in 32 bytes");
    plus_r.public_inputs[0] = std::mem::take(&mut big);
    let mut truncated = good.clone();
    truncated.proof.pop();
    let mut missing = good.clone();
    missing.public_inputs.pop();
    let mut garbage = good.clone();
    garbage.proof = vec![0xff; 192];
    let mut short_input = good.clone();
    short_input.public_inputs[2] = vec![1; 31];

    let verdicts = engine.verify_groth16(
        &key,
        &[good, plus_r, truncated, missing, garbage, short_input],
    );
    assert_eq!(verdicts[0], Ok(true));
    let errors: Vec<String> = verdicts[1..]
        .iter()
        .map(|v| v.clone().unwrap_err().to_string())
        .collect();
    assert!(
        errors[0].starts_with("public_inputs[0]: not canonical"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].starts_with("proof: expected 192 bytes"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].contains("2 given, the key expects 3"),
        "{}",
        errors[2]
    );
    assert!(errors[3].starts_with("proof: a: "), "{}", errors[3]);
    assert!(
        errors[4].starts_with("public_inputs[2]: expected 32"),
        "{}",
        errors[4]
    );
}

/// r, big-endian.
fn fr_be_modulus() -> Vec<u8> {
    use ark_ff::BigInteger;
    Fr::MODULUS.to_bytes_be()
}

/// a + b for 32-byte big-endian integers (no overflow past 32 bytes expected).
fn num_be_add(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let s = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = s as u8;
        carry = s >> 8;
    }
    assert_eq!(carry, 0);
    out
}

#[test]
fn bellman_keys_verify_the_same_proofs_and_share_the_key_id() {
    let mut fx = Fixture::new(4);
    let engine = common::engine();
    let ark = engine
        .register_groth16_key(&compressed(&fx.vk), None)
        .unwrap();
    let bellman = engine
        .register_groth16_key(&bellman_key(&fx.vk), None)
        .unwrap();
    assert_eq!(
        KeyFormat::detect(&bellman_key(&fx.vk)),
        Some(KeyFormat::Bellman)
    );
    assert_eq!(
        KeyFormat::detect(&compressed(&fx.vk)),
        Some(KeyFormat::Arkworks)
    );
    assert_eq!(
        bellman.id(),
        ark.id(),
        "the id does not depend on the format"
    );
    assert_eq!(bellman.key(), ark.key());
    let (p, x) = fx.prove(6, 7);
    let (_, other) = fx.prove(6, 8);
    let verdicts = engine.verify_groth16(&bellman, &[proof_input(&p, &x), proof_input(&p, &other)]);
    assert_eq!(verdicts_ok(&verdicts), [true, false]);
}

#[test]
fn malformed_keys_are_rejected_with_a_reason() {
    let fx = Fixture::new(5);
    let engine = common::engine();
    let good = compressed(&fx.vk);
    let mut flipped = good.clone();
    flipped[60] ^= 1; // inside beta_g2
    let mut count = good.clone();
    count[48 + 3 * 96] += 1; // IC count no longer matches
    for (bytes, format, expect) in [
        (
            good[..good.len() - 1].to_vec(),
            Some(KeyFormat::Arkworks),
            "does not match",
        ),
        (flipped, None, "beta_g2"),
        (count, None, "IC count"),
        (vec![7; 10], None, "format not recognised"),
        (b"{\"curve\": \"bn128\"}".to_vec(), None, "bn128"),
        (b"{not json".to_vec(), None, "not valid JSON"),
    ] {
        let err = engine
            .register_groth16_key(&bytes, format)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("verifying_key: "), "{err}");
        assert!(err.contains(expect), "{err} should mention {expect}");
    }
}

fn snarkjs_file(name: &str) -> Vec<u8> {
    std::fs::read(common::snarkjs_vectors().join(name)).unwrap()
}

fn snarkjs_proofs() -> Vec<ProofInput> {
    (0..4)
        .map(|i| ProofInput {
            proof: snarkjs_file(&format!("proof_{i}.json")),
            public_inputs: parse_public_json(&snarkjs_file(&format!("public_{i}.json")))
                .unwrap()
                .into_iter()
                .map(|x| x.to_vec())
                .collect(),
        })
        .collect()
}

#[test]
fn snarkjs_proofs_verify() {
    let engine = common::engine();
    let key = engine
        .register_groth16_key(&snarkjs_file("verification_key.json"), None)
        .unwrap();
    let json = snarkjs_file("verification_key.json");
    assert_eq!(KeyFormat::detect(&json), Some(KeyFormat::SnarkjsJson));
    assert_eq!(key.key().public_inputs(), 3);
    let proofs = snarkjs_proofs();
    for p in &proofs {
        assert_eq!(
            engine.verify_groth16(&key, std::slice::from_ref(p)),
            [Ok(true)]
        );
    }
    assert_eq!(
        verdicts_ok(&engine.verify_groth16(&key, &proofs)),
        [true; 4]
    );
}

#[test]
fn snarkjs_tampered_and_swapped_inputs_fail() {
    let engine = common::engine();
    let key = engine
        .register_groth16_key(&snarkjs_file("verification_key.json"), None)
        .unwrap();
    let mut proofs = snarkjs_proofs();
    // Proof 1 with proof 2's public inputs, proof 2 with proof 1's.
    let (a, b) = (
        proofs[1].public_inputs.clone(),
        proofs[2].public_inputs.clone(),
    );
    proofs[1].public_inputs = b;
    proofs[2].public_inputs = a;
    // Proof 3 with c + 1.
    let last = proofs[3].public_inputs[0].len() - 1;
    proofs[3].public_inputs[0][last] ^= 1;
    assert_eq!(
        verdicts_ok(&engine.verify_groth16(&key, &proofs)),
        [true, false, false, false]
    );
}

#[test]
fn snarkjs_key_id_matches_its_arkworks_form() {
    let engine = common::engine();
    let json = engine
        .register_groth16_key(&snarkjs_file("verification_key.json"), None)
        .unwrap();
    let ark = engine
        .register_groth16_key(&json.key().canonical_bytes(), None)
        .unwrap();
    assert_eq!(ark.id(), json.id());
    assert_eq!(engine.groth16_key(json.id()).unwrap().id(), json.id());
}

#[test]
fn snarkjs_decoding_rejects_bad_fields() {
    let engine = common::engine();
    let key = engine
        .register_groth16_key(&snarkjs_file("verification_key.json"), None)
        .unwrap();
    let good = String::from_utf8(snarkjs_file("proof_0.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&good).unwrap();
    let x = v["pi_a"][0].as_str().unwrap().to_string();
    let p = "4002409555221667393417789825735904156556882819939007885332058136124031650490837864442687629129015664037894272559787";
    for (proof, expect) in [
        (good.replace(&x, p), "pi_a: "),    // x = p: not below the modulus
        (good.replace(&x, "12"), "pi_a: "), // not on the curve
        (
            good.replace("\"pi_b\"", "\"pi_q\""),
            "missing field \"pi_b\"",
        ),
        (good.replace("groth16", "plonk"), "protocol"),
    ] {
        let input = ProofInput {
            proof: proof.into_bytes(),
            public_inputs: snarkjs_proofs()[0].public_inputs.clone(),
        };
        let err = engine.verify_groth16(&key, &[input])[0]
            .clone()
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("proof: ") && err.contains(expect),
            "{err} should mention {expect}"
        );
    }
}

#[test]
fn snarkjs_points_at_infinity_must_be_canonical() {
    let engine = common::engine();
    let key = engine
        .register_groth16_key(&snarkjs_file("verification_key.json"), None)
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&snarkjs_file("proof_0.json")).unwrap();
    let inputs = snarkjs_proofs()[0].public_inputs.clone();
    let verdict = |v: &serde_json::Value| {
        engine.verify_groth16(
            &key,
            &[ProofInput {
                proof: v.to_string().into_bytes(),
                public_inputs: inputs.clone(),
            }],
        )[0]
        .clone()
    };
    // (0, 1, 0) is snarkjs's infinity: a well-formed proof, not a valid one.
    v["pi_c"] = serde_json::json!(["0", "1", "0"]);
    assert_eq!(verdict(&v), Ok(false));
    // Any other point with z = 0 is malformed.
    v["pi_c"] = serde_json::json!(["5", "7", "0"]);
    let err = verdict(&v).unwrap_err().to_string();
    assert!(err.contains("pi_c: expected z = 1"), "{err}");
}

#[test]
fn public_inputs_parse_from_decimal_and_hex() {
    let parsed = parse_public_json(br#"["15", "0xf", "0x0f", "0"]"#).unwrap();
    assert_eq!(parsed[0], parsed[1]);
    assert_eq!(parsed[1], parsed[2]);
    assert_eq!(parsed[3], [0u8; 32]);
    assert_eq!(
        parse_public_json(br#"[15]"#).unwrap_err(),
        FormatError::NotString {
            at: "public[0]".into(),
            got: "15".into()
        }
    );
    assert!(parse_public_json(br#"["0x"#).is_err());
    let too_long = format!("[\"0x{}\"]", "11".repeat(33));
    assert!(matches!(
        parse_public_json(too_long.as_bytes()).unwrap_err(),
        FormatError::NotHex32 { at, .. } if at == "public[0]"
    ));
}
