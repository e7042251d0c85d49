//! The settings of `veribatch serve`, as flags, environment variables and a TOML file:
//! one struct for all three, so that a setting has one name everywhere. Every flag can
//! also come from the environment (`VERIBATCH_LISTEN`, …) or the file (`--config`, keys
//! named like the flags with underscores); a flag beats the environment, which beats the
//! file, which beats the default.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Deserialize;
use veribatch_engine::backend::{BackendChoice, Thresholds, Watchdog};

use crate::connections::ConnectionLimits;
use crate::limits::RequestLimits;
use crate::quotas::{Quota, QuotaConfig};
use crate::server::{ServeConfig, TlsFiles};

/// Why the settings do not make a configuration.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("TLS needs tls_cert and tls_key (and tls_client_ca only with them)")]
    Tls,
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    #[error("quotas.{0}: in_flight must be at least 1 and cost_per_second above 0")]
    Quota(String),
}

#[derive(Args, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
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
    /// Cost units one batch holds at most; a request costing more is a batch of its own
    /// [default: 131072].
    #[arg(long, env = "VERIBATCH_MAX_BATCH_COST")]
    max_batch_cost: Option<u64>,
    /// Cost units that may wait in the queues; beyond it, RESOURCE_EXHAUSTED
    /// [default: 4194304].
    #[arg(long, env = "VERIBATCH_QUEUE_COST_LIMIT")]
    queue_cost_limit: Option<u64>,
    /// Bytes of items that may wait in the queues; beyond it, RESOURCE_EXHAUSTED
    /// [default: 1073741824].
    #[arg(long, env = "VERIBATCH_QUEUE_BYTE_LIMIT")]
    queue_byte_limit: Option<usize>,
    /// Batches that may run at once, and batches that may search for bad items at low
    /// priority beside them [default: 2].
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
    /// Most public keys in one signature set [default: 4096].
    #[arg(long, env = "VERIBATCH_MAX_KEYS_PER_SET")]
    max_keys_per_set: Option<usize>,
    /// Most messages in one signature set [default: 4096].
    #[arg(long, env = "VERIBATCH_MAX_MESSAGES_PER_SET")]
    max_messages_per_set: Option<usize>,
    /// Most cost units in one request: public keys plus messages of its signature sets,
    /// leaves plus helper nodes of its Merkle proofs [default: 262144].
    #[arg(long, env = "VERIBATCH_MAX_COST_PER_REQUEST")]
    max_cost_per_request: Option<u64>,
    /// Most leaves in one Merkle proof [default: 65536].
    #[arg(long, env = "VERIBATCH_MAX_LEAVES_PER_PROOF")]
    max_leaves_per_proof: Option<usize>,
    /// Most helper nodes in one Merkle proof [default: 1048576].
    #[arg(long, env = "VERIBATCH_MAX_NODES_PER_PROOF")]
    max_nodes_per_proof: Option<usize>,
    /// Largest Groth16 verifying key registered, in bytes [default: 4194304].
    #[arg(long, env = "VERIBATCH_MAX_KEY_BYTES")]
    max_key_bytes: Option<usize>,
    /// Most IC points (public inputs + 1) of a registered Groth16 key [default: 4096].
    #[arg(long, env = "VERIBATCH_MAX_IC_POINTS")]
    max_ic_points: Option<usize>,
    /// Requests served at once on one connection [default: 256].
    #[arg(long, env = "VERIBATCH_CONCURRENCY_PER_CONNECTION")]
    concurrency_per_connection: Option<usize>,
    /// Validated public keys kept in memory [default: 1048576].
    #[arg(long, env = "VERIBATCH_PUBLIC_KEY_CACHE")]
    public_key_cache: Option<usize>,
    /// Registered Groth16 keys kept; the least recently used is forgotten first [default: 1024].
    #[arg(long, env = "VERIBATCH_GROTH16_KEYS")]
    groth16_keys: Option<usize>,
    /// Groth16 verifying keys loaded at start (every file not starting with '.', format
    /// detected: a Kubernetes ConfigMap or volume) and never forgotten.
    #[arg(long, env = "VERIBATCH_GROTH16_KEY_DIR")]
    groth16_key_dir: Option<PathBuf>,
    /// Where registered Groth16 keys are written (KEYID.key, atomically) and looked for
    /// when a key id is not in memory, so a restart (or another replica sharing it)
    /// keeps them.
    #[arg(long, env = "VERIBATCH_GROTH16_KEY_STORE")]
    groth16_key_store: Option<PathBuf>,
    /// A GPU call still running after this many milliseconds is abandoned, its work runs
    /// on the CPU, and the GPU rests until a probe answers [default: 60000].
    #[arg(long, env = "VERIBATCH_DEVICE_TIMEOUT_MS")]
    device_timeout_ms: Option<u64>,
    /// The same for a call during which the device compiles a kernel (the first use of
    /// each wgpu pipeline) [default: 600000].
    #[arg(long, env = "VERIBATCH_DEVICE_FIRST_CALL_TIMEOUT_MS")]
    device_first_call_timeout_ms: Option<u64>,
    /// PEM certificate chain: serve TLS (with --tls-key).
    #[arg(long, env = "VERIBATCH_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "VERIBATCH_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// PEM certificate authority: require client certificates it signed (mutual TLS).
    #[arg(long, env = "VERIBATCH_TLS_CLIENT_CA")]
    tls_client_ca: Option<PathBuf>,
    /// Open connections at most; more are closed at once [default: 10000].
    #[arg(long, env = "VERIBATCH_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// HTTP/2 streams (calls) open at once on one connection [default: 256].
    #[arg(long, env = "VERIBATCH_MAX_STREAMS_PER_CONNECTION")]
    max_streams_per_connection: Option<u32>,
    /// A connection with no byte either way for this long is closed [default: 300000].
    #[arg(long, env = "VERIBATCH_IDLE_TIMEOUT_MS")]
    idle_timeout_ms: Option<u64>,
    /// Connections older than this are asked to reconnect (GOAWAY), for rolling restarts
    /// behind load balancers [default: never].
    #[arg(long, env = "VERIBATCH_MAX_CONNECTION_AGE_S")]
    max_connection_age_s: Option<u64>,
    /// How long a connection past its maximum age may finish its calls before it is cut
    /// [default: 30].
    #[arg(long, env = "VERIBATCH_MAX_CONNECTION_AGE_GRACE_S")]
    max_connection_age_grace_s: Option<u64>,
    /// A TLS handshake that takes longer is abandoned [default: 10000].
    #[arg(long, env = "VERIBATCH_TLS_HANDSHAKE_TIMEOUT_MS")]
    tls_handshake_timeout_ms: Option<u64>,
    /// Bearer tokens: lines of `NAME SHA256-OF-TOKEN` (the file holds no secret; re-read
    /// on SIGHUP). With it (or --tls-client-ca), callers without a valid identity are
    /// UNAUTHENTICATED.
    #[arg(long, env = "VERIBATCH_AUTH_TOKEN_FILE")]
    auth_token_file: Option<PathBuf>,
    /// Serve callers without a token or certificate too, under the anonymous quota.
    #[arg(long, env = "VERIBATCH_ALLOW_ANONYMOUS", num_args = 0..=1, default_missing_value = "true")]
    allow_anonymous: Option<bool>,
    /// Cost units per second each caller may spend, sustained [default: 1000000].
    #[arg(long, env = "VERIBATCH_QUOTA_COST_PER_SECOND")]
    quota_cost_per_second: Option<f64>,
    /// Cost units each caller may spend at once [default: 2000000].
    #[arg(long, env = "VERIBATCH_QUOTA_BURST")]
    quota_burst: Option<f64>,
    /// Requests each caller may have in flight, stream requests included [default: 512].
    #[arg(long, env = "VERIBATCH_QUOTA_IN_FLIGHT")]
    quota_in_flight: Option<usize>,
    /// Groth16 keys each caller may register [default: 64].
    #[arg(long, env = "VERIBATCH_QUOTA_KEYS")]
    quota_keys: Option<usize>,
    /// Only these identities (comma-separated) may register Groth16 keys [default: any].
    #[arg(long, env = "VERIBATCH_REGISTER_KEYS_BY", value_delimiter = ',')]
    #[serde(default)]
    register_keys_by: Option<Vec<String>>,
    /// Quotas of named callers, from the file only: `[quotas.NAME]` sections with any of
    /// cost_per_second, burst, in_flight, keys.
    #[arg(skip)]
    #[serde(default)]
    quotas: BTreeMap<String, QuotaSettings>,
    /// A TOML file with any of the settings above.
    #[arg(long, env = "VERIBATCH_CONFIG")]
    #[serde(skip)]
    config: Option<PathBuf>,
}

