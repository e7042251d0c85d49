//! A signer as verification needs it: the public key validated, its odd multiples
//! precomputed and its Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) computed, kept in
//! a bounded cache by (key, ID), since accounts sign many transactions with one key and
//! one ID.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};

use crate::curves::sm2p256v1::{OddMultiples, Point, PointError, params};
use crate::sm3::Sm3;

/// The signer ID of GM/T 0009-2012 that OpenSSL and GmSSL use when none is given.
pub const DEFAULT_ID: &[u8] = b"1234567812345678";

/// The longest ID: ENTL, its length in bits, is a 16-bit integer.
pub const MAX_ID_BYTES: usize = 8191;

/// A validated public key with what verifying its signatures needs.
#[derive(Debug)]
pub struct Signer {
    pub key: Point,
    pub multiples: OddMultiples,
    /// Z_A of the standard: the hash of the ID, the curve and the key.
    pub z: [u8; 32],
}

/// Why a key and an ID are not a signer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignerError {
    #[error(transparent)]
    Key(#[from] PointError),
    #[error("the ID has {0} bytes; at most 8191 (its length in bits is 16 bits)")]
    IdTooLong(usize),
}

impl Signer {
    pub fn new(public_key: &[u8], id: &[u8]) -> Result<Self, SignerError> {
        if id.len() > MAX_ID_BYTES {
            return Err(SignerError::IdTooLong(id.len()));
        }
        let key = Point::from_sec1(public_key)?;
        Ok(Self {
            multiples: OddMultiples::of(&key),
            z: z(id, &key),
            key,
        })
    }
}

/// Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A), GB/T 32918.2 §5.5.
pub fn z(id: &[u8], key: &Point) -> [u8; 32] {
    let bits = u16::try_from(id.len() * 8).expect("ID length checked");
    let encoded = key.to_uncompressed();
    let mut hasher = Sm3::new();
    hasher
        .update(&bits.to_be_bytes())
        .update(id)
        .update(&params::A)
        .update(&params::B)
        .update(&params::GX)
        .update(&params::GY)
        .update(&encoded[1..]);
    hasher.finalize()
}

const SHARDS: usize = 16;

/// Signers by (encoded key, ID), at most about `capacity` of them; a full shard drops
/// an entry to make room.
pub struct SignerCache {
    shards: Vec<Mutex<HashMap<(Vec<u8>, Vec<u8>), Arc<Signer>>>>,
    shard_capacity: usize,
    hasher: RandomState,
}

impl SignerCache {
    /// A cache of about `capacity` signers (0 disables it). Each holds about 700 bytes.
    pub fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            shard_capacity: capacity.div_ceil(SHARDS),
            hasher: RandomState::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get_or_make(&self, public_key: &[u8], id: &[u8]) -> Result<Arc<Signer>, SignerError> {
        if self.shard_capacity == 0 {
            return Signer::new(public_key, id).map(Arc::new);
        }
        let entry = (public_key.to_vec(), id.to_vec());
        let shard = &self.shards[self.hasher.hash_one(&entry) as usize % SHARDS];
        if let Some(signer) = lock(shard).get(&entry) {
            return Ok(Arc::clone(signer));
        }
        let signer = Arc::new(Signer::new(public_key, id)?);
        let mut shard = lock(shard);
        if !shard.contains_key(&entry) && shard.len() >= self.shard_capacity {
            let some = shard.keys().next().expect("a full shard has entries").clone();
            shard.remove(&some);
        }
        shard.insert(entry, Arc::clone(&signer));
        Ok(signer)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
