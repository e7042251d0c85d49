//! Aggregation, signing and hashing to G2.

use super::keys::{PublicKeyCache, Signature, signature_to_point};
use super::{PUBLIC_KEY_BYTES, SECRET_KEY_BYTES, SIGNATURE_BYTES};
use crate::backend::Backend;
use crate::curves::bls12_381::{Scalar, compress_g1, compress_g2, p1_affine, p2_affine};
use crate::error::{ErrorKind, Field, InputError, Range};

/// Aggregate, exactly as the BLS draft and Ethereum's reference (py_ecc) define it: the
/// sum of the signatures, each of which must be a canonical compressed encoding of a
/// point on the curve. There is no subgroup check here: verification checks the subgroup
/// of the signature it is given. At least one signature is required.
pub fn aggregate_signatures(
    backend: &dyn Backend,
    signatures: &[impl AsRef<[u8]>],
) -> Result<[u8; SIGNATURE_BYTES], InputError> {
    if signatures.is_empty() {
        return Err(InputError::new(
            Field::Signatures,
            None,
            ErrorKind::NothingToAggregate,
        ));
    }
    let points = signatures
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            signature_to_point(bytes.as_ref())
                .map_err(|e| InputError::new(Field::Signatures, Some(i), e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(compress_g2(&p2_affine(&backend.g2_sum(&points))))
}

/// eth_aggregate_pubkeys: the sum of the public keys, each of which must pass
/// KeyValidate. At least one key is required. The sum itself may be the point at infinity.
pub fn aggregate_public_keys(
    backend: &dyn Backend,
    cache: &PublicKeyCache,
    public_keys: &[impl AsRef<[u8]>],
) -> Result<[u8; PUBLIC_KEY_BYTES], InputError> {
    if public_keys.is_empty() {
        return Err(InputError::new(
            Field::PublicKeys,
            None,
            ErrorKind::NothingToAggregate,
        ));
    }
    let points = public_keys
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            cache
                .get_or_decode(bytes.as_ref())
                .map(|pk| *pk.point())
                .map_err(|e| InputError::new(Field::PublicKeys, Some(i), e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(compress_g1(&p1_affine(&backend.g1_sum(&points))))
}

/// A secret key: a big-endian scalar in [1, r).
pub struct SecretKey(Scalar);

impl SecretKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, InputError> {
        if bytes.len() != SECRET_KEY_BYTES {
            return Err(InputError::new(
                Field::SecretKey,
                None,
                ErrorKind::Length {
                    expected: SECRET_KEY_BYTES,
                    got: bytes.len(),
                },
            ));
        }
        let bytes: &[u8; 32] = bytes.try_into().expect("length checked above");
        Scalar::from_be_bytes_nonzero(bytes)
            .map(Self)
            .ok_or_else(|| {
                InputError::new(
                    Field::SecretKey,
                    None,
                    ErrorKind::OutOfRange(Range::SecretKey),
                )
            })
    }

    /// SkToPk: the 48-byte compressed public key sk·g1.
    pub fn public_key(&self) -> [u8; PUBLIC_KEY_BYTES] {
        compress_g1(&p1_affine(&self.0.times_g1_generator()))
    }

    /// CoreSign: sk·H(message).
    pub fn sign(&self, backend: &dyn Backend, message: &[u8], dst: &[u8]) -> Signature {
        let hash = backend.hash_to_g2(&[message], dst)[0];
        Signature::from_point(p2_affine(&self.0.times_g2(&hash)))
    }
}
