//! The Python example client (examples/python, stubs generated from the proto with
//! grpcio-tools) against a real server. Runs when a Python with grpcio-tools is present:
//! the interpreter in VERIBATCH_PYTHON (ci/test.sh sets one up), else python3.

mod common;

use std::process::Command;

use common::server::Server;

#[test]
fn the_python_example_client_passes_its_checks() {
    let python = std::env::var("VERIBATCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_grpc_tools = Command::new(&python)
        .args(["-c", "import grpc, grpc_tools"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_grpc_tools {
        eprintln!(
            "SKIPPED: {python} has no grpcio-tools (pip install -r examples/python/requirements.txt, \
             or run ci/test.sh, which sets one up)"
        );
        return;
    }
    let server = Server::start(&[]);
    let out = Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/python/client.py"
        ))
        .arg(server.addr.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "client.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
    assert!(!stdout.contains("[FAIL]"), "{stdout}");
}
