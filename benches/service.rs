//! The service against the in-process engine: 64 concurrent clients, each sending
//! 64-set VerifySignatures requests back to back over loopback (four each per
//! iteration, so the start and end of an iteration weigh little), beside the engine
//! verifying the same 4096 sets in one call; and the latency of a lone one-set request
//! under no load.
//!
//! `cargo bench --bench service`. Figures go in docs/PERFORMANCE.md.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use common::TestRng;
use common::bls::{Validators, single_key_sets};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use veribatch_client::Remote;
use veribatch_engine::bls::{Ciphersuite, SignatureSet};
use veribatch_engine::{Engine, EngineConfig};
use veribatch_service::{Bound, ServeConfig};

const CLIENTS: usize = 64;
const SETS_PER_REQUEST: usize = 64;
/// Requests each client sends, one after the other, per iteration.
const REQUESTS_PER_CLIENT: usize = 4;

/// Starts a server in this process on a free loopback port; its URL.
fn start_server(runtime: &tokio::runtime::Runtime) -> String {
    let bound = runtime
        .block_on(Bound::bind(ServeConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..ServeConfig::default()
        }))
        .unwrap();
    let url = format!("http://{}", bound.local_addr());
    runtime.spawn(bound.run(std::future::pending()));
    url
}

/// Every client sends its requests, each as soon as the previous one is answered;
/// returns when all are answered.
async fn round(clients: &[Remote], requests: &Arc<Vec<Vec<SignatureSet>>>) {
    let tasks: Vec<_> = clients
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, mut client)| {
            let requests = requests.clone();
            tokio::spawn(async move {
                for _ in 0..REQUESTS_PER_CLIENT {
                    let verdicts = client
                        .verify_signature_sets(&requests[i], &Ciphersuite::ETHEREUM)
                        .await
                        .unwrap();
                    assert!(verdicts.iter().all(|v| *v == Ok(true)));
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

fn service(c: &mut Criterion) {
    let engine = Engine::new(&EngineConfig::default());
    let validators = Validators::new(CLIENTS * SETS_PER_REQUEST, &mut TestRng::new(1));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = start_server(&runtime);
    let clients: Vec<Remote> = (0..CLIENTS)
        .map(|_| runtime.block_on(Remote::connect(&url, None)).unwrap())
        .collect();

    let mut group = c.benchmark_group("service");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for messages in [16, CLIENTS * SETS_PER_REQUEST] {
        let sets = single_key_sets(&engine, &validators, CLIENTS * SETS_PER_REQUEST, messages);
        let requests: Arc<Vec<Vec<SignatureSet>>> =
            Arc::new(sets.chunks(SETS_PER_REQUEST).map(<[_]>::to_vec).collect());
        let label = format!("4096 sets, {messages} messages");
        group.throughput(Throughput::Elements(sets.len() as u64));
        group.bench_function(BenchmarkId::new("in-process engine", &label), |b| {
            b.iter(|| engine.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM))
        });
        group.throughput(Throughput::Elements(
            (sets.len() * REQUESTS_PER_CLIENT) as u64,
        ));
        group.bench_function(
            BenchmarkId::new("64 clients x 64 sets over gRPC", &label),
            |b| b.iter(|| runtime.block_on(round(&clients, &requests))),
        );
    }

    // Light load: one client, one set at a time.
    let one = single_key_sets(&engine, &validators, 1, 1);
    group.throughput(Throughput::Elements(1));
    group.bench_function("in-process engine, 1 set", |b| {
        b.iter(|| engine.verify_signature_sets(&one, &Ciphersuite::ETHEREUM))
    });
    let mut client = clients[0].clone();
    group.bench_function("1 client x 1 set over gRPC (light-load latency)", |b| {
        b.iter(|| {
            runtime
                .block_on(client.verify_signature_sets(&one, &Ciphersuite::ETHEREUM))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, service);
criterion_main!(benches);
