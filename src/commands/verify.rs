//! `veribatch verify`: signatures from a file, one verdict line per record.

use clap::Subcommand;

use super::{bls, sm2};
use crate::output::CommandResult;

#[derive(Subcommand)]
pub enum VerifyCommand {
    /// Verify BLS signature sets from FILE (NDJSON or a JSON array of
    /// {"signature":"0x…","pubkeys":["0x…",…],"messages":["0x…",…]}).
    ///
    /// Prints one line per set, in input order: {"index":N,"valid":true|false,"error":null|"…"}.
    /// "messages" holds one message signed by every key, or one message per key.
    /// Exit status: 0 all valid, 1 any invalid or malformed, 2 cannot run.
    Bls(bls::BlsArgs),
    /// Verify SM2 signatures (GB/T 32918.2, curve sm2p256v1) from FILE (NDJSON or a JSON
    /// array of {"public_key":"0x…","message":"0x…","signature":"0x…","id":"0x…"}).
    ///
    /// "public_key" is SEC 1, uncompressed (04…) or compressed (02…/03…); "signature" is
    /// strict DER or raw r‖s (64 bytes); "id" is optional (default 1234567812345678, as
    /// GM/T 0009 and OpenSSL use); "digest" (e = SM3(Z‖M), 32 bytes) may replace "message".
    /// Prints one line per signature, in input order: {"index":N,"valid":true|false,"error":null|"…"}.
    /// Exit status: 0 all valid, 1 any invalid or malformed, 2 cannot run.
    Sm2(sm2::Sm2Args),
}

pub fn run(command: VerifyCommand) -> CommandResult {
    match command {
        VerifyCommand::Bls(args) => bls::run(args),
        VerifyCommand::Sm2(args) => sm2::run(args),
    }
}
