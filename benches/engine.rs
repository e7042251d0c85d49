//! Developer microbenchmarks: each workload of docs/PERFORMANCE.md beside the anchor a
//! user would otherwise pick, on the same inputs, decoding and validation counted; and
//! each backend primitive on its own.
//!
//! `cargo bench --bench engine` runs everything; `cargo bench --bench engine -- bls`
//! one group. Figures and the machine they came from go in docs/PERFORMANCE.md.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use ark_bls12_381::{Bls12_381, Fr};
use ark_groth16::Groth16;
use ark_serialize::CanonicalDeserialize;
use ark_snark::SNARK;
use blst::min_pk::{PublicKey, Signature};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use veribatch_engine::backend::wgpu::{Thresholds, WgpuBackend};
use veribatch_engine::backend::{Backend, Scalars, cpu::CpuBackend};
use veribatch_engine::bls::{ETH_DST, SignatureSet};
use veribatch_engine::{Engine, EngineConfig, ProofInput};

use common::TestRng;
use common::bls::{Validators, single_key_sets};
use common::groth16::{Fixture, compressed, fr_be};

fn cold_engine() -> Engine {
    Engine::new(&EngineConfig {
        public_key_cache: 0,
        ..EngineConfig::default()
    })
}

/// The anchor: blst's own batch verification with 64-bit random scalars, after decoding
/// and validating every key and signature on all cores.
fn blst_anchor(sets: &[SignatureSet]) -> bool {
    let decoded: Vec<(PublicKey, Signature)> = sets
        .par_iter()
        .map(|s| {
            (
                PublicKey::key_validate(&s.public_keys[0]).unwrap(),
                Signature::sig_validate(&s.signature, true).unwrap(),
            )
        })
        .collect();
    let mut rand_bytes = vec![0u8; 8 * sets.len()];
    getrandom::fill(&mut rand_bytes).unwrap();
    let rands: Vec<blst::blst_scalar> = rand_bytes
        .chunks(8)
        .map(|c| {
            let mut s = blst::blst_scalar::default();
            s.b[..8].copy_from_slice(c);
            s
        })
        .collect();
    let msgs: Vec<&[u8]> = sets.iter().map(|s| s.messages[0].as_slice()).collect();
    let pks: Vec<&PublicKey> = decoded.iter().map(|d| &d.0).collect();
    let sigs: Vec<&Signature> = decoded.iter().map(|d| &d.1).collect();
    Signature::verify_multiple_aggregate_signatures(
        &msgs, ETH_DST, &pks, false, &sigs, false, &rands, 64,
    ) == blst::BLST_ERROR::BLST_SUCCESS
}

fn bls(c: &mut Criterion) {
    let engine = Engine::new(&EngineConfig::default());
    let validators = Validators::new(2048, &mut TestRng::new(1));
    let mut group = c.benchmark_group("bls");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    for messages in [2048, 16] {
        let sets = single_key_sets(&engine, &validators, 2048, messages);
        let label = format!("2048 sets, {messages} messages");
        group.throughput(Throughput::Elements(sets.len() as u64));
        assert!(blst_anchor(&sets));
        group.bench_function(BenchmarkId::new("blst anchor", &label), |b| {
            b.iter(|| assert!(blst_anchor(&sets)))
        });
        let cold = cold_engine();
        group.bench_function(BenchmarkId::new("veribatch, cold key cache", &label), |b| {
            b.iter(|| cold.verify_signature_sets(&sets, ETH_DST).unwrap())
        });
        group.bench_function(BenchmarkId::new("veribatch, warm key cache", &label), |b| {
            b.iter(|| engine.verify_signature_sets(&sets, ETH_DST).unwrap())
        });
    }
    group.finish();
}

/// hashtree level by level on one thread: the anchor for Merkle roots.
fn hashtree_root(chunks: &[u8]) -> [u8; 32] {
    let mut level = chunks.to_vec();
    while level.len() > 32 {
        let mut next = vec![0u8; level.len() / 2];
        hashtree_rs::hash(&mut next, &level, level.len() / 64);
        level = next;
    }
    level.try_into().unwrap()
}

/// sha2 (SHA-NI when present) level by level on one thread.
fn sha2_root(chunks: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut level = chunks.to_vec();
    while level.len() > 32 {
        level = level
            .chunks(64)
            .flat_map(|pair| Sha256::digest(pair).to_vec())
            .collect();
    }
    level.try_into().unwrap()
}

fn merkle(c: &mut Criterion) {
    hashtree_rs::init();
    let engine = Engine::new(&EngineConfig::default());
    let mut group = c.benchmark_group("merkle");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for log in [16u32, 22] {
        let chunks = TestRng::new(2).bytes(32 << log);
        let label = format!("2^{log} chunks");
        group.throughput(Throughput::Elements(1 << log));
        let root = engine.merkle_root(&chunks, None, None).unwrap();
        assert_eq!(root, hashtree_root(&chunks));
        assert_eq!(root, sha2_root(&chunks));
        group.bench_function(BenchmarkId::new("hashtree anchor, 1 thread", &label), |b| {
            b.iter(|| hashtree_root(&chunks))
        });
        group.bench_function(BenchmarkId::new("sha2, 1 thread", &label), |b| {
            b.iter(|| sha2_root(&chunks))
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
    let pvk = Groth16::<Bls12_381>::process_vk(&fx.vk).unwrap();
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
    let ark_one = |input: &ProofInput| {
        let proof =
            ark_groth16::Proof::<Bls12_381>::deserialize_compressed(&input.proof[..]).unwrap();
        let x: Vec<Fr> = input
            .public_inputs
            .iter()
            .map(|b| <Fr as ark_ff::PrimeField>::from_be_bytes_mod_order(b))
            .collect();
        Groth16::<Bls12_381>::verify_with_processed_vk(&pvk, &x, &proof).unwrap()
    };
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
    let engine = Engine::new(&EngineConfig::default());
    let validators = Validators::new(4096, &mut TestRng::new(4));
    let sets = single_key_sets(&engine, &validators, 4096, 4096);
    let g1: Vec<blst::blst_p1_affine> = validators
        .public_keys
        .iter()
        .map(|pk| {
            *veribatch_engine::bls::PublicKey::from_bytes(pk)
                .unwrap()
                .point()
        })
        .collect();
    let g2: Vec<blst::blst_p2_affine> = sets
        .iter()
        .map(|s| {
            *veribatch_engine::bls::Signature::from_bytes(&s.signature)
                .unwrap()
                .point()
        })
        .collect();
    let mut rng = TestRng::new(5);
    let s64 = Scalars::from_u64s(&(0..4096).map(|_| rng.next_u64()).collect::<Vec<_>>());
    let s255 = Scalars::from_fr_le(
        &(0..4096)
            .map(|_| {
                let mut b: [u8; 32] = rng.bytes(32).try_into().unwrap();
                b[31] &= 0x3f;
                b
            })
            .collect::<Vec<_>>(),
    );
    let blocks = rng.bytes(64 << 16);
    let mut digests = vec![0u8; 32 << 16];

    // The CPU, and the wgpu backend with every primitive forced onto its adapter when
    // there is one (on a GPU machine this measures the GPU; on lavapipe, nothing useful).
    let mut backends: Vec<Box<dyn Backend>> = vec![Box::new(cpu)];
    match WgpuBackend::open(false, Thresholds::ALWAYS) {
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
            let msgs: Vec<&[u8]> = sets.iter().map(|s| s.messages[0].as_slice()).collect();
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

criterion_group!(benches, bls, merkle, groth16, primitives);
criterion_main!(benches);
