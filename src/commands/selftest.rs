//! `veribatch selftest`: every GPU primitive and every whole operation on the chosen
//! device against the CPU, on the cases the differential tests run
//! ([`veribatch_engine::selftest`]). Exit 0 when all agree, 1 on any difference, 2 when
//! no chosen backend can run here.

use std::time::Duration;

use serde::Serialize;
use veribatch_engine::selftest::{
    self, Agreement, Engines, GpuBackend, Level, OpenDevice, Primitive,
};

use crate::output::{CommandResult, Outcome};

#[derive(clap::Args, Clone, Debug)]
pub struct SelftestArgs {
    /// The device to check: wgpu, cuda, or all (each one present).
    #[arg(long, default_value = "all")]
    backend: Which,
    /// The small cases only (minutes on a software device); without it, the large inputs
    /// a datacenter GPU is meant for as well.
    #[arg(long)]
    quick: bool,
    /// Print the report as JSON (schema veribatch-selftest/1) instead of a table.
    #[arg(long)]
    json: bool,
    /// Check only these primitives (sha256, merkle_root, g1_sum, g2_sum, g1_msm, g2_msm,
    /// g1_scale), comma-separated, and no whole operation.
    #[arg(long, value_delimiter = ',', value_parser = primitive)]
    only: Vec<Primitive>,
}

fn primitive(name: &str) -> Result<Primitive, String> {
    Primitive::ALL
        .into_iter()
        .find(|p| p.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = Primitive::ALL.iter().map(|p| p.name()).collect();
            format!(
                "unknown primitive {name:?}: expected one of {}",
                names.join(", ")
            )
        })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Which {
    Wgpu,
    Cuda,
    All,
}

impl Which {
    fn backends(self) -> Vec<GpuBackend> {
        match self {
            Self::Wgpu => vec![GpuBackend::Wgpu],
            Self::Cuda => vec![GpuBackend::Cuda],
            Self::All => vec![GpuBackend::Cuda, GpuBackend::Wgpu],
        }
    }
}

#[derive(Serialize)]
struct Report {
    schema: &'static str,
    level: &'static str,
    passed: bool,
    backends: Vec<BackendReport>,
}

#[derive(Serialize)]
struct BackendReport {
    backend: &'static str,
    /// The device checked, or why there is none.
    device: Option<String>,
    /// A software adapter (lavapipe): the kernels were checked, not a GPU.
    software: bool,
    unavailable: Option<String>,
    /// Compiling the kernels before the first case (not in any case's time).
    kernel_compile_ms: f64,
    checks: Vec<Row>,
}

#[derive(Serialize)]
struct Row {
    /// `primitive` or `operation`.
    kind: &'static str,
    name: String,
    check: String,
    result: &'static str,
    /// For a difference: the first differing output's index and both values.
    index: Option<usize>,
    device_value: Option<String>,
    cpu_value: Option<String>,
    error: Option<String>,
    device_ms: f64,
    cpu_ms: f64,
}

impl Row {
    fn new(
        kind: &'static str,
        name: String,
        check: String,
        agreement: Agreement,
        times: (Duration, Duration),
    ) -> Self {
        let (result, index, device_value, cpu_value, error) = match agreement {
            Agreement::Same => ("same", None, None, None, None),
            Agreement::Differs { index, device, cpu } => {
                ("DIFFERS", Some(index), Some(device), Some(cpu), None)
            }
            Agreement::Failed(why) => ("FAILED", None, None, None, Some(why)),
        };
        Self {
            kind,
            name,
            check,
            result,
            index,
            device_value,
            cpu_value,
            error,
            device_ms: times.0.as_secs_f64() * 1e3,
            cpu_ms: times.1.as_secs_f64() * 1e3,
        }
    }

    fn agrees(&self) -> bool {
        self.result == "same"
    }
}

pub fn run(args: SelftestArgs) -> CommandResult {
    let level = if args.quick {
        Level::Quick
    } else {
        Level::Full
    };
    let spoil = selftest::fault_from_env();
    let backends: Vec<BackendReport> = args
        .backend
        .backends()
        .into_iter()
        .map(|backend| check_backend(backend, level, &args.only, spoil, !args.json))
        .collect();
    let ran = backends.iter().filter(|b| b.unavailable.is_none()).count();
    let passed = ran > 0 && backends.iter().all(|b| b.checks.iter().all(Row::agrees));
    let report = Report {
        schema: "veribatch-selftest/1",
        level: if args.quick { "quick" } else { "full" },
        passed,
        backends,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        print_table(&report);
    }
    if ran == 0 {
        let why: Vec<String> = report
            .backends
            .iter()
            .filter_map(|b| Some(format!("{}: {}", b.backend, b.unavailable.as_ref()?)))
            .collect();
        return Err(format!("no backend to check ({})", why.join("; ")));
    }
    Ok(if passed {
        Outcome::AllValid
    } else {
        Outcome::SomeInvalid
    })
}

