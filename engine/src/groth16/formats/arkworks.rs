//! arkworks' compressed serialization (ark-serialize 0.4+, whose BLS12-381 point
//! encodings are the zcash ones).

use super::{FormatError, Reader};
use crate::groth16::{Proof, VerifyingKey};

/// Length of a key with no IC point: α ‖ β ‖ γ ‖ δ ‖ IC count.
pub const KEY_MIN: usize = 48 + 3 * 96 + 8;

/// α (48) ‖ β (96) ‖ γ (96) ‖ δ (96) ‖ IC count (u64 little-endian) ‖ IC (48 each).
pub fn parse_key(bytes: &[u8]) -> Result<VerifyingKey, FormatError> {
    let mut r = Reader::new(bytes);
    let alpha_g1 = r.g1(48, "alpha_g1")?;
    let beta_g2 = r.g2(96, "beta_g2")?;
    let gamma_g2 = r.g2(96, "gamma_g2")?;
    let delta_g2 = r.g2(96, "delta_g2")?;
    let count = u64::from_le_bytes(r.take(8, "IC count")?.try_into().expect("8 bytes"));
    if count.checked_mul(48) != Some(r.remaining() as u64) {
        return Err(FormatError::IcCount {
            count,
            bytes: r.remaining(),
        });
    }
    let ic = (0..count)
        .map(|i| r.g1(48, &format!("gamma_abc_g1[{i}]")))
        .collect::<Result<_, _>>()?;
    r.finish()?;
    Ok(VerifyingKey {
        alpha_g1,
        beta_g2,
        gamma_g2,
        delta_g2,
        ic,
    })
}

/// A (48) ‖ B (96) ‖ C (48), compressed: arkworks' and bellman's proof encoding alike.
pub fn parse_proof(bytes: &[u8]) -> Result<Proof, FormatError> {
    if bytes.len() != 192 {
        return Err(FormatError::ProofLength(bytes.len()));
    }
    let mut r = Reader::new(bytes);
    Ok(Proof {
        a: r.g1(48, "a")?,
        b: r.g2(96, "b")?,
        c: r.g1(48, "c")?,
    })
}
