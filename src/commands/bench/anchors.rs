//! The anchors: what a user would run instead of veribatch for the same work, measured
//! beside it on the same inputs. The criterion benches (benches/engine.rs) use them too.

use ark_bls12_381::{Bls12_381, Fr};
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof, VerifyingKey};
use ark_serialize::CanonicalDeserialize;
use ark_snark::SNARK;
use blst::min_pk::{PublicKey, Signature};
use rayon::prelude::*;
use veribatch_engine::bls::{ETH_DST, SignatureSet};
use veribatch_engine::transparency_log::InclusionProof;

/// blst's own batch verification of single-key sets: decoding and validating every key
/// and signature on all cores, then `verify_multiple_aggregate_signatures` with 64-bit
/// random scalars from the OS. False if anything fails to decode or verify.
pub fn blst_batch(sets: &[SignatureSet]) -> bool {
    let decoded: Option<Vec<(PublicKey, Signature)>> = sets
        .par_iter()
        .map(|s| {
            let key = PublicKey::key_validate(s.public_keys.first()?).ok()?;
            let signature = Signature::sig_validate(&s.signature, true).ok()?;
            Some((key, signature))
        })
        .collect();
    let Some(decoded) = decoded else {
        return false;
    };
    let mut random = vec![0u8; 8 * sets.len()];
    if getrandom::fill(&mut random).is_err() {
        return false;
    }
    let scalars: Vec<blst::blst_scalar> = random
        .chunks(8)
        .map(|c| {
            let mut s = blst::blst_scalar::default();
            s.b[..8].copy_from_slice(c);
            s
        })
        .collect();
    let messages: Vec<&[u8]> = sets.iter().map(|s| s.messages[0].as_slice()).collect();
    let keys: Vec<&PublicKey> = decoded.iter().map(|d| &d.0).collect();
    let signatures: Vec<&Signature> = decoded.iter().map(|d| &d.1).collect();
    Signature::verify_multiple_aggregate_signatures(
        &messages,
        ETH_DST,
        &keys,
        false,
        &signatures,
        false,
        &scalars,
        64,
    ) == blst::BLST_ERROR::BLST_SUCCESS
}

/// Committee keys decoded and validated on all cores.
pub fn blst_keys(keys: &[Vec<u8>]) -> Option<Vec<PublicKey>> {
    keys.par_iter()
        .map(|k| PublicKey::key_validate(k).ok())
        .collect()
}

/// blst's FastAggregateVerify over already-validated keys; the signature is decoded and
/// group-checked each time.
pub fn blst_fast_aggregate(keys: &[PublicKey], message: &[u8], signature: &[u8]) -> bool {
    let Ok(signature) = Signature::sig_validate(signature, true) else {
        return false;
    };
    let keys: Vec<&PublicKey> = keys.iter().collect();
    signature.fast_aggregate_verify(true, message, ETH_DST, &keys) == blst::BLST_ERROR::BLST_SUCCESS
}

/// A Merkle root with hashtree, level by level on one thread. `chunks` holds a power of
/// two of 32-byte chunks.
pub fn hashtree_root(chunks: &[u8]) -> [u8; 32] {
    hashtree_rs::init();
    let mut level = chunks.to_vec();
    while level.len() > 32 {
        let mut next = vec![0u8; level.len() / 2];
        hashtree_rs::hash(&mut next, &level, level.len() / 64);
        level = next;
    }
    level.try_into().expect("a power of two of chunks")
}

/// A Merkle root with hashtree, each level split across all cores. `chunks` holds a power
/// of two of 32-byte chunks.
pub fn hashtree_root_all_cores(chunks: &[u8]) -> [u8; 32] {
    hashtree_rs::init();
    let mut level = chunks.to_vec();
    while level.len() > 32 {
        let mut next = vec![0u8; level.len() / 2];
        let piece = (level.len() / 64)
            .div_ceil(rayon::current_num_threads())
            .max(1);
        next.par_chunks_mut(32 * piece)
            .zip(level.par_chunks(64 * piece))
            .for_each(|(out, blocks)| hashtree_rs::hash(out, blocks, blocks.len() / 64));
        level = next;
    }
    level.try_into().expect("a power of two of chunks")
}

