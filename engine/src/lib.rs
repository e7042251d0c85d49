//! veribatch-engine: verification of BLS12-381 signatures, SHA-256 Merkle trees and
//! Groth16 proofs in bulk.
//!
//! Every operation is an algorithm written once over the *primitives* of a
//! [`backend::Backend`] (hash many blocks, sum points, multi-scalar multiplication,
//! hash-to-G2, Miller loops, final exponentiation). Inputs are decoded and validated once
//! into typed values ([`bls::PublicKey`], [`bls::Signature`], [`groth16::Proof`], ...);
//! everything after decoding works on validated types only.
//!
//! [`Engine`] ties the pieces together: it owns the chosen backend and the caches of
//! validated public keys and prepared Groth16 keys. This crate has no network code.

pub mod backend;
pub mod batch;
pub mod bls;
pub mod curves;
mod engine;
pub mod error;
pub mod groth16;
mod hex_digits;
pub mod json;
pub mod merkle;
pub mod scheduler;
pub mod selftest;
pub mod sm2;
pub mod sm3;
pub mod transparency_log;
mod unknown_name;

pub use engine::{Engine, EngineConfig, Progress, ProofInput, Unfollowed};
pub use error::{InputError, Verdict};
pub use unknown_name::UnknownName;
