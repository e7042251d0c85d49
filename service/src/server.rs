//! Binding and running the server: the Verifier service with standard gRPC health and
//! reflection, message and concurrency limits, optional (mutual) TLS, the metrics
//! endpoint, and a graceful shutdown that answers every accepted request.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::Request;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic_health::ServingStatus;
use veribatch_engine::backend::BackendChoice;
use veribatch_engine::backend::Thresholds;
use veribatch_engine::scheduler::{Scheduler, SchedulerConfig};
use veribatch_engine::{Engine, EngineConfig};

use crate::auth::{AuthError, Authenticator};
use crate::by_method::ByMethod;
use crate::connections::{self, ConnectionLimits};
use crate::limits::RequestLimits;
use crate::metrics::{self, Metrics};
use crate::open_calls::{OpenCalls, TrackCalls};
use crate::proto::FILE_DESCRIPTOR_SET;
use crate::proto::verifier_server::VerifierServer;
use crate::quotas::{QuotaConfig, Quotas};
use crate::verifier::VerifierService;
use veribatch_engine::backend::{DeviceChecks, Fault, Watchdog};
use veribatch_engine::groth16::{DegenerateKeys, KeyStore, KeyStoreError};

/// Everything `veribatch serve` can be told. The defaults serve well on a laptop.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub backend: BackendChoice,
    /// Smallest inputs sent to a GPU under `BackendChoice::Auto`.
    pub gpu_thresholds: Thresholds,
    pub scheduler: SchedulerConfig,
    /// Where to serve `/metrics`; none if `None`.
    pub metrics_listen: Option<SocketAddr>,
    /// What one request may hold and cost; its `stream_concurrency` is also the
    /// requests served at once on one connection.
    pub limits: RequestLimits,
    /// Most IC points a registered Groth16 key may have.
    pub max_ic_points: usize,
    /// PEM certificate chain and key: serve TLS.
    pub tls: Option<TlsFiles>,
    /// Bearer tokens (`NAME SHA256-OF-TOKEN` lines): callers must present one (or a
    /// client certificate) unless `allow_anonymous`.
    pub auth_token_file: Option<PathBuf>,
    /// Serve callers without an identity, under the anonymous quota.
    pub allow_anonymous: bool,
    /// What each caller may use.
    pub quotas: QuotaConfig,
    /// Open connections at most, and how long one may sit idle.
    pub connections: ConnectionLimits,
    /// A connection older than this is asked to go away (GOAWAY), so that clients behind
    /// a load balancer spread over new replicas; `None`: never.
    pub max_connection_age: Option<Duration>,
    /// How long a connection past its maximum age may finish its calls before it is cut.
    pub max_connection_age_grace: Duration,
    /// A TLS handshake that takes longer is abandoned.
    pub tls_handshake_timeout: Duration,
    /// Validated public keys kept in memory.
    pub public_key_cache: usize,
    /// Registered Groth16 keys kept (least recently used forgotten first).
    pub groth16_keys: usize,
    /// Keys loaded at start and never forgotten.
    pub groth16_key_dir: Option<PathBuf>,
    /// Where registered keys are kept on disk.
    pub groth16_key_store: Option<PathBuf>,
    /// How long a device call may run before it is abandoned and run on the CPU.
    pub device_watchdog: Watchdog,
}

