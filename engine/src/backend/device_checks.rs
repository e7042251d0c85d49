//! Not trusting a device blindly: spot checks of its answers against the CPU, the
//! device's health as operators see it, and faults injected on purpose for tests.
//!
//! A device that fails with an error is easy: [`super::Offload`] runs that call on the CPU.
//! A device that answers *wrongly without an error* (a miscompiled kernel, a driver bug,
//! a planted CUBIN whose MSM returns the identity) is the dangerous one: an MSM that
//! returns the identity makes every BLS batch equation hold. So answers are recomputed on
//! the CPU: every one of the first [`SpotChecks::first`] calls of each primitive, then a
//! random one in [`SpotChecks::one_in`] (random from the OS, so a device cannot tell which
//! answers are checked). On the first mismatch the device is disabled for good: the CPU's
//! answer is used, the error is logged, and [`DeviceHealth`] says why (GetInfo, metrics).
//!
//! What that guarantees, and what not: sampling *detects* a wrong device, it does not
//! make each answer right. A device wrong on every call is caught on its first call of
//! each primitive, before any of its answers is used. A device that turns wrong after its
//! first calls, on a fraction f of them, has each wrong answer caught with probability
//! 1/one_in: it is disabled after about one_in / f calls, and every unchecked wrong answer
//! before that is used (calls already running when the device is disabled finish with
//! their answers too). The cost is one CPU computation in `one_in` (1.6% at 64).
//!
//! A device that stops answering is the watchdog's ([`super::watchdog`]): it is marked
//! *unhealthy* (not disabled: a probe that answers right brings it back).

use crate::curves::bls12_381::{G1, G1Affine, G2};
use crate::unknown_name::UnknownName;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::curves::bls12_381 as curve;

/// How often device answers are recomputed on the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpotChecks {
    /// The first calls of each primitive, all checked.
    pub first: u64,
    /// Then one call in this many, at random (1 checks every call).
    pub one_in: u64,
}

impl Default for SpotChecks {
    fn default() -> Self {
        Self {
            first: 16,
            one_in: 64,
        }
    }
}

/// A fault injected on purpose, for tests only (`VERIBATCH_INJECT_FAULT`): the device's
/// answers are replaced after it gives them, under the real routing and checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Every device call fails with an error.
    Error,
    /// Every device answer has the wrong length (scaling returns a point too few, block
    /// hashing leaves the last digest unwritten, roots lose a byte's worth of truth).
    WrongLength,
    /// Every device answer is a wrong value without an error: a point plus the
    /// generator, a digest with a flipped bit.
    WrongPoint,
    /// Every device call blocks for good, as a GPU that stopped answering does.
    Hang,
}

impl Fault {
    /// The fault `VERIBATCH_INJECT_FAULT` names, if any (tests of whole processes).
    pub fn from_env() -> Option<Self> {
        let value = std::env::var("VERIBATCH_INJECT_FAULT").ok()?;
        match value.parse() {
            Ok(fault) => {
                tracing::warn!(%value, "injecting device faults on purpose (VERIBATCH_INJECT_FAULT)");
                Some(fault)
            }
            Err(error) => {
                tracing::error!(%error, "VERIBATCH_INJECT_FAULT ignored");
                None
            }
        }
    }
}

impl FromStr for Fault {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, UnknownName> {
        match s {
            "error" => Ok(Self::Error),
            "wrong-length" => Ok(Self::WrongLength),
            "wrong-point" => Ok(Self::WrongPoint),
            "hang" => Ok(Self::Hang),
            other => Err(UnknownName {
                what: "fault",
                name: other.to_string(),
                expected: "error, wrong-length, wrong-point or hang",
            }),
        }
    }
}

/// The error an injected [`Fault::Error`] gives.
#[derive(Debug)]
pub struct InjectedError;

impl fmt::Display for InjectedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an injected fault (VERIBATCH_INJECT_FAULT)")
    }
}

