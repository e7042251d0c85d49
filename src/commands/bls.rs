//! `veribatch verify bls`: signature sets from a file, one verdict line per set.

use std::path::PathBuf;

use clap::Args;
use veribatch_engine::bls::{Ciphersuite, ETH_DST, Scheme, SignatureSet};
use veribatch_engine::error::Field;

use super::{BackendArgs, RemoteArgs};
use crate::input::{self, Record};
use crate::output::{BatchJob, CommandResult, VerifyFn};

/// Sets verified per engine call: large enough for batching to pay, small enough for
/// steady progress and a prompt stop on Ctrl-C.
const SETS_PER_BATCH: usize = 8192;

/// The flags of `verify bls`.
#[derive(Args)]
pub struct BlsArgs {
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    remote: RemoteArgs,
    /// Domain separation tag: text, or hex with a 0x prefix [default: Ethereum's
    /// BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_].
    #[arg(long)]
    dst: Option<String>,
    /// The BLS scheme: basic (distinct messages required), aug (each key signed its
    /// own encoding followed by the message) or pop (proof of possession, Ethereum's)
    /// [default: the one the tag's suffix _NUL_, _AUG_ or _POP_ names].
    #[arg(long)]
    scheme: Option<Scheme>,
    /// Write verdicts here instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Exit 0 on an input with no sets (otherwise exit 2: nothing verified is not
    /// success).
    #[arg(long)]
    allow_empty: bool,
    /// The input file, or - for stdin.
    file: PathBuf,
}

pub fn run(args: BlsArgs) -> CommandResult {
    let BlsArgs {
        backend,
        remote,
        dst,
        scheme,
        output,
        allow_empty,
        file,
    } = args;
    let dst = match dst {
        None => ETH_DST.to_vec(),
        Some(d) if d.starts_with("0x") => input::hex(&d).map_err(|e| format!("--dst: {e}"))?,
        Some(d) => d.into_bytes(),
    };
    let suite = Ciphersuite::new(dst, scheme).map_err(|e| match e.field {
        Field::Scheme => format!("--scheme: {}", e.kind),
        _ => format!("--dst: {}", e.kind),
    })?;
    let job = |verify: &VerifyFn<'_, SignatureSet>| {
        BatchJob {
            what: "sets",
            per_batch: SETS_PER_BATCH,
            allow_empty,
            output: output.as_deref(),
            parse: &parse_set,
            verify,
            rename: &rename,
        }
        .run(&file)
    };
    match remote.connect()? {
        Some(service) => {
            job(&|sets| service.call(async |r| r.verify_signature_sets(sets, &suite).await))
        }
        None => {
            let engine = backend.engine()?;
            job(&|sets| Ok(engine.verify_signature_sets(sets, &suite)))
        }
    }
}

/// The engine's fields as the input file spells them.
fn rename(field: Field) -> &'static str {
    match field {
        Field::PublicKeys => "pubkeys",
        other => other.name(),
    }
}

/// One set from its JSON record.
fn parse_set(record: &Record) -> Result<SignatureSet, String> {
    SignatureSet::from_json(record.as_ref().map_err(Clone::clone)?).map_err(|e| e.to_string())
}
