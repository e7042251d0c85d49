//! SM2 verification against signatures made by OpenSSL 3 (tests/vectors/sm2, made by its
//! generate.py, with the tampered and malformed records it derives), on the engine, as
//! `veribatch verify sm2`, and through a real server's VerifySm2.

mod common;

use common::process::{scratch, stderr, stdout, veribatch, veribatch_with_stdin};
use serde_json::Value;
use veribatch_engine::Verdict;
use veribatch_engine::error::Field;
use veribatch_engine::sm2::{DEFAULT_ID, Sm2Item, signing::SecretKey};

fn records() -> Vec<Value> {
    let text = std::fs::read_to_string(common::vectors().join("sm2/openssl.ndjson")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn items(records: &[Value]) -> Vec<Sm2Item> {
    records
        .iter()
        .map(|r| Sm2Item::from_json(r).unwrap())
        .collect()
}

/// Whether `verdict` is what the record expects; panics naming the case if not.
fn check(record: &Value, verdict: &Verdict) {
    let case = record["case"].as_str().unwrap();
    match (record["expect"].as_str().unwrap(), verdict) {
        ("valid", Ok(true)) | ("invalid", Ok(false)) => {}
        (expect, Err(e)) if expect.strip_prefix("malformed:") == Some(e.field.name()) => {}
        (expect, verdict) => panic!("{case}: expected {expect}, got {verdict:?}"),
    }
}

#[test]
fn openssls_signatures_and_their_tamperings_get_the_expected_verdicts() {
    let records = records();
    assert!(records.len() > 200);
    let engine = common::engine();
    let verdicts = engine.verify_sm2(&items(&records));
    for (record, verdict) in records.iter().zip(&verdicts) {
        check(record, verdict);
    }
    let count = |expect: &str| records.iter().filter(|r| r["expect"] == expect).count();
    assert!(count("valid") >= 60 && count("invalid") >= 100);
    // Again with the signers cached: the same verdicts.
    assert_eq!(engine.verify_sm2(&items(&records)), verdicts);
    assert!(engine.cached_sm2_signers() > 0);
}

#[test]
fn signatures_made_here_verify_and_each_change_fails() {
    let engine = common::engine();
    let mut items = Vec::new();
    for i in 0..50u32 {
        let secret = SecretKey::from_seed(&i.to_be_bytes());
        let message = format!("transaction {i}").into_bytes();
        let signature = secret.sign(DEFAULT_ID, &message, b"nonce");
        items.push(Sm2Item {
            public_key: secret.public_key().to_uncompressed().to_vec(),
            signed: veribatch_engine::sm2::Signed::Message(message),
            signature: signature.to_der(),
            id: None,
        });
    }
    assert!(engine.verify_sm2(&items).iter().all(|v| *v == Ok(true)));
    // Each signature under the next key: all invalid.
    let mut swapped = items.clone();
    swapped.rotate_left(1);
    for (s, i) in swapped.iter_mut().zip(&items) {
        s.public_key = i.public_key.clone();
    }
    assert!(engine.verify_sm2(&swapped).iter().all(|v| *v == Ok(false)));
}

fn verdict_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn verify_sm2_writes_a_verdict_per_record_and_exits_as_verify_bls() {
    let dir = scratch("verify_sm2");
    let records = records();
    let all = dir.join("all.ndjson");
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&all, &text).unwrap();
    let out = veribatch(&["verify", "sm2", "--backend", "cpu", all.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = verdict_lines(&stdout(&out));
    assert_eq!(lines.len(), records.len());
    for (i, (line, record)) in lines.iter().zip(&records).enumerate() {
        assert_eq!(line["index"], i);
        let verdict = match (&line["valid"], &line["error"]) {
            (Value::Bool(v), Value::Null) => Ok(*v),
            (_, Value::String(e)) => {
                let field = e.split(':').next().unwrap();
                Err(veribatch_engine::InputError::new(
                    Field::from_name(field),
                    None,
                    veribatch_engine::error::ErrorKind::Unset("from the CLI"),
                ))
            }
            other => panic!("{other:?}"),
        };
        check(record, &verdict);
    }

    // Only the valid ones, from stdin as a JSON array: exit 0.
    let valid: Vec<&Value> = records.iter().filter(|r| r["expect"] == "valid").collect();
    let array = serde_json::to_string(&valid).unwrap();
    let out = veribatch_with_stdin(&["verify", "sm2", "-"], array.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(verdict_lines(&stdout(&out)).len(), valid.len());

    // A record that is not an SM2 record is named; nothing at all is exit 2.
    let out = veribatch_with_stdin(&["verify", "sm2", "-"], b"{\"public_key\":\"0x04\"}\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("message"), "{}", stdout(&out));
    let out = veribatch_with_stdin(&["verify", "sm2", "-"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_gives_the_verdicts_of_the_engine() {
    let server = common::server::Server::start(&[]);
    let mut client = server.client().await;
    let records = records();
    let items = items(&records);
    let verdicts = client.verify_sm2(&items).await.unwrap();
    assert_eq!(verdicts.len(), records.len());
    for (record, verdict) in records.iter().zip(&verdicts) {
        check(record, verdict);
    }
    // Concurrent callers share batches and each gets its own verdicts.
    let mut tasks = Vec::new();
    for part in items.chunks(40) {
        let mut client = server.client().await;
        let part = part.to_vec();
        tasks.push(tokio::spawn(async move {
            client.verify_sm2(&part).await.unwrap()
        }));
    }
    let mut merged = Vec::new();
    for task in tasks {
        merged.extend(task.await.unwrap());
    }
    assert_eq!(merged, verdicts);
    let info = common::server::info(&mut client).await;
    let stats = common::server::stats(&info, "verify_sm2");
    assert!(stats.items >= 2 * records.len() as u64);
}
