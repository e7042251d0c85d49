//! A client of the service, for the CLI's `--remote` and for tests: the same inputs and
//! verdicts as the engine, over gRPC.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tonic::Status;
use tonic::metadata::AsciiMetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use veribatch_engine::bls::{Ciphersuite, Scheme, SignatureSet};
use veribatch_engine::groth16::KeyFormat;
use veribatch_engine::{InputError, ProofInput, Verdict};

use crate::proto::verifier_client::VerifierClient;
use crate::proto::{self, KeyFormat as ProtoKeyFormat};

/// Messages up to this size each way (the server's default limit).
const MAX_MESSAGE_BYTES: usize = 64 << 20;

fn client(channel: Channel, bearer: Bearer) -> Client {
    VerifierClient::with_interceptor(channel, bearer)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES)
}

/// Reads a bearer token from a file (its first line; surrounding space ignored).
pub fn read_token(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
    let token = text.lines().next().unwrap_or("").trim().to_string();
    if token.is_empty() {
        return Err(format!("{}: no token in the file", path.display()));
    }
    Ok(token)
}

/// Whether verdicts from `url` would travel unauthenticated: a plain `http://` URL to a
/// host other than the loopback interface, where anyone on the path can forge "valid".
pub fn unauthenticated(url: &str) -> bool {
    let Ok(uri) = url.parse::<tonic::codegen::http::Uri>() else {
        return false;
    };
    if uri.scheme_str() != Some("http") {
        return false;
    }
    let host = uri
        .host()
        .unwrap_or("")
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    !loopback
}

/// Adds `authorization: Bearer TOKEN` to every call, if there is a token.
#[derive(Clone, Debug, Default)]
pub struct Bearer(Option<AsciiMetadataValue>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(token) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", token.clone());
        }
        Ok(request)
    }
}

/// The generated client, with the bearer token.
pub type Client = VerifierClient<InterceptedService<Channel, Bearer>>;

/// A request encoded once, to be sent many times with [`Remote::send_encoded`]: `veribatch
/// load --attack` sends one large request over and over, and encoding it each time would
/// put the sender's work on the cores it shares with the server it measures.
#[derive(Clone, Debug)]
pub struct Encoded {
    path: tonic::codegen::http::uri::PathAndQuery,
    bytes: prost::bytes::Bytes,
}

impl Encoded {
    /// `request` for `method`, a path such as `/veribatch.v1.Verifier/VerifyMerkleProofs`.
    pub fn new(method: &'static str, request: &impl prost::Message) -> Self {
        Self {
            path: tonic::codegen::http::uri::PathAndQuery::from_static(method),
            bytes: request.encode_to_vec().into(),
        }
    }
}

/// The codec of [`Encoded`] requests: their bytes go out as they are, and answers are
/// read and dropped.
#[derive(Clone, Copy)]
struct Preencoded;

impl tonic::codec::Codec for Preencoded {
    type Encode = prost::bytes::Bytes;
    type Decode = ();
    type Encoder = Self;
    type Decoder = Self;

    fn encoder(&mut self) -> Self {
        Self
    }

    fn decoder(&mut self) -> Self {
        Self
    }
}

impl tonic::codec::Encoder for Preencoded {
    type Item = prost::bytes::Bytes;
    type Error = Status;

