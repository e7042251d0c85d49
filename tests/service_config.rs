//! How `veribatch serve` is configured and secured: flags, environment, TOML file, TLS
//! and mutual TLS.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::server::{Server, closed_within, info};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use veribatch_client::Remote;
use veribatch_service::proto::{self, verifier_client::VerifierClient};

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("veribatch-svc-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn limits(server: &Server) -> proto::Limits {
    info(&mut server.client().await).await.limits.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_beat_the_environment_which_beats_the_file() {
    let dir = scratch("config");
    let file = dir.join("veribatch.toml");
    std::fs::write(
        &file,
        "max_batch = 100\nmax_delay_ms = 7\nqueue_limit = 5000\nmax_items_per_request = 2\nbackend = \"cpu\"\n",
    )
    .unwrap();
    let server = Server::start_with_env(
        &["--config", file.to_str().unwrap(), "--queue-limit", "6000"],
        &[
            ("VERIBATCH_MAX_BATCH", "300"),
            ("VERIBATCH_QUEUE_LIMIT", "7000"),
        ],
    );
    let l = limits(&server).await;
    assert_eq!(l.max_batch, 300, "environment over file");
    assert_eq!(l.queue_limit, 6000, "flag over environment");
    assert_eq!(l.max_delay_micros, 7000, "file over default");
    assert_eq!(l.max_items_per_request, 2);
    assert_eq!(l.max_message_bytes, 64 << 20, "default");
    assert_eq!(
        (l.max_keys_per_set, l.max_cost_per_request),
        (4096, 1 << 18),
        "defaults"
    );

    let mut client = server.client().await;
    let three = vec![proto::SignatureSet::default(); 3];
    let e = client
        .inner()
        .verify_signatures(proto::VerifySignaturesRequest {
            sets: three,
            dst: vec![],
            scheme: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(
        e.message(),
        "sets: 3 items exceed the limit of 2 per request"
    );
}

#[test]
fn bad_settings_stop_the_server_with_exit_2() {
    let dir = scratch("bad");
    let file = dir.join("bad.toml");
    std::fs::write(&file, "max_batchez = 1\n").unwrap();
    for args in [
        vec!["--config", file.to_str().unwrap()],
        vec!["--max-batch", "0"],
        vec!["--backend", "tpu"],
        vec!["--tls-cert", "/nonexistent.pem"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_veribatch"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
}

/// A certificate authority, a server certificate for 127.0.0.1 and a client
/// certificate, made with the openssl command.
fn certificates(dir: &Path) -> bool {
    let sh = |script: &str| {
        Command::new("sh")
            .args(["-c", script])
            .current_dir(dir)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !sh("command -v openssl") {
        eprintln!("SKIPPED: no openssl command to make test certificates (ci/test.sh installs it)");
        return false;
    }
    let script = r#"set -e
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=veribatch-test-ca 2>/dev/null
for name in server client; do
  openssl req -newkey rsa:2048 -nodes -keyout $name.key -out $name.csr -subj /CN=$name 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' > $name.ext
  openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $name.pem -days 2 -extfile $name.ext 2>/dev/null
done"#;
    assert!(sh(script), "openssl made the test certificates");
    true
}

/// The CLI's client, trusting the CA at `ca`, gets a right answer from `server` over TLS.
async fn serves_over_tls(server: &Server, ca: &Path) {
    let url = format!("https://{}", server.addr);
    let mut remote = Remote::connect(&url, Some(ca)).await.unwrap();
    let root = remote.merkle_root(vec![0; 64], None, None).await.unwrap();
    assert_eq!(root, veribatch_engine::merkle::zero_hash(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_mutual_tls() {
    let dir = scratch("tls");
    if !certificates(&dir) {
        return;
    }
    let path = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();

    // TLS: the CLI's client, trusting the CA.
    let server = Server::start(&[
        "--tls-cert",
        &path("server.pem"),
        "--tls-key",
        &path("server.key"),
    ]);
    serves_over_tls(&server, &dir.join("ca.pem")).await;
    drop(server);

    // Mutual TLS: a client without a certificate is turned away.
    let server = Server::start(&[
        "--tls-cert",
        &path("server.pem"),
        "--tls-key",
        &path("server.key"),
        "--tls-client-ca",
        &path("ca.pem"),
        // The client certificate's subject (CN=client) names the caller.
        "--register-keys-by",
        "client",
        // Calls are counted on TLS connections too: a stream open past it keeps its
        // connection (below).
        "--idle-timeout-ms",
        "1000",
    ]);
    let url = format!("https://{}", server.addr);
    let anonymous = Remote::connect(&url, Some(Path::new(&path("ca.pem")))).await;
    let refused = match anonymous {
        Err(_) => true,
        Ok(mut r) => r.merkle_root(vec![0; 64], None, None).await.is_err(),
    };
    assert!(refused, "a client without a certificate must be refused");
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read("ca.pem")))
        .identity(Identity::from_pem(read("client.pem"), read("client.key")));
    let channel = Endpoint::from_shared(url)
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = VerifierClient::new(channel);
    let info = client
        .get_info(proto::GetInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    let registered = client
        .register_verifying_key(proto::RegisterVerifyingKeyRequest {
            verifying_key: veribatch_testkit::GROTH16_KEY.to_vec(),
            format: 0,
        })
        .await;
    assert!(
        registered.is_ok(),
        "the caller named by its certificate may register: {registered:?}"
    );
    let (requests, receiver) = tokio::sync::mpsc::channel(1);
    let mut answers = client
        .verify_stream(tokio_stream::wrappers::ReceiverStream::new(receiver))
        .await
        .unwrap()
        .into_inner();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    requests
        .send(proto::VerifyStreamRequest {
            id: 3,
            request: Some(proto::verify_stream_request::Request::MerkleRoot(
                proto::MerkleRootRequest {
                    chunks: vec![0; 64],
                    ..Default::default()
                },
            )),
        })
        .await
        .unwrap();
    let answer = answers.message().await;
    assert!(
        matches!(&answer, Ok(Some(a)) if a.id == 3),
        "a stream open past the idle timeout over TLS was cut: {answer:?}"
    );
    drop(requests);

    // The CLI presents a client certificate with --remote-cert/--remote-key.
    let chunks = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/chunks.bin");
    let root = |extra: &[String]| {
        Command::new(env!("CARGO_BIN_EXE_veribatch"))
            .args(["merkle", "root"])
            .args(extra)
            .arg(chunks)
            .output()
            .unwrap()
    };
    let local = root(&[]);
    let remote = root(&[
        "--remote".into(),
        format!("https://{}", server.addr),
        "--remote-ca".into(),
        path("ca.pem"),
        "--remote-cert".into(),
        path("client.pem"),
        "--remote-key".into(),
        path("client.key"),
    ]);
    assert_eq!(
        remote.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&remote.stderr)
    );
    assert_eq!(remote.stdout, local.stdout);
}

/// A client that opens a TLS connection and never finishes the handshake is cut off
/// after `--tls-handshake-timeout-ms` (the idle timeout, five minutes, is not what
/// closes it), and the server goes on serving others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_tls_handshake_is_cut_off() {
    use std::io::Write;
    let dir = scratch("handshake");
    if !certificates(&dir) {
        return;
    }
    let path = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let server = Server::start(&[
        "--tls-cert",
        &path("server.pem"),
        "--tls-key",
        &path("server.key"),
        "--tls-handshake-timeout-ms",
        "1000",
    ]);
    let mut stalled = std::net::TcpStream::connect(server.addr).unwrap();
    // The first bytes of a TLS record (a handshake record of 512 bytes), then nothing.
    stalled.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).unwrap();
    assert!(
        closed_within(&mut stalled, std::time::Duration::from_secs(60)),
        "a stalled handshake was left open"
    );
    serves_over_tls(&server, &dir.join("ca.pem")).await;
}
