//! The group law of sm2p256v1: affine points, Jacobian points (x = X/Z², y = Y/Z³;
//! Z = 0 is infinity) with the formulas of the Explicit-Formulas Database for a = −3
//! (dbl-2001-b, add-2007-bl, madd-2007-bl), and the two scalar multiplications SM2
//! verification needs: by G from a fixed-base table, by a key from its odd multiples
//! (or, for a key used often, from a fixed-base table of its own).
//!
//! Every special case of the addition formulas (a summand at infinity, equal points,
//! opposite points) is handled, so a key whose multiples meet one (P = G, P = −G) is
//! computed right.

use std::sync::OnceLock;

use super::montgomery::{Limbs, batch_invert};
use super::{Fe, Scalar, params};

/// A finite point (x, y). Its validity is the caller's: [`super::Point`] is the checked
/// one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Affine {
    pub x: Fe,
    pub y: Fe,
}

impl Affine {
    pub fn generator() -> Self {
        Self {
            x: Fe::from_be_bytes(&params::GX).expect("Gx < p"),
            y: Fe::from_be_bytes(&params::GY).expect("Gy < p"),
        }
    }

    fn b() -> Fe {
        Fe::from_be_bytes(&params::B).expect("b < p")
    }

    /// x³ − 3x + b.
    pub fn y_squared(x: &Fe) -> Fe {
        let three_x = x.double().add(x);
        x.square().mul(x).sub(&three_x).add(&Self::b())
    }

    pub fn is_on_curve(&self) -> bool {
        self.y.square() == Self::y_squared(&self.x)
    }

    pub fn neg(&self) -> Self {
        Self {
            x: self.x,
            y: self.y.neg(),
        }
    }
}

/// A point in Jacobian coordinates.
#[derive(Clone, Copy, Debug)]
pub struct Jacobian {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl From<&Affine> for Jacobian {
    fn from(p: &Affine) -> Self {
        Self {
            x: p.x,
            y: p.y,
            z: Fe::ONE,
        }
    }
}

impl Jacobian {
    pub const INFINITY: Self = Self {
        x: Fe::ONE,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    pub fn is_infinity(&self) -> bool {
        self.z.is_zero()
    }

    /// 2·self (dbl-2001-b, a = −3: 3M + 5S).
    pub fn double(&self) -> Self {
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x.mul(&gamma);
        let t = self.x.sub(&delta).mul(&self.x.add(&delta));
        let alpha = t.double().add(&t);
        let beta4 = beta.double().double();
        let x = alpha.square().sub(&beta4.double());
        let z = self.y.add(&self.z).square().sub(&gamma).sub(&delta);
        let gamma2 = gamma.square();
        let y = alpha
            .mul(&beta4.sub(&x))
            .sub(&gamma2.double().double().double());
        Self { x, y, z }
    }

    /// self + q for an affine q (madd-2007-bl: 7M + 4S).
    pub fn add_affine(&self, q: &Affine) -> Self {
        if self.is_infinity() {
            return Self::from(q);
        }
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let r = s2.sub(&self.y).double();
        if h.is_zero() {
            return if r.is_zero() {
                self.double()
            } else {
                Self::INFINITY
            };
        }
        let hh = h.square();
        let i = hh.double().double();
        let j = h.mul(&i);
        let v = self.x.mul(&i);
        let x = r.square().sub(&j).sub(&v.double());
        let y = r.mul(&v.sub(&x)).sub(&self.y.mul(&j).double());
        let z = self.z.add(&h).square().sub(&z1z1).sub(&hh);
        Self { x, y, z }
    }

    /// self + q (add-2007-bl: 11M + 5S).
    pub fn add(&self, q: &Self) -> Self {
        if self.is_infinity() {
            return *q;
        }
        if q.is_infinity() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = q.z.square();
        let u1 = self.x.mul(&z2z2);
        let u2 = q.x.mul(&z1z1);
        let s1 = self.y.mul(&q.z).mul(&z2z2);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&u1);
        let r = s2.sub(&s1).double();
        if h.is_zero() {
            return if r.is_zero() {
                self.double()
            } else {
                Self::INFINITY
            };
        }
        let i = h.double().square();
        let j = h.mul(&i);
        let v = u1.mul(&i);
        let x = r.square().sub(&j).sub(&v.double());
        let y = r.mul(&v.sub(&x)).sub(&s1.mul(&j).double());
        let z = self.z.add(&q.z).square().sub(&z1z1).sub(&z2z2).mul(&h);
        Self { x, y, z }
    }

