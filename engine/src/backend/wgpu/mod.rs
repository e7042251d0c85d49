//! The wgpu backend: SHA-256 Merkle trees, point sums, MSMs and scaling in WGSL on any
//! GPU wgpu reaches (Vulkan, Metal, DX12), with the CPU backend for everything else.
//!
//! Each primitive goes to the device when its input is at least the size in
//! [`Thresholds`] (zero when the user forces `--backend wgpu`), else to the CPU. A device
//! error falls back to the CPU for that call, with a log line: the results are the same
//! and nothing is lost.

mod convert;
mod curve;
mod device;
mod hash;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use blst::{blst_fp12, blst_p1, blst_p1_affine, blst_p2, blst_p2_affine};

pub use device::{AdapterDescription, GpuError, adapters};

use super::cpu::CpuBackend;
use super::{Backend, Scalars};
use crate::points::p1s_to_affine;
use convert::{G1, G2};
use device::Gpu;

/// The smallest input each primitive runs on the device; smaller ones stay on the CPU,
/// where they are faster (a dispatch and a readback cost tens of microseconds, and the
/// CPU path is blst or SHA-NI).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// 64-byte blocks (hash_blocks) or chunks (merkle_root).
    pub sha256: usize,
    pub g1_sum: usize,
    pub g2_sum: usize,
    pub g1_msm: usize,
    pub g2_msm: usize,
    pub g1_scale: usize,
}

impl Thresholds {
    /// Every primitive on the device, whatever its size (`--backend wgpu`).
    pub const ALWAYS: Self = Self {
        sha256: 0,
        g1_sum: 0,
        g2_sum: 0,
        g1_msm: 0,
        g2_msm: 0,
        g1_scale: 0,
    };

    /// Each primitive's name (as `--gpu-threshold NAME=N` takes it) and threshold: the
    /// one list of names.
    fn slots(&mut self) -> [(&'static str, &mut usize); 6] {
        [
            ("sha256", &mut self.sha256),
            ("g1_sum", &mut self.g1_sum),
            ("g2_sum", &mut self.g2_sum),
            ("g1_msm", &mut self.g1_msm),
            ("g2_msm", &mut self.g2_msm),
            ("g1_scale", &mut self.g1_scale),
        ]
    }

    fn entries(&self) -> [(&'static str, usize); 6] {
        let mut copy = *self;
        copy.slots().map(|(name, value)| (name, *value))
    }

    /// Sets one threshold from `NAME=N`.
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (name, value) = assignment
            .split_once('=')
            .ok_or_else(|| format!("{assignment:?}: expected NAME=N"))?;
        let value: usize = value
            .trim()
            .parse()
            .map_err(|_| format!("{assignment:?}: {value:?} is not a count"))?;
        let names: Vec<&str> = self.entries().iter().map(|(n, _)| *n).collect();
        let slot = self
            .slots()
            .into_iter()
            .find(|(n, _)| *n == name.trim())
            .map(|(_, slot)| slot);
        *slot.ok_or_else(|| {
            format!(
                "{assignment:?}: unknown primitive (expected one of {})",
                names.join(", ")
            )
        })? = value;
        Ok(())
    }
}

/// Defaults for `--backend auto` on a real GPU. They are the crossover points published
/// for GPU SHA-256 and MSM work (a GPU wins from tens of thousands of hashes and from
/// about 2^12 points); they were not measured on a GPU by this project (see
/// docs/PERFORMANCE.md for how to measure them with `cargo bench`).
impl Default for Thresholds {
    fn default() -> Self {
        Self {
            sha256: 1 << 16,
            g1_sum: 1 << 14,
            g2_sum: 1 << 13,
            g1_msm: 1 << 12,
            g2_msm: 1 << 11,
            g1_scale: 1 << 12,
        }
    }
}

impl fmt::Display for Thresholds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .entries()
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        f.write_str(&parts.join(","))
    }
}

impl FromStr for Thresholds {
    type Err = String;

    /// `NAME=N,NAME=N,…` over the defaults.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut thresholds = Self::default();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            thresholds.set(part)?;
        }
        Ok(thresholds)
    }
}

/// Runs the primitives it has on a wgpu device, the rest on the CPU.
#[derive(Debug)]
pub struct WgpuBackend {
    gpu: Gpu,
    cpu: CpuBackend,
    thresholds: Thresholds,
}

