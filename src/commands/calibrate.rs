//! `veribatch calibrate`: each GPU primitive timed beside the CPU at growing sizes, and
//! the crossovers written as the thresholds `--backend auto` uses (`gpu_threshold` in
//! `serve --config`, or `--gpu-threshold`).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use veribatch_engine::backend::cpu::CpuBackend;
use veribatch_engine::backend::{
    self, Backend, BackendChoice, DeviceChecks, SpotChecks, Thresholds, cuda, wgpu,
};
use veribatch_engine::selftest::{GpuBackend, OpenDevice};
use veribatch_testkit::{self as testkit, Rng};

use crate::output::{CommandResult, Outcome, outln};

#[derive(clap::Args, Clone, Debug)]
pub struct CalibrateArgs {
    /// The device to calibrate: auto (the one --backend auto would use), wgpu (the first
    /// adapter, a software one included) or cuda.
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
    /// Write the thresholds here, as TOML for `serve --config` (otherwise stdout only).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Fewer and smaller sizes, shorter timings (a software device, CI).
    #[arg(long)]
    quick: bool,
}

/// One primitive's timings.
struct Curve {
    name: &'static str,
    unit: &'static str,
    /// (size, device time, CPU time) per size measured.
    points: Vec<(usize, Duration, Duration)>,
    /// Why the device's timings mean nothing, if they do not (it fell back to the CPU).
    failed: Option<String>,
}

impl Curve {
    /// The smallest measured size from which the device is faster at every larger
    /// measured size; `usize::MAX` (never) if it is slower at the largest.
    fn crossover(&self) -> usize {
        if self.failed.is_some() {
            return usize::MAX;
        }
        let mut threshold = usize::MAX;
        for &(size, device, cpu) in self.points.iter().rev() {
            if device < cpu {
                threshold = size;
            } else {
                break;
            }
        }
        threshold
    }
}

pub fn run(args: CalibrateArgs) -> CommandResult {
    let choice = match args.backend {
        BackendChoice::Cpu => return Err("--backend cpu: there is no GPU to calibrate".into()),
        BackendChoice::Auto if cuda::availability().is_ok() => BackendChoice::Cuda,
        BackendChoice::Auto if wgpu::adapters().iter().any(|a| a.is_gpu) => BackendChoice::Wgpu,
        BackendChoice::Auto => {
            return Err(
                "no GPU found for --backend auto (--backend wgpu calibrates a software adapter)"
                    .into(),
            );
        }
        other => other,
    };
    super::check_backend(choice)?;
    let device = backend::select(
        choice,
        Thresholds::ALWAYS,
        DeviceChecks {
            // Timed answers are not recomputed on the CPU.
            spot: SpotChecks {
                first: 0,
                one_in: u64::MAX,
            },
            ..DeviceChecks::default()
        },
    );
    if device.name() == "cpu" {
        return Err(format!(
            "--backend {choice}: the device could not be opened"
        ));
    }
    let described = describe(choice);
    eprintln!("calibrate: {} on {described}", device.name());
    let cpu: Arc<dyn Backend> = Arc::new(CpuBackend::new());
    let curves: Vec<Curve> = primitives(args.quick)
        .into_iter()
        .map(|p| measure(&p, &*device, &*cpu, args.quick))
        .collect();

    let mut thresholds = Thresholds::default();
    for curve in &curves {
        thresholds
            .set(&format!("{}={}", curve.name, Never(curve.crossover())))
            .expect("a primitive's own name");
    }
    print_table(&curves);
    let toml = format!(
        "# Written by `veribatch calibrate`: {} on {described}.\n\
         # The smallest input each primitive runs on the GPU under --backend auto.\n\
         gpu_threshold = \"{thresholds}\"\n",
        device.name()
    );
    outln!("");
    outln!("{}", toml.trim_end());
    if let Some(path) = &args.out {
        std::fs::write(path, &toml).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("calibrate: wrote {}", path.display());
    }
    Ok(Outcome::AllValid)
}

/// A threshold as `--gpu-threshold` writes it.
struct Never(usize);

