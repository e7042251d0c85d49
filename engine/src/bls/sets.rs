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

use super::keys::{PublicKey, PublicKeyCache, Signature};
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

/// A signature set of points already decoded and validated, borrowed as Lighthouse's
/// signature sets borrow them: for callers that keep validated keys (a node's key
/// cache, a validator client) and should not pay to decode them again. The rules on
/// the set's shape are those of [`SignatureSet`]: at least one key, one message for
/// all or one per key, and distinct messages under the basic scheme.
#[derive(Clone, Debug)]
pub struct DecodedSet<'a> {
    pub signature: &'a Signature,
    pub public_keys: Vec<&'a PublicKey>,
    /// One message signed by every key, or one message per key.
    pub messages: Vec<&'a [u8]>,
}

impl DecodedSet<'_> {
    /// The set as the scheme's verification pairs it up; `Ok(None)` and the errors as
    /// for [`SignatureSet`], without decoding anything.
    pub(crate) fn validate(
        &self,
        scheme: Scheme,
        backend: &dyn Backend,
    ) -> Result<Option<ValidSet<'_>>, InputError> {
        check_shape(self.public_keys.len(), &self.messages, scheme)?;
        let keys = self.public_keys.iter().map(|k| *k.point()).collect();
        Ok(pair_up(
            *self.signature,
            keys,
            &self.messages,
            scheme,
            backend,
        ))
    }
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
        check_shape(self.public_keys.len(), &self.messages, scheme)?;
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
        Ok(pair_up(signature, keys, &self.messages, scheme, backend))
    }
}

/// The rules on a set's shape, checked before any point is decoded: at least one key,
/// one message for all keys or one per key, and under the basic scheme distinct
/// messages (AggregateVerify's precondition; a one-message set of several keys would
/// repeat its message).
fn check_shape<M: AsRef<[u8]>>(
    keys: usize,
    messages: &[M],
    scheme: Scheme,
) -> Result<(), InputError> {
    if keys == 0 {
        return Err(InputError::new(
            Field::PublicKeys,
            None,
            ErrorKind::NoPublicKeys,
        ));
    }
    if messages.len() != 1 && messages.len() != keys {
        return Err(InputError::new(
            Field::Messages,
            None,
            ErrorKind::MessageCount {
                messages: messages.len(),
                keys,
                one_for_all: true,
            },
        ));
    }
    if scheme == Scheme::Basic {
        check_distinct_messages(keys, messages)?;
    }
    Ok(())
}

/// The (key, message) pairs `scheme` verifies, from validated points of a set whose
/// shape passed [`check_shape`]; `None` when the keys of a one-message set sum to the
/// point at infinity (which fails KeyValidate as FastAggregateVerify's aggregate key).
fn pair_up<'a, M: AsRef<[u8]>>(
    signature: Signature,
    keys: Vec<G1Affine>,
    messages: &'a [M],
    scheme: Scheme,
    backend: &dyn Backend,
) -> Option<ValidSet<'a>> {
    let message = |i: usize| messages[i.min(messages.len() - 1)].as_ref();
    let pairs = if scheme == Scheme::MessageAugmentation {
        keys.into_iter()
            .enumerate()
            .map(|(i, key)| {
                let signed = scheme::augmented(&compress_g1(&key), message(i));
                (key, Cow::Owned(signed))
            })
            .collect()
    } else if messages.len() == keys.len() {
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
            return None;
        }
        vec![(sum, Cow::Borrowed(message(0)))]
    };
    Some(ValidSet { signature, pairs })
}

/// The basic scheme's AggregateVerify requires distinct messages: the first repeat is
/// named. Messages are compared sorted, so a set of n keys costs n log n comparisons.
fn check_distinct_messages<M: AsRef<[u8]>>(keys: usize, messages: &[M]) -> Result<(), InputError> {
    if messages.len() == 1 && keys > 1 {
        return Err(InputError::new(
            Field::Messages,
            None,
            ErrorKind::OneMessageUnderBasic { keys },
        ));
    }
    let text = |i: usize| messages[i].as_ref();
    let mut order: Vec<usize> = (0..messages.len()).collect();
    order.sort_unstable_by(|&a, &b| text(a).cmp(text(b)).then(a.cmp(&b)));
    let repeat = order
        .windows(2)
        .filter(|w| text(w[0]) == text(w[1]))
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
