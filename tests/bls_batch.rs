//! Batch verification of signature sets: every set gets its own exact verdict.

mod common;

use common::bls::{Validators, committee_set, single_key_sets};
use common::{TestRng, engine};
use veribatch_engine::bls::{Ciphersuite, Scheme, SignatureSet};
use veribatch_engine::{Engine, EngineConfig, Verdict};

fn valid(verdicts: &[Verdict]) -> Vec<bool> {
    verdicts.iter().map(|v| matches!(v, Ok(true))).collect()
}

fn setup(n_validators: usize) -> (Engine, Validators) {
    let engine = engine();
    let validators = Validators::new(n_validators, &mut TestRng::new(7));
    (engine, validators)
}

#[test]
fn valid_sets_of_every_shape_pass_together() {
    let (engine, v) = setup(32);
    let mut sets = single_key_sets(&engine, &v, 40, 40); // distinct messages
    sets.extend(single_key_sets(&engine, &v, 40, 3)); // shared messages
    sets.push(committee_set(&engine, &v, 0, 16, b"block root"));
    sets.push(committee_set(&engine, &v, 5, 1, b"block root"));
    // AggregateVerify: each key its own message, one aggregate signature.
    let messages: Vec<Vec<u8>> = (0..4).map(|i| vec![i as u8; 32]).collect();
    let sigs: Vec<[u8; 96]> = (0..4)
        .map(|i| {
            engine
                .sign(&v.secret_keys[i], &messages[i], &Ciphersuite::ETHEREUM)
                .unwrap()
        })
        .collect();
    sets.push(SignatureSet {
        signature: engine.aggregate_signatures(&sigs).unwrap().to_vec(),
        public_keys: v.public_keys[..4].to_vec(),
        messages,
    });
    let verdicts = engine.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM);
    assert_eq!(valid(&verdicts), vec![true; sets.len()]);
}

#[test]
fn exactly_the_bad_sets_are_found() {
    let (engine, v) = setup(16);
    let mut sets = single_key_sets(&engine, &v, 200, 4);
    let bad = [0usize, 17, 18, 99, 150, 199];
    sets[0].messages[0].push(0); // another message
    let sig17 = sets[17].signature.clone();
    sets[17].signature = sets[18].signature.clone(); // swapped signatures
    sets[18].signature = sig17;
    sets[99].public_keys[0] = v.public_keys[(99 + 1) % 16].clone(); // another key
    sets[150].signature = engine
        .sign(&v.secret_keys[0], b"other", &Ciphersuite::ETHEREUM)
        .unwrap()
        .to_vec();
    sets[199].signature = sets[198].signature.clone();
    // Sets 17 and 18 might share a message and key by chance; make sure they do not.
    assert_ne!(sets[17].public_keys, sets[18].public_keys);
    let verdicts = engine.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM);
    let got: Vec<usize> = (0..sets.len())
        .filter(|&i| verdicts[i] != Ok(true))
        .collect();
    assert_eq!(got, bad);
    assert!(
        verdicts.iter().all(|v| v.is_ok()),
        "bad signatures are not malformed input"
    );
}

#[test]
fn many_bad_sets_are_all_found() {
    let (engine, v) = setup(8);
    let mut sets = single_key_sets(&engine, &v, 120, 120);
    for i in (0..120).step_by(3) {
        sets[i].messages[0][0] ^= 1;
    }
    let verdicts = engine.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM);
    let want: Vec<bool> = (0..120).map(|i| i % 3 != 0).collect();
    assert_eq!(valid(&verdicts), want);
}

