//! The workloads `veribatch bench` sweeps, each measured on veribatch's backends beside
//! its anchor, on the same inputs from `veribatch_testkit`.
//!
//! Every iteration starts from bytes, as a caller's request does: keys, signatures and
//! proofs are decoded and validated each time on both sides (veribatch's public-key
//! cache is off), so the ratios compare whole verifications.

use veribatch_engine::backend::{Backend, BackendChoice, Scalars};
use veribatch_engine::bls::{Ciphersuite, SignatureSet};
use veribatch_engine::curves::bls12_381::{G1Affine, G2Affine};
use veribatch_engine::merkle::TreeHash;
use veribatch_engine::transparency_log::{self, LogProof};
use veribatch_engine::{Engine, EngineConfig, ProofInput, groth16};
use veribatch_testkit::{self as testkit, Rng, Validators};

use rayon::prelude::*;

use super::Timer;
use super::anchors;
use super::report::Workload;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    /// BLS signature sets, each on its own message.
    BlsDistinct,
    /// BLS signature sets, 64 per message (as attestations share messages).
    BlsGrouped,
    /// FastAggregateVerify of one committee's aggregate signature.
    FastAggregate,
    /// `veribatch verify bls` of an NDJSON file of sets, as its own process.
    BlsFile,
    /// Merkle roots of 32-byte chunks.
    Merkle,
    /// Merkle roots of a file of 32-byte chunks, reading it included.
    MerkleFile,
    /// Groth16 proofs for one key.
    Groth16,
    /// Transparency-log (RFC 9162) tree heads of 32-byte leaves.
    LogHead,
    /// RFC 9162 inclusion proofs in a tree of 2^30 leaves.
    LogInclusion,
    /// SM2 signatures, 100 per key.
    Sm2,
    /// Merkle roots with SM3 nodes.
    Sm3Merkle,
    /// Primitive: SHA-256 of 64-byte blocks.
    Sha256,
    /// Primitive: sum of G1 points.
    G1Sum,
    /// Primitive: sum of G2 points.
    G2Sum,
    /// Primitive: G1 multi-scalar multiplication, 255-bit scalars.
    G1Msm,
    /// Primitive: G2 multi-scalar multiplication, 64-bit scalars.
    G2Msm,
}

