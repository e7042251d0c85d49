//! Decoding and validation of public keys and signatures, and the cache of validated keys.
//!
//! Exactly the Ethereum consensus rules: only canonical compressed encodings (compression
//! flag set, coordinates below p, the infinity encoding all zero but its flags); public
//! keys pass KeyValidate (not the point at infinity, in the prime-order subgroup);
//! signatures pass the subgroup check (the point at infinity is a valid signature encoding).

use crate::curves::bls12_381::{G1Affine, G2Affine};
use std::collections::HashMap;
use std::sync::Mutex;

use super::{PUBLIC_KEY_BYTES, SIGNATURE_BYTES};
use crate::curves::bls12_381::{self as points, DecodeError, compress_g1, compress_g2};

/// A public key that passed KeyValidate: a G1 point of the prime-order subgroup, not
/// the point at infinity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(G1Affine);

impl PublicKey {
    /// Decodes a 48-byte compressed key and runs KeyValidate on it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let point = deserialize_g1(bytes)?;
        if points::g1_is_infinity(&point) {
            return Err(DecodeError::Infinity);
        }
        Ok(Self(point))
    }

    pub fn point(&self) -> &G1Affine {
        &self.0
    }

    /// The 48-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_BYTES] {
        compress_g1(&self.0)
    }
}

/// A signature that passed the subgroup check (it may be the point at infinity).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature(G2Affine);

impl Signature {
    /// Decodes a 96-byte compressed signature and checks it lies in the subgroup.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        compressed_only(bytes, SIGNATURE_BYTES)?;
        Ok(Self(points::decode_g2(bytes)?))
    }

    pub(crate) fn from_point(point: G2Affine) -> Self {
        Self(point)
    }

    pub fn point(&self) -> &G2Affine {
        &self.0
    }

    /// The 96-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_BYTES] {
        compress_g2(&self.0)
    }
}

/// Deserialization of a public key's point without KeyValidate: a canonical compressed
/// encoding of a point of the prime-order subgroup, the point at infinity included.
pub fn deserialize_g1(bytes: &[u8]) -> Result<G1Affine, DecodeError> {
    compressed_only(bytes, PUBLIC_KEY_BYTES)?;
    points::decode_g1(bytes)
}

/// signature_to_point: a canonical compressed encoding of a G2 point on the curve, not
/// checked for subgroup membership (aggregation sums such points; verification checks).
pub fn signature_to_point(bytes: &[u8]) -> Result<G2Affine, DecodeError> {
    compressed_only(bytes, SIGNATURE_BYTES)?;
    points::decode_g2_on_curve(bytes)
}

/// Ethereum accepts only compressed encodings, of exactly `expected` bytes.
fn compressed_only(bytes: &[u8], expected: usize) -> Result<(), DecodeError> {
    if bytes.len() != expected {
        return Err(DecodeError::Length {
            expected,
            got: bytes.len(),
        });
    }
    Ok(())
}

/// Shards of the cache: enough that threads decoding one batch rarely wait on each other.
const SHARDS: usize = 16;

/// A bounded cache of validated public keys, keyed by their compressed bytes.
///
/// Validators sign with the same keys all day and the subgroup check dominates the cost
/// of decoding a key, so each key is validated once. Only keys that passed KeyValidate
/// are stored. When a shard is full an arbitrary entry makes room: no order is kept, so
/// an entry costs its key and point only (about 150 bytes with the table's slack, where a
/// queue for first-in-first-out cost a third more).
pub struct PublicKeyCache {
    shards: Vec<Mutex<Shard>>,
    shard_capacity: usize,
}

#[derive(Default)]
struct Shard {
    keys: HashMap<[u8; PUBLIC_KEY_BYTES], PublicKey>,
}

impl PublicKeyCache {
    /// A cache holding up to about `capacity` keys (0 disables caching).
    pub fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            shard_capacity: capacity.div_ceil(SHARDS),
        }
    }

    /// The validated key for `bytes`, from the cache or decoded and validated now.
    pub fn get_or_decode(&self, bytes: &[u8]) -> Result<PublicKey, DecodeError> {
        let Ok(key) = <[u8; PUBLIC_KEY_BYTES]>::try_from(bytes) else {
            return PublicKey::from_bytes(bytes);
        };
        if self.shard_capacity == 0 {
            return PublicKey::from_bytes(bytes);
        }
        let shard = &self.shards[usize::from(key[PUBLIC_KEY_BYTES - 1]) % SHARDS];
        if let Some(pk) = lock(shard).keys.get(&key) {
            return Ok(*pk);
        }
        let pk = PublicKey::from_bytes(bytes)?;
        let mut shard = lock(shard);
        if !shard.keys.contains_key(&key) && shard.keys.len() >= self.shard_capacity {
            let some = *shard.keys.keys().next().expect("a full shard has keys");
            shard.keys.remove(&some);
        }
        shard.keys.insert(key, pk);
        Ok(pk)
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).keys.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Locks a shard; a panic elsewhere cannot leave a shard half-updated, so poisoning is ignored.
fn lock(shard: &Mutex<Shard>) -> std::sync::MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(|e| e.into_inner())
}
