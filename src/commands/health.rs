//! `veribatch health`: asks a service's gRPC health service whether it serves, for a
//! container's HEALTHCHECK and for scripts. Exit code 0: serving; 1: not serving
//! (starting, draining, or the entry is down); 2: no answer.

use std::time::Duration;

use veribatch_client::Remote;

use crate::output::{CommandResult, Outcome, outln};

#[derive(clap::Args)]
pub struct HealthArgs {
    /// The service's URL.
    #[arg(
        long,
        env = "VERIBATCH_REMOTE",
        default_value = "http://127.0.0.1:50051"
    )]
    remote: String,
    /// The health entry asked about: "" (the server as a whole), veribatch.v1.Verifier,
    /// or veribatch.v1.Device (the GPU).
    #[arg(long, default_value = "")]
    service: String,
    /// Give up after this many milliseconds.
    #[arg(long, default_value_t = 3000)]
    timeout_ms: u64,
}

pub fn run(args: &HealthArgs) -> CommandResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let asked = async {
        let remote = Remote::connect(&args.remote, None).await?;
        remote.serving(&args.service).await
    };
    let serving = runtime
        .block_on(async {
            tokio::time::timeout(Duration::from_millis(args.timeout_ms), asked).await
        })
        .map_err(|_| format!("{}: no answer within {} ms", args.remote, args.timeout_ms))??;
    let entry = if args.service.is_empty() {
        "the server"
    } else {
        &args.service
    };
    outln!(
        "{entry}: {}",
        if serving { "serving" } else { "not serving" }
    );
    Ok(Outcome::from_valid(serving))
}
