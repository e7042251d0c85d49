//! Prime fields below 2^256 in Montgomery form over four 64-bit limbs, one type for every
//! prime: a field is a [`Modulus`] (its prime, as limbs), and every constant the
//! arithmetic needs (R² mod p, −p⁻¹ mod 2^64) is derived from it at compile time.
//!
//! Used by the curves that blst does not cover (sm2p256v1). Not constant-time: the
//! engine verifies public data and holds no secrets (signing is for tests only).

use std::fmt;
use std::marker::PhantomData;

/// Little-endian 64-bit limbs of a 256-bit integer.
pub type Limbs = [u64; 4];

/// A prime p below 2^256 (a sum of two elements then overflows at most once).
/// [`Fp::reduce`] also needs p > 2^255.
pub trait Modulus: Copy + Eq + Send + Sync + 'static {
    const P: Limbs;
}

/// The constants of Montgomery arithmetic modulo M, derived from M::P.
struct Constants<M>(PhantomData<M>);

impl<M: Modulus> Constants<M> {
    /// −p⁻¹ mod 2^64, by Newton's iteration (each step doubles the correct bits).
    const INV: u64 = {
        let p0 = M::P[0];
        let mut inv: u64 = 1;
        let mut i = 0;
        while i < 6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(p0.wrapping_mul(inv)));
            i += 1;
        }
        inv.wrapping_neg()
    };
    /// R mod p, R = 2^256: the Montgomery form of one.
    const R: Limbs = doubled::<M>(one(), 256);
    /// R² mod p: multiplying by it enters Montgomery form.
    const R2: Limbs = doubled::<M>(Self::R, 256);
}

const fn one() -> Limbs {
    [1, 0, 0, 0]
}

/// x · 2^times mod p, by doubling (compile time only).
const fn doubled<M: Modulus>(mut x: Limbs, times: u32) -> Limbs {
    let mut i = 0;
    while i < times {
        let mut carry = 0u64;
        let mut j = 0;
        let mut y = [0u64; 4];
        while j < 4 {
            y[j] = (x[j] << 1) | carry;
            carry = x[j] >> 63;
            j += 1;
        }
        x = if carry == 1 || !less(&y, &M::P) {
            sub_limbs(&y, &M::P).0
        } else {
            y
        };
        i += 1;
    }
    x
}

/// a < b as integers.
pub const fn less(a: &Limbs, b: &Limbs) -> bool {
    let mut i = 4;
    while i > 0 {
        i -= 1;
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

/// a + b and the carry out.
pub const fn add_limbs(a: &Limbs, b: &Limbs) -> (Limbs, u64) {
    let mut out = [0u64; 4];
    let mut carry = 0u64;
    let mut i = 0;
    while i < 4 {
        let t = a[i] as u128 + b[i] as u128 + carry as u128;
        out[i] = t as u64;
        carry = (t >> 64) as u64;
        i += 1;
    }
    (out, carry)
}

/// a − b and the borrow out (1 when b > a).
pub const fn sub_limbs(a: &Limbs, b: &Limbs) -> (Limbs, u64) {
    let mut out = [0u64; 4];
    let mut borrow = 0u64;
    let mut i = 0;
    while i < 4 {
        let t = (a[i] as u128).wrapping_sub(b[i] as u128 + borrow as u128);
        out[i] = t as u64;
        borrow = (t >> 127) as u64;
        i += 1;
    }
    (out, borrow)
}

/// A 256-bit big-endian integer as limbs.
pub const fn limbs_from_be(bytes: &[u8; 32]) -> Limbs {
    let mut limbs = [0u64; 4];
    let mut i = 0;
    while i < 32 {
        limbs[3 - i / 8] = (limbs[3 - i / 8] << 8) | bytes[i] as u64;
        i += 1;
    }
    limbs
}

/// Limbs as a 256-bit big-endian integer.
pub fn limbs_to_be(limbs: &Limbs) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_exact_mut(8).enumerate() {
        chunk.copy_from_slice(&limbs[3 - i].to_be_bytes());
    }
    bytes
}

/// An element of the field modulo M, in Montgomery form (a·R mod p), always below p.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fp<M> {
    mont: Limbs,
    modulus: PhantomData<M>,
}

impl<M: Modulus> fmt::Debug for Fp<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.to_be_bytes()))
    }
}

#[inline(always)]
fn mac(acc: u64, a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = acc as u128 + (a as u128) * (b as u128) + carry as u128;
    (t as u64, (t >> 64) as u64)
}

impl<M: Modulus> Fp<M> {
    pub const ZERO: Self = Self::from_mont(&[0; 4]);
    pub const ONE: Self = Self::from_mont(&Constants::<M>::R);

    const fn from_mont(limbs: &Limbs) -> Self {
        Self {
            mont: *limbs,
            modulus: PhantomData,
        }
    }

    /// The element of a canonical big-endian encoding, or `None` if it is p or more.
    pub fn from_be_bytes(bytes: &[u8; 32]) -> Option<Self> {
        Self::from_limbs(&limbs_from_be(bytes))
    }

