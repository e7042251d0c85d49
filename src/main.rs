//! `veribatch`: verify BLS signatures, Merkle trees and Groth16 proofs in bulk.
//!
//! Exit codes, for scripts: 0 everything verified valid; 1 something is invalid or
//! malformed; 2 the command could not run (unreadable file, bad flags, no items); 130
//! interrupted; 141 stdout closed by its reader.

mod commands;
mod input;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "veribatch", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify signatures from a file.
    #[command(subcommand)]
    Verify(commands::bls::VerifyCommand),
    /// SSZ Merkle roots and proofs.
    #[command(subcommand)]
    Merkle(commands::merkle::MerkleCommand),
    /// Groth16 proofs on BLS12-381.
    #[command(subcommand)]
    Groth16(commands::groth16::Groth16Command),
    /// Serve the gRPC API (see the README for the API, flags and metrics).
    Serve(Box<veribatch_service::settings::Settings>),
    /// Benchmark report: every workload beside its anchor, as JSON, Markdown and plots.
    Bench(commands::bench::BenchArgs),
    /// Drive a running service with requests of known answers; check every verdict.
    Load(commands::load::LoadArgs),
    /// Ask a running service whether it serves (its gRPC health service).
    Health(commands::health::HealthArgs),
    /// Version, backends, GPU adapters and CPU features.
    Info(commands::BackendArgs),
    /// GPU kernels: check that every module compiles, with no GPU needed.
    #[command(subcommand)]
    Kernels(commands::kernels::KernelsCommand),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify(cmd) => commands::bls::run(cmd),
        Command::Merkle(cmd) => commands::merkle::run(cmd),
        Command::Groth16(cmd) => commands::groth16::run(cmd),
        Command::Serve(args) => commands::serve::run(*args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Load(args) => commands::load::run(args),
        Command::Health(args) => commands::health::run(&args),
        Command::Info(args) => commands::info::run(&args),
        Command::Kernels(cmd) => commands::kernels::run(cmd),
    };
    match result {
        Ok(outcome) => outcome.exit_code(),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
