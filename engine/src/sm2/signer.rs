//! A signer as verification needs it: the public key validated, its odd multiples
//! precomputed and its Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) computed, kept in
//! a bounded cache by (key, ID), since accounts sign many transactions with one key and
//! one ID.
//!
//! A signer used [`TABLE_AFTER_USES`] times gets a fixed-base table of its key (65
//! windows of 4 bits, 32 KiB, about three verifications' work to build): [t]P then takes
//! 65 mixed additions instead of 256 doublings and 43 additions, about 2.5 times fewer
//! field multiplications. The cache lends at most a set number of tables at once.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::curves::sm2p256v1::{
    FixedBase, Jacobian, OddMultiples, Point, PointError, Scalar, params,
};
use crate::sm3::Sm3;

/// The signer ID of GM/T 0009-2012 that OpenSSL and GmSSL use when none is given.
pub const DEFAULT_ID: &[u8] = b"1234567812345678";

/// The longest ID: ENTL, its length in bits, is a 16-bit integer.
pub const MAX_ID_BYTES: usize = 8191;

/// Verifications of one signer before it gets a table of its own: a key seen a few
/// times only never pays for one.
pub const TABLE_AFTER_USES: u32 = 8;

/// Bits per window of a key's table.
const KEY_TABLE_BITS: usize = 4;

/// A validated public key with what verifying its signatures needs.
#[derive(Debug)]
pub struct Signer {
    pub key: Point,
    multiples: OddMultiples,
    /// Z_A of the standard: the hash of the ID, the curve and the key.
    pub z: [u8; 32],
    uses: AtomicU32,
    table: OnceLock<KeyTable>,
    /// Where tables are lent from; `None` for a signer outside a cache.
    tables: Option<Arc<TableBudget>>,
}

/// How many key tables may exist at once.
#[derive(Debug)]
struct TableBudget {
    left: AtomicUsize,
}

impl TableBudget {
    fn try_take(&self) -> bool {
        self.left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    }

    fn give_back(&self) {
        self.left.fetch_add(1, Ordering::AcqRel);
    }
}

/// A key's fixed-base table, returned to its budget when dropped with its signer.
#[derive(Debug)]
struct KeyTable {
    base: FixedBase,
    tables: Arc<TableBudget>,
}

impl Drop for KeyTable {
    fn drop(&mut self) {
        self.tables.give_back();
    }
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
            uses: AtomicU32::new(0),
            table: OnceLock::new(),
            tables: None,
        })
    }

    /// [t]P for this signer's key P: from its table if it has one (or has just earned
    /// one and the budget allows), else from its odd multiples.
    pub fn mul(&self, t: &Scalar) -> Jacobian {
        if let Some(table) = self.table.get() {
            return table.base.mul(t);
        }
        let uses = self.uses.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        if let Some(tables) = &self.tables
            && uses >= TABLE_AFTER_USES
            && tables.try_take()
        {
            let mut built = false;
            let table = self.table.get_or_init(|| {
                built = true;
                KeyTable {
                    base: FixedBase::new(self.key.affine(), KEY_TABLE_BITS),
                    tables: Arc::clone(tables),
                }
            });
            if !built {
                // Another thread built it first: its loan stands, not this one.
                tables.give_back();
            }
            return table.base.mul(t);
        }
        self.multiples.mul(t)
    }

    /// Whether this signer has a table of its own.
    pub fn has_table(&self) -> bool {
        self.table.get().is_some()
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

/// Signers by (encoded key, ID).
type Shard = HashMap<(Vec<u8>, Vec<u8>), Arc<Signer>>;

/// Signers by (encoded key, ID), at most about `capacity` of them; a full shard drops
/// an entry to make room.
pub struct SignerCache {
    shards: Vec<Mutex<Shard>>,
    shard_capacity: usize,
    hasher: RandomState,
    tables: Arc<TableBudget>,
}

impl SignerCache {
    /// A cache of about `capacity` signers (0 disables it), each about 700 bytes and its
    /// ID, of which at most `tables` hold a key table (32 KiB each) at once. A table
    /// goes back to the budget when its signer is evicted, so while the cache has room
    /// the first keys to earn tables keep them.
    pub fn new(capacity: usize, tables: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            shard_capacity: capacity.div_ceil(SHARDS),
            hasher: RandomState::new(),
            tables: Arc::new(TableBudget {
                left: AtomicUsize::new(tables),
            }),
        }
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get_or_make(&self, public_key: &[u8], id: &[u8]) -> Result<Arc<Signer>, SignerError> {
        // What cannot be a signer is refused before it is copied and hashed as a key.
        let impossible = id.len() > MAX_ID_BYTES || !matches!(public_key.len(), 33 | 65);
        if self.shard_capacity == 0 || impossible {
            return Signer::new(public_key, id).map(Arc::new);
        }
        let entry = (public_key.to_vec(), id.to_vec());
        let shard = &self.shards[self.hasher.hash_one(&entry) as usize % SHARDS];
        if let Some(signer) = lock(shard).get(&entry) {
            return Ok(Arc::clone(signer));
        }
        let mut signer = Signer::new(public_key, id)?;
        signer.tables = Some(Arc::clone(&self.tables));
        let signer = Arc::new(signer);
        let mut shard = lock(shard);
        if !shard.contains_key(&entry) && shard.len() >= self.shard_capacity {
            let some = shard
                .keys()
                .next()
                .expect("a full shard has entries")
                .clone();
            shard.remove(&some);
        }
        shard.insert(entry, Arc::clone(&signer));
        Ok(signer)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
