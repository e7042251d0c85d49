//! Who is calling: the identity of every request, from a bearer token or a verified
//! client certificate.
//!
//! Tokens are checked against a file of `NAME SHA256-OF-TOKEN` lines (`--auth-token-file`),
//! so the file holds no secret; it is re-read on SIGHUP ([`Authenticator::reload`]). With
//! mutual TLS, the subject's common name of the certificate the TLS layer verified names
//! the caller (`cert:` and a digest prefix for a certificate without one). When either is configured, a request without a valid identity is
//! UNAUTHENTICATED unless anonymous callers are allowed; with neither, every caller is
//! anonymous. The health service is not behind this check: probes cannot send tokens.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use sha2::{Digest, Sha256};
use tonic::{Request, Status};

/// Who a request comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identity {
    /// A token's name, or a client certificate's subject common name.
    Named(String),
    Anonymous,
}

impl Identity {
    pub fn name(&self) -> &str {
        match self {
            Self::Named(name) => name,
            Self::Anonymous => "anonymous",
        }
    }
}

/// Why the token file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read the token file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {reason}", path.display())]
    Line {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// Identifies callers; shared by every connection.
#[derive(Debug)]
pub struct Authenticator {
    token_file: Option<PathBuf>,
    /// SHA-256 of a token -> its name.
    tokens: RwLock<HashMap<[u8; 32], String>>,
    /// Whether the TLS layer requires client certificates (`--tls-client-ca`).
    client_certificates: bool,
    allow_anonymous: bool,
}

impl Authenticator {
    pub fn new(
        token_file: Option<PathBuf>,
        client_certificates: bool,
        allow_anonymous: bool,
    ) -> Result<Self, AuthError> {
        let tokens = match &token_file {
            Some(path) => read_tokens(path)?,
            None => HashMap::new(),
        };
        Ok(Self {
            token_file,
            tokens: RwLock::new(tokens),
            client_certificates,
            allow_anonymous,
        })
    }

    /// Whether callers must identify themselves (tokens or client certificates are
    /// configured and anonymous callers are not allowed).
    pub fn required(&self) -> bool {
        (self.token_file.is_some() || self.client_certificates) && !self.allow_anonymous
    }

    /// The names of the tokens, for bounded metric labels.
    pub fn token_names(&self) -> Vec<String> {
        let tokens = self.tokens.read().unwrap_or_else(|e| e.into_inner());
        tokens.values().cloned().collect()
    }

    /// Re-reads the token file; on an error the tokens in use stay as they were.
    pub fn reload(&self) -> Result<usize, AuthError> {
        let Some(path) = &self.token_file else {
            return Ok(0);
        };
        let tokens = read_tokens(path)?;
        let count = tokens.len();
        *self.tokens.write().unwrap_or_else(|e| e.into_inner()) = tokens;
        Ok(count)
    }

    /// The identity of `request`: its bearer token's name, else its client certificate's
    /// subject, else anonymous where that is allowed.
    pub fn identify<T>(&self, request: &Request<T>) -> Result<Identity, Status> {
        if let Some(header) = request.metadata().get("authorization") {
            let token = header
                .to_str()
                .ok()
                .and_then(|h| h.strip_prefix("Bearer "))
                .ok_or_else(|| {
                    Status::unauthenticated("authorization: expected \"Bearer TOKEN\"")
                })?;
            let digest: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
            let tokens = self.tokens.read().unwrap_or_else(|e| e.into_inner());
            return match tokens.get(&digest) {
                Some(name) => Ok(Identity::Named(name.clone())),
                None => Err(Status::unauthenticated(
                    "authorization: unknown bearer token",
                )),
            };
        }
        if let Some(certificate) = request
            .peer_certs()
            .and_then(|certs| certs.first().cloned())
        {
            // The subject's common name; a certificate without one is named by its digest.
            let der = certificate.as_ref();
            let name = common_name(der)
                .unwrap_or_else(|| format!("cert:{}", hex::encode(&Sha256::digest(der)[..8])));
            return Ok(Identity::Named(name));
        }
        if self.required() {
            return Err(Status::unauthenticated(
                "this service needs a bearer token (authorization: Bearer TOKEN) or a client certificate",
            ));
        }
        Ok(Identity::Anonymous)
    }
}

/// `NAME SHA256-HEX` per line; `#` starts a comment.
fn read_tokens(path: &Path) -> Result<HashMap<[u8; 32], String>, AuthError> {
    let text = std::fs::read_to_string(path).map_err(|source| AuthError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut tokens = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let bad = |reason: &str| AuthError::Line {
            path: path.to_path_buf(),
            line: i + 1,
            reason: reason.to_string(),
        };
        let mut fields = line.split_whitespace();
        let (Some(name), Some(digest), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(bad("expected NAME SHA256-OF-TOKEN"));
        };
        if name == "anonymous" || name == "other" {
            return Err(bad("the names \"anonymous\" and \"other\" are reserved"));
        }
        let digest: [u8; 32] = hex::decode(digest)
            .ok()
            .and_then(|d| d.try_into().ok())
            .ok_or_else(|| bad("the SHA-256 of the token must be 64 hex digits"))?;
        if tokens.insert(digest, name.to_string()).is_some() {
            return Err(bad("this token's digest appears twice"));
        }
    }
    Ok(tokens)
}

/// The subject's common name of a DER certificate, if it has one. The certificate was
/// verified by the TLS layer; this only reads it.
fn common_name(der: &[u8]) -> Option<String> {
    let (certificate, _) = tlv(der, 0x30)?;
    let (mut tbs, _) = tlv(certificate, 0x30)?;
    // version [0] EXPLICIT (optional), serialNumber, signature, issuer, validity, subject.
    if tbs.first() == Some(&0xA0) {
        tbs = tlv(tbs, 0xA0)?.1;
    }
    for tag in [0x02, 0x30, 0x30, 0x30] {
        tbs = tlv(tbs, tag)?.1;
    }
    let (mut names, _) = tlv(tbs, 0x30)?;
    while !names.is_empty() {
        let (mut set, rest) = tlv(names, 0x31)?;
        names = rest;
        while !set.is_empty() {
            let (attribute, rest) = tlv(set, 0x30)?;
            set = rest;
            let (oid, value) = tlv(attribute, 0x06)?;
            if oid == [0x55, 0x04, 0x03] {
                // UTF8String, PrintableString or IA5String: the content is the text.
                let text = [0x0C, 0x13, 0x16]
                    .into_iter()
                    .find_map(|tag| tlv(value, tag))?
                    .0;
                return std::str::from_utf8(text).ok().map(str::to_string);
            }
        }
    }
    None
}

/// One DER element of `tag` at the start of `bytes`: (its content, what follows).
fn tlv(bytes: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = bytes.split_first()?;
    if first != tag {
        return None;
    }
    let (&len, mut rest) = rest.split_first()?;
    let len = if len < 0x80 {
        usize::from(len)
    } else {
        let n = usize::from(len & 0x7F);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let value = rest[..n]
            .iter()
            .fold(0usize, |v, b| v << 8 | usize::from(*b));
        rest = &rest[n..];
        value
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "veribatch-tokens-{}-{}",
            std::process::id(),
            Sha256::digest(text.as_bytes())[0]
        ));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn with_token(token: &str) -> Request<()> {
        let mut request = Request::new(());
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        request
    }

    #[test]
    fn tokens_name_callers_and_the_rest_are_unauthenticated() {
        let digest = hex::encode(Sha256::digest(b"s3cret"));
        let path = file(&format!("# validators\nvalidator-1 {digest}\n"));
        let auth = Authenticator::new(Some(path.clone()), false, false).unwrap();
        assert_eq!(
            auth.identify(&with_token("s3cret")).unwrap(),
            Identity::Named("validator-1".into())
        );
        let wrong = auth.identify(&with_token("guess")).unwrap_err();
        assert_eq!(wrong.code(), tonic::Code::Unauthenticated);
        let none = auth.identify(&Request::new(())).unwrap_err();
        assert_eq!(none.code(), tonic::Code::Unauthenticated);

        let anonymous = Authenticator::new(Some(path.clone()), false, true).unwrap();
        assert_eq!(
            anonymous.identify(&Request::new(())).unwrap(),
            Identity::Anonymous
        );
        let open = Authenticator::new(None, false, false).unwrap();
        assert_eq!(
            open.identify(&Request::new(())).unwrap(),
            Identity::Anonymous
        );
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn bad_lines_are_named() {
        for (text, reason) in [
            ("one\n", "expected NAME"),
            ("a 00\n", "64 hex digits"),
            (&format!("anonymous {}\n", "ab".repeat(32)), "reserved"),
            (&format!("a {0}\nb {0}\n", "ab".repeat(32)), "appears twice"),
        ] {
            let path = file(text);
            let error = Authenticator::new(Some(path.clone()), false, false).unwrap_err();
            assert!(error.to_string().contains(reason), "{error}");
            std::fs::remove_file(path).unwrap();
        }
    }

    #[test]
    fn the_common_name_is_read_from_a_certificate() {
        // A minimal TBSCertificate shape: version, serial, algorithm, issuer, validity,
        // subject (CN=node-7), wrapped in a Certificate.
        let seq = |tag: u8, content: &[u8]| {
            let mut out = vec![tag, content.len() as u8];
            out.extend_from_slice(content);
            out
        };
        let cn = seq(
            0x30,
            &[seq(0x06, &[0x55, 0x04, 0x03]), seq(0x0C, b"node-7")].concat(),
        );
        let subject = seq(0x30, &seq(0x31, &cn));
        let tbs = [
            seq(0xA0, &seq(0x02, &[2])),
            seq(0x02, &[1]),
            seq(0x30, &[]),
            seq(0x30, &[]),
            seq(0x30, &[]),
            subject,
        ]
        .concat();
        let certificate = seq(0x30, &seq(0x30, &tbs));
        assert_eq!(common_name(&certificate).as_deref(), Some("node-7"));
        assert_eq!(common_name(&certificate[..certificate.len() - 3]), None);
    }
}
