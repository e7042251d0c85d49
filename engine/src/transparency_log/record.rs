//! The JSON records of proofs, one per line, as `veribatch log prove` writes them and
//! `log verify` reads them:
//!
//! ```json
//! {"type":"inclusion","size":7,"root":"0x…","index":3,"leaf":"0x…","path":["0x…",…]}
//! {"type":"consistency","old_size":3,"old_root":"0x…","size":7,"root":"0x…","path":[…]}
//! ```
//!
//! An inclusion record's `leaf` is the leaf's data (its hash is computed); a record may
//! give `"leaf_hash"` instead, for a verifier that holds only the hash. A record of a
//! tree made with SM3 in place of SHA-256 says `"hash":"sm3"`; one without `hash` is of
//! the reader's default (SHA-256, as RFC 9162 has it, unless told otherwise).

use serde::Serialize;
use serde_json::Value;

use super::{ConsistencyProof, Hash, InclusionProof, LogProof};
use crate::json::{self, JsonError, Location};
use crate::merkle::TreeHash;

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
    #[error("hash: {0}")]
    Hash(#[source] crate::UnknownName),
}

/// A proof from its record; `default` is the hash of a record that names none.
pub fn from_json(record: &Value, default: TreeHash) -> Result<LogProof, RecordError> {
    if !record.is_object() {
        return Err(JsonError::NotAnObject.into());
    }
    let tree = match record.get("hash") {
        None => default,
        Some(Value::String(name)) => name.parse().map_err(RecordError::Hash)?,
        Some(_) => return Err(JsonError::NotAString(Location::field("hash")).into()),
    };
    match record.get("type") {
        None => Err(RecordError::NoType),
        Some(Value::String(t)) if t == "inclusion" => Ok(LogProof::Inclusion(InclusionProof {
            hash: tree,
            size: integer(record, "size")?,
            index: integer(record, "index")?,
            leaf_hash: match (record.get("leaf"), record.get("leaf_hash")) {
                (Some(_), None) => tree.log_leaf(&json::hex_field(record, "leaf")?),
                (None, Some(_)) => hash(record, "leaf_hash")?,
                (Some(_), Some(_)) => return Err(JsonError::Both("leaf", "leaf_hash").into()),
                (None, None) => return Err(JsonError::Missing("leaf").into()),
            },
            path: path(record)?,
            root: hash(record, "root")?,
        })),
        Some(Value::String(t)) if t == "consistency" => {
            Ok(LogProof::Consistency(ConsistencyProof {
                hash: tree,
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

/// The name a record gives its hash: none for SHA-256, so that RFC 9162's records are
/// written exactly as before.
fn named(hash: TreeHash) -> Option<&'static str> {
    (hash != TreeHash::Sha256).then_some(hash.name())
}

#[derive(Serialize)]
struct InclusionRecord {
    r#type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash: Option<&'static str>,
    size: u64,
    root: String,
    index: u64,
    leaf: String,
    path: Vec<String>,
}

#[derive(Serialize)]
struct ConsistencyRecord {
    r#type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash: Option<&'static str>,
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
        hash: named(proof.hash),
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
        hash: named(proof.hash),
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

    fn parse(line: &str, default: TreeHash) -> LogProof {
        from_json(&serde_json::from_str(line).unwrap(), default).unwrap()
    }

    #[test]
    fn records_round_trip() {
        let mut proof = InclusionProof {
            hash: TreeHash::Sha256,
            size: 5,
            index: 2,
            leaf_hash: TreeHash::Sha256.log_leaf(b"x"),
            path: vec![[1; 32], [2; 32]],
            root: [3; 32],
        };
        let line = inclusion_line(&proof, b"x");
        assert!(
            line.starts_with(r#"{"type":"inclusion","size":5,"root":"0x0303"#),
            "{line}"
        );
        assert_eq!(
            parse(&line, TreeHash::Sha256),
            LogProof::Inclusion(proof.clone())
        );
        // SM3 records say so, and their leaves are hashed with SM3.
        proof.hash = TreeHash::Sm3;
        proof.leaf_hash = TreeHash::Sm3.log_leaf(b"x");
        let line = inclusion_line(&proof, b"x");
        assert!(
            line.starts_with(r#"{"type":"inclusion","hash":"sm3","size":5"#),
            "{line}"
        );
        assert_eq!(parse(&line, TreeHash::Sha256), LogProof::Inclusion(proof));
        let mut proof = ConsistencyProof {
            hash: TreeHash::Sha256,
            old_size: 3,
            old_root: [4; 32],
            size: 9,
            root: [5; 32],
            path: vec![[6; 32]],
        };
        let line = consistency_line(&proof);
        assert_eq!(
            parse(&line, TreeHash::Sha256),
            LogProof::Consistency(proof.clone())
        );
        // A record without a hash is of the reader's default.
        proof.hash = TreeHash::Sm3;
        assert_eq!(parse(&line, TreeHash::Sm3), LogProof::Consistency(proof));
    }

    #[test]
    fn bad_records_say_what_is_wrong() {
        let h = format!("0x{}", "00".repeat(32));
        let error = |v: Value| from_json(&v, TreeHash::Sha256).unwrap_err().to_string();
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
        assert_eq!(
            error(json!({"type": "consistency", "hash": "md5"})),
            "hash: unknown hash \"md5\": expected sha256 or sm3"
        );
    }
}
