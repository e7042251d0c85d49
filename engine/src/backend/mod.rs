//! The primitives every operation is built from, and the devices that run them.
//!
//! An operation (a BLS batch, a Merkle root, a Groth16 batch) is an algorithm written once
//! over these primitives. A backend implements them on one kind of device; the CPU backend
//! implements all of them and is the reference every other backend is tested against.
//!
//! Points cross this interface as the curve layer's types ([`G1Affine`], [`G1`], ...,
//! `repr(transparent)` over blst's, so the CPU backend and the CUDA driver pass them on
//! without copying), scalars as packed little-endian integers of a fixed width
//! ([`Scalars`]), the form blst and the GPU kernels both read without conversion.

pub mod binary_tree;
pub mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod device_checks;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod gpu;
pub mod log_tree;
mod offload;
pub mod watchdog;
#[cfg(feature = "wgpu")]
pub mod wgpu;

use crate::curves::bls12_381::{Fp12, G1, G1Affine, G2, G2Affine};
use crate::unknown_name::UnknownName;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

pub use device_checks::{DeviceHealth, Fault, SpotChecks};
pub use log_tree::PackedLeaves;
pub use offload::{Compilations, Device, DeviceChecks, Offload, ThresholdError, Thresholds};
pub use watchdog::Watchdog;

/// A device that runs the primitives of every operation.
///
/// Implementations must give bit-identical results to [`cpu::CpuBackend`] on every input,
/// including the point at infinity and zero scalars.
pub trait Backend: Send + Sync {
    /// A short name for logs and reports (`cpu`, `wgpu`, `cuda`).
    fn name(&self) -> &'static str;

    /// SHA-256 of each 64-byte block of `blocks`, written to `digests` (32 bytes each).
    /// `blocks.len()` is a multiple of 64 and `digests.len() * 2 == blocks.len()`.
    fn hash_blocks(&self, blocks: &[u8], digests: &mut [u8]);

    /// SM3 of each 64-byte block of `blocks`, written to `digests` (32 bytes each), as
    /// [`Backend::hash_blocks`]. By default on every core.
    fn sm3_blocks(&self, blocks: &[u8], digests: &mut [u8]) {
        cpu::sm3_blocks(blocks, digests);
    }

    /// The root of `chunks` padded to 2^depth leaves as [`Backend::merkle_root`], with
    /// nodes made by `hash`: SHA-256's is [`Backend::merkle_root`] itself; SM3's is built
    /// level by level with [`Backend::sm3_blocks`].
    fn tree_root(&self, hash: binary_tree::TreeHash, chunks: &[u8], depth: u32) -> [u8; 32] {
        match hash {
            binary_tree::TreeHash::Sha256 => self.merkle_root(chunks, depth),
            binary_tree::TreeHash::Sm3 => hash.root_by_levels(self, chunks, depth),
        }
    }

    /// The Merkle root of `chunks` (32 bytes each, at most 2^depth of them) padded with
    /// zero chunks to 2^depth leaves. By default level by level with [`Backend::hash_blocks`];
    /// a device backend keeps the levels in device memory instead.
    fn merkle_root(&self, chunks: &[u8], depth: u32) -> [u8; 32] {
        binary_tree::TreeHash::Sha256.root_by_levels(self, chunks, depth)
    }

    /// The RFC 9162 leaf hash, SHA-256(0x00 ‖ data), of each leaf.
    fn log_leaf_hashes(&self, leaves: &PackedLeaves) -> Vec<log_tree::Hash> {
        log_tree::leaf_hashes(binary_tree::TreeHash::Sha256, leaves)
    }

    /// The RFC 9162 root of the perfect subtree over `leaf_hashes` (a power of two of
    /// them), nodes SHA-256(0x01 ‖ left ‖ right). A device backend keeps the levels in
    /// device memory.
    fn log_subtree_root(&self, leaf_hashes: &[log_tree::Hash]) -> log_tree::Hash {
        log_tree::perfect_root(binary_tree::TreeHash::Sha256, leaf_hashes)
    }

    /// Sum of G1 points (aggregation of public keys).
    fn g1_sum(&self, points: &[G1Affine]) -> G1;

    /// Sum of G2 points (aggregation of signatures).
    fn g2_sum(&self, points: &[G2Affine]) -> G2;

    /// Σ scalars[i]·points[i] in G1. `scalars.len() == points.len()`.
    fn g1_msm(&self, points: &[G1Affine], scalars: &Scalars) -> G1;

    /// Σ scalars[i]·points[i] in G2. `scalars.len() == points.len()`.
    fn g2_msm(&self, points: &[G2Affine], scalars: &Scalars) -> G2;

    /// scalars[i]·points[i] for each i, in affine form (the z_i scaling of Groth16 batches).
    fn g1_scale(&self, points: &[G1Affine], scalars: &Scalars) -> Vec<G1Affine>;

    /// RFC 9380 hash_to_curve (BLS12381G2_XMD:SHA-256_SSWU_RO_) of each message.
    fn hash_to_g2(&self, messages: &[&[u8]], dst: &[u8]) -> Vec<G2Affine>;

