//! `veribatch merkle root|prove|verify`: SSZ Merkle trees of raw 32-byte chunks.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use veribatch_engine::json::Location;
use veribatch_engine::merkle::file::{ProofFile, Shape, hex32, node};
use veribatch_engine::merkle::stream::StreamError;
use veribatch_engine::merkle::{
    MAX_DEPTH, TreeHash, depth_for, mixed_length, verify_multiproof_with,
};

use super::{BackendArgs, RemoteArgs};
use crate::input;
use crate::output::{CommandResult, Outcome, outln};

#[derive(Subcommand)]
pub enum MerkleCommand {
    /// Print the root of FILE (raw concatenated 32-byte chunks, - for stdin) as 0x….
    Root {
        #[command(flatten)]
        backend: BackendArgs,
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(flatten)]
        tree: TreeArgs,
        /// The hash of the tree's nodes and padding: sha256 (SSZ) or sm3 (GM/T 0004).
        #[arg(long, default_value = "sha256")]
        hash: TreeHash,
        file: PathBuf,
    },
    /// Print a JSON multi-proof of the leaves at --index.
    Prove {
        #[command(flatten)]
        backend: BackendArgs,
        #[command(flatten)]
        tree: TreeArgs,
        /// The hash of the tree's nodes and padding: sha256 (SSZ) or sm3 (GM/T 0004); the
        /// proof file names it.
        #[arg(long, default_value = "sha256")]
        hash: TreeHash,
        /// Leaf positions to prove (from 0); repeat the flag or separate with commas.
        #[arg(long = "index", required = true, value_delimiter = ',')]
        indices: Vec<u64>,
        file: PathBuf,
    },
    /// Check a proof written by `merkle prove` against a root you trust: prints OK or
    /// INVALID.
    Verify {
        /// The root you trust, 0x-hex (32 bytes).
        #[arg(long, required_unless_present = "trust_proof_root")]
        root: Option<String>,
        /// Check against the "root" inside the proof file instead. That proves only that
        /// the file is self-consistent (anyone can write such a file), and the output says
        /// so.
        #[arg(long, conflicts_with = "root")]
        trust_proof_root: bool,
        #[command(flatten)]
        shape: ShapeArgs,
        /// The hash the tree must have been made with: checked against the proof file's
        /// "hash" [default: the file's, SHA-256 if it names none].
        #[arg(long)]
        hash: Option<TreeHash>,
        /// The proof file (JSON), or - for stdin.
        proof: PathBuf,
    },
}

/// The shape of the tree a proof claims chunk positions in: with it, a leaf's `index` is
/// checked to be a chunk of that tree, not some inner node at another depth.
#[derive(Args)]
pub struct ShapeArgs {
    /// Levels from the root down to the chunks (mix-in level included).
    #[arg(long, conflicts_with = "limit", value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_DEPTH) + 1))]
    depth: Option<u32>,
    /// The tree was made with this --limit (chunk indices below it).
    #[arg(long)]
    limit: Option<u64>,
    /// The tree was made with --mix-in-length or --length (one level above the chunks).
    #[arg(long, requires = "limit")]
    mix_in_length: bool,
}

impl ShapeArgs {
    /// The depth of the chunks below the root, and the number of chunk positions, if the
    /// shape was given.
    fn shape(&self) -> Result<Option<Shape>, String> {
        if let Some(depth) = self.depth {
            let positions = 1u64.checked_shl(depth).unwrap_or(u64::MAX);
            return Ok(Some(Shape { depth, positions }));
        }
        let Some(limit) = self.limit else {
            return Ok(None);
        };
        let depth = depth_for(0, Some(limit)).map_err(|e| format!("--limit: {e}"))?;
        Ok(Some(Shape {
            depth: depth + u32::from(self.mix_in_length),
            positions: limit,
        }))
    }
}

/// How the chunks become a tree.
#[derive(Args)]
pub struct TreeArgs {
    /// Pad to the next power of two of this many chunks (SSZ list limit); more chunks is
    /// an error [default: the chunk count].
    #[arg(long)]
    limit: Option<u64>,
    /// Mix the chunk count into the root (SSZ lists).
    #[arg(long)]
    mix_in_length: bool,
    /// Mix this length into the root instead of the chunk count (SSZ lists of packed
    /// basic values count elements, not chunks).
    #[arg(long, conflicts_with = "mix_in_length")]
    length: Option<u64>,
}

impl TreeArgs {
    fn mix_in(&self, chunk_count: u64) -> Option<u64> {
        mixed_length(chunk_count, self.mix_in_length, self.length)
    }
}

