//! `veribatch merkle root|prove|verify`: SSZ Merkle trees of raw 32-byte chunks.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use veribatch_engine::merkle::{Node, helper_indices, verify_multiproof};

use super::{BackendArgs, RemoteArgs};
use crate::input;
use crate::output::{CommandResult, Outcome};

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
        file: PathBuf,
    },
    /// Print a JSON multi-proof of the leaves at --index.
    Prove {
        #[command(flatten)]
        backend: BackendArgs,
        #[command(flatten)]
        tree: TreeArgs,
        /// Leaf positions to prove (from 0); repeat the flag or separate with commas.
        #[arg(long = "index", required = true, value_delimiter = ',')]
        indices: Vec<u64>,
        file: PathBuf,
    },
    /// Check a proof written by `merkle prove`: prints OK or INVALID.
    Verify {
        /// The root to check against [default: the proof's own "root"].
        #[arg(long)]
        root: Option<String>,
        /// The proof file (JSON), or - for stdin.
        proof: PathBuf,
    },
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
    fn mix_in(&self, chunks: &[u8]) -> Option<u64> {
        self.length
            .or(self.mix_in_length.then_some((chunks.len() / 32) as u64))
    }
}

/// The proof file: what `merkle prove` writes and `merkle verify` reads.
#[derive(Serialize, Deserialize)]
struct ProofFile {
    root: String,
    leaves: Vec<ProofLeaf>,
    /// Helper nodes, in decreasing generalized index (SSZ `get_helper_indices` order).
    proof: Vec<String>,
    /// The generalized index of each helper node, for readers; not needed to verify.
    #[serde(default)]
    helper_gindices: Vec<u64>,
}

#[derive(Serialize, Deserialize)]
struct ProofLeaf {
    /// Leaf position (absent in hand-written proofs that give only gindices).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    index: Option<u64>,
    gindex: u64,
    leaf: String,
}

fn hex32(node: &Node) -> String {
    format!("0x{}", hex::encode(node))
}

fn node(text: &str, what: &str) -> Result<Node, String> {
    let bytes = input::hex(text).map_err(|e| format!("{what}: {e}"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("{what}: expected 32 bytes, got {}", b.len()))
}

/// What a proof file says beside its leaves must agree with them: a leaf's `index` is its
/// position at its depth, leaves with indices lie at one depth (the chunks of one tree),
/// and `helper_gindices`, if given, are the helpers of those leaves. Otherwise a valid
/// proof of some node could pass for a proof of the chunk the file names.
fn check_claims(file: &ProofFile) -> Result<(), String> {
    let depth = |g: u64| 63 - g.leading_zeros();
    let mut leaf_depth = None;
    for (i, leaf) in file.leaves.iter().enumerate() {
        let Some(index) = leaf.index else { continue };
        if leaf.gindex == 0 || leaf.gindex - (1 << depth(leaf.gindex)) != index {
            return Err(format!(
                "leaves[{i}]: generalized index {} is not the position of leaf {index}",
                leaf.gindex
            ));
        }
        if *leaf_depth.get_or_insert(depth(leaf.gindex)) != depth(leaf.gindex) {
            return Err(format!("leaves[{i}]: not at the depth of the other leaves"));
        }
    }
    let gindices: Vec<u64> = file.leaves.iter().map(|l| l.gindex).collect();
    if !file.helper_gindices.is_empty() && file.helper_gindices != helper_indices(&gindices) {
        return Err("helper_gindices: not the helpers of these leaves".into());
    }
    Ok(())
}

pub fn run(command: MerkleCommand) -> CommandResult {
    match command {
        MerkleCommand::Root {
            backend,
            remote,
            tree,
            file,
        } => {
            let chunks = input::read(&file)?;
            let mix_in = tree.mix_in(&chunks);
            let root = match remote.connect()? {
                Some(service) => {
                    service.call(async |r| r.merkle_root(chunks, tree.limit, mix_in).await)?
                }
                None => backend
                    .engine()?
                    .merkle_root(&chunks, tree.limit, mix_in)
                    .map_err(|e| e.to_string())?,
            };
            println!("{}", hex32(&root));
            Ok(Outcome::AllValid)
        }
        MerkleCommand::Prove {
            backend,
            tree: args,
            indices,
            file,
        } => {
            let chunks = input::read(&file)?;
            let tree = backend
                .engine()?
                .merkle_tree(&chunks, args.limit, args.mix_in(&chunks))
                .map_err(|e| e.to_string())?;
            let proof = tree.prove(&indices).map_err(|e| e.to_string())?;
            let out = ProofFile {
                root: hex32(&proof.root),
                leaves: proof
                    .leaves
                    .iter()
                    .zip(&indices)
                    .map(|((gindex, leaf), &index)| ProofLeaf {
                        index: Some(index),
                        gindex: *gindex,
                        leaf: hex32(leaf),
                    })
                    .collect(),
                proof: proof.helpers.iter().map(|(_, n)| hex32(n)).collect(),
                helper_gindices: proof.helpers.iter().map(|(g, _)| *g).collect(),
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&out).expect("proofs serialize")
            );
            Ok(Outcome::AllValid)
        }
        MerkleCommand::Verify { root, proof } => {
            let file: ProofFile = serde_json::from_slice(&input::read(&proof)?)
                .map_err(|e| format!("{}: not a proof file: {e}", proof.display()))?;
            let root = node(root.as_deref().unwrap_or(&file.root), "root")?;
            let leaves = file
                .leaves
                .iter()
                .enumerate()
                .map(|(i, l)| Ok((l.gindex, node(&l.leaf, &format!("leaves[{i}].leaf"))?)))
                .collect::<Result<Vec<_>, String>>()?;
            check_claims(&file)?;
            let nodes = file
                .proof
                .iter()
                .enumerate()
                .map(|(i, n)| node(n, &format!("proof[{i}]")))
                .collect::<Result<Vec<_>, String>>()?;
            let ok = verify_multiproof(&leaves, &nodes, &root).map_err(|e| e.to_string())?;
            println!("{}", if ok { "OK" } else { "INVALID" });
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
