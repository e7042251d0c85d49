//! The scalar field Fr of BLS12-381 (the group order r), in blst's Montgomery form.

use blst::{
    blst_fr, blst_fr_add, blst_fr_from_scalar, blst_fr_from_uint64, blst_fr_mul, blst_p1, blst_p2,
    blst_scalar, blst_scalar_fr_check, blst_scalar_from_bendian, blst_scalar_from_fr,
    blst_sign_pk_in_g1, blst_sk_check, blst_sk_to_pk_in_g1,
};

use super::{G1, G2, G2Affine, g2_from_affine};

/// An element of Fr.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct Fr(blst_fr);

impl Fr {
    pub fn from_u64(v: u64) -> Self {
        let mut out = blst_fr::default();
        // SAFETY: blst reads four limbs.
        unsafe { blst_fr_from_uint64(&mut out, [v, 0, 0, 0].as_ptr()) };
        Self(out)
    }

    /// The element of a 32-byte big-endian integer if it is below r (canonical), else
    /// `None`: an integer of r or more would alias a smaller one.
    pub fn from_be_bytes_canonical(bytes: &[u8; 32]) -> Option<Self> {
        let mut scalar = blst_scalar::default();
        // SAFETY: `bytes` holds the 32 bytes blst reads.
        unsafe { blst_scalar_from_bendian(&mut scalar, bytes.as_ptr()) };
        // SAFETY: plain predicate.
        if !unsafe { blst_scalar_fr_check(&scalar) } {
            return None;
        }
        let mut fr = blst_fr::default();
        // SAFETY: plain conversion into Montgomery form.
        unsafe { blst_fr_from_scalar(&mut fr, &scalar) };
        Some(Self(fr))
    }

    /// self·g1, G1's generator.
    pub fn times_g1_generator(&self) -> G1 {
        let mut p = blst_p1::default();
        // SAFETY: the generator times 255 bits of a little-endian scalar.
        unsafe {
            blst::blst_p1_mult(
                &mut p,
                blst::blst_p1_generator(),
                self.to_le_bytes().as_ptr(),
                255,
            )
        };
        G1(p)
    }

    /// self·g2, G2's generator.
    pub fn times_g2_generator(&self) -> G2 {
        let mut p = blst_p2::default();
        // SAFETY: as above, in G2.
        unsafe {
            blst::blst_p2_mult(
                &mut p,
                blst::blst_p2_generator(),
                self.to_le_bytes().as_ptr(),
                255,
            )
        };
        G2(p)
    }

    /// The canonical little-endian bytes (the form MSM scalars take).
    pub fn to_le_bytes(&self) -> [u8; 32] {
        let mut s = blst_scalar::default();
        // SAFETY: plain conversion out of Montgomery form.
        unsafe { blst_scalar_from_fr(&mut s, &self.0) };
        s.b
    }
}

impl std::ops::Add for Fr {
    type Output = Fr;

    fn add(self, other: Fr) -> Fr {
        let mut out = blst_fr::default();
        // SAFETY: plain field addition.
        unsafe { blst_fr_add(&mut out, &self.0, &other.0) };
        Fr(out)
    }
}

impl std::ops::AddAssign for Fr {
    fn add_assign(&mut self, other: Fr) {
        *self = *self + other;
    }
}

impl std::ops::Mul for Fr {
    type Output = Fr;

    fn mul(self, other: Fr) -> Fr {
        let mut out = blst_fr::default();
        // SAFETY: plain field multiplication.
        unsafe { blst_fr_mul(&mut out, &self.0, &other.0) };
        Fr(out)
    }
}

/// An integer in [1, r) in plain (not Montgomery) form, as scalar multiplication takes
/// it: a BLS secret key.
#[derive(Clone)]
#[repr(transparent)]
pub struct Scalar(blst_scalar);

impl Scalar {
    /// The scalar of a 32-byte big-endian integer if it is nonzero and below r.
    pub fn from_be_bytes_nonzero(bytes: &[u8; 32]) -> Option<Self> {
        let mut scalar = blst_scalar::default();
        // SAFETY: `bytes` holds the 32 bytes blst reads.
        unsafe { blst_scalar_from_bendian(&mut scalar, bytes.as_ptr()) };
        // SAFETY: plain predicate: nonzero and below the group order.
        unsafe { blst_sk_check(&scalar) }.then_some(Self(scalar))
    }

    /// self·g1, G1's generator.
    pub fn times_g1_generator(&self) -> G1 {
        let mut p = blst_p1::default();
        // SAFETY: plain scalar multiplication of the generator.
        unsafe { blst_sk_to_pk_in_g1(&mut p, &self.0) };
        G1(p)
    }

    /// self·p for a point of G2.
    pub fn times_g2(&self, p: &G2Affine) -> G2 {
        let mut out = blst_p2::default();
        // SAFETY: plain scalar multiplication of a valid point.
        unsafe { blst_sign_pk_in_g1(&mut out, &g2_from_affine(p).0, &self.0) };
        G2(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// r, big-endian.
    const R: [u8; 32] = [
        0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8, 0x08, 0x09, 0xa1, 0xd8,
        0x05, 0x53, 0xbd, 0xa4, 0x02, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00,
        0x00, 0x01,
    ];

    #[test]
    fn arithmetic_and_the_canonical_bound() {
        assert_eq!(Fr::from_u64(6) * Fr::from_u64(7), Fr::from_u64(42));
        assert_eq!(Fr::from_u64(40) + Fr::from_u64(2), Fr::from_u64(42));
        assert_eq!(Fr::from_u64(0x0102).to_le_bytes()[..2], [0x02, 0x01]);
        assert_eq!(Fr::from_be_bytes_canonical(&R), None);
        let mut r_minus_one = R;
        r_minus_one[31] = 0;
        let max = Fr::from_be_bytes_canonical(&r_minus_one).expect("r - 1 is canonical");
        // (r − 1) + 1 = 0.
        assert_eq!(max + Fr::from_u64(1), Fr::from_u64(0));
        // (r − 1)·G = −G.
        use crate::curves::bls12_381::{g1_generator, neg_g1, p1_affine};
        assert_eq!(
            p1_affine(&max.times_g1_generator()),
            neg_g1(&g1_generator())
        );
    }

    #[test]
    fn secret_scalars_are_nonzero_and_below_r() {
        use crate::curves::bls12_381::p1_affine;
        assert!(Scalar::from_be_bytes_nonzero(&[0; 32]).is_none());
        assert!(Scalar::from_be_bytes_nonzero(&R).is_none());
        let mut seven = [0; 32];
        seven[31] = 7;
        let s = Scalar::from_be_bytes_nonzero(&seven).unwrap();
        assert_eq!(
            p1_affine(&s.times_g1_generator()),
            p1_affine(&Fr::from_u64(7).times_g1_generator())
        );
    }
}