/// What a device has done since it opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceHealth {
    /// Calls the device failed (error or malformed answer) and the CPU ran instead.
    pub fallbacks: u64,
    /// The latest of them: the primitive, its size and the device's error.
    pub last_fallback: Option<String>,
    /// Device answers recomputed on the CPU.
    pub spot_checks: u64,
    /// Device answers that differed from the CPU's.
    pub mismatches: u64,
    /// Why the device is no longer used, if it was disabled.
    pub disabled: Option<String>,
    /// Device calls abandoned by the watchdog (also counted in `fallbacks`).
    pub watchdog_timeouts: u64,
    /// Why the device is not used until a probe answers right, if it stopped answering.
    pub unhealthy: Option<String>,
}

impl DeviceHealth {
    /// Why the device is not in use, if it is not: `DISABLED: …` or `UNHEALTHY: …`.
    pub fn state(&self) -> Option<String> {
        match (&self.disabled, &self.unhealthy) {
            (Some(why), _) => Some(format!("DISABLED: {why}")),
            (None, Some(why)) => Some(format!("UNHEALTHY: {why}")),
            (None, None) => None,
        }
    }
}

/// The primitives a device runs, for per-primitive counts.
pub const PRIMITIVES: [&str; 11] = [
    "sha256",
    "merkle_root",
    "sm3",
    "sm3_root",
    "g1_sum",
    "g2_sum",
    "g1_msm",
    "g2_msm",
    "g1_scale",
    "log_leaves",
    "log_subtree",
];

/// The live state behind [`DeviceHealth`] and the sampling decisions.
#[derive(Debug, Default)]
pub struct Checker {
    spot: SpotChecks,
    calls: [AtomicU64; PRIMITIVES.len()],
    fallbacks: AtomicU64,
    last_fallback: Mutex<Option<String>>,
    spot_checks: AtomicU64,
    mismatches: AtomicU64,
    disabled: Mutex<Option<String>>,
    watchdog_timeouts: AtomicU64,
    probe: Mutex<Probe>,
}

/// An unhealthy device and its probes.
#[derive(Debug, Default)]
struct Probe {
    unhealthy: Option<String>,
    /// A probe call has started and not returned (it may hang as the device does).
    in_flight: bool,
    /// When the device was marked unhealthy or last probed.
    since: Option<Instant>,
}

impl Checker {
    pub fn new(spot: SpotChecks) -> Self {
        Self {
            spot,
            ..Self::default()
        }
    }

