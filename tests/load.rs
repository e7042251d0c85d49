//! `veribatch load` against a real server: the report's contents and structure, never
//! its timings.

mod common;

use std::process::Command;

use common::server::Server;
use serde_json::Value;

fn load(server: &Server, args: &[&str]) -> (Option<i32>, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_veribatch"))
        .args(["load", "--target", &server.url(), "--json"])
        .args(args)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

#[test]
fn a_mixed_load_checks_every_verdict_and_reports_them() {
    let server = Server::start(&[]);
    let (code, r) = load(
        &server,
        &[
            "--workload",
            "mixed",
            "--concurrency",
            "6",
            "--requests",
            "32",
            "--items-per-request",
            "8",
            "--bad-percent",
            "30",
        ],
    );
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["workload"], "mixed");
    assert_eq!(r["concurrency"], 6);
    assert_eq!(r["requests"], 32);
    assert_eq!(r["requests_failed"], 0);
    assert_eq!(r["mismatches"], 0);
    assert_eq!(r["mismatch_examples"].as_array().unwrap().len(), 0);
    // 8 signature, 8 Groth16 and 8 SM2 requests of 8 items, 8 Merkle roots.
    assert_eq!(r["items_checked"], 8 * 8 + 8 * 8 + 8 * 8 + 8);
    for field in ["p50", "p90", "p99", "max", "mean"] {
        assert!(r["latency_ms"][field].as_f64().unwrap() > 0.0, "{field}");
    }
    let l = &r["latency_ms"];
    assert!(l["p50"].as_f64() <= l["p99"].as_f64() && l["p99"].as_f64() <= l["max"].as_f64());
    assert!(r["errors"].as_object().unwrap().is_empty());
    for field in ["seconds", "requests_per_second", "items_per_second"] {
        assert!(r[field].as_f64().unwrap() > 0.0, "{field}");
    }
}

/// SM2 alone: every verdict (valid, invalid, malformed) checked against what was made.
#[test]
fn an_sm2_load_checks_every_verdict() {
    let server = Server::start(&[]);
    let (code, r) = load(
        &server,
        &[
            "--workload",
            "sm2",
            "--requests",
            "12",
            "--items-per-request",
            "20",
            "--bad-percent",
            "40",
        ],
    );
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["workload"], "sm2");
    assert_eq!(r["mismatches"], 0);
    assert_eq!(r["items_checked"], 12 * 20);
}

#[test]
fn errors_are_counted_by_code_and_fail_the_run() {
    // Every request is over the server's item limit: INVALID_ARGUMENT, an unexpected error.
    let server = Server::start(&["--max-items-per-request", "2"]);
    let (code, r) = load(&server, &["--requests", "5", "--items-per-request", "3"]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(r["requests_failed"], 5);
    assert_eq!(r["errors"]["InvalidArgument"], 5);
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        vec!["load", "--target", "http://127.0.0.1:1", "--requests", "1"],
        vec![
            "load",
            "--target",
            "http://127.0.0.1:1",
            "--duration",
            "10x",
        ],
        vec![
            "load",
            "--target",
            "http://127.0.0.1:1",
            "--duration",
            "1s",
            "--requests",
            "2",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_veribatch"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
