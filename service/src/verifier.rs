//! The `Verifier` service: each RPC converts its request, hands batched work to the
//! scheduler and the rest to a blocking thread, and converts the result back.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request, Response, Status, Streaming};
use veribatch_engine::groth16::{KeyId, PreparedKey};
use veribatch_engine::merkle::stream::RootStream;
use veribatch_engine::merkle::{depth_for, mixed_length, multiproof_verdict};
use veribatch_engine::scheduler::{Operation, Scheduler, Ticket};
use veribatch_engine::transparency_log;
use veribatch_engine::{Engine, InputError, Verdict};

use crate::auth::Identity;
use crate::convert;
use crate::limits::RequestLimits;
use crate::metrics::Metrics;
use crate::proto::verifier_server::Verifier;
use crate::proto::{
    self, verify_stream_request as stream_req, verify_stream_response as stream_resp,
};
use crate::quotas::{Admission, Quotas};

/// Bounded pools for the work that does not batch across requests, one per kind, so no
/// kind (a flood of Merkle proofs, say) takes every blocking thread from the others.
pub struct Pools {
    merkle: Semaphore,
    aggregation: Semaphore,
    keys: Semaphore,
    /// Open MerkleRootStream calls, each holding up to a block of chunks (8 MiB).
    merkle_streams: Arc<Semaphore>,
}

impl Pools {
    /// `threads` at once for Merkle work and for aggregation each; key registration
    /// (rare, and each key's points are validated on one core) half as many; eight open
    /// MerkleRootStream calls per thread.
    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        Self {
            merkle: Semaphore::new(threads),
            aggregation: Semaphore::new(threads),
            keys: Semaphore::new(threads.div_ceil(2)),
            merkle_streams: Arc::new(Semaphore::new(8 * threads)),
        }
    }
}

/// How long a MerkleRootStream waits for its next piece.
const PIECE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The `veribatch.v1.Verifier` service.
#[derive(Clone)]
pub struct VerifierService {
    scheduler: Arc<Scheduler>,
    metrics: Arc<Metrics>,
    limits: RequestLimits,
    quotas: Arc<Quotas>,
    pools: Arc<Pools>,
    /// The request permits of each connection, shared by its unary requests and all its
    /// streams, so that many streams on one connection do not multiply its allowance.
    connections: Arc<Mutex<HashMap<SocketAddr, Weak<Semaphore>>>>,
    /// Becomes true when the server starts shutting down: streams stop reading.
    stopping: watch::Receiver<bool>,
}

