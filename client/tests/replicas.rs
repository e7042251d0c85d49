//! The client against replicas it cannot trust to answer: fake `Verifier` servers on
//! loopback ports that answer, refuse with UNAVAILABLE, or never answer, each with a
//! real health service the test turns off and on.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use veribatch_client::proto::verifier_server::{Verifier, VerifierServer};
use veribatch_client::proto::*;
use veribatch_client::{PROBE_EVERY, Remote, Retries};
use veribatch_engine::bls::{Ciphersuite, SignatureSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    /// Every set valid.
    Answer,
    /// UNAVAILABLE, as a replica that is going away.
    Unavailable,
    /// No answer, ever.
    Silent,
}

/// A fake replica: what it does, and what it was sent.
#[derive(Clone)]
struct Fake {
    behaviour: Behaviour,
    calls: Arc<AtomicU64>,
    /// The `grpc-timeout` of each call, as sent.
    timeouts: Arc<Mutex<Vec<Option<String>>>>,
}

fn refused<T>() -> Result<Response<T>, Status> {
    Err(Status::unimplemented("a fake replica"))
}

#[tonic::async_trait]
impl Verifier for Fake {
    type VerifyStreamStream =
        Pin<Box<dyn Stream<Item = Result<VerifyStreamResponse, Status>> + Send>>;

    async fn get_info(
        &self,
        _: Request<GetInfoRequest>,
    ) -> Result<Response<GetInfoResponse>, Status> {
        refused()
    }
    async fn verify_signatures(
        &self,
        request: Request<VerifySignaturesRequest>,
    ) -> Result<Response<VerifySignaturesResponse>, Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let timeout = request
            .metadata()
            .get("grpc-timeout")
            .map(|v| v.to_str().unwrap_or("").to_string());
        self.timeouts.lock().unwrap().push(timeout);
        let request = request.into_inner();
        match self.behaviour {
            Behaviour::Answer => Ok(Response::new(VerifySignaturesResponse {
                verdicts: vec![
                    Verdict {
                        valid: true,
                        ..Default::default()
                    };
                    request.sets.len()
                ],
                scheme: request.scheme,
            })),
            Behaviour::Unavailable => Err(Status::unavailable("draining")),
            Behaviour::Silent => std::future::pending().await,
        }
    }
    async fn aggregate_signatures(
        &self,
        _: Request<AggregateSignaturesRequest>,
    ) -> Result<Response<AggregateSignaturesResponse>, Status> {
        refused()
    }
    async fn aggregate_public_keys(
        &self,
        _: Request<AggregatePublicKeysRequest>,
    ) -> Result<Response<AggregatePublicKeysResponse>, Status> {
        refused()
    }
    async fn merkle_root(
        &self,
        _: Request<MerkleRootRequest>,
    ) -> Result<Response<MerkleRootResponse>, Status> {
        refused()
    }
    async fn merkle_root_stream(
        &self,
        _: Request<Streaming<MerkleRootStreamRequest>>,
    ) -> Result<Response<MerkleRootResponse>, Status> {
        refused()
    }
    async fn verify_merkle_proofs(
        &self,
        _: Request<VerifyMerkleProofsRequest>,
    ) -> Result<Response<VerifyMerkleProofsResponse>, Status> {
        refused()
    }
    async fn log_root(
        &self,
        _: Request<LogRootRequest>,
    ) -> Result<Response<LogRootResponse>, Status> {
        refused()
    }
    async fn verify_log_proofs(
        &self,
        _: Request<VerifyLogProofsRequest>,
    ) -> Result<Response<VerifyLogProofsResponse>, Status> {
        refused()
    }
    async fn verify_sm2(
        &self,
        _: Request<VerifySm2Request>,
    ) -> Result<Response<VerifySm2Response>, Status> {
        refused()
    }
    async fn register_verifying_key(
        &self,
        _: Request<RegisterVerifyingKeyRequest>,
    ) -> Result<Response<RegisterVerifyingKeyResponse>, Status> {
        refused()
    }
    async fn verify_groth16(
        &self,
        _: Request<VerifyGroth16Request>,
    ) -> Result<Response<VerifyGroth16Response>, Status> {
        refused()
    }
    async fn verify_stream(
        &self,
        _: Request<Streaming<VerifyStreamRequest>>,
    ) -> Result<Response<Self::VerifyStreamStream>, Status> {
        refused()
    }
}

/// A running fake replica.
struct Replica {
    url: String,
    fake: Fake,
    health: HealthReporter,
}

impl Replica {
    async fn start(behaviour: Behaviour) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fake = Fake {
            behaviour,
            calls: Arc::default(),
            timeouts: Arc::default(),
        };
        let (health, health_service) = tonic_health::server::health_reporter();
        health.set_service_status("", ServingStatus::Serving).await;
        let server = tonic::transport::Server::builder()
            .add_service(health_service)
            .add_service(VerifierServer::new(fake.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener));
        tokio::spawn(server);
        Self { url, fake, health }
    }

    fn calls(&self) -> u64 {
        self.fake.calls.load(Ordering::SeqCst)
    }

    async fn serving(&self, serving: bool) {
        let status = if serving {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        self.health.set_service_status("", status).await;
    }
}

