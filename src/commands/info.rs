//! `veribatch info`: what this build can use on this machine.

use veribatch_engine::backend::{self, BackendChoice};

use crate::output::{CommandResult, Outcome};

pub fn run() -> CommandResult {
    println!("veribatch {}", env!("CARGO_PKG_VERSION"));
    println!("backends:");
    for b in backend::inventory(BackendChoice::Auto) {
        let state = match (b.available, b.selected) {
            (true, true) => "selected",
            (true, false) => "available",
            (false, _) => "unavailable",
        };
        println!("  {:<7} {state}: {}", b.name, b.detail);
    }
    println!("cpu features used: {}", cpu_features().join(" "));
    Ok(Outcome::AllValid)
}

/// The x86-64 features blst and hashtree pick up at run time, as detected here.
fn cpu_features() -> Vec<&'static str> {
    #[cfg(target_arch = "x86_64")]
    {
        let mut found = Vec::new();
        macro_rules! check {
            ($($f:tt),*) => {$(
                if std::arch::is_x86_feature_detected!($f) {
                    found.push($f);
                }
            )*};
        }
        check!("sha", "avx2", "avx512f", "adx", "bmi2");
        found
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        vec!["(feature detection is implemented for x86-64 only)"]
    }
}
