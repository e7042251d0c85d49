//! veribatch-client: a client of the veribatch service, for the CLI's `--remote`, for
//! `veribatch load`, and for programs that verify through a shared service.
//!
//! - [`Remote`]: the same inputs and verdicts as the engine, over gRPC: give it signature
//!   sets, get one verdict each, with the batching done by the service.
//! - [`pool`]: one replica, several, or a DNS name; balanced, probed, ejected.
//! - [`Retries`]: what is sent again, and when; every call keeps one deadline budget
//!   across its retries ([`Remote::with_deadline`]) and may be hedged
//!   ([`Remote::with_hedging`]).
//! - [`Encoded`]: requests encoded once and sent many times.
//!
//! Replies are checked before they are believed: one verdict per item, under the
//! scheme asked for.

mod auth;
mod encoded;
mod error;
pub mod pool;
mod replies;
mod retries;

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tonic::Status;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use veribatch_engine::bls::{Ciphersuite, SignatureSet};
use veribatch_engine::groth16::KeyFormat;
use veribatch_engine::merkle::TreeHash;
use veribatch_engine::sm2::Sm2Item;
use veribatch_engine::transparency_log::LogProof;
use veribatch_engine::{ProofInput, Verdict};
/// The wire format, for callers that build requests themselves (`veribatch load`).
pub use veribatch_proto as proto;

pub use auth::{Stamp, read_token, unauthenticated};
pub use encoded::Encoded;
pub use error::ClientError;
pub use pool::{PROBE_EVERY, RESOLVE_EVERY};
pub use replies::verdicts;
pub use retries::Retries;

use encoded::Preencoded;
use proto::KeyFormat as ProtoKeyFormat;
use proto::verifier_client::VerifierClient;
use replies::{applied_hash, applied_scheme, counted, tree_root};

/// Messages up to this size each way (the server's default limit).
const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// The generated client, with the token and the time left of the call.
pub type Client = VerifierClient<InterceptedService<Channel, Stamp>>;

/// Keys by id: their bytes and format, as registered.
type KnownKeys = Arc<Mutex<HashMap<Vec<u8>, (Vec<u8>, ProtoKeyFormat)>>>;

/// A connected client. Clones share the connections, the keys and the counters.
#[derive(Clone)]
pub struct Remote {
    channel: Channel,
    stamp: Stamp,
    client: Client,
    /// The keys registered through this client (and its clones), by id: sent again when
    /// a replica does not know one.
    keys: KnownKeys,
    retries: Retries,
    /// The time each call may take, its retries and their waits included.
    deadline: Option<Duration>,
    /// A second copy of an attempt is sent if the first has not answered by then.
    hedge_after: Option<Duration>,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    /// Calls sent, retries and hedges included.
    attempts: AtomicU64,
    /// Hedged copies sent.
    hedges: AtomicU64,
}

impl Remote {
    /// Connects to `target` (`http://host:port`, or `https://…` with `ca` the PEM of the
    /// certificate authority that signed the server's certificate); see
    /// [`Remote::connect_tls`] for several replicas.
    pub async fn connect(target: &str, ca: Option<&Path>) -> Result<Self, ClientError> {
        Self::connect_tls(target, ca, None).await
    }

    /// [`Remote::connect`], presenting a client certificate and key (PEM) to a server
    /// that requires one (mutual TLS).
    ///
    /// `target` is one URL (connected at once, so that a wrong address fails here),
    /// several separated by commas, or `dns:///name:port`: every address the name
    /// resolves to (a Kubernetes headless Service). Several replicas are a [`pool`]:
    /// balanced by power of two choices, each probed with the health service and
    /// passed over while it is not serving.
    pub async fn connect_tls(
        target: &str,
        ca: Option<&Path>,
        identity: Option<(&Path, &Path)>,
    ) -> Result<Self, ClientError> {
        let channel = pool::connect(target, pool::tls_config(ca, identity)?).await?;
        let stamp = Stamp::default();
        Ok(Self {
            client: client(channel.clone(), stamp.clone()),
            stamp,
            channel,
            keys: Arc::default(),
            retries: Retries::default(),
            deadline: None,
            hedge_after: None,
            counters: Arc::default(),
        })
    }

