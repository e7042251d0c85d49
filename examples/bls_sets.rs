//! Writes N valid BLS signature sets as NDJSON (what `veribatch verify bls` reads), each
//! by its own validator, over M distinct messages: the inputs of the streaming figures in
//! docs/PERFORMANCE.md.
//!
//! ```sh
//! cargo run --release --example bls_sets -- 819200 16 > sets.ndjson
//! ```
//!
//! Keys come from a fixed seed, so the same arguments write the same file. Signing hashes
//! each message to G2 once and multiplies that point by each key, on every core.

use std::io::{BufWriter, Write};

use rayon::prelude::*;
use veribatch_engine::bls::ETH_DST;
use veribatch_engine::curves::bls12_381::{
    Scalar, compress_g1, compress_g2, g2_hash, p1_affine, p2_affine,
};
use veribatch_testkit::Rng;

fn main() -> Result<(), String> {
    let usage = "usage: bls_sets SETS MESSAGES";
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let (Some(Ok(sets)), Some(Ok(messages))) = (args.next(), args.next()) else {
        return Err(usage.into());
    };
    let messages: Vec<Vec<u8>> = (0..messages.max(1))
        .map(|m| format!("attestation {m}").into_bytes())
        .collect();
    let hashed: Vec<_> = messages
        .iter()
        .map(|m| p2_affine(&g2_hash(m, ETH_DST)))
        .collect();
    let mut rng = Rng::new(0x5e75);
    let secret_keys: Vec<[u8; 32]> = (0..sets)
        .map(|_| {
            let mut sk: [u8; 32] = rng.bytes(32).try_into().expect("32 bytes");
            sk[0] &= 0x3f;
            sk[31] |= 1;
            sk
        })
        .collect();
    let out = std::io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 20, out);
    for (chunk_no, chunk) in secret_keys.chunks(1 << 14).enumerate() {
        let lines: Vec<String> = chunk
            .par_iter()
            .enumerate()
            .map(|(i, sk)| {
                let m = (chunk_no * (1 << 14) + i) % messages.len();
                let key = Scalar::from_be_bytes_nonzero(sk).expect("a key below r");
                let public_key = compress_g1(&p1_affine(&key.times_g1_generator()));
                let signature = compress_g2(&p2_affine(&key.times_g2(&hashed[m])));
                format!(
                    "{{\"signature\":\"0x{}\",\"pubkeys\":[\"0x{}\"],\"messages\":[\"0x{}\"]}}\n",
                    hex::encode(signature),
                    hex::encode(public_key),
                    hex::encode(&messages[m])
                )
            })
            .collect();
        for line in lines {
            out.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
        }
    }
    out.flush().map_err(|e| e.to_string())
}