impl VerifierService {
    pub fn new(
        scheduler: Arc<Scheduler>,
        metrics: Arc<Metrics>,
        limits: RequestLimits,
        quotas: Arc<Quotas>,
        stopping: watch::Receiver<bool>,
    ) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            scheduler,
            metrics,
            limits,
            quotas,
            pools: Arc::new(Pools::new(threads)),
            connections: Arc::default(),
            stopping,
        }
    }

    /// The request permits of the connection from `peer`, shared by its unary requests
    /// and the requests of all its streams (a set of its own when the peer is unknown).
    fn connection_permits(&self, peer: Option<SocketAddr>) -> Arc<Semaphore> {
        let fresh = || Arc::new(Semaphore::new(self.limits.stream_concurrency.max(1)));
        let Some(peer) = peer else {
            return fresh();
        };
        let mut connections = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        match connections.get(&peer) {
            Some(permits) => {
                if let Some(permits) = permits.upgrade() {
                    return permits;
                }
            }
            // A new peer: forget the connections with nothing in flight, each time the
            // map reaches a power of two (not on every request: this is the hot path).
            None if connections.len().is_power_of_two() => {
                connections.retain(|_, permits| permits.strong_count() > 0);
            }
            None => {}
        }
        let permits = fresh();
        connections.insert(peer, Arc::downgrade(&permits));
        permits
    }

    /// Admits a request of `cost` from `caller` under its quotas.
    fn admit(&self, caller: &Identity, cost: u64) -> Result<Admission, Status> {
        self.quotas.admit(caller, cost)
    }

    fn engine(&self) -> &Arc<Engine> {
        self.scheduler.engine()
    }

    /// Runs engine work that does not batch across requests on a blocking thread, once
    /// `pool` has room for it.
    async fn blocking<T: Send + 'static>(
        &self,
        pool: &Semaphore,
        work: impl FnOnce(&Engine) -> T + Send + 'static,
    ) -> Result<T, Status> {
        let _permit = pool
            .acquire()
            .await
            .map_err(|_| Status::unavailable("the server is shutting down"))?;
        let engine = self.engine().clone();
        tokio::task::spawn_blocking(move || work(&engine))
            .await
            .map_err(|e| Status::internal(format!("the verification task failed: {e}")))
    }

    /// Times and counts one request, run once its connection has room for it: unary
    /// requests and the requests of every stream on a connection share one allowance
    /// ([`VerifierService::connection_permits`]).
    async fn measured<T>(
        &self,
        rpc: &'static str,
        peer: Option<SocketAddr>,
        work: impl Future<Output = Result<T, Status>>,
    ) -> Result<T, Status> {
        let started = Instant::now();
        let permits = self.connection_permits(peer);
        let _slot = permits
            .acquire()
            .await
            .map_err(|_| Status::unavailable("the server is shutting down"))?;
        let result = work.await;
        let code = result.as_ref().map_or_else(Status::code, |_| Code::Ok);
        self.metrics.request(rpc, code, started.elapsed());
        result
    }

    fn counted(&self, rpc: &'static str, verdicts: Vec<Verdict>) -> Vec<proto::Verdict> {
        self.metrics.verdicts(rpc, &verdicts);
        verdicts.into_iter().map(Into::into).collect()
    }

    async fn verify_signatures_inner(
        &self,
        caller: &Identity,
        request: proto::VerifySignaturesRequest,
        deadline: Option<Instant>,
    ) -> Result<proto::VerifySignaturesResponse, Status> {
        let cost = self.limits.check_signature_sets(&request.sets)?;
        let _admitted = self.admit(caller, cost)?;
        let sets = request.sets.into_iter().map(Into::into).collect::<Vec<_>>();
        let suite = convert::ciphersuite(request.dst, request.scheme)?;
        let scheme = proto::BlsScheme::from(suite.scheme()) as i32;
        let verdicts = self
            .scheduler
            .verify_signature_sets(sets, suite, ticket(caller, deadline))
            .await
            .map_err(convert::schedule_error)?;
        self.quotas.charge(caller, search_cost(&verdicts, cost));
        Ok(proto::VerifySignaturesResponse {
            verdicts: self.counted("verify_signatures", verdicts),
            scheme,
        })
    }

    async fn verify_sm2_inner(
        &self,
        caller: &Identity,
        request: proto::VerifySm2Request,
        deadline: Option<Instant>,
    ) -> Result<proto::VerifySm2Response, Status> {
        let cost = self.limits.check_sm2(&request.signatures)?;
        let _admitted = self.admit(caller, cost)?;
        let items = request
            .signatures
            .into_iter()
            .map(Into::into)
            .collect::<Vec<_>>();
        let verdicts = self
            .scheduler
            .verify_sm2(items, ticket(caller, deadline))
            .await
            .map_err(convert::schedule_error)?;
        Ok(proto::VerifySm2Response {
            verdicts: self.counted("verify_sm2", verdicts),
        })
    }

    async fn aggregate_signatures_inner(
        &self,
        caller: &Identity,
        request: proto::AggregateSignaturesRequest,
    ) -> Result<proto::AggregateSignaturesResponse, Status> {
        self.limits
            .check_items("signatures", request.signatures.len())?;
        let _admitted = self.admit(caller, request.signatures.len() as u64)?;
        let signature = self
            .blocking(&self.pools.aggregation, move |e| {
                e.aggregate_signatures(&request.signatures)
            })
            .await?
            .map_err(invalid)?;
        Ok(proto::AggregateSignaturesResponse {
            signature: signature.to_vec(),
        })
    }

    async fn aggregate_public_keys_inner(
        &self,
        caller: &Identity,
        request: proto::AggregatePublicKeysRequest,
    ) -> Result<proto::AggregatePublicKeysResponse, Status> {
        self.limits
            .check_items("public_keys", request.public_keys.len())?;
        let _admitted = self.admit(caller, request.public_keys.len() as u64)?;
        let public_key = self
            .blocking(&self.pools.aggregation, move |e| {
                e.aggregate_public_keys(&request.public_keys)
            })
            .await?
            .map_err(invalid)?;
        Ok(proto::AggregatePublicKeysResponse {
            public_key: public_key.to_vec(),
        })
    }

    async fn merkle_root_inner(
        &self,
        caller: &Identity,
        request: proto::MerkleRootRequest,
    ) -> Result<proto::MerkleRootResponse, Status> {
        let hash = convert::tree_hash(request.hash)?;
        let cost = self.limits.check_merkle_root(request.chunks.len(), hash)?;
        let _admitted = self.admit(caller, cost)?;
        let limit = (request.limit != 0).then_some(request.limit);
        let chunk_count = (request.chunks.len() / 32) as u64;
        let mix_in = mixed_length(chunk_count, request.mix_in_length, request.length);
        let root = self
            .blocking(&self.pools.merkle, move |e| {
                e.merkle_root_with(hash, &request.chunks, limit, mix_in)
            })
            .await?
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        Ok(proto::MerkleRootResponse {
            root: root.to_vec(),
            hash: proto::TreeHash::from(hash).into(),
        })
    }

    /// A root of chunks sent in pieces: each piece is within the request limits and
    /// admitted by the caller's quota before it is hashed, on a blocking thread, into a
    /// [`RootStream`] that moves from one piece's task to the next. Each open stream holds
    /// up to a block of chunks, so their number is bounded (RESOURCE_EXHAUSTED beyond)
    /// and a stream whose next piece does not come within [`PIECE_WAIT`] is ended; on
    /// shutdown the stream stops reading and ends with UNAVAILABLE.
    async fn merkle_root_stream_inner(
        &self,
        caller: &Identity,
        mut pieces: Streaming<proto::MerkleRootStreamRequest>,
    ) -> Result<proto::MerkleRootResponse, Status> {
        let _open = self
            .pools
            .merkle_streams
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                Status::resource_exhausted("too many MerkleRootStream calls open: retry later")
            })?;
        let mut stopping = self.stopping.clone();
        let mut shape: Option<(u64, bool, Option<u64>, i32)> = None;
        let mut stream = None;
        loop {
            let piece = tokio::select! {
                piece = tokio::time::timeout(PIECE_WAIT, pieces.message()) => {
                    piece.map_err(|_| Status::deadline_exceeded(format!(
                        "no piece for {} s: the stream is ended",
                        PIECE_WAIT.as_secs()
                    )))??
                }
                _ = stopping.wait_for(|stop| *stop) => {
                    return Err(Status::unavailable(
                        "the server is shutting down: send the whole stream again",
                    ));
                }
            };
            let Some(piece) = piece else { break };
            let given = (piece.limit, piece.mix_in_length, piece.length, piece.hash);
            let first = *shape.get_or_insert(given);
            if given != first && given != (0, false, None, 0) {
                return Err(Status::invalid_argument(
                    "limit, mix_in_length, length and hash are read from the first message; \
                     later messages leave them unset",
                ));
            }
            let hash = convert::tree_hash(first.3)?;
            let limit = (first.0 != 0).then_some(first.0);
            if stream.is_none() {
                // A limit too large for any tree is refused before anything is hashed.
                depth_for(0, limit).map_err(|e| Status::invalid_argument(e.to_string()))?;
            }
            let cost = self.limits.check_merkle_root(piece.chunks.len(), hash)?;
            let _admitted = self.admit(caller, cost)?;
            let mut root = stream
                .take()
                .unwrap_or_else(|| RootStream::with_hash(hash, limit));
            let (root, pushed) = self
                .blocking(&self.pools.merkle, move |e| {
                    let pushed = e.push_merkle_chunks(&mut root, &piece.chunks);
                    (root, pushed)
                })
                .await?;
            pushed.map_err(|e| Status::invalid_argument(e.to_string()))?;
            stream = Some(root);
        }
        let (limit, mix_in_chunk_count, length, hash) = shape.unwrap_or((0, false, None, 0));
        let hash = convert::tree_hash(hash)?;
        let stream =
            stream.unwrap_or_else(|| RootStream::with_hash(hash, (limit != 0).then_some(limit)));
        let root = self
            .blocking(&self.pools.merkle, move |e| {
                e.finish_merkle_root(stream, |chunks| {
                    mixed_length(chunks, mix_in_chunk_count, length)
                })
            })
            .await?
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        Ok(proto::MerkleRootResponse {
            root: root.to_vec(),
            hash: proto::TreeHash::from(hash).into(),
        })
    }

    async fn verify_merkle_proofs_inner(
        &self,
        caller: &Identity,
        request: proto::VerifyMerkleProofsRequest,
    ) -> Result<proto::VerifyMerkleProofsResponse, Status> {
        let hash = convert::tree_hash(request.hash)?;
        let cost = self.limits.check_merkle_proofs(&request.proofs)?;
        let _admitted = self.admit(caller, cost)?;
        let verdicts = self
            .blocking(&self.pools.merkle, move |_| {
                request
                    .proofs
                    .iter()
                    .map(|p| multiproof_verdict(hash, &p.root, &p.gindices, &p.leaves, &p.proof))
                    .collect::<Vec<_>>()
            })
            .await?;
        Ok(proto::VerifyMerkleProofsResponse {
            verdicts: self.counted("verify_merkle_proofs", verdicts),
            hash: proto::TreeHash::from(hash).into(),
        })
    }

    async fn log_root_inner(
        &self,
        caller: &Identity,
        request: proto::LogRootRequest,
    ) -> Result<proto::LogRootResponse, Status> {
        let hash = convert::tree_hash(request.hash)?;
        let cost = self.limits.check_log_root(&request.leaves, hash)?;
        let sent = request.leaves.len() as u64;
        let size = request.size.unwrap_or(sent);
        if size > sent {
            return Err(Status::invalid_argument(format!(
                "size: {size}, but {sent} leaves were sent"
            )));
        }
        let _admitted = self.admit(caller, cost)?;
        let root = self
            .blocking(&self.pools.merkle, move |e| {
                e.log_tree_head(hash, &request.leaves[..size as usize])
            })
            .await?;
        Ok(proto::LogRootResponse {
            root: root.to_vec(),
            size,
            hash: proto::TreeHash::from(hash).into(),
        })
    }

    async fn verify_log_proofs_inner(
        &self,
        caller: &Identity,
        request: proto::VerifyLogProofsRequest,
    ) -> Result<proto::VerifyLogProofsResponse, Status> {
        let hash = convert::tree_hash(request.hash)?;
        let cost = self.limits.check_log_proofs(&request.proofs, hash)?;
        let _admitted = self.admit(caller, cost)?;
        let verdicts = self
            .blocking(&self.pools.merkle, move |_| {
                let proofs: Vec<_> = request
                    .proofs
                    .into_iter()
                    .map(|p| proto::log_proof(p, hash))
                    .collect();
                transparency_log::verdicts(&proofs)
            })
            .await?;
        Ok(proto::VerifyLogProofsResponse {
            verdicts: self.counted("verify_log_proofs", verdicts),
            hash: proto::TreeHash::from(hash).into(),
        })
    }

    /// Validates and registers `bytes` as `caller`'s key, within the key limits and
    /// quotas (RegisterVerifyingKey, and VerifyGroth16 with the key inline), for a
    /// caller admitted already, with the key's cost ([`key_cost`]).
    async fn register(
        &self,
        caller: &Identity,
        bytes: Vec<u8>,
        format: i32,
    ) -> Result<Arc<PreparedKey>, Status> {
        self.limits.check_key(bytes.len())?;
        self.quotas.may_register(caller)?;
        let format = convert::key_format(format)?;
        let key = self
            .blocking(&self.pools.keys, move |e| {
                e.prepare_groth16_key(&bytes, format)
            })
            .await?
            .map_err(invalid)?;
        // Counted by id once it is known: registering a key again is not a new key.
        self.quotas.claim_key(caller, *key.id())?;
        // Written to the key store, if any: a file, so off the async threads.
        self.blocking(&self.pools.keys, move |e| e.add_groth16_key(key))
            .await
    }

    /// The key a VerifyGroth16 request names: known here (in memory or in the key
    /// store), or else the key sent inline, registered on the way; NOT_FOUND naming the
    /// id if neither, so that the client registers it and retries.
    async fn groth16_key(
        &self,
        caller: &Identity,
        key_id: &[u8],
        inline: Vec<u8>,
        format: i32,
    ) -> Result<Arc<PreparedKey>, Status> {
        let id: Option<KeyId> = match key_id.len() {
            0 => None,
            32 => Some(key_id.try_into().expect("32 bytes")),
            n => {
                return Err(Status::invalid_argument(format!(
                    "key_id: expected 32 bytes, got {n}"
                )));
            }
        };
        if let Some(id) = id {
            if let Some(key) = self.engine().cached_groth16_key(&id) {
                return Ok(key);
            }
            if self.engine().config().groth16_key_store.is_some()
                && let Some(key) = self
                    .blocking(&self.pools.keys, move |e| e.groth16_key(&id))
                    .await?
            {
                return Ok(key);
            }
        }
        match (id, inline.is_empty()) {
            (None, true) => Err(Status::invalid_argument(
                "key_id or verifying_key: one of them is needed",
            )),
            (Some(id), true) => Err(Status::not_found(format!(
                "key_id: unknown key {}: register it with RegisterVerifyingKey, or send it \
                 as verifying_key",
                hex_id(&id)
            ))),
            (id, false) => {
                // Admitted for its proofs: the key's validation is charged on top.
                self.limits.check_key(inline.len())?;
                self.quotas.charge(caller, key_cost(&inline));
                let key = self.register(caller, inline, format).await?;
                match id {
                    Some(id) if id != *key.id() => Err(Status::invalid_argument(format!(
                        "key_id: {} is not the id of the verifying_key sent ({})",
                        hex_id(&id),
                        hex_id(key.id())
                    ))),
                    _ => Ok(key),
                }
            }
        }
    }

    async fn register_verifying_key_inner(
        &self,
        caller: &Identity,
        request: proto::RegisterVerifyingKeyRequest,
    ) -> Result<proto::RegisterVerifyingKeyResponse, Status> {
        self.limits.check_key(request.verifying_key.len())?;
        let _admitted = self.admit(caller, key_cost(&request.verifying_key))?;
        let key = self
            .register(caller, request.verifying_key, request.format)
            .await?;
        Ok(proto::RegisterVerifyingKeyResponse {
            key_id: key.id().to_vec(),
            public_inputs: key.key().public_inputs() as u32,
        })
    }

    async fn verify_groth16_inner(
        &self,
        caller: &Identity,
        request: proto::VerifyGroth16Request,
        deadline: Option<Instant>,
    ) -> Result<proto::VerifyGroth16Response, Status> {
        let cost = self.limits.check_groth16(&request.proofs)?;
        let _admitted = self.admit(caller, cost)?;
        let key = self
            .groth16_key(
                caller,
                &request.key_id,
                request.verifying_key,
                request.format,
            )
            .await?;
        let proofs = request
            .proofs
            .into_iter()
            .map(Into::into)
            .collect::<Vec<_>>();
        let verdicts = self
            .scheduler
            .verify_groth16(key, proofs, ticket(caller, deadline))
            .await
            .map_err(convert::schedule_error)?;
        self.quotas.charge(caller, search_cost(&verdicts, cost));
        Ok(proto::VerifyGroth16Response {
            verdicts: self.counted("verify_groth16", verdicts),
        })
    }

    fn info(&self) -> proto::GetInfoResponse {
        let engine = self.engine();
        let config = self.scheduler.config();
        let selected = engine.backend().name();
        let health = engine.device_health();
        proto::GetInfoResponse {
            version: env!("CARGO_PKG_VERSION").into(),
            backends: veribatch_engine::backend::inventory(
                veribatch_engine::backend::BackendChoice::Auto,
            )
            .into_iter()
            .map(|b| {
                let detail = match health.as_ref().and_then(|h| h.state()) {
                    Some(state) if b.name == selected => format!("{}; {state}", b.detail),
                    _ => b.detail,
                };
                proto::BackendInfo {
                    name: b.name.into(),
                    available: b.available,
                    selected: b.name == selected,
                    detail,
                }
            })
            .collect(),
            limits: Some(proto::Limits {
                max_batch: config.max_batch as u32,
                max_delay_micros: config.max_delay.as_micros() as u64,
                queue_limit: config.queue_limit as u64,
                max_message_bytes: self.limits.max_message_bytes as u64,
                max_items_per_request: self.limits.max_items as u32,
                max_keys_per_set: self.limits.max_keys_per_set as u32,
                max_messages_per_set: self.limits.max_messages_per_set as u32,
                max_cost_per_request: self.limits.max_cost_per_request,
                max_leaves_per_proof: self.limits.max_leaves_per_proof as u32,
                max_nodes_per_proof: self.limits.max_nodes_per_proof as u32,
                max_key_bytes: self.limits.max_key_bytes as u64,
                max_merkle_proofs_message_bytes: self.limits.max_merkle_proofs_message_bytes()
                    as u64,
            }),
            operations: Operation::ALL
                .iter()
                .map(|&op| {
                    let s = self.scheduler.stats(op);
                    let load = |a: &std::sync::atomic::AtomicU64| {
                        a.load(std::sync::atomic::Ordering::Relaxed)
                    };
                    proto::OperationStats {
                        operation: op.name().into(),
                        requests: load(&s.requests),
                        items: load(&s.items),
                        batches: load(&s.batches),
                        largest_batch: load(&s.largest_batch),
                        queued: load(&s.queued),
                        rejected: load(&s.rejected),
                        expired: load(&s.expired),
                        fallbacks: load(&s.fallbacks),
                    }
                })
                .collect(),
            cached_public_keys: engine.cached_public_keys() as u64,
            registered_keys: engine.registered_keys() as u64,
            device_health: health.map(|h| proto::DeviceHealth {
                fallbacks: h.fallbacks,
                last_fallback: h.last_fallback.unwrap_or_default(),
                spot_checks: h.spot_checks,
                mismatches: h.mismatches,
                disabled: h.disabled.unwrap_or_default(),
                watchdog_timeouts: h.watchdog_timeouts,
                unhealthy: h.unhealthy.unwrap_or_default(),
            }),
        }
    }

    /// Answers one request of a stream, with the status the unary call would have had.
    async fn answer(
        &self,
        caller: &Identity,
        request: proto::VerifyStreamRequest,
    ) -> proto::VerifyStreamResponse {
        let id = request.id;
        let result = match request.request {
            None => Err(Status::invalid_argument("request: empty")),
            Some(stream_req::Request::VerifySignatures(r)) => self
                .verify_signatures_inner(caller, r, None)
                .await
                .map(stream_resp::Response::VerifySignatures),
            Some(stream_req::Request::VerifyGroth16(r)) => self
                .verify_groth16_inner(caller, r, None)
                .await
                .map(stream_resp::Response::VerifyGroth16),
            Some(stream_req::Request::MerkleRoot(r)) => self
                .merkle_root_inner(caller, r)
                .await
                .map(stream_resp::Response::MerkleRoot),
            Some(stream_req::Request::VerifyMerkleProofs(r)) => self
                .verify_merkle_proofs_inner(caller, r)
                .await
                .map(stream_resp::Response::VerifyMerkleProofs),
            Some(stream_req::Request::LogRoot(r)) => self
                .log_root_inner(caller, r)
                .await
                .map(stream_resp::Response::LogRoot),
            Some(stream_req::Request::VerifyLogProofs(r)) => self
                .verify_log_proofs_inner(caller, r)
                .await
                .map(stream_resp::Response::VerifyLogProofs),
            Some(stream_req::Request::VerifySm2(r)) => self
                .verify_sm2_inner(caller, r, None)
                .await
                .map(stream_resp::Response::VerifySm2),
            Some(stream_req::Request::AggregateSignatures(r)) => self
                .aggregate_signatures_inner(caller, r)
                .await
                .map(stream_resp::Response::AggregateSignatures),
            Some(stream_req::Request::AggregatePublicKeys(r)) => self
                .aggregate_public_keys_inner(caller, r)
                .await
                .map(stream_resp::Response::AggregatePublicKeys),
        };
        match result {
            Ok(response) => proto::VerifyStreamResponse {
                id,
                code: Code::Ok as i32,
                message: String::new(),
                response: Some(response),
            },
            Err(status) => proto::VerifyStreamResponse {
                id,
                code: status.code() as i32,
                message: status.message().to_string(),
                response: None,
            },
        }
    }
}