    /// Π e'(g1[i], g2[i]): the product of Miller loops, before final exponentiation.
    /// Pairs with a point at infinity contribute one. `g1.len() == g2.len()`.
    fn multi_miller_loop(&self, g1: &[G1Affine], g2: &[G2Affine]) -> Fp12;

    /// Whether the final exponentiation of `f` is the identity of GT.
    fn final_exp_is_one(&self, f: &Fp12) -> bool;

    /// A device's fallbacks, spot checks and mismatches; `None` for the CPU.
    fn device_health(&self) -> Option<DeviceHealth> {
        None
    }
}

/// Packed little-endian scalars of one bit width, as blst's multi-scalar multiplication
/// reads them: `ceil(bits / 8)` bytes each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scalars {
    bytes: Vec<u8>,
    bits: usize,
}

impl Scalars {
    /// 64-bit scalars (the random coefficients of batch verification).
    pub fn from_u64s(values: &[u64]) -> Self {
        Self {
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            bits: 64,
        }
    }

    /// 255-bit scalars given as 32 little-endian bytes each (elements of Fr).
    pub fn from_fr_le(values: &[[u8; 32]]) -> Self {
        Self {
            bytes: values.concat(),
            bits: 255,
        }
    }

    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Bytes per scalar.
    pub fn width(&self) -> usize {
        self.bits.div_ceil(8)
    }

    pub fn len(&self) -> usize {
        self.bytes.len() / self.width()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The `i`-th scalar's little-endian bytes.
    pub fn get(&self, i: usize) -> &[u8] {
        let w = self.width();
        &self.bytes[i * w..(i + 1) * w]
    }

    /// All scalars, packed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The scalars at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Self {
        Self {
            bytes: indices.iter().flat_map(|&i| self.get(i)).copied().collect(),
            bits: self.bits,
        }
    }
}

/// Which backend runs the primitives, as chosen by the user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackendChoice {
    /// The fastest device present, for the primitives and sizes where it is faster than
    /// the CPU ([`Thresholds`]): a CUDA GPU, else a GPU through wgpu; the CPU for
    /// everything else.
    #[default]
    Auto,
    /// The CPU only: blst, hashtree/SHA-NI, all cores.
    Cpu,
    /// Every primitive the wgpu backend has on a wgpu adapter, whatever its size and
    /// whatever the adapter (a software one such as lavapipe included).
    Wgpu,
    /// Every primitive the CUDA backend has on the first CUDA device, whatever its size.
    Cuda,
}

impl FromStr for BackendChoice {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "wgpu" => Ok(Self::Wgpu),
            "cuda" => Ok(Self::Cuda),
            other => Err(UnknownName {
                what: "backend",
                name: other.to_string(),
                expected: "auto, cpu, wgpu or cuda",
            }),
        }
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Wgpu => "wgpu",
            Self::Cuda => "cuda",
        })
    }
}

/// A backend this build knows, and whether it can run here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendStatus {
    pub name: &'static str,
    pub available: bool,
    /// Whether `choice` selects it.
    pub selected: bool,
    /// What it uses, or why it is unavailable.
    pub detail: String,
}

/// Every backend this build knows, for `veribatch info` and the service's GetInfo.
pub fn inventory(choice: BackendChoice) -> Vec<BackendStatus> {
    let cuda = cuda_state();
    let adapters = wgpu_state();
    let cuda_selected = cuda.is_ok() && matches!(choice, BackendChoice::Auto | BackendChoice::Cuda);
    let wgpu_selected = !cuda_selected
        && match choice {
            BackendChoice::Cpu | BackendChoice::Cuda => false,
            BackendChoice::Auto => adapters.any_gpu,
            BackendChoice::Wgpu => adapters.any,
        };
    vec![
        BackendStatus {
            name: "cpu",
            available: true,
            selected: !wgpu_selected && !cuda_selected,
            detail: format!(
                "blst (BLS12-381), hashtree (SHA-256), {} threads",
                rayon::current_num_threads()
            ),
        },
        BackendStatus {
            name: "wgpu",
            available: adapters.any,
            selected: wgpu_selected,
            detail: adapters.detail,
        },
        BackendStatus {
            name: "cuda",
            available: cuda.is_ok(),
            selected: cuda_selected,
            detail: cuda.unwrap_or_else(|reason| reason.to_string()),
        },
    ]
}

