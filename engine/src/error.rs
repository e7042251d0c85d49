//! Errors shared by every operation.

use std::fmt;

/// Where in a request an input error was found: a field name and, for repeated fields,
/// the index of the element (`public_keys[3]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub field: &'static str,
    pub index: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "{}[{i}]", self.field),
            None => f.write_str(self.field),
        }
    }
}

/// A malformed input: what is wrong, and where.
///
/// Returned for bad hex, wrong lengths, non-canonical encodings, points off the curve or
/// outside the prime-order subgroup, inconsistent counts and the like. It is never used
/// for a well-formed input that simply fails verification: that is `Ok(false)`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {reason}")]
pub struct InputError {
    pub location: Location,
    pub reason: String,
}

impl InputError {
    pub fn new(field: &'static str, index: Option<usize>, reason: impl fmt::Display) -> Self {
        Self {
            location: Location { field, index },
            reason: reason.to_string(),
        }
    }
}

/// The answer for one item of a batch: valid, invalid, or malformed (with the reason).
pub type Verdict = Result<bool, InputError>;