/// Every case and operation on `backend`, with a line on stderr per case when
/// `progress`.
fn check_backend(
    backend: GpuBackend,
    level: Level,
    only: &[Primitive],
    spoil: Option<Primitive>,
    progress: bool,
) -> BackendReport {
    let name = backend.name();
    let device = match OpenDevice::open(backend) {
        Ok(device) => device,
        Err(why) => {
            return BackendReport {
                backend: name,
                device: None,
                software: false,
                unavailable: Some(why.to_string()),
                kernel_compile_ms: 0.0,
                checks: Vec::new(),
            };
        }
    };
    let description = device.describe();
    let software = device.is_software();
    if progress {
        eprintln!("selftest: {name} on {description}");
        if software {
            eprintln!("selftest: a software adapter: this checks the kernels, not a GPU");
        }
    }
    let compiled = device.compile_kernels();
    if progress {
        eprintln!(
            "selftest: kernels compiled in {:.1} s",
            compiled.as_secs_f64()
        );
    }
    let mut checks = Vec::new();
    let chosen = |case: &selftest::Case| only.is_empty() || only.contains(&case.primitive);
    for case in selftest::cases(level).iter().filter(|c| chosen(c)) {
        let checked = device.check(case, spoil);
        let row = Row::new(
            "primitive",
            case.primitive.name().to_string(),
            case.to_string(),
            checked.agreement,
            (checked.device_time, checked.cpu_time),
        );
        if progress && !row.agrees() {
            eprintln!("selftest: {name}: {} {}", row.check, row.result);
        }
        checks.push(row);
    }
    drop(device);
    if only.is_empty() {
        checks.extend(check_operations(backend, level));
    }
    BackendReport {
        backend: name,
        device: Some(description),
        software,
        unavailable: None,
        kernel_compile_ms: compiled.as_secs_f64() * 1e3,
        checks,
    }
}

/// Every whole operation of `level` on `backend` against the CPU.
fn check_operations(backend: GpuBackend, level: Level) -> Vec<Row> {
    match Engines::open(backend) {
        Ok(engines) => selftest::operations(level)
            .iter()
            .map(|operation| {
                let checked = engines.check(operation);
                Row::new(
                    "operation",
                    operation.to_string(),
                    operation.to_string(),
                    checked.agreement,
                    (checked.device_time, checked.cpu_time),
                )
            })
            .collect(),
        Err(why) => vec![Row::new(
            "operation",
            "engine".to_string(),
            format!("an engine on {}", backend.name()),
            Agreement::Failed(why.to_string()),
            (Duration::ZERO, Duration::ZERO),
        )],
    }
}

fn print_table(report: &Report) {
    for backend in &report.backends {
        let Some(device) = &backend.device else {
            println!(
                "{}: unavailable: {}",
                backend.backend,
                backend.unavailable.as_deref().unwrap_or("")
            );
            continue;
        };
        println!(
            "{} on {device} ({} checks; kernels compiled in {:.0} ms first)",
            backend.backend, report.level, backend.kernel_compile_ms
        );
        println!("| check | device ms | cpu ms | result |");
        println!("|---|---:|---:|---|");
        for row in &backend.checks {
            println!(
                "| {} | {:.3} | {:.3} | {} |",
                row.check, row.device_ms, row.cpu_ms, row.result
            );
        }
        let bad: Vec<&Row> = backend.checks.iter().filter(|r| !r.agrees()).collect();
        for row in &bad {
            match (&row.index, &row.error) {
                (Some(index), _) => println!(
                    "MISMATCH {}: {}: output {index}: device {} cpu {}",
                    row.name,
                    row.check,
                    row.device_value.as_deref().unwrap_or(""),
                    row.cpu_value.as_deref().unwrap_or("")
                ),
                (None, error) => println!(
                    "FAILED {}: {}: {}",
                    row.name,
                    row.check,
                    error.as_deref().unwrap_or("")
                ),
            }
        }
        println!(
            "{}: {} of {} checks agree with the CPU",
            backend.backend,
            backend.checks.len() - bad.len(),
            backend.checks.len()
        );
    }
}
