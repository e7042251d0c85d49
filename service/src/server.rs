//! Binding and running the server: the Verifier service with standard gRPC health and
//! reflection, message and concurrency limits, optional (mutual) TLS, the metrics
//! endpoint, and a graceful shutdown that answers every accepted request.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic_health::ServingStatus;
use veribatch_engine::backend::BackendChoice;
use veribatch_engine::backend::Thresholds;
use veribatch_engine::scheduler::{Scheduler, SchedulerConfig};
use veribatch_engine::{Engine, EngineConfig};

use crate::metrics::{self, Metrics};
use crate::proto::FILE_DESCRIPTOR_SET;
use crate::proto::verifier_server::VerifierServer;
use crate::verifier::{RequestLimits, VerifierService};
use veribatch_engine::backend::{DeviceChecks, Fault};
use veribatch_engine::groth16::DegenerateKeys;

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
    /// Largest message accepted or sent, each way.
    pub max_message_bytes: usize,
    /// Most items in one request.
    pub max_items_per_request: usize,
    /// Requests served at once on one connection.
    pub concurrency_per_connection: usize,
    /// PEM certificate chain and key: serve TLS.
    pub tls: Option<TlsFiles>,
    /// Validated public keys kept in memory.
    pub public_key_cache: usize,
    /// Registered Groth16 keys kept (least recently used forgotten first).
    pub groth16_keys: usize,
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
            max_message_bytes: 64 << 20,
            max_items_per_request: 1 << 16,
            concurrency_per_connection: 256,
            tls: None,
            public_key_cache: EngineConfig::default().public_key_cache,
            groth16_keys: EngineConfig::default().groth16_keys,
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
    #[error("server: {0}")]
    Transport(tonic::transport::Error),
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
}

impl Bound {
    /// Reads the TLS files, builds the engine and scheduler, and binds the sockets.
    pub async fn bind(config: ServeConfig) -> Result<Self, ServeError> {
        let tls = config.tls.as_ref().map(tls_config).transpose()?;
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
            groth16_keys: config.groth16_keys,
            // A shared service never accepts keys that let anyone forge proofs.
            degenerate_groth16_keys: DegenerateKeys::Refuse,
            // Faults are injected only by tests of whole processes (VERIBATCH_INJECT_FAULT).
            device_checks: DeviceChecks {
                fault: Fault::from_env(),
                ..DeviceChecks::default()
            },
        }));
        let scheduler = Arc::new(Scheduler::new(engine, config.scheduler.clone()));
        Ok(Self {
            config,
            listener,
            metrics_listener,
            tls,
            scheduler,
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
        } = self;
        let (stopping_tx, stopping) = watch::channel(false);
        let metrics = Arc::new(Metrics::new(scheduler.clone()));
        let metrics_task =
            metrics_listener.map(|l| tokio::spawn(metrics::serve(l, metrics.clone())));

        let verifier = VerifierService::new(
            scheduler.clone(),
            metrics,
            RequestLimits {
                max_items: config.max_items_per_request,
                max_message_bytes: config.max_message_bytes,
                stream_concurrency: config.concurrency_per_connection,
            },
            stopping,
        );
        let verifier = VerifierServer::new(verifier)
            .max_decoding_message_size(config.max_message_bytes)
            .max_encoding_message_size(config.max_message_bytes);

        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<VerifierServer<VerifierService>>()
            .await;
        health.set_service_status("", ServingStatus::Serving).await;
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
            .concurrency_limit_per_connection(config.concurrency_per_connection)
            .http2_keepalive_interval(Some(Duration::from_secs(30)));
        if let Some(tls) = tls {
            builder = builder.tls_config(tls).map_err(ServeError::Tls)?;
        }
        let (signalled_tx, signalled) = tokio::sync::oneshot::channel::<()>();
        let shutdown_health = health.clone();
        let serving = builder
            .add_service(health_service)
            .add_service(reflection)
            .add_service(reflection_alpha)
            .add_service(verifier)
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
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
        if let Some(task) = metrics_task {
            task.abort();
        }
        let _ = tokio::task::spawn_blocking(move || scheduler.shutdown()).await;
        result
    }
}

fn read(path: &PathBuf) -> Result<Vec<u8>, ServeError> {
    std::fs::read(path).map_err(|source| ServeError::Read {
        path: path.clone(),
        source,
    })
}

fn tls_config(files: &TlsFiles) -> Result<ServerTlsConfig, ServeError> {
    let mut tls =
        ServerTlsConfig::new().identity(Identity::from_pem(read(&files.cert)?, read(&files.key)?));
    if let Some(ca) = &files.client_ca {
        tls = tls.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(tls)
}
