//! BLS signatures on BLS12-381 as Ethereum uses them (the IETF draft's proof-of-possession
//! scheme, minimal-pubkey-size variant): public keys in G1 (48-byte compressed), signatures
//! in G2 (96-byte compressed), messages hashed to G2 with RFC 9380.
//!
//! - [`keys`]: decoding and validation (KeyValidate, subgroup checks, canonical encodings)
//!   into [`PublicKey`] and [`Signature`], and the cache of validated public keys.
//! - [`sets`]: signature sets, the unit of batch verification, and their decoding.
//! - [`verify`]: batch verification by random linear combination, one Miller loop per
//!   distinct message, and the search for the bad sets of a failed batch.
//! - [`ops`]: aggregation, signing and hashing to the curve.

pub mod keys;
pub mod ops;
pub mod sets;
pub mod verify;

pub use keys::{PublicKey, PublicKeyCache, Signature};
pub use sets::{SignatureSet, ValidSet};

/// The Ethereum consensus domain separation tag (proof-of-possession scheme).
pub const ETH_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// Length of a compressed public key.
pub const PUBLIC_KEY_BYTES: usize = 48;
/// Length of a compressed signature.
pub const SIGNATURE_BYTES: usize = 96;
/// Length of a secret key (a big-endian scalar below the group order).
pub const SECRET_KEY_BYTES: usize = 32;
