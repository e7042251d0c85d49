//! A GPU that fails on purpose, under the real `Offload` routing: every fault leaves every
//! verdict equal to the CPU's, fallbacks are counted, a device that answers wrongly
//! without an error is caught by the spot checks and disabled, and one that hangs is
//! abandoned by the watchdog and marked unhealthy (GetInfo, metrics and the health
//! service say so).
//!
//! The device is the wgpu backend (lavapipe where there is no GPU), or the one named by
//! VERIBATCH_TEST_BACKEND (ci/gpu-test.sh runs this with `cuda`); the faults are applied to
//! its answers inside `Offload`, which both GPU backends share.

mod common;

use std::time::Duration;

use veribatch_engine::backend::{BackendChoice, DeviceChecks, Fault, SpotChecks, Watchdog};
use veribatch_engine::bls::Ciphersuite;
use veribatch_engine::{Engine, EngineConfig};
use veribatch_testkit::{self as testkit, Rng, Validators};

fn device() -> BackendChoice {
    match std::env::var("VERIBATCH_TEST_BACKEND") {
        Ok(name) if name != "cpu" => name.parse().expect("a backend name"),
        _ => BackendChoice::Wgpu,
    }
}

fn engine(fault: Option<Fault>, spot: SpotChecks) -> Option<Engine> {
    let engine = Engine::new(&EngineConfig {
        backend: device(),
        device_checks: DeviceChecks {
            spot,
            fault,
            watchdog: watchdog(fault),
            // These tests are of the fallback itself.
            strict: false,
        },
        ..EngineConfig::default()
    });
    if engine.device_health().is_none() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "CI=true and {} cannot run here",
            device()
        );
        eprintln!("SKIPPED: no {} device", device());
        return None;
    }
    Some(engine)
}

/// A short deadline where the device hangs on purpose. Otherwise ten minutes for every
/// call: what is under test there is the verdicts and the counts, and a debug build on
/// lavapipe with cold shader caches has taken over a minute for one call.
fn watchdog(fault: Option<Fault>) -> Watchdog {
    match fault {
        Some(Fault::Hang) => Watchdog {
            deadline: Duration::from_millis(300),
            first_call: Duration::from_millis(300),
            ..Watchdog::default()
        },
        _ => Watchdog {
            deadline: Duration::from_secs(600),
            first_call: Duration::from_secs(600),
            ..Watchdog::default()
        },
    }
}

/// One test at a time: each opens devices of its own, and on a software device the
/// first to compile the kernels fills Mesa's shader cache for the others, where
/// compiling them all at once on two cores took minutes each.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static DEVICE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    DEVICE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every kind of work the engine sends to a device, with the CPU's answers.
struct Work {
    sets: Vec<veribatch_engine::bls::SignatureSet>,
    chunks: Vec<u8>,
    proofs: Vec<veribatch_engine::ProofInput>,
}

fn work(cpu: &Engine) -> Work {
    let mut rng = Rng::new(11);
    let validators = Validators::new(cpu, 64, &mut rng);
    let sets = testkit::signature_sets(cpu, &validators, 96, 4, 20, &mut rng)
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let proofs = testkit::groth16_proofs(12, 25, &mut rng)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    Work {
        sets,
        chunks: testkit::chunks(1000, &mut rng),
        proofs,
    }
}

/// The engine's answers for `work`, to compare with the CPU's.
fn answers(
    engine: &Engine,
    work: &Work,
) -> (
    Vec<veribatch_engine::Verdict>,
    [u8; 32],
    Vec<veribatch_engine::Verdict>,
) {
    let key = engine
        .register_groth16_key(testkit::GROTH16_KEY, None)
        .unwrap();
    (
        engine.verify_signature_sets(&work.sets, &Ciphersuite::ETHEREUM),
        engine
            .merkle_root(&work.chunks, Some(1 << 12), Some(1000))
            .unwrap(),
        engine.verify_groth16(&key, &work.proofs),
    )
}

#[test]
fn every_fault_leaves_the_cpu_verdicts_and_is_counted() {
    let _one = one_at_a_time();
    let cpu = Engine::new(&EngineConfig {
        backend: BackendChoice::Cpu,
        ..EngineConfig::default()
    });
    let work = work(&cpu);
    let expected = answers(&cpu, &work);
    assert!(expected.0.iter().any(|v| v == &Ok(true)) && expected.0.iter().any(|v| v != &Ok(true)));

    let Some(clean) = engine(None, SpotChecks::default()) else {
        return;
    };
    assert_eq!(answers(&clean, &work), expected);
    let health = clean.device_health().unwrap();
    assert_eq!(
        (health.fallbacks, health.mismatches, &health.disabled),
        (0, 0, &None),
        "{health:?}"
    );
    assert!(health.spot_checks > 0, "the first calls are checked");

    for fault in [
        Fault::Error,
        Fault::WrongLength,
        Fault::WrongPoint,
        Fault::Hang,
    ] {
        let faulty = engine(Some(fault), SpotChecks::default()).unwrap();
        assert_eq!(answers(&faulty, &work), expected, "{fault:?}");
        let health = faulty.device_health().unwrap();
        match fault {
            Fault::Error => {
                assert!(health.fallbacks > 0, "{health:?}");
                assert_eq!(health.mismatches, 0);
                assert_eq!(health.disabled, None, "errors do not disable the device");
            }
            Fault::WrongLength | Fault::WrongPoint => {
                assert!(
                    health.fallbacks + health.mismatches > 0,
                    "{fault:?}: {health:?}"
                );
                assert!(health.mismatches >= 1, "{fault:?}: {health:?}");
                let why = health.disabled.expect("a wrong answer disables the device");
                assert!(why.contains("differed from the CPU's"), "{why}");
            }
            Fault::Hang => {
                assert!(health.watchdog_timeouts >= 1, "{health:?}");
                assert_eq!(health.disabled, None, "a hang is not a wrong answer");
                let why = health.unhealthy.expect("a hung device is unhealthy");
                assert!(why.contains("watchdog"), "{why}");
            }
        }
    }
}

