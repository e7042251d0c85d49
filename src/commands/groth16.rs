//! `veribatch groth16 verify|verify-batch`: Groth16 proofs on BLS12-381.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use serde_json::Value;
use veribatch_engine::error::Field;
use veribatch_engine::groth16::formats::public_inputs_from_json;
use veribatch_engine::groth16::{DegenerateKeys, KeyFormat, PreparedKey};
use veribatch_engine::{Engine, ProofInput, Verdict};

use super::{BackendArgs, Connection, RemoteArgs};
use crate::input::{self, Record};
use crate::output::{self, BatchJob, CommandResult, Outcome, outln};

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
        /// Exit 0 on an input with no proofs (otherwise exit 2: nothing verified is not
        /// success).
        #[arg(long)]
        allow_empty: bool,
        /// The input file, or - for stdin.
        file: PathBuf,
    },
}

#[derive(Args)]
pub struct KeyArgs {
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    remote: RemoteArgs,
    /// Key format: snarkjs, arkworks or bellman [default: detected]. Proofs' format is
    /// always told from their own bytes.
    #[arg(long)]
    format: Option<KeyFormat>,
    /// Accept a key that lets anyone forge proofs (gamma = delta, an IC point at
    /// infinity, ...), for studying broken setups; its verdicts prove nothing.
    #[arg(long, conflicts_with = "remote")]
    allow_degenerate_key: bool,
}

/// Where proofs for the loaded key are verified.
enum KeyedVerifier {
    Local(Engine, Arc<PreparedKey>),
    Remote(Box<Connection>, Vec<u8>),
}

impl KeyedVerifier {
    fn verify(&self, proofs: &[ProofInput]) -> Result<Vec<Verdict>, String> {
        match self {
            Self::Local(engine, key) => Ok(engine.verify_groth16(key, proofs)),
            Self::Remote(service, key_id) => {
                service.call(async |r| r.verify_groth16(key_id, proofs).await)
            }
        }
    }
}

impl KeyArgs {
    /// Reads and registers the key, in-process or with the service.
    fn load(&self, vk: &Path) -> Result<KeyedVerifier, String> {
        let bytes = input::read(vk)?;
        match self.remote.connect()? {
            Some(service) => {
                let id = service
                    .call(async |r| r.register_key(bytes, self.format).await)
                    .map_err(|e| format!("{}: {e}", vk.display()))?;
                Ok(KeyedVerifier::Remote(Box::new(service), id))
            }
            None => {
                let mut config = self.backend.engine_config();
                if self.allow_degenerate_key {
                    config.degenerate_groth16_keys = DegenerateKeys::Accept;
                }
                let engine = self.backend.engine_with(&config)?;
                let key = engine
                    .register_groth16_key(&bytes, self.format)
                    .map_err(|e| format!("{}: {e}", vk.display()))?;
                if let Some(defect) = key.key().defect() {
                    eprintln!(
                        "warning: {}: {defect}; accepted as asked, so no verdict for it proves anything",
                        vk.display()
                    );
                }
                Ok(KeyedVerifier::Local(engine, key))
            }
        }
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
            let verifier = key.load(&vk)?;
            let public: Value = serde_json::from_slice(&input::read(&public)?)
                .map_err(|e| format!("{}: not valid JSON: {e}", public.display()))?;
            let input = ProofInput {
                proof: proof_bytes(input::read(&proof)?)?,
                public_inputs: public_inputs(&public)?,
            };
            let verdict = verifier.verify(&[input])?.remove(0);
            let valid = match output::describe(verdict, &rename) {
                Ok(valid) => valid,
                Err(e) => {
                    eprintln!("malformed: {e}");
                    false
                }
            };
            outln!("{}", if valid { "OK" } else { "INVALID" });
            Ok(Outcome::from_valid(valid))
        }
        Groth16Command::VerifyBatch {
            key,
            vk,
            output,
            allow_empty,
            file,
        } => {
            let verifier = key.load(&vk)?;
            BatchJob {
                what: "proofs",
                per_batch: PROOFS_PER_BATCH,
                allow_empty,
                output: output.as_deref(),
                parse: &parse_record,
                verify: &|proofs| verifier.verify(proofs),
                rename: &rename,
            }
            .run(&file)
        }
    }
}

/// The engine's fields as the batch file spells them.
fn rename(field: Field) -> &'static str {
    match field {
        Field::PublicInputs => "public",
        other => other.name(),
    }
}

/// A binary proof may be stored raw or as 0x-hex text; JSON proofs pass unchanged.
fn proof_bytes(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    match std::str::from_utf8(&bytes).map(str::trim) {
        Ok(text) if text.starts_with("0x") => input::hex(text).map_err(|e| format!("proof: {e}")),
        _ => Ok(bytes),
    }
}

/// Public inputs as the engine takes them, from a JSON array of decimal or 0x-hex strings.
fn public_inputs(value: &Value) -> Result<Vec<Vec<u8>>, String> {
    public_inputs_from_json(value)
        .map(|inputs| inputs.iter().map(|x| x.to_vec()).collect())
        .map_err(|e| e.to_string())
}

/// One batch record: {"proof": <object or hex string>, "public": [...]}.
fn parse_record(record: &Record) -> Result<ProofInput, String> {
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
