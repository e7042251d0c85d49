//! `veribatch log root|prove|verify`: transparency-log trees (RFC 9162) of leaves read
//! from text, one hex leaf per line, in memory that does not grow with the file.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use veribatch_engine::backend::BackendChoice;
use veribatch_engine::merkle::TreeHash;
use veribatch_engine::transparency_log::{
    LeafBatch, LeafLines, LogProof, Prover, TreeHead, record, verify_all,
};
use veribatch_engine::{Engine, EngineConfig};

use super::{BackendArgs, RemoteArgs};
use crate::output::{BatchJob, CommandResult, Outcome, VerifyFn, outln};

/// Leaves read and hashed at a time: enough to keep every core busy, a few MiB at most.
const LEAVES_PER_BATCH: usize = 1 << 16;

/// Proofs verified per call.
const PROOFS_PER_BATCH: usize = 8192;

#[derive(Subcommand)]
pub enum LogCommand {
    /// Print the tree head (RFC 9162's Merkle Tree Hash) of LEAVES as 0x….
    ///
    /// LEAVES holds one leaf per line: its data in hex (0x optional; 0x alone is a leaf of
    /// no bytes), not its hash. - reads stdin.
    Root {
        #[command(flatten)]
        backend: BackendArgs,
        /// Ask a running service (LogRoot): the leaves travel in one message, so at most
        /// its size (64 MiB by default).
        #[command(flatten)]
        remote: RemoteArgs,
        /// The head of the first N leaves [default: all of them].
        #[arg(long, value_name = "N")]
        size: Option<u64>,
        /// The hash of leaves and nodes: sha256 (RFC 9162) or sm3 (GM/T 0004), with the
        /// RFC's 0x00 and 0x01 prefixes either way.
        #[arg(long, default_value = "sha256")]
        hash: TreeHash,
        #[arg(value_name = "LEAVES")]
        leaves: PathBuf,
    },
    /// Print an inclusion proof (--index) or a consistency proof (--old-size) as one JSON
    /// record, as `log verify` reads them.
    Prove {
        #[command(flatten)]
        backend: BackendArgs,
        /// Prove that leaf I (from 0) is in the tree.
        #[arg(long, value_name = "I", required_unless_present = "old_size")]
        index: Option<u64>,
        /// Prove that the tree extends its first M leaves.
        #[arg(long, value_name = "M", conflicts_with = "index")]
        old_size: Option<u64>,
        /// The tree of the first N leaves [default: all of them].
        #[arg(long, value_name = "N")]
        size: Option<u64>,
        /// The hash of leaves and nodes: sha256 (RFC 9162) or sm3 (GM/T 0004), with the
        /// RFC's 0x00 and 0x01 prefixes either way; an SM3 record says "hash":"sm3".
        #[arg(long, default_value = "sha256")]
        hash: TreeHash,
        #[arg(value_name = "LEAVES")]
        leaves: PathBuf,
    },
    /// Verify proofs from FILE (NDJSON or a JSON array of records
    /// {"type":"inclusion","size":N,"root":"0x…","index":I,"leaf":"0x…","path":["0x…",…]}
    /// or {"type":"consistency","old_size":M,"old_root":"0x…","size":N,"root":"0x…",
    /// "path":[…]}; "leaf_hash" may replace "leaf").
    ///
    /// Prints one line per record, in input order: {"index":N,"valid":true|false,
    /// "error":null|"…"}. Exit status: 0 all valid, 1 any invalid or malformed, 2 cannot
    /// run.
    Verify {
        #[command(flatten)]
        remote: RemoteArgs,
        /// Write verdicts here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Exit 0 on an input with no records (otherwise exit 2).
        #[arg(long)]
        allow_empty: bool,
        /// The hash the trees must have: a record that names another ("hash":"sm3") is
        /// malformed, one that names none is taken as of this hash [default: each
        /// record's, SHA-256 if it names none].
        #[arg(long)]
        hash: Option<TreeHash>,
        /// The input file, or - for stdin.
        file: PathBuf,
    },
}