/// TLS files; with a client CA, clients must present a certificate it signed.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            backend: BackendChoice::Auto,
            gpu_thresholds: Thresholds::default(),
            scheduler: SchedulerConfig::default(),
            metrics_listen: None,
            limits: RequestLimits::default(),
            max_ic_points: 4096,
            tls: None,
            auth_token_file: None,
            allow_anonymous: false,
            quotas: QuotaConfig::default(),
            connections: ConnectionLimits::default(),
            max_connection_age: None,
            max_connection_age_grace: Duration::from_secs(30),
            tls_handshake_timeout: Duration::from_secs(10),
            public_key_cache: EngineConfig::default().public_key_cache,
            groth16_keys: EngineConfig::default().groth16_keys,
            groth16_key_dir: None,
            groth16_key_store: None,
            device_watchdog: Watchdog::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(tonic::transport::Error),
    #[error("{0}")]
    Auth(#[from] AuthError),
    #[error("server: {0}")]
    Transport(tonic::transport::Error),
    #[error("the Groth16 key store: {0}")]
    KeyStore(#[from] KeyStoreError),
    #[error("{path}: not a Groth16 key the server accepts: {reason}")]
    Key { path: PathBuf, reason: String },
}

/// Loads and pins every key file in `dir` (names starting with '.' skipped: a
/// ConfigMap volume's `..data` links); the first that is not a key stops the start.
fn load_key_dir(engine: &Engine, dir: &Path) -> Result<usize, ServeError> {
    let read_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ServeError::Read { path, source }
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error(dir))? {
        let path = entry.map_err(read_error(dir))?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        // Followed through links, as a ConfigMap's files are.
        if !hidden
            && std::fs::metadata(&path)
                .map_err(read_error(&path))?
                .is_file()
        {
            paths.push(path);
        }
    }
    paths.sort();
    for path in &paths {
        let bytes = std::fs::read(path).map_err(read_error(path))?;
        let key = engine
            .prepare_groth16_key(&bytes, None)
            .map_err(|e| ServeError::Key {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        engine.pin_groth16_key(key);
    }
    Ok(paths.len())
}

/// How long a shutdown waits for clients to close their connections once every accepted
/// request is answered (a client may hold a VerifyStream open indefinitely).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A server whose sockets are bound (so their addresses are known, even for port 0),
/// ready to run.
pub struct Bound {
    config: ServeConfig,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    tls: Option<ServerTlsConfig>,
    scheduler: Arc<Scheduler>,
    auth: Arc<Authenticator>,
}

impl Bound {
    /// Reads the TLS files, builds the engine and scheduler, and binds the sockets.
    pub async fn bind(config: ServeConfig) -> Result<Self, ServeError> {
        if let Some(files) = connections::raise_open_file_limit() {
            tracing::info!(
                files,
                max_connections = config.connections.max_connections,
                "open-file limit"
            );
        }
        let tls = config
            .tls
            .as_ref()
            .map(|files| tls_config(files, config.tls_handshake_timeout))
            .transpose()?;
        let client_certificates = config.tls.as_ref().is_some_and(|t| t.client_ca.is_some());
        let auth = Arc::new(Authenticator::new(
            config.auth_token_file.clone(),
            client_certificates,
            config.allow_anonymous,
        )?);
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let metrics_listener = match config.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| ServeError::Bind { addr, source })?,
            ),
            None => None,
        };
        let engine = Arc::new(Engine::new(&EngineConfig {
            backend: config.backend,
            gpu_thresholds: config.gpu_thresholds,
            public_key_cache: config.public_key_cache,
            sm2_signer_cache: EngineConfig::default().sm2_signer_cache,
            sm2_key_tables: EngineConfig::default().sm2_key_tables,
            groth16_keys: config.groth16_keys,
            max_ic_points: config.max_ic_points,
            // A shared service never accepts keys that let anyone forge proofs.
            degenerate_groth16_keys: DegenerateKeys::Refuse,
            groth16_key_store: config
                .groth16_key_store
                .as_deref()
                .map(KeyStore::open)
                .transpose()?
                .map(Arc::new),
            // Faults are injected only by tests of whole processes (VERIBATCH_INJECT_FAULT).
            device_checks: DeviceChecks {
                fault: Fault::from_env(),
                watchdog: config.device_watchdog,
                ..DeviceChecks::default()
            },
        }));
        if let Some(dir) = &config.groth16_key_dir {
            let loaded = load_key_dir(&engine, dir)?;
            tracing::info!(keys = loaded, dir = %dir.display(), "Groth16 keys loaded");
        }
        let scheduler = Arc::new(Scheduler::new(engine, config.scheduler.clone()));
        Ok(Self {
            config,
            listener,
            metrics_listener,
            tls,
            scheduler,
            auth,
        })
    }

    /// The address gRPC is served on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound socket has an address")
    }

    /// The address metrics are served on, if any.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .map(|l| l.local_addr().expect("a bound socket has an address"))
    }

    /// Serves until `shutdown` completes, then stops accepting, answers every request
    /// already accepted, and returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let Self {
            config,
            listener,
            metrics_listener,
            tls,
            scheduler,
            auth,
        } = self;
        let (stopping_tx, stopping) = watch::channel(false);
        let quotas = Arc::new(Quotas::new(config.quotas.clone(), &auth.token_names()));
        let metrics = Arc::new(Metrics::new(scheduler.clone(), quotas.clone()));
        let metrics_task =
            metrics_listener.map(|l| tokio::spawn(metrics::serve(l, metrics.clone())));

        let quotas_for_reload = quotas.clone();
        let verifier = Arc::new(VerifierService::new(
            scheduler.clone(),
            metrics,
            config.limits.clone(),
            quotas,
            stopping,
        ));
        // Every Verifier call is identified first; health and reflection are not.
        let identify = auth.clone();
        let identified = |max_decoding: usize| {
            let identify = identify.clone();
            let server = VerifierServer::from_arc(verifier.clone())
                .max_decoding_message_size(max_decoding)
                .max_encoding_message_size(config.limits.max_message_bytes);
            InterceptedService::new(server, move |mut request: Request<()>| {
                let caller = identify.identify(&request)?;
                request.extensions_mut().insert(caller);
                Ok(request)
            })
        };
        let verifier = ByMethod::new(
            "/veribatch.v1.Verifier/VerifyMerkleProofs",
            identified(config.limits.max_merkle_proofs_message_bytes()),
            identified(config.limits.max_message_bytes),
        );
        let reload = reload_on_sighup(auth, quotas_for_reload);

        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<VerifierServer<VerifierService>>()
            .await;
        health.set_service_status("", ServingStatus::Serving).await;
        let device_health = scheduler
            .engine()
            .device_health()
            .is_some()
            .then(|| tokio::spawn(report_device_health(scheduler.clone(), health.clone())));
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .expect("the embedded descriptors are valid");
        let reflection_alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .expect("the embedded descriptors are valid");

        let mut builder = Server::builder()
            // Requests at once per connection are bounded by the service itself, stream
            // requests included (verifier.rs); HTTP/2 bounds the streams.
            .max_concurrent_streams(Some(config.connections.max_streams))
            // Pings find peers that vanished without a FIN during a call (no answer
            // within 20 s); a connection without a call is closed by the idle timer
            // (connections.rs), whether it answers pings or not.
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .http2_keepalive_timeout(Some(Duration::from_secs(20)))
            // Flow-control windows that start at HTTP/2's 64 KiB and grow with the
            // connection's measured bandwidth-delay product, instead of a fixed 1 MiB:
            // a request refused from its header (too large) costs the server the bytes
            // the client may send before the refusal reaches it, the window.
            .http2_adaptive_window(Some(true));
        // At the age, a GOAWAY: clients finish their calls and move to a new connection.
        // (Not tonic's max_connection_age_grace: with it, tonic 0.14 sends no GOAWAY and
        // cuts the connection at age + grace, failing the calls on it.) Connections still
        // open after the grace are cut by connections.rs.
        if let Some(age) = config.max_connection_age {
            builder = builder.max_connection_age(age);
        }
        if let Some(tls) = tls {
            builder = builder.tls_config(tls).map_err(ServeError::Tls)?;
        }
        let (signalled_tx, signalled) = tokio::sync::oneshot::channel::<()>();
        let shutdown_health = health.clone();
        let open_calls = OpenCalls::default();
        let serving = builder
            .layer(TrackCalls(open_calls.clone()))
            .add_service(health_service)
            .add_service(reflection)
            .add_service(reflection_alpha)
            .add_service(verifier)
            .serve_with_incoming_shutdown(
                connections::incoming(
                    listener,
                    config.connections,
                    config
                        .max_connection_age
                        .and_then(|age| age.checked_add(config.max_connection_age_grace)),
                    open_calls,
                ),
                async move {
                    shutdown.await;
                    tracing::info!("shutting down: finishing accepted requests");
                    let _ = stopping_tx.send(true);
                    let _ = signalled_tx.send(());
                    shutdown_health
                        .set_not_serving::<VerifierServer<VerifierService>>()
                        .await;
                    shutdown_health
                        .set_service_status("", ServingStatus::NotServing)
                        .await;
                },
            );
        // After the signal, wait for clients to close their connections, but not forever.
        let grace = async {
            if signalled.await.is_ok() {
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        let result = tokio::select! {
            result = serving => result.map_err(ServeError::Transport),
            () = grace => {
                tracing::warn!("clients kept connections open past the shutdown grace period; closing them");
                Ok(())
            }
        };
        for task in [metrics_task, device_health, reload].into_iter().flatten() {
            task.abort();
        }
        let _ = tokio::task::spawn_blocking(move || scheduler.shutdown()).await;
        result
    }
}

