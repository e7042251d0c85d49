//! Sending primitives to an accelerator: which ones, from which size, and what happens
//! when the device fails. Written once for every GPU backend (wgpu, CUDA).
//!
//! A GPU backend implements [`Device`] for the primitives it has; [`Offload`] makes it a
//! [`Backend`]: each call goes to the device when its input reaches the primitive's
//! [`Thresholds`] (zero when the user forces the backend), else to the CPU. A device
//! error (or a malformed answer) sends that call to the CPU with a log line: the results
//! are the same and nothing is lost. Answers are spot-checked against the CPU and a device
//! that answers wrongly is disabled ([`super::device_checks`]); a call that does not
//! return in time is abandoned and the device rests until a probe answers
//! ([`super::watchdog`]). Hash-to-G2, Miller loops and final exponentiation stay on the
//! CPU.

use crate::curves::bls12_381::{Fp12, G1, G1Affine, G2, G2Affine};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::binary_tree::TreeHash;
use super::cpu::CpuBackend;
use super::device_checks::{Checker, Corrupt, DeviceHealth, Fault, InjectedError, SpotChecks};
use super::log_tree::{Hash, PackedLeaves};
use super::watchdog::{self, Abandoned, Watchdog};
use super::{Backend, Scalars};

/// The primitives a GPU runs. Every method may fail (device lost, out of memory, a
/// kernel that does not compile); the caller then runs the primitive on the CPU.
pub trait Device: Send + Sync {
    type Error: fmt::Display;

    /// The backend's name (`wgpu`, `cuda`).
    fn name(&self) -> &'static str;

    /// The kernel compilations this device has started and finished so far: a call
    /// during which one runs is given the watchdog's compile allowance
    /// ([`Watchdog::first_call`]).
    fn compilations(&self) -> Compilations;

    /// As [`Backend::hash_blocks`] (SHA-256) or [`Backend::sm3_blocks`] (SM3). On error,
    /// `digests` may be partly written.
    fn hash_blocks(
        &self,
        hash: TreeHash,
        blocks: &[u8],
        digests: &mut [u8],
    ) -> Result<(), Self::Error>;

    /// As [`Backend::tree_root`].
    fn merkle_root(
        &self,
        hash: TreeHash,
        chunks: &[u8],
        depth: u32,
    ) -> Result<[u8; 32], Self::Error>;

    /// As [`Backend::log_leaf_hashes`].
    fn log_leaf_hashes(&self, leaves: &PackedLeaves) -> Result<Vec<Hash>, Self::Error>;

    /// As [`Backend::log_subtree_root`].
    fn log_subtree_root(&self, leaf_hashes: &[Hash]) -> Result<Hash, Self::Error>;

    fn g1_sum(&self, points: &[G1Affine]) -> Result<G1, Self::Error>;

    fn g2_sum(&self, points: &[G2Affine]) -> Result<G2, Self::Error>;

    fn g1_msm(&self, points: &[G1Affine], scalars: &Scalars) -> Result<G1, Self::Error>;

    fn g2_msm(&self, points: &[G2Affine], scalars: &Scalars) -> Result<G2, Self::Error>;

    fn g1_scale(
        &self,
        points: &[G1Affine],
        scalars: &Scalars,
    ) -> Result<Vec<G1Affine>, Self::Error>;
}

/// Kernel compilations started and finished by a device (see [`Device::compilations`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Compilations {
    pub started: u64,
    pub finished: u64,
}

impl Compilations {
    /// Whether a compilation started since `before`, or is running now.
    fn since(self, before: Self) -> bool {
        self.started != before.started || self.started != self.finished
    }
}

