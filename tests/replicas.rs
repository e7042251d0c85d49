//! Replicas that are interchangeable: a Groth16 key id means the same key on every
//! replica that was sent it, loaded it at start, or shares the key store where it was
//! registered; a replica that knows nothing of it says NOT_FOUND, and the client sends
//! the key again.

mod common;

use common::groth16::{Fixture, compressed, fr_be};
use common::process::scratch;
use common::server::Server;
use tonic::Code;
use veribatch_engine::ProofInput;
use veribatch_service::proto;

/// A key (arkworks compressed) and a valid and an invalid proof for it.
fn key_and_proofs(seed: u64) -> (Vec<u8>, Vec<proto::Groth16Proof>) {
    let mut fixture = Fixture::new(seed);
    let (good, inputs) = fixture.prove(3, 5);
    let proof = |p| proto::Groth16Proof {
        proof: compressed(p),
        public_inputs: inputs.iter().map(fr_be).collect(),
    };
    let (other, _) = fixture.prove(4, 5); // a proof of other inputs
    (compressed(&fixture.vk), vec![proof(&good), proof(&other)])
}

fn valid(response: &proto::VerifyGroth16Response) -> Vec<bool> {
    response
        .verdicts
        .iter()
        .map(|v| {
            assert!(v.error.is_empty(), "{}", v.error);
            v.valid
        })
        .collect()
}

async fn verify(
    server: &Server,
    key_id: &[u8],
    key: &[u8],
    proofs: &[proto::Groth16Proof],
) -> Result<proto::VerifyGroth16Response, tonic::Status> {
    let mut remote = server.client().await;
    remote
        .inner()
        .verify_groth16(proto::VerifyGroth16Request {
            key_id: key_id.to_vec(),
            proofs: proofs.to_vec(),
            verifying_key: key.to_vec(),
            format: proto::KeyFormat::Arkworks as i32,
        })
        .await
        .map(|r| r.into_inner())
}

async fn register(server: &Server, key: &[u8]) -> Vec<u8> {
    server
        .client()
        .await
        .inner()
        .register_verifying_key(proto::RegisterVerifyingKeyRequest {
            verifying_key: key.to_vec(),
            format: proto::KeyFormat::Arkworks as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .key_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_sent_inline_verifies_on_any_replica() {
    let (key, proofs) = key_and_proofs(1);
    let first = Server::start(&["--backend", "cpu"]);
    let id = register(&first, &key).await;
    let second = Server::start(&["--backend", "cpu"]);

    // By id alone, a replica that never saw the key says so, naming it: NOT_FOUND.
    let unknown = verify(&second, &id, &[], &proofs).await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(unknown.message().contains(&hex::encode(&id)), "{unknown:?}");

    // With the key inline, it verifies (and registers it: the id alone works next).
    let answer = verify(&second, &id, &key, &proofs).await.unwrap();
    assert_eq!(valid(&answer), [true, false]);
    let answer = verify(&second, &id, &[], &proofs).await.unwrap();
    assert_eq!(valid(&answer), [true, false]);
    // The key alone, without an id, too; and one request in flight is all it takes
    // (the key rides on the request's admission).
    let third = Server::start(&["--backend", "cpu", "--quota-in-flight", "1"]);
    assert_eq!(
        valid(&verify(&third, &[], &key, &proofs).await.unwrap()),
        [true, false]
    );

    // An id that is not the key's is refused, not used.
    let (other_key, _) = key_and_proofs(2);
    let wrong = verify(&third, &[9; 32], &other_key, &proofs)
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::InvalidArgument);
    assert!(
        wrong
            .message()
            .contains("is not the id of the verifying_key sent"),
        "{wrong:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_in_the_key_dir_are_loaded_at_start_and_never_forgotten() {
    let dir = scratch("key-dir");
    let (key, proofs) = key_and_proofs(3);
    std::fs::write(dir.join("circuit.ark"), &key).unwrap();
    // What a ConfigMap volume holds besides its files: dot-entries, a folder.
    std::fs::write(dir.join(".hidden"), b"not a key").unwrap();
    std::fs::create_dir(dir.join("..data")).unwrap();
    let dir_arg = dir.to_string_lossy().into_owned();
    let server = Server::start(&[
        "--backend",
        "cpu",
        "--groth16-key-dir",
        &dir_arg,
        "--groth16-keys",
        "1",
    ]);
    let id = veribatch_engine::Engine::new(&Default::default())
        .register_groth16_key(&key, None)
        .unwrap()
        .id()
        .to_vec();
    // Two keys registered by callers, with room for one: the loaded key stays.
    for seed in [4, 5] {
        register(&server, &key_and_proofs(seed).0).await;
    }
    let answer = verify(&server, &id, &[], &proofs).await.unwrap();
    assert_eq!(valid(&answer), [true, false]);

    // A file that is not a key stops the start, naming the file.
    std::fs::write(dir.join("broken.json"), b"{}").unwrap();
    let out = common::process::veribatch(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--groth16-key-dir",
        &dir_arg,
    ]);
    assert!(!out.status.success());
    let stderr = common::process::stderr(&out);
    assert!(stderr.contains("broken.json"), "{stderr}");
}

/// Registered keys survive restarts with `--groth16-key-store`, and replicas sharing the
/// store verify each other's keys without the key being sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_keys_survive_a_restart_with_a_key_store() {
    let store = scratch("key-store");
    let store_arg = store.to_string_lossy().into_owned();
    let args = [
        "--backend",
        "cpu",
        "--groth16-key-store",
        store_arg.as_str(),
    ];
    let (key, proofs) = key_and_proofs(6);
    let first = Server::start(&args);
    let id = register(&first, &key).await;
    let sharing = Server::start(&args);
    assert_eq!(
        valid(&verify(&sharing, &id, &[], &proofs).await.unwrap()),
        [true, false]
    );
    drop((first, sharing));
    let restarted = Server::start(&args);
    assert_eq!(
        valid(&verify(&restarted, &id, &[], &proofs).await.unwrap()),
        [true, false]
    );
    let file = store.join(format!("{}.key", hex::encode(&id)));
    assert_eq!(
        std::fs::read(&file).unwrap(),
        key,
        "stored in its canonical encoding"
    );
    // A store file that is not the key its name says is not used.
    std::fs::write(store.join(format!("{}.key", "ab".repeat(32))), &key).unwrap();
    let e = verify(&restarted, &[0xab; 32], &[], &proofs)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
}

/// The client sends a key it registered again when a replica has forgotten it (here:
/// evicted by two other keys, with room for one), without its caller noticing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_sends_a_forgotten_key_again() {
    let server = Server::start(&["--backend", "cpu", "--groth16-keys", "1"]);
    let (key, proofs) = key_and_proofs(7);
    let mut remote = server.client().await;
    let id = remote.register_key(key, None).await.unwrap();
    for seed in [8, 9] {
        register(&server, &key_and_proofs(seed).0).await;
    }
    let inputs: Vec<ProofInput> = proofs
        .iter()
        .map(|p| ProofInput {
            proof: p.proof.clone(),
            public_inputs: p.public_inputs.clone(),
        })
        .collect();
    let verdicts = remote.verify_groth16(&id, &inputs).await.unwrap();
    assert_eq!(verdicts, [Ok(true), Ok(false)]);
}
