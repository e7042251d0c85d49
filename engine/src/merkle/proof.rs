//! Multi-proofs over generalized indices, as in the SSZ specification
//! (`get_helper_indices`, `calculate_multi_merkle_root`).
//!
//! A generalized index numbers the nodes of a binary tree breadth first from 1 (the
//! root); node g has children 2g and 2g+1. A proof of some leaves is the list of the
//! other nodes needed to recompute the root: the siblings along their paths that are not
//! themselves on a path, in decreasing order of generalized index.

use std::collections::{BTreeMap, BTreeSet};

use super::{MerkleError, Node, TreeHash};
use crate::error::{ErrorKind, Field, InputError, Verdict};

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

/// How many helper nodes prove `gindices`, and whether they can be proven at all (each
/// at least 1, all distinct, none under another), in O(n log n) time and O(n) memory for
/// n leaves, whatever their depth: a proof whose length is wrong is refused before any
/// set of ancestors is built (at 400,000 leaves 60 levels deep that set would hold
/// millions of nodes).
///
/// The paths from the leaves to the root form a tree whose nodes are the union of the
/// paths, P (root included); every node of P but the leaves has both children's
/// positions filled by a path node or a helper, so helpers = 2 (|P| − n) − (|P| − 1).
/// |P| is counted in depth-first order: each leaf adds its depth below the lowest
/// common ancestor with the leaf before it.
pub fn helper_count(gindices: &[u64]) -> Result<usize, MerkleError> {
    if gindices.is_empty() {
        return Err(MerkleError::NoLeaves);
    }
    if let Some(i) = gindices.iter().position(|&g| g == 0) {
        return Err(MerkleError::ZeroIndex(i));
    }
    // Depth-first (pre-)order: the index shifted so its leading 1 is the top bit, an
    // ancestor before its descendants.
    let mut order: Vec<(u64, u32, usize)> = gindices
        .iter()
        .enumerate()
        .map(|(i, &g)| (g << g.leading_zeros(), depth(g), i))
        .collect();
    order.sort_unstable();
    let mut union = u64::from(order[0].1) + 1;
    for pair in order.windows(2) {
        let ((_, _, i), (_, _, j)) = (pair[0], pair[1]);
        let (a, b) = (gindices[i], gindices[j]);
        if a == b {
            return Err(MerkleError::RepeatedIndex);
        }
        let common = common_ancestor_depth(a, b);
        // In depth-first order a leaf under another comes right after it (or after
        // another leaf under it).
        if common == depth(a) {
            return Err(MerkleError::NestedLeaf {
                position: j,
                index: b,
                ancestor: a,
            });
        }
        union += u64::from(depth(b) - common);
    }
    let n = gindices.len() as u64;
    Ok((2 * (union - n) - (union - 1)) as usize)
}

/// The depth of generalized index `g` (the root, 1, is at depth 0).
fn depth(g: u64) -> u32 {
    63 - g.leading_zeros()
}

/// The depth of the lowest common ancestor of `a` and `b`.
fn common_ancestor_depth(a: u64, b: u64) -> u32 {
    let d = depth(a).min(depth(b));
    let differ = (a >> (depth(a) - d)) ^ (b >> (depth(b) - d));
    d - (64 - differ.leading_zeros())
}

/// Whether `leaves` (generalized index, value) with the helper nodes `proof` lead to
/// `root`. A proof of the wrong length, or leaves that are not a set of distinct
/// non-nested nodes, is an error rather than a mere mismatch; both are found before any
/// work in proportion to the tree's depth is done ([`helper_count`]).
pub fn verify_multiproof(
    leaves: &[(u64, Node)],
    proof: &[Node],
    root: &Node,
) -> Result<bool, MerkleError> {
    verify_multiproof_with(TreeHash::Sha256, leaves, proof, root)
}