impl VerifierService {
    /// Reads a stream's requests and answers each as it completes. At most
    /// `stream_concurrency` requests of all the streams of one connection (`permits`) are
    /// worked on at once (the stream is not read further
    /// until one finishes, so a client that never reads its answers slows itself down);
    /// work stops when the client goes away; on shutdown the stream stops reading, answers
    /// every request it read, and ends with UNAVAILABLE (never OK: requests the client sent
    /// after the last one read were not answered, and must be sent again elsewhere).
    async fn serve_stream(
        self,
        caller: Identity,
        permits: Arc<Semaphore>,
        mut inbound: Streaming<proto::VerifyStreamRequest>,
        tx: mpsc::Sender<Result<proto::VerifyStreamResponse, Status>>,
    ) {
        let mut stopping = self.stopping.clone();
        let mut tasks = JoinSet::new();
        let mut read = 0u64;
        let mut shutting_down = false;
        loop {
            // Read first, then wait for room on the connection: a stream that waits for
            // its next request holds no permit, so idle streams cannot block the others.
            let next = tokio::select! {
                next = inbound.message() => next,
                _ = tx.closed() => break,
                _ = stopping.wait_for(|stop| *stop) => {
                    shutting_down = true;
                    break;
                }
            };
            match next {
                Ok(Some(request)) => {
                    read += 1;
                    let permit = tokio::select! {
                        permit = permits.clone().acquire_owned() => {
                            permit.expect("the semaphore is never closed")
                        }
                        _ = tx.closed() => break,
                    };
                    let (service, tx, caller) = (self.clone(), tx.clone(), caller.clone());
                    tasks.spawn(async move {
                        let started = Instant::now();
                        let response = service.answer(&caller, request).await;
                        let code = Code::from_i32(response.code);
                        service
                            .metrics
                            .request("verify_stream", code, started.elapsed());
                        let _ = tx.send(Ok(response)).await;
                        drop(permit);
                    });
                }
                Ok(None) => break,
                Err(status) => {
                    let _ = tx.send(Err(status)).await;
                    break;
                }
            }
            // Reap finished tasks so the set stays as small as the permits allow.
            while tasks.try_join_next().is_some() {}
        }
        if tx.is_closed() {
            // Nobody will read the answers: stop the work.
            tasks.abort_all();
        }
        while tasks.join_next().await.is_some() {}
        if shutting_down {
            let _ = tx
                .send(Err(Status::unavailable(format!(
                    "the server is shutting down: the {read} requests read from this stream \
                     were answered; send any later ones again"
                ))))
                .await;
        }
    }
}

