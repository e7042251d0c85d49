//! `veribatch bench`: the user-facing benchmark report. Each workload is swept over
//! sizes on every backend measured, beside its anchor (what a user would otherwise run),
//! in the same run on the same inputs; the report is written as report.json (schema in
//! docs/BENCH-REPORT.md), report.md and one SVG plot per workload.
//!
//! The criterion benches in benches/ are the developers' microbenchmarks; they share
//! the workload generators (`veribatch_engine::workload`) and the anchors (`anchors.rs`).

pub mod anchors;
mod compare;
pub mod machine;
mod plot;
mod report;
mod workloads;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use veribatch_engine::backend::{BackendChoice, cpu::CpuBackend, cuda, wgpu};
use veribatch_engine::{Engine, EngineConfig};
use veribatch_testkit::{Rng, Validators};

use crate::output::{self, CommandResult, Outcome, outln};
use report::{Point, Report, Workload};
use workloads::{Subjects, WorkloadKind};

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: Option<BenchCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Subcommand)]
enum BenchCommand {
    /// Several report.json files side by side (other machines, other versions), with
    /// each throughput's ratio to the first report's.
    Compare {
        #[arg(required = true, num_args = 2..)]
        reports: Vec<PathBuf>,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Short sweeps, for a first look or a smoke test (e.g. Merkle roots up to 2^16
    /// chunks instead of 2^24, Groth16 batches up to 64 proofs instead of 1024).
    #[arg(long)]
    quick: bool,
    /// Backends to measure veribatch on, e.g. cpu,cuda,wgpu. Default: the CPU, CUDA if
    /// there is a CUDA device, and wgpu if there is a real GPU adapter.
    #[arg(long, value_delimiter = ',')]
    backend: Vec<BackendChoice>,
    /// Workloads to run, comma-separated. Default: all.
    #[arg(long, value_delimiter = ',', value_enum)]
    workload: Vec<WorkloadKind>,
    /// Folder for report.json, report.md and the plots; created if missing.
    #[arg(long, default_value = "bench-report")]
    out: PathBuf,
    /// Seconds of timed iterations per point, at least (default 1, or 0.2 with --quick).
    #[arg(long)]
    seconds_per_point: Option<f64>,
}

pub fn run(args: BenchArgs) -> CommandResult {
    match args.command {
        Some(BenchCommand::Compare { reports }) => {
            let loaded = reports
                .iter()
                .map(|p| Ok((p.display().to_string(), compare::load(p)?)))
                .collect::<Result<Vec<_>, String>>()?;
            outln!("{}", compare::table(&loaded).trim_end_matches('\n'));
            Ok(Outcome::AllValid)
        }
        None => measure(&args.run),
    }
}

/// Why measuring stopped early.
pub enum Stop {
    Interrupted,
    /// An implementation gave a wrong answer (or could not run): the report would lie.
    Failed(String),
}

/// Times closures: one untimed run that also checks the result, then timed iterations
/// until the time per point is spent, and the median.
pub struct Timer {
    per_point: Duration,
    min_iterations: u32,
    interrupted: Arc<AtomicBool>,
}

impl Timer {
    /// Measures `f` and adds the point to `series` of `workload`. `f` returns an error
    /// when its result is wrong; that stops the run.
    pub fn record(
        &self,
        workload: &mut Workload,
        series: &str,
        backend: Option<&str>,
        size: usize,
        items: usize,
        mut f: impl FnMut() -> Result<(), String>,
    ) -> Result<(), Stop> {
        // Ctrl-C reaches a child process too (`verify bls` of the bls-file workload),
        // which then fails: that is the interruption, not a wrong answer.
        let fail = |e: String| {
            if self.interrupted.load(Ordering::SeqCst) {
                Stop::Interrupted
            } else {
                Stop::Failed(format!("{} at size {size}, {series}: {e}", workload.name))
            }
        };
        f().map_err(fail)?;
        let mut times = Vec::new();
        let started = Instant::now();
        while times.len() < self.min_iterations as usize
            || (started.elapsed() < self.per_point && times.len() < 10_000)
        {
            if self.interrupted.load(Ordering::SeqCst) {
                return Err(Stop::Interrupted);
            }
            let t = Instant::now();
            f().map_err(fail)?;
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let seconds = times[times.len() / 2].max(1e-9);
        workload.series_mut(series, backend).points.push(Point {
            size: size as u64,
            items: items as u64,
            iterations: times.len() as u32,
            seconds,
            items_per_second: items as f64 / seconds,
            seconds_per_item: seconds / items as f64,
            ratio_to_anchor: None,
            peak_resident_bytes: None,
        });
        Ok(())
    }
}

impl Timer {
    /// Adds a point measured outside this process (`items_per_second`, over the
    /// `per_point` time) to `series` of `workload`.
    pub fn record_rate(
        &self,
        workload: &mut Workload,
        series: &str,
        size: usize,
        items_per_second: f64,
    ) {
        workload.series_mut(series, None).points.push(Point {
            size: size as u64,
            items: size as u64,
            iterations: 1,
            seconds: size as f64 / items_per_second,
            items_per_second,
            seconds_per_item: 1.0 / items_per_second,
            ratio_to_anchor: None,
            peak_resident_bytes: None,
        });
    }
}

fn measure(args: &RunArgs) -> CommandResult {
    let kinds: Vec<WorkloadKind> = if args.workload.is_empty() {
        WorkloadKind::ALL.to_vec()
    } else {
        args.workload.clone()
    };
    let engines = engines(&args.backend)?;
    let per_point = args
        .seconds_per_point
        .unwrap_or(if args.quick { 0.2 } else { 1.0 });
    if !(per_point.is_finite() && per_point >= 0.0) {
        return Err(format!(
            "--seconds-per-point {per_point}: expected a number of seconds ≥ 0"
        ));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let timer = Timer {
        per_point: Duration::try_from_secs_f64(per_point)
            .map_err(|_| format!("--seconds-per-point {per_point}: too long"))?,
        min_iterations: if args.quick { 1 } else { 3 },
        interrupted: output::interrupt_flag(),
    };
    let cpu = CpuBackend::new();
    let max_committee = WorkloadKind::FastAggregate
        .sizes(args.quick)
        .into_iter()
        .max();
    let validators = Validators::new(
        &engines[0].1,
        max_committee.unwrap_or(64).min(2048),
        &mut Rng::new(1),
    );
    let subjects = Subjects {
        engines: &engines,
        cpu: &cpu,
        validators: &validators,
    };
    let mut report = Report {
        schema: report::SCHEMA.to_string(),
        created: report::now_rfc3339(),
        quick: args.quick,
        interrupted: false,
        machine: machine::Machine::describe(),
        workloads: Vec::new(),
    };
    let points: usize = kinds.iter().map(|k| k.sizes(args.quick).len()).sum();
    let names: Vec<&str> = engines.iter().map(|(name, _)| name.as_str()).collect();
    eprintln!(
        "measuring {points} points on {} beside the anchors; Ctrl-C stops and writes what was measured",
        names.join(", ")
    );
    let bar = output::progress(points, "points");
    'sweep: for kind in kinds {
        let mut workload = kind.report();
        for size in kind.sizes(args.quick) {
            bar.set_message(format!("{} {size}", kind.name()));
            match kind.measure(size, &subjects, &timer, &mut workload) {
                Ok(()) => bar.inc(1),
                Err(Stop::Interrupted) => {
                    report.interrupted = true;
                    report.workloads.push(workload);
                    break 'sweep;
                }
                Err(Stop::Failed(why)) => {
                    bar.finish_and_clear();
                    return Err(format!("the benchmark stopped: {why}"));
                }
            }
        }
        report.workloads.push(workload);
    }
    bar.finish_and_clear();
    for w in &mut report.workloads {
        w.set_ratios();
    }
    write(&report, &args.out)?;
    outln!("{}", report.markdown());
    eprintln!("wrote {}", args.out.join("report.md").display());
    Ok(if report.interrupted {
        Outcome::Interrupted
    } else {
        Outcome::AllValid
    })
}

/// veribatch once per backend to measure, each with its key cache off so every
/// iteration decodes as the anchors do.
fn engines(choices: &[BackendChoice]) -> Result<Vec<(String, Engine)>, String> {
    let choices = if choices.is_empty() {
        let mut defaults = vec![BackendChoice::Cpu];
        if cuda::availability().is_ok() {
            defaults.push(BackendChoice::Cuda);
        }
        if wgpu::adapters().iter().any(|a| a.is_gpu) {
            defaults.push(BackendChoice::Wgpu);
        }
        defaults
    } else {
        choices.to_vec()
    };
    let mut engines: Vec<(String, Engine)> = Vec::new();
    for choice in choices {
        if engines.iter().any(|(name, _)| *name == choice.to_string()) {
            continue;
        }
        if choice == BackendChoice::Wgpu && wgpu::adapters().is_empty() {
            return Err(
                "--backend wgpu: no wgpu adapter (Vulkan, Metal or DX12 driver) found".into(),
            );
        }
        crate::commands::check_backend(choice)?;
        let engine = Engine::new(&EngineConfig {
            backend: choice,
            public_key_cache: 0,
            ..EngineConfig::default()
        });
        // A GPU that cannot open leaves the engine on the CPU: its figures must not be
        // reported under the GPU's name.
        if choice != BackendChoice::Auto && engine.backend().name() != choice.to_string() {
            return Err(format!(
                "--backend {choice}: the backend could not be opened (see the log); not measuring the CPU under its name"
            ));
        }
        engines.push((choice.to_string(), engine));
    }
    Ok(engines)
}

fn write(report: &Report, out: &Path) -> Result<(), String> {
    let save = |name: &str, text: &str| {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let json = serde_json::to_string_pretty(report).expect("reports serialize");
    save("report.json", &json)?;
    save("report.md", &report.markdown())?;
    for w in &report.workloads {
        plot::draw(w, &out.join(format!("{}.svg", w.name)))?;
    }
    Ok(())
}