    /// The element x for limbs x < p, or `None`.
    pub fn from_limbs(x: &Limbs) -> Option<Self> {
        less(x, &M::P).then(|| Self::from_mont(x).mul(&Self::from_mont(&Constants::<M>::R2)))
    }

    /// x mod p for any 256-bit x: one subtraction at most, since 2^256 < 2p.
    ///
    /// # Panics
    /// For a prime below 2^255 (its fields take [`Fp::from_limbs`] instead).
    pub fn reduce(x: &Limbs) -> Self {
        assert!(M::P[3] >> 63 == 1, "reduce needs a prime above 2^255");
        let (reduced, borrow) = sub_limbs(x, &M::P);
        let canonical = if borrow == 0 { reduced } else { *x };
        Self::from_limbs(&canonical).expect("below p")
    }

    /// The canonical integer, as limbs.
    pub fn to_limbs(&self) -> Limbs {
        self.mul(&Self::from_mont(&one())).mont
    }

    pub fn to_be_bytes(&self) -> [u8; 32] {
        limbs_to_be(&self.to_limbs())
    }

    pub fn is_zero(&self) -> bool {
        self.mont == [0; 4]
    }

    /// Whether the canonical integer is odd (the y-coordinate's parity of SEC 1 keys).
    pub fn is_odd(&self) -> bool {
        self.to_limbs()[0] & 1 == 1
    }

    #[inline]
    pub fn add(&self, other: &Self) -> Self {
        let (sum, carry) = add_limbs(&self.mont, &other.mont);
        let (reduced, borrow) = sub_limbs(&sum, &M::P);
        // sum < 2p: subtract p unless that borrows (and the addition did not carry).
        Self::from_mont(if carry == 1 || borrow == 0 {
            &reduced
        } else {
            &sum
        })
    }

    #[inline]
    pub fn sub(&self, other: &Self) -> Self {
        let (difference, borrow) = sub_limbs(&self.mont, &other.mont);
        Self::from_mont(&if borrow == 1 {
            add_limbs(&difference, &M::P).0
        } else {
            difference
        })
    }

    #[inline]
    pub fn double(&self) -> Self {
        self.add(self)
    }

    #[inline]
    pub fn neg(&self) -> Self {
        Self::ZERO.sub(self)
    }

    /// Montgomery multiplication (coarsely integrated operand scanning): a·b·R⁻¹ mod p.
    #[inline]
    pub fn mul(&self, other: &Self) -> Self {
        let (a, b, p) = (&self.mont, &other.mont, &M::P);
        let mut t = [0u64; 6];
        for &bi in b {
            let mut carry = 0;
            for j in 0..4 {
                (t[j], carry) = mac(t[j], a[j], bi, carry);
            }
            let sum = t[4] as u128 + carry as u128;
            t[4] = sum as u64;
            t[5] = (sum >> 64) as u64;
            let m = t[0].wrapping_mul(Constants::<M>::INV);
            let (_, mut carry) = mac(t[0], m, p[0], 0);
            for j in 1..4 {
                (t[j - 1], carry) = mac(t[j], m, p[j], carry);
            }
            let sum = t[4] as u128 + carry as u128;
            t[3] = sum as u64;
            t[4] = t[5] + (sum >> 64) as u64;
        }
        let low = [t[0], t[1], t[2], t[3]];
        let (reduced, borrow) = sub_limbs(&low, p);
        Self::from_mont(if t[4] == 1 || borrow == 0 {
            &reduced
        } else {
            &low
        })
    }

    #[inline]
    pub fn square(&self) -> Self {
        self.mul(self)
    }

    /// self^exponent (exponent as little-endian limbs), square and multiply.
    pub fn pow(&self, exponent: &Limbs) -> Self {
        let mut result = Self::ONE;
        for &limb in exponent.iter().rev() {
            for bit in (0..64).rev() {
                result = result.square();
                if (limb >> bit) & 1 == 1 {
                    result = result.mul(self);
                }
            }
        }
        result
    }

    /// The inverse (Fermat: self^(p−2)); zero for zero.
    pub fn invert(&self) -> Self {
        let (exponent, _) = sub_limbs(&M::P, &[2, 0, 0, 0]);
        self.pow(&exponent)
    }

    /// A square root, for p ≡ 3 (mod 4): self^((p+1)/4), if self is a square.
    pub fn sqrt(&self) -> Option<Self> {
        debug_assert_eq!(M::P[0] & 3, 3, "p ≡ 3 (mod 4)");
        let (p_plus_1, carry) = add_limbs(&M::P, &one());
        let mut exponent = [0u64; 4];
        for i in 0..4 {
            let high = if i == 3 { carry } else { p_plus_1[i + 1] };
            exponent[i] = (p_plus_1[i] >> 2) | (high << 62);
        }
        let root = self.pow(&exponent);
        (root.square() == *self).then_some(root)
    }
}

