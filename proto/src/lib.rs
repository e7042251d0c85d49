//! veribatch-proto: the code tonic-prost-build generates from
//! `veribatch/v1/verifier.proto` (messages, the `Verifier` client and server), apart
//! from both the service and the client, and the conversions between its messages and
//! the engine's types that both sides need.

tonic::include_proto!("veribatch.v1");

/// The encoded file descriptor set of the proto, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/veribatch_descriptor.bin"));

mod convert;
pub use convert::log_proof;
pub mod decode_bound;
