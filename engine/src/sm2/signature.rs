//! SM2 signatures as callers send them: DER (`SEQUENCE { INTEGER r, INTEGER s }`, as
//! OpenSSL and GmSSL write them) or the raw 64 bytes r ‖ s, with r and s in [1, n − 1].

use crate::curves::sm2p256v1::Scalar;

/// A signature whose r and s are in [1, n − 1].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
    pub r: Scalar,
    pub s: Scalar,
}

/// Which of the signature's two integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    R,
    S,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::R => "r",
            Part::S => "s",
        })
    }
}

/// What is wrong with a DER encoding. Only strict DER is taken: BER's long lengths,
/// padded or negative integers and trailing bytes are all refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DerError {
    #[error("does not start with a SEQUENCE (0x30)")]
    NotASequence,
    #[error("the SEQUENCE's length says {said} bytes, {found} follow")]
    SequenceLength { said: usize, found: usize },
    #[error("{0} is not an INTEGER (0x02)")]
    NotAnInteger(Part),
    #[error("{0}'s length runs past the end")]
    Truncated(Part),
    #[error("{0} has no bytes")]
    EmptyInteger(Part),
    #[error("{0} is negative")]
    Negative(Part),
    #[error("{0} has a leading zero byte that DER does not allow")]
    NotMinimal(Part),
    #[error("{0} is longer than 256 bits")]
    TooLong(Part),
    #[error("{0} bytes follow the two integers")]
    TrailingBytes(usize),
}

/// Why bytes are not an SM2 signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("a signature is DER (8 to 72 bytes) or raw r ‖ s (64 bytes), not {0} bytes")]
    Length(usize),
    #[error("not strict DER: {0}")]
    Der(#[from] DerError),
    #[error("{0} is not in [1, n − 1]")]
    OutOfRange(Part),
}

impl Signature {
    /// Decodes DER or raw r ‖ s. Sixty-four bytes are raw unless they are strict DER
    /// (a DER signature of 64 bytes, whose r and s have 58 bytes between them, happens
    /// about once in 2^47; raw bytes that happen to be strict DER, about once in 2^40,
    /// and are then read as r and s that do not verify: never a wrong "valid").
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SignatureError> {
        let (r, s) = match bytes.len() {
            64 => match der(bytes) {
                Ok(parts) => parts,
                Err(_) => (
                    bytes[..32].try_into().expect("32 bytes"),
                    bytes[32..].try_into().expect("32 bytes"),
                ),
            },
            8..=72 => der(bytes)?,
            len => return Err(SignatureError::Length(len)),
        };
        Ok(Self {
            r: in_range(&r).ok_or(SignatureError::OutOfRange(Part::R))?,
            s: in_range(&s).ok_or(SignatureError::OutOfRange(Part::S))?,
        })
    }

    /// The raw 64-byte encoding r ‖ s.
    pub fn to_raw(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.r.to_be_bytes());
        out[32..].copy_from_slice(&self.s.to_be_bytes());
        out
    }

    /// The DER encoding, as OpenSSL writes it.
    pub fn to_der(&self) -> Vec<u8> {
        let integer = |x: &Scalar| {
            let bytes = x.to_be_bytes();
            let start = bytes.iter().position(|&b| b != 0).unwrap_or(31);
            let mut out = vec![0x02];
            if bytes[start] & 0x80 != 0 {
                out.push((32 - start + 1) as u8);
                out.push(0);
            } else {
                out.push((32 - start) as u8);
            }
            out.extend_from_slice(&bytes[start..]);
            out
        };
        let body = [integer(&self.r), integer(&self.s)].concat();
        let mut out = vec![0x30, body.len() as u8];
        out.extend(body);
        out
    }
}

fn in_range(x: &[u8; 32]) -> Option<Scalar> {
    Scalar::from_be_bytes(x).filter(|x| !x.is_zero())
}

/// r and s of a strict DER signature, as 32-byte big-endian integers.
fn der(bytes: &[u8]) -> Result<([u8; 32], [u8; 32]), DerError> {
    if bytes.first() != Some(&0x30) {
        return Err(DerError::NotASequence);
    }
    // Short-form length only: the body is at most 70 bytes.
    let said = usize::from(*bytes.get(1).unwrap_or(&0));
    let body = &bytes[2.min(bytes.len())..];
    if said >= 0x80 || said != body.len() {
        return Err(DerError::SequenceLength {
            said,
            found: body.len(),
        });
    }
    let (r, rest) = integer(body, Part::R)?;
    let (s, rest) = integer(rest, Part::S)?;
    if !rest.is_empty() {
        return Err(DerError::TrailingBytes(rest.len()));
    }
    Ok((r, s))
}