/// Inverts every element of `values` in place with one inversion (Montgomery's trick):
/// 3(n−1) multiplications and one exponentiation instead of n exponentiations. Zeros
/// stay zero.
pub fn batch_invert<M: Modulus>(values: &mut [Fp<M>]) {
    let mut prefix = Vec::with_capacity(values.len());
    let mut running = Fp::<M>::ONE;
    for v in values.iter() {
        prefix.push(running);
        if !v.is_zero() {
            running = running.mul(v);
        }
    }
    let mut inverse = running.invert();
    for (v, before) in values.iter_mut().zip(prefix).rev() {
        if v.is_zero() {
            continue;
        }
        let inverted = inverse.mul(&before);
        inverse = inverse.mul(v);
        *v = inverted;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The prime of sm2p256v1, 2^256 − 2^224 − 2^96 + 2^64 − 1.
    #[derive(Clone, Copy, PartialEq, Eq)]
    struct Sm2P;
    impl Modulus for Sm2P {
        const P: Limbs = [
            0xFFFF_FFFF_FFFF_FFFF,
            0xFFFF_FFFF_0000_0000,
            0xFFFF_FFFF_FFFF_FFFF,
            0xFFFF_FFFE_FFFF_FFFF,
        ];
    }
    /// A prime far from any special form: BN254's base field.
    #[derive(Clone, Copy, PartialEq, Eq)]
    struct Bn254P;
    impl Modulus for Bn254P {
        const P: Limbs = [
            0x3C20_8C16_D87C_FD47,
            0x9781_6A91_6871_CA8D,
            0xB850_45B6_8181_585D,
            0x3064_4E72_E131_A029,
        ];
    }

    type F = Fp<Sm2P>;

    fn element(seed: u64) -> F {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut limbs = [0u64; 4];
        for limb in &mut limbs {
            x ^= x >> 29;
            x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            *limb = x;
        }
        limbs[3] >>= 1;
        F::from_limbs(&limbs).unwrap()
    }

    #[test]
    fn arithmetic_agrees_with_integers() {
        // Against u128 arithmetic on small values, then algebraic laws on large ones.
        for (a, b) in [(0u64, 0u64), (1, 1), (2, u64::MAX), (u64::MAX, u64::MAX)] {
            let (fa, fb) = (
                F::from_limbs(&[a, 0, 0, 0]).unwrap(),
                F::from_limbs(&[b, 0, 0, 0]).unwrap(),
            );
            let product = a as u128 * b as u128;
            assert_eq!(
                fa.mul(&fb).to_limbs(),
                [product as u64, (product >> 64) as u64, 0, 0]
            );
            let sum = a as u128 + b as u128;
            assert_eq!(
                fa.add(&fb).to_limbs(),
                [sum as u64, (sum >> 64) as u64, 0, 0]
            );
        }
        for seed in 0..200 {
            let (a, b, c) = (element(seed), element(seed + 1000), element(seed + 2000));
            assert_eq!(a.mul(&b.add(&c)), a.mul(&b).add(&a.mul(&c)));
            assert_eq!(a.sub(&b).add(&b), a);
            assert_eq!(a.add(&a.neg()), F::ZERO);
            if !a.is_zero() {
                assert_eq!(a.mul(&a.invert()), F::ONE);
            }
            let square = a.square();
            let root = square.sqrt().expect("a square has a root");
            assert!(root == a || root == a.neg());
        }
        // p − 1 = −1.
        let minus_one = F::from_limbs(&sub_limbs(&Sm2P::P, &one()).0).unwrap();
        assert_eq!(minus_one, F::ONE.neg());
        assert_eq!(minus_one.mul(&minus_one), F::ONE);
        assert_eq!(F::from_limbs(&Sm2P::P), None);
    }

    #[test]
    fn a_general_prime_works_the_same() {
        type G = Fp<Bn254P>;
        let a = G::from_limbs(&[7, 0, 0, 0]).unwrap();
        let b = G::from_limbs(&[0x1234_5678_9ABC_DEF0, 5, 6, 0x1000]).unwrap();
        assert_eq!(a.mul(&a.invert()), G::ONE);
        assert_eq!(b.mul(&b.invert()), G::ONE);
        assert_eq!(a.mul(&b).mul(&b.invert()), a);
        let p_minus_1 = sub_limbs(&Bn254P::P, &one()).0;
        assert_eq!(G::from_limbs(&p_minus_1).unwrap().add(&G::ONE), G::ZERO);
    }

    #[test]
    fn batch_inversion_inverts_each_and_keeps_zeros() {
        let mut values: Vec<F> = (0..20).map(element).collect();
        values[3] = F::ZERO;
        let original = values.clone();
        batch_invert(&mut values);
        for (v, o) in values.iter().zip(&original) {
            if o.is_zero() {
                assert!(v.is_zero());
            } else {
                assert_eq!(v.mul(o), F::ONE);
            }
        }
    }
}
