//! `veribatch serve`: the gRPC service, with the settings the service defines
//! ([`veribatch_service::settings`]).

use std::io::Write;

use veribatch_service::Bound;
use veribatch_service::settings::Settings;

use crate::output::{CommandResult, Outcome};

pub fn run(args: Settings) -> CommandResult {
    let config = args.resolve().map_err(|e| e.to_string())?;
    super::check_backend(config.backend)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let bound = Bound::bind(config).await.map_err(|e| e.to_string())?;
        // Scripts and tests read these lines to find the ports. A reader that closed
        // stdout after reading them must not stop the service, so failures are ignored.
        let mut out = std::io::stdout();
        let _ = writeln!(out, "listening on {}", bound.local_addr());
        if let Some(addr) = bound.metrics_addr() {
            let _ = writeln!(out, "metrics on http://{addr}/metrics");
        }
        let _ = out.flush();
        bound.run(stop_signal()).await.map_err(|e| e.to_string())?;
        eprintln!("stopped: every accepted request was answered");
        Ok(Outcome::AllValid)
    })
}

/// Completes on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler can be installed");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
