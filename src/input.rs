//! Reading input files: whole files or stdin, NDJSON or JSON arrays, hex fields.

use std::io::Read;
use std::path::Path;

use serde_json::Value;

/// The bytes of `path`, or of stdin when it is `-`.
pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// A reader of `path`, or of stdin when it is `-`, for commands that stream their input.
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>, String> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::stdin()));
    }
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Box::new(file))
}

/// One record of an input file: a JSON value, or why its line is not JSON.
pub type Record = Result<Value, String>;

/// The records of a file that is either one JSON array or NDJSON (one JSON value per
/// non-empty line). A line that is not JSON is a record with an error, so one bad line
/// does not stop the rest; a file that starts as an array must parse as a whole.
pub fn records(bytes: &[u8]) -> Result<Vec<Record>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("input is not UTF-8: {e}"))?;
    if text.trim_start().starts_with('[') {
        return match serde_json::from_str::<Vec<Value>>(text) {
            Ok(values) => Ok(values.into_iter().map(Ok).collect()),
            Err(e) => Err(format!("input is not a valid JSON array: {e}")),
        };
    }
    Ok(text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}")))
        .collect())
}

/// Bytes from a hex string, with or without `0x`.
pub fn hex(text: &str) -> Result<Vec<u8>, String> {
    veribatch_engine::json::hex(text).map_err(|e| format!("bad hex: {e}"))
}
