//! Batch verification of signature sets by random linear combination.
//!
//! With coefficients r_i drawn from the OS CSPRNG, sets i with signatures σ_i and
//! (key, message) pairs (pk_ij, m_ij) are all valid (up to 2^-64) iff
//!
//! ```text
//! e(−g1, Σ r_i·σ_i) · Π_m e(Σ_{(i,j): m_ij = m} r_i·pk_ij, H(m)) = 1
//! ```
//!
//! The keys are combined per distinct message first, so a batch costs one Miller loop per
//! distinct message plus one, not one per set: most attestations in an Ethereum batch sign
//! one of a few messages. A failed batch is searched for its bad sets by [`crate::batch`];
//! every set gets its own verdict.

use crate::curves::bls12_381::{G1, G1Affine, G2Affine};
use std::collections::HashMap;

use rayon::prelude::*;

use super::sets::ValidSet;
use crate::backend::{Backend, Scalars};
use crate::batch::{self, BatchEquation};
use crate::curves::bls12_381::{neg_g1_generator, p1s_to_affine, p2_affine};

/// Verifies `sets`, giving one verdict per set; each is also reported as soon as known.
pub(crate) fn verify_sets(
    backend: &dyn Backend,
    sets: &[ValidSet<'_>],
    dst: &[u8],
    groups: &[usize],
    listener: &dyn batch::Listener,
) -> Vec<bool> {
    let hashes = hash_messages(backend, sets, dst);
    let equation = Batch {
        backend,
        sets,
        hashes: &hashes,
    };
    batch::verdicts(&equation, groups, listener)
}

/// H(m) for every distinct message of the sets, computed once for the whole search.
fn hash_messages<'s>(
    backend: &dyn Backend,
    sets: &'s [ValidSet<'_>],
    dst: &[u8],
) -> HashMap<&'s [u8], G2Affine> {
    let mut distinct: Vec<&'s [u8]> = sets
        .iter()
        .flat_map(|s| s.pairs.iter().map(|(_, m)| m.as_ref()))
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    let points = backend.hash_to_g2(&distinct, dst);
    distinct.into_iter().zip(points).collect()
}

struct Batch<'s, 'a> {
    backend: &'s dyn Backend,
    sets: &'s [ValidSet<'a>],
    hashes: &'s HashMap<&'s [u8], G2Affine>,
}

impl BatchEquation for Batch<'_, '_> {
    fn items(&self) -> usize {
        self.sets.len()
    }

    fn holds(&self, indices: &[usize], coefficients: &[u64]) -> bool {
        // Keys per distinct message, each weighted by its set's coefficient.
        let mut groups: HashMap<&[u8], (Vec<G1Affine>, Vec<u64>)> = HashMap::new();
        for (&i, &r) in indices.iter().zip(coefficients) {
            for (pk, msg) in &self.sets[i].pairs {
                let group = groups.entry(msg.as_ref()).or_default();
                group.0.push(*pk);
                group.1.push(r);
            }
        }
        // Messages signed in one set only (most, when messages are distinct) need one
        // scalar multiplication each, done together; the others need an MSM each.
        let (single, shared): (Vec<_>, Vec<_>) = groups
            .into_iter()
            .partition(|(_, (keys, _))| keys.len() == 1);
        let single_keys: Vec<G1Affine> = single.iter().map(|(_, (k, _))| k[0]).collect();
        let single_rs: Vec<u64> = single.iter().map(|(_, (_, r))| r[0]).collect();
        let mut g1 = if single_rs.iter().all(|&r| r == 1) {
            single_keys
        } else {
            self.backend
                .g1_scale(&single_keys, &Scalars::from_u64s(&single_rs))
        };
        let shared_combined: Vec<G1> = shared
            .par_iter()
            .map(|(_, (keys, rs))| {
                if rs.iter().all(|&r| r == 1) {
                    self.backend.g1_sum(keys)
                } else {
                    self.backend.g1_msm(keys, &Scalars::from_u64s(rs))
                }
            })
            .collect();
        g1.extend(p1s_to_affine(&shared_combined));
        let mut g2: Vec<G2Affine> = single
            .iter()
            .chain(&shared)
            .map(|(m, _)| self.hashes[m])
            .collect();

        let signatures: Vec<G2Affine> = indices
            .iter()
            .map(|&i| *self.sets[i].signature.point())
            .collect();
        let sigma = if coefficients.iter().all(|&r| r == 1) {
            self.backend.g2_sum(&signatures)
        } else {
            self.backend
                .g2_msm(&signatures, &Scalars::from_u64s(coefficients))
        };
        g1.push(neg_g1_generator());
        g2.push(p2_affine(&sigma));

        let f = self.backend.multi_miller_loop(&g1, &g2);
        self.backend.final_exp_is_one(&f)
    }
}
