//! Whole operations on an engine whose every primitive runs on the device, against an
//! engine on the CPU: BLS batches (all valid, and with bad sets to find), Merkle roots
//! and Groth16 batches. The device engine's spot checks are off, so a wrong primitive
//! shows as a wrong verdict instead of being corrected.

use std::fmt;
use std::time::Duration;

use super::inputs::{self, Expected, Rng, Validators};
use super::{Agreement, GpuBackend, Level, timed};
use crate::backend::{DeviceChecks, SpotChecks, Thresholds, Unavailable};
use crate::bls::Ciphersuite;
use crate::{Engine, EngineConfig, Verdict};

/// One whole operation of a selftest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `sets` BLS signature sets (about `bad_percent`% invalid or malformed).
    BlsBatch { sets: usize, bad_percent: u64 },
    /// The SSZ Merkle root of `chunks` random chunks.
    MerkleRoot { chunks: usize },
    /// `proofs` Groth16 proofs of the fixture key (about `bad_percent`% bad).
    Groth16Batch { proofs: usize, bad_percent: u64 },
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BlsBatch { sets, bad_percent } => {
                write!(f, "BLS batch of {sets} sets, {bad_percent}% bad")
            }
            Self::MerkleRoot { chunks } => write!(f, "Merkle root of {chunks} chunks"),
            Self::Groth16Batch {
                proofs,
                bad_percent,
            } => write!(f, "Groth16 batch of {proofs} proofs, {bad_percent}% bad"),
        }
    }
}

/// One operation's outcome.
#[derive(Clone, Debug)]
pub struct OperationCheck {
    pub operation: Operation,
    pub agreement: Agreement,
    pub device_time: Duration,
    pub cpu_time: Duration,
}

/// The operations of `level`.
pub fn operations(level: Level) -> Vec<Operation> {
    let (sets, chunks, proofs) = match level {
        Level::Quick => (64, 1 << 12, 16),
        Level::Full => (2048, 1 << 20, 256),
    };
    vec![
        Operation::BlsBatch {
            sets,
            bad_percent: 0,
        },
        Operation::BlsBatch {
            sets,
            bad_percent: 5,
        },
        Operation::MerkleRoot { chunks },
        Operation::Groth16Batch {
            proofs,
            bad_percent: 0,
        },
        Operation::Groth16Batch {
            proofs,
            bad_percent: 20,
        },
    ]
}

/// An engine with every primitive on `backend` and no spot checks, and one on the CPU.
pub struct Engines {
    device: Engine,
    cpu: Engine,
}

impl Engines {
    /// `Err` when `backend` cannot be opened (the engine would run on the CPU).
    pub fn open(backend: GpuBackend) -> Result<Self, Unavailable> {
        let device = Engine::new(&EngineConfig {
            backend: backend.choice(),
            gpu_thresholds: Thresholds::ALWAYS,
            device_checks: DeviceChecks {
                spot: SpotChecks {
                    first: 0,
                    one_in: u64::MAX,
                },
                ..DeviceChecks::default()
            },
            ..EngineConfig::default()
        });
        if device.backend().name() != backend.name() {
            return Err(Unavailable::NotOpened(backend.name()));
        }
        let cpu = Engine::new(&EngineConfig {
            backend: crate::backend::BackendChoice::Cpu,
            ..EngineConfig::default()
        });
        Ok(Self { device, cpu })
    }

