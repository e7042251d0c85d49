//! Hex fields of the JSON records the CLI and the fuzz targets read (NDJSON signature
//! sets, Merkle proof files): `0x`-prefixed or bare hex strings.

use serde_json::Value;

/// Bytes from a hex string, with or without `0x`.
pub fn hex(text: &str) -> Result<Vec<u8>, String> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    hex::decode(digits).map_err(|e| format!("bad hex: {e}"))
}

/// A hex string field of a JSON object.
pub fn hex_field(obj: &Value, name: &str) -> Result<Vec<u8>, String> {
    match obj.get(name) {
        Some(Value::String(s)) => hex(s).map_err(|e| format!("{name}: {e}")),
        Some(_) => Err(format!("{name}: expected a hex string")),
        None => Err(format!("missing field {name:?}")),
    }
}

/// An array-of-hex-strings field of a JSON object.
pub fn hex_list_field(obj: &Value, name: &str) -> Result<Vec<Vec<u8>>, String> {
    let Some(value) = obj.get(name) else {
        return Err(format!("missing field {name:?}"));
    };
    let Some(items) = value.as_array() else {
        return Err(format!("{name}: expected an array of hex strings"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => hex(s).map_err(|e| format!("{name}[{i}]: {e}")),
            _ => Err(format!("{name}[{i}]: expected a hex string")),
        })
        .collect()
}
