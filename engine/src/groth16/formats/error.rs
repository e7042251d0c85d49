//! Why the bytes of a key or proof are not one, in the terms of its format. `at` names
//! the place in the file (`vk_alpha_1`, `IC[3]`, `public[0]`).

use crate::curves::bls12_381::DecodeError;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The JSON parser's own account of where the text stops being JSON.
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("expected a JSON object")]
    NotObject,
    #[error("protocol is {0}, expected \"groth16\"")]
    Protocol(String),
    #[error("curve is {0}: only \"bls12381\" is supported (BN254 keys are not)")]
    Curve(String),
    #[error("missing field {0:?}")]
    MissingField(&'static str),
    #[error("{at}: expected an array{}", match len { Some(n) => format!(" of {n} elements"), None => String::new() })]
    NotArray { at: String, len: Option<usize> },
    #[error("public: expected a JSON array of decimal or 0x-hex strings")]
    InputsNotArray,
    #[error("{at}: expected a string, got {got}")]
    NotString { at: String, got: String },
    #[error("{at}: {text:?} is not a decimal integer below the field modulus p")]
    NotFieldElement { at: String, text: String },
    #[error("{at}: {text:?} is not a decimal integer below 2^256")]
    NotDecimal256 { at: String, text: String },
    #[error("{at}: {text:?} is not hex of at most 32 bytes")]
    NotHex32 { at: String, text: String },
    #[error("{at}: expected z = 1 (affine) or the point at infinity written as (0, 1, 0)")]
    NotAffine { at: String },
    #[error("{at}: {error}")]
    Point { at: String, error: DecodeError },
    #[error("nPublic is {n} but IC has {ic} points (expected nPublic + 1)")]
    NPublic { n: String, ic: usize },
    #[error("truncated: {at} needs {needed} bytes at offset {offset}, {left} left")]
    Truncated {
        at: String,
        needed: usize,
        offset: usize,
        left: usize,
    },
    #[error("IC count {count} does not match the {bytes} bytes that follow")]
    IcCount { count: u64, bytes: usize },
    #[error("{0} unexpected bytes after the end")]
    TrailingBytes(usize),
    #[error("expected 192 bytes (A, B, C compressed), got {0}")]
    ProofLength(usize),
}

impl FormatError {
    pub(super) fn point(at: &str, error: DecodeError) -> Self {
        FormatError::Point {
            at: at.to_string(),
            error,
        }
    }
}
