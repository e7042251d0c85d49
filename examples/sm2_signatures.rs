//! Writes N valid SM2 signatures by K accounts in turn (default ID, 100-byte messages,
//! DER): `OUT.ndjson` as `veribatch verify sm2` reads it, and `OUT.txt` with one
//! `PUBLIC_KEY MESSAGE SIGNATURE` hex line per signature, the same signatures, for the
//! OpenSSL loop of benches/anchors/openssl_sm2_loop.c (docs/PERFORMANCE.md).
//!
//! ```sh
//! cargo run --release --example sm2_signatures -- 100000 1000 /tmp/sm2
//! ```
//!
//! Keys come from a fixed seed, so the same arguments write the same files.

use std::io::{BufWriter, Write};

use veribatch_engine::sm2::Signed;

fn main() -> Result<(), String> {
    let usage = "usage: sm2_signatures SIGNATURES ACCOUNTS OUT";
    let mut args = std::env::args().skip(1);
    let (Some(Ok(n)), Some(Ok(accounts)), Some(out)) = (
        args.next().map(|a| a.parse::<usize>()),
        args.next().map(|a| a.parse::<usize>()),
        args.next(),
    ) else {
        return Err(usage.into());
    };
    let items = veribatch_testkit::sm2_signatures(n, accounts, &mut veribatch_testkit::Rng::new(7));
    let create = |ext: &str| {
        std::fs::File::create(format!("{out}.{ext}"))
            .map(|f| BufWriter::with_capacity(1 << 20, f))
            .map_err(|e| format!("{out}.{ext}: {e}"))
    };
    let (mut records, mut lines) = (create("ndjson")?, create("txt")?);
    for item in &items {
        let Signed::Message(message) = &item.signed else {
            unreachable!("the testkit signs messages");
        };
        let written = writeln!(records, "{}", item.to_json()).and_then(|()| {
            writeln!(
                lines,
                "{} {} {}",
                hex::encode(&item.public_key),
                hex::encode(message),
                hex::encode(&item.signature)
            )
        });
        written.map_err(|e| e.to_string())?;
    }
    records
        .flush()
        .and_then(|()| lines.flush())
        .map_err(|e| e.to_string())
}
