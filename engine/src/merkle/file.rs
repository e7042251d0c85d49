//! The JSON proof file `veribatch merkle prove` writes and `merkle verify` reads: an SSZ
//! multi-proof with the chunk positions it claims.
//!
//! ```json
//! {"hash": "sha256", "root": "0x…", "leaves": [{"index": 3, "gindex": 259, "leaf": "0x…"}],
//!  "proof": ["0x…", …], "helper_gindices": [258, …]}
//! ```
//!
//! `hash` names the hash of the tree's nodes (`sha256` or `sm3`); a file without it is a
//! SHA-256 tree, as SSZ's are.
//!
//! What a file says beside its leaves must agree with them, or a valid proof of some
//! inner node could pass for a proof of the chunk the file names: a leaf's `index` needs
//! the tree's [`Shape`] (its chunks' depth), and given a shape, every leaf must be one of
//! its chunks, at the position it claims; `helper_gindices`, if given, must be the helpers
//! of the leaves. A file without indices, read without a shape, proves nodes at
//! generalized indices, and claims no chunk.

use serde::{Deserialize, Serialize};

use super::{MerkleError, MultiProof, Node, TreeHash, helper_count, helper_indices};
use crate::json::{self, JsonError, Location};

/// Why a proof file cannot be checked, naming the leaf (its place in `leaves`) at fault.
#[derive(Debug, thiserror::Error)]
pub enum ProofFileError {
    #[error("not a proof file: {0}")]
    NotAProofFile(#[source] serde_json::Error),
    #[error("hash: {0}")]
    Hash(#[source] crate::UnknownName),
    #[error(transparent)]
    Node(#[from] JsonError),
    #[error(
        "leaves[{leaf}] claims chunk index {index}: give the tree's shape (--depth, or \
         --limit and --mix-in-length as the proof was made) to check it"
    )]
    IndexWithoutShape { leaf: usize, index: u64 },
    #[error("leaves[{leaf}]: generalized index {gindex} is not a chunk of a tree of depth {depth}")]
    NotAChunk {
        leaf: usize,
        gindex: u64,
        depth: u32,
    },
    #[error(
        "leaves[{leaf}]: generalized index {gindex} is not chunk {index} of a tree of depth {depth}"
    )]
    NotTheClaimedChunk {
        leaf: usize,
        gindex: u64,
        index: u64,
        depth: u32,
    },
    #[error("leaves[{leaf}]: chunk index {position} is beyond the tree's {positions} chunks")]
    BeyondTheTree {
        leaf: usize,
        position: u64,
        positions: u64,
    },
    #[error(transparent)]
    Leaves(#[from] MerkleError),
    #[error("helper_gindices: not the helpers of these leaves")]
    NotTheHelpers,
}

/// A proof file as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofFile {
    /// The hash of the tree's nodes, by name; SHA-256 if absent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hash: Option<String>,
    /// The root the writer computed: proof of nothing unless the reader trusts it.
    pub root: String,
    pub leaves: Vec<ProofLeaf>,
    /// Helper nodes, in decreasing generalized index (SSZ `get_helper_indices` order).
    pub proof: Vec<String>,
    /// The generalized index of each helper node, for readers; not needed to verify.
    #[serde(default)]
    pub helper_gindices: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofLeaf {
    /// Chunk position (absent in hand-written proofs that give only gindices).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub index: Option<u64>,
    pub gindex: u64,
    pub leaf: String,
}

/// Where a tree's chunks lie: their depth below the root (a mix-in level included) and
/// how many chunk positions there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub depth: u32,
    pub positions: u64,
}

/// A proof file's leaves and helpers, decoded and checked against its claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedProof {
    /// The hash of the tree's nodes.
    pub hash: TreeHash,
    /// (generalized index, leaf).
    pub leaves: Vec<(u64, Node)>,
    pub helpers: Vec<Node>,
    /// The root the file claims.
    pub claimed_root: Node,
}

