//! Decoding and encoding of BLS12-381 points, shared by the BLS and Groth16 code. Encodings are the zcash/IETF ones used by Ethereum, blst, bellman and
//! arkworks: big-endian coordinates, three flag bits in the first byte (compressed,
//! infinity, sign of y), G2 coordinates written c1 before c0.

use blst::*;

use super::{G1Affine, G2Affine};

/// Why bytes are not a valid point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("expected {expected} bytes, got {got}")]
    Length { expected: usize, got: usize },
    #[error("expected {compressed} (compressed) or {uncompressed} (uncompressed) bytes, got {got}")]
    Lengths {
        compressed: usize,
        uncompressed: usize,
        got: usize,
    },
    #[error("not a canonical point encoding")]
    Encoding,
    #[error("not a point on the curve")]
    NotOnCurve,
    #[error("not in the prime-order subgroup")]
    NotInSubgroup,
    #[error("the point at infinity is not allowed here")]
    Infinity,
}

fn status(status: BLST_ERROR) -> Result<(), DecodeError> {
    match status {
        BLST_ERROR::BLST_SUCCESS => Ok(()),
        BLST_ERROR::BLST_POINT_NOT_ON_CURVE => Err(DecodeError::NotOnCurve),
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => Err(DecodeError::NotInSubgroup),
        _ => Err(DecodeError::Encoding),
    }
}

/// The compression flag of an encoding's first byte, which must match its length.
fn check_form(bytes: &[u8], compressed_len: usize) -> Result<(), DecodeError> {
    let compressed = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let expected = if compressed {
        compressed_len
    } else {
        2 * compressed_len
    };
    if bytes.len() == expected {
        Ok(())
    } else if bytes.len() == compressed_len || bytes.len() == 2 * compressed_len {
        Err(DecodeError::Encoding)
    } else {
        Err(DecodeError::Lengths {
            compressed: compressed_len,
            uncompressed: 2 * compressed_len,
            got: bytes.len(),
        })
    }
}

/// A G1 point from its compressed (48-byte) or uncompressed (96-byte) encoding, checked
/// to be on the curve and in the prime-order subgroup. The point at infinity is accepted.
pub fn decode_g1(bytes: &[u8]) -> Result<G1Affine, DecodeError> {
    check_form(bytes, 48)?;
    let mut point = blst_p1_affine::default();
    // SAFETY: the length matches the form blst reads, as checked above.
    status(unsafe { blst_p1_deserialize(&mut point, bytes.as_ptr()) })?;
    // SAFETY: plain predicate (true for the point at infinity).
    if !unsafe { blst_p1_affine_in_g1(&point) } {
        return Err(DecodeError::NotInSubgroup);
    }
    Ok(G1Affine(point))
}

/// A G2 point from its compressed (96-byte) or uncompressed (192-byte) encoding, checked
/// to be on the curve and in the prime-order subgroup. The point at infinity is accepted.
pub fn decode_g2(bytes: &[u8]) -> Result<G2Affine, DecodeError> {
    let point = decode_g2_on_curve(bytes)?;
    // SAFETY: plain predicate (true for the point at infinity).
    if !unsafe { blst_p2_affine_in_g2(&point.0) } {
        return Err(DecodeError::NotInSubgroup);
    }
    Ok(point)
}

/// A G2 point from its encoding, checked to be on the curve but *not* for subgroup
/// membership: what the BLS draft's `signature_to_point` does before aggregation.
pub fn decode_g2_on_curve(bytes: &[u8]) -> Result<G2Affine, DecodeError> {
    check_form(bytes, 96)?;
    let mut point = blst_p2_affine::default();
    // SAFETY: the length matches the form blst reads, as checked above.
    status(unsafe { blst_p2_deserialize(&mut point, bytes.as_ptr()) })?;
    Ok(G2Affine(point))
}

/// 48-byte compressed encoding of a G1 point.
pub fn compress_g1(point: &G1Affine) -> [u8; 48] {
    let mut out = [0u8; 48];
    // SAFETY: `out` has the 48 bytes blst writes.
    unsafe { blst_p1_affine_compress(out.as_mut_ptr(), &point.0) };
    out
}

/// 96-byte compressed encoding of a G2 point.
pub fn compress_g2(point: &G2Affine) -> [u8; 96] {
    let mut out = [0u8; 96];
    // SAFETY: `out` has the 96 bytes blst writes.
    unsafe { blst_p2_affine_compress(out.as_mut_ptr(), &point.0) };
    out
}

/// 96-byte uncompressed encoding of a G1 point: x ‖ y.
pub fn serialize_g1(point: &G1Affine) -> [u8; 96] {
    let mut out = [0u8; 96];
    // SAFETY: `out` has the 96 bytes blst writes.
    unsafe { blst_p1_affine_serialize(out.as_mut_ptr(), &point.0) };
    out
}

/// 192-byte uncompressed encoding of a G2 point: x.c1 ‖ x.c0 ‖ y.c1 ‖ y.c0.
pub fn serialize_g2(point: &G2Affine) -> [u8; 192] {
    let mut out = [0u8; 192];
    // SAFETY: `out` has the 192 bytes blst writes.
    unsafe { blst_p2_affine_serialize(out.as_mut_ptr(), &point.0) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curves::bls12_381::g1_is_infinity;

    /// Found by the `points` fuzz target (fuzz/regressions/points): the uncompressed
    /// encoding of the point at infinity (0x40 then zeros) decodes, and re-serializes to
    /// the same bytes, not to the compressed form.
    #[test]
    fn uncompressed_encodings_round_trip_in_their_own_form() {
        let mut infinity = [0u8; 96];
        infinity[0] = 0x40;
        let p = decode_g1(&infinity).unwrap();
        assert!(g1_is_infinity(&p));
        assert_eq!(serialize_g1(&p), infinity);
        assert_eq!(compress_g1(&p)[0], 0xc0);
        let mut g2_infinity = [0u8; 192];
        g2_infinity[0] = 0x40;
        assert_eq!(serialize_g2(&decode_g2(&g2_infinity).unwrap()), g2_infinity);
        // The infinity flag with any other bit set is not canonical.
        infinity[95] = 1;
        assert!(decode_g1(&infinity).is_err());
    }
}
