//! Groth16 proofs on BLS12-381: keys and proofs in snarkjs JSON, arkworks and bellman
//! encodings, prepared keys identified by a key id, and batch verification.
//!
//! A proof (A, B, C) of public inputs x for key (α, β, γ, δ, IC) is valid iff
//! e(A, B) = e(α, β) · e(IC₀ + Σ x_j·IC_{j+1}, γ) · e(C, δ).

pub mod formats;
mod registry;
mod scalar;
mod soundness;
mod store;
pub mod verify;

pub use formats::{FormatError, KeyFormat, parse_proof};
pub use registry::KeyRegistry;
pub use scalar::{PublicInput, parse_decimal};
pub use soundness::{DegenerateKeys, KeyDefect};
pub use store::{KeyStore, KeyStoreError};

use crate::curves::bls12_381::{G1Affine, G2Affine};
use sha2::{Digest, Sha256};

use crate::curves::bls12_381::{compress_g1, compress_g2};

/// A verifying key whose points all passed validation: only the format parsers make one.
///
/// Keys that let anyone forge proofs (γ = δ, as snarkjs keys without a phase-2
/// contribution have, and the other shapes of [`KeyDefect`]) are refused by the parsers
/// unless the caller asks for them with [`DegenerateKeys::Accept`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyingKey {
    pub(crate) alpha_g1: G1Affine,
    pub(crate) beta_g2: G2Affine,
    pub(crate) gamma_g2: G2Affine,
    pub(crate) delta_g2: G2Affine,
    /// IC (arkworks: gamma_abc_g1): one point more than there are public inputs, so
    /// never empty.
    pub(crate) ic: Vec<G1Affine>,
}

/// A 32-byte key id: SHA-256 of the key's canonical encoding ([`VerifyingKey::canonical_bytes`]).
pub type KeyId = [u8; 32];

impl VerifyingKey {
    /// The number of public inputs a proof for this key carries.
    pub fn public_inputs(&self) -> usize {
        self.ic.len().saturating_sub(1)
    }

    /// The canonical encoding: arkworks' compressed serialization (α ‖ β ‖ γ ‖ δ ‖
    /// IC count as u64 little-endian ‖ IC), whatever format the key arrived in.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48 + 3 * 96 + 8 + 48 * self.ic.len());
        out.extend_from_slice(&compress_g1(&self.alpha_g1));
        out.extend_from_slice(&compress_g2(&self.beta_g2));
        out.extend_from_slice(&compress_g2(&self.gamma_g2));
        out.extend_from_slice(&compress_g2(&self.delta_g2));
        out.extend_from_slice(&(self.ic.len() as u64).to_le_bytes());
        for p in &self.ic {
            out.extend_from_slice(&compress_g1(p));
        }
        out
    }

    /// SHA-256 of the canonical encoding.
    pub fn id(&self) -> KeyId {
        Sha256::digest(self.canonical_bytes()).into()
    }
}

/// A proof whose points all passed validation: only [`parse_proof`] makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proof {
    pub(crate) a: G1Affine,
    pub(crate) b: G2Affine,
    pub(crate) c: G1Affine,
}

impl Proof {
    /// A ‖ B ‖ C compressed: the 192 bytes arkworks and bellman write.
    pub fn canonical_bytes(&self) -> [u8; 192] {
        let mut out = [0u8; 192];
        out[..48].copy_from_slice(&compress_g1(&self.a));
        out[48..144].copy_from_slice(&compress_g2(&self.b));
        out[144..].copy_from_slice(&compress_g1(&self.c));
        out
    }
}

/// A key ready for verification: validated, with its id.
#[derive(Clone, Debug)]
pub struct PreparedKey {
    pub(crate) key: VerifyingKey,
    id: KeyId,
}

impl PreparedKey {
    pub(crate) fn new(key: VerifyingKey) -> Self {
        Self { id: key.id(), key }
    }

    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    pub fn id(&self) -> &KeyId {
        &self.id
    }
}
