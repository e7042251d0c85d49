//! `veribatch selftest`, `veribatch calibrate` and kernels compiled ahead of time, as a
//! user runs them: on lavapipe (or any wgpu adapter) here, with CUDA unavailable.

mod common;

use std::process::Output;

use common::process::{scratch, skipped_without_nvrtc, stderr, stdout, veribatch};
use veribatch_engine::backend::Thresholds;
use veribatch_engine::backend::cuda::prebuilt;

/// Whether a wgpu adapter is present (under CI there must be: lavapipe).
fn adapter_here() -> bool {
    let present = !veribatch_engine::backend::wgpu::adapters().is_empty();
    if !present {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and no wgpu adapter"
        );
        eprintln!("SKIPPED: no wgpu adapter");
    }
    present
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

/// Every primitive case and whole operation of the quick level agrees on the adapter,
/// and the report says what was checked and how long each check took.
#[test]
fn selftest_on_wgpu_agrees_with_the_cpu() {
    if !adapter_here() {
        return;
    }
    let out = veribatch(&["selftest", "--backend", "wgpu", "--quick", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["schema"], "veribatch-selftest/1");
    assert_eq!(report["passed"], true);
    let checks = report["backends"][0]["checks"].as_array().unwrap();
    for name in [
        "sha256",
        "merkle_root",
        "g1_sum",
        "g2_sum",
        "g1_msm",
        "g2_msm",
        "g1_scale",
        "log_leaves",
        "log_subtree",
        "sm3",
        "sm3_root",
    ] {
        assert!(
            checks.iter().any(|c| c["name"] == name),
            "{name} not checked"
        );
    }
    let operations: Vec<&serde_json::Value> =
        checks.iter().filter(|c| c["kind"] == "operation").collect();
    assert_eq!(operations.len(), 5, "{operations:?}");
    assert!(checks.iter().all(|c| c["result"] == "same"));
    assert!(
        checks
            .iter()
            .all(|c| c["device_ms"].as_f64().unwrap() >= 0.0)
    );
}

/// A primitive spoiled on purpose (a test-only fault) makes the selftest exit 1, naming
/// the primitive, the size and the first differing output; the others still agree.
#[test]
fn a_spoiled_primitive_fails_the_selftest_by_name() {
    if !adapter_here() {
        return;
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_veribatch"))
        .args(["selftest", "--backend", "wgpu", "--quick"])
        .args(["--only", "g1_msm,sha256,sm3"])
        .env("VERIBATCH_SELFTEST_FAULT", "g1_msm")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("MISMATCH g1_msm: g1_msm of 100 points, 64-bit scalars: output 0: device "),
        "{text}"
    );
    assert!(!text.contains("MISMATCH sha256"), "{text}");
    assert!(text.contains("| sha256 of 1000 blocks |"), "{text}");

    // The SM3 kernels are checked like every other: a spoiled SM3 root is caught.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_veribatch"))
        .args(["selftest", "--backend", "wgpu", "--quick"])
        .args(["--only", "sm3,sm3_root"])
        .env("VERIBATCH_SELFTEST_FAULT", "sm3_root")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("MISMATCH sm3_root: sm3_root of "), "{text}");
    assert!(!text.contains("MISMATCH sm3:"), "{text}");
    assert!(text.contains("| sm3 of 1000 blocks |"), "{text}");
}

#[test]
fn selftest_without_the_device_exits_2_saying_why() {
    if veribatch_engine::backend::cuda::availability().is_ok() {
        eprintln!("SKIPPED: CUDA is available here");
        return;
    }
    let out = veribatch(&["selftest", "--backend", "cuda", "--quick"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("cuda: unavailable: "),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("no backend to check"),
        "{}",
        stderr(&out)
    );

    let bad = veribatch(&["selftest", "--only", "g3_msm"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("unknown primitive \"g3_msm\""));
}

/// Calibration on the adapter writes thresholds the engine takes back.
#[test]
fn calibrate_writes_thresholds_the_engine_takes() {
    if !adapter_here() {
        return;
    }
    let dir = scratch("calibrate");
    let file = dir.join("thresholds.toml");
    let out = veribatch(&[
        "calibrate",
        "--backend",
        "wgpu",
        "--quick",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for primitive in ["sha256", "g1_sum", "g2_sum", "g1_msm", "g2_msm", "g1_scale"] {
        assert!(text.contains(&format!("| {primitive} | ")), "{text}");
    }
    let toml = std::fs::read_to_string(&file).unwrap();
    let line = toml
        .lines()
        .find_map(|l| l.strip_prefix("gpu_threshold = \""))
        .unwrap_or_else(|| panic!("no gpu_threshold in {toml}"));
    let thresholds: Thresholds = line.trim_end_matches('"').parse().unwrap();
    assert_eq!(thresholds.to_string(), line.trim_end_matches('"'));

    let info = std::process::Command::new(env!("CARGO_BIN_EXE_veribatch"))
        .args(["info", "--gpu-threshold", &thresholds.to_string()])
        .output()
        .unwrap();
    assert!(
        stdout(&info).contains(&format!("{thresholds} (from --gpu-threshold")),
        "{}",
        stdout(&info)
    );
}

/// Where NVRTC is present (ci/test.sh installs it), `kernels compile --out` writes a
/// CUBIN and a manifest that load; a CUBIN changed afterwards is refused, naming it.
#[test]
fn precompiled_kernels_load_and_a_tampered_one_is_refused() {
    let dir = scratch("cuda-kernels");
    let out = veribatch(&[
        "kernels",
        "compile",
        "--target",
        "cuda",
        "--arch",
        "sm_90",
        "--out",
        dir.to_str().unwrap(),
    ]);
    if skipped_without_nvrtc(&out) {
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let manifest = prebuilt::manifest(&dir).expect("a manifest of this binary's sources");
    assert_eq!(manifest.kernels.len(), 1);
    assert_eq!(manifest.kernels[0].arch, "sm_90");
    let cubin = prebuilt::load(&dir, "sm_90").expect("it loads");
    assert_eq!(&cubin[..4], b"\x7fELF");
    // sm_90's CUBIN is not for an sm_80 device.
    assert!(matches!(
        prebuilt::load(&dir, "sm_80"),
        Err(prebuilt::PrebuiltError::NoArch { .. })
    ));

    let path = dir.join("sm_90.cubin");
    let mut changed = cubin.clone();
    let last = changed.len() - 1;
    changed[last] ^= 0x55;
    std::fs::write(&path, &changed).unwrap();
    let refused = prebuilt::load(&dir, "sm_90").unwrap_err();
    assert!(
        matches!(refused, prebuilt::PrebuiltError::Checksum { .. }),
        "{refused}"
    );
    assert!(refused.to_string().contains("sm_90.cubin"), "{refused}");

    let info = std::process::Command::new(env!("CARGO_BIN_EXE_veribatch"))
        .args(["info", "--cuda-kernels", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        stdout(&info).contains(&format!(
            "cuda kernels: precompiled, from {}",
            dir.display()
        )),
        "{}",
        stdout(&info)
    );
}

/// Probing for devices prints nothing a user would take for an error, even where
/// XDG_RUNTIME_DIR is unset (Mesa's Wayland client complains then).
#[test]
fn probing_for_devices_prints_no_error() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_veribatch"))
        .arg("info")
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(!err.contains("XDG_RUNTIME_DIR"), "{err}");
    assert!(!err.to_lowercase().contains("error"), "{err}");
}
