//! What a report was measured on: enough to tell two machines (or two builds) apart.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use veribatch_engine::backend::{cuda, wgpu};

use crate::commands::cpu::cpu_features;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Machine {
    /// The CPU's model name, as the OS reports it.
    pub cpu: String,
    /// The CPU features the CPU code paths pick up at run time (SHA-NI, AVX2…).
    pub cpu_features: Vec<String>,
    /// Logical cores available to this process.
    pub cores: usize,
    /// Total memory in bytes, where the OS tells it.
    pub memory_bytes: Option<u64>,
    /// `linux x86_64` and the like.
    pub os: String,
    pub wgpu_adapters: Vec<Adapter>,
    /// CUDA devices, or why there are none.
    pub cuda: Vec<String>,
    pub veribatch_version: String,
    pub build: Build,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Adapter {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Build {
    /// `release` or `debug` (debug assertions on).
    pub profile: String,
    /// Target features enabled at compile time (`-C target-cpu=native` adds some).
    pub target_features: Vec<String>,
}

impl Machine {
    pub fn describe() -> Self {
        Self {
            cpu: cpu_model(),
            cpu_features: cpu_features().iter().map(|f| f.to_string()).collect(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes: memory_bytes(),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            wgpu_adapters: wgpu::adapters()
                .iter()
                .map(|a| Adapter {
                    name: a.name.clone(),
                    backend: a.backend.clone(),
                    device_type: a.device_type.clone(),
                    driver: a.driver.clone(),
                })
                .collect(),
            cuda: match cuda::availability() {
                Ok(devices) => devices.iter().map(|d| d.to_string()).collect(),
                Err(reason) => vec![format!("unavailable: {reason}")],
            },
            veribatch_version: env!("CARGO_PKG_VERSION").to_string(),
            build: Build {
                profile: if cfg!(debug_assertions) {
                    "debug"
                } else {
                    "release"
                }
                .to_string(),
                target_features: compiled_target_features(),
            },
        }
    }

    pub fn markdown(&self) -> String {
        let mut md = String::from("## Machine\n\n| | |\n|---|---|\n");
        let memory = self.memory_bytes.map_or("unknown".to_string(), |b| {
            format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)
        });
        let adapters = if self.wgpu_adapters.is_empty() {
            "none".to_string()
        } else {
            self.wgpu_adapters
                .iter()
                .map(|a| {
                    format!(
                        "{} ({}, {}, driver {})",
                        a.name, a.backend, a.device_type, a.driver
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let rows = [
            ("CPU", self.cpu.clone()),
            ("CPU features", self.cpu_features.join(" ")),
            ("Cores", self.cores.to_string()),
            ("Memory", memory),
            ("OS", self.os.clone()),
            ("wgpu adapters", adapters),
            ("CUDA", self.cuda.join("; ")),
            ("veribatch", self.veribatch_version.clone()),
            (
                "Build",
                format!(
                    "{}, target features: {}",
                    self.build.profile,
                    self.build.target_features.join(" ")
                ),
            ),
        ];
        for (name, value) in rows {
            let _ = writeln!(md, "| {name} | {value} |");
        }
        md
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| format!("unknown {} CPU", std::env::consts::ARCH))
}

fn memory_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = info
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn compiled_target_features() -> Vec<String> {
    let mut on = Vec::new();
    macro_rules! check {
        ($($f:tt),*) => {$(
            if cfg!(target_feature = $f) {
                on.push($f.to_string());
            }
        )*};
    }
    check!(
        "sse4.2", "avx", "avx2", "bmi2", "adx", "sha", "avx512f", "neon", "aes"
    );
    on
}