    /// The affine point, or `None` for infinity (one inversion).
    pub fn to_affine(&self) -> Option<Affine> {
        if self.is_infinity() {
            return None;
        }
        let z_inv = self.z.invert();
        let z_inv2 = z_inv.square();
        Some(Affine {
            x: self.x.mul(&z_inv2),
            y: self.y.mul(&z_inv2).mul(&z_inv),
        })
    }

    /// Whether this point, not infinity, has an x-coordinate equal to the integer
    /// `x` (below p): X = x·Z², with no inversion.
    pub fn has_x(&self, x: &Limbs) -> bool {
        match Fe::from_limbs(x) {
            Some(x) => !self.is_infinity() && self.x == x.mul(&self.z.square()),
            None => false,
        }
    }
}

/// Converts finite Jacobian points to affine with one inversion.
fn batch_to_affine(points: &[Jacobian]) -> Vec<Affine> {
    let mut z: Vec<Fe> = points.iter().map(|p| p.z).collect();
    assert!(z.iter().all(|z| !z.is_zero()), "finite points only");
    batch_invert(&mut z);
    points
        .iter()
        .zip(z)
        .map(|(p, z_inv)| {
            let z_inv2 = z_inv.square();
            Affine {
                x: p.x.mul(&z_inv2),
                y: p.y.mul(&z_inv2).mul(&z_inv),
            }
        })
        .collect()
}

/// A fixed-base table: for window i of `bits` bits, the multiples j·2^(bits·i)·B for
/// j = 1..=2^(bits−1), affine, one window after another. [k]B is then one mixed
/// addition per non-zero signed digit of k, with no doublings.
#[derive(Clone, Debug)]
pub struct FixedBase {
    bits: usize,
    points: Vec<Affine>,
}

impl FixedBase {
    /// The table of `base` with windows of `bits` bits (2 to 8): ⌈257/bits⌉ windows of
    /// 2^(bits−1) points, built with one inversion.
    pub fn new(base: &Affine, bits: usize) -> Self {
        assert!((2..=8).contains(&bits), "window of {bits} bits");
        let (windows, multiples) = (windows(bits), 1usize << (bits - 1));
        let mut jacobian = Vec::with_capacity(windows * multiples);
        let mut window_base = Jacobian::from(base);
        for _ in 0..windows {
            let mut multiple = window_base;
            for j in 0..multiples {
                if j > 0 {
                    multiple = multiple.add(&window_base);
                }
                jacobian.push(multiple);
            }
            // The next window's base, 2^bits times this one: twice the last multiple.
            window_base = multiple.double();
        }
        Self {
            bits,
            points: batch_to_affine(&jacobian),
        }
    }

    /// [k]B.
    pub fn mul(&self, k: &Scalar) -> Jacobian {
        let multiples = 1usize << (self.bits - 1);
        let mut acc = Jacobian::INFINITY;
        for (window, digit) in signed_digits(k, self.bits, windows(self.bits))
            .into_iter()
            .enumerate()
        {
            if digit != 0 {
                let point = &self.points[window * multiples + digit.unsigned_abs() as usize - 1];
                acc = acc.add_affine(&if digit > 0 { *point } else { point.neg() });
            }
        }
        acc
    }

    /// Bytes the table holds.
    pub fn bytes(&self) -> usize {
        self.points.len() * std::mem::size_of::<Affine>()
    }
}

/// Windows for a 256-bit scalar in signed digits: one bit more than the scalar's, so
/// the top window, holding fewer than `bits` bits and a carry, never carries out.
fn windows(bits: usize) -> usize {
    257usize.div_ceil(bits)
}

/// G's table: windows of 7 bits, 37 × 64 points (148 KiB), built on first use (a few
/// milliseconds); at most 37 mixed additions per multiple.
fn g_table() -> &'static FixedBase {
    static TABLE: OnceLock<FixedBase> = OnceLock::new();
    TABLE.get_or_init(|| FixedBase::new(&Affine::generator(), 7))
}

/// The scalar in signed base-2^w digits, each in [−2^(w−1), 2^(w−1)], least significant
/// first.
fn signed_digits(k: &Scalar, bits: usize, count: usize) -> Vec<i32> {
    let limbs = k.to_limbs();
    let bit = |i: usize| -> u32 {
        if i >= 256 {
            0
        } else {
            ((limbs[i / 64] >> (i % 64)) & 1) as u32
        }
    };
    let mut digits = Vec::with_capacity(count);
    let mut carry = 0i32;
    for window in 0..count {
        let mut value = carry;
        for b in 0..bits {
            value += (bit(window * bits + b) as i32) << b;
        }
        if value > 1 << (bits - 1) {
            value -= 1 << bits;
            carry = 1;
        } else {
            carry = 0;
        }
        digits.push(value);
    }
    debug_assert_eq!(carry, 0, "the last window absorbs the carry");
    digits
}

