//! One module per command group. Each turns flags and files into engine calls and
//! engine results into output; none holds verification logic of its own.

pub mod attack;
#[cfg(feature = "bench")]
pub mod bench;
pub mod bls;
pub mod calibrate;
pub mod cpu;
pub mod groth16;
pub mod health;
pub mod info;
pub mod kernels;
pub mod load;
pub mod log;
pub mod merkle;
pub mod selftest;
pub mod serve;
pub mod sm2;
pub mod verify;

use std::path::PathBuf;
use std::time::Duration;

use veribatch_client::{self as client, ClientError, Remote};
use veribatch_engine::backend::{self, BackendChoice};
use veribatch_engine::backend::{DeviceChecks, Fault, Thresholds};
use veribatch_engine::{Engine, EngineConfig};

/// The `--backend` flags shared by every command that verifies.
#[derive(clap::Args, Clone, Debug)]
pub struct BackendArgs {
    /// Where the primitives run: auto (a CUDA GPU, else a GPU through wgpu, above the
    /// --gpu-threshold sizes), cpu, wgpu (every GPU primitive on a wgpu adapter, a
    /// software one included) or cuda (every GPU primitive on the CUDA device).
    #[arg(long, default_value = "auto", env = "VERIBATCH_BACKEND")]
    pub backend: BackendChoice,
    /// Smallest input sent to the GPU under --backend auto, per primitive, e.g.
    /// g1_msm=4096,sha256=65536 (primitives: sha256, g1_sum, g2_sum, g1_msm, g2_msm,
    /// g1_scale); unnamed ones keep their defaults.
    #[arg(
        long,
        default_value = "",
        env = "VERIBATCH_GPU_THRESHOLDS",
        hide_default_value = true
    )]
    pub gpu_threshold: Thresholds,
}

impl BackendArgs {
    /// Where the thresholds in force came from, in words.
    pub fn threshold_source(&self) -> &'static str {
        let flag = std::env::args_os().any(|a| {
            a.to_str()
                .is_some_and(|a| a == "--gpu-threshold" || a.starts_with("--gpu-threshold="))
        });
        let env = std::env::var_os("VERIBATCH_GPU_THRESHOLDS").is_some_and(|v| !v.is_empty());
        match (flag, env) {
            (true, _) => "--gpu-threshold, over the built-in defaults",
            (false, true) => "VERIBATCH_GPU_THRESHOLDS, over the built-in defaults",
            (false, false) => "the built-in defaults, not measured here: run veribatch calibrate",
        }
    }

    /// The engine on the chosen backend; an error (exit 2) if `--backend cuda` cannot
    /// run here.
    pub fn engine(&self) -> Result<Engine, String> {
        self.engine_with(&self.engine_config())
    }

    /// [`BackendArgs::engine`] with a configuration based on [`BackendArgs::engine_config`].
    pub fn engine_with(&self, config: &EngineConfig) -> Result<Engine, String> {
        check_backend(self.backend)?;
        Ok(Engine::new(config))
    }

    pub fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            backend: self.backend,
            gpu_thresholds: self.gpu_threshold,
            device_checks: DeviceChecks {
                fault: Fault::from_env(),
                ..DeviceChecks::default()
            },
            ..EngineConfig::default()
        }
    }
}

/// `--remote`: do the work through a running `veribatch serve` instead of in-process,
/// with the same output and exit codes.
#[derive(clap::Args, Clone, Debug)]
pub struct RemoteArgs {
    /// The service's URL, e.g. http://127.0.0.1:50051 (https:// with --remote-ca); several
    /// replicas separated by commas, or dns:///name:port for every address of a name
    /// (a headless Service), balanced by the client, failed calls retried.
    #[arg(long, env = "VERIBATCH_REMOTE")]
    pub remote: Option<String>,
    /// PEM certificate authority of an https:// service.
    #[arg(long, requires = "remote")]
    pub remote_ca: Option<PathBuf>,
    /// PEM client certificate, for a service that requires one (mutual TLS).
    #[arg(long, requires_all = ["remote", "remote_key"])]
    pub remote_cert: Option<PathBuf>,
    /// PEM private key of --remote-cert.
    #[arg(long, requires = "remote_cert")]
    pub remote_key: Option<PathBuf>,
    /// A file holding the bearer token of a service that identifies its callers.
    #[arg(long, env = "VERIBATCH_REMOTE_TOKEN_FILE", requires = "remote")]
    pub remote_token_file: Option<PathBuf>,
    /// The time each call to the service may take, its retries included; each attempt
    /// carries what is left as its grpc-timeout [default: none].
    #[arg(long, requires = "remote", value_parser = clap::value_parser!(u64).range(1..))]
    pub remote_deadline_ms: Option<u64>,
    /// Send a second copy of a call not answered after this many milliseconds (to the
    /// least busy replica) and take the first answer: for tail latency, at the cost of
    /// verifying the hedged calls twice.
    #[arg(long, requires = "remote", value_parser = clap::value_parser!(u64).range(1..))]
    pub hedge_after_ms: Option<u64>,
}

/// A connection to the service and the runtime its calls run on.
pub struct Connection {
    pub runtime: tokio::runtime::Runtime,
    pub remote: Remote,
}

impl Connection {
    /// Runs one call against the service and waits for it.
    pub fn call<T>(
        &self,
        f: impl AsyncFnOnce(&mut Remote) -> Result<T, ClientError>,
    ) -> Result<T, String> {
        let mut remote = self.remote.clone();
        Ok(self.runtime.block_on(f(&mut remote))?)
    }
}

impl RemoteArgs {
    /// Connects if `--remote` was given.
    pub fn connect(&self) -> Result<Option<Connection>, String> {
        let Some(url) = &self.remote else {
            return Ok(None);
        };
        // A dns:/// target is plain HTTP unless a certificate authority is given.
        let plain = |target: &str| match target.strip_prefix("dns:///") {
            Some(name) => {
                self.remote_ca.is_none() && client::unauthenticated(&format!("http://{name}"))
            }
            None => client::unauthenticated(target),
        };
        if url.split(',').any(plain) {
            eprintln!(
                "warning: {url} is plain HTTP beyond this machine: verdicts travel \
                 unauthenticated and anyone on the path can change them (use https:// with \
                 --remote-ca)"
            );
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        let identity = self.remote_cert.as_deref().zip(self.remote_key.as_deref());
        let mut remote = runtime.block_on(Remote::connect_tls(
            url,
            self.remote_ca.as_deref(),
            identity,
        ))?;
        if let Some(path) = &self.remote_token_file {
            remote = remote.with_token(&client::read_token(path)?)?;
        }
        if let Some(ms) = self.remote_deadline_ms {
            remote = remote.with_deadline(Duration::from_millis(ms));
        }
        if let Some(ms) = self.hedge_after_ms {
            remote = remote.with_hedging(Duration::from_millis(ms));
        }
        Ok(Some(Connection { runtime, remote }))
    }
}

/// Why `choice` cannot run here, in the words of the flag that chose it.
pub fn check_backend(choice: backend::BackendChoice) -> Result<(), String> {
    backend::check(choice).map_err(|why| format!("--backend {choice}: {why}"))
}
