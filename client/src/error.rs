//! What can go wrong in the client, typed: a program can tell a server that refused
//! (its status), a reply that cannot be trusted, and a setup that cannot work apart.

use std::path::PathBuf;
use veribatch_engine::merkle::TreeHash;

use veribatch_engine::bls::Scheme;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the token file {}: {source}", path.display())]
    TokenFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: no token in the file", .0.display())]
    EmptyTokenFile(PathBuf),
    #[error("the token holds characters a header cannot carry")]
    TokenNotHeader,
    /// A target that is not a URL, or a name that resolves to nothing.
    #[error("{target}: {reason}")]
    Target { target: String, reason: String },
    #[error("cannot connect to {target}: {source}")]
    Connect {
        target: String,
        source: tonic::transport::Error,
    },
    #[error("TLS: {0}")]
    Tls(tonic::transport::Error),
    /// The server's answer, after the retries the client makes.
    #[error("the server answered {:?}: {}", .0.code(), .0.message())]
    Status(Box<tonic::Status>),
    /// A reply verified under another scheme than the one asked for (a server older than
    /// the scheme field verifies as proof of possession).
    #[error(
        "the server verified under {replied} instead of the {asked} scheme asked for (a \
         server older than the scheme field?): not trusting the reply"
    )]
    WrongScheme { replied: String, asked: Scheme },
    /// A reply with another number of verdicts than items: some would be unanswered.
    #[error("the server answered {got} verdicts for {items} {what}: not trusting the reply")]
    VerdictCount {
        got: usize,
        items: usize,
        what: &'static str,
    },
    #[error("the server sent a root of {0} bytes")]
    RootLength(usize),
    #[error(
        "the server made the tree with {replied} instead of the {asked} asked for (a server \
         older than the hash field?): not trusting the reply"
    )]
    WrongHash { replied: String, asked: TreeHash },
}

impl From<tonic::Status> for ClientError {
    fn from(status: tonic::Status) -> Self {
        ClientError::Status(Box::new(status))
    }
}

impl ClientError {
    /// The server's status code, if the server answered with one.
    pub fn code(&self) -> Option<tonic::Code> {
        match self {
            ClientError::Status(status) => Some(status.code()),
            _ => None,
        }
    }
}

/// The error as text, for callers whose errors are text (the CLI's commands).
impl From<ClientError> for String {
    fn from(error: ClientError) -> Self {
        error.to_string()
    }
}
