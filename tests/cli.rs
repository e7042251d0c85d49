//! The `veribatch` binary driven as a process on real files: output, exit codes, errors.

mod common;

use std::process::{Command, Stdio};

use common::process::{example, scratch, skipped_without_nvrtc, stderr, stdout, veribatch};

use serde_json::Value;

/// `veribatch ARGS` started with its stdin, stdout and stderr piped.
fn piped(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_veribatch"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn verdict_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn verify_bls_reports_every_set_in_order() {
    let out = veribatch(&["verify", "bls", &example("attestations.ndjson")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = verdict_lines(&stdout(&out));
    assert_eq!(lines.len(), 8);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["index"], i);
        let expect_valid = i != 4 && i != 7;
        assert_eq!(line["valid"], expect_valid, "set {i}");
    }
    assert_eq!(lines[4]["error"], "signature: not a point on the curve");
    assert!(
        lines[7]["error"].is_null(),
        "a wrong key is invalid, not malformed"
    );
    assert!(
        stderr(&out).contains("8 sets: 6 valid, 1 invalid, 1 malformed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn verify_bls_exits_0_when_all_are_valid_and_reads_arrays_and_stdin() {
    let out = veribatch(&["verify", "bls", &example("valid.ndjson")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let dir = scratch("array");
    let records: Vec<Value> = std::fs::read_to_string(example("valid.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let array = dir.join("sets.json");
    std::fs::write(&array, serde_json::to_string_pretty(&records).unwrap()).unwrap();
    let out_file = dir.join("verdicts.ndjson");
    let out = veribatch(&[
        "verify",
        "bls",
        "--backend",
        "cpu",
        "--output",
        out_file.to_str().unwrap(),
        array.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "verdicts went to the file");
    let lines = verdict_lines(&std::fs::read_to_string(&out_file).unwrap());
    assert_eq!(lines.len(), records.len());

    let mut child = piped(&["verify", "bls", "-"]);
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(example("valid.ndjson")).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(verdict_lines(&stdout(&out)).len(), records.len());
}

#[test]
fn malformed_records_are_verdicts_not_aborts() {
    let dir = scratch("malformed");
    let valid = std::fs::read_to_string(example("valid.ndjson")).unwrap();
    let first = valid.lines().next().unwrap();
    let file = dir.join("mixed.ndjson");
    let mut singular: Value = serde_json::from_str(first).unwrap();
    let message = singular["messages"][0].clone();
    singular.as_object_mut().unwrap().remove("messages");
    singular["message"] = message;
    let singular = singular.to_string();
    let text = [
        first,
        "{not json",
        r#"{"signature":"0xzz","pubkeys":[],"messages":[]}"#,
        r#"{"signature":"0x00","pubkeys":["0x00"]}"#,
        "[1,2]",
        &singular,
        first,
    ]
    .join("\n");
    std::fs::write(&file, text).unwrap();
    let out = veribatch(&["verify", "bls", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let lines = verdict_lines(&stdout(&out));
    assert_eq!(lines.len(), 7);
    let errors: Vec<&str> = lines
        .iter()
        .map(|l| l["error"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(lines[0]["valid"], true);
    assert!(errors[1].starts_with("not valid JSON"), "{}", errors[1]);
    assert!(errors[2].starts_with("signature: bad hex"), "{}", errors[2]);
    assert_eq!(errors[3], "missing field \"messages\"");
    assert_eq!(errors[4], "expected a JSON object");
    assert_eq!(
        lines[5]["valid"], true,
        "\"message\" is accepted for one message"
    );
    assert_eq!(lines[6]["valid"], true);
}

#[test]
fn a_line_too_long_is_one_malformed_record() {
    let dir = scratch("longline");
    let valid = std::fs::read_to_string(example("valid.ndjson")).unwrap();
    let first = valid.lines().next().unwrap();
    let file = dir.join("long.ndjson");
    let long = format!("{{\"signature\":\"0x{}\"}}", "0".repeat(64 << 20));
    std::fs::write(&file, [first, &long, first].join("\n")).unwrap();
    let out = veribatch(&["verify", "bls", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = verdict_lines(&stdout(&out));
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["error"], "a line of more than 64 MiB");
    assert_eq!(
        (lines[0]["valid"].clone(), lines[2]["valid"].clone()),
        (true.into(), true.into())
    );
}

/// Ctrl-C while stdin is slow to fill a window: the command stops at once (exit 130),
/// not when the window fills or stdin closes.
#[test]
fn ctrl_c_stops_verify_bls_while_stdin_is_slow() {
    use std::io::Write;
    let mut child = piped(&["verify", "bls", "-"]);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"{}\n{}\n").unwrap();
    // Ctrl-C once the command catches SIGINT (bit 2 of the caught-signal mask).
    let caught = || {
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
        let mask = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .map(|m| u64::from_str_radix(m.trim(), 16).unwrap());
        mask.is_some_and(|m| m & 2 != 0)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !caught() {
        assert!(std::time::Instant::now() < deadline, "no SIGINT handler");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // stdin stays open: the command must not wait for it.
    let ended = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("still waiting for stdin after Ctrl-C");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(ended.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("interrupted after 0 sets"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn verify_bls_cannot_run_exits_2() {
    let out = veribatch(&["verify", "bls", "/nonexistent/sets.ndjson"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read /nonexistent/sets.ndjson"));
    let out = veribatch(&[
        "verify",
        "bls",
        "--backend",
        "tpu",
        &example("valid.ndjson"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown backend"), "{}", stderr(&out));
    let dir = scratch("badarray");
    let file = dir.join("broken.json");
    std::fs::write(&file, "[{\"signature\": ").unwrap();
    let out = veribatch(&["verify", "bls", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a valid JSON array"));
}

#[test]
fn verify_bls_with_another_dst() {
    // A tag that names no scheme needs one given.
    let out = veribatch(&[
        "verify",
        "bls",
        "--dst",
        "OTHER_DST",
        &example("valid.ndjson"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("names no scheme"), "{}", stderr(&out));
    // The Ethereum vectors were signed with the POP DST: another tag makes them invalid.
    let out = veribatch(&[
        "verify",
        "bls",
        "--dst",
        "OTHER_DST",
        "--scheme",
        "pop",
        &example("valid.ndjson"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        verdict_lines(&stdout(&out))
            .iter()
            .all(|l| l["valid"] == false)
    );
    let hex_pop = format!("0x{}", hex::encode(veribatch_engine::bls::ETH_DST));
    let out = veribatch(&["verify", "bls", "--dst", &hex_pop, &example("valid.ndjson")]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn merkle_root_matches_the_engine() {
    let chunks = std::fs::read(example("chunks.bin")).unwrap();
    let engine = common::engine();
    let cases: [(&[&str], Option<u64>, Option<u64>); 4] = [
        (&[], None, None),
        (&["--limit", "1000"], Some(1000), None),
        (&["--mix-in-length"], None, Some(100)),
        (&["--limit", "128", "--length", "7"], Some(128), Some(7)),
    ];
    for (flags, limit, mix) in cases {
        let mut args = vec!["merkle", "root"];
        args.extend_from_slice(flags);
        let file = example("chunks.bin");
        args.push(&file);
        let out = veribatch(&args);
        assert_eq!(out.status.code(), Some(0), "{flags:?}: {}", stderr(&out));
        let want = engine.merkle_root(&chunks, limit, mix).unwrap();
        assert_eq!(
            stdout(&out).trim(),
            format!("0x{}", hex::encode(want)),
            "{flags:?}"
        );
    }
}

#[test]
fn merkle_root_rejects_bad_input_with_exit_2() {
    let dir = scratch("merkle-bad");
    let odd = dir.join("odd.bin");
    std::fs::write(&odd, [0u8; 33]).unwrap();
    let out = veribatch(&["merkle", "root", odd.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("33 bytes is not a multiple of 32"));
    let out = veribatch(&["merkle", "root", "--limit", "10", &example("chunks.bin")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("100 chunks exceed the limit of 10"));
}

#[test]
fn merkle_prove_then_verify() {
    let dir = scratch("prove");
    let out = veribatch(&[
        "merkle",
        "prove",
        "--index",
        "3",
        "--index",
        "50,99",
        "--limit",
        "128",
        "--mix-in-length",
        &example("chunks.bin"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let proof_path = dir.join("proof.json");
    std::fs::write(&proof_path, stdout(&out)).unwrap();
    let proof: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(proof["leaves"].as_array().unwrap().len(), 3);
    assert_eq!(
        proof["leaves"][0]["gindex"],
        256 + 3,
        "depth 7, then the length mix-in"
    );

    let path = proof_path.to_str().unwrap();
    let root = proof["root"].as_str().unwrap();
    let shape = ["--limit", "128", "--mix-in-length"];
    let verify = |flags: &[&str], file: &str| {
        let mut args = vec!["merkle", "verify"];
        args.extend_from_slice(flags);
        args.push(file);
        veribatch(&args)
    };
    let ok = verify(&[&["--root", root][..], &shape].concat(), path);
    assert_eq!((ok.status.code(), stdout(&ok).trim()), (Some(0), "OK"));
    let ok = verify(&["--root", root, "--depth", "8"], path);
    assert_eq!((ok.status.code(), stdout(&ok).trim()), (Some(0), "OK"));

    // The root inside the file proves nothing unless the user says they trust it.
    let untrusted = verify(&shape, path);
    assert_eq!(untrusted.status.code(), Some(2));
    assert!(
        stderr(&untrusted).contains("--root"),
        "{}",
        stderr(&untrusted)
    );
    let trusted = verify(&[&["--trust-proof-root"][..], &shape].concat(), path);
    assert_eq!(trusted.status.code(), Some(0), "{}", stderr(&trusted));
    assert!(
        stdout(&trusted).contains("against the proof's own root"),
        "{}",
        stdout(&trusted)
    );
    // Claimed chunk indices are checked against the tree's shape, which must be given.
    let shapeless = verify(&["--root", root], path);
    assert_eq!(shapeless.status.code(), Some(2));
    assert!(stderr(&shapeless).contains("give the tree's shape"));
    let shallow = verify(&["--root", root, "--depth", "7"], path);
    assert_eq!(shallow.status.code(), Some(2));
    assert!(stderr(&shallow).contains("generalized index 259 is not a chunk of a tree of depth 7"));
    let beyond = verify(&["--root", root, "--limit", "90", "--mix-in-length"], path);
    assert_eq!(beyond.status.code(), Some(2));
    assert!(stderr(&beyond).contains("chunk index 99 is beyond the tree's 90 chunks"));

    let other_root = format!("0x{}", "11".repeat(32));
    let bad = verify(
        &[&["--root", other_root.as_str()][..], &shape].concat(),
        path,
    );
    assert_eq!(
        (bad.status.code(), stdout(&bad).trim()),
        (Some(1), "INVALID")
    );

    // A valid proof of the root itself cannot pass for a proof of leaf 3.
    let root_claim = serde_json::json!({
        "root": proof["root"],
        "leaves": [{"index": 3, "gindex": 1, "leaf": proof["root"]}],
        "proof": [],
    });
    let claim_path = dir.join("claim.json");
    std::fs::write(&claim_path, root_claim.to_string()).unwrap();
    let out = verify(
        &[&["--root", root][..], &shape].concat(),
        claim_path.to_str().unwrap(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("generalized index 1 is not a chunk of a tree of depth 8"),
        "{}",
        stderr(&out)
    );
    // Without the claimed index, a tree shape still makes every leaf a chunk of it.
    let unclaimed = serde_json::json!({
        "root": proof["root"],
        "leaves": [{"gindex": 1, "leaf": proof["root"]}],
        "proof": [],
    });
    std::fs::write(&claim_path, unclaimed.to_string()).unwrap();
    let out = verify(
        &["--root", root, "--depth", "8"],
        claim_path.to_str().unwrap(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a chunk of a tree of depth 8"));

    let mut tampered = proof.clone();
    tampered["proof"].as_array_mut().unwrap().pop();
    tampered["helper_gindices"] = serde_json::json!([]);
    let tampered_path = dir.join("short.json");
    std::fs::write(&tampered_path, tampered.to_string()).unwrap();
    let out = verify(
        &[&["--root", root][..], &shape].concat(),
        tampered_path.to_str().unwrap(),
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a proof of the wrong length is malformed"
    );
    assert!(stderr(&out).contains("needed for these leaves"));
}

#[test]
fn groth16_verify_snarkjs_files() {
    let vk = example("groth16/verification_key.json");
    let ok = veribatch(&[
        "groth16",
        "verify",
        &vk,
        &example("groth16/public_0.json"),
        &example("groth16/proof_0.json"),
    ]);
    assert_eq!(
        (ok.status.code(), stdout(&ok).trim()),
        (Some(0), "OK"),
        "{}",
        stderr(&ok)
    );
    let bad = veribatch(&[
        "groth16",
        "verify",
        &vk,
        &example("groth16/public_1.json"),
        &example("groth16/proof_0.json"),
    ]);
    assert_eq!(
        (bad.status.code(), stdout(&bad).trim()),
        (Some(1), "INVALID")
    );
    let no_key = veribatch(&[
        "groth16",
        "verify",
        "/nonexistent",
        &example("groth16/public_0.json"),
        &example("groth16/proof_0.json"),
    ]);
    assert_eq!(no_key.status.code(), Some(2));
    let wrong_key = veribatch(&[
        "groth16",
        "verify",
        &example("groth16/public_0.json"),
        &example("groth16/public_0.json"),
        &example("groth16/proof_0.json"),
    ]);
    assert_eq!(wrong_key.status.code(), Some(2));
    assert!(
        stderr(&wrong_key).contains("verifying_key"),
        "{}",
        stderr(&wrong_key)
    );
}

#[test]
fn groth16_verify_batch() {
    let vk = example("groth16/verification_key.json");
    let out = veribatch(&[
        "groth16",
        "verify-batch",
        "--vk",
        &vk,
        &example("groth16/batch.ndjson"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = verdict_lines(&stdout(&out));
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().all(|l| l["valid"] == true));

    let dir = scratch("g16batch");
    let mut records: Vec<Value> = std::fs::read_to_string(example("groth16/batch.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    records[1]["public"] = records[2]["public"].clone();
    records[3]["public"][0] = Value::from(
        "52435875175126190479447740508185965837690552500527637822603658699938581184513",
    );
    let file = dir.join("batch.ndjson");
    let text: Vec<String> = records.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n")).unwrap();
    let out = veribatch(&[
        "groth16",
        "verify-batch",
        "--vk",
        &vk,
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let lines = verdict_lines(&stdout(&out));
    let valid: Vec<bool> = lines.iter().map(|l| l["valid"] == true).collect();
    assert_eq!(valid, [true, false, true, false]);
    assert!(lines[1]["error"].is_null());
    assert_eq!(
        lines[3]["error"],
        "public[0]: not canonical: must be below the scalar field modulus r"
    );
}

#[test]
fn info_lists_the_backends() {
    let out = veribatch(&["info"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("veribatch "), "{text}");
    assert!(
        text.contains("cpu     ") && text.contains(": blst (BLS12-381)"),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("  wgpu ")), "{text}");
    // Where CUDA cannot run (this machine, CI), info says why.
    match veribatch_engine::backend::cuda::availability() {
        Ok(_) => assert!(text.contains("cuda    selected"), "{text}"),
        Err(reason) => assert!(
            text.contains(&format!("cuda    unavailable: {reason}")),
            "{text}"
        ),
    }
}

/// `--backend cuda` where CUDA cannot run is a setup error (exit 2) naming the reason,
/// for every command that verifies; `auto` quietly runs without it.
#[test]
fn backend_cuda_without_a_driver_exits_2_with_the_reason() {
    let Err(reason) = veribatch_engine::backend::cuda::availability() else {
        eprintln!("SKIPPED: CUDA can run here");
        return;
    };
    let root = [
        "merkle",
        "root",
        "--backend",
        "cuda",
        &example("chunks.bin"),
    ];
    let verify = [
        "verify",
        "bls",
        "--backend",
        "cuda",
        &example("attestations.ndjson"),
    ];
    for args in [&root[..], &verify[..]] {
        let out = veribatch(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("--backend cuda: {reason}")),
            "{}",
            stderr(&out)
        );
    }
    let auto = veribatch(&[
        "merkle",
        "root",
        "--backend",
        "auto",
        &example("chunks.bin"),
    ]);
    assert_eq!(auto.status.code(), Some(0), "{}", stderr(&auto));
}

/// Where NVRTC is installed (ci/test.sh installs the pip wheel), every CUDA kernel
/// compiles for sm_80 and sm_90 and is listed with its PTX size.
#[test]
fn kernels_compile_for_cuda_lists_every_kernel_or_says_nvrtc_is_missing() {
    let out = veribatch(&[
        "kernels",
        "compile",
        "--target",
        "cuda",
        "--arch",
        "sm_80,sm_90",
    ]);
    if skipped_without_nvrtc(&out) {
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for arch in ["sm_80", "sm_90"] {
        assert!(
            text.contains(&format!("ok     {arch}: 15 kernels")),
            "{text}"
        );
    }
    for kernel in [
        "sha256_blocks",
        "sm3_merkle_level",
        "log_leaves",
        "g2_bucket_sum",
        "g1_window_segment",
        "g1_scale",
    ] {
        assert_eq!(text.matches(kernel).count(), 2, "{kernel} in {text}");
    }
    let bad = veribatch(&[
        "kernels",
        "compile",
        "--target",
        "cuda",
        "--arch",
        "compute_80",
    ]);
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("not a GPU architecture"));
}

#[test]
fn kernels_compile_lists_every_wgsl_module() {
    let out = veribatch(&["kernels", "compile", "--target", "wgsl"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for module in ["sha256", "fields", "g1", "g2"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("ok") && l.contains(&format!(" {module} "))),
            "{module} missing from:\n{text}"
        );
    }
    assert!(
        text.contains("bucket_sum") && text.contains("merkle_level"),
        "{text}"
    );
    let bad = veribatch(&["kernels", "compile", "--target", "spirv"]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "an unknown target is a usage error"
    );
}

/// `info` lists every wgpu adapter with what it would run; `--backend wgpu` gives the
/// same Merkle root as the CPU.
#[test]
fn info_lists_adapters_and_the_wgpu_backend_agrees_with_the_cpu() {
    let out = veribatch(&["info", "--backend", "wgpu"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("wgpu adapters:"), "{text}");
    let has_adapter = !text.contains("wgpu adapters: none");
    if std::env::var("CI").as_deref() == Ok("true") {
        assert!(has_adapter, "CI=true and no wgpu adapter:\n{text}");
    }
    if !has_adapter {
        eprintln!("SKIPPED the wgpu half: no adapter");
        return;
    }
    assert!(
        text.contains("| backend vulkan |")
            || text.contains("| backend metal |")
            || text.contains("| backend dx12 |"),
        "{text}"
    );
    assert!(text.contains("runs: sha256"), "{text}");
    let chunks = example("chunks.bin");
    let cpu = veribatch(&["merkle", "root", "--backend", "cpu", &chunks]);
    let gpu = veribatch(&["merkle", "root", "--backend", "wgpu", &chunks]);
    assert_eq!(cpu.status.code(), Some(0), "{}", stderr(&cpu));
    assert_eq!(gpu.status.code(), Some(0), "{}", stderr(&gpu));
    assert_eq!(stdout(&cpu), stdout(&gpu));
    let leaves = common::vectors().join("rfc9162/leaves.txt");
    let leaves = leaves.to_str().unwrap();
    let cpu = veribatch(&["log", "root", "--backend", "cpu", leaves]);
    let gpu = veribatch(&["log", "root", "--backend", "wgpu", leaves]);
    assert_eq!(gpu.status.code(), Some(0), "{}", stderr(&gpu));
    assert_eq!(stdout(&cpu), stdout(&gpu));
    let bad = veribatch(&["info", "--gpu-threshold", "g9_msm=1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("unknown primitive"),
        "{}",
        stderr(&bad)
    );
}
