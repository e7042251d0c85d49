//! Sending primitives to an accelerator: which ones, from which size, and what happens
//! when the device fails. Written once for every GPU backend (wgpu, CUDA).
//!
//! A GPU backend implements [`Device`] for the primitives it has; [`Offload`] makes it a
//! [`Backend`]: each call goes to the device when its input reaches the primitive's
//! [`Thresholds`] (zero when the user forces the backend), else to the CPU. A device
//! error (or a malformed answer) sends that call to the CPU with a log line: the results
//! are the same and nothing is lost. Answers are spot-checked against the CPU and a device
//! that answers wrongly is disabled ([`super::device_checks`]). Hash-to-G2, Miller loops
//! and final exponentiation stay on the CPU.

use std::fmt;
use std::str::FromStr;

use blst::{blst_fp12, blst_p1, blst_p1_affine, blst_p2, blst_p2_affine};

use super::cpu::CpuBackend;
use super::device_checks::{
    Checker, Corrupt, DeviceHealth, Fault, InjectedError, Same, SpotChecks,
};
use super::{Backend, Scalars};

/// The primitives a GPU runs. Every method may fail (device lost, out of memory, a
/// kernel that does not compile); the caller then runs the primitive on the CPU.
pub trait Device: Send + Sync {
    type Error: fmt::Display;

    /// The backend's name (`wgpu`, `cuda`).
    fn name(&self) -> &'static str;

    /// As [`Backend::hash_blocks`]. On error, `digests` may be partly written.
    fn hash_blocks(&self, blocks: &[u8], digests: &mut [u8]) -> Result<(), Self::Error>;

    /// As [`Backend::merkle_root`].
    fn merkle_root(&self, chunks: &[u8], depth: u32) -> Result<[u8; 32], Self::Error>;

    fn g1_sum(&self, points: &[blst_p1_affine]) -> Result<blst_p1, Self::Error>;

    fn g2_sum(&self, points: &[blst_p2_affine]) -> Result<blst_p2, Self::Error>;

    fn g1_msm(&self, points: &[blst_p1_affine], scalars: &Scalars) -> Result<blst_p1, Self::Error>;

    fn g2_msm(&self, points: &[blst_p2_affine], scalars: &Scalars) -> Result<blst_p2, Self::Error>;

    fn g1_scale(
        &self,
        points: &[blst_p1_affine],
        scalars: &Scalars,
    ) -> Result<Vec<blst_p1_affine>, Self::Error>;
}

/// The smallest input each primitive runs on the device; smaller ones stay on the CPU,
/// where they are faster (a launch and a readback cost tens of microseconds, and the
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
    /// Every primitive on the device, whatever its size (`--backend wgpu|cuda`).
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
/// docs/PERFORMANCE.md for how to measure them).
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

/// How a device's answers are checked, and (tests only) spoiled on purpose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceChecks {
    pub spot: SpotChecks,
    /// A fault injected into every device answer: tests of the fallback and the checks.
    pub fault: Option<Fault>,
}

/// A [`Device`] for the primitives it has and the sizes where it wins; the CPU for the
/// rest, whenever the device fails, and for good once it answered wrongly.
#[derive(Debug)]
pub struct Offload<D> {
    pub(crate) device: D,
    cpu: CpuBackend,
    thresholds: Thresholds,
    checker: Checker,
    fault: Option<Fault>,
}

impl<D: Device> Offload<D> {
    pub fn new(device: D, thresholds: Thresholds, checks: DeviceChecks) -> Self {
        Self {
            device,
            cpu: CpuBackend::new(),
            thresholds,
            checker: Checker::new(checks.spot),
            fault: checks.fault,
        }
    }

    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// Whether a call of `size` goes to the device: it reaches the primitive's
    /// `threshold` and the device has not been disabled.
    fn uses_device(&self, size: usize, threshold: usize) -> bool {
        size >= threshold && !self.checker.disabled()
    }

    /// The device's answer for `primitive` if `size` reaches its threshold, the device
    /// is still trusted, and the answer is well formed and survives a spot check; else
    /// the CPU's (`on_cpu`).
    pub(crate) fn route<T: Same + Corrupt>(
        &self,
        primitive: &str,
        size: usize,
        threshold: usize,
        well_formed: impl FnOnce(&T) -> bool,
        on_device: impl FnOnce(&D) -> Result<T, D::Error>,
        on_cpu: impl FnOnce(&CpuBackend) -> T,
    ) -> T {
        if !self.uses_device(size, threshold) {
            return on_cpu(&self.cpu);
        }
        let backend = self.device.name();
        let answer = match self.fault {
            Some(Fault::Error) => Err(InjectedError.to_string()),
            fault => on_device(&self.device)
                .map(|r| match fault {
                    Some(f) => r.corrupt(f),
                    None => r,
                })
                .map_err(|e| e.to_string()),
        };
        let error = match answer {
            Ok(result) if well_formed(&result) => {
                if !self.checker.should_check(primitive) {
                    return result;
                }
                self.checker.record_check();
                let reference = on_cpu(&self.cpu);
                if !result.same(&reference) {
                    self.checker.record_mismatch(backend, primitive, size);
                    assert!(
                        !strict(),
                        "{backend}'s {primitive} of size {size} differs from the CPU's (VERIBATCH_STRICT_DEVICE is set)"
                    );
                }
                return reference;
            }
            Ok(_) => "a malformed answer (wrong length)".to_string(),
            Err(error) => error,
        };
        self.checker.record_fallback();
        assert!(
            !strict(),
            "{backend} failed on {primitive} of size {size}: {error} (VERIBATCH_STRICT_DEVICE is set)"
        );
        tracing::warn!(backend, primitive, size, %error, "device failed; running on the CPU instead");
        on_cpu(&self.cpu)
    }
}