impl WgpuBackend {
    /// Opens the best adapter (with `gpu_only`, a real GPU only).
    pub fn open(gpu_only: bool, thresholds: Thresholds) -> Result<Self, GpuError> {
        Ok(Self {
            gpu: Gpu::open(gpu_only)?,
            cpu: CpuBackend::new(),
            thresholds,
        })
    }

    pub fn adapter(&self) -> &AdapterDescription {
        self.gpu.adapter()
    }

    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// `on_gpu` if `size` reaches the primitive's threshold and the device succeeds,
    /// else `on_cpu`.
    fn route<T>(
        &self,
        primitive: &str,
        size: usize,
        threshold: usize,
        on_gpu: impl FnOnce(&Gpu) -> Result<T, GpuError>,
        on_cpu: impl FnOnce(&CpuBackend) -> T,
    ) -> T {
        if size >= threshold {
            match on_gpu(&self.gpu) {
                Ok(result) => return result,
                Err(error) => {
                    tracing::warn!(primitive, size, %error, "wgpu failed; running on the CPU instead");
                }
            }
        }
        on_cpu(&self.cpu)
    }
}

impl Backend for WgpuBackend {
    fn name(&self) -> &'static str {
        "wgpu"
    }

    fn hash_blocks(&self, blocks: &[u8], digests: &mut [u8]) {
        // A failed device job may have written some digests: the CPU rewrites them all.
        let on_device = self.route(
            "sha256",
            blocks.len() / 64,
            self.thresholds.sha256,
            |gpu| hash::hash_blocks(gpu, blocks, digests).map(|()| true),
            |_| false,
        );
        if !on_device {
            self.cpu.hash_blocks(blocks, digests);
        }
    }

    fn merkle_root(&self, chunks: &[u8], depth: u32) -> [u8; 32] {
        self.route(
            "merkle_root",
            chunks.len() / 32,
            self.thresholds.sha256,
            |gpu| hash::merkle_root(gpu, chunks, depth),
            |cpu| cpu.merkle_root(chunks, depth),
        )
    }

    fn g1_sum(&self, points: &[blst_p1_affine]) -> blst_p1 {
        self.route(
            "g1_sum",
            points.len(),
            self.thresholds.g1_sum,
            |gpu| curve::sum::<G1>(gpu, points),
            |cpu| cpu.g1_sum(points),
        )
    }

    fn g2_sum(&self, points: &[blst_p2_affine]) -> blst_p2 {
        self.route(
            "g2_sum",
            points.len(),
            self.thresholds.g2_sum,
            |gpu| curve::sum::<G2>(gpu, points),
            |cpu| cpu.g2_sum(points),
        )
    }

    fn g1_msm(&self, points: &[blst_p1_affine], scalars: &Scalars) -> blst_p1 {
        self.route(
            "g1_msm",
            points.len(),
            self.thresholds.g1_msm,
            |gpu| curve::msm::<G1>(gpu, points, scalars),
            |cpu| cpu.g1_msm(points, scalars),
        )
    }

    fn g2_msm(&self, points: &[blst_p2_affine], scalars: &Scalars) -> blst_p2 {
        self.route(
            "g2_msm",
            points.len(),
            self.thresholds.g2_msm,
            |gpu| curve::msm::<G2>(gpu, points, scalars),
            |cpu| cpu.g2_msm(points, scalars),
        )
    }

    fn g1_scale(&self, points: &[blst_p1_affine], scalars: &Scalars) -> Vec<blst_p1_affine> {
        self.route(
            "g1_scale",
            points.len(),
            self.thresholds.g1_scale,
            |gpu| curve::scale::<G1>(gpu, points, scalars).map(|p| p1s_to_affine(&p)),
            |cpu| cpu.g1_scale(points, scalars),
        )
    }

    fn hash_to_g2(&self, messages: &[&[u8]], dst: &[u8]) -> Vec<blst_p2_affine> {
        self.cpu.hash_to_g2(messages, dst)
    }

    fn multi_miller_loop(&self, g1: &[blst_p1_affine], g2: &[blst_p2_affine]) -> blst_fp12 {
        self.cpu.multi_miller_loop(g1, g2)
    }

    fn final_exp_is_one(&self, f: &blst_fp12) -> bool {
        self.cpu.final_exp_is_one(f)
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
