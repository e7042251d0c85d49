//! SM2 signing (GB/T 32918.2 §6.1), for the tests, the self-test and generated workloads.
//! Not constant-time, and the nonce is whatever the caller gives or derives from a seed:
//! never use it to sign for real.

use crate::curves::montgomery::limbs_from_be;
use crate::curves::sm2p256v1::{Point, Scalar, mul_g};
use crate::sm3::Sm3;

use super::Signature;
use super::signer::z;

/// A secret key d in [1, n − 2] (so that 1 + d is invertible).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretKey(Scalar);

impl SecretKey {
    /// The key of a big-endian d, if d is in [1, n − 2].
    pub fn from_be_bytes(bytes: &[u8; 32]) -> Option<Self> {
        let d = Scalar::from_be_bytes(bytes)?;
        (!d.is_zero() && !d.add(&Scalar::ONE).is_zero()).then_some(Self(d))
    }

    /// A key derived from `seed` (SM3 of it, again until in range).
    pub fn from_seed(seed: &[u8]) -> Self {
        let mut digest = crate::sm3::sm3(seed);
        loop {
            if let Some(key) = Self::from_be_bytes(&digest) {
                return key;
            }
            digest = crate::sm3::sm3(&digest);
        }
    }

    pub fn public_key(&self) -> Point {
        Point::from_jacobian(&mul_g(&self.0)).expect("d is not zero")
    }

    /// The signature of digest e with nonce k, or `None` for the nonces the standard
    /// rejects (r = 0, r + k = n, s = 0).
    pub fn sign_digest(&self, e: &[u8; 32], k: &Scalar) -> Option<Signature> {
        let x1 = mul_g(k).to_affine()?.x.to_limbs();
        let r = Scalar::reduce(&limbs_from_be(e)).add(&Scalar::reduce(&x1));
        if r.is_zero() || r.add(k).is_zero() {
            return None;
        }
        let d = &self.0;
        let s = d.add(&Scalar::ONE).invert().mul(&k.sub(&r.mul(d)));
        (!s.is_zero()).then_some(Signature { r, s })
    }

    /// The signature of `message` by the signer with `id`, with a nonce derived from the
    /// key, the digest and `nonce_seed` (reproducible workloads).
    pub fn sign(&self, id: &[u8], message: &[u8], nonce_seed: &[u8]) -> Signature {
        let e = super::message_digest(&z(id, &self.public_key()), message);
        let mut counter = 0u32;
        loop {
            let mut hasher = Sm3::new();
            hasher
                .update(&self.0.to_be_bytes())
                .update(&e)
                .update(nonce_seed)
                .update(&counter.to_be_bytes());
            let k = Scalar::reduce(&limbs_from_be(&hasher.finalize()));
            if let Some(signature) = (!k.is_zero()).then(|| self.sign_digest(&e, &k)).flatten() {
                return signature;
            }
            counter += 1;
        }
    }
}
