//! `veribatch load --attack KIND`: one hostile caller beside the well-behaved clients, as
//! the attacks on a shared service were first tried. Each attack runs until told to
//! stop and counts what it sent and how the service answered; the load command measures
//! the well-behaved clients with and without it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::ValueEnum;
use serde::Serialize;
use veribatch_client::proto;
use veribatch_client::{Encoded, Remote};
use veribatch_engine::Engine;
use veribatch_testkit::{self as testkit, Rng, Validators};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attack {
    /// One signature set of 20,000 keys and messages per request (1.2 MB).
    Keys,
    /// One Merkle proof of 400,000 deep random generalized indices, no helper nodes.
    Merkle,
    /// Requests of 512 sets, half of them bad: every batch they join must be searched.
    BadSets,
    /// Registering new, distinct Groth16 keys as fast as the service takes them.
    RegisterFlood,
    /// 2,000 connections opened and left idle.
    IdleConnections,
}

/// What the hostile caller sent and was answered.
#[derive(Debug, Default, Serialize)]
pub struct AttackReport {
    pub requests: u64,
    /// Answers by gRPC code ("Ok", "InvalidArgument", …).
    pub answers: BTreeMap<String, u64>,
    /// Idle connections the attack held open at its peak.
    pub connections: u64,
}

/// Runs `attack` against `target` until `stop` is set.
pub async fn run(
    attack: Attack,
    client: Remote,
    target: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
) -> AttackReport {
    let mut report = AttackReport::default();
    if attack == Attack::IdleConnections {
        let mut held = Vec::new();
        for _ in 0..2000 {
            match tokio::net::TcpStream::connect(target).await {
                Ok(socket) => held.push(socket),
                Err(_) => break,
            }
        }
        report.connections = held.len() as u64;
        while !stop.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        return report;
    }
    let request = hostile_request(attack);
    let mut flood = 0u64;
    let mut client = client;
    while !stop.load(Ordering::SeqCst) {
        let code = match &request {
            Hostile::Encoded(r) => code(client.send_encoded(r).await),
            Hostile::Register => {
                flood += 1;
                let key = testkit::distinct_groth16_key(flood);
                code(
                    client
                        .inner()
                        .register_verifying_key(proto::RegisterVerifyingKeyRequest {
                            verifying_key: key,
                            format: proto::KeyFormat::Arkworks as i32,
                        })
                        .await,
                )
            }
        };
        report.requests += 1;
        *report.answers.entry(code).or_default() += 1;
    }
    report
}

fn code<T>(result: Result<T, tonic::Status>) -> String {
    match result {
        Ok(_) => "Ok".into(),
        Err(status) => format!("{:?}", status.code()),
    }
}

enum Hostile {
    /// A request encoded once and sent again and again: the attacker's encoding is not
    /// the server's work (on one machine, they share its cores).
    Encoded(Encoded),
    Register,
}

fn hostile_request(attack: Attack) -> Hostile {
    let engine = Engine::new(&veribatch_engine::EngineConfig::default());
    let mut rng = Rng::new(0xBAD);
    match attack {
        Attack::Keys => {
            // Real keys and distinct messages, so that a service without limits does all
            // the work (20,000 hashes to the curve and pairings) before finding the
            // signature wrong.
            let validators = Validators::new(&engine, 256, &mut rng);
            let signature = testkit::signature_sets(&engine, &validators, 1, 1, 0, &mut rng)
                .remove(0)
                .0
                .signature;
            let set = proto::SignatureSet {
                signature,
                public_keys: (0..20_000)
                    .map(|i| validators.public_keys[i % 256].clone())
                    .collect(),
                messages: (0..20_000u32).map(|i| i.to_le_bytes().repeat(8)).collect(),
            };
            signatures(proto::VerifySignaturesRequest {
                sets: vec![set],
                dst: Vec::new(),
                scheme: 0,
            })
        }
        Attack::BadSets => {
            let validators = Validators::new(&engine, 256, &mut rng);
            let sets = testkit::signature_sets(&engine, &validators, 512, 16, 50, &mut rng);
            signatures(proto::VerifySignaturesRequest {
                sets: sets.into_iter().map(|(s, _)| s.into()).collect(),
                dst: Vec::new(),
                scheme: 0,
            })
        }
        Attack::Merkle => {
            let gindices: Vec<u64> = (0..400_000)
                .map(|_| (1u64 << 60) | (rng.next_u64() >> 4))
                .collect();
            let request = proto::VerifyMerkleProofsRequest {
                proofs: vec![proto::MerkleProof {
                    root: vec![0; 32],
                    leaves: vec![vec![0; 32]; gindices.len()],
                    gindices,
                    proof: Vec::new(),
                }],
                ..Default::default()
            };
            Hostile::Encoded(Encoded::new(
                "/veribatch.v1.Verifier/VerifyMerkleProofs",
                &request,
            ))
        }
        Attack::RegisterFlood => Hostile::Register,
        Attack::IdleConnections => unreachable!("handled before"),
    }
}

fn signatures(request: proto::VerifySignaturesRequest) -> Hostile {
    Hostile::Encoded(Encoded::new(
        "/veribatch.v1.Verifier/VerifySignatures",
        &request,
    ))
}
