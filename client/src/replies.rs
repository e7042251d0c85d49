//! Replies checked before they are believed: the scheme they were verified under, one
//! verdict per item, and item errors read back.

use veribatch_engine::Verdict;
use veribatch_engine::bls::Scheme;
use veribatch_engine::merkle::TreeHash;
use veribatch_proto as proto;

use crate::ClientError;

/// The hash a reply says it made its tree with must be the one asked for. A server older
/// than the hash fields says nothing, which reads as SHA-256: its answers stand only for
/// SHA-256.
pub(crate) fn applied_hash(replied: i32, asked: TreeHash) -> Result<(), ClientError> {
    match proto::TreeHash::try_from(replied).map(TreeHash::from) {
        Ok(hash) if hash == asked => Ok(()),
        other => Err(ClientError::WrongHash {
            replied: other.map_or_else(|_| format!("hash {replied}"), |h| h.to_string()),
            asked,
        }),
    }
}

/// The 32-byte root of a reply whose tree must have been made with `asked`.
pub(crate) fn tree_root(
    root: Vec<u8>,
    replied: i32,
    asked: TreeHash,
) -> Result<[u8; 32], ClientError> {
    applied_hash(replied, asked)?;
    root.try_into()
        .map_err(|r: Vec<u8>| ClientError::RootLength(r.len()))
}

/// The scheme a reply says it was verified under must be the one asked for. A server
/// older than the scheme field says nothing and verifies as proof of possession: its
/// verdicts stand only for that scheme.
pub(crate) fn applied_scheme(replied: i32, asked: Scheme) -> Result<(), ClientError> {
    let replied = proto::BlsScheme::try_from(replied).unwrap_or(proto::BlsScheme::Unspecified);
    let expected = proto::BlsScheme::from(asked);
    let old_server_pop =
        replied == proto::BlsScheme::Unspecified && asked == Scheme::ProofOfPossession;
    if replied == expected || old_server_pop {
        Ok(())
    } else {
        Err(ClientError::WrongScheme {
            replied: replied.as_str_name().to_string(),
            asked,
        })
    }
}

/// A reply must hold exactly one verdict per item: fewer would leave items unanswered
/// (and looking valid to a careless caller), more means the reply is not for this request.
pub(crate) fn counted(
    verdicts: Vec<Verdict>,
    items: usize,
    what: &'static str,
) -> Result<Vec<Verdict>, ClientError> {
    if verdicts.len() == items {
        Ok(verdicts)
    } else {
        Err(ClientError::VerdictCount {
            got: verdicts.len(),
            items,
            what,
        })
    }
}

/// Verdicts as the engine gives them: a malformed item's field, index, code and reason
/// come back in their own proto fields (veribatch-proto's conversion).
pub fn verdicts(v: Vec<proto::Verdict>) -> Vec<Verdict> {
    v.into_iter().map(Verdict::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_under_another_scheme_is_refused() {
        use proto::BlsScheme as P;
        assert!(applied_scheme(P::Basic as i32, Scheme::Basic).is_ok());
        assert!(applied_scheme(P::Unspecified as i32, Scheme::ProofOfPossession).is_ok());
        let old = applied_scheme(P::Unspecified as i32, Scheme::Basic).unwrap_err();
        assert!(
            matches!(
                &old,
                ClientError::WrongScheme {
                    asked: Scheme::Basic,
                    ..
                }
            ),
            "{old}"
        );
        assert!(
            old.to_string().contains("older than the scheme field"),
            "{old}"
        );
        assert!(applied_scheme(P::ProofOfPossession as i32, Scheme::MessageAugmentation).is_err());
    }

    #[test]
    fn a_reply_with_the_wrong_number_of_verdicts_is_refused() {
        assert!(counted(vec![Ok(true)], 1, "sets").is_ok());
        let fewer = counted(vec![Ok(true)], 2, "sets").unwrap_err();
        assert!(
            fewer.to_string().contains("1 verdicts for 2 sets"),
            "{fewer}"
        );
        assert!(counted(vec![Ok(true), Ok(true)], 1, "proofs").is_err());
    }
}
