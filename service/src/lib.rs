//! veribatch-service: the gRPC service over `veribatch-engine`, implementing
//! `proto/veribatch/v1/verifier.proto`.
//!
//! The server is a thin shell: requests are converted to engine inputs, batched by the
//! engine's [`Scheduler`](veribatch_engine::scheduler::Scheduler), and the verdicts
//! converted back. Generated code lives in [`proto`], apart from the implementation.
//!
//! - [`server`]: binding, TLS, health, reflection, limits, graceful shutdown.
//! - [`connections`]: accepting within a connection limit, closing idle connections.
//! - [`settings`]: `veribatch serve`'s flags, environment variables and TOML file.
//! - [`auth`]: who is calling (bearer tokens, client certificates).
//! - [`quotas`]: what each caller may use (cost per second, in flight, keys).
//! - [`limits`]: what one request may cost, checked before any work (and the message
//!   size that follows from it, for `VerifyMerkleProofs`, checked before the request is read).
//! - [`verifier`]: the `Verifier` service.
//! - [`metrics`]: Prometheus metrics and their HTTP endpoint.
//! - [`client`]: a client for the CLI's `--remote` and for tests.

pub mod auth;
mod by_method;
pub mod client;
pub mod connections;
pub mod convert;
pub mod limits;
pub mod metrics;
pub mod quotas;
pub mod server;
pub mod settings;
pub mod verifier;

/// Code generated from the proto by tonic-prost-build.
pub mod proto {
    tonic::include_proto!("veribatch.v1");

    /// The encoded file descriptor set of the proto, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/veribatch_descriptor.bin"));
}

pub use server::{Bound, ServeConfig, ServeError};