impl std::fmt::Display for Never {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 == usize::MAX {
            f.write_str("never")
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// The device `choice` opens, in words (the one the backend ranks first, as it does).
fn describe(choice: BackendChoice) -> String {
    let backend = match choice {
        BackendChoice::Cuda => GpuBackend::Cuda,
        _ => GpuBackend::Wgpu,
    };
    OpenDevice::open(backend)
        .map(|device| device.describe())
        .unwrap_or_else(|why| format!("a device that no longer opens ({why})"))
}

/// A primitive to time: its threshold's name, what its size counts, and its sizes.
struct Primitive {
    name: &'static str,
    unit: &'static str,
    sizes: Vec<usize>,
}

fn primitives(quick: bool) -> Vec<Primitive> {
    let powers = |from: u32, to: u32| (from..=to).step_by(2).map(|k| 1usize << k).collect();
    let (blocks, g1, g2) = if quick {
        (powers(8, 16), powers(6, 12), powers(6, 10))
    } else {
        (powers(8, 22), powers(6, 18), powers(6, 16))
    };
    let p = |name, unit, sizes: &Vec<usize>| Primitive {
        name,
        unit,
        sizes: sizes.clone(),
    };
    vec![
        p("sha256", "blocks", &blocks),
        p("g1_sum", "points", &g1),
        p("g2_sum", "points", &g2),
        p("g1_msm", "points", &g1),
        p("g2_msm", "points", &g2),
        p("g1_scale", "points", &g1),
    ]
}

/// Times `primitive` on `device` and on `cpu` at each size, up to the sizes where the
/// device has won twice in a row (it only gains from there), or where one call takes
/// over two seconds (larger sizes would take minutes).
fn measure(primitive: &Primitive, device: &dyn Backend, cpu: &dyn Backend, quick: bool) -> Curve {
    let mut curve = Curve {
        name: primitive.name,
        unit: primitive.unit,
        points: Vec::new(),
        failed: None,
    };
    let fallbacks = || device.device_health().map_or(0, |h| h.fallbacks);
    let before = fallbacks();
    let mut rng = Rng::new(0xca11b);
    let mut wins = 0;
    for &n in &primitive.sizes {
        let call = input(primitive.name, n, &mut rng);
        let device_time = timed(|| call(device), quick);
        let cpu_time = timed(|| call(cpu), quick);
        eprintln!(
            "calibrate: {} of {n} {}: device {:.3} ms, cpu {:.3} ms",
            primitive.name,
            primitive.unit,
            ms(device_time),
            ms(cpu_time)
        );
        curve.points.push((n, device_time, cpu_time));
        wins = if device_time < cpu_time { wins + 1 } else { 0 };
        if wins == 2 || device_time.max(cpu_time) > Duration::from_secs(2) {
            break;
        }
    }
    if fallbacks() > before {
        curve.failed = Some(
            device
                .device_health()
                .and_then(|h| h.last_fallback)
                .unwrap_or_else(|| "the device failed".into()),
        );
    }
    curve
}

/// One call of a primitive on a prepared input, on whichever backend it is given.
type Call = Box<dyn Fn(&dyn Backend)>;

/// A call of the primitive `name` on an input of `n`.
fn input(name: &str, n: usize, rng: &mut Rng) -> Call {
    match name {
        "sha256" => {
            let blocks = rng.bytes(64 * n);
            Box::new(move |b| {
                let mut out = vec![0u8; 32 * n];
                b.hash_blocks(&blocks, &mut out);
            })
        }
        "g1_sum" => {
            let points = testkit::g1_points(n, rng);
            Box::new(move |b| {
                b.g1_sum(&points);
            })
        }
        "g2_sum" => {
            let points = testkit::g2_points(n, rng);
            Box::new(move |b| {
                b.g2_sum(&points);
            })
        }
        // Groth16's MSMs are over 255-bit scalars, BLS batches' over 64-bit ones.
        "g1_msm" => {
            let (points, scalars) = (testkit::g1_points(n, rng), testkit::scalars_fr(n, rng));
            Box::new(move |b| {
                b.g1_msm(&points, &scalars);
            })
        }
        "g2_msm" => {
            let (points, scalars) = (testkit::g2_points(n, rng), testkit::scalars_u64(n, rng));
            Box::new(move |b| {
                b.g2_msm(&points, &scalars);
            })
        }
        _ => {
            let (points, scalars) = (testkit::g1_points(n, rng), testkit::scalars_u64(n, rng));
            Box::new(move |b| {
                b.g1_scale(&points, &scalars);
            })
        }
    }
}

/// The median of a few timed calls after one untimed call (which compiles kernels and
/// warms caches).
fn timed(call: impl Fn(), quick: bool) -> Duration {
    call();
    let (budget, most) = if quick {
        (Duration::from_millis(100), 3)
    } else {
        (Duration::from_millis(500), 9)
    };
    let started = Instant::now();
    let mut times = Vec::new();
    while times.len() < most && (times.len() < 3 || started.elapsed() < budget) {
        let start = Instant::now();
        call();
        times.push(start.elapsed());
    }
    times.sort_unstable();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn print_table(curves: &[Curve]) {
    let mut table = String::from(
        "| primitive | size | device ms | cpu ms | faster |\n|---|---:|---:|---:|---|\n",
    );
    for curve in curves {
        for &(n, device, cpu) in &curve.points {
            let faster = if device < cpu { "device" } else { "cpu" };
            let _ = writeln!(
                table,
                "| {} | {n} {} | {:.3} | {:.3} | {faster} |",
                curve.name,
                curve.unit,
                ms(device),
                ms(cpu)
            );
        }
    }
    outln!("{}", table.trim_end());
    for curve in curves {
        match &curve.failed {
            Some(why) => outln!(
                "{}: the device fell back to the CPU ({why}): never",
                curve.name
            ),
            None => match curve.crossover() {
                usize::MAX => outln!(
                    "{}: never (the CPU was faster at the largest size)",
                    curve.name
                ),
                from => outln!("{}: from {from} {}", curve.name, curve.unit),
            },
        }
    }
}