pub fn run(command: LogCommand) -> CommandResult {
    match command {
        LogCommand::Root {
            backend,
            remote,
            size,
            hash,
            leaves,
        } => {
            let root = match remote.connect()? {
                Some(service) => {
                    // One message: at most the service's default largest, checked as the
                    // leaves are read rather than after holding them all.
                    const MESSAGE_BYTES: usize = 64 << 20;
                    let (mut data, mut bytes) = (Vec::new(), 0usize);
                    // The leaves are hashed here only as they are read: on the CPU.
                    let engine = Engine::new(&EngineConfig {
                        backend: BackendChoice::Cpu,
                        ..EngineConfig::default()
                    });
                    // The batches' own hashes go unused: SHA-256's are the cheaper.
                    let read = for_each_batch(&engine, &leaves, size, TreeHash::Sha256, |batch| {
                        for i in 0..batch.len() {
                            if bytes <= MESSAGE_BYTES {
                                let leaf = batch.leaf(i);
                                bytes += leaf.len() + 8;
                                data.push(leaf.to_vec());
                            }
                        }
                    })?;
                    if bytes > MESSAGE_BYTES {
                        return Err(format!(
                            "{}: the leaves do not fit in one LogRoot message (64 MiB): run \
                             log root without --remote",
                            leaves.display()
                        ));
                    }
                    short_of(read, size, &leaves)?;
                    let (root, of) = service.call(async |r| r.log_root(hash, data, None).await)?;
                    if of != read {
                        return Err(format!(
                            "the service's head is of {of} leaves, not the {read} sent"
                        ));
                    }
                    root
                }
                None => {
                    let engine = backend.engine()?;
                    let mut head = TreeHead::with_hash(hash);
                    let read = for_each_batch(&engine, &leaves, size, hash, |batch| {
                        engine.extend_log_head(&mut head, &batch.hashes)
                    })?;
                    short_of(read, size, &leaves)?;
                    head.root()
                }
            };
            outln!("0x{}", hex::encode(root));
            Ok(Outcome::AllValid)
        }
        LogCommand::Prove {
            backend,
            index,
            old_size,
            size,
            hash,
            leaves,
        } => {
            let mut prover = match (index, old_size) {
                (Some(index), _) => Prover::inclusion(hash, index, size),
                (None, Some(old_size)) => Prover::consistency(hash, old_size, size),
                (None, None) => unreachable!("clap requires --index or --old-size"),
            }
            .map_err(|e| e.to_string())?;
            let engine = backend.engine()?;
            for_each_batch(&engine, &leaves, size, hash, |batch| {
                engine.add_to_log_prover(&mut prover, batch)
            })?;
            let line = if index.is_some() {
                let (proof, leaf) = prover.finish_inclusion().map_err(|e| e.to_string())?;
                record::inclusion_line(&proof, &leaf)
            } else {
                record::consistency_line(&prover.finish_consistency().map_err(|e| e.to_string())?)
            };
            outln!("{line}");
            Ok(Outcome::AllValid)
        }
        LogCommand::Verify {
            remote,
            output,
            allow_empty,
            hash,
            file,
        } => {
            let parse = |r: &crate::input::Record| -> Result<LogProof, String> {
                let default = hash.unwrap_or(TreeHash::Sha256);
                let proof = record::from_json(r.as_ref().map_err(Clone::clone)?, default)
                    .map_err(|e| e.to_string())?;
                match hash {
                    Some(asked) if asked != proof.hash() => Err(format!(
                        "hash: the record's tree is {}, --hash asks for {asked}",
                        proof.hash()
                    )),
                    _ => Ok(proof),
                }
            };
            let job = |verify: &VerifyFn<'_, LogProof>| {
                BatchJob {
                    what: "proofs",
                    per_batch: PROOFS_PER_BATCH,
                    allow_empty,
                    output: output.as_deref(),
                    parse: &parse,
                    verify,
                    rename: &|field| field.name(),
                }
                .run(&file)
            };
            match remote.connect()? {
                Some(service) => {
                    job(&|proofs| service.call(async |r| r.verify_log_proofs(proofs).await))
                }
                None => job(&|proofs| Ok(verify_all(proofs).into_iter().map(Ok).collect())),
            }
        }
    }
}

/// Reads the leaves of `path` (stdin for `-`), the first `size` if given, batch by batch,
/// their leaf hashes made with `hash` on `engine`'s backend; returns how many were read.
fn for_each_batch(
    engine: &Engine,
    path: &Path,
    size: Option<u64>,
    hash: TreeHash,
    mut each: impl FnMut(&LeafBatch),
) -> Result<u64, String> {
    let reader = BufReader::with_capacity(1 << 20, crate::input::open(path)?);
    let mut lines = LeafLines::new(reader, size, LEAVES_PER_BATCH);
    loop {
        let batch = engine
            .next_log_leaves(&mut lines, hash)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if batch.is_empty() {
            return Ok(lines.count());
        }
        each(&batch);
    }
}

/// An error if fewer leaves were read than `--size` asked for.
fn short_of(read: u64, size: Option<u64>, path: &Path) -> Result<(), String> {
    match size {
        Some(size) if read < size => Err(format!(
            "{} has {read} leaves, fewer than --size {size}",
            path.display()
        )),
        _ => Ok(()),
    }
}