    fn encode(
        &mut self,
        item: Self::Item,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), Status> {
        prost::bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl tonic::codec::Decoder for Preencoded {
    type Item = ();
    type Error = Status;

    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<()>, Status> {
        let n = prost::bytes::Buf::remaining(src);
        prost::bytes::Buf::advance(src, n);
        Ok(Some(()))
    }
}

/// A connected client.
#[derive(Clone)]
pub struct Remote {
    channel: Channel,
    bearer: Bearer,
    client: Client,
    /// The keys registered through this client (and its clones), by id: sent again when
    /// a replica does not know one.
    keys: KnownKeys,
    retries: Retries,
    /// Calls sent by this client and its clones, retries included.
    attempts: Arc<AtomicU64>,
}

/// How often `dns:///` targets are resolved again.
pub const RESOLVE_EVERY: Duration = Duration::from_secs(30);

/// Which failed calls are sent again, and when.
#[derive(Clone, Copy, Debug)]
pub struct Retries {
    /// Attempts in all, the first included (1: no retry).
    pub attempts: u32,
    /// The wait before the first retry, doubled for each next one.
    pub backoff: Duration,
    /// The longest wait a RESOURCE_EXHAUSTED's RetryInfo may ask for; a longer one is
    /// given to the caller instead.
    pub max_wait: Duration,
}

impl Default for Retries {
    fn default() -> Self {
        Self {
            attempts: 5,
            backoff: Duration::from_millis(50),
            max_wait: Duration::from_secs(2),
        }
    }
}

impl Retries {
    /// The wait before attempt `attempt + 1` after `error`, if there is one: after
    /// UNAVAILABLE (a replica draining or gone), after a transport error (the
    /// connection broke or reset the call: an Unknown or Cancelled status with a
    /// source, which a server never sends), and after RESOURCE_EXHAUSTED once the
    /// server's RetryInfo delay has passed (one without a delay is not retried).
    /// Nothing else is retried.
    pub fn delay(&self, error: &Status, attempt: u32) -> Option<Duration> {
        use tonic_types::StatusExt;
        if attempt >= self.attempts {
            return None;
        }
        let backoff = self.backoff.saturating_mul(1 << (attempt - 1).min(16));
        match error.code() {
            tonic::Code::Unavailable => Some(backoff),
            // A call the connection reset under it (a replica closing its connections):
            // a status the transport made, with its source, never one a server sent.
            tonic::Code::Unknown | tonic::Code::Cancelled
                if std::error::Error::source(error).is_some() =>
            {
                Some(backoff)
            }
            // Only a refusal that says when to come back is temporary (a full key
            // quota, say, is not).
            tonic::Code::ResourceExhausted => error
                .get_details_retry_info()
                .and_then(|info| info.retry_delay)
                .filter(|asked| *asked <= self.max_wait),
            _ => None,
        }
    }
}

fn tls_config(
    ca: Option<&Path>,
    identity: Option<(&Path, &Path)>,
) -> Result<Option<ClientTlsConfig>, String> {
    if ca.is_none() && identity.is_none() {
        return Ok(None);
    }
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let mut tls = ClientTlsConfig::new();
    if let Some(ca) = ca {
        tls = tls.ca_certificate(Certificate::from_pem(read(ca)?));
    }
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?));
    }
    Ok(Some(tls))
}

/// A channel balanced over every address `name` (host:port) resolves to, resolved
/// again every [`RESOLVE_EVERY`] by a task that ends with the channel.
async fn resolving_channel(
    name: &str,
    scheme: &str,
    endpoint: impl Fn(String) -> Result<Endpoint, String> + Send + 'static,
) -> Result<Channel, String> {
    use std::collections::HashSet;
    use std::net::SocketAddr;
    use tonic::transport::channel::Change;

    let resolve = |name: String| async move {
        tokio::net::lookup_host(&name)
            .await
            .map(|addresses| addresses.collect::<HashSet<SocketAddr>>())
            .map_err(|e| format!("dns:///{name}: {e}"))
    };
    let first = resolve(name.to_string()).await?;
    if first.is_empty() {
        return Err(format!("dns:///{name}: no address"));
    }
    let (channel, changes) = Channel::balance_channel::<SocketAddr>(64);
    let (name, scheme) = (name.to_string(), scheme.to_string());
    tokio::spawn(async move {
        let mut known = HashSet::new();
        let mut resolved = Ok(first);
        loop {
            match resolved {
                // An empty answer (a Service scaled to nothing for a moment) is kept
                // from emptying the channel, like an error.
                Ok(addresses) if addresses.is_empty() => {
                    tracing::warn!(target = %name, "the target resolves to no address");
                }
                Ok(addresses) => {
                    for gone in known.difference(&addresses) {
                        if changes.send(Change::Remove(*gone)).await.is_err() {
                            return;
                        }
                    }
                    for new in addresses.difference(&known) {
                        let Ok(endpoint) = endpoint(format!("{scheme}://{new}")) else {
                            continue;
                        };
                        if changes.send(Change::Insert(*new, endpoint)).await.is_err() {
                            return;
                        }
                    }
                    known = addresses;
                }
                // Keep the replicas known until the name resolves again.
                Err(error) => tracing::warn!(%error, "cannot resolve the target again"),
            }
            tokio::time::sleep(RESOLVE_EVERY).await;
            if changes.is_closed() {
                return;
            }
            resolved = resolve(name.clone()).await;
        }
    });
    Ok(channel)
}

