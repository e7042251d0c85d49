//! The TOML file of `veribatch serve --config`: any text either fails to parse, fails to
//! resolve with a named reason, or resolves to a configuration whose counts and
//! timeouts are all at least 1 (the invariant `resolve` promises the server).
#![no_main]

use libfuzzer_sys::fuzz_target;
use veribatch_service::settings::Settings;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(settings) = Settings::from_toml(text) else {
        return;
    };
    let Ok(config) = settings.resolve() else {
        return;
    };
    let scheduler = &config.scheduler;
    assert!(scheduler.max_batch >= 1 && scheduler.queue_limit >= 1 && scheduler.workers >= 1);
    let limits = &config.limits;
    assert!(
        limits.max_items >= 1 && limits.stream_concurrency >= 1 && limits.max_keys_per_set >= 1
    );
    assert!(limits.max_cost_per_request >= 1 && config.max_ic_points >= 1);
    assert!(config.groth16_keys >= 1 && !config.device_watchdog.deadline.is_zero());
});
