//! veribatch-kernels: the GPU kernel sources of veribatch, layered like the maths
//! (`wgsl/` and `cuda/`, each with `ff/`, `ec/`, `msm/`, `hash/`, `reduce/`).
//!
//! No kernel exists yet: the CPU backend of `veribatch-engine` runs every primitive.
//! The wgpu and CUDA backends add their sources here.
