//! A real `veribatch serve` process on loopback, for end-to-end tests.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use veribatch_client::Remote;
use veribatch_service::proto;

/// GetInfo through `client`.
pub async fn info(client: &mut Remote) -> proto::GetInfoResponse {
    client
        .inner()
        .get_info(proto::GetInfoRequest {})
        .await
        .expect("GetInfo answers")
        .into_inner()
}

/// A multi-proof as VerifyMerkleProofs carries it.
pub fn proto_proof(proof: &veribatch_engine::merkle::MultiProof) -> proto::MerkleProof {
    proto::MerkleProof {
        root: proof.root.to_vec(),
        gindices: proof.leaves.iter().map(|l| l.0).collect(),
        leaves: proof.leaves.iter().map(|l| l.1.to_vec()).collect(),
        proof: proof.helpers.iter().map(|h| h.1.to_vec()).collect(),
    }
}

/// The counters of operation `op` in a GetInfo answer.
pub fn stats(info: &proto::GetInfoResponse, op: &str) -> proto::OperationStats {
    info.operations
        .iter()
        .find(|o| o.operation == op)
        .cloned()
        .unwrap()
}

/// The health service's status for `service` on `server`.
pub async fn serving_status(server: &Server, service: &str) -> i32 {
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let channel = tonic::transport::Endpoint::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status
}

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub metrics: Option<SocketAddr>,
}

impl Server {
    /// Starts `veribatch serve --listen 127.0.0.1:0 ARGS…` and waits until it listens.
    pub fn start(args: &[&str]) -> Self {
        Self::start_with_env(args, &[])
    }

    /// [`Server::start`] with extra environment variables.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_at("127.0.0.1:0", args, env)
    }

    /// [`Server::start_with_env`] listening on `listen` (to restart a replica on its
    /// address).
    pub fn start_at(listen: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_veribatch"))
            .args(["serve", "--listen", listen])
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut addr = None;
        let mut metrics = None;
        for line in lines.by_ref() {
            let line = line.expect("the server prints its addresses");
            if let Some(a) = line.strip_prefix("listening on ") {
                addr = Some(a.parse().unwrap());
                if !args.contains(&"--metrics-listen") {
                    break;
                }
            } else if let Some(m) = line.strip_prefix("metrics on http://") {
                metrics = Some(m.trim_end_matches("/metrics").parse().unwrap());
                break;
            }
        }
        // Keep reading stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            addr: addr.expect("the server printed its address"),
            metrics,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn client(&self) -> Remote {
        Remote::connect(&self.url(), None)
            .await
            .expect("the client connects")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM (the server drains: every accepted request is answered).
    pub fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
    }

    /// Waits for the process to exit; its exit code.
    pub fn wait(mut self) -> Option<i32> {
        self.child.wait().unwrap().code()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the server closes `socket` (EOF or reset) within `wait`, reading and dropping
/// whatever it sends first (its HTTP/2 settings).
pub fn closed_within(socket: &mut std::net::TcpStream, wait: std::time::Duration) -> bool {
    use std::io::Read;
    let until = std::time::Instant::now() + wait;
    let mut buffer = [0u8; 256];
    loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return false;
        }
        socket.set_read_timeout(Some(left)).unwrap();
        match socket.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
            }
        }
    }
}
