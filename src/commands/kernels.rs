//! `veribatch kernels compile`: check every GPU kernel without a GPU, and write the CUDA
//! kernels ahead of time for machines without NVRTC.

use std::path::{Path, PathBuf};

use veribatch_engine::backend::cuda::prebuilt;
use veribatch_engine::backend::{cuda, wgpu};

use crate::output::{CommandResult, Outcome, outln};

#[derive(clap::Subcommand, Clone, Debug)]
pub enum KernelsCommand {
    /// Compile every kernel and list them; exit 1 on any compile error.
    Compile {
        /// Kernel language to check.
        #[arg(long, default_value = "wgsl")]
        target: Target,
        /// GPU architectures to compile the CUDA kernels for, e.g. sm_80,sm_90
        /// (--target cuda only).
        #[arg(long, value_delimiter = ',', default_value = "sm_80")]
        arch: Vec<String>,
        /// Write a CUBIN per architecture and a manifest (source hash, NVRTC version,
        /// SHA-256 of each file) into this folder, for `--cuda-kernels` on a machine
        /// without NVRTC (--target cuda only).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Target {
    /// WGSL for wgpu, validated by naga (as wgpu does before compiling).
    Wgsl,
    /// CUDA C++, compiled to PTX by NVRTC (no GPU or driver needed, NVRTC is).
    Cuda,
}

pub fn run(command: KernelsCommand) -> CommandResult {
    let KernelsCommand::Compile { target, arch, out } = command;
    match (target, out) {
        (Target::Wgsl, None) => wgsl(),
        (Target::Wgsl, Some(_)) => Err("--out: only the CUDA kernels (--target cuda) are compiled ahead of time; wgpu compiles WGSL on the device".into()),
        (Target::Cuda, None) => cuda(&arch),
        (Target::Cuda, Some(dir)) => cuda_into(&dir, &arch),
    }
}

fn wgsl() -> CommandResult {
    let mut all_valid = true;
    for report in wgpu::compile_kernels() {
        match &report.result {
            Ok((entry_points, lines)) => outln!(
                "ok     {:<8} {lines:>5} lines  entry points: {}  files: {}",
                report.module,
                entry_points.join(", "),
                report.files.join(" ")
            ),
            Err(error) => {
                all_valid = false;
                outln!(
                    "error  {:<8} files: {}",
                    report.module,
                    report.files.join(" ")
                );
                eprintln!("{error}");
            }
        }
    }
    Ok(Outcome::from_valid(all_valid))
}

fn cuda(archs: &[String]) -> CommandResult {
    // Without NVRTC nothing can be checked: that is a setup problem (exit 2), not a
    // kernel that fails to compile (exit 1).
    let version = cuda::nvrtc_version().map_err(|e| e.to_string())?;
    outln!(
        "NVRTC {version} ({})",
        cuda::nvrtc_library().unwrap_or("unknown library")
    );
    let mut all_valid = true;
    for arch in archs {
        let ptx = match cuda::compile(arch, cuda::Output::Ptx) {
            Ok(ptx) => String::from_utf8_lossy(&ptx).into_owned(),
            Err(error) => {
                all_valid = false;
                outln!("error  {arch}");
                eprintln!("{error}");
                continue;
            }
        };
        let entries = cuda::ptx_entries(&ptx);
        outln!(
            "ok     {arch}: {} kernels, {} bytes of PTX",
            entries.len(),
            ptx.len()
        );
        for entry in entries {
            outln!("         {:<20} {:>9} bytes", entry.name, entry.bytes);
        }
    }
    Ok(Outcome::from_valid(all_valid))
}

/// Compiles a CUBIN per architecture into `dir` with its manifest.
fn cuda_into(dir: &Path, archs: &[String]) -> CommandResult {
    use prebuilt::CompileIntoError;
    let manifest = match prebuilt::compile_into(dir, archs) {
        Ok(manifest) => manifest,
        // No NVRTC, or a folder that cannot be written: setup problems (exit 2).
        Err(CompileIntoError::Compile(cuda::CudaError::NoNvrtc)) => {
            return Err(cuda::CudaError::NoNvrtc.to_string());
        }
        Err(CompileIntoError::Io(error)) => return Err(error.to_string()),
        // A kernel that does not compile (exit 1).
        Err(error) => {
            eprintln!("{error}");
            return Ok(Outcome::SomeInvalid);
        }
    };
    outln!(
        "NVRTC {}, sources {}",
        manifest.nvrtc_version,
        &manifest.source_sha256[..16]
    );
    for entry in &manifest.kernels {
        outln!(
            "wrote  {}  {:>9} bytes  sha256 {}",
            dir.join(&entry.file).display(),
            entry.bytes,
            entry.sha256
        );
    }
    outln!("wrote  {}", dir.join(prebuilt::MANIFEST).display());
    Ok(Outcome::AllValid)
}