impl WorkloadKind {
    pub const ALL: [Self; 16] = [
        Self::BlsDistinct,
        Self::BlsGrouped,
        Self::FastAggregate,
        Self::BlsFile,
        Self::Merkle,
        Self::MerkleFile,
        Self::Groth16,
        Self::LogHead,
        Self::LogInclusion,
        Self::Sm2,
        Self::Sm3Merkle,
        Self::Sha256,
        Self::G1Sum,
        Self::G2Sum,
        Self::G1Msm,
        Self::G2Msm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::BlsDistinct => "bls-distinct",
            Self::BlsGrouped => "bls-grouped",
            Self::FastAggregate => "fast-aggregate",
            Self::BlsFile => "bls-file",
            Self::Merkle => "merkle",
            Self::MerkleFile => "merkle-file",
            Self::Groth16 => "groth16",
            Self::LogHead => "log-head",
            Self::LogInclusion => "log-inclusion",
            Self::Sm2 => "sm2",
            Self::Sm3Merkle => "sm3-merkle",
            Self::Sha256 => "sha256",
            Self::G1Sum => "g1-sum",
            Self::G2Sum => "g2-sum",
            Self::G1Msm => "g1-msm",
            Self::G2Msm => "g2-msm",
        }
    }

    fn is_primitive(self) -> bool {
        matches!(
            self,
            Self::Sha256 | Self::G1Sum | Self::G2Sum | Self::G1Msm | Self::G2Msm
        )
    }

    /// An empty report of this workload: title, units and anchor.
    pub fn report(self) -> Workload {
        let (title, size, item, anchor) = match self {
            Self::BlsDistinct => (
                "BLS signature sets, distinct messages",
                "signature sets",
                "sets",
                "blst verify_multiple_aggregate_signatures",
            ),
            Self::BlsGrouped => (
                "BLS signature sets, 64 sets per message",
                "signature sets",
                "sets",
                "blst verify_multiple_aggregate_signatures",
            ),
            Self::FastAggregate => (
                "FastAggregateVerify by committee size",
                "committee size",
                "verifications",
                "blst fast_aggregate_verify",
            ),
            Self::BlsFile => (
                "`veribatch verify bls` of an NDJSON file, 16 messages, whole process",
                "signature sets",
                "sets",
                BLS_FILE_ANCHOR,
            ),
            Self::Merkle => (
                "Merkle roots",
                "chunks",
                "chunks",
                "hashtree, level by level, 1 thread",
            ),
            Self::MerkleFile => (
                "Merkle roots of a file, reading it included",
                "chunks",
                "chunks",
                "read whole, hashtree level by level, 1 thread",
            ),
            Self::Groth16 => (
                "Groth16 proofs, one key",
                "proofs",
                "proofs",
                "ark-groth16 verify_with_processed_vk, all cores",
            ),
            Self::LogHead => (
                "Transparency-log tree heads (RFC 9162), 32-byte leaves",
                "leaves",
                "leaves",
                "plain RFC 9162 tree head on sha2, 1 thread",
            ),
            Self::LogInclusion => (
                "RFC 9162 inclusion proofs, tree of 2^30 leaves",
                "proofs",
                "proofs",
                "plain verification loop on sha2, 1 thread",
            ),
            Self::Sm2 => (
                "SM2 signatures, 100 per key",
                "signatures",
                "signatures",
                OPENSSL_SM2,
            ),
            Self::Sm3Merkle => (
                "Merkle roots, SM3 nodes",
                "chunks",
                "chunks",
                "RustCrypto sm3, level by level, 1 thread",
            ),
            Self::Sha256 => (
                "Primitive: SHA-256 of 64-byte blocks",
                "blocks",
                "blocks",
                CPU,
            ),
            Self::G1Sum => ("Primitive: sum of G1 points", "points", "points", CPU),
            Self::G2Sum => ("Primitive: sum of G2 points", "points", "points", CPU),
            Self::G1Msm => (
                "Primitive: G1 MSM, 255-bit scalars",
                "points",
                "points",
                CPU,
            ),
            Self::G2Msm => ("Primitive: G2 MSM, 64-bit scalars", "points", "points", CPU),
        };
        Workload {
            name: self.name().to_string(),
            title: title.to_string(),
            size: size.to_string(),
            item: item.to_string(),
            anchor: anchor.to_string(),
            series: Vec::new(),
        }
    }

    /// The sweep: the full one, or the short one of `--quick`.
    pub fn sizes(self, quick: bool) -> Vec<usize> {
        let powers = |from: u32, to: u32| (from..=to).step_by(2).map(|k| 1usize << k).collect();
        match (self, quick) {
            (Self::BlsDistinct | Self::BlsGrouped, false) => vec![64, 256, 1024, 4096],
            (Self::BlsDistinct | Self::BlsGrouped, true) => vec![16, 64],
            (Self::FastAggregate, false) => vec![64, 128, 256, 512, 1024, 2048],
            (Self::FastAggregate, true) => vec![64, 256],
            (Self::BlsFile, false) => vec![2_048, 81_920, 819_200],
            (Self::BlsFile, true) => vec![2_048, 16_384],
            (Self::Merkle, false) => powers(10, 24),
            (Self::Merkle, true) => powers(10, 16),
            (Self::MerkleFile, false) => vec![1 << 22, 1 << 25],
            (Self::MerkleFile, true) => vec![1 << 16, 1 << 18],
            (Self::Groth16, false) => vec![1, 4, 16, 64, 256, 1024],
            (Self::Groth16, true) => vec![1, 4, 16, 64],
            (Self::LogHead, false) => powers(10, 24),
            (Self::LogHead, true) => powers(10, 16),
            (Self::LogInclusion, false) => vec![1_000, 10_000, 100_000],
            (Self::LogInclusion, true) => vec![1_000, 10_000],
            (Self::Sm2, false) => vec![1_000, 10_000, 100_000],
            (Self::Sm2, true) => vec![1_000],
            (Self::Sm3Merkle, false) => powers(10, 22),
            (Self::Sm3Merkle, true) => powers(10, 14),
            (Self::Sha256, false) => powers(10, 20),
            (Self::Sha256, true) => powers(10, 12),
            (_, false) => powers(8, 16),
            (_, true) => powers(8, 10),
        }
    }
}

