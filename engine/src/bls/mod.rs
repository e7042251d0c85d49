//! BLS signatures on BLS12-381, minimal-pubkey-size variant: public keys in G1 (48-byte
//! compressed), signatures in G2 (96-byte compressed), messages hashed to G2 with RFC 9380.
//! All three schemes of the IETF draft ([`scheme`]); Ethereum uses proof of possession.
//!
//! - [`scheme`]: basic, message augmentation and proof of possession, and the
//!   [`Ciphersuite`] (tag and scheme) every set of a batch shares.
//! - [`keys`]: decoding and validation (KeyValidate, subgroup checks, canonical encodings)
//!   into [`PublicKey`] and [`Signature`], and the cache of validated public keys.
//! - [`sets`]: signature sets, the unit of batch verification, and their decoding.
//! - [`verify`]: batch verification by random linear combination, one Miller loop per
//!   distinct message, and the search for the bad sets of a failed batch.
//! - [`ops`]: aggregation, signing and hashing to the curve.

pub mod keys;
pub mod ops;
pub mod scheme;
pub mod sets;
pub mod verify;

pub use keys::{PublicKey, PublicKeyCache, Signature};
pub use scheme::{Ciphersuite, Scheme};
pub use sets::{DecodedSet, SignatureSet};

use crate::error::{ErrorKind, Field, InputError};

/// The Ethereum consensus domain separation tag (proof-of-possession scheme).
pub const ETH_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// Length of a compressed public key.
pub const PUBLIC_KEY_BYTES: usize = 48;
/// Length of a compressed signature.
pub const SIGNATURE_BYTES: usize = 96;
/// Length of a secret key (a big-endian scalar below the group order).
pub const SECRET_KEY_BYTES: usize = 32;

/// A domain separation tag must have 1 to 255 bytes (RFC 9380, section 3.1).
pub fn check_dst(dst: &[u8]) -> Result<(), InputError> {
    if dst.is_empty() || dst.len() > 255 {
        return Err(InputError::new(
            Field::Dst,
            None,
            ErrorKind::DstLength(dst.len()),
        ));
    }
    Ok(())
}

/// The compressed encoding of the point at infinity of G2: the signature that
/// `eth_fast_aggregate_verify` accepts for an empty set of keys.
pub const G2_POINT_AT_INFINITY: [u8; SIGNATURE_BYTES] = {
    let mut encoding = [0u8; SIGNATURE_BYTES];
    encoding[0] = 0xc0;
    encoding
};
