//! `veribatch verify sm2`: SM2 signatures from a file, one verdict line per signature.

use std::path::PathBuf;

use clap::Args;
use veribatch_engine::error::Field;
use veribatch_engine::sm2::Sm2Item;

use super::{BackendArgs, RemoteArgs};
use crate::input::Record;
use crate::output::{BatchJob, CommandResult, VerifyFn};

/// Signatures verified per engine call: thousands keep every core busy; the window of
/// the file held in memory is a few of these.
const SIGNATURES_PER_BATCH: usize = 8192;

/// The flags of `verify sm2`.
#[derive(Args)]
pub struct Sm2Args {
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    remote: RemoteArgs,
    /// Write verdicts here instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Exit 0 on an input with no signatures (otherwise exit 2: nothing verified is not
    /// success).
    #[arg(long)]
    allow_empty: bool,
    /// The input file, or - for stdin.
    file: PathBuf,
}

pub fn run(args: Sm2Args) -> CommandResult {
    let Sm2Args {
        backend,
        remote,
        output,
        allow_empty,
        file,
    } = args;
    let job = |verify: &VerifyFn<'_, Sm2Item>| {
        BatchJob {
            what: "signatures",
            per_batch: SIGNATURES_PER_BATCH,
            allow_empty,
            output: output.as_deref(),
            parse: &parse,
            verify,
            rename: &Field::name,
        }
        .run(&file)
    };
    match remote.connect()? {
        Some(service) => job(&|items| service.call(async |r| r.verify_sm2(items).await)),
        None => {
            let engine = backend.engine()?;
            job(&|items| Ok(engine.verify_sm2(items)))
        }
    }
}

/// One signature from its JSON record.
fn parse(record: &Record) -> Result<Sm2Item, String> {
    Sm2Item::from_json(record.as_ref().map_err(Clone::clone)?).map_err(|e| e.to_string())
}
