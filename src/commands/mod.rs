//! One module per command group. Each turns flags and files into engine calls and
//! engine results into output; none holds verification logic of its own.

pub mod bls;
pub mod groth16;
pub mod info;
pub mod merkle;

use veribatch_engine::backend::BackendChoice;
use veribatch_engine::{Engine, EngineConfig};

/// The `--backend` flag shared by every command that verifies.
#[derive(clap::Args, Clone, Debug)]
pub struct BackendArgs {
    /// Where the primitives run: auto (fastest present) or cpu.
    #[arg(long, default_value = "auto", env = "VERIBATCH_BACKEND")]
    pub backend: BackendChoice,
}

impl BackendArgs {
    pub fn engine(&self) -> Engine {
        Engine::new(&EngineConfig {
            backend: self.backend,
            ..EngineConfig::default()
        })
    }
}