/// The anchor of the primitives: the CPU backend (blst, hashtree with SHA-NI).
const CPU: &str = "cpu backend (blst, hashtree)";

/// What a user would write without veribatch: the file read whole, each line parsed,
/// blst's batch verification of 8,192 sets at a time, in one process already started.
const BLS_FILE_ANCHOR: &str =
    "file read whole and parsed, blst verify_multiple_aggregate_signatures per 8,192 sets";

/// The SM2 anchor: OpenSSL 3's own benchmark, one process per core.
const OPENSSL_SM2: &str = "openssl speed -multi CORES sm2 (OpenSSL 3, all cores)";

/// SM2 verifications per second of `openssl speed -mr -multi CORES -seconds 3 sm2`, all
/// cores together (its last `+F7` line: sign/s and verify/s of every process).
fn openssl_sm2_verifications_per_second() -> Result<f64, String> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let output = std::process::Command::new("openssl")
        .args([
            "speed",
            "-mr",
            "-multi",
            &cores.to_string(),
            "-seconds",
            "3",
            "sm2",
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run openssl (install OpenSSL 3): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .rfind(|l| l.starts_with("+F7:"))
        .and_then(|l| l.rsplit(':').next())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|rate| *rate > 0.0)
        .ok_or_else(|| format!("openssl speed printed no SM2 figure: {}", text.trim()))
}

/// The SM3 anchor: a plain tree on RustCrypto's sm3, one level after another, on one
/// thread (a power of two of chunks).
fn rustcrypto_sm3_root(chunks: &[u8]) -> [u8; 32] {
    use sm3::{Digest, Sm3};
    anchors::plain_root(chunks, |pair| Sm3::digest(pair).into())
}

/// Messages the sets of `bls-file` are spread over, as attestations of a few slots.
const BLS_FILE_MESSAGES: usize = 16;

/// What the workloads run on.
pub struct Subjects<'a> {
    /// veribatch, once per backend measured, with its backend's name.
    pub engines: &'a [(String, Engine)],
    /// The CPU backend, the primitives' anchor.
    pub cpu: &'a dyn Backend,
    pub validators: &'a Validators,
}