/// One `[quotas.NAME]` section: what it leaves out is the default quota's.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSettings {
    cost_per_second: Option<f64>,
    burst: Option<f64>,
    in_flight: Option<usize>,
    keys: Option<usize>,
}

impl QuotaSettings {
    fn over(self, base: Quota) -> Quota {
        Quota {
            cost_per_second: self.cost_per_second.unwrap_or(base.cost_per_second),
            burst: self.burst.unwrap_or(base.burst),
            in_flight: self.in_flight.unwrap_or(base.in_flight),
            keys: self.keys.unwrap_or(base.keys),
        }
    }
}

/// A setting the TOML file gives as a string in its command-line form.
fn parsed<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr<Err: std::fmt::Display>,
{
    let text = String::deserialize(d)?;
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

impl Settings {
    /// Settings from a TOML file's text: keys named like the flags, with underscores.
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// The server's configuration: these settings (flags and environment), then the
    /// file's (`--config`), then the defaults.
    pub fn resolve(self) -> Result<ServeConfig, SettingsError> {
        let file = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
                    path: path.clone(),
                    source,
                })?;
                Self::from_toml(&text).map_err(|source| SettingsError::Parse {
                    path: path.clone(),
                    source,
                })?
            }
            None => Self::default(),
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
            _ => return Err(SettingsError::Tls),
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
                max_batch_cost: pick!(max_batch_cost).unwrap_or(d.scheduler.max_batch_cost),
                queue_cost_limit: pick!(queue_cost_limit).unwrap_or(d.scheduler.queue_cost_limit),
                queue_byte_limit: pick!(queue_byte_limit).unwrap_or(d.scheduler.queue_byte_limit),
                workers: pick!(workers).unwrap_or(d.scheduler.workers),
            },
            metrics_listen: pick!(metrics_listen),
            limits: RequestLimits {
                max_items: pick!(max_items_per_request).unwrap_or(d.limits.max_items),
                max_message_bytes: pick!(max_message_bytes).unwrap_or(d.limits.max_message_bytes),
                stream_concurrency: pick!(concurrency_per_connection)
                    .unwrap_or(d.limits.stream_concurrency),
                max_keys_per_set: pick!(max_keys_per_set).unwrap_or(d.limits.max_keys_per_set),
                max_messages_per_set: pick!(max_messages_per_set)
                    .unwrap_or(d.limits.max_messages_per_set),
                max_cost_per_request: pick!(max_cost_per_request)
                    .unwrap_or(d.limits.max_cost_per_request),
                max_leaves_per_proof: pick!(max_leaves_per_proof)
                    .unwrap_or(d.limits.max_leaves_per_proof),
                max_nodes_per_proof: pick!(max_nodes_per_proof)
                    .unwrap_or(d.limits.max_nodes_per_proof),
                max_key_bytes: pick!(max_key_bytes).unwrap_or(d.limits.max_key_bytes),
            },
            max_ic_points: pick!(max_ic_points).unwrap_or(d.max_ic_points),
            tls,
            auth_token_file: pick!(auth_token_file),
            connections: ConnectionLimits {
                max_connections: pick!(max_connections).unwrap_or(d.connections.max_connections),
                idle_timeout: pick!(idle_timeout_ms)
                    .map(Duration::from_millis)
                    .unwrap_or(d.connections.idle_timeout),
                max_streams: pick!(max_streams_per_connection).unwrap_or(d.connections.max_streams),
            },
            max_connection_age: pick!(max_connection_age_s)
                .map(Duration::from_secs)
                .or(d.max_connection_age),
            max_connection_age_grace: pick!(max_connection_age_grace_s)
                .map(Duration::from_secs)
                .unwrap_or(d.max_connection_age_grace),
            tls_handshake_timeout: pick!(tls_handshake_timeout_ms)
                .map(Duration::from_millis)
                .unwrap_or(d.tls_handshake_timeout),
            allow_anonymous: pick!(allow_anonymous).unwrap_or(d.allow_anonymous),
            quotas: {
                let default = QuotaSettings {
                    cost_per_second: pick!(quota_cost_per_second),
                    burst: pick!(quota_burst),
                    in_flight: pick!(quota_in_flight),
                    keys: pick!(quota_keys),
                }
                .over(d.quotas.default);
                let named = file
                    .quotas
                    .iter()
                    .map(|(name, q)| (name.clone(), q.over(default)))
                    .collect();
                QuotaConfig {
                    default,
                    named,
                    registrars: pick!(register_keys_by).map(|names| names.into_iter().collect()),
                }
            },
            public_key_cache: pick!(public_key_cache).unwrap_or(d.public_key_cache),
            groth16_keys: pick!(groth16_keys).unwrap_or(d.groth16_keys),
            groth16_key_dir: pick!(groth16_key_dir),
            groth16_key_store: pick!(groth16_key_store),
            device_watchdog: Watchdog {
                deadline: pick!(device_timeout_ms)
                    .map(Duration::from_millis)
                    .unwrap_or(d.device_watchdog.deadline),
                first_call: pick!(device_first_call_timeout_ms)
                    .map(Duration::from_millis)
                    .unwrap_or(d.device_watchdog.first_call),
                ..d.device_watchdog
            },
        };
        for (name, value) in [
            ("max_batch", config.scheduler.max_batch),
            ("queue_limit", config.scheduler.queue_limit),
            ("max_batch_cost", config.scheduler.max_batch_cost as usize),
            (
                "queue_cost_limit",
                config.scheduler.queue_cost_limit as usize,
            ),
            ("queue_byte_limit", config.scheduler.queue_byte_limit),
            ("workers", config.scheduler.workers),
            ("max_items_per_request", config.limits.max_items),
            (
                "concurrency_per_connection",
                config.limits.stream_concurrency,
            ),
            ("max_keys_per_set", config.limits.max_keys_per_set),
            ("max_messages_per_set", config.limits.max_messages_per_set),
            (
                "max_cost_per_request",
                config.limits.max_cost_per_request as usize,
            ),
            ("max_leaves_per_proof", config.limits.max_leaves_per_proof),
            ("max_key_bytes", config.limits.max_key_bytes),
            ("max_ic_points", config.max_ic_points),
            ("max_connections", config.connections.max_connections),
            (
                "max_streams_per_connection",
                config.connections.max_streams as usize,
            ),
            (
                "max_connection_age_s",
                config
                    .max_connection_age
                    .map_or(1, |a| a.as_secs() as usize),
            ),
            (
                "max_connection_age_grace_s",
                config.max_connection_age_grace.as_secs() as usize,
            ),
            (
                "idle_timeout_ms",
                config.connections.idle_timeout.as_millis() as usize,
            ),
            (
                "tls_handshake_timeout_ms",
                config.tls_handshake_timeout.as_millis() as usize,
            ),
            ("groth16_keys", config.groth16_keys),
            (
                "device_timeout_ms",
                config.device_watchdog.deadline.as_millis() as usize,
            ),
            (
                "device_first_call_timeout_ms",
                config.device_watchdog.first_call.as_millis() as usize,
            ),
        ] {
            if value == 0 {
                return Err(SettingsError::Zero(name));
            }
        }
        let quotas = &config.quotas;
        for (name, quota) in std::iter::once(("default", &quotas.default))
            .chain(quotas.named.iter().map(|(n, q)| (n.as_str(), q)))
        {
            if quota.in_flight == 0
                || quota.cost_per_second.is_nan()
                || quota.cost_per_second <= 0.0
            {
                return Err(SettingsError::Quota(name.to_string()));
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_resolves_and_bad_files_say_what_is_wrong() {
        let example = Settings::from_toml(include_str!("../../examples/serve.toml")).unwrap();
        let config = example.resolve().unwrap();
        assert_eq!(config.device_watchdog.deadline, Duration::from_secs(60));
        assert_eq!(config.gpu_thresholds.g1_msm, 4096);

        let unknown = Settings::from_toml("max_batches = 3")
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("max_batches"), "{unknown}");
        let zero = Settings::from_toml("device_timeout_ms = 0")
            .unwrap()
            .resolve();
        assert!(matches!(
            zero,
            Err(SettingsError::Zero("device_timeout_ms"))
        ));
        let tls = Settings::from_toml("tls_cert = \"c.pem\"")
            .unwrap()
            .resolve();
        assert!(matches!(tls, Err(SettingsError::Tls)));
    }
}
