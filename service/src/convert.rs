//! The server's side of the conversions: request fields the engine takes in its own
//! terms (key formats, ciphersuites, deadlines), and engine errors as gRPC statuses. Sets, proofs, verdicts and schemes map one to one, in `veribatch-proto`.

use std::time::{Duration, Instant};

use tonic::{Code, Status};
use veribatch_engine::bls::{Ciphersuite, ETH_DST, Scheme};
use veribatch_engine::groth16::KeyFormat;
use veribatch_engine::merkle::TreeHash;
use veribatch_engine::scheduler::ScheduleError;

use crate::proto;

pub fn schedule_error(e: ScheduleError) -> Status {
    let code = match &e {
        ScheduleError::Invalid(_) => Code::InvalidArgument,
        ScheduleError::QueueFull { .. } => Code::ResourceExhausted,
        ScheduleError::DeadlineExceeded => Code::DeadlineExceeded,
        ScheduleError::ShuttingDown => Code::Unavailable,
        ScheduleError::Internal(_) => Code::Internal,
    };
    Status::new(code, e.to_string())
}

/// The hash of a Merkle request (unset is SHA-256).
pub fn tree_hash(hash: i32) -> Result<TreeHash, Status> {
    proto::TreeHash::try_from(hash)
        .map(Into::into)
        .map_err(|_| Status::invalid_argument(format!("hash: unknown tree hash {hash}")))
}

/// The key format a request names; `None` asks the engine to detect it.
pub fn key_format(format: i32) -> Result<Option<KeyFormat>, Status> {
    match proto::KeyFormat::try_from(format) {
        Ok(proto::KeyFormat::Unspecified) => Ok(None),
        Ok(proto::KeyFormat::SnarkjsJson) => Ok(Some(KeyFormat::SnarkjsJson)),
        Ok(proto::KeyFormat::Arkworks) => Ok(Some(KeyFormat::Arkworks)),
        Ok(proto::KeyFormat::Bellman) => Ok(Some(KeyFormat::Bellman)),
        Err(_) => Err(Status::invalid_argument(format!(
            "format: unknown key format {format}"
        ))),
    }
}

/// The ciphersuite of a request: its tag (empty is Ethereum's, as the proto says) and
/// its scheme (unspecified is the one the tag names).
pub fn ciphersuite(dst: Vec<u8>, scheme: i32) -> Result<Ciphersuite, Status> {
    let scheme = match proto::BlsScheme::try_from(scheme) {
        Ok(proto::BlsScheme::Unspecified) => None,
        Ok(proto::BlsScheme::Basic) => Some(Scheme::Basic),
        Ok(proto::BlsScheme::MessageAugmentation) => Some(Scheme::MessageAugmentation),
        Ok(proto::BlsScheme::ProofOfPossession) => Some(Scheme::ProofOfPossession),
        Err(_) => {
            return Err(Status::invalid_argument(format!(
                "scheme: unknown BLS scheme {scheme}"
            )));
        }
    };
    let dst = if dst.is_empty() {
        ETH_DST.to_vec()
    } else {
        dst
    };
    Ciphersuite::new(dst, scheme).map_err(|e| Status::invalid_argument(e.to_string()))
}

/// The deadline a client set with the `grpc-timeout` header, if any.
pub fn deadline(metadata: &tonic::metadata::MetadataMap) -> Option<Instant> {
    let value = metadata.get("grpc-timeout")?.to_str().ok()?;
    let (amount, unit) = value.split_at(value.len().checked_sub(1)?);
    let amount: u64 = amount.parse().ok()?;
    let timeout = match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    };
    Instant::now().checked_add(timeout)
}

/// The lowercase name of a gRPC code, for metric labels.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "cancelled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::metadata::MetadataMap;

    #[test]
    fn grpc_timeouts_parse() {
        let mut m = MetadataMap::new();
        assert!(deadline(&m).is_none());
        m.insert("grpc-timeout", "250m".parse().unwrap());
        let d = deadline(&m).unwrap();
        assert!(d.saturating_duration_since(Instant::now()) <= Duration::from_millis(250));
        for bad in ["", "m", "12x", "-5S", "99999999999999999999H"] {
            m.insert("grpc-timeout", bad.parse().unwrap());
            assert!(deadline(&m).is_none(), "{bad:?}");
        }
    }
}