    /// Calls sent by this client and its clones so far, retries and hedges included.
    pub fn attempts(&self) -> u64 {
        self.counters.attempts.load(Ordering::Relaxed)
    }

    /// Hedged copies sent by this client and its clones so far.
    pub fn hedges(&self) -> u64 {
        self.counters.hedges.load(Ordering::Relaxed)
    }

    /// How calls are retried from now on ([`Retries`]).
    pub fn with_retries(mut self, retries: Retries) -> Self {
        self.retries = retries;
        self
    }

    /// Each call from now on ends within `deadline`, its retries and their waits
    /// included: every attempt carries the time left as its `grpc-timeout` (so a
    /// replica drops work nobody waits for), a retry that could not start in time is
    /// not made, and the caller gets DEADLINE_EXCEEDED naming the last failure.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// An attempt not answered after `after` is sent a second time (to the least busy
    /// replica: the first copy counts against its own) and the first success of the two
    /// is the answer; the other is cancelled. For tail latency, at the cost of the
    /// hedged share of calls verified twice; every verification call is idempotent.
    pub fn with_hedging(mut self, after: Duration) -> Self {
        self.hedge_after = Some(after);
        self
    }

    /// Runs `call` on the client, again while it fails in a way [`Retries`] retries and
    /// the deadline allows: every verification call is idempotent, so a call that met a
    /// replica going away or a full one is sent again (to another replica, where there
    /// are several).
    pub async fn retrying<T, F, Fut>(&mut self, mut call: F) -> Result<T, Status>
    where
        F: FnMut(Client) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let deadline = self.deadline.map(|d| Instant::now() + d);
        let mut attempt = 0;
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let error = match self.attempt(&mut call, left).await {
                Ok(response) => return Ok(response.into_inner()),
                Err(error) => error,
            };
            attempt += 1;
            let Some(wait) = self.retries.delay(&error, attempt) else {
                return Err(error);
            };
            if let Some(deadline) = deadline
                && Instant::now() + wait >= deadline
            {
                return Err(Status::deadline_exceeded(format!(
                    "no time left for another attempt within the call's deadline of {} ms \
                     after {attempt} attempts; the last failed with {:?}: {}",
                    self.deadline.unwrap_or_default().as_millis(),
                    error.code(),
                    error.message()
                )));
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt of `call` with `left` of the deadline: with hedging, a second copy is
    /// sent if the first has not answered in time, and the first success is the answer.
    async fn attempt<T, F, Fut>(
        &self,
        call: &mut F,
        left: Option<Duration>,
    ) -> Result<tonic::Response<T>, Status>
    where
        F: FnMut(Client) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let first = self.send(call(self.client_within(left)), left);
        let after = match self.hedge_after {
            Some(after) if left.is_none_or(|left| after < left) => after,
            _ => return first.await,
        };
        tokio::pin!(first);
        tokio::select! {
            answer = &mut first => return answer,
            () = tokio::time::sleep(after) => {}
        }
        self.counters.hedges.fetch_add(1, Ordering::Relaxed);
        let left = left.map(|left| left.saturating_sub(after));
        let second = self.send(call(self.client_within(left)), left);
        tokio::pin!(second);
        tokio::select! {
            answer = &mut first => match answer {
                Ok(response) => Ok(response),
                Err(_) => second.await,
            },
            answer = &mut second => match answer {
                Ok(response) => Ok(response),
                Err(_) => first.await,
            },
        }
    }