/// [k]G from G's fixed-base table.
pub fn mul_g(k: &Scalar) -> Jacobian {
    g_table().mul(k)
}

/// Width of the non-adjacent form for keys: digits odd in [−15, 15].
const KEY_WNAF_WIDTH: usize = 5;

/// P, 3P, 5P, ..., 15P of a key, affine: what [k]P needs besides doublings. Built once
/// per key (one inversion) and kept with it in the key cache.
#[derive(Clone, Debug)]
pub struct OddMultiples([Affine; 1 << (KEY_WNAF_WIDTH - 2)]);

impl OddMultiples {
    pub fn of(p: &super::Point) -> Self {
        let base = Jacobian::from(p.affine());
        let twice = base.double();
        let mut jacobian = vec![base];
        for i in 1..(1 << (KEY_WNAF_WIDTH - 2)) {
            let next = jacobian[i - 1].add(&twice);
            jacobian.push(next);
        }
        // No odd multiple below 16 of a point of prime order n is infinity.
        Self(
            batch_to_affine(&jacobian)
                .try_into()
                .expect("eight multiples"),
        )
    }

    /// [k]P: 256 doublings and about 43 mixed additions.
    pub fn mul(&self, k: &Scalar) -> Jacobian {
        let naf = wnaf(&k.to_limbs(), KEY_WNAF_WIDTH);
        let mut acc = Jacobian::INFINITY;
        for &digit in naf.iter().rev() {
            acc = acc.double();
            if digit != 0 {
                let point = &self.0[(digit.unsigned_abs() as usize) / 2];
                acc = acc.add_affine(&if digit > 0 { *point } else { point.neg() });
            }
        }
        acc
    }
}

/// The width-w non-adjacent form of k, least significant digit first: every non-zero
/// digit odd and below 2^(w−1) in absolute value, at least w − 1 zeros after each.
fn wnaf(k: &Limbs, width: usize) -> Vec<i32> {
    let mut k: [u64; 5] = [k[0], k[1], k[2], k[3], 0];
    let window = 1i64 << width;
    let mut digits = Vec::with_capacity(257);
    while k.iter().any(|&l| l != 0) {
        let digit = if k[0] & 1 == 1 {
            let mut d = (k[0] & (window as u64 - 1)) as i64;
            if d >= window / 2 {
                d -= window;
            }
            // k −= d
            let magnitude = d.unsigned_abs();
            if d > 0 {
                sub_small(&mut k, magnitude);
            } else {
                add_small(&mut k, magnitude);
            }
            d as i32
        } else {
            0
        };
        digits.push(digit);
        // k >>= 1
        for i in 0..5 {
            k[i] = (k[i] >> 1) | if i < 4 { k[i + 1] << 63 } else { 0 };
        }
    }
    digits
}

fn sub_small(k: &mut [u64; 5], v: u64) {
    let mut borrow = v;
    for limb in k.iter_mut() {
        let (d, b) = limb.overflowing_sub(borrow);
        *limb = d;
        borrow = b as u64;
        if borrow == 0 {
            break;
        }
    }
}

