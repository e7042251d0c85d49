//! `veribatch kernels compile`: check every GPU kernel without a GPU.

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
    let KernelsCommand::Compile { target, arch } = command;
    match target {
        Target::Wgsl => wgsl(),
        Target::Cuda => cuda(&arch),
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
    outln!("NVRTC {version}");
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