/// A Merkle root with sha2 (SHA-NI when the CPU has it), level by level on one thread.
/// `chunks` holds a power of two of 32-byte chunks.
pub fn sha2_root(chunks: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    plain_root(chunks, |pair| Sha256::digest(pair).into())
}

/// The root of a power of two of chunks with nodes `hash(left ‖ right)`, one level
/// after another on one thread.
pub fn plain_root(chunks: &[u8], hash: impl Fn(&[u8]) -> [u8; 32]) -> [u8; 32] {
    let mut level = chunks.to_vec();
    while level.len() > 32 {
        let mut next = Vec::with_capacity(level.len() / 2);
        for pair in level.chunks(64) {
            next.extend_from_slice(&hash(pair));
        }
        level = next;
    }
    level.try_into().expect("a power of two of chunks")
}

/// ark-groth16 with a processed key: each proof decoded (with validation) and verified
/// on its own, as `verify_with_processed_vk` is used.
pub struct ArkGroth16 {
    key: PreparedVerifyingKey<Bls12_381>,
}

impl ArkGroth16 {
    /// From a key in arkworks' compressed serialization.
    pub fn new(key: &[u8]) -> Result<Self, String> {
        let key = VerifyingKey::<Bls12_381>::deserialize_compressed(key)
            .map_err(|e| format!("arkworks rejects the key: {e}"))?;
        let key = Groth16::<Bls12_381>::process_vk(&key)
            .map_err(|e| format!("arkworks cannot process the key: {e}"))?;
        Ok(Self { key })
    }

    /// Whether a compressed proof with big-endian public inputs verifies.
    pub fn verify(&self, proof: &[u8], inputs: &[Vec<u8>]) -> bool {
        let Ok(proof) = Proof::<Bls12_381>::deserialize_compressed(proof) else {
            return false;
        };
        let inputs: Vec<Fr> = inputs
            .iter()
            .map(|b| <Fr as ark_ff::PrimeField>::from_be_bytes_mod_order(b))
            .collect();
        Groth16::<Bls12_381>::verify_with_processed_vk(&self.key, &inputs, &proof).unwrap_or(false)
    }
}

/// RFC 9162's tree head written plainly on one thread with sha2 (SHA-NI when the CPU has
/// it): every leaf hash, then level by level, a last odd node carried up unchanged (the
/// left-balanced tree §2.1.1 defines).
pub fn plain_log_head<T: AsRef<[u8]>>(leaves: &[T]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    if leaves.is_empty() {
        return Sha256::digest([]).into();
    }
    let mut level: Vec<[u8; 32]> = leaves
        .iter()
        .map(|l| {
            Sha256::new()
                .chain_update([0])
                .chain_update(l)
                .finalize()
                .into()
        })
        .collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => Sha256::new()
                    .chain_update([1])
                    .chain_update(l)
                    .chain_update(r)
                    .finalize()
                    .into(),
                [odd] => *odd,
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    level[0]
}

/// An inclusion proof in a perfect tree checked plainly with sha2, one proof at a time:
/// the path's nodes go left or right of the running hash by the bits of the index, as
/// §2.1.3.2 reduces to when the size is a power of two and the path as long as its log.
pub fn plain_log_inclusion(proof: &InclusionProof) -> bool {
    use sha2::{Digest, Sha256};
    if !proof.size.is_power_of_two()
        || proof.index >= proof.size
        || proof.path.len() != proof.size.trailing_zeros() as usize
    {
        return false;
    }
    let mut r = proof.leaf_hash;
    for (h, node) in proof.path.iter().enumerate() {
        let (l, rr) = if proof.index >> h & 1 == 1 {
            (node, &r)
        } else {
            (&r, node)
        };
        r = Sha256::new()
            .chain_update([1])
            .chain_update(l)
            .chain_update(rr)
            .finalize()
            .into();
    }
    r == proof.root
}
