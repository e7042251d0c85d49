//! The service end to end: a real `veribatch serve` process on loopback, driven by gRPC
//! clients; every verdict is checked against the engine run in-process.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::bls::{Validators, single_key_sets};
use common::server::{Server, info, stats};
use common::{TestRng, engine};
use tonic::Code;
use veribatch_client::{Remote, verdicts};
use veribatch_engine::bls::{Ciphersuite, SignatureSet};
use veribatch_engine::{Engine, Verdict};
use veribatch_service::proto;

/// A pool of sets with known verdicts: mostly valid, some invalid, some malformed.
fn pool(engine: &Engine, n: usize) -> (Vec<SignatureSet>, Vec<Verdict>) {
    let validators = Validators::new(64, &mut TestRng::new(21));
    let mut sets = single_key_sets(engine, &validators, n, 32);
    for i in (0..n).step_by(17) {
        sets[i].messages[0].push(1); // invalid
    }
    for i in (5..n).step_by(41) {
        sets[i].signature.truncate(10); // malformed
    }
    let expected = engine.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM);
    (sets, expected)
}

fn proto_sets(sets: &[SignatureSet]) -> Vec<proto::SignatureSet> {
    sets.iter().cloned().map(Into::into).collect()
}

/// A stream request `id` verifying `sets` under the default tag.
fn on_stream(id: u64, sets: &[SignatureSet]) -> proto::VerifyStreamRequest {
    proto::VerifyStreamRequest {
        id,
        request: Some(proto::verify_stream_request::Request::VerifySignatures(
            proto::VerifySignaturesRequest {
                sets: proto_sets(sets),
                dst: Vec::new(),
                scheme: 0,
            },
        )),
    }
}

/// A VerifyStream on `server` fed through the returned sender (of `capacity`).
async fn open_stream(
    server: &Server,
    capacity: usize,
) -> (
    tokio::sync::mpsc::Sender<proto::VerifyStreamRequest>,
    tonic::Streaming<proto::VerifyStreamResponse>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(capacity);
    let responses = server
        .client()
        .await
        .inner()
        .verify_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    (tx, responses)
}

