//! A GPU against the CPU, primitive by primitive ([`cases`]) and operation by operation
//! ([`operations`]): what `veribatch selftest` runs on a user's device and what the
//! differential tests of each GPU backend run in CI.
//!
//! Primitives are called on the device itself, not through [`Offload`](crate::backend::Offload),
//! whose spot checks would replace a wrong answer with the CPU's and hide it.

mod cases;
pub mod inputs;
mod operations;

use crate::curves::bls12_381::{G1, G2};
use std::time::{Duration, Instant};

pub use cases::{Case, Level, Primitive, ScalarKind, cases, g1_points, g2_points};
pub use operations::{Engines, Operation, OperationCheck, operations};

use crate::backend::binary_tree::TreeHash;
use crate::backend::cpu::CpuBackend;
use crate::backend::device_checks::{Corrupt, Fault};
use crate::backend::{Backend, BackendChoice, Device, Unavailable};
use crate::curves::bls12_381::{compress_g1, compress_g2, p1_affine, p2_affine};
use inputs::Rng;

/// The hash of a hashing primitive's blocks and nodes.
fn tree_hash(primitive: Primitive) -> TreeHash {
    match primitive {
        Primitive::Sm3 | Primitive::Sm3Root => TreeHash::Sm3,
        _ => TreeHash::Sha256,
    }
}

/// Whether the device agreed with the CPU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Agreement {
    Same,
    /// The first output that differs: its index and both values, in hex.
    Differs {
        index: usize,
        device: String,
        cpu: String,
    },
    /// The device gave no answer (an error, or an answer of the wrong length).
    Failed(String),
}

/// One case on one device.
#[derive(Clone, Debug)]
pub struct Checked {
    pub case: Case,
    pub agreement: Agreement,
    pub device_time: Duration,
    pub cpu_time: Duration,
}

/// A test-only fault: the device's answers for one primitive are spoiled (a point plus
/// the generator, a digest with a bit flipped), so that the selftest can be seen to fail.
/// Named by `VERIBATCH_SELFTEST_FAULT=PRIMITIVE`.
pub fn fault_from_env() -> Option<Primitive> {
    let name = std::env::var("VERIBATCH_SELFTEST_FAULT").ok()?;
    let primitive = Primitive::ALL.into_iter().find(|p| p.name() == name);
    if primitive.is_some() {
        tracing::warn!(%name, "spoiling a primitive on purpose (VERIBATCH_SELFTEST_FAULT)");
    }
    primitive
}