impl WorkloadKind {
    /// Measures every series of this workload at `size` into `report`.
    pub fn measure(
        self,
        size: usize,
        subjects: &Subjects,
        timer: &Timer,
        report: &mut Workload,
    ) -> Result<(), super::Stop> {
        let mut rng = Rng::new(size as u64 ^ 0x5eed);
        if self.is_primitive() {
            return self.measure_primitive(size, subjects, timer, report, &mut rng);
        }
        let anchor = report.anchor.clone();
        match self {
            Self::BlsDistinct | Self::BlsGrouped => {
                let messages = if self == Self::BlsDistinct {
                    u32::MAX as usize
                } else {
                    size.div_ceil(64)
                };
                let any = &subjects.engines[0].1;
                let sets: Vec<SignatureSet> =
                    testkit::signature_sets(any, subjects.validators, size, messages, 0, &mut rng)
                        .into_iter()
                        .map(|(s, _)| s)
                        .collect();
                timer.record(report, &anchor, None, size, size, || {
                    check(anchors::blst_batch(&sets), "blst rejected valid sets")
                })?;
                for (backend, engine) in subjects.engines {
                    timer.record(report, &series(backend), Some(backend), size, size, || {
                        all_valid(&engine.verify_signature_sets(&sets, &Ciphersuite::ETHEREUM))
                    })?;
                }
            }
            Self::FastAggregate => {
                let any = &subjects.engines[0].1;
                let (keys, message, signature) =
                    testkit::committee(any, subjects.validators, size, &mut rng);
                timer.record(report, &anchor, None, size, 1, || {
                    let decoded = anchors::blst_keys(&keys).ok_or("blst rejected a valid key")?;
                    check(
                        anchors::blst_fast_aggregate(&decoded, &message, &signature),
                        "blst rejected a valid aggregate",
                    )
                })?;
                for (backend, engine) in subjects.engines {
                    timer.record(report, &series(backend), Some(backend), size, 1, || {
                        all_valid(&[engine.fast_aggregate_verify(
                            &keys,
                            &message,
                            &signature,
                            &Ciphersuite::ETHEREUM,
                        )])
                    })?;
                }
            }
            Self::BlsFile => {
                let file = scratch_file("sets", size, "ndjson");
                let verdicts = scratch_file("verdicts", size, "ndjson");
                let measured = (|| {
                    let mut out = std::io::BufWriter::new(
                        std::fs::File::create(&file).map_err(|e| failed(&file, e))?,
                    );
                    testkit::write_signature_set_lines(&mut out, size, BLS_FILE_MESSAGES)
                        .and_then(|()| std::io::Write::flush(&mut out))
                        .map_err(|e| failed(&file, e))?;
                    drop(out);
                    timer.record(report, &anchor, None, size, size, || blst_file(&file, 8192))?;
                    for (backend, _) in subjects.engines {
                        let peak = std::cell::Cell::new(None);
                        let name = series(backend);
                        timer.record(report, &name, Some(backend), size, size, || {
                            let process = verify_bls_process(backend, &file, &verdicts, size)?;
                            peak.set(peak.get().max(process));
                            Ok(())
                        })?;
                        report
                            .series_mut(&name, Some(backend))
                            .points
                            .last_mut()
                            .expect("just recorded")
                            .peak_resident_bytes = peak.get();
                    }
                    Ok(())
                })();
                let _ = std::fs::remove_file(&file);
                let _ = std::fs::remove_file(&verdicts);
                measured?;
            }
            Self::Merkle => {
                let chunks = testkit::chunks(size, &mut rng);
                let root = anchors::hashtree_root(&chunks);
                timer.record(report, &anchor, None, size, size, || {
                    check(
                        anchors::hashtree_root(&chunks) == root,
                        "hashtree changed its mind",
                    )
                })?;
                timer.record(
                    report,
                    "sha2, level by level, 1 thread",
                    None,
                    size,
                    size,
                    || {
                        check(
                            anchors::sha2_root(&chunks) == root,
                            "sha2 and hashtree disagree",
                        )
                    },
                )?;
                for (backend, engine) in subjects.engines {
                    timer.record(report, &series(backend), Some(backend), size, size, || {
                        let ours = engine
                            .merkle_root(&chunks, None, None)
                            .map_err(|e| e.to_string())?;
                        check(ours == root, "a wrong Merkle root")
                    })?;
                }
            }
            Self::MerkleFile => {
                let file = scratch_file("chunks", size, "bin");
                let write =
                    |bytes: &[u8]| std::fs::write(&file, bytes).map_err(|e| failed(&file, e));
                let chunks = testkit::chunks(size, &mut rng);
                write(&chunks)?;
                let root = anchors::hashtree_root(&chunks);
                drop(chunks);
                let read = || std::fs::read(&file).map_err(|e| e.to_string());
                let measured = (|| {
                    timer.record(report, &anchor, None, size, size, || {
                        check(anchors::hashtree_root(&read()?) == root, "hashtree changed")
                    })?;
                    let all_cores = "read whole, hashtree with each level on all cores";
                    timer.record(report, all_cores, None, size, size, || {
                        check(
                            anchors::hashtree_root_all_cores(&read()?) == root,
                            "hashtree on all cores disagrees",
                        )
                    })?;
                    for (backend, engine) in subjects.engines {
                        timer.record(
                            report,
                            &series(backend),
                            Some(backend),
                            size,
                            size,
                            || {
                                let reader =
                                    std::fs::File::open(&file).map_err(|e| e.to_string())?;
                                let (ours, _) = engine
                                    .merkle_root_of_reader(
                                        veribatch_engine::merkle::TreeHash::Sha256,
                                        reader,
                                        None,
                                        |_| None,
                                    )
                                    .map_err(|e| e.to_string())?;
                                check(ours == root, "a wrong Merkle root")
                            },
                        )?;
                    }
                    Ok(())
                })();
                let _ = std::fs::remove_file(&file);
                measured?;
            }
            Self::Groth16 => {
                let engine = &subjects.engines[0].1;
                let key = engine
                    .register_groth16_key(testkit::GROTH16_KEY, None)
                    .map_err(|e| super::Stop::Failed(e.to_string()))?;
                let ark = anchors::ArkGroth16::new(&key.key().canonical_bytes())
                    .map_err(super::Stop::Failed)?;
                // Both sides read the 192-byte compressed proofs arkworks writes.
                let proofs: Vec<ProofInput> = testkit::groth16_proofs(size, 0, &mut rng)
                    .into_iter()
                    .map(|(p, _)| {
                        let proof = groth16::parse_proof(&p.proof).expect("fixture proofs parse");
                        ProofInput {
                            proof: proof.canonical_bytes().to_vec(),
                            public_inputs: p.public_inputs,
                        }
                    })
                    .collect();
                timer.record(report, &anchor, None, size, size, || {
                    let ok = proofs
                        .par_iter()
                        .all(|p| ark.verify(&p.proof, &p.public_inputs));
                    check(ok, "arkworks rejected a valid proof")
                })?;
                for (backend, engine) in subjects.engines {
                    let key = engine
                        .register_groth16_key(testkit::GROTH16_KEY, None)
                        .map_err(|e| super::Stop::Failed(e.to_string()))?;
                    timer.record(report, &series(backend), Some(backend), size, size, || {
                        all_valid(&engine.verify_groth16(&key, &proofs))
                    })?;
                }
            }
            Self::LogHead => {
                let leaves: Vec<[u8; 32]> = rng
                    .bytes(32 * size)
                    .chunks(32)
                    .map(|c| c.try_into().expect("32 bytes"))
                    .collect();
                let head = anchors::plain_log_head(&leaves);
                timer.record(report, &anchor, None, size, size, || {
                    check(
                        anchors::plain_log_head(&leaves) == head,
                        "the plain head changed",
                    )
                })?;
                for (backend, engine) in subjects.engines {
                    timer.record(report, &series(backend), Some(backend), size, size, || {
                        check(
                            engine.log_tree_head(TreeHash::Sha256, &leaves) == head,
                            "a wrong tree head",
                        )
                    })?;
                }
            }
            Self::LogInclusion => {
                let proofs = testkit::log_inclusion_proofs(size, 30, &mut rng);
                timer.record(report, &anchor, None, size, size, || {
                    check(
                        proofs.iter().all(|p| match p {
                            LogProof::Inclusion(p) => anchors::plain_log_inclusion(p),
                            LogProof::Consistency(_) => false,
                        }),
                        "the plain loop rejected a valid proof",
                    )
                })?;
                timer.record(report, &series("cpu"), Some("cpu"), size, size, || {
                    check(
                        transparency_log::verify_all(&proofs).into_iter().all(|v| v),
                        "a valid proof rejected",
                    )
                })?;
            }
            Self::Sm2 => {
                let items = testkit::sm2_signatures(size, size.div_ceil(100), &mut rng);
                let rate = openssl_sm2_verifications_per_second()
                    .map_err(|e| super::Stop::Failed(format!("sm2 anchor: {e}")))?;
                timer.record_rate(report, &anchor, size, rate);
                // From an empty cache each time: every key decoded, its Z and odd
                // multiples computed, its table built once it has earned one.
                let cold = format!("{} from an empty cache", series("cpu"));
                timer.record(report, &cold, Some("cpu"), size, size, || {
                    let engine = Engine::new(&EngineConfig {
                        backend: BackendChoice::Cpu,
                        ..EngineConfig::default()
                    });
                    all_valid(&engine.verify_sm2(&items))
                })?;
                for (backend, engine) in subjects.engines {
                    timer.record(report, &series(backend), Some(backend), size, size, || {
                        all_valid(&engine.verify_sm2(&items))
                    })?;
                }
            }
            Self::Sm3Merkle => {
                let chunks = testkit::chunks(size, &mut rng);
                let root = rustcrypto_sm3_root(&chunks);
                timer.record(report, &anchor, None, size, size, || {
                    check(rustcrypto_sm3_root(&chunks) == root, "sm3 changed its mind")
                })?;
                for (backend, engine) in subjects.engines {
                    timer.record(report, &series(backend), Some(backend), size, size, || {
                        let ours = engine
                            .merkle_root_with(TreeHash::Sm3, &chunks, None, None)
                            .map_err(|e| e.to_string())?;
                        check(ours == root, "a wrong SM3 Merkle root")
                    })?;
                }
            }
            _ => unreachable!("primitives are measured above"),
        }
        Ok(())
    }

