//! Engine values as the proto carries them, and back: the client sends what the server
//! takes, with one mapping for both.

use veribatch_engine::bls::{Scheme, SignatureSet};
use veribatch_engine::error::{ErrorCode, ErrorKind, Field};
use veribatch_engine::merkle::TreeHash;
use veribatch_engine::sm2::{Signed, Sm2Item};
use veribatch_engine::transparency_log::{ConsistencyProof, Hash, InclusionProof, LogProof};
use veribatch_engine::{InputError, ProofInput};

use crate::log_inclusion_proof::LeafValue;
use crate::log_proof::Proof;

impl From<SignatureSet> for crate::SignatureSet {
    fn from(s: SignatureSet) -> Self {
        Self {
            signature: s.signature,
            public_keys: s.public_keys,
            messages: s.messages,
        }
    }
}

impl From<crate::SignatureSet> for SignatureSet {
    fn from(s: crate::SignatureSet) -> Self {
        Self {
            signature: s.signature,
            public_keys: s.public_keys,
            messages: s.messages,
        }
    }
}

impl From<ProofInput> for crate::Groth16Proof {
    fn from(p: ProofInput) -> Self {
        Self {
            proof: p.proof,
            public_inputs: p.public_inputs,
        }
    }
}

impl From<crate::Groth16Proof> for ProofInput {
    fn from(p: crate::Groth16Proof) -> Self {
        Self {
            proof: p.proof,
            public_inputs: p.public_inputs,
        }
    }
}

impl From<TreeHash> for crate::TreeHash {
    fn from(hash: TreeHash) -> Self {
        match hash {
            TreeHash::Sha256 => Self::Sha256,
            TreeHash::Sm3 => Self::Sm3,
        }
    }
}

impl From<crate::TreeHash> for TreeHash {
    fn from(hash: crate::TreeHash) -> Self {
        match hash {
            crate::TreeHash::Sha256 => Self::Sha256,
            crate::TreeHash::Sm3 => Self::Sm3,
        }
    }
}

impl From<Sm2Item> for crate::Sm2Signature {
    fn from(item: Sm2Item) -> Self {
        use crate::sm2_signature::Signed as Wire;
        Self {
            public_key: item.public_key,
            signed: Some(match item.signed {
                Signed::Message(m) => Wire::Message(m),
                Signed::Digest(d) => Wire::Digest(d),
            }),
            signature: item.signature,
            id: item.id,
        }
    }
}

impl From<crate::Sm2Signature> for Sm2Item {
    /// A signature as the server takes it. A missing message is the empty message (as
    /// proto3 would read an unset `bytes message`).
    fn from(s: crate::Sm2Signature) -> Self {
        use crate::sm2_signature::Signed as Wire;
        Self {
            public_key: s.public_key,
            signed: match s.signed {
                Some(Wire::Message(m)) => Signed::Message(m),
                Some(Wire::Digest(d)) => Signed::Digest(d),
                None => Signed::Message(Vec::new()),
            },
            signature: s.signature,
            id: s.id,
        }
    }
}

impl From<LogProof> for crate::LogProof {
    /// A proof as the client sends it: the leaf by its hash; the tree's hash goes in the
    /// request, for all its proofs.
    fn from(p: LogProof) -> Self {
        let proof = match p {
            LogProof::Inclusion(p) => Proof::Inclusion(crate::LogInclusionProof {
                size: p.size,
                index: p.index,
                leaf_value: Some(LeafValue::LeafHash(p.leaf_hash.to_vec())),
                path: p.path.iter().map(|n| n.to_vec()).collect(),
                root: p.root.to_vec(),
            }),
            LogProof::Consistency(p) => Proof::Consistency(crate::LogConsistencyProof {
                old_size: p.old_size,
                old_root: p.old_root.to_vec(),
                size: p.size,
                root: p.root.to_vec(),
                path: p.path.iter().map(|n| n.to_vec()).collect(),
            }),
        };
        Self { proof: Some(proof) }
    }
}

