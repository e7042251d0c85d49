//! veribatch-kernels: the GPU kernel sources of veribatch, layered like the maths, in
//! WGSL for wgpu ([`wgsl`]) and CUDA C++ for NVRTC ([`cuda`]).
//!
//! `wgsl/` holds WGSL for wgpu: `ff/` (Fp, Fp2), `ec/` (G1 and G2 points), `msm/`
//! (Pippenger, scaling), `reduce/` (point sums), `hash/` (SHA-256, Merkle levels).
//! The point formulas are written once in Rust (`formulas.rs`) and emitted as programs
//! of Fp operations that `ec/point.wgsl` interprets.
//! WGSL has no includes, so a shader module is the concatenation of the files it needs,
//! in dependency order; [`wgsl::MODULES`] lists them. The crate knows nothing of
//! devices: the engine's wgpu backend compiles these modules and dispatches them.

pub mod cuda;
mod formulas;
mod montgomery;
pub mod wgsl;
