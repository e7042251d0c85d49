//! `veribatch serve`: the gRPC service. Every flag can also come from the environment
//! (`VERIBATCH_LISTEN`, …) or a TOML file (`--config`, keys named like the flags with
//! underscores); a flag beats the environment, which beats the file, which beats the
//! default.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Deserialize;
use veribatch_engine::backend::BackendChoice;
use veribatch_engine::backend::Thresholds;
use veribatch_service::server::TlsFiles;
use veribatch_service::{Bound, ServeConfig};

use crate::output::{CommandResult, Outcome};

#[derive(Args, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeArgs {
    /// Address to serve gRPC on [default: 127.0.0.1:50051; port 0 picks a free port].
    #[arg(long, env = "VERIBATCH_LISTEN")]
    listen: Option<SocketAddr>,
    /// Where the primitives run: auto, cpu or wgpu [default: auto].
    #[arg(long, env = "VERIBATCH_BACKEND")]
    #[serde(default, deserialize_with = "parsed")]
    backend: Option<BackendChoice>,
    /// Smallest input sent to the GPU under auto, per primitive, e.g. g1_msm=4096
    /// (see `veribatch info`) [default: the built-in thresholds].
    #[arg(long, env = "VERIBATCH_GPU_THRESHOLDS")]
    #[serde(default, deserialize_with = "parsed")]
    gpu_threshold: Option<Thresholds>,
    /// Flush a batch when it holds this many items [default: 4096].
    #[arg(long, env = "VERIBATCH_MAX_BATCH")]
    max_batch: Option<usize>,
    /// ... or when its oldest request has waited this long, in milliseconds [default: 5].
    #[arg(long, env = "VERIBATCH_MAX_DELAY_MS")]
    max_delay_ms: Option<u64>,
    /// Items that may wait in the queues; beyond it, RESOURCE_EXHAUSTED [default: 1048576].
    #[arg(long, env = "VERIBATCH_QUEUE_LIMIT")]
    queue_limit: Option<usize>,
    /// Batches that may run at once [default: 2].
    #[arg(long, env = "VERIBATCH_WORKERS")]
    workers: Option<usize>,
    /// Serve Prometheus metrics at http://ADDR/metrics [default: off].
    #[arg(long, env = "VERIBATCH_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Largest message accepted or sent, each way, in bytes [default: 67108864].
    #[arg(long, env = "VERIBATCH_MAX_MESSAGE_BYTES")]
    max_message_bytes: Option<usize>,
    /// Most items (sets, proofs, …) in one request [default: 65536].
    #[arg(long, env = "VERIBATCH_MAX_ITEMS_PER_REQUEST")]
    max_items_per_request: Option<usize>,
    /// Requests served at once on one connection [default: 256].
    #[arg(long, env = "VERIBATCH_CONCURRENCY_PER_CONNECTION")]
    concurrency_per_connection: Option<usize>,
    /// Validated public keys kept in memory [default: 1048576].
    #[arg(long, env = "VERIBATCH_PUBLIC_KEY_CACHE")]
    public_key_cache: Option<usize>,
    /// Registered Groth16 keys kept; the least recently used is forgotten first [default: 1024].
    #[arg(long, env = "VERIBATCH_GROTH16_KEYS")]
    groth16_keys: Option<usize>,
    /// PEM certificate chain: serve TLS (with --tls-key).
    #[arg(long, env = "VERIBATCH_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "VERIBATCH_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// PEM certificate authority: require client certificates it signed (mutual TLS).
    #[arg(long, env = "VERIBATCH_TLS_CLIENT_CA")]
    tls_client_ca: Option<PathBuf>,
    /// A TOML file with any of the settings above.
    #[arg(long, env = "VERIBATCH_CONFIG")]
    #[serde(skip)]
    config: Option<PathBuf>,
}

/// A setting the TOML file gives as a string in its command-line form.
fn parsed<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr<Err = String>,
{
    let text = String::deserialize(d)?;
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

impl ServeArgs {
    /// The settings: these flags (and environment), then the file's, then the defaults.
    fn resolve(self) -> Result<ServeConfig, String> {
        let file = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                toml::from_str::<ServeArgs>(&text)
                    .map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => ServeArgs::default(),
        };
        let d = ServeConfig::default();
        macro_rules! pick {
            ($field:ident) => {
                self.$field.or(file.$field)
            };
        }
        let tls = match (pick!(tls_cert), pick!(tls_key)) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert,
                key,
                client_ca: pick!(tls_client_ca),
            }),
            (None, None) if pick!(tls_client_ca).is_none() => None,
            _ => {
                return Err(
                    "TLS needs tls_cert and tls_key (and tls_client_ca only with them)".into(),
                );
            }
        };
        let config = ServeConfig {
            listen: pick!(listen).unwrap_or(d.listen),
            backend: pick!(backend).unwrap_or(d.backend),
            gpu_thresholds: pick!(gpu_threshold).unwrap_or(d.gpu_thresholds),
            scheduler: veribatch_engine::scheduler::SchedulerConfig {
                max_batch: pick!(max_batch).unwrap_or(d.scheduler.max_batch),
                max_delay: pick!(max_delay_ms)
                    .map(Duration::from_millis)
                    .unwrap_or(d.scheduler.max_delay),
                queue_limit: pick!(queue_limit).unwrap_or(d.scheduler.queue_limit),
                workers: pick!(workers).unwrap_or(d.scheduler.workers),
            },
            metrics_listen: pick!(metrics_listen),
            max_message_bytes: pick!(max_message_bytes).unwrap_or(d.max_message_bytes),
            max_items_per_request: pick!(max_items_per_request).unwrap_or(d.max_items_per_request),
            concurrency_per_connection: pick!(concurrency_per_connection)
                .unwrap_or(d.concurrency_per_connection),
            tls,
            public_key_cache: pick!(public_key_cache).unwrap_or(d.public_key_cache),
            groth16_keys: pick!(groth16_keys).unwrap_or(d.groth16_keys),
        };
        for (name, value) in [
            ("max_batch", config.scheduler.max_batch),
            ("queue_limit", config.scheduler.queue_limit),
            ("workers", config.scheduler.workers),
            ("max_items_per_request", config.max_items_per_request),
            (
                "concurrency_per_connection",
                config.concurrency_per_connection,
            ),
            ("groth16_keys", config.groth16_keys),
        ] {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        Ok(config)
    }
}

pub fn run(args: ServeArgs) -> CommandResult {
    let config = args.resolve()?;
    veribatch_engine::backend::check(config.backend)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let bound = Bound::bind(config).await.map_err(|e| e.to_string())?;
        // Scripts and tests read these lines to find the ports. A reader that closed
        // stdout after reading them must not stop the service, so failures are ignored.
        let mut out = std::io::stdout();
        let _ = writeln!(out, "listening on {}", bound.local_addr());
        if let Some(addr) = bound.metrics_addr() {
            let _ = writeln!(out, "metrics on http://{addr}/metrics");
        }
        let _ = out.flush();
        bound.run(stop_signal()).await.map_err(|e| e.to_string())?;
        eprintln!("stopped: every accepted request was answered");
        Ok(Outcome::AllValid)
    })
}

/// Completes on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler can be installed");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