/// One non-negative, minimally encoded INTEGER of at most 256 bits, and what follows.
fn integer(bytes: &[u8], part: Part) -> Result<([u8; 32], &[u8]), DerError> {
    if bytes.first() != Some(&0x02) {
        return Err(DerError::NotAnInteger(part));
    }
    let len = usize::from(*bytes.get(1).ok_or(DerError::Truncated(part))?);
    if len >= 0x80 {
        // A long-form length for an integer of at most 33 bytes is not DER.
        return Err(DerError::TooLong(part));
    }
    let content = bytes.get(2..2 + len).ok_or(DerError::Truncated(part))?;
    let (first, second) = match content {
        [] => return Err(DerError::EmptyInteger(part)),
        [first] => (*first, None),
        [first, second, ..] => (*first, Some(*second)),
    };
    if first & 0x80 != 0 {
        return Err(DerError::Negative(part));
    }
    if first == 0 && second.is_some_and(|b| b & 0x80 == 0) {
        return Err(DerError::NotMinimal(part));
    }
    let magnitude = if first == 0 && len > 1 {
        &content[1..]
    } else {
        content
    };
    if magnitude.len() > 32 {
        return Err(DerError::TooLong(part));
    }
    let mut out = [0u8; 32];
    out[32 - magnitude.len()..].copy_from_slice(magnitude);
    Ok((out, &bytes[2 + len..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curves::sm2p256v1::params;

    fn signature(r: u64, s: u64) -> Signature {
        Signature {
            r: Scalar::from_limbs(&[r, 0, 0, 0]).unwrap(),
            s: Scalar::from_limbs(&[s, 0, 0, 0]).unwrap(),
        }
    }

    #[test]
    fn der_and_raw_round_trip() {
        let n_minus_1 = Scalar::ZERO.sub(&Scalar::ONE);
        for sig in [
            signature(1, 1),
            signature(0x80, 0x7f),
            signature(u64::MAX, 0x1234),
            Signature {
                r: n_minus_1,
                s: n_minus_1,
            },
        ] {
            assert_eq!(Signature::from_bytes(&sig.to_der()), Ok(sig));
            assert_eq!(Signature::from_bytes(&sig.to_raw()), Ok(sig));
        }
        // r = 1, s = 1 in DER: the shortest signature.
        assert_eq!(
            signature(1, 1).to_der(),
            [0x30, 6, 2, 1, 1, 2, 1, 1].to_vec()
        );
        // 0x80 needs a zero byte in front, 0x7f does not.
        assert_eq!(
            signature(0x80, 0x7f).to_der(),
            [0x30, 7, 2, 2, 0, 0x80, 2, 1, 0x7f].to_vec()
        );
    }

    #[test]
    fn every_defect_is_named() {
        let good = signature(0x1234, 0x80).to_der(); // 30 08 02 02 12 34 02 02 00 80
        let with = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut bytes = good.clone();
            f(&mut bytes);
            Signature::from_bytes(&bytes)
        };
        use DerError::*;
        let der = |e| Err(SignatureError::Der(e));
        assert_eq!(with(&|b| b[0] = 0x31), der(NotASequence));
        assert_eq!(
            with(&|b| b.push(0)),
            der(SequenceLength { said: 8, found: 9 })
        );
        assert_eq!(
            with(&|b| {
                b.push(0);
                b[1] = 9
            }),
            der(TrailingBytes(1))
        );
        assert_eq!(with(&|b| b[2] = 0x03), der(NotAnInteger(Part::R)));
        assert_eq!(with(&|b| b[4] = 0x92), der(Negative(Part::R)));
        assert_eq!(with(&|b| b[6] = 0x03), der(NotAnInteger(Part::S)));
        // s = 00 80 is minimal; 00 7f is not.
        assert_eq!(with(&|b| b[9] = 0x7f), der(NotMinimal(Part::S)));
        assert_eq!(
            Signature::from_bytes(&[0x30, 6, 2, 0, 2, 1, 1, 0]),
            der(EmptyInteger(Part::R))
        );
        assert_eq!(
            Signature::from_bytes(&[0x30, 6, 2, 5, 1, 2, 1, 1]),
            der(Truncated(Part::R))
        );
        // A long-form sequence length (BER) is refused.
        let mut long = vec![0x30, 0x81, 8];
        long.extend_from_slice(&good[2..]);
        assert!(matches!(
            Signature::from_bytes(&long),
            Err(SignatureError::Der(SequenceLength { .. }))
        ));
        // A 33-byte magnitude.
        let mut too_long = vec![0x30, 38, 2, 33];
        too_long.extend_from_slice(&[0x01; 33]);
        too_long.extend_from_slice(&[2, 1, 1]);
        assert_eq!(Signature::from_bytes(&too_long), der(TooLong(Part::R)));

        assert_eq!(Signature::from_bytes(&[]), Err(SignatureError::Length(0)));
        assert_eq!(
            Signature::from_bytes(&[0; 73]),
            Err(SignatureError::Length(73))
        );
        // Out of range: zero, and n itself.
        assert_eq!(
            Signature::from_bytes(&[0x30, 6, 2, 1, 0, 2, 1, 1]),
            Err(SignatureError::OutOfRange(Part::R))
        );
        let mut raw = [0u8; 64];
        raw[31] = 1;
        raw[32..].copy_from_slice(&params::N);
        assert_eq!(
            Signature::from_bytes(&raw),
            Err(SignatureError::OutOfRange(Part::S))
        );
    }
}
