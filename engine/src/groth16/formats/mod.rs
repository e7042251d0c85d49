//! The encodings keys and proofs arrive in.
//!
//! | format  | key                                                            | proof            |
//! |---------|----------------------------------------------------------------|------------------|
//! | snarkjs | `verification_key.json` (decimal coordinates, `curve: bls12381`) | `proof.json`     |
//! | arkworks| `VerifyingKey::serialize_compressed`                           | A ‖ B ‖ C compressed (192 bytes) |
//! | bellman | `VerifyingKey::write` (uncompressed points, u32 IC count)      | A ‖ B ‖ C compressed (192 bytes) |
//!
//! A key's format is told from its bytes ([`KeyFormat::detect`]) or named by the caller;
//! a proof's from its own bytes ([`parse_proof`]).
//!
//! Public inputs are not part of these formats here: they are 32-byte big-endian
//! integers below r (snarkjs's decimal `public.json` is converted with
//! [`super::parse_decimal`]).

mod arkworks;
mod bellman;
mod error;
mod snarkjs;

use crate::curves::bls12_381::{G1Affine, G2Affine};
use std::fmt;
use std::str::FromStr;

pub use error::FormatError;
pub use snarkjs::{parse_public_json, public_inputs_from_json};

use super::{DegenerateKeys, Proof, VerifyingKey};
use crate::curves::bls12_381 as points;
use crate::error::{ErrorKind, Field, InputError};
use crate::unknown_name::UnknownName;

/// The encoding of a verifying key (and of the proofs made for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyFormat {
    SnarkjsJson,
    Arkworks,
    Bellman,
}

impl KeyFormat {
    /// Tells the format from the bytes of a key: JSON starts with `{`; the two binary
    /// layouts have lengths 344 + 48k (arkworks) and 868 + 96k (bellman), never equal.
    pub fn detect(key: &[u8]) -> Option<Self> {
        let first = key.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'{') {
            Some(Self::SnarkjsJson)
        } else if key.len() >= arkworks::KEY_MIN
            && (key.len() - arkworks::KEY_MIN).is_multiple_of(48)
        {
            Some(Self::Arkworks)
        } else if key.len() >= bellman::KEY_MIN && (key.len() - bellman::KEY_MIN).is_multiple_of(96)
        {
            Some(Self::Bellman)
        } else {
            None
        }
    }

    /// How many IC points a key in this format holds, read without decoding any point
    /// (from the binary layouts' lengths, from the JSON's `IC` array): the cost of
    /// validating a key, known before it is paid.
    pub fn ic_points(self, bytes: &[u8]) -> Result<usize, InputError> {
        let invalid = |e: FormatError| InputError::new(Field::VerifyingKey, None, e);
        Ok(match self {
            Self::SnarkjsJson => snarkjs::ic_points(bytes).map_err(invalid)?,
            Self::Arkworks => bytes.len().saturating_sub(arkworks::KEY_MIN) / 48,
            Self::Bellman => bytes.len().saturating_sub(bellman::KEY_MIN) / 96,
        })
    }

    /// Decodes and validates a verifying key, refusing keys that let anyone forge proofs
    /// ([`super::KeyDefect`]).
    pub fn parse_key(self, bytes: &[u8]) -> Result<VerifyingKey, InputError> {
        self.parse_key_with(bytes, DegenerateKeys::Refuse)
    }

    /// [`KeyFormat::parse_key`], with `degenerate` saying whether keys that let anyone
    /// forge proofs are refused or accepted (for studying broken setups).
    pub fn parse_key_with(
        self,
        bytes: &[u8],
        degenerate: DegenerateKeys,
    ) -> Result<VerifyingKey, InputError> {
        let key = match self {
            Self::SnarkjsJson => snarkjs::parse_key(bytes),
            Self::Arkworks => arkworks::parse_key(bytes),
            Self::Bellman => bellman::parse_key(bytes),
        }
        .map_err(|e| InputError::new(Field::VerifyingKey, None, e))?;
        if key.ic.is_empty() {
            return Err(InputError::new(
                Field::VerifyingKey,
                None,
                ErrorKind::EmptyIc,
            ));
        }
        if let (Some(defect), DegenerateKeys::Refuse) = (key.defect(), degenerate) {
            return Err(InputError::new(Field::VerifyingKey, None, defect));
        }
        Ok(key)
    }
}

/// Decodes and validates a proof: snarkjs `proof.json` if it is a JSON object, else the
/// 192-byte compressed A ‖ B ‖ C that arkworks and bellman both write. The proof's
/// format is told from its bytes, so one key serves callers of every format.
pub fn parse_proof(bytes: &[u8]) -> Result<Proof, InputError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        snarkjs::parse_proof(bytes)
    } else {
        arkworks::parse_proof(bytes)
    }
    .map_err(|e| InputError::new(Field::Proof, None, e))
}

impl FromStr for KeyFormat {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "snarkjs" | "json" => Ok(Self::SnarkjsJson),
            "arkworks" => Ok(Self::Arkworks),
            "bellman" | "zcash" => Ok(Self::Bellman),
            other => Err(UnknownName {
                what: "key format",
                name: other.to_string(),
                expected: "snarkjs, arkworks or bellman",
            }),
        }
    }
}

impl fmt::Display for KeyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SnarkjsJson => "snarkjs",
            Self::Arkworks => "arkworks",
            Self::Bellman => "bellman",
        })
    }
}

/// Reads a binary encoding front to back.
struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, offset: 0 }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], FormatError> {
        let end = self
            .offset
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(FormatError::Truncated {
                at: what.to_string(),
                needed: n,
                offset: self.offset,
                left: self.bytes.len() - self.offset,
            });
        };
        let out = &self.bytes[self.offset..end];
        self.offset = end;
        Ok(out)
    }

    fn g1(&mut self, n: usize, what: &str) -> Result<G1Affine, FormatError> {
        points::decode_g1(self.take(n, what)?).map_err(|e| FormatError::point(what, e))
    }

    fn g2(&mut self, n: usize, what: &str) -> Result<G2Affine, FormatError> {
        points::decode_g2(self.take(n, what)?).map_err(|e| FormatError::point(what, e))
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.offset
    }

    fn finish(&self) -> Result<(), FormatError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(FormatError::TrailingBytes(n)),
        }
    }
}
