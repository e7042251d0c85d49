//! sm2p256v1, the curve of SM2 (GM/T 0003.5-2012, GB/T 32918.5-2017): y² = x³ + ax + b
//! over the prime p = 2^256 − 2^224 − 2^96 + 2^64 − 1, with a = −3, a group of prime order
//! n (cofactor 1, so every point on the curve but infinity generates it).
//!
//! Points are decoded with validation ([`Point::from_sec1`]); the group operations are
//! Jacobian formulas for a = −3 over the Montgomery field of
//! [`montgomery`](super::montgomery). Multiples of G come from a table of fixed-base
//! windows built once ([`mul_g`]); multiples of other points from a table of their odd
//! multiples ([`OddMultiples`]), which callers cache with the key.

mod point;

pub use point::{Affine, FixedBase, Jacobian, OddMultiples, mul_g};

use super::montgomery::{self, Limbs, Modulus};

/// The field of coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct P256Sm2;

impl Modulus for P256Sm2 {
    const P: Limbs = montgomery::limbs_from_be(&params::P);
}

/// An element of the coordinate field.
pub type Fe = montgomery::Fp<P256Sm2>;

/// The group's order n, the modulus of scalars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order;

impl Modulus for Order {
    const P: Limbs = montgomery::limbs_from_be(&params::N);
}

/// An integer modulo n.
pub type Scalar = montgomery::Fp<Order>;

/// The curve's parameters as the standard writes them (big-endian), which the key
/// hash Z of SM2 takes in.
pub mod params {
    pub const P: [u8; 32] = be("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF");
    pub const A: [u8; 32] = be("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC");
    pub const B: [u8; 32] = be("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");
    pub const N: [u8; 32] = be("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123");
    pub const GX: [u8; 32] = be("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
    pub const GY: [u8; 32] = be("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0");

    const fn be(hex: &str) -> [u8; 32] {
        let hex = hex.as_bytes();
        let mut out = [0u8; 32];
        let mut i = 0;
        while i < 32 {
            out[i] = (digit(hex[2 * i]) << 4) | digit(hex[2 * i + 1]);
            i += 1;
        }
        out
    }

    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("upper-case hex"),
        }
    }
}

/// Why bytes are not a point of the curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PointError {
    #[error("a public key is 65 bytes (04 x y) or 33 bytes (02|03 x), not {0}")]
    Length(usize),
    #[error("the first byte of a {len}-byte public key must be {expected}, not 0x{found:02x}")]
    Prefix {
        len: usize,
        expected: &'static str,
        found: u8,
    },
    #[error("a coordinate is not below the field's prime p")]
    CoordinateTooLarge,
    #[error("the point is not on the curve sm2p256v1")]
    NotOnCurve,
}

/// A point of the curve other than infinity, validated: its coordinates are below p and
/// satisfy the curve's equation (and so, with cofactor 1, it is in the group of order n).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point(Affine);

impl Point {
    /// Decodes SEC 1's uncompressed (04 ‖ x ‖ y) or compressed (02|03 ‖ x) form. The
    /// hybrid forms (06, 07) and the one-byte infinity are refused.
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, PointError> {
        let coordinate = |b: &[u8]| {
            Fe::from_be_bytes(b.try_into().expect("32 bytes")).ok_or(PointError::CoordinateTooLarge)
        };
        let affine = match bytes.len() {
            65 => {
                if bytes[0] != 0x04 {
                    return Err(PointError::Prefix {
                        len: 65,
                        expected: "0x04",
                        found: bytes[0],
                    });
                }
                let point = Affine {
                    x: coordinate(&bytes[1..33])?,
                    y: coordinate(&bytes[33..65])?,
                };
                if !point.is_on_curve() {
                    return Err(PointError::NotOnCurve);
                }
                point
            }
            33 => {
                let odd = match bytes[0] {
                    0x02 => false,
                    0x03 => true,
                    found => {
                        return Err(PointError::Prefix {
                            len: 33,
                            expected: "0x02 or 0x03",
                            found,
                        });
                    }
                };
                let x = coordinate(&bytes[1..33])?;
                let y = Affine::y_squared(&x).sqrt().ok_or(PointError::NotOnCurve)?;
                Affine {
                    x,
                    y: if y.is_odd() == odd { y } else { y.neg() },
                }
            }
            len => return Err(PointError::Length(len)),
        };
        Ok(Self(affine))
    }