    /// A primitive on the CPU backend (the anchor) and on every other backend measured,
    /// each result checked against the CPU's.
    fn measure_primitive(
        self,
        size: usize,
        subjects: &Subjects,
        timer: &Timer,
        report: &mut Workload,
        rng: &mut Rng,
    ) -> Result<(), super::Stop> {
        let mut backends: Vec<(&str, &dyn Backend)> = vec![(CPU, subjects.cpu)];
        for (name, engine) in subjects.engines {
            if engine.backend().name() != "cpu" {
                backends.push((name, engine.backend()));
            }
        }
        let primitive = Primitive::new(self, size, rng);
        let expected = primitive.run(subjects.cpu);
        for (name, backend) in backends {
            let label = if name == CPU {
                CPU.to_string()
            } else {
                series(name)
            };
            let tag = (name != CPU).then_some(name);
            timer.record(report, &label, tag, size, size, || {
                check(
                    primitive.run(backend) == expected,
                    "a result different from the CPU's",
                )
            })?;
        }
        Ok(())
    }
}

/// The inputs of one primitive measurement.
enum Primitive {
    Sha256(Vec<u8>),
    G1Sum(Vec<G1Affine>),
    G2Sum(Vec<G2Affine>),
    G1Msm(Vec<G1Affine>, Scalars),
    G2Msm(Vec<G2Affine>, Scalars),
}