    /// `call`, counted, and given up at this end too once `left` has passed (a replica
    /// that never answers must not hold the caller past its deadline).
    fn send<T>(
        &self,
        call: impl Future<Output = Result<tonic::Response<T>, Status>>,
        left: Option<Duration>,
    ) -> impl Future<Output = Result<tonic::Response<T>, Status>> {
        self.counters.attempts.fetch_add(1, Ordering::Relaxed);
        async move {
            let Some(left) = left else {
                return call.await;
            };
            let end = Instant::now() + left;
            match tokio::time::timeout(left, call).await {
                // tonic's own timers (the channel's, the server's) end a call at its
                // grpc-timeout as CANCELLED; past the deadline, any failure is its end.
                Ok(answer) if answer.is_ok() || Instant::now() < end => answer,
                _ => Err(Status::deadline_exceeded(
                    "no answer within the call's deadline",
                )),
            }
        }
    }

    fn client_within(&self, left: Option<Duration>) -> Client {
        client(self.channel.clone(), self.stamp.within(left))
    }

    /// Sends `token` as `authorization: Bearer TOKEN` with every call, to a service that
    /// identifies its callers (`--auth-token-file`).
    pub fn with_token(mut self, token: &str) -> Result<Self, ClientError> {
        self.stamp = Stamp::with_token(token)?;
        self.client = client(self.channel.clone(), self.stamp.clone());
        Ok(self)
    }

    /// Whether the health service says `service` ("" is the server as a whole) is
    /// serving; an error if it cannot be asked.
    pub async fn serving(&self, service: &str) -> Result<bool, ClientError> {
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
        let answer = HealthClient::new(self.channel.clone())
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await?;
        Ok(answer.into_inner().status == ServingStatus::Serving as i32)
    }

    /// Sends a request encoded in advance and returns its status, dropping the answer.
    pub async fn send_encoded(&mut self, request: &Encoded) -> Result<(), Status> {
        let mut grpc = tonic::client::Grpc::new(InterceptedService::new(
            self.channel.clone(),
            self.stamp.clone(),
        ))
        .max_encoding_message_size(MAX_MESSAGE_BYTES)
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        grpc.unary(
            tonic::Request::new(request.bytes.clone()),
            request.path.clone(),
            Preencoded,
        )
        .await
        .map(drop)
    }

