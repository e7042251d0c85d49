//! Proof verification as RFC 9162 writes it (§2.1.3.2 and §2.1.4.2), step by step, with
//! the step numbers of the text. A proof that fails any step is invalid: never an error,
//! so a batch of proofs always gets one verdict each.

use rayon::prelude::*;

use super::Hash;
use crate::merkle::TreeHash;
use crate::{InputError, Verdict};

/// That the leaf with hash `leaf_hash` is leaf `index` of the tree of `size` leaves whose
/// head is `root`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    /// The hash of the tree's leaves and nodes.
    pub hash: TreeHash,
    pub size: u64,
    pub index: u64,
    pub leaf_hash: Hash,
    /// The audit path, from the leaf's sibling up.
    pub path: Vec<Hash>,
    pub root: Hash,
}

/// That the tree of `size` leaves with head `root` extends the tree of `old_size` leaves
/// with head `old_root` (the first `old_size` leaves are unchanged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The hash of the trees' leaves and nodes.
    pub hash: TreeHash,
    pub old_size: u64,
    pub old_root: Hash,
    pub size: u64,
    pub root: Hash,
    pub path: Vec<Hash>,
}

/// Either kind of proof, as a batch holds them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogProof {
    Inclusion(InclusionProof),
    Consistency(ConsistencyProof),
}

impl LogProof {
    /// The hash of the tree the proof is in.
    pub fn hash(&self) -> TreeHash {
        match self {
            LogProof::Inclusion(p) => p.hash,
            LogProof::Consistency(p) => p.hash,
        }
    }

    pub fn verify(&self) -> bool {
        match self {
            LogProof::Inclusion(p) => verify_inclusion(p),
            LogProof::Consistency(p) => verify_consistency(p),
        }
    }
}

/// One verdict per proof, in order, checked on all cores.
pub fn verify_all(proofs: &[LogProof]) -> Vec<bool> {
    proofs
        .par_iter()
        .with_min_len(64)
        .map(LogProof::verify)
        .collect()
}

/// One verdict per item, in order: a malformed item keeps its error, the rest are
/// verified on all cores.
pub fn verdicts(items: &[Result<LogProof, InputError>]) -> Vec<Verdict> {
    items
        .par_iter()
        .with_min_len(64)
        .map(|item| item.as_ref().map(LogProof::verify).map_err(Clone::clone))
        .collect()
}

fn lsb(n: u64) -> bool {
    n & 1 == 1
}

/// RFC 9162 §2.1.3.2.
pub fn verify_inclusion(proof: &InclusionProof) -> bool {
    let InclusionProof {
        hash,
        size,
        index,
        leaf_hash,
        ref path,
        root,
    } = *proof;
    // 1. The leaf index must be below the tree size.
    if index >= size {
        return false;
    }
    // 2.-3.
    let (mut f, mut s) = (index, size - 1);
    let mut r = leaf_hash;
    // 4.
    for p in path {
        if s == 0 {
            return false;
        }
        if lsb(f) || f == s {
            r = hash.log_node(p, &r);
            while !lsb(f) && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = hash.log_node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    // 5.
    s == 0 && r == root
}

/// RFC 9162 §2.1.4.2, for 0 < old_size < size. Outside that range the RFC defines no
/// proof, and the only consistent claims are the trivial ones, with an empty path: a tree
/// is consistent with itself (same size, same head), and every tree extends the empty
/// tree, whose head is the hash of no bytes (§2.1.1).
pub fn verify_consistency(proof: &ConsistencyProof) -> bool {
    let ConsistencyProof {
        hash,
        old_size,
        old_root,
        size,
        root,
        ref path,
    } = *proof;
    if old_size > size {
        return false;
    }
    if old_size == size {
        return path.is_empty() && old_root == root;
    }
    if old_size == 0 {
        return path.is_empty() && old_root == hash.log_empty_root();
    }
    // 1.
    let Some((&first_node, rest)) = path.split_first() else {
        return false;
    };
    // 2. An old size that is a power of two is a subtree of the new tree: its head starts
    // the path.
    let (start, rest) = if old_size.is_power_of_two() {
        (old_root, &path[..])
    } else {
        (first_node, rest)
    };
    // 3.
    let (mut f, mut s) = (old_size - 1, size - 1);
    // 4.
    while lsb(f) {
        f >>= 1;
        s >>= 1;
    }
    // 5.
    let (mut fr, mut sr) = (start, start);
    // 6.
    for c in rest {
        if s == 0 {
            return false;
        }
        if lsb(f) || f == s {
            fr = hash.log_node(c, &fr);
            sr = hash.log_node(c, &sr);
            while !lsb(f) && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = hash.log_node(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    // 7.
    fr == old_root && sr == root && s == 0
}