pub fn run(command: MerkleCommand) -> CommandResult {
    match command {
        MerkleCommand::Root {
            backend,
            remote,
            tree,
            hash,
            file,
        } => {
            let root = match remote.connect()? {
                // A file goes in pieces (any size); stdin, read whole, in one message.
                Some(service) if file != std::path::Path::new("-") => service.call(async |r| {
                    r.merkle_root_of_file(hash, &file, tree.limit, tree.mix_in_length, tree.length)
                        .await
                })?,
                Some(service) => {
                    let chunks = input::read(&file)?;
                    let mix_in = tree.mix_in((chunks.len() / 32) as u64);
                    service.call(async |r| {
                        r.merkle_root_with(hash, chunks, tree.limit, mix_in).await
                    })?
                }
                // Streamed: memory does not grow with the file.
                None => {
                    let engine = backend.engine()?;
                    let reader = input::open(&file)?;
                    let mix_in = |chunks| tree.mix_in(chunks);
                    engine
                        .merkle_root_of_reader(hash, reader, tree.limit, mix_in)
                        .map_err(|e| format!("{}: {e}", file.display()))?
                        .0
                }
            };
            outln!("{}", hex32(&root));
            Ok(Outcome::AllValid)
        }
        MerkleCommand::Prove {
            backend,
            tree: args,
            hash,
            indices,
            file,
        } => {
            let engine = backend.engine()?;
            let at = |e: &dyn std::fmt::Display| format!("{}: {e}", file.display());
            let proof = if file == std::path::Path::new("-") {
                // Stdin cannot be read twice: the whole tree in memory.
                let chunks = input::read(&file)?;
                let mix_in = args.mix_in((chunks.len() / 32) as u64);
                let tree = engine
                    .merkle_tree_with(hash, &chunks, args.limit, mix_in)
                    .map_err(|e| e.to_string())?;
                tree.prove(&indices).map_err(|e| e.to_string())?
            } else {
                // A file of any size: the levels above its blocks, then the blocks the
                // proof needs read again.
                let mut reader = std::io::BufReader::new(
                    std::fs::File::open(&file)
                        .map_err(|e| format!("cannot read {}: {e}", file.display()))?,
                );
                let tree = engine
                    .merkle_file_tree(hash, &mut reader, args.limit, |chunks| args.mix_in(chunks))
                    .map_err(|e| at(&e))?;
                engine
                    .prove_from_file(&tree, &mut reader, &indices)
                    .map_err(|e| match e {
                        StreamError::Merkle(e) => e.to_string(),
                        io => at(&io),
                    })?
            };
            let out = ProofFile::new(hash, &proof, &indices);
            outln!(
                "{}",
                serde_json::to_string_pretty(&out).expect("proofs serialize")
            );
            Ok(Outcome::AllValid)
        }
        MerkleCommand::Verify {
            root,
            trust_proof_root,
            shape,
            hash,
            proof,
        } => {
            let file = ProofFile::parse(&input::read(&proof)?)
                .map_err(|e| format!("{}: {e}", proof.display()))?;
            let checked = file
                .check(shape.shape()?)
                .map_err(|e| format!("{}: {e}", proof.display()))?;
            if let Some(hash) = hash
                && hash != checked.hash
            {
                return Err(format!(
                    "{}: a proof in a {} tree, not the {hash} tree --hash asks for",
                    proof.display(),
                    checked.hash
                ));
            }
            let root = match (root, trust_proof_root) {
                (Some(root), _) => {
                    node(&root, Location::field("--root")).map_err(|e| e.to_string())?
                }
                (None, true) => checked.claimed_root,
                (None, false) => return Err("give --root (or --trust-proof-root)".into()),
            };
            let ok = verify_multiproof_with(checked.hash, &checked.leaves, &checked.helpers, &root)
                .map_err(|e| e.to_string())?;
            match (ok, trust_proof_root) {
                (true, true) => outln!(
                    "OK (against the proof's own root {}, which you trusted: the file is only \
                     self-consistent)",
                    hex32(&root)
                ),
                (true, false) => outln!("OK"),
                (false, _) => outln!("INVALID"),
            }
            if ok {
                for l in &file.leaves {
                    let index = l.index.map(|i| format!("leaf {i}, ")).unwrap_or_default();
                    eprintln!("proven: {index}gindex {}: {}", l.gindex, l.leaf);
                }
            }
            Ok(Outcome::from_valid(ok))
        }
    }
}
