//! `veribatch`: verify BLS signatures, Merkle trees, transparency-log proofs and Groth16
//! proofs in bulk.
//!
//! Exit codes, for scripts: 0 everything verified valid; 1 something is invalid or
//! malformed; 2 the command could not run (unreadable file, bad flags, no items); 130
//! interrupted; 141 stdout closed by its reader.

mod commands;
mod input;
mod output;

use std::process::ExitCode;

use std::os::unix::fs::DirBuilderExt;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "veribatch", version, about, long_about = None)]
struct Cli {
    /// Precompiled CUDA kernels: a folder `veribatch kernels compile --target cuda --out
    /// DIR` wrote, used instead of compiling with NVRTC (refused if it was compiled from
    /// other sources or a file changed).
    #[arg(
        long,
        global = true,
        env = "VERIBATCH_CUDA_KERNELS",
        value_name = "DIR"
    )]
    cuda_kernels: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify signatures from a file.
    #[command(subcommand)]
    Verify(commands::verify::VerifyCommand),
    /// SSZ Merkle roots and proofs.
    #[command(subcommand)]
    Merkle(commands::merkle::MerkleCommand),
    /// Transparency-log trees (RFC 9162): tree heads, inclusion and consistency proofs.
    #[command(subcommand)]
    Log(commands::log::LogCommand),
    /// Groth16 proofs on BLS12-381.
    #[command(subcommand)]
    Groth16(commands::groth16::Groth16Command),
    /// Serve the gRPC API (see the README for the API, flags and metrics).
    Serve(Box<veribatch_service::settings::Settings>),
    /// Benchmark report: every workload beside its anchor, as JSON, Markdown and plots.
    #[cfg(feature = "bench")]
    Bench(commands::bench::BenchArgs),
    /// Drive a running service with requests of known answers; check every verdict.
    Load(commands::load::LoadArgs),
    /// Ask a running service whether it serves (its gRPC health service).
    Health(commands::health::HealthArgs),
    /// Version, backends, GPU adapters and CPU features.
    Info(commands::BackendArgs),
    /// GPU kernels: check that every module compiles, with no GPU needed; write the CUDA
    /// kernels ahead of time.
    #[command(subcommand)]
    Kernels(commands::kernels::KernelsCommand),
    /// Check a GPU against the CPU: every primitive and whole operation, on random and
    /// edge inputs (exit 0 all agree, 1 any difference, 2 no device).
    Selftest(commands::selftest::SelftestArgs),
    /// Time each GPU primitive beside the CPU at growing sizes and write the crossover
    /// points as the thresholds `serve --config` and `--gpu-threshold` take.
    Calibrate(commands::calibrate::CalibrateArgs),
}

fn main() -> ExitCode {
    quiet_wayland_probe();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Some(dir) = cli.cuda_kernels {
        veribatch_engine::backend::cuda::use_kernels_from(dir);
    }
    let result = match cli.command {
        Command::Verify(cmd) => commands::verify::run(cmd),
        Command::Merkle(cmd) => commands::merkle::run(cmd),
        Command::Log(cmd) => commands::log::run(cmd),
        Command::Groth16(cmd) => commands::groth16::run(cmd),
        Command::Serve(args) => commands::serve::run(*args),
        #[cfg(feature = "bench")]
        Command::Bench(args) => commands::bench::run(args),
        Command::Load(args) => commands::load::run(args),
        Command::Health(args) => commands::health::run(&args),
        Command::Info(args) => commands::info::run(&args),
        Command::Kernels(cmd) => commands::kernels::run(cmd),
        Command::Selftest(args) => commands::selftest::run(args),
        Command::Calibrate(args) => commands::calibrate::run(args),
    };
    match result {
        Ok(outcome) => outcome.exit_code(),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Probing for Vulkan devices loads Mesa's window-system support, whose Wayland client
/// prints `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` when the
/// variable is unset (a container, a service account): an error to a user's eye, about
/// nothing veribatch uses (it draws no window). Where it is unset, point it at a folder
/// of this user's own, as a login session would. Setting a variable in a running process
/// needs `unsafe` (a thread may read the environment meanwhile), so this program starts
/// itself again in place with the variable set: `exec` keeps the process id, the
/// arguments and the open files, and the new image finds the variable set and goes on.
fn quiet_wayland_probe() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| std::path::Path::new(&d).is_absolute()) {
        return;
    }
    let uid = rustix::process::geteuid().as_raw();
    let dir = std::env::temp_dir().join(format!("veribatch-runtime-{uid}"));
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    // Only a folder of this user's own, private, not a link: another user could have
    // made the predictable name first, with a socket of theirs in it.
    let own = std::fs::symlink_metadata(&dir).is_ok_and(|m| {
        use std::os::unix::fs::MetadataExt;
        m.is_dir() && m.uid() == uid && m.mode() & 0o077 == 0
    });
    let Ok(program) = std::env::current_exe() else {
        return;
    };
    if !own {
        return;
    }
    use std::os::unix::process::CommandExt;
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_default();
    // exec returns only if it failed (the binary replaced meanwhile): go on as we are,
    // with the message Mesa may print.
    let _ = std::process::Command::new(program)
        .arg0(arg0)
        .args(args)
        .env("XDG_RUNTIME_DIR", &dir)
        .exec();
}