/// `0x`-hex of a node.
pub fn hex32(node: &Node) -> String {
    format!("0x{}", hex::encode(node))
}

/// A node from hex text at `location`.
pub fn node(text: &str, location: Location) -> Result<Node, JsonError> {
    json::hex_array(text, location)
}

impl ProofFile {
    /// The file for `proof` of the chunks at `indices` (in the order asked), in a tree
    /// whose nodes `hash` made.
    pub fn new(hash: TreeHash, proof: &MultiProof, indices: &[u64]) -> Self {
        Self {
            hash: Some(hash.name().to_string()),
            root: hex32(&proof.root),
            leaves: proof
                .leaves
                .iter()
                .zip(indices)
                .map(|((gindex, leaf), &index)| ProofLeaf {
                    index: Some(index),
                    gindex: *gindex,
                    leaf: hex32(leaf),
                })
                .collect(),
            proof: proof.helpers.iter().map(|(_, n)| hex32(n)).collect(),
            helper_gindices: proof.helpers.iter().map(|(g, _)| *g).collect(),
        }
    }

    /// Parses a file's JSON.
    pub fn parse(bytes: &[u8]) -> Result<Self, ProofFileError> {
        serde_json::from_slice(bytes).map_err(ProofFileError::NotAProofFile)
    }

    /// The decoded leaves and helpers, once every claim agrees with them: a leaf with an
    /// `index` needs `shape` and must be that chunk of it.
    pub fn check(&self, shape: Option<Shape>) -> Result<CheckedProof, ProofFileError> {
        let hash = match &self.hash {
            Some(name) => name.parse().map_err(ProofFileError::Hash)?,
            None => TreeHash::Sha256,
        };
        let leaves = self
            .leaves
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Ok((
                    l.gindex,
                    node(&l.leaf, Location::item("leaves", i).member("leaf"))?,
                ))
            })
            .collect::<Result<Vec<_>, JsonError>>()?;
        for (i, leaf) in self.leaves.iter().enumerate() {
            match (shape, leaf.index) {
                // Without a shape, a leaf is a node at a generalized index, and claims no
                // chunk position.
                (None, None) => {}
                (None, Some(index)) => {
                    return Err(ProofFileError::IndexWithoutShape { leaf: i, index });
                }
                // With a shape, every leaf must be one of the tree's chunks (the position it
                // claims, if it claims one).
                (Some(Shape { depth, positions }), claimed) => {
                    let first = 1u64.checked_shl(depth).unwrap_or(0);
                    let position = leaf.gindex.checked_sub(first).filter(|_| first != 0);
                    let Some(position) = position.filter(|&p| p < first) else {
                        return Err(ProofFileError::NotAChunk {
                            leaf: i,
                            gindex: leaf.gindex,
                            depth,
                        });
                    };
                    if let Some(index) = claimed
                        && index != position
                    {
                        return Err(ProofFileError::NotTheClaimedChunk {
                            leaf: i,
                            gindex: leaf.gindex,
                            index,
                            depth,
                        });
                    }
                    if position >= positions {
                        return Err(ProofFileError::BeyondTheTree {
                            leaf: i,
                            position,
                            positions,
                        });
                    }
                }
            }
        }
        let gindices: Vec<u64> = leaves.iter().map(|(g, _)| *g).collect();
        // The count first: it costs the leaves' number, the indices their depth.
        let needed = helper_count(&gindices)?;
        if !self.helper_gindices.is_empty()
            && (self.helper_gindices.len() != needed
                || self.helper_gindices != helper_indices(&gindices))
        {
            return Err(ProofFileError::NotTheHelpers);
        }
        let helpers = self
            .proof
            .iter()
            .enumerate()
            .map(|(i, n)| node(n, Location::item("proof", i)))
            .collect::<Result<Vec<_>, JsonError>>()?;
        Ok(CheckedProof {
            hash,
            leaves,
            helpers,
            claimed_root: node(&self.root, Location::field("root"))?,
        })
    }
}
