//! veribatch-service: the gRPC service over `veribatch-engine`, implementing
//! `proto/veribatch/v1/verifier.proto`.
//!
//! Not built yet: the engine and the CLI come first. The server will be a thin shell over
//! the engine and its scheduler.
