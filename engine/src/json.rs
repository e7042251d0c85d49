//! Hex fields of the JSON records the CLI and the fuzz targets read (NDJSON signature
//! sets, Merkle proof files): `0x`-prefixed or bare hex strings.

use std::fmt;

use serde_json::Value;

/// Where a value stands in a record: a field, the item of a list field, and a member of
/// that item (`leaves[3].leaf`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub field: &'static str,
    pub index: Option<usize>,
    pub member: Option<&'static str>,
}

impl Location {
    pub fn field(field: &'static str) -> Self {
        Self {
            field,
            index: None,
            member: None,
        }
    }

    pub fn item(field: &'static str, index: usize) -> Self {
        Self {
            field,
            index: Some(index),
            member: None,
        }
    }

    pub fn member(self, member: &'static str) -> Self {
        Self {
            member: Some(member),
            ..self
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.field)?;
        if let Some(i) = self.index {
            write!(f, "[{i}]")?;
        }
        if let Some(member) = self.member {
            write!(f, ".{member}")?;
        }
        Ok(())
    }
}

/// What is wrong with a JSON record's hex fields.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum JsonError {
    #[error("expected a JSON object")]
    NotAnObject,
    #[error("missing field {0:?}")]
    Missing(&'static str),
    #[error("give {0:?} or {1:?}, not both")]
    Both(&'static str, &'static str),
    #[error("{0}: expected a hex string")]
    NotAString(Location),
    #[error("{0}: expected an array of hex strings")]
    NotAList(Location),
    #[error("{location}: bad hex: {error}")]
    BadHex {
        location: Location,
        error: hex::FromHexError,
    },
    #[error("{location}: expected {expected} bytes, got {got}")]
    Length {
        location: Location,
        expected: usize,
        got: usize,
    },
}

/// Bytes from a hex string, with or without `0x`.
pub fn hex(text: &str) -> Result<Vec<u8>, hex::FromHexError> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    crate::hex_digits::decode(digits.as_bytes())
}

/// Bytes from the hex string at `location`.
pub fn hex_at(text: &str, location: Location) -> Result<Vec<u8>, JsonError> {
    hex(text).map_err(|error| JsonError::BadHex { location, error })
}

/// Exactly `N` bytes from the hex string at `location`.
pub fn hex_array<const N: usize>(text: &str, location: Location) -> Result<[u8; N], JsonError> {
    hex_at(text, location)?
        .try_into()
        .map_err(|b: Vec<u8>| JsonError::Length {
            location,
            expected: N,
            got: b.len(),
        })
}

/// A hex string field of a JSON object.
pub fn hex_field(obj: &Value, name: &'static str) -> Result<Vec<u8>, JsonError> {
    let location = Location::field(name);
    match obj.get(name) {
        Some(Value::String(s)) => hex_at(s, location),
        Some(_) => Err(JsonError::NotAString(location)),
        None => Err(JsonError::Missing(name)),
    }
}

/// An array-of-hex-strings field of a JSON object.
pub fn hex_list_field(obj: &Value, name: &'static str) -> Result<Vec<Vec<u8>>, JsonError> {
    let Some(value) = obj.get(name) else {
        return Err(JsonError::Missing(name));
    };
    let Some(items) = value.as_array() else {
        return Err(JsonError::NotAList(Location::field(name)));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => hex_at(s, Location::item(name, i)),
            _ => Err(JsonError::NotAString(Location::item(name, i))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_name_the_field_and_item() {
        let record = json!({"a": "0x0g", "b": ["00", 7], "c": 1});
        let e = hex_field(&record, "a").unwrap_err();
        assert!(
            matches!(e, JsonError::BadHex { location, .. } if location == Location::field("a"))
        );
        assert!(e.to_string().starts_with("a: bad hex"), "{e}");
        assert_eq!(
            hex_list_field(&record, "b").unwrap_err().to_string(),
            "b[1]: expected a hex string"
        );
        assert_eq!(
            hex_field(&record, "c").unwrap_err(),
            JsonError::NotAString(Location::field("c"))
        );
        assert_eq!(
            hex_field(&record, "d").unwrap_err().to_string(),
            "missing field \"d\""
        );
        let short = hex_array::<32>("0x00", Location::item("leaves", 3).member("leaf"));
        assert_eq!(
            short.unwrap_err().to_string(),
            "leaves[3].leaf: expected 32 bytes, got 1"
        );
    }
}