impl Primitive {
    fn new(kind: WorkloadKind, size: usize, rng: &mut Rng) -> Self {
        match kind {
            WorkloadKind::Sha256 => Self::Sha256(rng.bytes(64 * size)),
            WorkloadKind::G1Sum => Self::G1Sum(testkit::g1_points(size, rng)),
            WorkloadKind::G2Sum => Self::G2Sum(testkit::g2_points(size, rng)),
            WorkloadKind::G1Msm => Self::G1Msm(
                testkit::g1_points(size, rng),
                testkit::scalars_fr(size, rng),
            ),
            WorkloadKind::G2Msm => Self::G2Msm(
                testkit::g2_points(size, rng),
                testkit::scalars_u64(size, rng),
            ),
            _ => unreachable!("not a primitive: {kind:?}"),
        }
    }

    /// The result as bytes, to compare backends.
    fn run(&self, backend: &dyn Backend) -> Vec<u8> {
        use veribatch_engine::curves::bls12_381::{compress_g1, compress_g2, p1_affine, p2_affine};
        match self {
            Self::Sha256(blocks) => {
                let mut digests = vec![0u8; blocks.len() / 2];
                backend.hash_blocks(blocks, &mut digests);
                digests
            }
            Self::G1Sum(points) => compress_g1(&p1_affine(&backend.g1_sum(points))).to_vec(),
            Self::G2Sum(points) => compress_g2(&p2_affine(&backend.g2_sum(points))).to_vec(),
            Self::G1Msm(points, scalars) => {
                compress_g1(&p1_affine(&backend.g1_msm(points, scalars))).to_vec()
            }
            Self::G2Msm(points, scalars) => {
                compress_g2(&p2_affine(&backend.g2_msm(points, scalars))).to_vec()
            }
        }
    }
}

