//! `veribatch groth16 verify|verify-batch`: Groth16 proofs on BLS12-381.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use clap::{Args, Subcommand};
use serde_json::Value;
use veribatch_engine::groth16::{KeyFormat, PreparedKey, parse_decimal};
use veribatch_engine::{Engine, ProofInput};

use super::BackendArgs;
use crate::input;
use crate::output::{self, CommandResult, Outcome, VerdictWriter};

/// Proofs verified per engine call.
const PROOFS_PER_BATCH: usize = 4096;

#[derive(Subcommand)]
pub enum Groth16Command {
    /// Verify one proof (snarkjs's argument order): prints OK or INVALID.
    Verify {
        #[command(flatten)]
        key: KeyArgs,
        /// Verifying key file (snarkjs verification_key.json, arkworks or bellman bytes).
        vk: PathBuf,
        /// Public inputs: a JSON array of decimal strings (snarkjs public.json) or 0x-hex.
        public: PathBuf,
        /// Proof file: snarkjs proof.json, or 192 bytes (raw or 0x-hex) for arkworks/bellman.
        proof: PathBuf,
    },
    /// Verify many proofs for one key from FILE: NDJSON (or a JSON array) of
    /// {"proof": <proof.json object, or 0x-hex bytes>, "public": [...]}.
    /// Prints one {"index":N,"valid":…,"error":…} line per proof, in input order.
    VerifyBatch {
        #[command(flatten)]
        key: KeyArgs,
        /// Verifying key file.
        #[arg(long)]
        vk: PathBuf,
        /// Write verdicts here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// The input file, or - for stdin.
        file: PathBuf,
    },
}

#[derive(Args)]
pub struct KeyArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// Key and proof format: snarkjs, arkworks or bellman [default: detected from the key].
    #[arg(long)]
    format: Option<KeyFormat>,
}

impl KeyArgs {
    fn load(&self, vk: &Path) -> Result<(Engine, Arc<PreparedKey>), String> {
        let engine = self.backend.engine();
        let key = engine
            .register_groth16_key(&input::read(vk)?, self.format)
            .map_err(|e| format!("{}: {e}", vk.display()))?;
        Ok((engine, key))
    }
}

pub fn run(command: Groth16Command) -> CommandResult {
    match command {
        Groth16Command::Verify {
            key,
            vk,
            public,
            proof,
        } => {
            let (engine, key) = key.load(&vk)?;
            let public: Value = serde_json::from_slice(&input::read(&public)?)
                .map_err(|e| format!("{}: not valid JSON: {e}", public.display()))?;
            let input = ProofInput {
                proof: proof_bytes(input::read(&proof)?),
                public_inputs: public_inputs(&public)?,
            };
            let verdict = engine.verify_groth16(&key, &[input]).remove(0);
            let valid = match output::describe(verdict, &rename) {
                Ok(valid) => valid,
                Err(e) => {
                    eprintln!("malformed: {e}");
                    false
                }
            };
            println!("{}", if valid { "OK" } else { "INVALID" });
            Ok(Outcome::from_valid(valid))
        }
        Groth16Command::VerifyBatch {
            key,
            vk,
            output: out,
            file,
        } => {
            let (engine, key) = key.load(&vk)?;
            let records = input::records(&input::read(&file)?)?;
            let interrupted = output::interrupt_flag();
            let mut writer = VerdictWriter::create(out.as_deref())?;
            let bar = output::progress(records.len(), "proofs");
            for (batch_no, batch) in records.chunks(PROOFS_PER_BATCH).enumerate() {
                if interrupted.load(Ordering::SeqCst) {
                    break;
                }
                let parsed: Vec<Result<ProofInput, String>> =
                    batch.iter().map(parse_record).collect();
                let inputs: Vec<ProofInput> =
                    parsed.iter().filter_map(|p| p.clone().ok()).collect();
                let mut verdicts = engine.verify_groth16(&key, &inputs).into_iter();
                for (offset, p) in parsed.iter().enumerate() {
                    let verdict = match p {
                        Ok(_) => {
                            output::describe(verdicts.next().expect("one verdict each"), &rename)
                        }
                        Err(e) => Err(e.clone()),
                    };
                    writer.write(batch_no * PROOFS_PER_BATCH + offset, &verdict)?;
                }
                bar.inc(batch.len() as u64);
            }
            bar.finish_and_clear();
            let tally = writer.finish()?;
            eprintln!(
                "{} proofs: {} valid, {} invalid, {} malformed",
                tally.total(),
                tally.valid,
                tally.invalid,
                tally.malformed
            );
            if tally.total() < records.len() {
                return Ok(Outcome::Interrupted);
            }
            Ok(Outcome::from_valid(tally.all_valid()))
        }
    }
}

/// The engine's field names as the batch file spells them.
fn rename(field: &str) -> &str {
    match field {
        "public_inputs" => "public",
        other => other,
    }
}

/// A binary proof may be stored raw or as 0x-hex text; JSON proofs pass unchanged.
fn proof_bytes(bytes: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8_lossy(&bytes);
    let trimmed = text.trim();
    match trimmed.strip_prefix("0x").map(hex::decode) {
        Some(Ok(decoded)) => decoded,
        _ => bytes,
    }
}

/// Public inputs from a JSON array of decimal strings (snarkjs) or 0x-hex strings, as
/// 32-byte big-endian integers. Whether each is below r is the engine's check.
fn public_inputs(value: &Value) -> Result<Vec<Vec<u8>>, String> {
    let items = value
        .as_array()
        .ok_or("public: expected a JSON array of decimal or 0x-hex strings")?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let text = item
                .as_str()
                .ok_or_else(|| format!("public[{i}]: expected a string"))?;
            if text.starts_with("0x") {
                let bytes = input::hex(text).map_err(|e| format!("public[{i}]: {e}"))?;
                if bytes.len() > 32 {
                    return Err(format!("public[{i}]: more than 32 bytes"));
                }
                let mut out = vec![0u8; 32 - bytes.len()];
                out.extend(bytes);
                Ok(out)
            } else {
                parse_decimal(text).map(|b| b.to_vec()).ok_or_else(|| {
                    format!("public[{i}]: {text:?} is not a decimal integer below 2^256")
                })
            }
        })
        .collect()
}

/// One batch record: {"proof": <object or hex string>, "public": [...]}.
fn parse_record(record: &Result<Value, String>) -> Result<ProofInput, String> {
    let obj = record.as_ref().map_err(Clone::clone)?;
    let proof = match obj.get("proof") {
        Some(Value::String(s)) => input::hex(s).map_err(|e| format!("proof: {e}"))?,
        Some(v @ Value::Object(_)) => v.to_string().into_bytes(),
        Some(_) => return Err("proof: expected a proof.json object or a hex string".into()),
        None => return Err("missing field \"proof\"".into()),
    };
    let public = obj.get("public").ok_or("missing field \"public\"")?;
    Ok(ProofInput {
        proof,
        public_inputs: public_inputs(public)?,
    })
}