/// Runs `case` on `device` and on the CPU, with the device's answers spoiled for the
/// primitive `spoil` names.
pub fn check<D: Device>(device: &D, case: &Case, spoil: Option<Primitive>) -> Checked {
    let cpu = CpuBackend::new();
    let mut rng = Rng::new(case.seed());
    let n = case.size;
    let spoiling = spoil == Some(case.primitive);
    let error = |e: D::Error| Agreement::Failed(e.to_string());
    let (agreement, device_time, cpu_time) = match case.primitive {
        Primitive::Sha256 | Primitive::Sm3 => {
            let hash = tree_hash(case.primitive);
            let blocks = rng.bytes(64 * n);
            let (got, device_time) = timed(|| {
                let mut out = vec![0u8; 32 * n];
                device.hash_blocks(hash, &blocks, &mut out).map(|()| out)
            });
            let (want, cpu_time) = timed(|| {
                let mut out = vec![0u8; 32 * n];
                hash.hash_blocks(&cpu, &blocks, &mut out);
                out
            });
            let agreement = got.map_or_else(error, |got| {
                let got = spoiled(spoiling, got);
                compare(got.chunks(32), want.chunks(32), |d| hex::encode(d))
            });
            (agreement, device_time, cpu_time)
        }
        Primitive::MerkleRoot | Primitive::Sm3Root => {
            let hash = tree_hash(case.primitive);
            let chunks = inputs::chunks(n, &mut rng);
            let depth = case.depth();
            let (got, device_time) = timed(|| device.merkle_root(hash, &chunks, depth));
            let (want, cpu_time) = timed(|| cpu.tree_root(hash, &chunks, depth));
            let agreement = got.map_or_else(error, |got| {
                compare([spoiled(spoiling, got)].iter(), [want].iter(), |r| {
                    hex::encode(r)
                })
            });
            (agreement, device_time, cpu_time)
        }
        Primitive::LogLeaves => {
            let leaves = cases::log_leaves(n, &mut rng);
            let (got, device_time) = timed(|| device.log_leaf_hashes(&leaves));
            let (want, cpu_time) = timed(|| cpu.log_leaf_hashes(&leaves));
            let agreement = got.map_or_else(error, |got| {
                let got = spoiled(spoiling, got);
                if got.len() != want.len() {
                    Agreement::Failed(format!("{} hashes for {} leaves", got.len(), want.len()))
                } else {
                    compare(got.iter(), want.iter(), |h| hex::encode(h))
                }
            });
            (agreement, device_time, cpu_time)
        }
        Primitive::LogSubtree => {
            let hashes = cases::leaf_hashes(n, &mut rng);
            let (got, device_time) = timed(|| device.log_subtree_root(&hashes));
            let (want, cpu_time) = timed(|| cpu.log_subtree_root(&hashes));
            let agreement = got.map_or_else(error, |got| {
                compare([spoiled(spoiling, got)].iter(), [want].iter(), |h| {
                    hex::encode(h)
                })
            });
            (agreement, device_time, cpu_time)
        }
        Primitive::G1Sum => {
            let points = g1_points(n, &mut rng);
            let (got, device_time) = timed(|| device.g1_sum(&points));
            let (want, cpu_time) = timed(|| cpu.g1_sum(&points));
            let agreement = got.map_or_else(error, |got| one_g1(spoiled(spoiling, got), want));
            (agreement, device_time, cpu_time)
        }
        Primitive::G2Sum => {
            let points = g2_points(n, &mut rng);
            let (got, device_time) = timed(|| device.g2_sum(&points));
            let (want, cpu_time) = timed(|| cpu.g2_sum(&points));
            let agreement = got.map_or_else(error, |got| one_g2(spoiled(spoiling, got), want));
            (agreement, device_time, cpu_time)
        }
        Primitive::G1Msm => {
            let points = g1_points(n, &mut rng);
            let scalars = scalar_kind(case).scalars(n, &mut rng);
            let (got, device_time) = timed(|| device.g1_msm(&points, &scalars));
            let (want, cpu_time) = timed(|| cpu.g1_msm(&points, &scalars));
            let agreement = got.map_or_else(error, |got| one_g1(spoiled(spoiling, got), want));
            (agreement, device_time, cpu_time)
        }
        Primitive::G2Msm => {
            let points = g2_points(n, &mut rng);
            let scalars = scalar_kind(case).scalars(n, &mut rng);
            let (got, device_time) = timed(|| device.g2_msm(&points, &scalars));
            let (want, cpu_time) = timed(|| cpu.g2_msm(&points, &scalars));
            let agreement = got.map_or_else(error, |got| one_g2(spoiled(spoiling, got), want));
            (agreement, device_time, cpu_time)
        }
        Primitive::G1Scale => {
            let points = g1_points(n, &mut rng);
            let scalars = scalar_kind(case).scalars(n, &mut rng);
            let (got, device_time) = timed(|| device.g1_scale(&points, &scalars));
            let (want, cpu_time) = timed(|| cpu.g1_scale(&points, &scalars));
            let agreement = got.map_or_else(error, |got| {
                let got = spoiled(spoiling, got);
                if got.len() != want.len() {
                    Agreement::Failed(format!("{} points for {} inputs", got.len(), want.len()))
                } else {
                    compare(got.iter(), want.iter(), |p| hex::encode(compress_g1(p)))
                }
            });
            (agreement, device_time, cpu_time)
        }
    };
    Checked {
        case: *case,
        agreement,
        device_time,
        cpu_time,
    }
}

/// The backends a selftest can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GpuBackend {
    Wgpu,
    Cuda,
}

impl GpuBackend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Wgpu => "wgpu",
            Self::Cuda => "cuda",
        }
    }

    /// The engine choice that forces every primitive onto this backend.
    pub fn choice(self) -> BackendChoice {
        match self {
            Self::Wgpu => BackendChoice::Wgpu,
            Self::Cuda => BackendChoice::Cuda,
        }
    }
}

/// The device a selftest checks, opened directly. `Err` says why it is unavailable.
pub enum OpenDevice {
    #[cfg(feature = "wgpu")]
    Wgpu(Box<crate::backend::wgpu::Gpu>),
    #[cfg(feature = "cuda")]
    Cuda(crate::backend::cuda::Cuda),
    /// No GPU backend in this build: never made.
    #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
    None(std::convert::Infallible),
}