/// Waits until the server has accepted `n` signature requests (polling GetInfo).
async fn until_accepted(client: &mut Remote, n: u64) {
    while stats(&info(client).await, "verify_signatures").requests < n {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits until the first signature request has left the queue for a batch.
async fn until_first_batch_runs(client: &mut Remote) {
    loop {
        let s = stats(&info(client).await, "verify_signatures");
        if s.requests >= 1 && s.queued == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_clients_get_the_engines_verdicts_in_shared_batches() {
    let engine = engine();
    let (sets, expected) = pool(&engine, 600);
    let (sets, expected) = (Arc::new(sets), Arc::new(expected));
    let server = Server::start(&["--workers", "1", "--max-delay-ms", "1000"]);
    let mut tasks = Vec::new();
    for client_no in 0..64u64 {
        let (sets, expected) = (sets.clone(), expected.clone());
        let mut client = server.client().await;
        tasks.push(tokio::spawn(async move {
            let mut rng = TestRng::new(client_no);
            for _ in 0..3 {
                let len = 1 + rng.below(16) as usize;
                let start = rng.below((sets.len() - len) as u64) as usize;
                let got = client
                    .verify_signature_sets(&sets[start..start + len], &Ciphersuite::ETHEREUM)
                    .await
                    .unwrap();
                let want: Vec<Verdict> = expected[start..start + len].to_vec();
                let same = got.iter().zip(&want).all(|(g, w)| match (g, w) {
                    (Ok(a), Ok(b)) => a == b,
                    (Err(a), Err(b)) => a.to_string() == b.to_string(),
                    _ => false,
                });
                assert!(
                    same && got.len() == want.len(),
                    "client {client_no}: {got:?} != {want:?}"
                );
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let info = info(&mut server.client().await).await;
    let s = stats(&info, "verify_signatures");
    assert_eq!(s.requests, 192);
    assert!(
        s.batches < s.requests,
        "requests from different clients share batches ({} batches for {} requests)",
        s.batches,
        s.requests
    );
    assert!(
        s.largest_batch > 16,
        "a batch held more than one request's sets"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tiny_queue_refuses_with_resource_exhausted_and_loses_no_accepted_request() {
    let engine = engine();
    let (sets, expected) = pool(&engine, 400);
    let (sets, expected) = (Arc::new(sets), Arc::new(expected));
    let server = Server::start(&["--workers", "1", "--queue-limit", "400"]);
    let mut client = server.client().await;
    // Keep the worker busy with one large request while the others arrive.
    let busy = {
        let (mut client, sets) = (client.clone(), sets.clone());
        tokio::spawn(async move {
            client
                .verify_signature_sets(&sets, &Ciphersuite::ETHEREUM)
                .await
        })
    };
    until_first_batch_runs(&mut client).await;
    let mut tasks = Vec::new();
    for i in 0..32usize {
        let (mut client, sets, expected) = (client.clone(), sets.clone(), expected.clone());
        tasks.push(tokio::spawn(async move {
            let range = i * 10..i * 10 + 30;
            let request = proto::VerifySignaturesRequest {
                sets: proto_sets(&sets[range.clone()]),
                dst: Vec::new(),
                scheme: 0,
            };
            match client.inner().verify_signatures(request).await {
                Ok(r) => {
                    let got = verdicts(r.into_inner().verdicts);
                    assert_eq!(got.len(), 30);
                    for (g, w) in got.iter().zip(&expected[range]) {
                        assert_eq!(g.is_ok(), w.is_ok());
                        assert_eq!(g.as_ref().ok(), w.as_ref().ok());
                    }
                    true
                }
                Err(status) => {
                    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                    assert!(status.message().contains("queues are full"));
                    false
                }
            }
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += usize::from(t.await.unwrap());
    }
    assert_eq!(busy.await.unwrap().unwrap().len(), 400);
    let s = stats(&info(&mut client).await, "verify_signatures");
    assert_eq!(
        s.rejected as usize,
        32 - accepted,
        "every refusal was counted"
    );
    assert!(s.rejected > 0, "the queue filled up");
    assert_eq!(s.requests as usize, 1 + accepted);
    assert_eq!(
        s.items as usize,
        400 + 30 * accepted,
        "every accepted set was verified"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_deadline_is_deadline_exceeded_and_the_server_goes_on() {
    let engine = engine();
    let (sets, _) = pool(&engine, 400);
    let server = Server::start(&["--workers", "1"]);
    let mut client = server.client().await;
    let busy = {
        let (mut client, sets) = (client.clone(), sets.clone());
        tokio::spawn(async move {
            client
                .verify_signature_sets(&sets, &Ciphersuite::ETHEREUM)
                .await
        })
    };
    until_first_batch_runs(&mut client).await;
    let mut request = tonic::Request::new(proto::VerifySignaturesRequest {
        sets: proto_sets(&sets[..4]),
        dst: Vec::new(),
        scheme: 0,
    });
    request.set_timeout(Duration::from_millis(1));
    let status = client.inner().verify_signatures(request).await.unwrap_err();
    // tonic's server-side deadline timer reports CANCELLED; clients that keep their own
    // deadline report DEADLINE_EXCEEDED. Either way the call ended at its deadline.
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{status:?}"
    );
    assert_eq!(busy.await.unwrap().unwrap().len(), 400);
    // The worker drops the expired request when it next looks at the queue.
    let s = loop {
        let s = stats(&info(&mut client).await, "verify_signatures");
        if s.queued == 0 && s.expired + s.items >= 404 {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    assert_eq!(
        (s.items, s.expired),
        (400, 4),
        "the expired sets were never verified"
    );
    let again = client
        .verify_signature_sets(&sets[..4], &Ciphersuite::ETHEREUM)
        .await
        .unwrap();
    assert_eq!(again.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_answers_every_request_in_flight_then_exits_0() {
    let engine = engine();
    let (sets, expected) = pool(&engine, 300);
    let (sets, expected) = (Arc::new(sets), Arc::new(expected));
    let server = Server::start(&["--workers", "1"]);
    let mut client = server.client().await;
    let mut tasks = Vec::new();
    for i in 0..8usize {
        let (mut client, sets, expected) = (client.clone(), sets.clone(), expected.clone());
        tasks.push(tokio::spawn(async move {
            let range = i * 30..i * 30 + 60;
            let got = client
                .verify_signature_sets(&sets[range.clone()], &Ciphersuite::ETHEREUM)
                .await
                .unwrap();
            assert_eq!(got.len(), 60);
            for (g, w) in got.iter().zip(&expected[range]) {
                assert_eq!(g.as_ref().ok(), w.as_ref().ok());
            }
        }));
    }
    // Wait until every request was accepted, then ask the server to stop.
    until_accepted(&mut client, 8).await;
    server.terminate();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        tokio::task::spawn_blocking(move || server.wait())
            .await
            .unwrap(),
        Some(0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_answer_a_generic_client() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let server = Server::start(&[]);
    let channel = tonic::transport::Endpoint::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel.clone());
    for service in ["", "veribatch.v1.Verifier"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
    }
    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a service list, got {response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"veribatch.v1.Verifier".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_string()),
        "{names:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_invalid_argument_naming_the_field() {
    let server = Server::start(&["--max-items-per-request", "4"]);
    let mut client = server.client().await;
    let c = client.inner();

    let e = c
        .merkle_root(proto::MerkleRootRequest {
            chunks: vec![0; 33],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(e.message(), "chunks: 33 bytes is not a multiple of 32");

    let e = c
        .merkle_root(proto::MerkleRootRequest {
            chunks: vec![0; 96],
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().contains("exceed the limit of 2"),
        "{}",
        e.message()
    );

    let e = c
        .verify_groth16(proto::VerifyGroth16Request {
            key_id: vec![7; 32],
            proofs: vec![],
            ..Default::default()
        })
        .await
        .unwrap_err();
    // Not a permanent error: another replica may know the key, or it may be sent again.
    assert_eq!(e.code(), Code::NotFound);
    assert!(
        e.message()
            .starts_with(&format!("key_id: unknown key {}", "07".repeat(32))),
        "{}",
        e.message()
    );

    let e = c
        .verify_groth16(proto::VerifyGroth16Request {
            key_id: vec![7; 3],
            proofs: vec![],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.message(), "key_id: expected 32 bytes, got 3");

    let e = c
        .register_verifying_key(proto::RegisterVerifyingKeyRequest {
            verifying_key: b"{\"curve\": \"bn128\"}".to_vec(),
            format: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().starts_with("verifying_key: "),
        "{}",
        e.message()
    );

    let e = c
        .register_verifying_key(proto::RegisterVerifyingKeyRequest {
            verifying_key: vec![1],
            format: 9,
        })
        .await
        .unwrap_err();
    assert_eq!(e.message(), "format: unknown key format 9");

    let five = vec![proto::SignatureSet::default(); 5];
    let e = c
        .verify_signatures(proto::VerifySignaturesRequest {
            sets: five,
            dst: vec![],
            scheme: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(
        e.message(),
        "sets: 5 items exceed the limit of 4 per request"
    );

    let e = c
        .verify_signatures(proto::VerifySignaturesRequest {
            sets: vec![proto::SignatureSet::default()],
            dst: vec![b'x'; 256],
            scheme: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(e.message(), "dst: must have 1 to 255 bytes, has 256");

    let e = c
        .aggregate_signatures(proto::AggregateSignaturesRequest { signatures: vec![] })
        .await
        .unwrap_err();
    assert_eq!(e.message(), "signatures: nothing to aggregate");

    // A malformed item is a verdict, not a failed request.
    let r = c
        .verify_signatures(proto::VerifySignaturesRequest {
            sets: vec![proto::SignatureSet {
                signature: vec![1; 96],
                public_keys: vec![vec![2; 48]],
                messages: vec![vec![]],
            }],
            dst: vec![],
            scheme: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!r.verdicts[0].valid);
    assert!(
        r.verdicts[0].error.starts_with("signature: "),
        "{}",
        r.verdicts[0].error
    );

    let r = c
        .verify_merkle_proofs(proto::VerifyMerkleProofsRequest {
            proofs: vec![proto::MerkleProof {
                root: vec![0; 31],
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.verdicts[0].error, "root: expected 32 bytes, got 31");
    let malformed = r.verdicts[0].malformed.clone().expect("the error in parts");
    assert_eq!(
        (
            malformed.field.as_str(),
            malformed.index,
            malformed.code(),
            malformed.reason.as_str()
        ),
        (
            "root",
            None,
            proto::InputErrorCode::Length,
            "expected 32 bytes, got 31"
        )
    );

    // The field and the index of an element of a repeated field, in parts.
    let engine = engine();
    let secret = [0x11; 32];
    let r = c
        .verify_signatures(proto::VerifySignaturesRequest {
            sets: vec![proto::SignatureSet {
                signature: engine
                    .sign(&secret, b"m", &Ciphersuite::ETHEREUM)
                    .unwrap()
                    .to_vec(),
                public_keys: vec![engine.public_key(&secret).unwrap().to_vec(), vec![0x11; 47]],
                messages: vec![b"m".to_vec()],
            }],
            dst: vec![],
            scheme: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let malformed = r.verdicts[0].malformed.clone().expect("the error in parts");
    assert_eq!(
        (malformed.field.as_str(), malformed.index, malformed.code()),
        ("public_keys", Some(1), proto::InputErrorCode::Length),
        "{}",
        r.verdicts[0].error
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_gives_the_engines_answer() {
    let engine = engine();
    let server = Server::start(&[]);
    let mut client = server.client().await;
    let mut rng = TestRng::new(5);

    // Merkle root and proofs.
    let chunks = rng.bytes(32 * 20);
    let want = engine.merkle_root(&chunks, Some(64), Some(20)).unwrap();
    assert_eq!(
        client
            .merkle_root(chunks.clone(), Some(64), Some(20))
            .await
            .unwrap(),
        want
    );
    let tree = engine.merkle_tree(&chunks, Some(64), Some(20)).unwrap();
    let proof = tree.prove(&[3, 9]).unwrap();
    let good = common::server::proto_proof(&proof);
    let mut bad = good.clone();
    bad.leaves[1][0] ^= 1;
    let r = client
        .inner()
        .verify_merkle_proofs(proto::VerifyMerkleProofsRequest {
            proofs: vec![good, bad],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(verdicts(r.verdicts), vec![Ok(true), Ok(false)]);

    // Aggregation.
    let v = Validators::new(3, &mut rng);
    let sigs: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            engine
                .sign(&v.secret_keys[i], b"m", &Ciphersuite::ETHEREUM)
                .unwrap()
                .to_vec()
        })
        .collect();
    let agg = client
        .inner()
        .aggregate_signatures(proto::AggregateSignaturesRequest {
            signatures: sigs.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        agg.signature,
        engine.aggregate_signatures(&sigs).unwrap().to_vec()
    );
    let pk = client
        .inner()
        .aggregate_public_keys(proto::AggregatePublicKeysRequest {
            public_keys: v.public_keys.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        pk.public_key,
        engine
            .aggregate_public_keys(&v.public_keys)
            .unwrap()
            .to_vec()
    );

    // Groth16 with the snarkjs fixtures.
    let dir = common::snarkjs_vectors();
    let key = std::fs::read(dir.join("verification_key.json")).unwrap();
    let id = client.register_key(key, None).await.unwrap();
    let proofs: Vec<veribatch_engine::ProofInput> = (0..4)
        .map(|i| veribatch_engine::ProofInput {
            proof: std::fs::read(dir.join(format!("proof_{i}.json"))).unwrap(),
            public_inputs: veribatch_engine::groth16::formats::parse_public_json(
                &std::fs::read(dir.join(format!("public_{}.json", (i + i / 3) % 4))).unwrap(),
            )
            .unwrap()
            .iter()
            .map(|x| x.to_vec())
            .collect(),
        })
        .collect();
    let got = client.verify_groth16(&id, &proofs).await.unwrap();
    assert_eq!(got, vec![Ok(true), Ok(true), Ok(true), Ok(false)]);
    let info = info(&mut client).await;
    assert_eq!(info.registered_keys, 1);
    assert_eq!(stats(&info, "verify_groth16").items, 4);
    assert!(info.backends.iter().any(|b| b.name == "cpu" && b.selected));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_answers_each_request_tagged_by_id() {
    let engine = engine();
    let (sets, expected) = pool(&engine, 40);
    let server = Server::start(&[]);
    let mut client = server.client().await;
    use proto::verify_stream_request::Request as R;
    let mut requests: Vec<proto::VerifyStreamRequest> = (0..10u64)
        .map(|id| on_stream(id, &sets[id as usize * 4..id as usize * 4 + 4]))
        .collect();
    requests.push(proto::VerifyStreamRequest {
        id: 99,
        request: Some(R::MerkleRoot(proto::MerkleRootRequest {
            chunks: vec![0; 33],
            ..Default::default()
        })),
    });
    requests.push(proto::VerifyStreamRequest {
        id: 100,
        request: None,
    });
    let mut responses = client
        .inner()
        .verify_stream(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let mut seen = Vec::new();
    while let Some(r) = responses.message().await.unwrap() {
        seen.push(r.id);
        match r.id {
            99 => {
                assert_eq!(r.code, Code::InvalidArgument as i32);
                assert_eq!(r.message, "chunks: 33 bytes is not a multiple of 32");
            }
            100 => assert_eq!(r.code, Code::InvalidArgument as i32),
            id => {
                assert_eq!(r.code, 0);
                let Some(proto::verify_stream_response::Response::VerifySignatures(v)) = r.response
                else {
                    panic!("{r:?}");
                };
                let got = verdicts(v.verdicts);
                let want = &expected[id as usize * 4..id as usize * 4 + 4];
                for (g, w) in got.iter().zip(want) {
                    assert_eq!(g.as_ref().ok(), w.as_ref().ok());
                }
            }
        }
    }
    seen.sort_unstable();
    let mut want: Vec<u64> = (0..10).collect();
    want.extend([99, 100]);
    assert_eq!(seen, want, "every request answered once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_in_prometheus_format() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let engine = engine();
    let (sets, _) = pool(&engine, 20);
    let server = Server::start(&["--metrics-listen", "127.0.0.1:0"]);
    let mut client = server.client().await;
    client
        .verify_signature_sets(&sets, &Ciphersuite::ETHEREUM)
        .await
        .unwrap();
    let mut stream = tokio::net::TcpStream::connect(server.metrics.unwrap())
        .await
        .unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    for line in [
        "veribatch_requests_total{rpc=\"verify_signatures\",outcome=\"ok\"} 1",
        "veribatch_items_total{rpc=\"verify_signatures\",verdict=\"valid\"}",
        "veribatch_items_total{rpc=\"verify_signatures\",verdict=\"invalid\"} 2",
        "veribatch_batch_size_count{operation=\"verify_signatures\"} 1",
        "veribatch_batches_total{operation=\"verify_signatures\",backend=\"cpu\"} 1",
        "veribatch_queue_depth{operation=\"verify_signatures\",backend=\"cpu\"} 0",
        "veribatch_backend_info{backend=\"cpu\"} 1",
        "# TYPE veribatch_queue_wait_seconds histogram",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

/// `--remote` gives the same output and exit code as verifying in-process.
#[test]
fn the_cli_gives_the_same_answers_through_the_service() {
    let server = Server::start(&[]);
    let url = server.url();
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let ex = |name: &str| examples.join(name).to_string_lossy().into_owned();
    let cases: Vec<Vec<String>> = vec![
        vec!["verify".into(), "bls".into(), ex("attestations.ndjson")],
        vec!["verify".into(), "bls".into(), ex("valid.ndjson")],
        vec![
            "merkle".into(),
            "root".into(),
            "--limit".into(),
            "256".into(),
            "--mix-in-length".into(),
            ex("chunks.bin"),
        ],
        vec![
            "groth16".into(),
            "verify".into(),
            ex("groth16/verification_key.json"),
            ex("groth16/public_0.json"),
            ex("groth16/proof_0.json"),
        ],
        vec![
            "groth16".into(),
            "verify".into(),
            ex("groth16/verification_key.json"),
            ex("groth16/public_1.json"),
            ex("groth16/proof_0.json"),
        ],
        vec![
            "groth16".into(),
            "verify-batch".into(),
            "--vk".into(),
            ex("groth16/verification_key.json"),
            ex("groth16/batch.ndjson"),
        ],
    ];
    for args in cases {
        let run = |remote: bool| {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_veribatch"));
            cmd.args(&args[..2]);
            if remote {
                cmd.args(["--remote", &url]);
            }
            cmd.args(&args[2..]);
            cmd.output().unwrap()
        };
        let (local, remote) = (run(false), run(true));
        assert_eq!(
            remote.status.code(),
            local.status.code(),
            "{args:?}: {}",
            String::from_utf8_lossy(&remote.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&remote.stdout),
            String::from_utf8_lossy(&local.stdout),
            "{args:?}"
        );
    }
    let unreachable = std::process::Command::new(env!("CARGO_BIN_EXE_veribatch"))
        .args([
            "verify",
            "bls",
            "--remote",
            "http://127.0.0.1:1",
            &ex("valid.ndjson"),
        ])
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("cannot connect"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_a_stream_the_client_keeps_open() {
    let engine = engine();
    let (sets, _) = pool(&engine, 4);
    let server = Server::start(&[]);
    let (tx, mut responses) = open_stream(&server, 4).await;
    tx.send(on_stream(1, &sets)).await.unwrap();
    assert_eq!(responses.message().await.unwrap().unwrap().id, 1);
    // The client keeps its side of the stream open (tx is alive) while the server stops.
    server.terminate();
    let ended = responses
        .message()
        .await
        .expect_err("the server ends the stream");
    assert_eq!(ended.code(), tonic::Code::Unavailable, "{ended:?}");
    assert!(ended.message().contains("the 1 requests read"), "{ended:?}");
    assert_eq!(
        tokio::task::spawn_blocking(move || server.wait())
            .await
            .unwrap(),
        Some(0)
    );
    drop(tx);
}

/// A client that pipelines many requests on one stream and is cut off by SIGTERM: every
/// request the server read is answered (as many answers as the final status says were
/// read, each id once), and the stream ends UNAVAILABLE, so the client knows to resend
/// the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_answers_every_request_a_pipelined_stream_had_read() {
    let engine = engine();
    let (sets, _) = pool(&engine, 8);
    let server = Server::start(&[]);
    let (tx, mut responses) = open_stream(&server, 1024).await;
    for id in 0..400 {
        tx.send(on_stream(id, &sets)).await.unwrap();
    }
    // Once the first answer is back the server is mid-stream.
    let mut ids = std::collections::BTreeSet::new();
    let first = responses.message().await.unwrap().unwrap();
    assert_eq!(first.code, 0);
    ids.insert(first.id);
    server.terminate();
    let ended = loop {
        match responses.message().await {
            Ok(Some(answer)) => {
                assert_eq!(answer.code, 0, "{answer:?}");
                assert!(ids.insert(answer.id), "id {} answered twice", answer.id);
            }
            Ok(None) => panic!("the stream ended OK after a shutdown"),
            Err(status) => break status,
        }
    };
    assert_eq!(ended.code(), tonic::Code::Unavailable, "{ended:?}");
    let read = format!("the {} requests read", ids.len());
    assert!(ended.message().contains(&read), "{read}: {ended:?}");
    drop(tx);
}

/// `veribatch health` (a container's HEALTHCHECK): 0 while the server serves, 2 when
/// nothing answers.
#[test]
fn the_health_command_says_whether_the_server_serves() {
    let server = Server::start(&["--backend", "cpu"]);
    let out = common::process::veribatch(&["health", "--remote", &server.url()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(common::process::stdout(&out).trim(), "the server: serving");
    let url = server.url();
    drop(server);
    let out = common::process::veribatch(&["health", "--remote", &url, "--timeout-ms", "2000"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// MerkleRootStream: a tree larger than the server's largest message, sent in pieces that
/// are not whole chunks, has the engine's root; the shape comes from the first piece.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merkle_roots_stream_past_the_message_size() {
    let engine = engine();
    let server = Server::start(&["--max-message-bytes", "2097152"]);
    let mut client = server.client().await;
    let chunks = TestRng::new(8).bytes(32 * (5 << 15) + 32 * 7); // 5 MiB and 7 chunks
    let want = engine
        .merkle_root(&chunks, Some(1 << 20), Some(99))
        .unwrap();
    let piece = |bytes: &[u8], first: bool| proto::MerkleRootStreamRequest {
        chunks: bytes.to_vec(),
        limit: if first { 1 << 20 } else { 0 },
        mix_in_length: false,
        length: first.then_some(99),
        hash: 0,
    };
    let pieces: Vec<_> = chunks
        .chunks(1_000_003)
        .enumerate()
        .map(|(i, p)| piece(p, i == 0))
        .collect();
    let root = client
        .inner()
        .merkle_root_stream(tokio_stream::iter(pieces.clone()))
        .await
        .unwrap()
        .into_inner()
        .root;
    assert_eq!(root, want.to_vec());
    let too_large = client
        .merkle_root(chunks.clone(), Some(1 << 20), Some(99))
        .await
        .unwrap_err();
    assert!(too_large.to_string().contains("OutOfRange"), "{too_large}");

    let mut changed = pieces.clone();
    changed[2].limit = 7;
    let e = client
        .inner()
        .merkle_root_stream(tokio_stream::iter(changed))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().contains("read from the first message"),
        "{}",
        e.message()
    );
    let mut huge = pieces.clone();
    huge[0].limit = u64::MAX;
    let e = client
        .inner()
        .merkle_root_stream(tokio_stream::iter(huge))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("deeper than"), "{}", e.message());
    let mut ragged = pieces.clone();
    ragged.last_mut().unwrap().chunks.pop();
    let e = client
        .inner()
        .merkle_root_stream(tokio_stream::iter(ragged))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().contains("is not a multiple of 32"),
        "{}",
        e.message()
    );

    // The CLI sends a file in pieces; the same root as in-process.
    let dir = common::process::scratch("merkle-stream");
    let file = dir.join("chunks.bin");
    std::fs::write(&file, &chunks).unwrap();
    let url = server.url();
    let args = |remote: bool| {
        let mut a = vec!["merkle", "root", "--limit", "1048576", "--length", "99"];
        if remote {
            a.extend(["--remote", url.as_str()]);
        }
        a.push(file.to_str().unwrap());
        a
    };
    let remote = common::process::veribatch(&args(true));
    assert_eq!(
        remote.status.code(),
        Some(0),
        "{}",
        common::process::stderr(&remote)
    );
    let local = common::process::veribatch(&args(false));
    assert_eq!(
        common::process::stdout(&remote),
        common::process::stdout(&local)
    );
    assert_eq!(
        common::process::stdout(&local).trim(),
        format!("0x{}", hex::encode(want))
    );
}