/// What finding a request's invalid items cost beyond `cost`, its own.
fn search_cost(verdicts: &[Verdict], cost: u64) -> u64 {
    let invalid = verdicts.iter().filter(|v| **v == Ok(false)).count();
    veribatch_engine::scheduler::cost::search(verdicts.len(), invalid, cost)
}

/// A request's place in the scheduler: its deadline, and its caller, so that batches take
/// the requests of different callers in turn.
fn ticket(caller: &Identity, deadline: Option<Instant>) -> Ticket {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    caller.hash(&mut hasher);
    Ticket {
        deadline,
        caller: hasher.finish(),
    }
}

/// The caller the authentication interceptor found ([`crate::auth`]).
fn caller<T>(request: &Request<T>) -> Identity {
    request
        .extensions()
        .get::<Identity>()
        .cloned()
        .unwrap_or(Identity::Anonymous)
}

fn invalid(e: InputError) -> Status {
    Status::invalid_argument(e.to_string())
}

/// What validating a key of these bytes costs: about one unit per 48 bytes (a point).
fn key_cost(bytes: &[u8]) -> u64 {
    (bytes.len() / 48).max(1) as u64
}

fn hex_id(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

type ResponseStream =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<proto::VerifyStreamResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Verifier for VerifierService {
    async fn get_info(
        &self,
        request: Request<proto::GetInfoRequest>,
    ) -> Result<Response<proto::GetInfoResponse>, Status> {
        self.measured("get_info", request.remote_addr(), async { Ok(self.info()) })
            .await
            .map(Response::new)
    }

    async fn verify_signatures(
        &self,
        request: Request<proto::VerifySignaturesRequest>,
    ) -> Result<Response<proto::VerifySignaturesResponse>, Status> {
        let deadline = convert::deadline(request.metadata());
        self.measured(
            "verify_signatures",
            request.remote_addr(),
            self.verify_signatures_inner(&caller(&request), request.into_inner(), deadline),
        )
        .await
        .map(Response::new)
    }

    async fn aggregate_signatures(
        &self,
        request: Request<proto::AggregateSignaturesRequest>,
    ) -> Result<Response<proto::AggregateSignaturesResponse>, Status> {
        self.measured(
            "aggregate_signatures",
            request.remote_addr(),
            self.aggregate_signatures_inner(&caller(&request), request.into_inner()),
        )
        .await
        .map(Response::new)
    }

    async fn aggregate_public_keys(
        &self,
        request: Request<proto::AggregatePublicKeysRequest>,
    ) -> Result<Response<proto::AggregatePublicKeysResponse>, Status> {
        self.measured(
            "aggregate_public_keys",
            request.remote_addr(),
            self.aggregate_public_keys_inner(&caller(&request), request.into_inner()),
        )
        .await
        .map(Response::new)
    }

    async fn merkle_root(
        &self,
        request: Request<proto::MerkleRootRequest>,
    ) -> Result<Response<proto::MerkleRootResponse>, Status> {
        self.measured(
            "merkle_root",
            request.remote_addr(),
            self.merkle_root_inner(&caller(&request), request.into_inner()),
        )
        .await
        .map(Response::new)
    }

    async fn merkle_root_stream(
        &self,
        request: Request<Streaming<proto::MerkleRootStreamRequest>>,
    ) -> Result<Response<proto::MerkleRootResponse>, Status> {
        self.measured(
            "merkle_root_stream",
            request.remote_addr(),
            self.merkle_root_stream_inner(&caller(&request), request.into_inner()),
        )
        .await
        .map(Response::new)
    }

    async fn verify_merkle_proofs(
        &self,
        request: Request<proto::VerifyMerkleProofsRequest>,
    ) -> Result<Response<proto::VerifyMerkleProofsResponse>, Status> {
        self.measured(
            "verify_merkle_proofs",
            request.remote_addr(),
            self.verify_merkle_proofs_inner(&caller(&request), request.into_inner()),
        )
        .await
        .map(Response::new)
    }

    async fn log_root(
        &self,
        request: Request<proto::LogRootRequest>,
    ) -> Result<Response<proto::LogRootResponse>, Status> {
        self.measured(
            "log_root",
            request.remote_addr(),
            self.log_root_inner(&caller(&request), request.into_inner()),
        )
        .await
        .map(Response::new)
    }

    async fn verify_log_proofs(
        &self,
        request: Request<proto::VerifyLogProofsRequest>,
    ) -> Result<Response<proto::VerifyLogProofsResponse>, Status> {
        self.measured(
            "verify_log_proofs",
            request.remote_addr(),
            self.verify_log_proofs_inner(&caller(&request), request.into_inner()),
        )
        .await
        .map(Response::new)
    }

    async fn register_verifying_key(
        &self,
        request: Request<proto::RegisterVerifyingKeyRequest>,
    ) -> Result<Response<proto::RegisterVerifyingKeyResponse>, Status> {
        self.measured(
            "register_verifying_key",
            request.remote_addr(),
            self.register_verifying_key_inner(&caller(&request), request.into_inner()),
        )
        .await
        .map(Response::new)
    }

    async fn verify_groth16(
        &self,
        request: Request<proto::VerifyGroth16Request>,
    ) -> Result<Response<proto::VerifyGroth16Response>, Status> {
        let deadline = convert::deadline(request.metadata());
        self.measured(
            "verify_groth16",
            request.remote_addr(),
            self.verify_groth16_inner(&caller(&request), request.into_inner(), deadline),
        )
        .await
        .map(Response::new)
    }

    async fn verify_sm2(
        &self,
        request: Request<proto::VerifySm2Request>,
    ) -> Result<Response<proto::VerifySm2Response>, Status> {
        let deadline = convert::deadline(request.metadata());
        self.measured(
            "verify_sm2",
            request.remote_addr(),
            self.verify_sm2_inner(&caller(&request), request.into_inner(), deadline),
        )
        .await
        .map(Response::new)
    }

    type VerifyStreamStream = ResponseStream;

    async fn verify_stream(
        &self,
        request: Request<Streaming<proto::VerifyStreamRequest>>,
    ) -> Result<Response<Self::VerifyStreamStream>, Status> {
        let caller = caller(&request);
        let permits = self.connection_permits(request.remote_addr());
        let inbound = request.into_inner();
        let (tx, rx) = mpsc::channel(self.limits.stream_concurrency.max(1));
        tokio::spawn(self.clone().serve_stream(caller, permits, inbound, tx));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
