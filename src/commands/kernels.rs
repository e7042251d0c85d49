//! `veribatch kernels compile`: check every GPU kernel without a GPU.

use veribatch_engine::backend::wgpu;

use crate::output::{CommandResult, Outcome};

#[derive(clap::Subcommand, Clone, Debug)]
pub enum KernelsCommand {
    /// Parse and validate every kernel module and list them; exit 1 on any error.
    Compile {
        /// Kernel language to check.
        #[arg(long, default_value = "wgsl")]
        target: Target,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Target {
    /// WGSL for wgpu, validated by naga (as wgpu does before compiling).
    Wgsl,
}

pub fn run(command: KernelsCommand) -> CommandResult {
    let KernelsCommand::Compile {
        target: Target::Wgsl,
    } = command;
    let mut all_valid = true;
    for report in wgpu::compile_kernels() {
        match &report.result {
            Ok((entry_points, lines)) => println!(
                "ok     {:<8} {lines:>5} lines  entry points: {}  files: {}",
                report.module,
                entry_points.join(", "),
                report.files.join(" ")
            ),
            Err(error) => {
                all_valid = false;
                println!(
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