/// The smallest input each primitive runs on the device; smaller ones stay on the CPU,
/// where they are faster (a launch and a readback cost tens of microseconds, and the
/// CPU path is blst or SHA-NI).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// 64-byte blocks (hash_blocks), chunks (merkle_root), RFC 9162 leaves
    /// (log_leaves) or leaf hashes (log_subtree); SM3's blocks and roots too (sm3,
    /// sm3_root), whose device kernels are SHA-256's with another compression.
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

    /// Sets one threshold from `NAME=N`, or `NAME=never` (the primitive stays on the
    /// CPU: where calibration found the device slower at every size).
    pub fn set(&mut self, assignment: &str) -> Result<(), ThresholdError> {
        let (name, value) = assignment
            .split_once('=')
            .ok_or_else(|| ThresholdError::NotAnAssignment(assignment.to_string()))?;
        let value: usize = match value.trim() {
            "never" => usize::MAX,
            count => count.parse().map_err(|_| ThresholdError::NotACount {
                assignment: assignment.to_string(),
                value: value.to_string(),
            })?,
        };
        let names: Vec<&str> = self.entries().iter().map(|(n, _)| *n).collect();
        let slot = self
            .slots()
            .into_iter()
            .find(|(n, _)| *n == name.trim())
            .map(|(_, slot)| slot);
        *slot.ok_or_else(|| ThresholdError::UnknownPrimitive {
            assignment: assignment.to_string(),
            known: names.join(", "),
        })? = value;
        Ok(())
    }
}

/// The longest leaf of a call of `log_leaf_hashes` sent to a device, in bytes (65
/// compressions).
const LONGEST_DEVICE_LEAF: usize = 4096;

/// Why a `NAME=N` threshold setting was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error("{0:?}: expected NAME=N")]
    NotAnAssignment(String),
    #[error("{assignment:?}: {value:?} is not a count or never")]
    NotACount { assignment: String, value: String },
    #[error("{assignment:?}: unknown primitive (expected one of {known})")]
    UnknownPrimitive { assignment: String, known: String },
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
            .map(|(n, v)| match *v {
                usize::MAX => format!("{n}=never"),
                v => format!("{n}={v}"),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

impl FromStr for Thresholds {
    type Err = ThresholdError;

    /// `NAME=N,NAME=N,…` over the defaults.
    fn from_str(s: &str) -> Result<Self, ThresholdError> {
        let mut thresholds = Self::default();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            thresholds.set(part)?;
        }
        Ok(thresholds)
    }
}

/// How a device's answers are checked, how long it may take, and (tests only) how it is
/// spoiled on purpose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceChecks {
    pub spot: SpotChecks,
    pub watchdog: Watchdog,
    /// A fault injected into every device answer: tests of the fallback and the checks.
    pub fault: Option<Fault>,
    /// A device error, timeout or wrong answer panics instead of running on the CPU:
    /// for test runs of a device, which must see every failure the fallback would hide
    /// from users (the tests set it from `VERIBATCH_STRICT_DEVICE=1`).
    pub strict: bool,
}

/// A [`Device`] for the primitives it has and the sizes where it wins; the CPU for the
/// rest, whenever the device fails, while it does not answer, and for good once it
/// answered wrongly.
#[derive(Debug)]
pub struct Offload<D> {
    /// Shared with the threads device calls run on ([`watchdog`]), which may outlive a
    /// call that was abandoned.
    pub(crate) device: Arc<D>,
    cpu: CpuBackend,
    thresholds: Thresholds,
    checker: Arc<Checker>,
    watchdog: Watchdog,
    fault: Option<Fault>,
    strict: bool,
}

/// Why a device call gave no usable answer.
enum Failure {
    /// An error, a malformed answer, a panic: the CPU runs this call.
    Error(String),
    /// No answer by the watchdog's deadline: the CPU runs this call and the device is
    /// unhealthy until a probe answers.
    TimedOut(String),
}

