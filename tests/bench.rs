//! `veribatch bench` as a process: a quick run's report.json against the schema of
//! docs/BENCH-REPORT.md, its Markdown and plots, and `bench compare`. Never timings.
#![cfg(feature = "bench")]

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn veribatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_veribatch"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("veribatch-bench-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every workload of a quick run: name, series expected besides veribatch (cpu), sizes.
const QUICK: [(&str, &[&str], &[u64]); 16] = [
    (
        "bls-distinct",
        &["blst verify_multiple_aggregate_signatures"],
        &[16, 64],
    ),
    (
        "bls-grouped",
        &["blst verify_multiple_aggregate_signatures"],
        &[16, 64],
    ),
    (
        "fast-aggregate",
        &["blst fast_aggregate_verify"],
        &[64, 256],
    ),
    (
        "bls-file",
        &["file read whole and parsed, blst verify_multiple_aggregate_signatures per 8,192 sets"],
        &[2_048, 16_384],
    ),
    (
        "merkle",
        &[
            "hashtree, level by level, 1 thread",
            "sha2, level by level, 1 thread",
        ],
        &[1 << 10, 1 << 12, 1 << 14, 1 << 16],
    ),
    (
        "merkle-file",
        &[
            "read whole, hashtree level by level, 1 thread",
            "read whole, hashtree with each level on all cores",
        ],
        &[1 << 16, 1 << 18],
    ),
    (
        "groth16",
        &["ark-groth16 verify_with_processed_vk, all cores"],
        &[1, 4, 16, 64],
    ),
    (
        "log-head",
        &["plain RFC 9162 tree head on sha2, 1 thread"],
        &[1 << 10, 1 << 12, 1 << 14, 1 << 16],
    ),
    (
        "log-inclusion",
        &["plain verification loop on sha2, 1 thread"],
        &[1_000, 10_000],
    ),
    (
        "sm2",
        &[
            "openssl speed -multi CORES sm2 (OpenSSL 3, all cores)",
            "veribatch (cpu) from an empty cache",
        ],
        &[1_000],
    ),
    (
        "sm3-merkle",
        &["RustCrypto sm3, level by level, 1 thread"],
        &[1 << 10, 1 << 12, 1 << 14],
    ),
    ("sha256", &[], &[1 << 10, 1 << 12]),
    ("g1-sum", &[], &[256, 1024]),
    ("g2-sum", &[], &[256, 1024]),
    ("g1-msm", &[], &[256, 1024]),
    ("g2-msm", &[], &[256, 1024]),
];

fn string(v: &Value, field: &str) -> String {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string in {v}"))
        .to_string()
}

fn number(v: &Value, field: &str) -> f64 {
    let n = v[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field} is not a number in {v}"));
    assert!(n.is_finite() && n > 0.0, "{field} = {n}");
    n
}

/// The machine description: every field of the schema, with its type.
fn check_machine(m: &Value) {
    assert!(!string(m, "cpu").is_empty());
    assert!(m["cpu_features"].is_array());
    assert!(m["cores"].as_u64().unwrap() >= 1);
    assert!(m["memory_bytes"].is_u64() || m["memory_bytes"].is_null());
    assert!(!string(m, "os").is_empty());
    for a in m["wgpu_adapters"].as_array().unwrap() {
        for field in ["name", "backend", "device_type", "driver"] {
            string(a, field);
        }
    }
    assert!(
        !m["cuda"].as_array().unwrap().is_empty(),
        "says why there is no CUDA"
    );
    assert_eq!(string(m, "veribatch_version"), env!("CARGO_PKG_VERSION"));
    assert!(["debug", "release"].contains(&string(&m["build"], "profile").as_str()));
    assert!(m["build"]["target_features"].is_array());
}

fn check_point(p: &Value, is_anchor: bool) -> f64 {
    let items = p["items"].as_u64().unwrap() as f64;
    assert!(p["iterations"].as_u64().unwrap() >= 1);
    let seconds = number(p, "seconds");
    let rate = number(p, "items_per_second");
    let per_item = number(p, "seconds_per_item");
    assert!((rate * seconds / items - 1.0).abs() < 1e-9, "{p}");
    assert!((per_item * items / seconds - 1.0).abs() < 1e-9, "{p}");
    let ratio = number(p, "ratio_to_anchor");
    if is_anchor {
        assert!(
            (ratio - 1.0).abs() < 1e-12,
            "the anchor's own ratio is 1: {p}"
        );
    }
    ratio
}

