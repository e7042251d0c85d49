//! `veribatch info`: what this build can use on this machine.

use veribatch_engine::backend::Thresholds;
use veribatch_engine::backend::{self, BackendChoice};
use veribatch_engine::backend::{cuda, wgpu};

use super::BackendArgs;
use super::cpu::cpu_features;
use crate::output::{CommandResult, Outcome, outln};

pub fn run(args: &BackendArgs) -> CommandResult {
    outln!("veribatch {}", env!("CARGO_PKG_VERSION"));
    outln!("backends (--backend {}):", args.backend);
    for b in backend::inventory(args.backend) {
        let state = match (b.available, b.selected) {
            (true, true) => "selected",
            (true, false) => "available",
            (false, _) => "unavailable",
        };
        outln!("  {:<7} {state}: {}", b.name, b.detail);
    }
    let adapters = wgpu::adapters();
    outln!(
        "wgpu adapters:{}",
        if adapters.is_empty() { " none" } else { "" }
    );
    for adapter in &adapters {
        outln!(
            "  {} | backend {} | {} | driver {}",
            adapter.name,
            adapter.backend,
            adapter.device_type,
            if adapter.driver.is_empty() {
                "unknown"
            } else {
                &adapter.driver
            }
        );
        outln!(
            "    runs: {}",
            primitives(args.backend, adapter.is_gpu, &args.gpu_threshold)
        );
    }
    outln!(
        "gpu thresholds (--backend auto): {} (from {})",
        args.gpu_threshold,
        args.threshold_source()
    );
    outln!(
        "cuda kernels: {}",
        match cuda::kernel_dir() {
            Some(dir) => format!("precompiled, from {}", dir.display()),
            None => "compiled by NVRTC at start (cached)".to_string(),
        }
    );
    outln!("cpu features used: {}", cpu_features().join(" "));
    Ok(Outcome::AllValid)
}

/// Which primitives an adapter would run under `choice`.
fn primitives(choice: BackendChoice, is_gpu: bool, thresholds: &Thresholds) -> String {
    let all = "sha256 (blocks, Merkle trees), g1_sum, g2_sum, g1_msm, g2_msm, g1_scale";
    match choice {
        BackendChoice::Cpu => "nothing (--backend cpu)".into(),
        BackendChoice::Cuda => "nothing (--backend cuda)".into(),
        BackendChoice::Wgpu => format!("{all}, at every size (the first adapter listed is used)"),
        BackendChoice::Auto if cuda::availability().is_ok() => {
            "nothing under --backend auto: CUDA runs the GPU primitives".into()
        }
        BackendChoice::Auto if is_gpu => format!("from these input sizes: {thresholds}"),
        BackendChoice::Auto => {
            "nothing under --backend auto (not a GPU); everything with --backend wgpu".into()
        }
    }
}