impl<D: Device + 'static> Offload<D> {
    pub fn new(device: D, thresholds: Thresholds, checks: DeviceChecks) -> Self {
        Self {
            device: Arc::new(device),
            cpu: CpuBackend::new(),
            thresholds,
            checker: Arc::new(Checker::new(checks.spot)),
            watchdog: checks.watchdog,
            fault: checks.fault,
            strict: checks.strict,
        }
    }

    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// `hash` of each 64-byte block of `blocks` into `digests`, on the device from the
    /// `sha256` threshold (the primitive `sha256` or `sm3`).
    fn blocks_of(&self, hash: TreeHash, blocks: &[u8], digests: &mut [u8]) {
        // The CPU writes `digests` in place; only a device answer needs a buffer of its own.
        if !self.uses_device(blocks.len() / 64, self.thresholds.sha256) {
            return hash.hash_blocks(&self.cpu, blocks, digests);
        }
        // The device writes a buffer of its own, so a failed or wrong answer never
        // reaches `digests`.
        let len = digests.len();
        let answer = self.route(
            hash.name(),
            blocks.len() / 64,
            self.thresholds.sha256,
            |out: &Vec<u8>| out.len() == len,
            || blocks.to_vec(),
            move |d, blocks| {
                let mut out = vec![0u8; len];
                d.hash_blocks(hash, blocks, &mut out).map(|()| out)
            },
            |cpu| {
                let mut out = vec![0u8; len];
                hash.hash_blocks(cpu, blocks, &mut out);
                out
            },
        );
        digests.copy_from_slice(&answer);
    }

    /// Whether a call of `size` goes to the device: it reaches the primitive's
    /// `threshold`, the device has not been disabled, and it is answering (if it is not,
    /// this may start a probe).
    fn uses_device(&self, size: usize, threshold: usize) -> bool {
        if size < threshold || self.checker.disabled() {
            return false;
        }
        if self.checker.unhealthy() {
            self.probe();
            return false;
        }
        true
    }

    /// Starts a probe of an unhealthy device if one is due, on a thread of its own: a
    /// small sum on the device, compared with the CPU's. A probe that never returns
    /// leaves the device unhealthy and no other probe starts.
    fn probe(&self) {
        if !self.checker.start_probe(self.watchdog.probe_interval) {
            return;
        }
        let (device, checker, fault) = (
            Arc::clone(&self.device),
            Arc::clone(&self.checker),
            self.fault,
        );
        let spawned = std::thread::Builder::new()
            .name("veribatch-device-probe".into())
            .spawn(move || {
                let points = probe_points();
                let expected = CpuBackend::new().g1_sum(&points);
                // A probe that panics is a failed probe, not one that runs for ever.
                let right =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match fault {
                        Some(Fault::Hang) => watchdog::hang_forever(),
                        Some(_) => false,
                        None => device.g1_sum(&points).is_ok_and(|sum| sum == expected),
                    }))
                    .unwrap_or(false);
                checker.finish_probe(device.name(), right);
            });
        if spawned.is_err() {
            self.checker.finish_probe(self.device.name(), false);
        }
    }

    /// Runs `on_device` over an owned `input` on a watched thread, with the injected
    /// fault if there is one.
    fn call_device<I, T>(
        &self,
        input: I,
        on_device: impl FnOnce(&D, &I) -> Result<T, D::Error> + Send + 'static,
    ) -> Result<T, Failure>
    where
        I: Send + 'static,
        T: Corrupt + Send + 'static,
    {
        let fault = self.fault;
        if fault == Some(Fault::Error) {
            return Err(Failure::Error(InjectedError.to_string()));
        }
        let device = Arc::clone(&self.device);
        let before = device.compilations();
        // A kernel compiled during the call (by it, or by another call it waits for)
        // takes minutes on a software device: not a hang.
        let extension = || {
            if self.device.compilations().since(before) {
                self.watchdog
                    .first_call
                    .saturating_sub(self.watchdog.deadline)
            } else {
                std::time::Duration::ZERO
            }
        };
        let answer = watchdog::call(self.watchdog.deadline, extension, move || {
            if fault == Some(Fault::Hang) {
                watchdog::hang_forever();
            }
            on_device(&device, &input).map_err(|e| e.to_string())
        });
        match answer {
            Ok(Ok(result)) => Ok(match fault {
                Some(fault) => result.corrupt(fault),
                None => result,
            }),
            Ok(Err(error)) => Err(Failure::Error(error)),
            Err(abandoned @ Abandoned::TimedOut(_)) => {
                Err(Failure::TimedOut(abandoned.to_string()))
            }
            Err(Abandoned::Failed(error)) => Err(Failure::Error(error)),
        }
    }

    /// The device's answer for `primitive` if `size` reaches its threshold, the device
    /// is trusted and answering, and the answer is well formed and survives a spot
    /// check; else the CPU's (`on_cpu`). The device works on `input()`, an owned copy of
    /// the call's input, so that a call the watchdog abandons can go on without it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn route<I, T>(
        &self,
        primitive: &str,
        size: usize,
        threshold: usize,
        well_formed: impl FnOnce(&T) -> bool,
        input: impl FnOnce() -> I,
        on_device: impl FnOnce(&D, &I) -> Result<T, D::Error> + Send + 'static,
        on_cpu: impl FnOnce(&CpuBackend) -> T,
    ) -> T
    where
        I: Send + 'static,
        T: PartialEq + Corrupt + Send + 'static,
    {
        if !self.uses_device(size, threshold) {
            return on_cpu(&self.cpu);
        }
        let backend = self.device.name();
        let error = match self.call_device(input(), on_device) {
            Ok(result) if well_formed(&result) => {
                if !self.checker.should_check(primitive) {
                    return result;
                }
                self.checker.record_check();
                let reference = on_cpu(&self.cpu);
                if result != reference {
                    self.checker.record_mismatch(backend, primitive, size);
                    assert!(
                        !self.strict,
                        "{backend}'s {primitive} of size {size} differs from the CPU's (strict device checks)"
                    );
                }
                return reference;
            }
            Ok(_) => "a malformed answer (wrong length)".to_string(),
            Err(Failure::Error(error)) => error,
            Err(Failure::TimedOut(why)) => {
                self.checker.record_timeout(backend, primitive, size, &why);
                assert!(
                    !self.strict,
                    "{backend}'s {primitive} of size {size}: {why} (strict device checks)"
                );
                return on_cpu(&self.cpu);
            }
        };
        self.checker.record_fallback(primitive, size, &error);
        assert!(
            !self.strict,
            "{backend} failed on {primitive} of size {size}: {error} (strict device checks)"
        );
        tracing::warn!(backend, primitive, size, %error, "device failed; running on the CPU instead");
        on_cpu(&self.cpu)
    }
}