/// Re-reads the token file on every SIGHUP, so tokens change without a restart.
fn reload_on_sighup(
    auth: Arc<Authenticator>,
    quotas: Arc<Quotas>,
) -> Option<tokio::task::JoinHandle<()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup())
            .inspect_err(
                |e| tracing::warn!(error = %e, "no SIGHUP handler: tokens reload only on restart"),
            )
            .ok()?;
        Some(tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                match auth.reload() {
                    Ok(count) => {
                        quotas.label_names(&auth.token_names());
                        tracing::info!(count, "SIGHUP: bearer tokens reloaded")
                    }
                    Err(error) => {
                        tracing::error!(%error, "SIGHUP: tokens not reloaded; the old ones stay")
                    }
                }
            }
        }))
    }
    #[cfg(not(unix))]
    {
        let _ = (auth, quotas);
        None
    }
}

/// The health service's name for the device: SERVING while the GPU is in use,
/// NOT_SERVING while it is unhealthy (a call hung) or disabled (a wrong answer). The
/// service itself ("") stays SERVING: the CPU answers everything meanwhile.
pub const DEVICE_HEALTH_SERVICE: &str = "veribatch.v1.Device";

/// Keeps [`DEVICE_HEALTH_SERVICE`] in step with the device, checked every second.
async fn report_device_health(
    scheduler: Arc<Scheduler>,
    reporter: tonic_health::server::HealthReporter,
) {
    let mut last = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let in_use = scheduler
            .engine()
            .device_health()
            .is_some_and(|h| h.state().is_none());
        if last != Some(in_use) {
            let status = if in_use {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            reporter
                .set_service_status(DEVICE_HEALTH_SERVICE, status)
                .await;
            last = Some(in_use);
        }
    }
}

fn read(path: &PathBuf) -> Result<Vec<u8>, ServeError> {
    std::fs::read(path).map_err(|source| ServeError::Read {
        path: path.clone(),
        source,
    })
}

fn tls_config(
    files: &TlsFiles,
    handshake_timeout: Duration,
) -> Result<ServerTlsConfig, ServeError> {
    let mut tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(read(&files.cert)?, read(&files.key)?))
        .timeout(handshake_timeout);
    if let Some(ca) = &files.client_ca {
        tls = tls.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(tls)
}
