//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;

use veribatch_engine::{Engine, EngineConfig};

/// The folder of copied test vectors.
pub fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// The snarkjs Groth16 fixtures: they ship with the engine, whose self-test checks a
/// device on them, so they live in engine/vectors rather than tests/vectors.
pub fn snarkjs_vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("engine/vectors/groth16/snarkjs")
}

/// The engine under test: the default (auto) backend, or the one named by
/// VERIBATCH_TEST_BACKEND (ci/test.sh runs the conformance, Merkle and Groth16 tests a
/// second time with `wgpu`, every GPU primitive forced onto the adapter; ci/gpu-test.sh
/// with `cuda`; both with VERIBATCH_STRICT_DEVICE=1, so that a device error fails the
/// test instead of falling back to the CPU).
pub fn engine() -> Engine {
    let backend = match std::env::var("VERIBATCH_TEST_BACKEND") {
        Ok(name) => name
            .parse()
            .expect("VERIBATCH_TEST_BACKEND names a backend"),
        Err(_) => veribatch_engine::backend::BackendChoice::Auto,
    };
    let mut config = EngineConfig {
        backend,
        ..EngineConfig::default()
    };
    config.device_checks.strict =
        std::env::var_os("VERIBATCH_STRICT_DEVICE").is_some_and(|v| v == "1");
    let engine = Engine::new(&config);
    if backend != veribatch_engine::backend::BackendChoice::Auto {
        assert_eq!(
            engine.backend().name(),
            backend.to_string(),
            "VERIBATCH_TEST_BACKEND={backend}, but that backend cannot run here"
        );
    }
    engine
}

/// A plain Merkle tree with nodes `pair(left, right)`: `chunks` padded with zero chunks
/// to the next power of two of `limit` (or of the chunk count), hashed pairwise.
pub fn reference_root(
    pair: impl Fn(&[u8], &[u8]) -> [u8; 32],
    chunks: &[u8],
    limit: Option<u64>,
) -> [u8; 32] {
    let count = chunks.len() / 32;
    let width = limit
        .map_or(count, |l| l as usize)
        .max(1)
        .next_power_of_two();
    let mut level: Vec<[u8; 32]> = chunks
        .chunks(32)
        .map(|c| c.try_into().unwrap())
        .chain(std::iter::repeat([0u8; 32]))
        .take(width)
        .collect();
    while level.len() > 1 {
        level = level.chunks(2).map(|p| pair(&p[0], &p[1])).collect();
    }
    level[0]
}

/// SSZ's mix_in_length with nodes `pair`: the root and the length as a 256-bit
/// little-endian integer.
pub fn reference_mix(
    pair: impl Fn(&[u8], &[u8]) -> [u8; 32],
    root: &[u8; 32],
    length: u64,
) -> [u8; 32] {
    let mut chunk = [0u8; 32];
    chunk[..8].copy_from_slice(&length.to_le_bytes());
    pair(root, &chunk)
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
pub use veribatch_testkit::Rng as TestRng;

/// A valid secret key (32 bytes, big-endian, well below r) from the stream.
pub fn secret_key(rng: &mut TestRng) -> Vec<u8> {
    let mut sk = rng.bytes(32);
    sk[0] &= 0x3f;
    sk[31] |= 1;
    sk
}

pub mod bls;
pub mod groth16;
pub mod process;
pub mod server;

/// The text of `GET /metrics` from a server's metrics port.
pub fn metrics_text(addr: std::net::SocketAddr) -> String {
    use std::io::{Read, Write};
    let mut body = String::new();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    stream.read_to_string(&mut body).unwrap();
    body
}