/// Keys by id: their bytes and format, as registered.
type KnownKeys = Arc<Mutex<HashMap<Vec<u8>, (Vec<u8>, ProtoKeyFormat)>>>;

impl Remote {
    /// Connects to `target` (`http://host:port`, or `https://…` with `ca` the PEM of the
    /// certificate authority that signed the server's certificate); see
    /// [`Remote::connect_tls`] for several replicas.
    pub async fn connect(target: &str, ca: Option<&Path>) -> Result<Self, String> {
        Self::connect_tls(target, ca, None).await
    }

    /// [`Remote::connect`], presenting a client certificate and key (PEM) to a server
    /// that requires one (mutual TLS).
    ///
    /// `target` is one URL (connected at once, so that a wrong address fails here),
    /// several separated by commas, or `dns:///name:port`: every address the name
    /// resolves to (a Kubernetes headless Service), resolved again every
    /// [`RESOLVE_EVERY`]. Calls to several replicas are balanced by power of two
    /// choices on the calls in flight (tower's balance, in tonic), and connections are
    /// made as they are needed; a replica that refuses connections is passed over.
    pub async fn connect_tls(
        target: &str,
        ca: Option<&Path>,
        identity: Option<(&Path, &Path)>,
    ) -> Result<Self, String> {
        let mut tls = tls_config(ca, identity)?;
        let secure = tls.is_some();
        if let Some(name) = target.strip_prefix("dns:///") {
            // Endpoints are addresses; the certificate names the Service.
            let host = name.rsplit_once(':').map_or(name, |(host, _)| host);
            tls = tls.map(|t| t.domain_name(host.trim_matches(['[', ']'])));
        }
        let endpoint = move |url: String| -> Result<Endpoint, String> {
            let endpoint = Endpoint::from_shared(url.clone()).map_err(|e| format!("{url}: {e}"))?;
            match &tls {
                Some(tls) => endpoint
                    .tls_config(tls.clone())
                    .map_err(|e| format!("TLS: {e}")),
                None => Ok(endpoint),
            }
        };
        let channel = if let Some(name) = target.strip_prefix("dns:///") {
            let scheme = if secure { "https" } else { "http" };
            resolving_channel(name, scheme, endpoint).await?
        } else if target.contains(',') {
            let endpoints = target
                .split(',')
                .map(|url| endpoint(url.trim().to_string()))
                .collect::<Result<Vec<_>, _>>()?;
            Channel::balance_list(endpoints.into_iter())
        } else {
            endpoint(target.to_string())?
                .connect()
                .await
                .map_err(|e| format!("cannot connect to {target}: {e}"))?
        };
        Ok(Self {
            client: client(channel.clone(), Bearer::default()),
            bearer: Bearer::default(),
            channel,
            keys: Arc::default(),
            retries: Retries::default(),
            attempts: Arc::default(),
        })
    }

    /// Calls sent by this client and its clones so far, retries included.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// How calls are retried from now on ([`Retries`]).
    pub fn with_retries(mut self, retries: Retries) -> Self {
        self.retries = retries;
        self
    }