    pub fn disabled(&self) -> bool {
        self.lock().is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.disabled.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn index(primitive: &str) -> usize {
        // Every name `Offload` routes is listed, so each primitive's first calls are
        // all checked whatever the others have been called.
        PRIMITIVES
            .iter()
            .position(|p| *p == primitive)
            .unwrap_or_else(|| panic!("{primitive} is not in device_checks::PRIMITIVES"))
    }

    /// Whether this call of `primitive` is recomputed on the CPU.
    pub fn should_check(&self, primitive: &str) -> bool {
        let index = Self::index(primitive);
        let call = self.calls[index].fetch_add(1, Ordering::Relaxed);
        if call < self.spot.first || self.spot.one_in <= 1 {
            return true;
        }
        let mut draw = [0u8; 8];
        // A device must not predict which answers are checked: OS randomness. If it is
        // unavailable, check (the safe side).
        if getrandom::fill(&mut draw).is_err() {
            return true;
        }
        u64::from_le_bytes(draw).is_multiple_of(self.spot.one_in)
    }

    /// A call the CPU ran instead, and why.
    pub fn record_fallback(&self, primitive: &str, size: usize, why: &str) {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        *self.last_fallback.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(format!("{primitive} of size {size}: {why}"));
    }

    pub fn record_check(&self) {
        self.spot_checks.fetch_add(1, Ordering::Relaxed);
    }

    /// A wrong answer: the device is disabled from now on.
    pub fn record_mismatch(&self, backend: &str, primitive: &str, size: usize) {
        self.mismatches.fetch_add(1, Ordering::Relaxed);
        let reason = format!(
            "its {primitive} of size {size} differed from the CPU's: disabled, the CPU runs everything"
        );
        tracing::error!(
            backend,
            primitive,
            size,
            "device answer differs from the CPU's; device disabled"
        );
        self.lock().get_or_insert(reason);
    }

    fn probe(&self) -> std::sync::MutexGuard<'_, Probe> {
        self.probe.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the device stopped answering and no probe has brought it back yet.
    pub fn unhealthy(&self) -> bool {
        self.probe().unhealthy.is_some()
    }

    /// A call the watchdog abandoned: the device is unhealthy until a probe answers.
    pub fn record_timeout(&self, backend: &str, primitive: &str, size: usize, why: &str) {
        self.watchdog_timeouts.fetch_add(1, Ordering::Relaxed);
        self.record_fallback(primitive, size, why);
        tracing::error!(
            backend,
            primitive,
            size,
            why,
            "device call abandoned; device unhealthy"
        );
        let mut probe = self.probe();
        probe.unhealthy.get_or_insert_with(|| {
            format!("its {primitive} of size {size} gave {why}: the CPU runs everything until a probe answers")
        });
        probe.since = Some(Instant::now());
    }

    /// Whether a probe should start now (the device is unhealthy, no probe is running,
    /// and the last one was at least `interval` ago); if so, it counts as running.
    pub fn start_probe(&self, interval: std::time::Duration) -> bool {
        let mut probe = self.probe();
        let due = probe.unhealthy.is_some()
            && !probe.in_flight
            && probe.since.is_none_or(|t| t.elapsed() >= interval);
        probe.in_flight |= due;
        due
    }

    /// A probe returned: a right answer makes the device healthy again.
    pub fn finish_probe(&self, backend: &str, answered_right: bool) {
        let mut probe = self.probe();
        probe.in_flight = false;
        probe.since = Some(Instant::now());
        if answered_right && probe.unhealthy.take().is_some() {
            tracing::warn!(backend, "device answered its probe; in use again");
        }
    }

    pub fn health(&self) -> DeviceHealth {
        DeviceHealth {
            fallbacks: self.fallbacks.load(Ordering::Relaxed),
            last_fallback: self
                .last_fallback
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            spot_checks: self.spot_checks.load(Ordering::Relaxed),
            mismatches: self.mismatches.load(Ordering::Relaxed),
            disabled: self.lock().clone(),
            watchdog_timeouts: self.watchdog_timeouts.load(Ordering::Relaxed),
            unhealthy: self.probe().unhealthy.clone(),
        }
    }
}

/// Answers an injected fault can spoil.
pub trait Corrupt: Sized {
    fn corrupt(self, fault: Fault) -> Self;
}

/// A point plus the generator: wrong, and still a point.
impl Corrupt for G1 {
    fn corrupt(self, _: Fault) -> Self {
        curve::g1_add(&self, &curve::g1_generator())
    }
}

impl Corrupt for G2 {
    fn corrupt(self, _: Fault) -> Self {
        curve::g2_add(&self, &curve::g2_generator())
    }
}

impl Corrupt for Vec<G1Affine> {
    fn corrupt(mut self, fault: Fault) -> Self {
        match fault {
            Fault::WrongLength => {
                self.pop();
            }
            _ => {
                if let Some(first) = self.first_mut() {
                    *first = curve::p1_affine(&curve::g1_from_affine(first).corrupt(fault));
                }
            }
        }
        self
    }
}

impl Corrupt for Vec<u8> {
    fn corrupt(mut self, fault: Fault) -> Self {
        match fault {
            // The last digest left unwritten.
            Fault::WrongLength => {
                let keep = self.len().saturating_sub(32);
                self[keep..].fill(0);
            }
            _ => {
                if let Some(b) = self.first_mut() {
                    *b ^= 1;
                }
            }
        }
        self
    }
}

impl Corrupt for Vec<[u8; 32]> {
    fn corrupt(mut self, fault: Fault) -> Self {
        match fault {
            Fault::WrongLength => {
                self.pop();
            }
            _ => {
                if let Some(first) = self.first_mut() {
                    first[0] ^= 1;
                }
            }
        }
        self
    }
}

impl Corrupt for [u8; 32] {
    fn corrupt(mut self, _: Fault) -> Self {
        self[0] ^= 1;
        self
    }
}
