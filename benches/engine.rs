//! Developer microbenchmarks: each workload of docs/PERFORMANCE.md beside the anchor a
//! user would otherwise pick, on the same inputs, decoding and validation counted; and
//! each backend primitive on its own.
//!
//! `cargo bench --bench engine` runs everything; `cargo bench --bench engine -- bls`
//! one group. Figures and the machine they came from go in docs/PERFORMANCE.md.

#[path = "../tests/common/mod.rs"]
mod common;

#[path = "../src/commands/bench/anchors.rs"]
mod anchors;

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use veribatch_engine::backend::Thresholds;
use veribatch_engine::backend::wgpu::WgpuBackend;
use veribatch_engine::backend::{Backend, cpu::CpuBackend};
use veribatch_engine::bls::{Ciphersuite, ETH_DST, SignatureSet};
use veribatch_engine::merkle::TreeHash;
use veribatch_engine::{Engine, EngineConfig, ProofInput};
use veribatch_testkit::{self as testkit, Rng, Validators};

use common::groth16::{Fixture, compressed, fr_be};

fn cold_engine() -> Engine {
    Engine::new(&EngineConfig {
        public_key_cache: 0,
        ..EngineConfig::default()
    })
}

/// `n` valid single-key sets over `messages` messages.
fn sets(engine: &Engine, validators: &Validators, n: usize, messages: usize) -> Vec<SignatureSet> {
    testkit::signature_sets(engine, validators, n, messages, 0, &mut Rng::new(n as u64))
        .into_iter()
        .map(|(s, _)| s)
        .collect()
}

fn bls(c: &mut Criterion) {
    let engine = Engine::new(&EngineConfig::default());
    let validators = Validators::new(&engine, 2048, &mut Rng::new(1));
    let mut group = c.benchmark_group("bls");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    for messages in [2048, 16] {
        let sets = sets(&engine, &validators, 2048, messages);
        let label = format!("2048 sets, {messages} messages");
        group.throughput(Throughput::Elements(sets.len() as u64));
        assert!(anchors::blst_batch(&sets));
        group.bench_function(BenchmarkId::new("blst anchor", &label), |b| {
            b.iter(|| assert!(anchors::blst_batch(&sets)))
        });
        let cold = cold_engine();
        group.bench_function(BenchmarkId::new("veribatch, cold key cache", &label), |b| {
            b.iter(|| cold.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM))
        });
        group.bench_function(BenchmarkId::new("veribatch, warm key cache", &label), |b| {
            b.iter(|| engine.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM))
        });
    }
    group.finish();
}

/// One committee's aggregate signature, keys decoded from bytes each time on both sides.
fn fast_aggregate(c: &mut Criterion) {
    let engine = cold_engine();
    let mut rng = Rng::new(6);
    let validators = Validators::new(&engine, 512, &mut rng);
    let (keys, message, signature) = testkit::committee(&engine, &validators, 512, &mut rng);
    let anchor = || {
        let decoded = anchors::blst_keys(&keys).unwrap();
        anchors::blst_fast_aggregate(&decoded, &message, &signature)
    };
    assert!(anchor());
    let mut group = c.benchmark_group("fast_aggregate");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("blst anchor, committee of 512", |b| {
        b.iter(|| assert!(anchor()))
    });
    group.bench_function("veribatch, committee of 512", |b| {
        b.iter(|| {
            let v =
                engine.fast_aggregate_verify(&keys, &message, &signature, &Ciphersuite::ETHEREUM);
            assert_eq!(v, Ok(true));
        })
    });
    group.finish();
}

