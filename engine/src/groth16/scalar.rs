//! Public inputs: elements of the scalar field Fr, canonical (below r) only.

use crate::curves::bls12_381::Fr;
use crate::error::{ErrorKind, Field, InputError, Range};

/// A canonical public input (an element of Fr below r).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicInput(pub(crate) Fr);

impl PublicInput {
    /// A 32-byte big-endian integer below r. Anything else is rejected: an input of r or
    /// more would alias a smaller one and let one proof verify for two statements.
    pub fn from_be_bytes(bytes: &[u8], index: usize) -> Result<Self, InputError> {
        let bytes: &[u8; 32] = bytes.try_into().map_err(|_| {
            InputError::new(
                Field::PublicInputs,
                Some(index),
                ErrorKind::Length {
                    expected: 32,
                    got: bytes.len(),
                },
            )
        })?;
        Fr::from_be_bytes_canonical(bytes).map(Self).ok_or_else(|| {
            InputError::new(
                Field::PublicInputs,
                Some(index),
                ErrorKind::OutOfRange(Range::BelowScalarModulus),
            )
        })
    }
}

/// Parses a non-negative decimal integer (as snarkjs writes field elements) into 32
/// big-endian bytes, or `None` if it is not one or does not fit in 256 bits.
pub fn parse_decimal(text: &str) -> Option<[u8; 32]> {
    decimal_be::<32, 4>(text)
}

/// A decimal integer as `N` big-endian bytes (`L` = N / 8 limbs), if it fits.
pub(crate) fn decimal_be<const N: usize, const L: usize>(text: &str) -> Option<[u8; N]> {
    // 116 digits exceed any 384-bit number; longer inputs are rejected before any work.
    if text.is_empty() || text.len() > 116 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Little-endian 64-bit limbs; multiply by ten and add each digit.
    let mut limbs = [0u64; L];
    for digit in text.bytes().map(|b| u64::from(b - b'0')) {
        let mut carry = u128::from(digit);
        for limb in &mut limbs {
            let v = u128::from(*limb) * 10 + carry;
            *limb = v as u64;
            carry = v >> 64;
        }
        if carry != 0 {
            return None;
        }
    }
    let mut out = [0u8; N];
    for (i, limb) in limbs.iter().rev().enumerate() {
        out[i * 8..i * 8 + 8].copy_from_slice(&limb.to_be_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_parsing() {
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(parse_decimal("1"), Some(one));
        assert_eq!(parse_decimal("0"), Some([0; 32]));
        let mut big = [0u8; 32];
        big[23] = 1; // 2^64
        assert_eq!(parse_decimal("18446744073709551616"), Some(big));
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
        assert_eq!(parse_decimal(max), Some([0xff; 32]));
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        assert_eq!(parse_decimal(over), None);
        for bad in ["", "-1", "1.5", "0x10", " 1", "1e3"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn public_inputs_must_be_below_r() {
        let r = "52435875175126190479447740508185965837690552500527637822603658699938581184513";
        let r_bytes = parse_decimal(r).unwrap();
        assert_eq!(
            PublicInput::from_be_bytes(&r_bytes, 0).unwrap_err().kind,
            ErrorKind::OutOfRange(Range::BelowScalarModulus)
        );
        let mut r_minus_one = r_bytes;
        r_minus_one[31] -= 1;
        assert!(PublicInput::from_be_bytes(&r_minus_one, 0).is_ok());
        let err = PublicInput::from_be_bytes(&[0; 31], 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "public_inputs[2]: expected 32 bytes, got 31"
        );
    }
}
