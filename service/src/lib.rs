//! veribatch-service: the gRPC service over `veribatch-engine`, implementing
//! `proto/veribatch/v1/verifier.proto`.
//!
//! The server is a thin shell: requests are converted to engine inputs, batched by the
//! engine's [`Scheduler`](veribatch_engine::scheduler::Scheduler), and the verdicts
//! converted back. Generated code lives in the `veribatch-proto` crate (re-exported as
//! [`proto`]), apart from the implementation; the client is the `veribatch-client` crate.
//!
//! - [`server`]: binding, TLS, health, reflection, limits, graceful shutdown.
//! - [`connections`]: accepting within a connection limit, closing idle connections.
//! - [`open_calls`]: the calls open on each connection, which say whether it is idle.
//! - [`settings`]: `veribatch serve`'s flags, environment variables and TOML file.
//! - [`auth`]: who is calling (bearer tokens, client certificates).
//! - [`quotas`]: what each caller may use (cost per second, in flight, keys).
//! - [`limits`]: what one request may cost, checked before any work (and the message
//!   size that follows from it, for `VerifyMerkleProofs`, checked before the request is read).
//! - [`verifier`]: the `Verifier` service.
//! - [`metrics`]: Prometheus metrics and their HTTP endpoint.

pub mod auth;
mod by_method;
pub mod connections;
pub mod convert;
pub mod limits;
pub mod metrics;
pub mod open_calls;
pub mod quotas;
pub mod server;
pub mod settings;
pub mod verifier;

/// The messages and service this crate implements.
pub use veribatch_proto as proto;

pub use server::{Bound, ServeConfig, ServeError};