/// [`verify_multiproof`] for a tree whose nodes are made by `hash`.
pub fn verify_multiproof_with(
    hash: TreeHash,
    leaves: &[(u64, Node)],
    proof: &[Node],
    root: &Node,
) -> Result<bool, MerkleError> {
    let gindices: Vec<u64> = leaves.iter().map(|(g, _)| *g).collect();
    let needed = helper_count(&gindices)?;
    if needed != proof.len() {
        return Err(MerkleError::HelperCount {
            given: proof.len(),
            needed,
        });
    }
    let helpers = helper_indices(&gindices);
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
            nodes.insert(g / 2, hash.pair(left, right));
            pending.insert(g / 2);
        }
    }
    Ok(nodes.get(&1) == Some(root))
}

/// The verdict on a multi-proof as it arrives in a request: a 32-byte root, one 32-byte
/// leaf per generalized index, 32-byte helper nodes, in a tree whose nodes `hash` makes.
/// A node of another length, counts that disagree or a proof of the wrong shape make the
/// proof malformed.
pub fn multiproof_verdict(
    hash: TreeHash,
    root: &[u8],
    gindices: &[u64],
    leaves: &[Vec<u8>],
    proof: &[Vec<u8>],
) -> Verdict {
    let node = InputError::exact::<32>;
    let root = node(root, Field::Root, None)?;
    if gindices.len() != leaves.len() {
        return Err(InputError::new(
            Field::Leaves,
            None,
            ErrorKind::LeafCount {
                leaves: leaves.len(),
                gindices: gindices.len(),
            },
        ));
    }
    let leaves = gindices
        .iter()
        .zip(leaves)
        .enumerate()
        .map(|(i, (g, leaf))| Ok((*g, node(leaf, Field::Leaves, Some(i))?)))
        .collect::<Result<Vec<_>, InputError>>()?;
    let proof = proof
        .iter()
        .enumerate()
        .map(|(i, n)| node(n, Field::Proof, Some(i)))
        .collect::<Result<Vec<_>, InputError>>()?;
    verify_multiproof_with(hash, &leaves, &proof, &root).map_err(|e| {
        // The proto's names: `leaves` here are the generalized indices.
        let (field, index) = match e.location() {
            Some(("leaves" | "indices", index)) => (Field::Gindices, index),
            _ => (Field::Proof, None),
        };
        InputError::new(field, index, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The count agrees with the set-based helper indices on every set of up to four
    /// non-nested nodes of a 5-level tree, and nesting or repeats are refused.
    #[test]
    fn helper_count_matches_the_helper_indices() {
        let nodes: Vec<u64> = (1..64).collect();
        let nested = |s: &[u64]| {
            s.iter().enumerate().any(|(i, &a)| {
                s.iter()
                    .enumerate()
                    .any(|(j, &b)| i != j && b > a && (b >> (depth(b) - depth(a))) == a)
            })
        };
        let mut checked = 0;
        for &a in &nodes {
            for &b in &nodes {
                for &c in nodes.iter().step_by(5) {
                    let set = [a, b, c];
                    let distinct = a != b && b != c && a != c;
                    let count = helper_count(&set);
                    if !distinct || nested(&set) {
                        assert!(count.is_err(), "{set:?}");
                    } else {
                        assert_eq!(count, Ok(helper_indices(&set).len()), "{set:?}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 1000);
        assert_eq!(helper_count(&[1]), Ok(0));
        assert!(helper_count(&[]).is_err() && helper_count(&[0, 5]).is_err());
    }

    /// Deep leaves cost their number, not their depth: 100,000 random leaves at depth
    /// 60 are counted without building their paths.
    #[test]
    fn deep_leaves_are_counted_without_their_paths() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let leaves: Vec<u64> = (0..100_000)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (1u64 << 60) | (state >> 4)
            })
            .collect();
        let count = helper_count(&leaves).unwrap();
        // Each leaf brings about 60 minus log2(100,000) helpers of its own.
        assert!(count > 100_000 * 40 && count < 100_000 * 60, "{count}");
        let proof = vec![[0u8; 32]; 3];
        let with: Vec<(u64, Node)> = leaves.iter().map(|&g| (g, [0u8; 32])).collect();
        let error = verify_multiproof(&with, &proof, &[0u8; 32]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains(&format!("3 nodes given, {count} needed"))
        );
    }
}