    /// The generated client, for calls this wrapper does not cover.
    pub fn inner(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Verifies sets under `suite`; exactly one verdict per set, or an error.
    pub async fn verify_signature_sets(
        &mut self,
        sets: &[SignatureSet],
        suite: &Ciphersuite,
    ) -> Result<Vec<Verdict>, ClientError> {
        let request = proto::VerifySignaturesRequest {
            sets: sets.iter().cloned().map(Into::into).collect(),
            dst: suite.dst().to_vec(),
            scheme: proto::BlsScheme::from(suite.scheme()) as i32,
        };
        let response = self
            .retrying(|mut c| {
                let request = request.clone();
                async move { c.verify_signatures(request).await }
            })
            .await?;
        applied_scheme(response.scheme, suite.scheme())?;
        counted(verdicts(response.verdicts), sets.len(), "sets")
    }

    pub async fn merkle_root(
        &mut self,
        chunks: Vec<u8>,
        limit: Option<u64>,
        mix_in_length: Option<u64>,
    ) -> Result<[u8; 32], ClientError> {
        self.merkle_root_with(TreeHash::Sha256, chunks, limit, mix_in_length)
            .await
    }

    /// [`Remote::merkle_root`] with nodes made by `hash`.
    pub async fn merkle_root_with(
        &mut self,
        hash: TreeHash,
        chunks: Vec<u8>,
        limit: Option<u64>,
        mix_in_length: Option<u64>,
    ) -> Result<[u8; 32], ClientError> {
        let request = proto::MerkleRootRequest {
            chunks,
            limit: limit.unwrap_or(0),
            mix_in_length: mix_in_length.is_some(),
            length: mix_in_length,
            hash: proto::TreeHash::from(hash) as i32,
        };
        let reply = self
            .retrying(|mut c| {
                let request = request.clone();
                async move { c.merkle_root(request).await }
            })
            .await?;
        tree_root(reply.root, reply.hash, hash)
    }

    /// The SSZ root of the file at `path`, sent in pieces of 1 MiB (MerkleRootStream),
    /// so a tree of any size fits; `limit`, `mix_in_length` and `length` as
    /// MerkleRootRequest's. A failed attempt is retried by reading the file again; a
    /// root is returned only if the whole file was read and sent.
    pub async fn merkle_root_of_file(
        &mut self,
        hash: TreeHash,
        path: &Path,
        limit: Option<u64>,
        mix_in_length: bool,
        length: Option<u64>,
    ) -> Result<[u8; 32], ClientError> {
        const PIECE: usize = 1 << 20;
        let read_error: Arc<Mutex<Option<std::io::Error>>> = Arc::default();
        let root = self
            .retrying(|mut c| {
                let (send, pieces) = tokio::sync::mpsc::channel(2);
                let (path, failed) = (path.to_path_buf(), read_error.clone());
                tokio::task::spawn_blocking(move || {
                    let mut file = match std::fs::File::open(&path) {
                        Ok(file) => file,
                        Err(e) => {
                            *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                            return;
                        }
                    };
                    let mut first = true;
                    loop {
                        let mut chunks = vec![0u8; PIECE];
                        let n = match veribatch_engine::merkle::stream::read_full(
                            &mut file,
                            &mut chunks,
                        ) {
                            Ok(n) => n,
                            // The pieces end when `send` drops: the server answers the
                            // root of part of the file, and this error replaces it.
                            Err(e) => {
                                *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                                return;
                            }
                        };
                        chunks.truncate(n);
                        // The first piece carries the tree's shape, even if it is empty.
                        let piece = proto::MerkleRootStreamRequest {
                            chunks,
                            limit: if first { limit.unwrap_or(0) } else { 0 },
                            mix_in_length: first && mix_in_length,
                            length: if first { length } else { None },
                            hash: if first {
                                proto::TreeHash::from(hash) as i32
                            } else {
                                0
                            },
                        };
                        if (n > 0 || first) && send.blocking_send(piece).is_err() {
                            return;
                        }
                        first = false;
                        if n < PIECE {
                            return;
                        }
                    }
                });
                async move {
                    c.merkle_root_stream(tokio_stream::wrappers::ReceiverStream::new(pieces))
                        .await
                }
            })
            .await;
        if let Some(source) = read_error.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(ClientError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
        let reply = root?;
        tree_root(reply.root, reply.hash, hash)
    }

    /// The transparency-log tree head of the first `size` of `leaves` (all if `None`),
    /// made by `hash`, with the size the server says it is of.
    pub async fn log_root(
        &mut self,
        hash: TreeHash,
        leaves: Vec<Vec<u8>>,
        size: Option<u64>,
    ) -> Result<([u8; 32], u64), ClientError> {
        let request = proto::LogRootRequest {
            leaves,
            size,
            hash: proto::TreeHash::from(hash).into(),
        };
        let response = self
            .retrying(|mut c| {
                let request = request.clone();
                async move { c.log_root(request).await }
            })
            .await?;
        Ok((
            tree_root(response.root, response.hash, hash)?,
            response.size,
        ))
    }

    /// Verifies RFC 9162 proofs; exactly one verdict per proof, or an error. A request
    /// names one hash for all its proofs, so proofs of SHA-256 and of SM3 trees go in a
    /// request each, and their verdicts come back in the order of `proofs`.
    pub async fn verify_log_proofs(
        &mut self,
        proofs: &[LogProof],
    ) -> Result<Vec<Verdict>, ClientError> {
        let mut answers: Vec<Option<Verdict>> = vec![None; proofs.len()];
        for hash in TreeHash::ALL {
            let (at, of_hash): (Vec<usize>, Vec<proto::LogProof>) = proofs
                .iter()
                .enumerate()
                .filter(|(_, p)| p.hash() == hash)
                .map(|(i, p)| (i, p.clone().into()))
                .unzip();
            if of_hash.is_empty() {
                continue;
            }
            let request = proto::VerifyLogProofsRequest {
                proofs: of_hash,
                hash: proto::TreeHash::from(hash).into(),
            };
            let response = self
                .retrying(|mut c| {
                    let request = request.clone();
                    async move { c.verify_log_proofs(request).await }
                })
                .await?;
            applied_hash(response.hash, hash)?;
            let got = counted(verdicts(response.verdicts), at.len(), "proofs")?;
            for (i, verdict) in at.into_iter().zip(got) {
                answers[i] = Some(verdict);
            }
        }
        Ok(answers
            .into_iter()
            .map(|v| v.expect("every proof has one hash"))
            .collect())
    }

    /// Verifies SM2 signatures, one verdict each.
    pub async fn verify_sm2(&mut self, items: &[Sm2Item]) -> Result<Vec<Verdict>, ClientError> {
        let request = proto::VerifySm2Request {
            signatures: items.iter().cloned().map(Into::into).collect(),
        };
        let response = self
            .retrying(|mut c| {
                let request = request.clone();
                async move { c.verify_sm2(request).await }
            })
            .await?;
        counted(verdicts(response.verdicts), items.len(), "signatures")
    }

    /// Registers a key; returns its id. The key is remembered, so that a replica that
    /// does not know it (restarted, or another one behind a load balancer) is sent it
    /// again by [`Remote::verify_groth16`].
    pub async fn register_key(
        &mut self,
        key: Vec<u8>,
        format: Option<KeyFormat>,
    ) -> Result<Vec<u8>, ClientError> {
        let format = match format {
            None => ProtoKeyFormat::Unspecified,
            Some(KeyFormat::SnarkjsJson) => ProtoKeyFormat::SnarkjsJson,
            Some(KeyFormat::Arkworks) => ProtoKeyFormat::Arkworks,
            Some(KeyFormat::Bellman) => ProtoKeyFormat::Bellman,
        };
        let request = proto::RegisterVerifyingKeyRequest {
            verifying_key: key.clone(),
            format: format as i32,
        };
        let id = self
            .retrying(|mut c| {
                let request = request.clone();
                async move { c.register_verifying_key(request).await }
            })
            .await?
            .key_id;
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), (key, format));
        Ok(id)
    }

