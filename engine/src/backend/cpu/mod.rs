//! The CPU backend: blst for curve arithmetic and pairings, hashtree (SHA-NI / AVX2 /
//! AVX-512 multi-buffer SHA-256) for 64-byte blocks, rayon to use every core.
//!
//! blst's own thread pool is never used: every call here is a single-threaded blst
//! routine on a slice chosen by rayon, so nested parallel work (a batch inside a
//! request inside a server) shares one pool instead of oversubscribing the cores.

mod curve;
mod sha256;
mod sm3;

pub use sm3::sm3_blocks;

use super::{Backend, Scalars};
use crate::curves::bls12_381::{Fp12, G1, G1Affine, G2, G2Affine};

/// Runs every primitive on the CPU.
#[derive(Debug)]
pub struct CpuBackend {
    _private: (),
}

impl CpuBackend {
    pub fn new() -> Self {
        sha256::init();
        Self { _private: () }
    }
}

impl Default for CpuBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl Backend for CpuBackend {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn hash_blocks(&self, blocks: &[u8], digests: &mut [u8]) {
        sha256::hash_blocks(blocks, digests);
    }

    fn g1_sum(&self, points: &[G1Affine]) -> G1 {
        curve::g1_sum(points)
    }

    fn g2_sum(&self, points: &[G2Affine]) -> G2 {
        curve::g2_sum(points)
    }

    fn g1_msm(&self, points: &[G1Affine], scalars: &Scalars) -> G1 {
        curve::g1_msm(points, scalars)
    }

    fn g2_msm(&self, points: &[G2Affine], scalars: &Scalars) -> G2 {
        curve::g2_msm(points, scalars)
    }

    fn g1_scale(&self, points: &[G1Affine], scalars: &Scalars) -> Vec<G1Affine> {
        curve::g1_scale(points, scalars)
    }

    fn hash_to_g2(&self, messages: &[&[u8]], dst: &[u8]) -> Vec<G2Affine> {
        curve::hash_to_g2(messages, dst)
    }

    fn multi_miller_loop(&self, g1: &[G1Affine], g2: &[G2Affine]) -> Fp12 {
        curve::multi_miller_loop(g1, g2)
    }

    fn final_exp_is_one(&self, f: &Fp12) -> bool {
        curve::final_exp_is_one(f)
    }
}
