//! Signature sets: the unit of batch verification.
//!
//! A set is one signature, one or more public keys, and either one message that every
//! key signed (FastAggregateVerify; Verify when there is one key) or one message per key
//! (AggregateVerify). Decoding turns the bytes into a [`ValidSet`]: validated points,
//! with the keys of a one-message set already summed, as (key, message) pairs.

use blst::blst_p1_affine;
use rayon::prelude::*;

use super::keys::{PublicKeyCache, Signature};
use crate::backend::Backend;
use crate::error::InputError;
use crate::points;

/// A signature set as received, still in bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignatureSet {
    /// 96-byte compressed G2 signature.
    pub signature: Vec<u8>,
    /// 48-byte compressed G1 public keys, at least one.
    pub public_keys: Vec<Vec<u8>>,
    /// One message signed by every key, or one message per key.
    pub messages: Vec<Vec<u8>>,
}

/// A decoded set whose points all passed validation.
#[derive(Clone, Debug)]
pub(crate) struct ValidSet<'a> {
    pub(crate) signature: Signature,
    /// (public key, message) pairs; for a one-message set, a single pair holding the sum
    /// of the keys.
    pub(crate) pairs: Vec<(blst_p1_affine, &'a [u8])>,
}

impl SignatureSet {
    /// Decodes and validates the set; keys come from (and go to) `cache`.
    ///
    /// `Ok(None)` is a well-formed set that is certainly invalid: the keys of a
    /// one-message set sum to the point at infinity, which fails KeyValidate as the
    /// aggregate key of FastAggregateVerify.
    pub(crate) fn decode<'a>(
        &'a self,
        cache: &PublicKeyCache,
        backend: &dyn Backend,
    ) -> Result<Option<ValidSet<'a>>, InputError> {
        if self.public_keys.is_empty() {
            return Err(InputError::new("public_keys", None, "no public keys"));
        }
        if self.messages.len() != 1 && self.messages.len() != self.public_keys.len() {
            return Err(InputError::new(
                "messages",
                None,
                format!(
                    "{} messages for {} public keys: expected 1 (signed by every key) or one per key",
                    self.messages.len(),
                    self.public_keys.len()
                ),
            ));
        }
        let signature = Signature::from_bytes(&self.signature)
            .map_err(|e| InputError::new("signature", None, e))?;
        // A committee's keys are decoded on every core (a subgroup check each); the
        // first bad key is the one reported, whatever order the cores finish in.
        let decoded: Vec<Result<blst_p1_affine, _>> = self
            .public_keys
            .par_iter()
            .with_min_len(PER_TASK)
            .map(|bytes| cache.get_or_decode(bytes).map(|pk| *pk.point()))
            .collect();
        let keys = decoded
            .into_iter()
            .enumerate()
            .map(|(i, key)| key.map_err(|e| InputError::new("public_keys", Some(i), e)))
            .collect::<Result<Vec<_>, _>>()?;
        let pairs = if self.messages.len() == self.public_keys.len() {
            keys.into_iter()
                .zip(self.messages.iter().map(Vec::as_slice))
                .collect()
        } else {
            let sum = if keys.len() == 1 {
                keys[0]
            } else {
                points::p1_affine(&backend.g1_sum(&keys))
            };
            if points::g1_is_infinity(&sum) {
                return Ok(None);
            }
            vec![(sum, self.messages[0].as_slice())]
        };
        Ok(Some(ValidSet { signature, pairs }))
    }
}

/// Keys one parallel task decodes at least: below this a set's keys are decoded on the
/// task that decodes the set.
const PER_TASK: usize = 32;

/// Decodes many sets on every core.
pub(crate) fn decode_all<'a>(
    sets: &'a [SignatureSet],
    cache: &PublicKeyCache,
    backend: &dyn Backend,
) -> Vec<Result<Option<ValidSet<'a>>, InputError>> {
    sets.par_iter()
        .map(|set| set.decode(cache, backend))
        .collect()
}