fn sets() -> Vec<SignatureSet> {
    vec![SignatureSet {
        signature: vec![0xc0; 96],
        public_keys: vec![vec![0xc0; 48]],
        messages: vec![vec![7; 32]],
    }]
}

/// Long enough for the pool to have probed every replica since a change.
async fn probes_pass() {
    tokio::time::sleep(PROBE_EVERY * 4).await;
}

/// A replica whose health service says NOT_SERVING (draining before a restart) gets no
/// new calls once probed, and calls again once it says SERVING.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_stops_serving_is_passed_over_until_it_serves_again() {
    let (a, b) = (
        Replica::start(Behaviour::Answer).await,
        Replica::start(Behaviour::Answer).await,
    );
    let mut remote = Remote::connect(&format!("{},{}", a.url, b.url), None)
        .await
        .unwrap();
    let call_many = async |remote: &mut Remote| {
        for _ in 0..40 {
            let verdicts = remote
                .verify_signature_sets(&sets(), &Ciphersuite::ETHEREUM)
                .await
                .unwrap();
            assert_eq!(verdicts, vec![Ok(true)]);
        }
    };
    call_many(&mut remote).await;
    assert!(
        a.calls() > 0 && b.calls() > 0,
        "both replicas are balanced to"
    );

    a.serving(false).await;
    probes_pass().await;
    let before = a.calls();
    call_many(&mut remote).await;
    assert_eq!(
        a.calls(),
        before,
        "no call to the replica that is not serving"
    );

    a.serving(true).await;
    probes_pass().await;
    call_many(&mut remote).await;
    assert!(a.calls() > before, "the replica is back in the balance");
}

/// Retries of a replica that keeps refusing stop at the call's deadline, and each
/// attempt carries the time left of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_keeps_one_deadline_across_its_retries() {
    let refusing = Replica::start(Behaviour::Unavailable).await;
    let mut remote = Remote::connect(&refusing.url, None)
        .await
        .unwrap()
        .with_retries(Retries {
            attempts: 100,
            backoff: Duration::from_millis(20),
            ..Retries::default()
        })
        .with_deadline(Duration::from_millis(500));
    let error = remote
        .verify_signature_sets(&sets(), &Ciphersuite::ETHEREUM)
        .await
        .unwrap_err();
    // The status is the deadline's, naming the last failure.
    assert_eq!(error.code(), Some(tonic::Code::DeadlineExceeded), "{error}");
    assert!(error.to_string().contains("Unavailable"), "{error}");
    let calls = refusing.calls();
    assert!((2..100).contains(&calls), "{calls} attempts");
    let timeouts = refusing.fake.timeouts.lock().unwrap().clone();
    let micros: Vec<u64> = timeouts
        .iter()
        .map(|t| {
            let t = t
                .as_deref()
                .expect("every attempt carries its grpc-timeout");
            let (digits, unit) = t.split_at(t.len() - 1);
            let n: u64 = digits.parse().unwrap();
            match unit {
                "n" => n / 1000,
                "u" => n,
                "m" => n * 1000,
                other => panic!("unit {other} for under a second"),
            }
        })
        .collect();
    assert!(micros[0] <= 500_000, "{micros:?}");
    assert!(
        micros.windows(2).all(|w| w[1] < w[0]),
        "each attempt has less time left: {micros:?}"
    );
}

/// A replica that never answers: a call balanced to it ends at its deadline, and with
/// hedging a second copy is sent and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_to_a_replica_that_never_answers_end_at_their_deadline_and_are_hedged() {
    let (silent, answering) = (
        Replica::start(Behaviour::Silent).await,
        Replica::start(Behaviour::Answer).await,
    );
    let targets = format!("{},{}", silent.url, answering.url);

    let mut plain = Remote::connect(&targets, None)
        .await
        .unwrap()
        .with_deadline(Duration::from_millis(500));
    let mut failures = 0;
    for _ in 0..20 {
        if let Err(error) = plain
            .verify_signature_sets(&sets(), &Ciphersuite::ETHEREUM)
            .await
        {
            assert_eq!(error.code(), Some(tonic::Code::DeadlineExceeded), "{error}");
            failures += 1;
        }
    }
    assert!(failures > 0, "some calls went to the silent replica");

    // tonic's balancer may send the second copy to the same replica: hedging is counted
    // and bounded by the deadline, not a guarantee of another replica.
    let mut hedged = Remote::connect(&targets, None)
        .await
        .unwrap()
        .with_deadline(Duration::from_millis(500))
        .with_hedging(Duration::from_millis(50));
    for _ in 0..20 {
        match hedged
            .verify_signature_sets(&sets(), &Ciphersuite::ETHEREUM)
            .await
        {
            Ok(verdicts) => assert_eq!(verdicts, vec![Ok(true)]),
            Err(error) => {
                assert_eq!(error.code(), Some(tonic::Code::DeadlineExceeded), "{error}")
            }
        }
    }
    assert!(hedged.hedges() > 0, "slow calls were hedged");
    assert_eq!(hedged.attempts(), 20 + hedged.hedges());
}
