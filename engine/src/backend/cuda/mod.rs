//! The CUDA backend: the GPU primitives (SHA-256 and Merkle trees, point sums, MSMs,
//! scaling) as CUDA kernels on NVIDIA GPUs, with the CPU for everything else
//! ([`Offload`] decides which primitive runs where, and falls back on device errors).
//!
//! The driver and NVRTC are loaded at run time through cudarc, so veribatch builds and
//! runs on every machine and uses CUDA where it exists. The kernels (`kernels/cuda`) are
//! compiled with NVRTC to a CUBIN for the device's exact architecture when the backend
//! opens.

mod cubin_cache;
mod device;
#[cfg(test)]
mod host_tests;
mod nvrtc;
mod nvrtc_lib;
pub mod prebuilt;
mod primitives;
#[cfg(test)]
mod tests;

pub use device::{Cuda, DeviceDescription, devices};
pub use nvrtc::{
    Output, PtxEntry, compile, library_name as nvrtc_library, ptx_entries, version as nvrtc_version,
};

use super::Scalars;
use super::binary_tree::TreeHash;
use super::log_tree::{Hash, PackedLeaves};
use super::offload::{Compilations, Device, DeviceChecks, Offload, Thresholds};
use crate::curves::bls12_381::p1s_to_affine;
use crate::curves::bls12_381::{G1, G1Affine, G2, G2Affine};

/// Why CUDA cannot run, or what failed on the device.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CudaError {
    #[error("no CUDA driver found (libcuda.so is not on the library path)")]
    NoDriver,
    #[error("the CUDA driver found no device")]
    NoDevice,
    #[error(
        "NVRTC not found (libnvrtc.so.12, libnvrtc.so.13 or libnvrtc.so): install the CUDA \
         toolkit, or `pip install nvidia-cuda-nvrtc-cu12` and add its nvidia/cuda_nvrtc/lib \
         folder to LD_LIBRARY_PATH, or use kernels compiled ahead of time (--cuda-kernels)"
    )]
    NoNvrtc,
    /// An NVRTC call failed (its name and NVRTC's description of the status).
    #[error("NVRTC: {call}: {message}")]
    Nvrtc { call: &'static str, message: String },
    /// NVRTC compiled the kernels with errors: its log.
    #[error("NVRTC could not compile the kernels for {arch}:\n{log}")]
    Compile { arch: String, log: String },
    #[error("{0:?} is not a GPU architecture: expected sm_XY, e.g. sm_80 or sm_90")]
    NotAnArchitecture(String),
    #[error("the CUDA sources: {0}")]
    Source(#[from] veribatch_kernels::cuda::SourceError),
    #[error("the CUDA sources hold a NUL byte")]
    NulInSource,
    #[error("CUDA driver: {0:?}")]
    Driver(cudarc::driver::DriverError),
    #[error("{0} items are too many for one launch")]
    TooManyItems(usize),
    #[error("a leaf of {0} bytes is more than one launch takes (2 GiB)")]
    LeafTooLarge(usize),
    /// cudarc panicked (a missing symbol in an old driver or NVRTC, say): its message.
    #[error("cudarc panicked: {0}")]
    Panicked(String),
    #[error("precompiled CUDA kernels refused: {0}")]
    Prebuilt(#[from] prebuilt::PrebuiltError),
}

/// Runs `f`, turning a panic inside cudarc (a missing symbol in an old driver or NVRTC,
/// say) into an error.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, CudaError>) -> Result<T, CudaError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into());
        Err(CudaError::Panicked(message))
    })
}

/// The CUDA device's primitives, the rest on the CPU.
pub type CudaBackend = Offload<Cuda>;

impl Offload<Cuda> {
    /// Opens the first CUDA device, compiling the kernels for it.
    pub fn open(thresholds: Thresholds, checks: DeviceChecks) -> Result<Self, CudaError> {
        Ok(Self::new(Cuda::open()?, thresholds, checks))
    }

    pub fn device(&self) -> &DeviceDescription {
        self.device.description()
    }
}

/// Whether CUDA can run here: the devices, or why not (no driver, no device, no NVRTC
/// and no precompiled kernels, precompiled kernels refused or lacking the device's
/// architecture).
pub fn availability() -> Result<Vec<DeviceDescription>, CudaError> {
    let found = devices()?;
    match kernel_dir() {
        // The backend opens the first device only.
        Some(dir) => {
            if let Some(device) = found.first() {
                prebuilt::load(&dir, &device.arch())?;
            }
        }
        None if !nvrtc::present() => return Err(CudaError::NoNvrtc),
        None => {}
    }
    Ok(found)
}

static KERNEL_DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Takes the kernels from the folder `veribatch kernels compile --target cuda --out DIR`
/// wrote instead of compiling them with NVRTC: for the whole process, set once at start
/// (`--cuda-kernels`). Without it, `VERIBATCH_CUDA_KERNELS` names the folder.
pub fn use_kernels_from(dir: std::path::PathBuf) {
    if KERNEL_DIR.set(dir).is_err() {
        tracing::warn!("the CUDA kernel folder was already chosen; keeping the first");
    }
}

/// The precompiled kernel folder in force, if any.
pub fn kernel_dir() -> Option<std::path::PathBuf> {
    KERNEL_DIR.get().cloned().or_else(prebuilt::dir_from_env)
}

impl Device for Cuda {
    type Error = CudaError;

    fn name(&self) -> &'static str {
        "cuda"
    }

    /// Every kernel is compiled (or loaded from the cache) when the device opens.
    fn compilations(&self) -> Compilations {
        Compilations::default()
    }

    fn hash_blocks(
        &self,
        hash: TreeHash,
        blocks: &[u8],
        digests: &mut [u8],
    ) -> Result<(), CudaError> {
        primitives::hash_blocks(self, hash, blocks, digests)
    }

    fn merkle_root(
        &self,
        hash: TreeHash,
        chunks: &[u8],
        depth: u32,
    ) -> Result<[u8; 32], CudaError> {
        primitives::merkle_root(self, hash, chunks, depth)
    }

    fn log_leaf_hashes(&self, leaves: &PackedLeaves) -> Result<Vec<Hash>, CudaError> {
        primitives::log_leaf_hashes(self, leaves)
    }

    fn log_subtree_root(&self, leaf_hashes: &[Hash]) -> Result<Hash, CudaError> {
        primitives::log_subtree_root(self, leaf_hashes)
    }

    fn g1_sum(&self, points: &[G1Affine]) -> Result<G1, CudaError> {
        primitives::sum::<G1>(self, points)
    }

    fn g2_sum(&self, points: &[G2Affine]) -> Result<G2, CudaError> {
        primitives::sum::<G2>(self, points)
    }

    fn g1_msm(&self, points: &[G1Affine], scalars: &Scalars) -> Result<G1, CudaError> {
        primitives::msm::<G1>(self, points, scalars)
    }

    fn g2_msm(&self, points: &[G2Affine], scalars: &Scalars) -> Result<G2, CudaError> {
        primitives::msm::<G2>(self, points, scalars)
    }

    fn g1_scale(&self, points: &[G1Affine], scalars: &Scalars) -> Result<Vec<G1Affine>, CudaError> {
        primitives::scale(self, points, scalars).map(|p| p1s_to_affine(&p))
    }
}