/// A proof as the server takes it, in a tree made by `hash` (the request's), or the
/// part that is malformed.
pub fn log_proof(p: crate::LogProof, hash: TreeHash) -> Result<LogProof, InputError> {
    match p.proof {
        Some(Proof::Inclusion(p)) => Ok(LogProof::Inclusion(InclusionProof {
            hash,
            size: p.size,
            index: p.index,
            leaf_hash: match p.leaf_value {
                Some(LeafValue::Leaf(data)) => hash.log_leaf(&data),
                Some(LeafValue::LeafHash(h)) => InputError::exact(&h, Field::Leaf, None)?,
                None => {
                    return Err(InputError::new(
                        Field::Leaf,
                        None,
                        ErrorKind::Unset("leaf or leaf_hash"),
                    ));
                }
            },
            path: path(&p.path)?,
            root: InputError::exact(&p.root, Field::Root, None)?,
        })),
        Some(Proof::Consistency(p)) => Ok(LogProof::Consistency(ConsistencyProof {
            hash,
            old_size: p.old_size,
            old_root: InputError::exact(&p.old_root, Field::OldRoot, None)?,
            size: p.size,
            root: InputError::exact(&p.root, Field::Root, None)?,
            path: path(&p.path)?,
        })),
        None => Err(InputError::new(
            Field::Proof,
            None,
            ErrorKind::Unset("inclusion or consistency"),
        )),
    }
}

fn path(nodes: &[Vec<u8>]) -> Result<Vec<Hash>, InputError> {
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| InputError::exact(n, Field::Path, Some(i)))
        .collect()
}

impl From<veribatch_engine::Verdict> for crate::Verdict {
    fn from(v: veribatch_engine::Verdict) -> Self {
        match v {
            Ok(valid) => Self {
                valid,
                error: String::new(),
                malformed: None,
            },
            Err(e) => Self {
                valid: false,
                error: e.to_string(),
                malformed: Some(crate::MalformedItem::from(&e)),
            },
        }
    }
}

impl From<crate::Verdict> for veribatch_engine::Verdict {
    /// A reply's verdict as the engine would have given it. A server older than
    /// `malformed` sends the error as text only: it stands as the reason, for the item as a
    /// whole, with no code.
    fn from(v: crate::Verdict) -> Self {
        match (v.malformed, v.error.is_empty()) {
            // A field a newer server names and this build does not know: its whole text.
            (Some(m), _) if Field::from_name(&m.field) == Field::Item => Err(InputError::new(
                Field::Item,
                None,
                ErrorKind::Reported {
                    code: code_of(m.code),
                    reason: v.error,
                },
            )),
            (Some(m), _) => Err(m.into()),
            (None, false) => Err(InputError::new(
                Field::Item,
                None,
                ErrorKind::Reported {
                    code: ErrorCode::Unspecified,
                    reason: v.error,
                },
            )),
            (None, true) => Ok(v.valid),
        }
    }
}

impl From<&InputError> for crate::MalformedItem {
    fn from(e: &InputError) -> Self {
        Self {
            field: e.field.name().to_string(),
            index: e.index.map(|i| i as u64),
            code: crate::InputErrorCode::from(e.code()).into(),
            reason: e.kind.to_string(),
        }
    }
}

impl From<crate::MalformedItem> for InputError {
    fn from(m: crate::MalformedItem) -> Self {
        InputError::new(
            Field::from_name(&m.field),
            m.index.and_then(|i| usize::try_from(i).ok()),
            ErrorKind::Reported {
                code: code_of(m.code),
                reason: m.reason,
            },
        )
    }
}

/// The engine's code of a proto code; `Unspecified` for one this build does not know.
fn code_of(code: i32) -> ErrorCode {
    crate::InputErrorCode::try_from(code)
        .map(ErrorCode::from)
        .unwrap_or(ErrorCode::Unspecified)
}