impl<D: Device> Backend for Offload<D> {
    fn name(&self) -> &'static str {
        self.device.name()
    }

    fn hash_blocks(&self, blocks: &[u8], digests: &mut [u8]) {
        // The CPU writes `digests` in place; only a device answer needs a buffer of its own.
        if !self.uses_device(blocks.len() / 64, self.thresholds.sha256) {
            return self.cpu.hash_blocks(blocks, digests);
        }
        // The device writes a buffer of its own, so a failed or wrong answer never
        // reaches `digests`.
        let len = digests.len();
        let answer = self.route(
            "sha256",
            blocks.len() / 64,
            self.thresholds.sha256,
            |out: &Vec<u8>| out.len() == len,
            |d| {
                let mut out = vec![0u8; len];
                d.hash_blocks(blocks, &mut out).map(|()| out)
            },
            |cpu| {
                let mut out = vec![0u8; len];
                cpu.hash_blocks(blocks, &mut out);
                out
            },
        );
        digests.copy_from_slice(&answer);
    }

    fn device_health(&self) -> Option<DeviceHealth> {
        Some(self.checker.health())
    }

    fn merkle_root(&self, chunks: &[u8], depth: u32) -> [u8; 32] {
        self.route(
            "merkle_root",
            chunks.len() / 32,
            self.thresholds.sha256,
            |_| true,
            |d| d.merkle_root(chunks, depth),
            |cpu| cpu.merkle_root(chunks, depth),
        )
    }

    fn g1_sum(&self, points: &[blst_p1_affine]) -> blst_p1 {
        self.route(
            "g1_sum",
            points.len(),
            self.thresholds.g1_sum,
            |_| true,
            |d| d.g1_sum(points),
            |cpu| cpu.g1_sum(points),
        )
    }

    fn g2_sum(&self, points: &[blst_p2_affine]) -> blst_p2 {
        self.route(
            "g2_sum",
            points.len(),
            self.thresholds.g2_sum,
            |_| true,
            |d| d.g2_sum(points),
            |cpu| cpu.g2_sum(points),
        )
    }

    fn g1_msm(&self, points: &[blst_p1_affine], scalars: &Scalars) -> blst_p1 {
        self.route(
            "g1_msm",
            points.len(),
            self.thresholds.g1_msm,
            |_| true,
            |d| d.g1_msm(points, scalars),
            |cpu| cpu.g1_msm(points, scalars),
        )
    }

    fn g2_msm(&self, points: &[blst_p2_affine], scalars: &Scalars) -> blst_p2 {
        self.route(
            "g2_msm",
            points.len(),
            self.thresholds.g2_msm,
            |_| true,
            |d| d.g2_msm(points, scalars),
            |cpu| cpu.g2_msm(points, scalars),
        )
    }

    fn g1_scale(&self, points: &[blst_p1_affine], scalars: &Scalars) -> Vec<blst_p1_affine> {
        self.route(
            "g1_scale",
            points.len(),
            self.thresholds.g1_scale,
            |out: &Vec<blst_p1_affine>| out.len() == points.len(),
            |d| d.g1_scale(points, scalars),
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

/// Whether VERIBATCH_STRICT_DEVICE is set: the GPU test runs of ci/test.sh and
/// ci/gpu-test.sh make a device error fail the test instead of being hidden by the
/// CPU fallback.
fn strict() -> bool {
    static STRICT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("VERIBATCH_STRICT_DEVICE").is_some_and(|v| v == "1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse_and_reject_unknown_names() {
        let t: Thresholds = "g1_msm=5, sha256=0".parse().expect("valid");
        assert_eq!((t.g1_msm, t.sha256), (5, 0));
        assert_eq!(t.g2_msm, Thresholds::default().g2_msm);
        let error = |s: &str| s.parse::<Thresholds>().unwrap_err();
        assert!(error("g3_msm=1").contains("unknown primitive"));
        assert!(error("g1_msm").contains("NAME=N"));
        assert!(error("g1_msm=x").contains("not a count"));
        assert_eq!(t.to_string().parse::<Thresholds>(), Ok(t));
    }
}
