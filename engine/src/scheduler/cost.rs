//! What verifying each kind of item costs, in one unit for the whole project (about a
//! hash to the curve or a pairing): the scheduler bounds batches and queues with it, the
//! service bounds requests and charges callers' quotas with it.

/// A signature set: a hash to the curve and a pairing per message, an addition per key.
pub fn signature_set(public_keys: usize, messages: usize) -> u64 {
    (public_keys + messages).max(1) as u64
}

/// A Groth16 proof: its pairings, and a scalar multiplication per public input.
pub fn groth16_proof(public_inputs: usize) -> u64 {
    1 + public_inputs as u64
}

/// An SM2 signature of `bytes` bytes of message, key, ID and signature: two scalar
/// multiplications (a tenth of a pairing, counted as a whole unit so that a unit bounds
/// the work of anything) and the SM3 of its bytes, priced as SM3 Merkle chunks.
pub fn sm2_signature(bytes: usize) -> u64 {
    1 + (bytes as u64 / 64 * SM3_PER_SHA256).div_ceil(CHUNKS_PER_UNIT)
}

/// A Merkle proof: a unit per leaf and per helper node, whatever the hash: a unit is a
/// thousand compressions in a root, so it prices a proof's bookkeeping per node (a map
/// of the nodes known) far above the node's hash, SM3's included.
pub fn merkle_proof(leaves: usize, helpers: usize) -> u64 {
    (leaves + helpers) as u64
}

/// Chunks hashed per unit of a Merkle root: a SHA-256 compression costs about a
/// thousandth of a pairing.
pub const CHUNKS_PER_UNIT: u64 = 1024;

/// A Merkle root of `chunks` chunks (a whole 64 MiB message costs 2,048).
pub fn merkle_root(chunks: usize) -> u64 {
    (chunks as u64).div_ceil(CHUNKS_PER_UNIT).max(1)
}

/// SM3 compressions per SHA-256 one, in time: SM3 has no instructions of its own.
pub const SM3_PER_SHA256: u64 = 4;

/// A Merkle root of `chunks` chunks with nodes made by `hash`.
pub fn tree_root(hash: crate::merkle::TreeHash, chunks: usize) -> u64 {
    match hash {
        crate::merkle::TreeHash::Sha256 => merkle_root(chunks),
        crate::merkle::TreeHash::Sm3 => merkle_root(chunks) * SM3_PER_SHA256,
    }
}

/// A transparency-log tree head of `leaves` leaves holding `bytes` bytes of data, made
/// by `hash`: two compressions per leaf (its leaf hash, its share of the nodes) and one
/// per 64 bytes, priced as a Merkle root's chunks of the same hash.
pub fn log_root(hash: crate::merkle::TreeHash, leaves: usize, bytes: usize) -> u64 {
    let compressions = 2 * leaves as u64 + bytes as u64 / 64;
    let compressions = match hash {
        crate::merkle::TreeHash::Sha256 => compressions,
        crate::merkle::TreeHash::Sm3 => compressions * SM3_PER_SHA256,
    };
    compressions.div_ceil(CHUNKS_PER_UNIT).max(1)
}

/// An RFC 9162 proof with `nodes` nodes in its path, priced as a Merkle proof's nodes,
/// and `leaf_bytes` of leaf data to hash with `hash`, priced as a tree head's.
pub fn log_proof(hash: crate::merkle::TreeHash, nodes: usize, leaf_bytes: usize) -> u64 {
    let blocks = leaf_bytes as u64 / 64;
    let blocks = match hash {
        crate::merkle::TreeHash::Sha256 => blocks,
        crate::merkle::TreeHash::Sm3 => blocks * SM3_PER_SHA256,
    };
    nodes as u64 + 1 + blocks.div_ceil(CHUNKS_PER_UNIT)
}

/// The search for `invalid` bad items among `items` that cost `cost` together, beyond
/// that cost: each bad item costs about one check per level of the search (log2 of the
/// items) of its share.
pub fn search(items: usize, invalid: usize, cost: u64) -> u64 {
    if invalid == 0 || items == 0 {
        return 0;
    }
    let levels = u64::from(items.ilog2()) + 1;
    invalid as u64 * levels * cost.div_ceil(items as u64)
}
