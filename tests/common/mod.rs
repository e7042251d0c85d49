//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;

use veribatch_engine::{Engine, EngineConfig};

/// The folder of copied test vectors.
pub fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

pub fn engine() -> Engine {
    Engine::new(&EngineConfig::default())
}

/// Hex with or without a 0x prefix; `None` if it is not hex (bad vectors carry bad hex).
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).ok()
}

/// Every JSON file of a vector folder, sorted, parsed.
pub fn json_files(dir: &str) -> Vec<(String, serde_json::Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(vectors().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect()
}

/// A deterministic byte stream for test inputs, so failures reproduce.
pub use veribatch_engine::workload::Rng as TestRng;

/// A valid secret key (32 bytes, big-endian, well below r) from the stream.
pub fn secret_key(rng: &mut TestRng) -> Vec<u8> {
    let mut sk = rng.bytes(32);
    sk[0] &= 0x3f;
    sk[31] |= 1;
    sk
}

pub mod bls;
pub mod groth16;
pub mod server;