    /// Verifies proofs for the key `key_id`. If the server does not know the key
    /// (NOT_FOUND) and it was registered through this client, it is sent again with the
    /// proofs, once.
    pub async fn verify_groth16(
        &mut self,
        key_id: &[u8],
        proofs: &[ProofInput],
    ) -> Result<Vec<Verdict>, ClientError> {
        let request = proto::VerifyGroth16Request {
            key_id: key_id.to_vec(),
            proofs: proofs.iter().cloned().map(Into::into).collect(),
            verifying_key: Vec::new(),
            format: ProtoKeyFormat::Unspecified as i32,
        };
        let response = self.send_groth16(request).await?;
        counted(verdicts(response.verdicts), proofs.len(), "proofs")
    }

    /// Sends a VerifyGroth16 request as it is, retried; if the server does not know its
    /// key (NOT_FOUND) and the key was registered through this client, it is sent again
    /// with the key inline, once.
    pub async fn send_groth16(
        &mut self,
        mut request: proto::VerifyGroth16Request,
    ) -> Result<proto::VerifyGroth16Response, Status> {
        let send = |request: proto::VerifyGroth16Request| {
            move |mut c: Client| {
                let request = request.clone();
                async move { c.verify_groth16(request).await }
            }
        };
        match self.retrying(send(request.clone())).await {
            Err(e) if e.code() == tonic::Code::NotFound => {
                let known = self
                    .keys
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&request.key_id)
                    .cloned();
                let Some((key, format)) = known else {
                    return Err(e);
                };
                request.verifying_key = key;
                request.format = format as i32;
                self.retrying(send(request)).await
            }
            other => other,
        }
    }
}

fn client(channel: Channel, stamp: Stamp) -> Client {
    VerifierClient::with_interceptor(channel, stamp)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES)
}
