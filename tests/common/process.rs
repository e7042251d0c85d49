//! The `veribatch` binary as a process: run it, read what it printed, find the examples,
//! and a scratch folder per test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `veribatch ARGS…` with an empty stdin.
pub fn veribatch(args: &[&str]) -> Output {
    veribatch_with_stdin(args, b"")
}

/// Runs `veribatch ARGS…` with `stdin` on its standard input.
pub fn veribatch_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_veribatch"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // A child that exits without reading (bad flags) closes the pipe: not an error here.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// The path of `examples/NAME`.
pub fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// A fresh scratch folder for one test.
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("veribatch-test-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether `out`, a `veribatch kernels compile --target cuda` run, found no NVRTC: then
/// it exited 2 saying so, which fails the test where NVRTC is required
/// (VERIBATCH_REQUIRE_NVRTC, set under CI) and is a skip elsewhere.
pub fn skipped_without_nvrtc(out: &Output) -> bool {
    if out.status.code() != Some(2) {
        return false;
    }
    assert!(stderr(out).contains("NVRTC not found"), "{}", stderr(out));
    assert!(
        std::env::var_os("VERIBATCH_REQUIRE_NVRTC").is_none(),
        "NVRTC required: {}",
        stderr(out)
    );
    eprintln!("SKIPPED: no NVRTC on the library path");
    true
}