fn merkle(c: &mut Criterion) {
    let engine = Engine::new(&EngineConfig::default());
    let mut group = c.benchmark_group("merkle");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for log in [16u32, 22] {
        let chunks = testkit::chunks(1 << log, &mut Rng::new(2));
        let label = format!("2^{log} chunks");
        group.throughput(Throughput::Elements(1 << log));
        let root = engine.merkle_root(&chunks, None, None).unwrap();
        assert_eq!(root, anchors::hashtree_root(&chunks));
        assert_eq!(root, anchors::sha2_root(&chunks));
        assert_eq!(root, anchors::hashtree_root_all_cores(&chunks));
        group.bench_function(BenchmarkId::new("hashtree anchor, 1 thread", &label), |b| {
            b.iter(|| anchors::hashtree_root(&chunks))
        });
        group.bench_function(
            BenchmarkId::new("hashtree, each level on all cores", &label),
            |b| b.iter(|| anchors::hashtree_root_all_cores(&chunks)),
        );
        group.bench_function(BenchmarkId::new("sha2, 1 thread", &label), |b| {
            b.iter(|| anchors::sha2_root(&chunks))
        });
        group.bench_function(BenchmarkId::new("veribatch", &label), |b| {
            b.iter(|| engine.merkle_root(&chunks, None, None).unwrap())
        });
    }
    group.finish();
}

fn groth16(c: &mut Criterion) {
    let mut fx = Fixture::new(3);
    let engine = Engine::new(&EngineConfig::default());
    let key = engine
        .register_groth16_key(&compressed(&fx.vk), None)
        .unwrap();
    let ark = anchors::ArkGroth16::new(&compressed(&fx.vk)).unwrap();
    let n = 256u64;
    let inputs: Vec<ProofInput> = (0..n)
        .map(|i| {
            let (p, x) = fx.prove(i + 2, 2 * i + 1);
            ProofInput {
                proof: compressed(&p),
                public_inputs: x.iter().map(fr_be).collect(),
            }
        })
        .collect();
    // The anchor decodes (with validation) and verifies each proof with arkworks.
    let ark_one = |input: &ProofInput| ark.verify(&input.proof, &input.public_inputs);
    assert!(inputs.iter().all(ark_one));
    let mut group = c.benchmark_group("groth16");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(n));
    let label = format!("{n} proofs");
    group.bench_function(
        BenchmarkId::new("ark-groth16 anchor, 1 thread", &label),
        |b| b.iter(|| assert!(inputs.iter().all(ark_one))),
    );
    group.bench_function(BenchmarkId::new("ark-groth16, all cores", &label), |b| {
        b.iter(|| assert!(inputs.par_iter().all(ark_one)))
    });
    group.bench_function(BenchmarkId::new("veribatch", &label), |b| {
        b.iter(|| {
            let v = engine.verify_groth16(&key, &inputs);
            assert!(v.iter().all(|v| *v == Ok(true)));
        })
    });
    group.finish();
}

