//! The curves veribatch computes on, behind safe functions and types: the one place
//! where curve arithmetic calls into C (blst), besides the CPU backend's primitives and
//! the GPU drivers' conversions of limbs. The schemes (bls/, groth16/) work with what
//! this module gives and hold no `unsafe`.
//!
//! BLS12-381 is the one curve today ([`bls12_381`]). The next (BN254 for Groth16,
//! sm2p256v1 for SM2) go beside it as folders of their own with the same shape:
//! encodings with validation, group operations, the scalar field.

pub mod bls12_381;
