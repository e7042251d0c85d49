//! bellman's (zcash's) `VerifyingKey::write`: uncompressed points, a big-endian u32 count.

use super::{FormatError, Reader};
use crate::groth16::VerifyingKey;

/// Length of a key with no IC point.
pub const KEY_MIN: usize = 96 + 96 + 192 + 192 + 96 + 192 + 4;

/// α_g1 ‖ β_g1 ‖ β_g2 ‖ γ_g2 ‖ δ_g1 ‖ δ_g2 ‖ IC count (u32 big-endian) ‖ IC, all points
/// uncompressed. β_g1 and δ_g1 serve only the prover; they are validated all the same.
pub fn parse_key(bytes: &[u8]) -> Result<VerifyingKey, FormatError> {
    let mut r = Reader::new(bytes);
    let alpha_g1 = r.g1(96, "alpha_g1")?;
    r.g1(96, "beta_g1")?;
    let beta_g2 = r.g2(192, "beta_g2")?;
    let gamma_g2 = r.g2(192, "gamma_g2")?;
    r.g1(96, "delta_g1")?;
    let delta_g2 = r.g2(192, "delta_g2")?;
    let count = u32::from_be_bytes(r.take(4, "IC count")?.try_into().expect("4 bytes"));
    if (count as usize).checked_mul(96) != Some(r.remaining()) {
        return Err(FormatError::IcCount {
            count: count.into(),
            bytes: r.remaining(),
        });
    }
    let ic = (0..count)
        .map(|i| r.g1(96, &format!("ic[{i}]")))
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
