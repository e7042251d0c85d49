//! SM2 digital signatures (GM/T 0003.2-2012, GB/T 32918.2-2016) on sm2p256v1, verified
//! one by one exactly as the standard says, on every core:
//!
//! 1. r and s in [1, n − 1] ([`Signature::from_bytes`]);
//! 2. e = SM3(Z_A ‖ M), or a digest e the caller computed;
//! 3. t = (r + s) mod n, and t ≠ 0;
//! 4. (x1, y1) = [s]G + [t]P_A, not infinity;
//! 5. valid iff (e + x1) mod n = r.
//!
//! Step 5 is checked without an inversion: x1 ≡ r − e (mod n) and x1 < p, so x1 is
//! v = (r − e) mod n or v + n (when below p), and X = x1·Z² is tested for each.
//!
//! There is no randomized batch equation: only x1 can be recovered from r and e, not the
//! point R, so a sum of many R's could only be checked by guessing the y of each, and
//! one well-made verification each (fixed-base table for G, odd multiples of P cached
//! with the key) is the sound and honest choice.

mod signature;
pub mod signer;
pub mod signing;

pub use signature::{DerError, Part, Signature, SignatureError};
pub use signer::{DEFAULT_ID, MAX_ID_BYTES, Signer, SignerCache, SignerError, TABLE_AFTER_USES};

use crate::curves::montgomery::{add_limbs, limbs_from_be};
use crate::curves::sm2p256v1::{Jacobian, Scalar, mul_g};
use crate::error::{ErrorKind, Field, InputError};
use crate::json::{self, JsonError};
use crate::sm3::Sm3;

/// What was signed: the message, hashed here with the signer's Z, or the digest e that
/// the caller computed as SM3(Z ‖ M).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signed {
    Message(Vec<u8>),
    Digest(Vec<u8>),
}

/// One signature to verify, as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sm2Item {
    /// SEC 1, uncompressed (65 bytes) or compressed (33).
    pub public_key: Vec<u8>,
    pub signed: Signed,
    /// DER or raw r ‖ s.
    pub signature: Vec<u8>,
    /// The signer's ID; [`DEFAULT_ID`] when `None`.
    pub id: Option<Vec<u8>>,
}

impl Sm2Item {
    /// The item of a JSON record
    /// `{"public_key":"0x…","message":"0x…"|"digest":"0x…","signature":"0x…","id":"0x…"}`
    /// (`id` optional).
    pub fn from_json(record: &serde_json::Value) -> Result<Self, JsonError> {
        if !record.is_object() {
            return Err(JsonError::NotAnObject);
        }
        let signed = match (record.get("message"), record.get("digest")) {
            (Some(_), None) => Signed::Message(json::hex_field(record, "message")?),
            (None, Some(_)) => Signed::Digest(json::hex_field(record, "digest")?),
            (Some(_), Some(_)) => return Err(JsonError::Both("message", "digest")),
            (None, None) => return Err(JsonError::Missing("message")),
        };
        let id = match record.get("id") {
            None | Some(serde_json::Value::Null) => None,
            Some(_) => Some(json::hex_field(record, "id")?),
        };
        Ok(Self {
            public_key: json::hex_field(record, "public_key")?,
            signed,
            signature: json::hex_field(record, "signature")?,
            id,
        })
    }

    /// The item as a JSON record, in the form [`Sm2Item::from_json`] reads.
    pub fn to_json(&self) -> serde_json::Value {
        let hex = |b: &[u8]| serde_json::Value::String(format!("0x{}", hex::encode(b)));
        let mut record = serde_json::Map::new();
        record.insert("public_key".into(), hex(&self.public_key));
        match &self.signed {
            Signed::Message(m) => record.insert("message".into(), hex(m)),
            Signed::Digest(d) => record.insert("digest".into(), hex(d)),
        };
        record.insert("signature".into(), hex(&self.signature));
        if let Some(id) = &self.id {
            record.insert("id".into(), hex(id));
        }
        serde_json::Value::Object(record)
    }

    /// The bytes it holds (what queues and requests are bounded by).
    pub fn bytes(&self) -> usize {
        let signed = match &self.signed {
            Signed::Message(m) | Signed::Digest(m) => m.len(),
        };
        self.public_key.len() + signed + self.signature.len() + self.id.as_ref().map_or(0, Vec::len)
    }

    /// Decodes the item: its signer (from `cache`), e, and the signature. A bad key,
    /// ID, digest or signature is an error naming it.
    pub fn decode(&self, cache: &SignerCache) -> Result<Decoded, InputError> {
        let error = |field, kind| InputError::new(field, None, kind);
        let signature = Signature::from_bytes(&self.signature)
            .map_err(|e| error(Field::Signature, ErrorKind::Sm2Signature(e)))?;
        let id = self.id.as_deref().unwrap_or(DEFAULT_ID);
        let signer = cache
            .get_or_make(&self.public_key, id)
            .map_err(|e| match e {
                SignerError::Key(e) => error(Field::PublicKey, ErrorKind::Sm2PublicKey(e)),
                SignerError::IdTooLong(len) => error(Field::Id, ErrorKind::IdTooLong(len)),
            })?;
        let e = match &self.signed {
            Signed::Message(message) => message_digest(&signer.z, message),
            Signed::Digest(digest) => InputError::exact::<32>(digest, Field::Digest, None)?,
        };
        Ok(Decoded {
            signer,
            e,
            signature,
        })
    }
}

/// e = SM3(Z ‖ M).
pub fn message_digest(z: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut hasher = Sm3::new();
    hasher.update(z).update(message);
    hasher.finalize()
}

/// An item ready to verify.
#[derive(Debug)]
pub struct Decoded {
    pub signer: std::sync::Arc<Signer>,
    pub e: [u8; 32],
    pub signature: Signature,
}

impl Decoded {
    pub fn verify(&self) -> bool {
        verify_digest(|t| self.signer.mul(t), &self.e, &self.signature)
    }
}

/// Steps 3 to 5 of verification of digest `e` for the key whose multiples `mul_key`
/// computes.
pub fn verify_digest(
    mul_key: impl FnOnce(&Scalar) -> Jacobian,
    e: &[u8; 32],
    signature: &Signature,
) -> bool {
    let Signature { r, s } = signature;
    let t = r.add(s);
    if t.is_zero() {
        return false;
    }
    let point = mul_g(s).add(&mul_key(&t));
    let e = Scalar::reduce(&limbs_from_be(e));
    let v = r.sub(&e).to_limbs();
    if point.has_x(&v) {
        return true;
    }
    // x1 = v + n, when that is below p (has_x refuses p or more).
    let (v_plus_n, carry) = add_limbs(
        &v,
        &<crate::curves::sm2p256v1::Order as crate::curves::montgomery::Modulus>::P,
    );
    carry == 0 && point.has_x(&v_plus_n)
}

#[cfg(test)]
mod tests;