/// Why a GPU backend cannot be used here.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// This build was made without the backend's cargo feature.
    #[error("not in this build (veribatch-engine's `{0}` feature is off)")]
    NotBuilt(&'static str),
    #[cfg(feature = "wgpu")]
    #[error(transparent)]
    Wgpu(#[from] wgpu::GpuError),
    #[cfg(feature = "cuda")]
    #[error(transparent)]
    Cuda(#[from] cuda::CudaError),
    /// The device opened on its own but an engine asked for it ran on the CPU instead
    /// (the log says why).
    #[error("{0} could not be opened")]
    NotOpened(&'static str),
}

/// The CUDA devices in words, or why CUDA cannot run.
#[cfg(feature = "cuda")]
fn cuda_state() -> Result<String, Unavailable> {
    let devices = cuda::availability()?;
    Ok(devices
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("; "))
}

#[cfg(not(feature = "cuda"))]
fn cuda_state() -> Result<String, Unavailable> {
    Err(Unavailable::NotBuilt("cuda"))
}

/// The wgpu adapters present.
struct Adapters {
    any: bool,
    any_gpu: bool,
    /// Each adapter in words, or why there is none.
    detail: String,
}

#[cfg(feature = "wgpu")]
fn wgpu_state() -> Adapters {
    let adapters = wgpu::adapters();
    Adapters {
        any: !adapters.is_empty(),
        any_gpu: adapters.iter().any(|a| a.is_gpu),
        detail: if adapters.is_empty() {
            "no wgpu adapter found (Vulkan, Metal or DX12 driver)".to_string()
        } else {
            adapters
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        },
    }
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_state() -> Adapters {
    Adapters {
        any: false,
        any_gpu: false,
        detail: Unavailable::NotBuilt("wgpu").to_string(),
    }
}

/// Why `choice` cannot run here, if it cannot: `--backend cuda` without a CUDA driver,
/// device or NVRTC. (`--backend wgpu` without an adapter runs on the CPU with a warning,
/// and `auto` takes whatever is present.)
pub fn check(choice: BackendChoice) -> Result<(), Unavailable> {
    match choice {
        BackendChoice::Cuda => cuda_state().map(|_| ()),
        _ => Ok(()),
    }
}

/// The backend that runs the primitives for `choice`: under `auto`, CUDA, then a GPU
/// through wgpu, then the CPU. A GPU that cannot be opened leaves the CPU in charge,
/// with a log line saying why.
pub fn select(
    choice: BackendChoice,
    thresholds: Thresholds,
    checks: DeviceChecks,
) -> Arc<dyn Backend> {
    if matches!(choice, BackendChoice::Auto | BackendChoice::Cuda) {
        if let Some(backend) = open_cuda(choice, thresholds, checks) {
            return backend;
        }
        if choice == BackendChoice::Cuda {
            return Arc::new(cpu::CpuBackend::new());
        }
    }
    match choice {
        BackendChoice::Cpu | BackendChoice::Cuda => Arc::new(cpu::CpuBackend::new()),
        BackendChoice::Auto | BackendChoice::Wgpu => open_wgpu(choice, thresholds, checks),
    }
}

/// The CUDA backend for `auto` or `cuda`, if it opens (forced, every primitive on it).
#[cfg(feature = "cuda")]
fn open_cuda(
    choice: BackendChoice,
    thresholds: Thresholds,
    checks: DeviceChecks,
) -> Option<Arc<dyn Backend>> {
    let forced = choice == BackendChoice::Cuda;
    let thresholds = if forced {
        Thresholds::ALWAYS
    } else {
        thresholds
    };
    match cuda::CudaBackend::open(thresholds, checks) {
        Ok(backend) => {
            tracing::info!(device = %backend.device().name, "using CUDA");
            Some(Arc::new(backend))
        }
        Err(error) if forced => {
            tracing::warn!(%error, "--backend cuda: running on the CPU instead");
            None
        }
        Err(error) => {
            tracing::info!(%error, "CUDA unavailable");
            None
        }
    }
}

#[cfg(not(feature = "cuda"))]
fn open_cuda(choice: BackendChoice, _: Thresholds, _: DeviceChecks) -> Option<Arc<dyn Backend>> {
    if choice == BackendChoice::Cuda {
        tracing::warn!(error = %Unavailable::NotBuilt("cuda"), "--backend cuda: running on the CPU instead");
    }
    None
}

/// The wgpu backend for `auto` (a real GPU, above the thresholds) or `wgpu` (any
/// adapter, every primitive), else the CPU.
#[cfg(feature = "wgpu")]
fn open_wgpu(
    choice: BackendChoice,
    thresholds: Thresholds,
    checks: DeviceChecks,
) -> Arc<dyn Backend> {
    let opened = match choice {
        BackendChoice::Wgpu => wgpu::WgpuBackend::open(false, Thresholds::ALWAYS, checks),
        _ => wgpu::WgpuBackend::open(true, thresholds, checks),
    };
    match opened {
        Ok(backend) => {
            tracing::info!(adapter = %backend.adapter().name, "using wgpu");
            Arc::new(backend)
        }
        Err(error) => {
            if choice == BackendChoice::Wgpu {
                tracing::warn!(%error, "--backend wgpu: running on the CPU instead");
            } else {
                tracing::info!(%error, "no GPU: running on the CPU");
            }
            Arc::new(cpu::CpuBackend::new())
        }
    }
}

#[cfg(not(feature = "wgpu"))]
fn open_wgpu(choice: BackendChoice, _: Thresholds, _: DeviceChecks) -> Arc<dyn Backend> {
    if choice == BackendChoice::Wgpu {
        tracing::warn!(error = %Unavailable::NotBuilt("wgpu"), "--backend wgpu: running on the CPU instead");
    }
    Arc::new(cpu::CpuBackend::new())
}
