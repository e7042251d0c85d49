//! Verifying signature sets through a shared veribatch service, in the shape consensus
//! clients already use (Lighthouse's `verify_signature_sets`, Lodestar's
//! `verifySignatureSets`): hand over the sets, get one verdict per set back. The service
//! merges them with every other caller's into large batches; the client balances over
//! the replicas, passes over those that are not serving, and retries what a replica
//! going away could not answer, all within one deadline per call.
//!
//!     veribatch serve &                                   # or a Kubernetes Service
//!     cargo run --release --example verify_sets -- http://127.0.0.1:50051
//!     cargo run --release --example verify_sets -- dns:///veribatch-headless:50051

use std::time::Duration;

use veribatch_client::Remote;
use veribatch_engine::bls::{Ciphersuite, SignatureSet};
use veribatch_engine::{Engine, EngineConfig};

fn main() -> Result<(), String> {
    let target = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:50051".into());
    // Sixteen sets of one key each over four messages, the last one forged.
    let suite = Ciphersuite::ETHEREUM;
    let local = Engine::new(&EngineConfig::default()); // here only to sign the example
    let mut sets = Vec::new();
    for i in 0..16u8 {
        let secret = [i + 1; 32];
        let message = vec![i % 4; 32];
        let signature = local
            .sign(&secret, &message, &suite)
            .map_err(|e| e.to_string())?;
        let public_key = local.public_key(&secret).map_err(|e| e.to_string())?;
        sets.push(SignatureSet {
            signature: signature.to_vec(),
            public_keys: vec![public_key.to_vec()],
            messages: vec![message],
        });
    }
    sets[15].messages[0][0] ^= 1;

    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let verdicts = runtime.block_on(async {
        // A slot is 12 s: a verdict later than 2 s is of no use to the caller.
        let mut service = Remote::connect(&target, None)
            .await?
            .with_deadline(Duration::from_secs(2));
        service.verify_signature_sets(&sets, &suite).await
    })?;
    for (i, verdict) in verdicts.iter().enumerate() {
        match verdict {
            Ok(valid) => println!("set {i}: {}", if *valid { "valid" } else { "invalid" }),
            Err(e) => println!("set {i}: malformed: {e}"),
        }
    }
    Ok(())
}