/// The engine's codes and the proto's, one to one.
const CODES: [(ErrorCode, crate::InputErrorCode); 15] = {
    use crate::InputErrorCode as P;
    [
        (ErrorCode::Unspecified, P::Unspecified),
        (ErrorCode::Length, P::Length),
        (ErrorCode::Encoding, P::Encoding),
        (ErrorCode::NotOnCurve, P::NotOnCurve),
        (ErrorCode::NotInSubgroup, P::NotInSubgroup),
        (ErrorCode::Infinity, P::Infinity),
        (ErrorCode::OutOfRange, P::OutOfRange),
        (ErrorCode::Missing, P::Missing),
        (ErrorCode::Count, P::Count),
        (ErrorCode::Repeated, P::Repeated),
        (ErrorCode::Scheme, P::Scheme),
        (ErrorCode::Format, P::Format),
        (ErrorCode::DegenerateKey, P::DegenerateKey),
        (ErrorCode::TooLarge, P::TooLarge),
        (ErrorCode::MerkleProof, P::MerkleProof),
    ]
};

impl From<ErrorCode> for crate::InputErrorCode {
    fn from(code: ErrorCode) -> Self {
        CODES
            .iter()
            .find(|(e, _)| *e == code)
            .map_or(Self::Unspecified, |(_, p)| *p)
    }
}

impl From<crate::InputErrorCode> for ErrorCode {
    fn from(code: crate::InputErrorCode) -> Self {
        CODES
            .iter()
            .find(|(_, p)| *p == code)
            .map_or(Self::Unspecified, |(e, _)| *e)
    }
}