/// The probe's input: the first multiples of the G1 generator.
fn probe_points() -> Vec<G1Affine> {
    use crate::curves::bls12_381::{Fr, p1s_to_affine};
    let points: Vec<G1> = (1..=8)
        .map(|k| Fr::from_u64(k).times_g1_generator())
        .collect();
    p1s_to_affine(&points)
}

impl<D: Device + 'static> Backend for Offload<D> {
    fn name(&self) -> &'static str {
        self.device.name()
    }

    fn hash_blocks(&self, blocks: &[u8], digests: &mut [u8]) {
        self.blocks_of(TreeHash::Sha256, blocks, digests);
    }

    fn sm3_blocks(&self, blocks: &[u8], digests: &mut [u8]) {
        self.blocks_of(TreeHash::Sm3, blocks, digests);
    }

    fn tree_root(&self, hash: TreeHash, chunks: &[u8], depth: u32) -> [u8; 32] {
        let primitive = match hash {
            TreeHash::Sha256 => "merkle_root",
            TreeHash::Sm3 => "sm3_root",
        };
        self.route(
            primitive,
            chunks.len() / 32,
            self.thresholds.sha256,
            |_| true,
            || chunks.to_vec(),
            move |d, chunks| d.merkle_root(hash, chunks, depth),
            |cpu| cpu.tree_root(hash, chunks, depth),
        )
    }

    fn device_health(&self) -> Option<DeviceHealth> {
        Some(self.checker.health())
    }

    fn merkle_root(&self, chunks: &[u8], depth: u32) -> [u8; 32] {
        self.tree_root(TreeHash::Sha256, chunks, depth)
    }

    fn log_leaf_hashes(&self, leaves: &PackedLeaves) -> Vec<Hash> {
        let count = leaves.len();
        // A device thread hashes one leaf: a long one would hold the device (and every
        // caller waiting for it) for as long as one thread takes, so calls with one stay
        // on the CPU's cores.
        if leaves.longest() > LONGEST_DEVICE_LEAF {
            return self.cpu.log_leaf_hashes(leaves);
        }
        self.route(
            "log_leaves",
            count,
            self.thresholds.sha256,
            |hashes: &Vec<Hash>| hashes.len() == count,
            || leaves.clone(),
            |d, leaves| d.log_leaf_hashes(leaves),
            |cpu| cpu.log_leaf_hashes(leaves),
        )
    }

    fn log_subtree_root(&self, leaf_hashes: &[Hash]) -> Hash {
        self.route(
            "log_subtree",
            leaf_hashes.len(),
            self.thresholds.sha256,
            |_| true,
            || leaf_hashes.to_vec(),
            |d, hashes| d.log_subtree_root(hashes),
            |cpu| cpu.log_subtree_root(leaf_hashes),
        )
    }

    fn g1_sum(&self, points: &[G1Affine]) -> G1 {
        self.route(
            "g1_sum",
            points.len(),
            self.thresholds.g1_sum,
            |_| true,
            || points.to_vec(),
            |d, points| d.g1_sum(points),
            |cpu| cpu.g1_sum(points),
        )
    }

    fn g2_sum(&self, points: &[G2Affine]) -> G2 {
        self.route(
            "g2_sum",
            points.len(),
            self.thresholds.g2_sum,
            |_| true,
            || points.to_vec(),
            |d, points| d.g2_sum(points),
            |cpu| cpu.g2_sum(points),
        )
    }

    fn g1_msm(&self, points: &[G1Affine], scalars: &Scalars) -> G1 {
        self.route(
            "g1_msm",
            points.len(),
            self.thresholds.g1_msm,
            |_| true,
            || (points.to_vec(), scalars.clone()),
            |d, (points, scalars)| d.g1_msm(points, scalars),
            |cpu| cpu.g1_msm(points, scalars),
        )
    }

    fn g2_msm(&self, points: &[G2Affine], scalars: &Scalars) -> G2 {
        self.route(
            "g2_msm",
            points.len(),
            self.thresholds.g2_msm,
            |_| true,
            || (points.to_vec(), scalars.clone()),
            |d, (points, scalars)| d.g2_msm(points, scalars),
            |cpu| cpu.g2_msm(points, scalars),
        )
    }

    fn g1_scale(&self, points: &[G1Affine], scalars: &Scalars) -> Vec<G1Affine> {
        self.route(
            "g1_scale",
            points.len(),
            self.thresholds.g1_scale,
            |out: &Vec<G1Affine>| out.len() == points.len(),
            || (points.to_vec(), scalars.clone()),
            |d, (points, scalars)| d.g1_scale(points, scalars),
            |cpu| cpu.g1_scale(points, scalars),
        )
    }

    fn hash_to_g2(&self, messages: &[&[u8]], dst: &[u8]) -> Vec<G2Affine> {
        self.cpu.hash_to_g2(messages, dst)
    }

    fn multi_miller_loop(&self, g1: &[G1Affine], g2: &[G2Affine]) -> Fp12 {
        self.cpu.multi_miller_loop(g1, g2)
    }

    fn final_exp_is_one(&self, f: &Fp12) -> bool {
        self.cpu.final_exp_is_one(f)
    }
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
        assert!(matches!(
            error("g3_msm=1"),
            ThresholdError::UnknownPrimitive { known, .. } if known.contains("g1_msm")
        ));
        assert_eq!(
            error("g1_msm"),
            ThresholdError::NotAnAssignment("g1_msm".into())
        );
        assert!(error("g1_msm=x").to_string().contains("not a count"));
        assert_eq!(t.to_string().parse::<Thresholds>(), Ok(t));
    }

    /// A device whose first MSM blocks until the test lets it go; everything else (and
    /// every later call) is the CPU's answer.
    struct Stalling {
        cpu: CpuBackend,
        stall: std::sync::Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    }

    impl Device for Stalling {
        type Error = String;
        fn name(&self) -> &'static str {
            "stalling"
        }
        fn compilations(&self) -> Compilations {
            Compilations::default()
        }
        fn hash_blocks(
            &self,
            hash: TreeHash,
            blocks: &[u8],
            digests: &mut [u8],
        ) -> Result<(), String> {
            hash.hash_blocks(&self.cpu, blocks, digests);
            Ok(())
        }
        fn merkle_root(
            &self,
            hash: TreeHash,
            chunks: &[u8],
            depth: u32,
        ) -> Result<[u8; 32], String> {
            Ok(self.cpu.tree_root(hash, chunks, depth))
        }
        fn log_leaf_hashes(&self, leaves: &PackedLeaves) -> Result<Vec<Hash>, String> {
            Ok(self.cpu.log_leaf_hashes(leaves))
        }
        fn log_subtree_root(&self, leaf_hashes: &[Hash]) -> Result<Hash, String> {
            Ok(self.cpu.log_subtree_root(leaf_hashes))
        }
        fn g1_sum(&self, points: &[G1Affine]) -> Result<G1, String> {
            Ok(self.cpu.g1_sum(points))
        }
        fn g2_sum(&self, points: &[G2Affine]) -> Result<G2, String> {
            Ok(self.cpu.g2_sum(points))
        }
        fn g1_msm(&self, points: &[G1Affine], scalars: &Scalars) -> Result<G1, String> {
            let stall = self.stall.lock().unwrap().take();
            if let Some(release) = stall {
                let _ = release.recv();
            }
            Ok(self.cpu.g1_msm(points, scalars))
        }
        fn g2_msm(&self, points: &[G2Affine], scalars: &Scalars) -> Result<G2, String> {
            Ok(self.cpu.g2_msm(points, scalars))
        }
        fn g1_scale(
            &self,
            points: &[G1Affine],
            scalars: &Scalars,
        ) -> Result<Vec<G1Affine>, String> {
            Ok(self.cpu.g1_scale(points, scalars))
        }
    }

    #[test]
    fn a_stalled_call_is_abandoned_and_a_probe_brings_the_device_back() {
        let (release, stall) = std::sync::mpsc::channel();
        let offload = Offload::new(
            Stalling {
                cpu: CpuBackend::new(),
                stall: std::sync::Mutex::new(Some(stall)),
            },
            Thresholds::ALWAYS,
            DeviceChecks {
                watchdog: Watchdog {
                    deadline: std::time::Duration::from_millis(50),
                    first_call: std::time::Duration::ZERO,
                    probe_interval: std::time::Duration::ZERO,
                },
                ..DeviceChecks::default()
            },
        );
        let points = probe_points();
        let scalars = Scalars::from_u64s(&[3, 5, 7, 11, 13, 17, 19, 23]);
        let expected = CpuBackend::new().g1_msm(&points, &scalars);

        assert!(
            offload.g1_msm(&points, &scalars) == expected,
            "the CPU's answer"
        );
        let health = offload.device_health().unwrap();
        assert_eq!(
            (health.watchdog_timeouts, health.fallbacks),
            (1, 1),
            "{health:?}"
        );
        let why = health.unhealthy.expect("a stalled device is unhealthy");
        assert!(why.contains("watchdog") && why.contains("g1_msm"), "{why}");
        assert_eq!(health.disabled, None, "a stall is not a wrong answer");

        // While it is unhealthy nothing goes to it; the call starts a probe (a g1_sum,
        // which this device answers) that brings it back.
        let checks = health.spot_checks;
        assert!(offload.g1_msm(&points, &scalars) == expected);
        let mut waited = 0;
        while offload.device_health().unwrap().unhealthy.is_some() {
            assert!(waited < 6000, "the probe never finished");
            std::thread::sleep(std::time::Duration::from_millis(10));
            waited += 1;
        }
        assert_eq!(
            offload.device_health().unwrap().spot_checks,
            checks,
            "nothing ran on it"
        );
        assert!(offload.g1_msm(&points, &scalars) == expected);
        assert_eq!(
            offload.device_health().unwrap().spot_checks,
            checks + 1,
            "back in use (and checked)"
        );
        drop(release);
    }
}