#[test]
fn quick_bench_writes_a_complete_report_and_compare_reads_it() {
    let out = scratch("quick");
    let dir = out.to_str().unwrap();
    let run = veribatch(&[
        "bench",
        "--quick",
        "--backend",
        "cpu",
        "--seconds-per-point",
        "0",
        "--out",
        dir,
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["schema"], "veribatch-bench/1");
    assert_eq!(report["quick"], true);
    assert_eq!(report["interrupted"], false);
    let created = string(&report, "created");
    assert!(created.len() == 20 && created.ends_with('Z'), "{created}");
    check_machine(&report["machine"]);

    let workloads = report["workloads"].as_array().unwrap();
    let names: Vec<String> = workloads.iter().map(|w| string(w, "name")).collect();
    assert_eq!(names, QUICK.map(|q| q.0.to_string()));
    let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
    for (w, (name, others, sizes)) in workloads.iter().zip(QUICK) {
        for field in ["title", "size", "item"] {
            assert!(!string(w, field).is_empty());
        }
        let anchor = string(w, "anchor");
        let series = w["series"].as_array().unwrap();
        let series_names: Vec<String> = series.iter().map(|s| string(s, "name")).collect();
        // The primitives' anchor is the CPU backend itself, so veribatch (cpu) is not
        // measured twice; every other workload has its anchors and veribatch (cpu).
        let mut expected: Vec<String> = others.iter().map(|s| s.to_string()).collect();
        if others.is_empty() {
            expected.push(anchor.clone());
        } else {
            assert_eq!(anchor, others[0]);
            expected.push("veribatch (cpu)".into());
        }
        assert_eq!(series_names, expected, "{name}");
        for s in series {
            let is_anchor = string(s, "name") == anchor;
            let backend = &s["backend"];
            assert!(backend.is_null() || backend == "cpu", "{name}: {backend}");
            let points = s["points"].as_array().unwrap();
            let measured: Vec<u64> = points.iter().map(|p| p["size"].as_u64().unwrap()).collect();
            assert_eq!(measured, sizes, "{name}");
            for p in points {
                check_point(p, is_anchor);
                // A workload run as its own process reports that process's peak memory
                // (read from /proc, so Linux only); no other does.
                let peak = &p["peak_resident_bytes"];
                if name == "bls-file" && !is_anchor && cfg!(target_os = "linux") {
                    assert!(peak.as_u64().unwrap() > 1 << 20, "{name}: {p}");
                } else {
                    assert!(peak.is_null(), "{name}: {p}");
                }
            }
        }
        assert!(
            markdown.contains(&format!("## {}", string(w, "title"))),
            "{name}"
        );
        let svg = std::fs::read_to_string(out.join(format!("{name}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains(&string(w, "title")),
            "{name}"
        );
        for s in &series_names {
            assert!(svg.contains(s.as_str()), "{name}: legend lacks {s}");
        }
    }
    // The report also went to stdout.
    assert!(text(&run.stdout).contains("| Cores |"));

    let json = out.join("report.json");
    let json = json.to_str().unwrap();
    let compared = veribatch(&["bench", "compare", json, json]);
    assert_eq!(
        compared.status.code(),
        Some(0),
        "{}",
        text(&compared.stderr)
    );
    let table = text(&compared.stdout);
    assert!(table.contains("| veribatch (cpu) | 16 |"), "{table}");
    assert!(
        table.contains("(1.00×)"),
        "a report against itself: {table}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// Ctrl-C during a point: the run stops at once, writes the report of what it measured
/// (marked interrupted) and exits 130.
#[test]
fn ctrl_c_stops_the_bench_and_keeps_the_report() {
    use std::io::{BufRead, BufReader};
    let out = scratch("interrupted");
    let mut child = Command::new(env!("CARGO_BIN_EXE_veribatch"))
        .args(["bench", "--backend", "cpu", "--workload", "merkle,sha256"])
        .args(["--seconds-per-point", "600", "--out", out.to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The first line comes once the Ctrl-C handler is in place.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("Ctrl-C stops") {
        line.clear();
        assert_ne!(stderr.read_line(&mut line).unwrap(), 0, "no start line");
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["workloads"][0]["name"], "merkle");
    assert!(
        report["workloads"].as_array().unwrap().len() == 1,
        "sha256 never started"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bench_rejects_bad_arguments_and_files_with_exit_2() {
    let out = veribatch(&["bench", "--quick", "--workload", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("nonsense"),
        "{}",
        text(&out.stderr)
    );

    let dir = scratch("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let not_a_report = dir.join("x.json");
    std::fs::write(&not_a_report, "{\"schema\": \"something else\"}").unwrap();
    let path = not_a_report.to_str().unwrap();
    let out = veribatch(&["bench", "compare", path, path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not a bench report"),
        "{}",
        text(&out.stderr)
    );
    let missing = dir.join("missing.json");
    let out = veribatch(&["bench", "compare", path, missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