    /// Runs `call` on the client, again while it fails in a way [`Retries`] retries:
    /// every verification call is idempotent, so a call that met a replica going away
    /// or a full one is sent again (to another replica, where there are several).
    pub async fn retrying<T, F, Fut>(&mut self, mut call: F) -> Result<T, Status>
    where
        F: FnMut(Client) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let mut attempt = 0;
        loop {
            self.attempts.fetch_add(1, Ordering::Relaxed);
            let error = match call(self.client.clone()).await {
                Ok(response) => return Ok(response.into_inner()),
                Err(error) => error,
            };
            attempt += 1;
            match self.retries.delay(&error, attempt) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Err(error),
            }
        }
    }

    /// Sends `token` as `authorization: Bearer TOKEN` with every call, to a service that
    /// identifies its callers (`--auth-token-file`).
    pub fn with_token(self, token: &str) -> Result<Self, String> {
        let value = format!("Bearer {}", token.trim())
            .parse::<AsciiMetadataValue>()
            .map_err(|_| "the token holds characters a header cannot carry".to_string())?;
        let bearer = Bearer(Some(value));
        Ok(Self {
            client: client(self.channel.clone(), bearer.clone()),
            bearer,
            channel: self.channel,
            keys: self.keys,
            retries: self.retries,
            attempts: self.attempts,
        })
    }

    /// Whether the health service says `service` ("" is the server as a whole) is
    /// serving; an error if it cannot be asked.
    pub async fn serving(&self, service: &str) -> Result<bool, String> {
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
        let answer = HealthClient::new(self.channel.clone())
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .map_err(status)?;
        Ok(answer.into_inner().status == ServingStatus::Serving as i32)
    }

    /// Sends a request encoded in advance and returns its status, dropping the answer.
    pub async fn send_encoded(&mut self, request: &Encoded) -> Result<(), Status> {
        let mut grpc = tonic::client::Grpc::new(InterceptedService::new(
            self.channel.clone(),
            self.bearer.clone(),
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
    ) -> Result<Vec<Verdict>, String> {
        let request = proto::VerifySignaturesRequest {
            sets: crate::convert::proto_sets(sets.to_vec()),
            dst: suite.dst().to_vec(),
            scheme: crate::convert::scheme(suite.scheme()) as i32,
        };
        let response = self
            .retrying(|mut c| {
                let request = request.clone();
                async move { c.verify_signatures(request).await }
            })
            .await
            .map_err(status)?;
        applied_scheme(response.scheme, suite.scheme())?;
        counted(verdicts(response.verdicts), sets.len(), "sets")
    }

    pub async fn merkle_root(
        &mut self,
        chunks: Vec<u8>,
        limit: Option<u64>,
        mix_in_length: Option<u64>,
    ) -> Result<[u8; 32], String> {
        let request = proto::MerkleRootRequest {
            chunks,
            limit: limit.unwrap_or(0),
            mix_in_length: mix_in_length.is_some(),
            length: mix_in_length,
        };
        let root = self
            .retrying(|mut c| {
                let request = request.clone();
                async move { c.merkle_root(request).await }
            })
            .await
            .map_err(status)?
            .root;
        root.try_into()
            .map_err(|r: Vec<u8>| format!("the server sent a root of {} bytes", r.len()))
    }

    /// Registers a key; returns its id. The key is remembered, so that a replica that
    /// does not know it (restarted, or another one behind a load balancer) is sent it
    /// again by [`Remote::verify_groth16`].
    pub async fn register_key(
        &mut self,
        key: Vec<u8>,
        format: Option<KeyFormat>,
    ) -> Result<Vec<u8>, String> {
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
            .await
            .map_err(status)?
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
    ) -> Result<Vec<Verdict>, String> {
        let request = proto::VerifyGroth16Request {
            key_id: key_id.to_vec(),
            proofs: proofs
                .iter()
                .map(|p| proto::Groth16Proof {
                    proof: p.proof.clone(),
                    public_inputs: p.public_inputs.clone(),
                })
                .collect(),
            verifying_key: Vec::new(),
            format: ProtoKeyFormat::Unspecified as i32,
        };
        let response = self.send_groth16(request).await.map_err(status)?;
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

/// The scheme a reply says it was verified under must be the one asked for. A server
/// older than the scheme field says nothing and verifies as proof of possession: its
/// verdicts stand only for that scheme.
fn applied_scheme(replied: i32, asked: Scheme) -> Result<(), String> {
    let replied = proto::BlsScheme::try_from(replied).unwrap_or(proto::BlsScheme::Unspecified);
    let expected = crate::convert::scheme(asked);
    let old_server_pop =
        replied == proto::BlsScheme::Unspecified && asked == Scheme::ProofOfPossession;
    if replied == expected || old_server_pop {
        Ok(())
    } else {
        Err(format!(
            "the server verified under {} instead of the {asked} scheme asked for (a server \
             older than the scheme field?): not trusting the reply",
            replied.as_str_name()
        ))
    }
}

/// A reply must hold exactly one verdict per item: fewer would leave items unanswered
/// (and looking valid to a careless caller), more means the reply is not for this request.
fn counted(verdicts: Vec<Verdict>, items: usize, what: &str) -> Result<Vec<Verdict>, String> {
    if verdicts.len() == items {
        Ok(verdicts)
    } else {
        Err(format!(
            "the server answered {} verdicts for {items} {what}: not trusting the reply",
            verdicts.len()
        ))
    }
}

fn status(s: tonic::Status) -> String {
    format!("the server answered {:?}: {}", s.code(), s.message())
}

/// Verdicts as the engine gives them; a malformed item's error comes back as text.
pub fn verdicts(v: Vec<proto::Verdict>) -> Vec<Verdict> {
    v.into_iter()
        .map(|v| {
            if v.error.is_empty() {
                Ok(v.valid)
            } else {
                Err(remote_error(v.error))
            }
        })
        .collect()
}

/// An item error reported by the server, split back into location and reason where the
/// text allows, so the CLI prints it as it would locally.
fn remote_error(text: String) -> InputError {
    let (location, reason) = text.split_once(": ").unwrap_or(("", text.as_str()));
    let (field, index) = match location.split_once('[') {
        Some((f, rest)) => (f, rest.trim_end_matches(']').parse().ok()),
        None => (location, None),
    };
    let field: &'static str = match field {
        "signature" => "signature",
        "public_keys" => "public_keys",
        "messages" => "messages",
        "proof" => "proof",
        "public_inputs" => "public_inputs",
        _ => return InputError::new("item", None, text),
    };
    InputError::new(field, index, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_beyond_loopback_is_unauthenticated() {
        for url in [
            "http://10.0.0.7:50051",
            "http://verifier.example:50051",
            "http://128.0.0.1",
        ] {
            assert!(unauthenticated(url), "{url}");
        }
        for url in [
            "http://127.0.0.1:50051",
            "http://127.8.9.1:1",
            "http://localhost:50051",
            "http://[::1]:50051",
            "https://verifier.example:50051",
            "not a url",
        ] {
            assert!(!unauthenticated(url), "{url}");
        }
    }

    #[test]
    fn a_reply_under_another_scheme_is_refused() {
        use proto::BlsScheme as P;
        assert!(applied_scheme(P::Basic as i32, Scheme::Basic).is_ok());
        assert!(applied_scheme(P::Unspecified as i32, Scheme::ProofOfPossession).is_ok());
        let old = applied_scheme(P::Unspecified as i32, Scheme::Basic).unwrap_err();
        assert!(old.contains("older than the scheme field"), "{old}");
        assert!(applied_scheme(P::ProofOfPossession as i32, Scheme::MessageAugmentation).is_err());
    }

    #[test]
    fn a_reply_with_the_wrong_number_of_verdicts_is_refused() {
        assert!(counted(vec![Ok(true)], 1, "sets").is_ok());
        let fewer = counted(vec![Ok(true)], 2, "sets").unwrap_err();
        assert!(fewer.contains("1 verdicts for 2 sets"), "{fewer}");
        assert!(counted(vec![Ok(true), Ok(true)], 1, "proofs").is_err());
    }

    /// Only what a replica going away or a full one causes is retried, within the
    /// attempts, after the backoff or the server's own delay.
    #[test]
    fn retries_follow_the_status() {
        use tonic_types::{ErrorDetails, StatusExt};
        let retries = Retries::default();
        let unavailable = Status::unavailable("draining");
        assert_eq!(
            retries.delay(&unavailable, 1),
            Some(Duration::from_millis(50))
        );
        assert_eq!(
            retries.delay(&unavailable, 3),
            Some(Duration::from_millis(200))
        );
        assert_eq!(retries.delay(&unavailable, 5), None, "five attempts in all");
        let told = |seconds| {
            Status::with_error_details(
                tonic::Code::ResourceExhausted,
                "over quota",
                ErrorDetails::with_retry_info(Some(Duration::from_secs(seconds))),
            )
        };
        assert_eq!(retries.delay(&told(1), 1), Some(Duration::from_secs(1)));
        assert_eq!(
            retries.delay(&told(60), 1),
            None,
            "too long a wait is the caller's"
        );
        // Statuses a server sends (no transport source) are its answer.
        for code in [
            tonic::Code::Unknown,
            tonic::Code::Cancelled,
            tonic::Code::InvalidArgument,
        ] {
            assert_eq!(
                retries.delay(&Status::new(code, "said so"), 1),
                None,
                "{code:?}"
            );
        }
        let broken = Status::from_error(Box::new(std::io::Error::other("broken pipe")));
        assert_eq!(broken.code(), tonic::Code::Unknown);
        assert!(retries.delay(&broken, 1).is_some());
    }
}