/// Each primitive of each backend present.
fn primitives(c: &mut Criterion) {
    let cpu = CpuBackend::new();
    let mut rng = Rng::new(4);
    let g1 = testkit::g1_points(4096, &mut rng);
    let g2 = testkit::g2_points(4096, &mut rng);
    let s64 = testkit::scalars_u64(4096, &mut rng);
    let s255 = testkit::scalars_fr(4096, &mut rng);
    let blocks = rng.bytes(64 << 16);
    let mut digests = vec![0u8; 32 << 16];

    // The CPU, and the wgpu backend with every primitive forced onto its adapter when
    // there is one (on a GPU machine this measures the GPU; on lavapipe, nothing useful).
    let mut backends: Vec<Box<dyn Backend>> = vec![Box::new(cpu)];
    match WgpuBackend::open(false, Thresholds::ALWAYS, Default::default()) {
        Ok(gpu) => {
            eprintln!(
                "wgpu adapter: {} ({})",
                gpu.adapter().name,
                gpu.adapter().device_type
            );
            backends.push(Box::new(gpu));
        }
        Err(error) => eprintln!("wgpu primitives not measured: {error}"),
    }
    for backend in &backends {
        let mut group = c.benchmark_group(format!("primitives/{}", backend.name()));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(4));
        group.throughput(Throughput::Elements(1 << 16));
        group.bench_function("sha256 2^16 blocks", |b| {
            b.iter(|| backend.hash_blocks(&blocks, &mut digests))
        });
        group.bench_function("merkle root 2^16 chunks", |b| {
            b.iter(|| backend.merkle_root(&blocks[..32 << 16], 16))
        });
        group.throughput(Throughput::Elements(4096));
        group.bench_function("g1 sum 4096", |b| b.iter(|| backend.g1_sum(&g1)));
        group.bench_function("g2 sum 4096", |b| b.iter(|| backend.g2_sum(&g2)));
        group.bench_function("g1 msm 4096 x 64-bit", |b| {
            b.iter(|| backend.g1_msm(&g1, &s64))
        });
        group.bench_function("g1 msm 4096 x 255-bit", |b| {
            b.iter(|| backend.g1_msm(&g1, &s255))
        });
        group.bench_function("g2 msm 4096 x 64-bit", |b| {
            b.iter(|| backend.g2_msm(&g2, &s64))
        });
        group.bench_function("g1 scale 4096 x 64-bit", |b| {
            b.iter(|| backend.g1_scale(&g1, &s64))
        });
        if backend.name() == "cpu" {
            // Only the CPU has these.
            let messages: Vec<Vec<u8>> = (0..4096)
                .map(|i| format!("message {i}").into_bytes())
                .collect();
            let msgs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
            group.bench_function("hash to g2 4096", |b| {
                b.iter(|| backend.hash_to_g2(&msgs, ETH_DST))
            });
            group.bench_function("miller loop 4096 pairs", |b| {
                b.iter(|| backend.multi_miller_loop(&g1, &g2))
            });
        }
        group.finish();
    }
}

/// RFC 9162: the tree head of 2^20 leaves, and 10,000 inclusion proofs in a tree of 2^30
/// leaves, beside the same work written plainly on sha2 on one thread.
fn transparency_log(c: &mut Criterion) {
    use veribatch_engine::transparency_log::{self as log, LogProof};
    let cpu = CpuBackend::new();
    let mut group = c.benchmark_group("transparency_log");
    group.sample_size(10);
    let leaves: Vec<[u8; 32]> = Rng::new(3)
        .bytes(32 << 20)
        .chunks(32)
        .map(|c| c.try_into().unwrap())
        .collect();
    assert_eq!(
        log::tree_head_of(&cpu, TreeHash::Sha256, &leaves),
        anchors::plain_log_head(&leaves)
    );
    group.throughput(Throughput::Elements(leaves.len() as u64));
    group.bench_function("tree head of 2^20 leaves, plain sha2 1 thread", |b| {
        b.iter(|| anchors::plain_log_head(&leaves))
    });
    group.bench_function("tree head of 2^20 leaves, veribatch", |b| {
        b.iter(|| log::tree_head_of(&cpu, TreeHash::Sha256, &leaves))
    });
    let proofs = testkit::log_inclusion_proofs(10_000, 30, &mut Rng::new(4));
    let plain = |p: &LogProof| match p {
        LogProof::Inclusion(p) => anchors::plain_log_inclusion(p),
        LogProof::Consistency(_) => false,
    };
    assert!(proofs.iter().all(plain));
    group.throughput(Throughput::Elements(proofs.len() as u64));
    group.bench_function(
        "10,000 inclusion proofs of 2^30, plain sha2 1 thread",
        |b| b.iter(|| assert!(proofs.iter().all(plain))),
    );
    group.bench_function("10,000 inclusion proofs of 2^30, veribatch", |b| {
        b.iter(|| assert!(log::verify_all(&proofs).into_iter().all(|v| v)))
    });
    group.finish();
}

criterion_group!(
    benches,
    bls,
    fast_aggregate,
    merkle,
    groth16,
    primitives,
    transparency_log
);
criterion_main!(benches);