/// σ₁ + Δ and σ₂ − Δ sum to σ₁ + σ₂: a plain aggregate check accepts them, a random
/// linear combination must not.
#[test]
fn invalid_signatures_that_cancel_out_are_caught() {
    let (engine, v) = setup(2);
    let mut sets = single_key_sets(&engine, &v, 2, 2);
    let delta = engine
        .sign(&v.secret_keys[0], b"delta", &Ciphersuite::ETHEREUM)
        .unwrap();
    let neg_delta = negate_g2(&delta);
    sets[0].signature = engine
        .aggregate_signatures(&[&sets[0].signature[..], &delta[..]])
        .unwrap()
        .to_vec();
    sets[1].signature = engine
        .aggregate_signatures(&[&sets[1].signature[..], &neg_delta[..]])
        .unwrap()
        .to_vec();

    // The tampered signatures still aggregate to a valid AggregateVerify signature...
    let aggregate = engine
        .aggregate_signatures(&[&sets[0].signature[..], &sets[1].signature[..]])
        .unwrap();
    let keys = [
        sets[0].public_keys[0].clone(),
        sets[1].public_keys[0].clone(),
    ];
    let msgs = [sets[0].messages[0].clone(), sets[1].messages[0].clone()];
    assert_eq!(
        engine.aggregate_verify(&keys, &msgs, &aggregate, &Ciphersuite::ETHEREUM),
        Ok(true)
    );
    // ...but each set is invalid, and the batch says so.
    let verdicts = engine.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM);
    assert_eq!(verdicts, vec![Ok(false), Ok(false)]);
}

fn negate_g2(sig: &[u8; 96]) -> [u8; 96] {
    use veribatch_engine::curves::bls12_381::{compress_g2, decode_g2, neg_g2_affine};
    compress_g2(&neg_g2_affine(&decode_g2(sig).expect("a valid signature")))
}

#[test]
fn malformed_sets_get_errors_and_do_not_affect_the_others() {
    let (engine, v) = setup(4);
    let good = single_key_sets(&engine, &v, 1, 1).remove(0);
    let with = |f: &dyn Fn(&mut SignatureSet)| {
        let mut s = good.clone();
        f(&mut s);
        s
    };
    let mut infinity_key = vec![0u8; 48];
    infinity_key[0] = 0xc0;
    let sets = vec![
        good.clone(),
        with(&|s| s.signature.pop().map(drop).unwrap()),
        with(&|s| s.public_keys.push(vec![1, 2, 3])),
        with(&|s| s.public_keys.clear()),
        with(&|s| {
            s.public_keys.push(good.public_keys[0].clone());
            s.public_keys.push(good.public_keys[0].clone());
            s.messages.push(b"two messages for three keys".to_vec());
        }),
        with(&|s| s.public_keys[0] = infinity_key.clone()),
        with(&|s| s.signature[0] &= 0x7f), // compression flag cleared
        good.clone(),
    ];
    let verdicts = engine.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM);
    assert_eq!(verdicts[0], Ok(true));
    assert_eq!(verdicts[7], Ok(true));
    let errors: Vec<String> = verdicts[1..7]
        .iter()
        .map(|v| v.clone().unwrap_err().to_string())
        .collect();
    assert_eq!(errors[0], "signature: expected 96 bytes, got 95");
    assert_eq!(errors[1], "public_keys[1]: expected 48 bytes, got 3");
    assert_eq!(errors[2], "public_keys: no public keys");
    assert!(
        errors[3].starts_with("messages: 2 messages for 3 public keys"),
        "{}",
        errors[3]
    );
    assert_eq!(
        errors[4],
        "public_keys[0]: the point at infinity is not allowed here"
    );
    assert_eq!(errors[5], "signature: not a canonical point encoding");
}

#[test]
fn keys_that_sum_to_infinity_make_a_set_invalid() {
    let (engine, v) = setup(1);
    let pk = v.public_keys[0].clone();
    let mut neg = pk.clone();
    neg[0] ^= 0x20; // the sign flag: −pk
    let sig = engine
        .sign(&v.secret_keys[0], b"m", &Ciphersuite::ETHEREUM)
        .unwrap();
    let verdict = engine.fast_aggregate_verify(&[pk, neg], b"m", &sig, &Ciphersuite::ETHEREUM);
    assert_eq!(verdict, Ok(false));
}