fn add_small(k: &mut [u64; 5], v: u64) {
    let mut carry = v;
    for limb in k.iter_mut() {
        let (s, c) = limb.overflowing_add(carry);
        *limb = s;
        carry = c as u64;
        if carry == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Point;
    use super::*;

    fn scalar(seed: u64) -> Scalar {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut limbs = [0u64; 4];
        for limb in &mut limbs {
            x ^= x >> 31;
            x = x.wrapping_mul(0xD6E8_FEB8_6659_FD93);
            *limb = x;
        }
        Scalar::reduce(&limbs)
    }

    /// [k]P by plain double-and-add over the affine-in, Jacobian formulas.
    fn plain_mul(p: &Affine, k: &Scalar) -> Jacobian {
        let limbs = k.to_limbs();
        let mut acc = Jacobian::INFINITY;
        for i in (0..256).rev() {
            acc = acc.double();
            if (limbs[i / 64] >> (i % 64)) & 1 == 1 {
                acc = acc.add_affine(p);
            }
        }
        acc
    }

    fn same(a: &Jacobian, b: &Jacobian) -> bool {
        a.to_affine() == b.to_affine()
    }

    #[test]
    fn both_multiplications_agree_with_double_and_add() {
        let g = Point::generator();
        let key = Point::from_jacobian(&plain_mul(g.affine(), &scalar(77))).unwrap();
        let multiples = OddMultiples::of(&key);
        let mut special = vec![
            Scalar::ZERO,
            Scalar::ONE,
            Scalar::ONE.double(),
            Scalar::ZERO.sub(&Scalar::ONE),
            Scalar::ZERO.sub(&Scalar::ONE.double()),
        ];
        // Scalars whose digits are all at a window's edge: 2^(7i)·64 and runs of ones.
        special.push(Scalar::reduce(&[u64::MAX, u64::MAX, u64::MAX, 0]));
        special.push(Scalar::reduce(&[0x4040_4040_4040_4040; 4]));
        for k in special.into_iter().chain((0..40).map(scalar)) {
            assert!(same(&mul_g(&k), &plain_mul(g.affine(), &k)), "[{k:?}]G");
            assert!(
                same(&multiples.mul(&k), &plain_mul(key.affine(), &k)),
                "[{k:?}]P"
            );
            for bits in [2, 4, 5] {
                let table = FixedBase::new(key.affine(), bits);
                assert!(
                    same(&table.mul(&k), &plain_mul(key.affine(), &k)),
                    "{bits}-bit windows"
                );
            }
            let point = mul_g(&k);
            if let Some(affine) = point.to_affine() {
                assert!(affine.is_on_curve());
            }
        }
    }

    #[test]
    fn special_cases_of_the_addition_are_handled() {
        let g = Point::generator();
        let ga = *g.affine();
        let gj = Jacobian::from(&ga);
        // G + G by every formula is 2G; G + (−G) is infinity.
        let two_g = gj.double();
        assert!(same(&gj.add(&gj), &two_g));
        assert!(same(&gj.add_affine(&ga), &two_g));
        assert!(gj.add_affine(&ga.neg()).is_infinity());
        assert!(gj.add(&Jacobian::from(&ga.neg())).is_infinity());
        assert!(same(&Jacobian::INFINITY.add(&gj), &gj));
        assert!(same(&gj.add(&Jacobian::INFINITY), &gj));
        assert!(Jacobian::INFINITY.double().is_infinity());
        // A key equal to G or −G: its odd multiples meet G's table in doublings.
        for key in [g, Point::from_jacobian(&Jacobian::from(&ga.neg())).unwrap()] {
            let multiples = OddMultiples::of(&key);
            for seed in 0..5 {
                let (s, t) = (scalar(seed), scalar(seed + 100));
                let sum = mul_g(&s).add(&multiples.mul(&t));
                let expected = plain_mul(&ga, &s).add(&plain_mul(key.affine(), &t));
                assert!(same(&sum, &expected));
            }
            // [s]G + [t]P with t·P = −s·G: infinity.
            let s = scalar(9);
            let t = if key == g { Scalar::ZERO.sub(&s) } else { s };
            assert!(mul_g(&s).add(&multiples.mul(&t)).is_infinity());
        }
    }

    #[test]
    fn x_is_compared_without_inversion() {
        let p = mul_g(&scalar(5)).double();
        let affine = p.to_affine().unwrap();
        let x = affine.x.to_limbs();
        assert!(p.has_x(&x));
        let mut other = x;
        other[0] ^= 1;
        assert!(!p.has_x(&other));
        assert!(!Jacobian::INFINITY.has_x(&x));
        assert!(!p.has_x(&<super::super::P256Sm2 as crate::curves::montgomery::Modulus>::P));
    }

    #[test]
    fn wnaf_digits_rebuild_the_scalar() {
        for seed in 0..50 {
            let k = scalar(seed).to_limbs();
            let digits = wnaf(&k, KEY_WNAF_WIDTH);
            // Σ d_i 2^i, as a signed 320-bit sum in i128 pieces: check by Horner mod p.
            let mut value = Scalar::ZERO;
            for &d in digits.iter().rev() {
                value = value.double();
                let magnitude = Scalar::from_limbs(&[d.unsigned_abs() as u64, 0, 0, 0]).unwrap();
                value = if d >= 0 {
                    value.add(&magnitude)
                } else {
                    value.sub(&magnitude)
                };
                assert!(d == 0 || (d % 2 != 0 && d.abs() < 16));
            }
            assert_eq!(value, Scalar::reduce(&k));
        }
    }
}
