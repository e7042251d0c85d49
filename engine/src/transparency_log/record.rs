//! The JSON records of proofs, one per line, as `veribatch log prove` writes them and
//! `log verify` reads them:
//!
//! ```json
//! {"type":"inclusion","size":7,"root":"0x…","index":3,"leaf":"0x…","path":["0x…",…]}
//! {"type":"consistency","old_size":3,"old_root":"0x…","size":7,"root":"0x…","path":[…]}
//! ```
//!
//! An inclusion record's `leaf` is the leaf's data (its hash is computed); a record may
//! give `"leaf_hash"` instead, for a verifier that holds only the hash.

use serde::Serialize;
use serde_json::Value;

use super::{ConsistencyProof, Hash, InclusionProof, LogProof, leaf_hash};
use crate::json::{self, JsonError, Location};

/// Why a record is not a proof.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Json(#[from] JsonError),
    #[error("missing field \"type\" (\"inclusion\" or \"consistency\")")]
    NoType,
    #[error("type {0:?} is neither \"inclusion\" nor \"consistency\"")]
    UnknownType(String),
    #[error("{0}: expected a non-negative integer")]
    NotAnInteger(&'static str),
}

/// A proof from its record.
pub fn from_json(record: &Value) -> Result<LogProof, RecordError> {
    if !record.is_object() {
        return Err(JsonError::NotAnObject.into());
    }
    match record.get("type") {
        None => Err(RecordError::NoType),
        Some(Value::String(t)) if t == "inclusion" => Ok(LogProof::Inclusion(InclusionProof {
            size: integer(record, "size")?,
            index: integer(record, "index")?,
            leaf_hash: match (record.get("leaf"), record.get("leaf_hash")) {
                (Some(_), None) => leaf_hash(&json::hex_field(record, "leaf")?),
                (None, Some(_)) => hash(record, "leaf_hash")?,
                (Some(_), Some(_)) => return Err(JsonError::Both("leaf", "leaf_hash").into()),
                (None, None) => return Err(JsonError::Missing("leaf").into()),
            },
            path: path(record)?,
            root: hash(record, "root")?,
        })),
        Some(Value::String(t)) if t == "consistency" => {
            Ok(LogProof::Consistency(ConsistencyProof {
                old_size: integer(record, "old_size")?,
                old_root: hash(record, "old_root")?,
                size: integer(record, "size")?,
                root: hash(record, "root")?,
                path: path(record)?,
            }))
        }
        Some(other) => Err(RecordError::UnknownType(match other {
            Value::String(t) => t.clone(),
            v => v.to_string(),
        })),
    }
}

fn integer(record: &Value, name: &'static str) -> Result<u64, RecordError> {
    match record.get(name) {
        None => Err(JsonError::Missing(name).into()),
        Some(v) => v.as_u64().ok_or(RecordError::NotAnInteger(name)),
    }
}

fn hash(record: &Value, name: &'static str) -> Result<Hash, RecordError> {
    let location = Location::field(name);
    match record.get(name) {
        None => Err(JsonError::Missing(name).into()),
        Some(Value::String(s)) => Ok(json::hex_array(s, location)?),
        Some(_) => Err(JsonError::NotAString(location).into()),
    }
}

fn path(record: &Value) -> Result<Vec<Hash>, RecordError> {
    let nodes = json::hex_list_field(record, "path")?;
    nodes
        .into_iter()
        .enumerate()
        .map(|(i, node)| {
            <Hash>::try_from(node.as_slice()).map_err(|_| {
                JsonError::Length {
                    location: Location::item("path", i),
                    expected: 32,
                    got: node.len(),
                }
                .into()
            })
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

#[derive(Serialize)]
struct InclusionRecord {
    r#type: &'static str,
    size: u64,
    root: String,
    index: u64,
    leaf: String,
    path: Vec<String>,
}

#[derive(Serialize)]
struct ConsistencyRecord {
    r#type: &'static str,
    old_size: u64,
    old_root: String,
    size: u64,
    root: String,
    path: Vec<String>,
}

/// The record of an inclusion proof of the leaf `leaf` (its data), on one line.
pub fn inclusion_line(proof: &InclusionProof, leaf: &[u8]) -> String {
    serde_json::to_string(&InclusionRecord {
        r#type: "inclusion",
        size: proof.size,
        root: hex(&proof.root),
        index: proof.index,
        leaf: hex(leaf),
        path: proof.path.iter().map(|n| hex(n)).collect(),
    })
    .expect("records serialize")
}

/// The record of a consistency proof, on one line.
pub fn consistency_line(proof: &ConsistencyProof) -> String {
    serde_json::to_string(&ConsistencyRecord {
        r#type: "consistency",
        old_size: proof.old_size,
        old_root: hex(&proof.old_root),
        size: proof.size,
        root: hex(&proof.root),
        path: proof.path.iter().map(|n| hex(n)).collect(),
    })
    .expect("records serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_round_trip() {
        let proof = InclusionProof {
            size: 5,
            index: 2,
            leaf_hash: leaf_hash(b"x"),
            path: vec![[1; 32], [2; 32]],
            root: [3; 32],
        };
        let line = inclusion_line(&proof, b"x");
        assert!(
            line.starts_with(r#"{"type":"inclusion","size":5,"root":"0x0303"#),
            "{line}"
        );
        let parsed = from_json(&serde_json::from_str(&line).unwrap()).unwrap();
        assert_eq!(parsed, LogProof::Inclusion(proof));
        let proof = ConsistencyProof {
            old_size: 3,
            old_root: [4; 32],
            size: 9,
            root: [5; 32],
            path: vec![[6; 32]],
        };
        let line = consistency_line(&proof);
        let parsed = from_json(&serde_json::from_str(&line).unwrap()).unwrap();
        assert_eq!(parsed, LogProof::Consistency(proof));
    }

    #[test]
    fn bad_records_say_what_is_wrong() {
        let h = format!("0x{}", "00".repeat(32));
        let error = |v: Value| from_json(&v).unwrap_err().to_string();
        assert_eq!(
            error(json!({"size": 1})),
            r#"missing field "type" ("inclusion" or "consistency")"#
        );
        assert_eq!(
            error(json!({"type": "audit"})),
            r#"type "audit" is neither "inclusion" nor "consistency""#
        );
        let inclusion = |size: Value, path: Value| json!({"type": "inclusion", "size": size, "index": 0, "leaf": "0x", "root": h, "path": path});
        assert_eq!(
            error(inclusion(json!(-1), json!([]))),
            "size: expected a non-negative integer"
        );
        assert_eq!(
            error(inclusion(json!(1), json!(["0x00"]))),
            "path[0]: expected 32 bytes, got 1"
        );
        assert_eq!(
            error(
                json!({"type": "inclusion", "size": 1, "index": 0, "leaf": "0x",
                         "leaf_hash": h, "root": h, "path": []})
            ),
            r#"give "leaf" or "leaf_hash", not both"#
        );
        assert_eq!(
            error(json!({"type": "consistency", "old_size": 1, "size": 2, "root": h, "path": []})),
            r#"missing field "old_root""#
        );
    }
}
