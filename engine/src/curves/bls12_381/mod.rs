//! BLS12-381 over blst: the encodings of G1 and G2 points with their validation
//! ([`encoding`]), group operations ([`group`]) and the scalar field Fr ([`Fr`]).
//!
//! Points are blst's own types (`blst_p1_affine`, `blst_p1`, ...), which the backends'
//! primitives take as they are.

pub mod encoding;
pub mod group;
mod scalar;

pub use encoding::*;
pub use group::*;
pub use scalar::{Fr, Scalar};
