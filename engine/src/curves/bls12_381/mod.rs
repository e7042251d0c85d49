//! BLS12-381 over blst: the point types ([`G1Affine`], [`G1`], [`G2Affine`], [`G2`],
//! [`Fp12`]), their encodings with validation ([`encoding`]), group operations
//! ([`group`]) and the scalar field Fr ([`Fr`]).

pub mod encoding;
pub mod group;
mod points;
mod scalar;

pub use encoding::*;
pub use group::*;
pub use points::{Fp12, G1, G1Affine, G2, G2Affine};
pub use scalar::{Fr, Scalar};