/// The NDJSON signature sets of `file` as a user would verify them without veribatch:
/// the file read whole, every line parsed (serde_json, then hex), and [`anchors::blst_batch`] on
/// `per_batch` sets at a time. An error if a line does not parse or a batch fails.
fn blst_file(file: &std::path::Path, per_batch: usize) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let lines: Vec<&str> = text.lines().collect();
    for batch in lines.chunks(per_batch) {
        let sets: Vec<SignatureSet> = batch
            .par_iter()
            .map(|line| {
                let record: serde_json::Value =
                    serde_json::from_str(line).map_err(|e| e.to_string())?;
                SignatureSet::from_json(&record).map_err(|e| e.to_string())
            })
            .collect::<Result<_, String>>()?;
        if !anchors::blst_batch(&sets) {
            return Err("blst rejected valid sets".into());
        }
    }
    Ok(())
}

/// A file of this run in the temporary folder.
fn scratch_file(what: &str, size: usize, extension: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "veribatch-bench-{}-{what}-{size}.{extension}",
        std::process::id()
    ))
}

fn failed(path: &std::path::Path, e: std::io::Error) -> super::Stop {
    super::Stop::Failed(format!("{}: {e}", path.display()))
}

/// Runs `veribatch verify bls --backend BACKEND --output VERDICTS FILE` as its own
/// process, as a user would, and checks it found all `sets` valid; returns its peak
/// resident memory in bytes (VmHWM, sampled every 10 ms while it runs; `None` where
/// /proc has none). The child gets this process's environment but for the variables
/// that would send its work elsewhere or change its GPU routing from the bench's own.
fn verify_bls_process(
    backend: &str,
    file: &std::path::Path,
    verdicts: &std::path::Path,
    sets: usize,
) -> Result<Option<u64>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
    let stderr_path = scratch_file("stderr", sets, "txt");
    let stderr = std::fs::File::create(&stderr_path)
        .map_err(|e| format!("{}: {e}", stderr_path.display()))?;
    let mut child = std::process::Command::new(exe)
        .args(["verify", "bls", "--backend", backend, "--output"])
        .arg(verdicts)
        .arg(file)
        .env_remove("VERIBATCH_REMOTE")
        .env_remove("VERIBATCH_REMOTE_TOKEN_FILE")
        .env_remove("VERIBATCH_GPU_THRESHOLDS")
        .stdin(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot start veribatch verify bls: {e}"))?;
    let status_file = format!("/proc/{}/status", child.id());
    // The child is waited for on a thread, so that its end is seen at once (the
    // timing would otherwise carry the sampling's sleep), while this one samples.
    let (ended, end) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = ended.send(());
        status
    });
    let mut peak = None;
    loop {
        if let Some(kib) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| resident_peak_kib(&s))
        {
            peak = peak.max(Some(kib * 1024));
        }
        match end.recv_timeout(std::time::Duration::from_millis(10)) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            // Ended, or the waiter is gone (it panicked: join says so).
            Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let status = waiter
        .join()
        .map_err(|_| "the thread waiting for veribatch verify bls panicked".to_string())?
        .map_err(|e| format!("waiting for veribatch verify bls: {e}"))?;
    let said = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let _ = std::fs::remove_file(&stderr_path);
    if !status.success() {
        let lines: Vec<&str> = said.lines().collect();
        let tail = &lines[lines.len().saturating_sub(5)..];
        return Err(format!(
            "veribatch verify bls exited with {status} on valid sets: {}",
            tail.join(" / ")
        ));
    }
    let lines = std::fs::read(verdicts)
        .map_err(|e| format!("{}: {e}", verdicts.display()))?
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    check(lines == sets, "a verdict line missing")?;
    Ok(peak)
}

/// VmHWM of a /proc/PID/status text, in KiB.
fn resident_peak_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The series name of veribatch on a backend.
fn series(backend: &str) -> String {
    format!("veribatch ({backend})")
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what.to_string()) }
}

fn all_valid(verdicts: &[veribatch_engine::Verdict]) -> Result<(), String> {
    match verdicts.iter().position(|v| *v != Ok(true)) {
        None => Ok(()),
        Some(i) => Err(format!("item {i} of valid input got {:?}", verdicts[i])),
    }
}
