//! Multi-proofs over generalized indices, as in the SSZ specification
//! (`get_helper_indices`, `calculate_multi_merkle_root`).
//!
//! A generalized index numbers the nodes of a binary tree breadth first from 1 (the
//! root); node g has children 2g and 2g+1. A proof of some leaves is the list of the
//! other nodes needed to recompute the root: the siblings along their paths that are not
//! themselves on a path, in decreasing order of generalized index.

use std::collections::{BTreeMap, BTreeSet};

use super::{MerkleError, Node, hash_pair};

/// A proof of some leaves of a tree, with the root it leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiProof {
    /// (generalized index, leaf), in the order the leaves were asked for.
    pub leaves: Vec<(u64, Node)>,
    /// (generalized index, node) of each helper, in decreasing generalized index.
    pub helpers: Vec<(u64, Node)>,
    pub root: Node,
}

/// The generalized indices of the helper nodes that prove `gindices`, in decreasing order.
pub fn helper_indices(gindices: &[u64]) -> Vec<u64> {
    let mut siblings = BTreeSet::new();
    let mut paths = BTreeSet::new();
    for &g in gindices {
        let mut node = g;
        while node > 1 {
            siblings.insert(node ^ 1);
            paths.insert(node);
            node /= 2;
        }
    }
    let mut helpers: Vec<u64> = siblings.difference(&paths).copied().collect();
    helpers.reverse();
    helpers
}

/// Whether `leaves` (generalized index, value) with the helper nodes `proof` lead to
/// `root`. A proof of the wrong length, or leaves that are not a set of distinct
/// non-nested nodes, is an error rather than a mere mismatch.
pub fn verify_multiproof(
    leaves: &[(u64, Node)],
    proof: &[Node],
    root: &Node,
) -> Result<bool, MerkleError> {
    if leaves.is_empty() {
        return Err(MerkleError::NoLeaves);
    }
    let gindices: Vec<u64> = leaves.iter().map(|(g, _)| *g).collect();
    let distinct: BTreeSet<u64> = gindices.iter().copied().collect();
    if distinct.len() != gindices.len() {
        return Err(MerkleError::BadProof(
            "leaves: a generalized index appears twice".into(),
        ));
    }
    for (i, &g) in gindices.iter().enumerate() {
        if g == 0 {
            return Err(MerkleError::BadProof(format!(
                "leaves[{i}]: generalized indices start at 1"
            )));
        }
        let mut ancestor = g / 2;
        while ancestor >= 1 {
            if distinct.contains(&ancestor) {
                return Err(MerkleError::BadProof(format!(
                    "leaves[{i}]: generalized index {g} lies under another leaf, {ancestor}"
                )));
            }
            ancestor /= 2;
        }
    }
    let helpers = helper_indices(&gindices);
    if helpers.len() != proof.len() {
        return Err(MerkleError::BadProof(format!(
            "proof: {} nodes given, {} needed for these leaves",
            proof.len(),
            helpers.len()
        )));
    }
    let mut nodes: BTreeMap<u64, Node> = leaves.iter().copied().collect();
    nodes.extend(helpers.into_iter().zip(proof.iter().copied()));
    // Largest generalized index first: a node's children are both known (or never will
    // be) by the time it is reached, since children have larger indices than parents.
    let mut pending: BTreeSet<u64> = nodes.keys().copied().collect();
    while let Some(g) = pending.pop_last() {
        if g <= 1 || nodes.contains_key(&(g / 2)) {
            continue;
        }
        if let (Some(left), Some(right)) = (nodes.get(&(g & !1)), nodes.get(&(g | 1))) {
            nodes.insert(g / 2, hash_pair(left, right));
            pending.insert(g / 2);
        }
    }
    Ok(nodes.get(&1) == Some(root))
}