    /// The uncompressed encoding 04 ‖ x ‖ y.
    pub fn to_uncompressed(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[0] = 0x04;
        out[1..33].copy_from_slice(&self.0.x.to_be_bytes());
        out[33..].copy_from_slice(&self.0.y.to_be_bytes());
        out
    }

    /// The point of a Jacobian one, or `None` for infinity.
    pub fn from_jacobian(point: &Jacobian) -> Option<Self> {
        point.to_affine().map(Self)
    }

    pub fn affine(&self) -> &Affine {
        &self.0
    }

    /// The generator G.
    pub fn generator() -> Self {
        Self(Affine::generator())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_on_the_curve_and_has_order_n() {
        let g = Point::generator();
        assert!(g.affine().is_on_curve());
        // a = p − 3, as the formulas assume.
        let a = Fe::from_be_bytes(&params::A).unwrap();
        assert_eq!(a, Fe::ZERO.sub(&Fe::ONE.add(&Fe::ONE).add(&Fe::ONE)));
        assert_eq!(Fe::from_be_bytes(&params::P), None);
        // The moduli, derived from the standard's bytes, as little-endian limbs.
        assert_eq!(
            Order::P,
            [
                0x53BB_F409_39D5_4123,
                0x7203_DF6B_21C6_052B,
                u64::MAX,
                0xFFFF_FFFE_FFFF_FFFF
            ]
        );
        assert_eq!(
            P256Sm2::P,
            [
                u64::MAX,
                0xFFFF_FFFF_0000_0000,
                u64::MAX,
                0xFFFF_FFFE_FFFF_FFFF
            ]
        );
        assert_eq!(Scalar::from_be_bytes(&params::N), None);
        // [n − 1]G = −G by the table of G and by odd multiples, and −G + G = O.
        let minus_one = Scalar::ZERO.sub(&Scalar::ONE);
        let by_table = mul_g(&minus_one);
        let by_odd_multiples = OddMultiples::of(&g).mul(&minus_one);
        let minus_g = Affine {
            x: g.affine().x,
            y: g.affine().y.neg(),
        };
        assert_eq!(by_table.to_affine(), Some(minus_g));
        assert_eq!(by_odd_multiples.to_affine(), Some(minus_g));
        assert_eq!(by_table.add_affine(g.affine()).to_affine(), None);
    }

    #[test]
    fn encodings_round_trip_and_bad_ones_are_named() {
        let g = Point::generator();
        let uncompressed = g.to_uncompressed();
        assert_eq!(Point::from_sec1(&uncompressed), Ok(g));
        let mut compressed = [0u8; 33];
        compressed[0] = if g.affine().y.is_odd() { 3 } else { 2 };
        compressed[1..].copy_from_slice(&uncompressed[1..33]);
        assert_eq!(Point::from_sec1(&compressed), Ok(g));
        // The other parity is −G.
        compressed[0] ^= 1;
        let minus_g = Point::from_sec1(&compressed).unwrap();
        assert_eq!(minus_g.affine().y, g.affine().y.neg());

        assert_eq!(Point::from_sec1(&[0u8; 64]), Err(PointError::Length(64)));
        assert_eq!(Point::from_sec1(&[0u8]), Err(PointError::Length(1)));
        let mut hybrid = uncompressed;
        hybrid[0] = 0x06;
        assert!(matches!(
            Point::from_sec1(&hybrid),
            Err(PointError::Prefix { found: 0x06, .. })
        ));
        let mut off_curve = uncompressed;
        off_curve[64] ^= 1;
        assert_eq!(Point::from_sec1(&off_curve), Err(PointError::NotOnCurve));
        let mut too_large = uncompressed;
        too_large[1..33].copy_from_slice(&params::P);
        assert_eq!(
            Point::from_sec1(&too_large),
            Err(PointError::CoordinateTooLarge)
        );
        // About half of all x have no point: a compressed key with one is refused.
        let without_point = (0u8..=255).filter(|&x| {
            let mut bytes = [0u8; 33];
            bytes[0] = 2;
            bytes[32] = x;
            Point::from_sec1(&bytes) == Err(PointError::NotOnCurve)
        });
        assert!(without_point.count() > 64);
    }
}