#[test]
fn the_domain_separation_tag_is_honoured() {
    let (engine, v) = setup(1);
    let dst = Ciphersuite::new(b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_", None).unwrap();
    let sig = engine.sign(&v.secret_keys[0], b"m", &dst).unwrap();
    assert_eq!(engine.verify(&v.public_keys[0], b"m", &sig, &dst), Ok(true));
    assert_eq!(
        engine.verify(&v.public_keys[0], b"m", &sig, &Ciphersuite::ETHEREUM),
        Ok(false)
    );
    let err = Ciphersuite::new(Vec::new(), Some(Scheme::Basic)).unwrap_err();
    assert_eq!(err.to_string(), "dst: must have 1 to 255 bytes, has 0");
}

#[test]
fn the_key_cache_changes_no_verdict() {
    let (engine, v) = setup(8);
    let uncached = Engine::new(&EngineConfig {
        public_key_cache: 0,
        ..EngineConfig::default()
    });
    let mut sets = single_key_sets(&engine, &v, 30, 5);
    sets[4].messages[0].push(1);
    let first = engine.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM);
    let again = engine.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM);
    let without = uncached.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM);
    assert_eq!(first, again);
    assert_eq!(first, without);
    assert_eq!(valid(&first).iter().filter(|ok| !**ok).count(), 1);
}

#[test]
fn public_key_aggregation() {
    let (engine, v) = setup(3);
    let agg = engine.aggregate_public_keys(&v.public_keys).unwrap();
    // The aggregate key verifies the aggregate signature of one message.
    let sigs: Vec<[u8; 96]> = (0..3)
        .map(|i| {
            engine
                .sign(&v.secret_keys[i], b"m", &Ciphersuite::ETHEREUM)
                .unwrap()
        })
        .collect();
    let sig = engine.aggregate_signatures(&sigs).unwrap();
    assert_eq!(
        engine.verify(&agg, b"m", &sig, &Ciphersuite::ETHEREUM),
        Ok(true)
    );
    let none: [&[u8]; 0] = [];
    assert!(engine.aggregate_public_keys(&none).is_err());
    let err = engine
        .aggregate_public_keys(&[&v.public_keys[0][..], &[0u8; 48][..]])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "public_keys[1]: not a canonical point encoding"
    );
}

#[test]
fn an_empty_batch_has_no_verdicts() {
    let engine = engine();
    assert!(
        engine
            .verify_signature_sets(&[], &Ciphersuite::ETHEREUM)
            .is_empty()
    );
}

#[test]
fn eth_fast_aggregate_verify_accepts_no_keys_with_the_infinity_signature() {
    let (engine, v) = setup(2);
    let infinity = veribatch_engine::bls::G2_POINT_AT_INFINITY;
    assert_eq!(
        engine.eth_fast_aggregate_verify(&[], b"m", &infinity, &Ciphersuite::ETHEREUM),
        Ok(true)
    );
    // FastAggregateVerify itself refuses an empty key list.
    assert!(
        engine
            .fast_aggregate_verify(&[], b"m", &infinity, &Ciphersuite::ETHEREUM)
            .is_err()
    );
    let sig = engine
        .sign(&v.secret_keys[0], b"m", &Ciphersuite::ETHEREUM)
        .unwrap();
    assert!(
        engine
            .eth_fast_aggregate_verify(&[], b"m", &sig, &Ciphersuite::ETHEREUM)
            .is_err()
    );
    assert_eq!(
        engine.eth_fast_aggregate_verify(&v.public_keys[..1], b"m", &sig, &Ciphersuite::ETHEREUM),
        Ok(true)
    );
    assert_eq!(
        engine.eth_fast_aggregate_verify(
            &v.public_keys[..1],
            b"m",
            &infinity,
            &Ciphersuite::ETHEREUM
        ),
        Ok(false)
    );
}
