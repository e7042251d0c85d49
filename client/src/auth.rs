//! Who the client says it is: a bearer token, and the warning for URLs where verdicts
//! would travel unauthenticated.

use std::path::Path;
use std::time::Duration;

use tonic::Status;
use tonic::metadata::AsciiMetadataValue;
use tonic::service::Interceptor;

use crate::ClientError;

/// Reads a bearer token from a file (its first line; surrounding space ignored).
pub fn read_token(path: &Path) -> Result<String, ClientError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClientError::TokenFile {
        path: path.to_path_buf(),
        source,
    })?;
    let token = text.lines().next().unwrap_or("").trim().to_string();
    if token.is_empty() {
        return Err(ClientError::EmptyTokenFile(path.to_path_buf()));
    }
    Ok(token)
}

/// Whether verdicts from `url` would travel unauthenticated: a plain `http://` URL to a
/// host other than the loopback interface, where anyone on the path can forge "valid".
pub fn unauthenticated(url: &str) -> bool {
    let Ok(uri) = url.parse::<tonic::codegen::http::Uri>() else {
        return false;
    };
    if uri.scheme_str() != Some("http") {
        return false;
    }
    let host = uri
        .host()
        .unwrap_or("")
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    !loopback
}

/// What every call carries: `authorization: Bearer TOKEN` if there is a token, and the
/// time left of the call's budget as its `grpc-timeout`, so the server drops work
/// nobody waits for.
#[derive(Clone, Debug, Default)]
pub struct Stamp {
    token: Option<AsciiMetadataValue>,
    timeout: Option<Duration>,
}

impl Stamp {
    /// A stamp with `token` (the text after `Bearer `).
    pub fn with_token(token: &str) -> Result<Self, ClientError> {
        let value = format!("Bearer {}", token.trim())
            .parse::<AsciiMetadataValue>()
            .map_err(|_| ClientError::TokenNotHeader)?;
        Ok(Self {
            token: Some(value),
            timeout: None,
        })
    }

    /// This stamp, with `timeout` left for the call.
    pub fn within(&self, timeout: Option<Duration>) -> Self {
        Self {
            token: self.token.clone(),
            timeout,
        }
    }
}

impl Interceptor for Stamp {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(token) = &self.token {
            request
                .metadata_mut()
                .insert("authorization", token.clone());
        }
        if let Some(timeout) = self.timeout {
            request.set_timeout(timeout);
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_beyond_loopback_is_unauthenticated() {
        for url in [
            "http://10.0.0.7:50051",
            "http://verifier.example:50051",
            "http://128.0.0.1",
        ] {
            assert!(unauthenticated(url), "{url}");
        }
        for url in [
            "http://127.0.0.1:50051",
            "http://127.8.9.1:1",
            "http://localhost:50051",
            "http://[::1]:50051",
            "https://verifier.example:50051",
            "not a url",
        ] {
            assert!(!unauthenticated(url), "{url}");
        }
    }

    #[test]
    fn a_stamp_carries_the_token_and_the_time_left() {
        let mut stamp = Stamp::with_token(" s3cret\n")
            .unwrap()
            .within(Some(Duration::from_millis(1500)));
        let request = stamp.call(tonic::Request::new(())).unwrap();
        let header = |name| {
            request
                .metadata()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(header("authorization").as_deref(), Some("Bearer s3cret"));
        assert_eq!(header("grpc-timeout").as_deref(), Some("1500000u"));
        let mut plain = Stamp::default();
        let request = plain.call(tonic::Request::new(())).unwrap();
        assert!(request.metadata().is_empty());
        assert!(Stamp::with_token("new\nline").is_err());
    }
}