impl OpenDevice {
    /// Opens `backend`'s device: for wgpu the best adapter, a software one included.
    pub fn open(backend: GpuBackend) -> Result<Self, Unavailable> {
        match backend {
            #[cfg(feature = "wgpu")]
            GpuBackend::Wgpu => Ok(Self::Wgpu(Box::new(crate::backend::wgpu::Gpu::open(
                false,
            )?))),
            #[cfg(feature = "cuda")]
            GpuBackend::Cuda => Ok(Self::Cuda(crate::backend::cuda::Cuda::open()?)),
            #[allow(unreachable_patterns)]
            other => Err(Unavailable::NotBuilt(other.name())),
        }
    }

    /// Whether this is a software adapter (lavapipe): it checks the kernels, not a GPU.
    pub fn is_software(&self) -> bool {
        match self {
            #[cfg(feature = "wgpu")]
            Self::Wgpu(gpu) => !gpu.adapter().is_gpu,
            #[cfg(feature = "cuda")]
            Self::Cuda(_) => false,
            #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
            Self::None(never) => match *never {},
        }
    }

    /// The adapter or device, in words.
    pub fn describe(&self) -> String {
        match self {
            #[cfg(feature = "wgpu")]
            Self::Wgpu(gpu) => gpu.adapter().to_string(),
            #[cfg(feature = "cuda")]
            Self::Cuda(cuda) => cuda.description().to_string(),
            #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
            Self::None(never) => match *never {},
        }
    }

    /// Compiles every kernel the device has not compiled yet, and how long that took:
    /// then no case's time includes a compilation. (CUDA compiles, or loads, at open.)
    pub fn compile_kernels(&self) -> Duration {
        let (_, took) = timed(|| {
            #[cfg(feature = "wgpu")]
            #[allow(irrefutable_let_patterns)] // a build without the cuda feature
            if let Self::Wgpu(gpu) = self {
                gpu.compile_all();
            }
        });
        took
    }

    /// [`check`] on this device.
    #[cfg_attr(not(any(feature = "wgpu", feature = "cuda")), allow(unused_variables))]
    pub fn check(&self, case: &Case, spoil: Option<Primitive>) -> Checked {
        match self {
            #[cfg(feature = "wgpu")]
            Self::Wgpu(gpu) => check(&**gpu, case, spoil),
            #[cfg(feature = "cuda")]
            Self::Cuda(cuda) => check(cuda, case, spoil),
            #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
            Self::None(never) => match *never {},
        }
    }
}

/// `value`, spoiled on purpose when `spoiling` ([`fault_from_env`]).
fn spoiled<T: Corrupt>(spoiling: bool, value: T) -> T {
    if spoiling {
        value.corrupt(Fault::WrongPoint)
    } else {
        value
    }
}

fn scalar_kind(case: &Case) -> ScalarKind {
    case.scalars.unwrap_or(ScalarKind::U64)
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

/// The first pair that differs, shown with `show`; a device answer of another length
/// than the CPU's fails.
fn compare<'a, T: PartialEq + ?Sized + 'a>(
    got: impl ExactSizeIterator<Item = &'a T>,
    want: impl ExactSizeIterator<Item = &'a T>,
    show: impl Fn(&T) -> String,
) -> Agreement {
    if got.len() != want.len() {
        return Agreement::Failed(format!(
            "{} outputs from the device, {} from the CPU",
            got.len(),
            want.len()
        ));
    }
    for (index, (g, w)) in got.zip(want).enumerate() {
        if g != w {
            return Agreement::Differs {
                index,
                device: show(g),
                cpu: show(w),
            };
        }
    }
    Agreement::Same
}

/// One G1 point each, compared in their compressed (canonical) encodings.
fn one_g1(got: G1, want: G1) -> Agreement {
    let (g, w) = (
        compress_g1(&p1_affine(&got)),
        compress_g1(&p1_affine(&want)),
    );
    compare([g].iter(), [w].iter(), |p| hex::encode(p))
}

fn one_g2(got: G2, want: G2) -> Agreement {
    let (g, w) = (
        compress_g2(&p2_affine(&got)),
        compress_g2(&p2_affine(&want)),
    );
    compare([g].iter(), [w].iter(), |p| hex::encode(p))
}