    /// Runs `operation` on both engines. Verdicts must be equal and as the workload
    /// meant them; a device call that fell back to the CPU fails the operation, since
    /// the device's part was then not checked.
    pub fn check(&self, operation: &Operation) -> OperationCheck {
        let fallbacks = |engine: &Engine| engine.device_health().map_or(0, |h| h.fallbacks);
        let before = fallbacks(&self.device);
        let mut rng = Rng::new(0x5e1f_7e57 ^ operation_seed(operation));
        let ((device, expected), device_time, cpu, cpu_time) = match *operation {
            Operation::BlsBatch { sets, bad_percent } => {
                let validators = Validators::new(&self.cpu, 64, &mut rng);
                let sets =
                    inputs::signature_sets(&self.cpu, &validators, sets, 16, bad_percent, &mut rng);
                let expected: Vec<Expected> = sets.iter().map(|(_, e)| *e).collect();
                let sets: Vec<_> = sets.into_iter().map(|(s, _)| s).collect();
                let suite = Ciphersuite::ETHEREUM;
                let (d, dt) = timed(|| self.device.verify_signature_sets(&sets, &suite));
                let (c, ct) = timed(|| self.cpu.verify_signature_sets(&sets, &suite));
                ((shown(&d), Some(expected)), dt, shown(&c), ct)
            }
            Operation::MerkleRoot { chunks } => {
                let data = inputs::chunks(chunks, &mut rng);
                let root = |engine: &Engine| match engine.merkle_root(&data, None, None) {
                    Ok(root) => vec![hex::encode(root)],
                    Err(e) => vec![format!("error: {e}")],
                };
                let (d, dt) = timed(|| root(&self.device));
                let (c, ct) = timed(|| root(&self.cpu));
                ((d, None), dt, c, ct)
            }
            Operation::Groth16Batch {
                proofs,
                bad_percent,
            } => {
                let proofs = inputs::groth16_proofs(proofs, bad_percent, &mut rng);
                let expected: Vec<Expected> = proofs.iter().map(|(_, e)| *e).collect();
                let proofs: Vec<_> = proofs.into_iter().map(|(p, _)| p).collect();
                let run = |engine: &Engine| {
                    let key = engine
                        .register_groth16_key(inputs::GROTH16_KEY, None)
                        .expect("the fixture key is valid");
                    shown(&engine.verify_groth16(&key, &proofs))
                };
                let (d, dt) = timed(|| run(&self.device));
                let (c, ct) = timed(|| run(&self.cpu));
                ((d, Some(expected)), dt, c, ct)
            }
        };
        let health = self.device.device_health().unwrap_or_default();
        let agreement = if health.fallbacks > before {
            Agreement::Failed(format!(
                "the device failed and the CPU ran instead: {}",
                health.last_fallback.unwrap_or_default()
            ))
        } else if let Some(bad) = expected.and_then(|e| unexpected(&cpu, &e)) {
            Agreement::Failed(format!("the CPU's verdict {bad}"))
        } else {
            super::compare(device.iter(), cpu.iter(), |v: &String| v.clone())
        };
        OperationCheck {
            operation: *operation,
            agreement,
            device_time,
            cpu_time,
        }
    }
}

fn operation_seed(operation: &Operation) -> u64 {
    match *operation {
        Operation::BlsBatch { sets, bad_percent } => (1 << 60) ^ (sets as u64) << 8 ^ bad_percent,
        Operation::MerkleRoot { chunks } => (2 << 60) ^ chunks as u64,
        Operation::Groth16Batch {
            proofs,
            bad_percent,
        } => (3 << 60) ^ (proofs as u64) << 8 ^ bad_percent,
    }
}

/// Verdicts in words, for comparison and for a report of the first difference.
fn shown(verdicts: &[Verdict]) -> Vec<String> {
    verdicts
        .iter()
        .map(|v| match v {
            Ok(true) => "valid".to_string(),
            Ok(false) => "invalid".to_string(),
            Err(e) => format!("malformed: {e}"),
        })
        .collect()
}

/// The first verdict (in words) that is not what the workload meant, if any.
fn unexpected(verdicts: &[String], expected: &[Expected]) -> Option<String> {
    if verdicts.len() != expected.len() {
        return Some(format!(
            "count: {} for {} items",
            verdicts.len(),
            expected.len()
        ));
    }
    verdicts
        .iter()
        .zip(expected)
        .enumerate()
        .find_map(|(i, (v, e))| {
            let fits = e.matches(v == "valid", v.starts_with("malformed"));
            (!fits).then(|| format!("{v:?} for item {i} (expected {e:?})"))
        })
}