/// After the first calls, answers are sampled at random: a device wrong on every call,
/// checked one call in two, is caught within a few calls (all 40 unchecked: 2^-40), the
/// wrong answers it gave before are the documented cost of sampling, and every answer
/// after it is disabled is the CPU's.
#[test]
fn sampled_checks_catch_a_wrong_device_and_then_only_the_cpu_answers() {
    let _one = one_at_a_time();
    let Some(sampled) = engine(
        Some(Fault::WrongPoint),
        SpotChecks {
            first: 0,
            one_in: 2,
        },
    ) else {
        return;
    };
    let mut rng = Rng::new(5);
    let chunks = testkit::chunks(4096, &mut rng);
    let cpu_root = Engine::new(&EngineConfig {
        backend: BackendChoice::Cpu,
        ..EngineConfig::default()
    })
    .merkle_root(&chunks, None, None)
    .unwrap();
    let mut wrong_before = 0;
    for _ in 0..40 {
        let disabled = sampled.device_health().unwrap().disabled.is_some();
        let root = sampled.merkle_root(&chunks, None, None).unwrap();
        if disabled {
            assert_eq!(root, cpu_root, "a disabled device is not used");
        } else if root != cpu_root {
            wrong_before += 1;
        }
    }
    let health = sampled.device_health().unwrap();
    assert_eq!(
        health.mismatches, 1,
        "disabled at the first caught answer: {health:?}"
    );
    assert!(health.disabled.is_some());
    assert!(
        health.spot_checks >= 1 && wrong_before < 40,
        "{health:?}, {wrong_before}"
    );
}

/// A real `veribatch serve` whose device fails on purpose: every verdict of `veribatch
/// load` is still right, and GetInfo, /metrics and the health service report the device.
async fn serve_with_fault(
    fault: &str,
) -> (
    common::server::Server,
    veribatch_service::proto::GetInfoResponse,
) {
    let backend = device().to_string();
    let server = common::server::Server::start_with_env(
        &[
            "--backend",
            &backend,
            "--metrics-listen",
            "127.0.0.1:0",
            "--device-timeout-ms",
            "300",
            "--device-first-call-timeout-ms",
            if fault == "hang" { "300" } else { "600000" },
        ],
        &[("VERIBATCH_INJECT_FAULT", fault)],
    );
    let load = std::process::Command::new(env!("CARGO_BIN_EXE_veribatch"))
        .args([
            "load",
            "--target",
            &server.url(),
            "--workload",
            "mixed",
            "--requests",
            "40",
            "--items-per-request",
            "16",
            "--bad-percent",
            "20",
        ])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&load.stdout);
    assert_eq!(
        load.status.code(),
        Some(0),
        "{report}\n{}",
        String::from_utf8_lossy(&load.stderr)
    );
    let mut client = server.client().await;
    let info = common::server::info(&mut client).await;
    (server, info)
}

#[test]
fn the_service_reports_a_disabled_device() {
    let _one = one_at_a_time();
    runtime().block_on(async {
        if engine(None, SpotChecks::default()).is_none() {
            return;
        }
        let (server, info) = serve_with_fault("wrong-point").await;
        let health = info.device_health.expect("a device reports its health");
        assert!(health.mismatches >= 1, "{health:?}");
        assert!(
            health.disabled.contains("differed from the CPU's"),
            "{health:?}"
        );
        let selected = info.backends.iter().find(|b| b.selected).unwrap();
        assert!(selected.detail.contains("DISABLED"), "{}", selected.detail);
        let body = common::metrics_text(server.metrics.unwrap());
        let backend = device().to_string();
        assert!(
            body.contains(&format!(
                "veribatch_device_disabled{{backend=\"{backend}\"}} 1"
            )),
            "{body}"
        );
    });
}

/// A device that never returns: the load's verdicts are the CPU's, and the device is
/// reported unhealthy while the service itself stays SERVING.
#[test]
fn the_service_abandons_a_hung_device_and_reports_it_unhealthy() {
    use tonic_health::pb::health_check_response::ServingStatus;
    let _one = one_at_a_time();
    runtime().block_on(async {
        if engine(None, SpotChecks::default()).is_none() {
            return;
        }
        let (server, info) = serve_with_fault("hang").await;
        let health = info.device_health.expect("a device reports its health");
        assert!(health.watchdog_timeouts >= 1, "{health:?}");
        assert!(health.unhealthy.contains("watchdog"), "{health:?}");
        assert!(health.disabled.is_empty(), "{health:?}");
        let selected = info.backends.iter().find(|b| b.selected).unwrap();
        assert!(selected.detail.contains("UNHEALTHY"), "{}", selected.detail);
        let body = common::metrics_text(server.metrics.unwrap());
        let backend = device().to_string();
        assert!(
            body.contains(&format!(
                "veribatch_device_unhealthy{{backend=\"{backend}\"}} 1"
            )),
            "{body}"
        );
        // The health service's device entry follows within its one-second refresh.
        let mut status = common::server::serving_status(&server, "veribatch.v1.Device").await;
        for _ in 0..50 {
            if status == ServingStatus::NotServing as i32 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            status = common::server::serving_status(&server, "veribatch.v1.Device").await;
        }
        assert_eq!(status, ServingStatus::NotServing as i32);
        assert_eq!(
            common::server::serving_status(&server, "").await,
            ServingStatus::Serving as i32
        );
    });
}
