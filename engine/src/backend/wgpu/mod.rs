//! The wgpu backend: SHA-256 Merkle trees (SSZ and RFC 9162), point sums, MSMs and scaling in WGSL on any
//! GPU wgpu reaches (Vulkan, Metal, DX12), with the CPU backend for everything else
//! ([`Offload`] decides which primitive runs where, and falls back on device errors).

mod convert;
mod curve;
mod device;
mod hash;
#[cfg(test)]
mod tests;

pub use device::{AdapterDescription, Gpu, GpuError, adapters};

use super::Scalars;
use super::binary_tree::TreeHash;
use super::log_tree::{Hash, PackedLeaves};
use super::offload::{Compilations, Device, DeviceChecks, Offload, Thresholds};
use crate::curves::bls12_381::p1s_to_affine;
use crate::curves::bls12_381::{G1, G1Affine, G2, G2Affine};

/// The primitives of the wgpu device, the rest on the CPU.
pub type WgpuBackend = Offload<Gpu>;

impl Offload<Gpu> {
    /// Opens the best adapter (with `gpu_only`, a real GPU only).
    pub fn open(
        gpu_only: bool,
        thresholds: Thresholds,
        checks: DeviceChecks,
    ) -> Result<Self, GpuError> {
        Ok(Self::new(Gpu::open(gpu_only)?, thresholds, checks))
    }

    pub fn adapter(&self) -> &AdapterDescription {
        self.device.adapter()
    }
}

impl Device for Gpu {
    type Error = GpuError;

    fn name(&self) -> &'static str {
        "wgpu"
    }

    fn compilations(&self) -> Compilations {
        Gpu::compilations(self)
    }

    fn hash_blocks(
        &self,
        hash: TreeHash,
        blocks: &[u8],
        digests: &mut [u8],
    ) -> Result<(), GpuError> {
        hash::hash_blocks(self, hash, blocks, digests)
    }

    fn merkle_root(&self, hash: TreeHash, chunks: &[u8], depth: u32) -> Result<[u8; 32], GpuError> {
        hash::merkle_root(self, hash, chunks, depth)
    }

    fn log_leaf_hashes(&self, leaves: &PackedLeaves) -> Result<Vec<Hash>, GpuError> {
        hash::log_leaf_hashes(self, leaves)
    }

    fn log_subtree_root(&self, leaf_hashes: &[Hash]) -> Result<Hash, GpuError> {
        hash::log_subtree_root(self, leaf_hashes)
    }

    fn g1_sum(&self, points: &[G1Affine]) -> Result<G1, GpuError> {
        curve::sum::<G1>(self, points)
    }

    fn g2_sum(&self, points: &[G2Affine]) -> Result<G2, GpuError> {
        curve::sum::<G2>(self, points)
    }

    fn g1_msm(&self, points: &[G1Affine], scalars: &Scalars) -> Result<G1, GpuError> {
        curve::msm::<G1>(self, points, scalars)
    }

    fn g2_msm(&self, points: &[G2Affine], scalars: &Scalars) -> Result<G2, GpuError> {
        curve::msm::<G2>(self, points, scalars)
    }

    fn g1_scale(&self, points: &[G1Affine], scalars: &Scalars) -> Result<Vec<G1Affine>, GpuError> {
        curve::scale::<G1>(self, points, scalars).map(|p| p1s_to_affine(&p))
    }
}

/// One WGSL module as `veribatch kernels compile` reports it.
#[derive(Clone, Debug)]
pub struct KernelReport {
    pub module: &'static str,
    /// Source files it is assembled from, under `kernels/wgsl/`.
    pub files: Vec<&'static str>,
    /// Its entry points and source lines, or naga's error.
    pub result: Result<(Vec<String>, usize), String>,
}

/// Parses and validates every WGSL module with naga; needs no adapter.
pub fn compile_kernels() -> Vec<KernelReport> {
    veribatch_kernels::wgsl::MODULES
        .iter()
        .map(|module| KernelReport {
            module: module.name,
            files: module.parts.iter().map(|p| p.path).collect(),
            result: module
                .validate()
                .map(|v| (v.entry_points, v.lines))
                .map_err(|e| e.to_string()),
        })
        .collect()
}