impl From<Scheme> for crate::BlsScheme {
    fn from(scheme: Scheme) -> Self {
        match scheme {
            Scheme::Basic => Self::Basic,
            Scheme::MessageAugmentation => Self::MessageAugmentation,
            Scheme::ProofOfPossession => Self::ProofOfPossession,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_proofs_survive_the_round_trip() {
        let set = SignatureSet {
            signature: vec![1; 96],
            public_keys: vec![vec![2; 48], vec![3; 48]],
            messages: vec![vec![4; 32], vec![5; 32]],
        };
        assert_eq!(
            SignatureSet::from(crate::SignatureSet::from(set.clone())),
            set
        );
        let proof = ProofInput {
            proof: vec![6; 192],
            public_inputs: vec![vec![7; 32]],
        };
        assert_eq!(
            ProofInput::from(crate::Groth16Proof::from(proof.clone())),
            proof
        );
        let inclusion = LogProof::Inclusion(InclusionProof {
            hash: TreeHash::Sm3,
            size: 9,
            index: 4,
            leaf_hash: [8; 32],
            path: vec![[9; 32]],
            root: [10; 32],
        });
        let consistency = LogProof::Consistency(ConsistencyProof {
            hash: TreeHash::Sm3,
            old_size: 3,
            old_root: [11; 32],
            size: 9,
            root: [12; 32],
            path: vec![[13; 32], [14; 32]],
        });
        for p in [inclusion, consistency] {
            let sent = crate::LogProof::from(p.clone());
            assert_eq!(log_proof(sent, TreeHash::Sm3), Ok(p));
        }
    }

    #[test]
    fn a_malformed_log_proof_names_its_part() {
        let error = |p: crate::LogProof| log_proof(p, TreeHash::Sha256).unwrap_err().to_string();
        assert_eq!(
            error(crate::LogProof { proof: None }),
            "proof: missing: give inclusion or consistency"
        );
        let inclusion = crate::LogInclusionProof {
            size: 2,
            index: 1,
            leaf_value: Some(LeafValue::Leaf(Vec::new())),
            path: vec![vec![0; 32], vec![0; 31]],
            root: vec![0; 32],
        };
        let with = |f: &dyn Fn(&mut crate::LogInclusionProof)| {
            let mut p = inclusion.clone();
            f(&mut p);
            crate::LogProof {
                proof: Some(Proof::Inclusion(p)),
            }
        };
        assert_eq!(error(with(&|_| ())), "path[1]: expected 32 bytes, got 31");
        assert_eq!(
            error(with(&|p| p.leaf_value = None)),
            "leaf: missing: give leaf or leaf_hash"
        );
        assert_eq!(
            error(with(&|p| p.leaf_value = Some(LeafValue::LeafHash(vec![1])))),
            "leaf: expected 32 bytes, got 1"
        );
        let old_root = crate::LogProof {
            proof: Some(Proof::Consistency(crate::LogConsistencyProof {
                old_root: vec![0; 33],
                root: vec![0; 32],
                ..Default::default()
            })),
        };
        assert_eq!(error(old_root), "old_root: expected 32 bytes, got 33");
    }

    #[test]
    fn a_malformed_item_comes_back_with_its_field_index_code_and_reason() {
        let error = InputError::new(
            Field::PublicKeys,
            Some(3),
            veribatch_engine::curves::bls12_381::DecodeError::NotInSubgroup,
        );
        let sent = crate::Verdict::from(Err(error.clone()));
        assert_eq!(
            sent.error,
            "public_keys[3]: not in the prime-order subgroup"
        );
        let malformed = sent.malformed.clone().unwrap();
        assert_eq!(
            (malformed.field.as_str(), malformed.index, malformed.code()),
            ("public_keys", Some(3), crate::InputErrorCode::NotInSubgroup)
        );
        let read = veribatch_engine::Verdict::from(sent).unwrap_err();
        assert_eq!((read.field, read.index), (Field::PublicKeys, Some(3)));
        assert_eq!(read.code(), ErrorCode::NotInSubgroup);
        assert_eq!(read.to_string(), error.to_string());
    }

    #[test]
    fn a_reply_from_a_server_before_malformed_keeps_its_text() {
        let old = crate::Verdict {
            valid: false,
            error: "signature: not a point on the curve".into(),
            malformed: None,
        };
        let read = veribatch_engine::Verdict::from(old).unwrap_err();
        assert_eq!(read.field, Field::Item);
        assert_eq!(read.code(), ErrorCode::Unspecified);
        assert_eq!(read.to_string(), "signature: not a point on the curve");
        let valid = crate::Verdict {
            valid: true,
            error: String::new(),
            malformed: None,
        };
        assert_eq!(veribatch_engine::Verdict::from(valid), Ok(true));
    }

    #[test]
    fn a_field_from_a_newer_server_keeps_the_whole_text() {
        let newer = crate::Verdict {
            valid: false,
            error: "nonce[2]: reused".into(),
            malformed: Some(crate::MalformedItem {
                field: "nonce".into(),
                index: Some(2),
                code: crate::InputErrorCode::Repeated.into(),
                reason: "reused".into(),
            }),
        };
        let read = veribatch_engine::Verdict::from(newer).unwrap_err();
        assert_eq!(read.to_string(), "nonce[2]: reused");
        assert_eq!(read.code(), ErrorCode::Repeated);
    }

    #[test]
    fn every_input_error_code_has_its_own_proto_value() {
        let mut seen = std::collections::HashSet::new();
        for (engine, proto) in CODES {
            assert!(seen.insert(proto as i32), "{proto:?} twice");
            assert_eq!(ErrorCode::from(proto), engine);
            assert_eq!(crate::InputErrorCode::from(engine), proto);
        }
    }

    #[test]
    fn every_field_name_reads_back() {
        for field in Field::ALL {
            assert_eq!(Field::from_name(field.name()), field);
        }
        assert_eq!(Field::from_name("a_field_of_tomorrow"), Field::Item);
    }

    #[test]
    fn every_scheme_has_its_own_value() {
        let values = [
            Scheme::Basic,
            Scheme::MessageAugmentation,
            Scheme::ProofOfPossession,
        ]
        .map(|s| crate::BlsScheme::from(s) as i32);
        assert!(
            values
                .iter()
                .all(|&v| v != crate::BlsScheme::Unspecified as i32)
        );
        assert!(values[0] != values[1] && values[1] != values[2] && values[0] != values[2]);
    }
}
