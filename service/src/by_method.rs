//! One gRPC service served by two copies that differ in their limits, chosen by method:
//! tonic sets a message-size limit per service, and `VerifyMerkleProofs` needs a smaller
//! one than the rest ([`RequestLimits::max_merkle_proofs_message_bytes`]) so that a request
//! too large to be legitimate is refused from its header instead of read and decoded.
//!
//! [`RequestLimits::max_merkle_proofs_message_bytes`]: crate::limits::RequestLimits::max_merkle_proofs_message_bytes

use std::task::{Context, Poll};

use tonic::codegen::Service;
use tonic::codegen::http;
use tonic::server::NamedService;

/// `special` answers the requests for `path`, `rest` every other.
#[derive(Clone)]
pub struct ByMethod<S> {
    path: &'static str,
    special: S,
    rest: S,
}

impl<S> ByMethod<S> {
    pub fn new(path: &'static str, special: S, rest: S) -> Self {
        Self {
            path,
            special,
            rest,
        }
    }
}

impl<S: NamedService> NamedService for ByMethod<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<B>> for ByMethod<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Both copies are tonic servers, always ready; the one called is known only
        // from the request, so both must be.
        match self.special.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.rest.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() == self.path {
            self.special.call(request)
        } else {
            self.rest.call(request)
        }
    }
}
