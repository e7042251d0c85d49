//! Signature sets: the unit of batch verification.
//!
//! A set is one signature, one or more public keys, and either one message that every
//! key signed (FastAggregateVerify; Verify when there is one key) or one message per key
//! (AggregateVerify). Decoding turns the bytes into a [`ValidSet`]: validated points as
//! the (key, message) pairs the scheme's verification pairs up: for proof of possession
//! the keys of a one-message set summed into one pair, for message augmentation each
//! message prefixed with its key, for the basic scheme the pairs as given once their
//! messages are known to be distinct.

use crate::curves::bls12_381::G1Affine;
use std::borrow::Cow;

use rayon::prelude::*;

use super::keys::{PublicKeyCache, Signature};
use super::scheme::{self, Scheme};
use crate::backend::Backend;
use crate::curves::bls12_381::{self as points, compress_g1};
use crate::error::{ErrorKind, Field, InputError};
use crate::json::{self, JsonError};

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
    /// (public key, message) pairs: under proof of possession, a one-message set is a
    /// single pair holding the sum of the keys; under message augmentation each message
    /// is the key's compressed encoding followed by the message.
    pub(crate) pairs: Vec<(G1Affine, Cow<'a, [u8]>)>,
}

impl SignatureSet {
    /// A set from its JSON record, as `veribatch verify bls` reads them:
    /// `{"signature": "0x…", "pubkeys": ["0x…", …], "messages": ["0x…", …]}`, with
    /// `"message": "0x…"` accepted for one message.
    pub fn from_json(record: &serde_json::Value) -> Result<Self, JsonError> {
        if !record.is_object() {
            return Err(JsonError::NotAnObject);
        }
        let messages = match (record.get("messages"), record.get("message")) {
            (Some(_), None) => json::hex_list_field(record, "messages")?,
            (None, Some(_)) => vec![json::hex_field(record, "message")?],
            (Some(_), Some(_)) => return Err(JsonError::Both("messages", "message")),
            (None, None) => return Err(JsonError::Missing("messages")),
        };
        Ok(Self {
            signature: json::hex_field(record, "signature")?,
            public_keys: json::hex_list_field(record, "pubkeys")?,
            messages,
        })
    }

    /// Decodes and validates the set for `scheme`; keys come from (and go to) `cache`.
    ///
    /// `Ok(None)` is a well-formed set that is certainly invalid: the keys of a
    /// one-message set sum to the point at infinity, which fails KeyValidate as the
    /// aggregate key of FastAggregateVerify. Under the basic scheme a set whose messages
    /// repeat is an error naming the repeat (AggregateVerify's precondition), and so is a
    /// one-message set of several keys (FastAggregateVerify is not a basic-scheme
    /// operation; the same message for every key would repeat).
    pub(crate) fn decode<'a>(
        &'a self,
        scheme: Scheme,
        cache: &PublicKeyCache,
        backend: &dyn Backend,
    ) -> Result<Option<ValidSet<'a>>, InputError> {
        if self.public_keys.is_empty() {
            return Err(InputError::new(
                Field::PublicKeys,
                None,
                ErrorKind::NoPublicKeys,
            ));
        }
        if self.messages.len() != 1 && self.messages.len() != self.public_keys.len() {
            return Err(InputError::new(
                Field::Messages,
                None,
                ErrorKind::MessageCount {
                    messages: self.messages.len(),
                    keys: self.public_keys.len(),
                    one_for_all: true,
                },
            ));
        }
        if scheme == Scheme::Basic {
            self.check_distinct_messages()?;
        }
        let signature = Signature::from_bytes(&self.signature)
            .map_err(|e| InputError::new(Field::Signature, None, e))?;
        // A committee's keys are decoded on every core (a subgroup check each); the
        // first bad key is the one reported, whatever order the cores finish in.
        let decoded: Vec<Result<G1Affine, _>> = self
            .public_keys
            .par_iter()
            .with_min_len(PER_TASK)
            .map(|bytes| cache.get_or_decode(bytes).map(|pk| *pk.point()))
            .collect();
        let keys = decoded
            .into_iter()
            .enumerate()
            .map(|(i, key)| key.map_err(|e| InputError::new(Field::PublicKeys, Some(i), e)))
            .collect::<Result<Vec<_>, _>>()?;
        let message = |i: usize| self.messages[i.min(self.messages.len() - 1)].as_slice();
        let pairs = if scheme == Scheme::MessageAugmentation {
            keys.into_iter()
                .enumerate()
                .map(|(i, key)| {
                    let signed = scheme::augmented(&compress_g1(&key), message(i));
                    (key, Cow::Owned(signed))
                })
                .collect()
        } else if self.messages.len() == self.public_keys.len() {
            keys.into_iter()
                .enumerate()
                .map(|(i, key)| (key, Cow::Borrowed(message(i))))
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
            vec![(sum, Cow::Borrowed(message(0)))]
        };
        Ok(Some(ValidSet { signature, pairs }))
    }

    /// The basic scheme's AggregateVerify requires distinct messages: the first repeat is
    /// named. Messages are compared sorted, so a set of n keys costs n log n comparisons.
    fn check_distinct_messages(&self) -> Result<(), InputError> {
        if self.messages.len() == 1 && self.public_keys.len() > 1 {
            return Err(InputError::new(
                Field::Messages,
                None,
                ErrorKind::OneMessageUnderBasic {
                    keys: self.public_keys.len(),
                },
            ));
        }
        let mut order: Vec<usize> = (0..self.messages.len()).collect();
        order.sort_unstable_by(|&a, &b| self.messages[a].cmp(&self.messages[b]).then(a.cmp(&b)));
        let repeat = order
            .windows(2)
            .filter(|w| self.messages[w[0]] == self.messages[w[1]])
            .map(|w| (w[0], w[1]))
            .min_by_key(|&(_, later)| later);
        match repeat {
            Some((first, later)) => Err(InputError::new(
                Field::Messages,
                Some(later),
                ErrorKind::RepeatedMessage { first },
            )),
            None => Ok(()),
        }
    }
}

/// Keys one parallel task decodes at least: below this a set's keys are decoded on the
/// task that decodes the set.
const PER_TASK: usize = 32;

/// Decodes many sets on every core.
pub(crate) fn decode_all<'a>(
    sets: &'a [SignatureSet],
    scheme: Scheme,
    cache: &PublicKeyCache,
    backend: &dyn Backend,
) -> Vec<Result<Option<ValidSet<'a>>, InputError>> {
    sets.par_iter()
        .map(|set| set.decode(scheme, cache, backend))
        .collect()
}
