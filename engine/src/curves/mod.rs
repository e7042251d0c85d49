//! The curves veribatch computes on, as safe types (`repr(transparent)` over blst's, so
//! the backends hand slices of them to C or to a GPU as they are) and functions: the one
//! place where curve arithmetic calls into C (blst), besides the CPU backend's primitives
//! and the GPU drivers' conversions of limbs. The schemes (bls/, groth16/), the
//! [`Backend`](crate::backend::Backend) trait and everything above speak these types,
//! never blst's, and hold no `unsafe`.
//!
//! BLS12-381 ([`bls12_381`]) is blst's; sm2p256v1 ([`sm2p256v1`], SM2's curve) is
//! written here over [`montgomery`], a field type for any prime below 2^256. The next
//! (BN254 for Groth16) goes beside them as a folder of its own with the same shape: point
//! types, encodings with validation, group operations, the scalar field.

pub mod bls12_381;
pub mod montgomery;
pub mod sm2p256v1;
