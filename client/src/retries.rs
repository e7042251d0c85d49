//! Which failed calls are sent again, and when.

use std::time::Duration;

use tonic::Status;

/// Which failed calls are sent again, and when.
#[derive(Clone, Copy, Debug)]
pub struct Retries {
    /// Attempts in all, the first included (1: no retry).
    pub attempts: u32,
    /// The wait before the first retry, doubled for each next one.
    pub backoff: Duration,
    /// The longest wait a RESOURCE_EXHAUSTED's RetryInfo may ask for; a longer one is
    /// given to the caller instead.
    pub max_wait: Duration,
}

impl Default for Retries {
    fn default() -> Self {
        Self {
            attempts: 5,
            backoff: Duration::from_millis(50),
            max_wait: Duration::from_secs(2),
        }
    }
}

impl Retries {
    /// The wait before attempt `attempt + 1` after `error`, if there is one: after
    /// UNAVAILABLE (a replica draining or gone), after a transport error (the
    /// connection broke or reset the call: an Unknown or Cancelled status with a
    /// source, which a server never sends), and after RESOURCE_EXHAUSTED once the
    /// server's RetryInfo delay has passed (one without a delay is not retried).
    /// Nothing else is retried.
    pub fn delay(&self, error: &Status, attempt: u32) -> Option<Duration> {
        use tonic_types::StatusExt;
        if attempt >= self.attempts {
            return None;
        }
        let backoff = self.backoff.saturating_mul(1 << (attempt - 1).min(16));
        match error.code() {
            tonic::Code::Unavailable => Some(backoff),
            // A call the connection reset under it (a replica closing its connections):
            // a status the transport made, with its source, never one a server sent.
            tonic::Code::Unknown | tonic::Code::Cancelled
                if std::error::Error::source(error).is_some() =>
            {
                Some(backoff)
            }
            // Only a refusal that says when to come back is temporary (a full key
            // quota, say, is not).
            tonic::Code::ResourceExhausted => error
                .get_details_retry_info()
                .and_then(|info| info.retry_delay)
                .filter(|asked| *asked <= self.max_wait),
            _ => None,
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    /// Only what a replica going away or a full one causes is retried, within the
    /// attempts, after the backoff or the server's own delay.
    #[test]
    fn retries_follow_the_status() {
        use tonic_types::{ErrorDetails, StatusExt};
        let retries = Retries::default();
        let unavailable = Status::unavailable("draining");
        assert_eq!(
            retries.delay(&unavailable, 1),
            Some(Duration::from_millis(50))
        );
        assert_eq!(
            retries.delay(&unavailable, 3),
            Some(Duration::from_millis(200))
        );
        assert_eq!(retries.delay(&unavailable, 5), None, "five attempts in all");
        let told = |seconds| {
            Status::with_error_details(
                tonic::Code::ResourceExhausted,
                "over quota",
                ErrorDetails::with_retry_info(Some(Duration::from_secs(seconds))),
            )
        };
        assert_eq!(retries.delay(&told(1), 1), Some(Duration::from_secs(1)));
        assert_eq!(
            retries.delay(&told(60), 1),
            None,
            "too long a wait is the caller's"
        );
        // Statuses a server sends (no transport source) are its answer.
        for code in [
            tonic::Code::Unknown,
            tonic::Code::Cancelled,
            tonic::Code::InvalidArgument,
        ] {
            assert_eq!(
                retries.delay(&Status::new(code, "said so"), 1),
                None,
                "{code:?}"
            );
        }
        let broken = Status::from_error(Box::new(std::io::Error::other("broken pipe")));
        assert_eq!(broken.code(), tonic::Code::Unknown);
        assert!(retries.delay(&broken, 1).is_some());
    }
}
