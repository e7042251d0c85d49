//! Writes N valid BLS signature sets as NDJSON (what `veribatch verify bls` reads), each
//! by its own validator, over M distinct messages: the inputs of the streaming figures in
//! docs/PERFORMANCE.md (`veribatch bench --workload bls-file` writes the same files).
//!
//! ```sh
//! cargo run --release --example bls_sets -- 819200 16 > sets.ndjson
//! ```
//!
//! Keys come from a fixed seed, so the same arguments write the same file.

use std::io::{BufWriter, Write};

fn main() -> Result<(), String> {
    let usage = "usage: bls_sets SETS MESSAGES";
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let (Some(Ok(sets)), Some(Ok(messages))) = (args.next(), args.next()) else {
        return Err(usage.into());
    };
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    veribatch_testkit::write_signature_set_lines(&mut out, sets, messages)
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
}
