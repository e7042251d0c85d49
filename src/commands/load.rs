//! `veribatch load`: drives a running service with requests whose answers are known,
//! checks every verdict, and reports throughput, latency and errors.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde::Serialize;
use tonic::{Code, Status};
use veribatch_client::proto;
use veribatch_client::{Remote, Retries};
use veribatch_engine::sm2::Signed;
use veribatch_engine::{Engine, EngineConfig, Verdict};
use veribatch_testkit::{self as testkit, Expected, Rng, Validators};

use super::attack::{self, Attack, AttackReport};
use crate::output::{self, CommandResult, Outcome, outln};

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// The service, e.g. http://127.0.0.1:50051 (https:// with --target-ca); several
    /// replicas separated by commas, or dns:///name:port for every address of a name,
    /// balanced by the client.
    #[arg(long)]
    target: String,
    /// Attempts per request, the first included: UNAVAILABLE, a broken connection and
    /// RESOURCE_EXHAUSTED (after the server's retry delay) are sent again; 1: never.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    attempts: u32,
    /// The time each request may take, its retries included [default: none].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    deadline_ms: Option<u64>,
    /// Send a second copy of a request not answered after this many milliseconds and
    /// take the first answer (reported as `hedges`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    hedge_after_ms: Option<u64>,
    /// PEM certificate authority of an https:// target.
    #[arg(long)]
    target_ca: Option<PathBuf>,
    /// A file holding the bearer token of a target that identifies its callers.
    #[arg(long, env = "VERIBATCH_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// What to send.
    #[arg(long, value_enum, default_value = "bls")]
    workload: Workload,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Stop after this long (e.g. 30s, 500ms, 2m) [default: 10s unless --requests].
    #[arg(long, value_parser = parse_duration, conflicts_with = "requests")]
    duration: Option<Duration>,
    /// Stop after this many requests.
    #[arg(long)]
    requests: Option<u64>,
    /// Requests per second at most, over all workers [default: as fast as answered].
    #[arg(long)]
    rate: Option<f64>,
    /// Items (sets, proofs) per verification request.
    #[arg(long, default_value_t = 64)]
    items_per_request: usize,
    /// Percent of items made invalid or malformed on purpose.
    #[arg(long, default_value_t = 5)]
    bad_percent: u64,
    /// Seed of the generated workload.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Run again beside one hostile caller, and report the well-behaved clients'
    /// latency with and without it.
    #[arg(long, value_enum)]
    attack: Option<Attack>,
    /// The hostile caller's bearer token, to attack as another identity than the
    /// well-behaved clients [default: --token-file's].
    #[arg(long, requires = "attack")]
    attack_token_file: Option<PathBuf>,
    /// The server's process id (same machine): its memory is reported after an attack.
    #[arg(long, requires = "attack")]
    server_pid: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Workload {
    Bls,
    Merkle,
    Groth16,
    /// SM2 signatures (VerifySm2) by 64 accounts in turn.
    Sm2,
    Mixed,
}

/// "30s", "500ms", "2m", "1h".
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?}: give a unit (ms, s, m, h)"))?;
    let (amount, unit) = text.split_at(split);
    let amount: u64 = amount
        .parse()
        .map_err(|_| format!("{text:?}: expected a number then a unit, like 30s"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(amount)),
        "s" => Ok(Duration::from_secs(amount)),
        "m" => Ok(Duration::from_secs(amount * 60)),
        "h" => Ok(Duration::from_secs(amount * 3600)),
        _ => Err(format!("{text:?}: unknown unit {unit:?} (ms, s, m, h)")),
    }
}

/// One request with known answers.
enum Job {
    Signatures(proto::VerifySignaturesRequest, Vec<Expected>),
    Groth16(proto::VerifyGroth16Request, Vec<Expected>),
    Merkle(proto::MerkleRootRequest, [u8; 32]),
    Sm2(proto::VerifySm2Request, Vec<Expected>),
}

/// Accounts that sign an SM2 workload's transactions: the same accounts whatever the
/// seed, as a chain's accounts stay while their transactions change, so the server's
/// signer cache holds 64 signers (and their key tables), not 64 more each run.
const SM2_ACCOUNTS: usize = 64;

/// The seed of the SM2 accounts and their signatures.
const SM2_SEED: u64 = 0x5a2;

/// The SM2 requests of a pool: `requests` of `n` signatures by [`SM2_ACCOUNTS`] accounts,
/// about `bad_percent`% of them spoiled (as `rng` picks): a changed message (invalid) or
/// a cut signature (malformed).
fn sm2_requests(requests: usize, n: usize, bad_percent: u64, rng: &mut Rng) -> Vec<Job> {
    let items = testkit::sm2_signatures(requests * n, SM2_ACCOUNTS, &mut Rng::new(SM2_SEED));
    items
        .chunks(n)
        .map(|chunk| {
            let (signatures, expected) = chunk
                .iter()
                .cloned()
                .map(|mut item| {
                    if rng.below(100) >= bad_percent {
                        return (item, Expected::Valid);
                    }
                    if rng.below(2) == 0 {
                        if let Signed::Message(m) = &mut item.signed {
                            m.push(b'!');
                        }
                        (item, Expected::Invalid)
                    } else {
                        item.signature.truncate(10);
                        (item, Expected::Malformed)
                    }
                })
                .map(|(item, e)| (proto::Sm2Signature::from(item), e))
                .unzip();
            Job::Sm2(proto::VerifySm2Request { signatures }, expected)
        })
        .collect()
}

/// Requests cycled through during the run (a pool, so generating them costs nothing
/// while measuring).
const POOL: usize = 32;

fn make_jobs(args: &LoadArgs, key_id: Option<&[u8]>) -> Vec<Job> {
    let engine = Engine::new(&EngineConfig::default());
    let mut rng = Rng::new(args.seed);
    let validators = Validators::new(&engine, 256, &mut rng);
    let n = args.items_per_request.max(1);
    let kinds: Vec<Workload> = (0..POOL)
        .map(|i| match args.workload {
            Workload::Mixed => [
                Workload::Bls,
                Workload::Merkle,
                Workload::Groth16,
                Workload::Sm2,
            ][i % 4],
            w => w,
        })
        .collect();
    let sm2_slots = kinds.iter().filter(|k| **k == Workload::Sm2).count();
    let mut sm2 = sm2_requests(sm2_slots, n, args.bad_percent, &mut rng).into_iter();
    kinds
        .into_iter()
        .map(|kind| match kind {
            Workload::Groth16 => {
                let proofs = testkit::groth16_proofs(n, args.bad_percent, &mut rng);
                let (proofs, expected): (Vec<_>, Vec<_>) = proofs.into_iter().unzip();
                let request = proto::VerifyGroth16Request {
                    key_id: key_id.expect("registered for Groth16 workloads").to_vec(),
                    proofs: proofs
                        .into_iter()
                        .map(|p| proto::Groth16Proof {
                            proof: p.proof,
                            public_inputs: p.public_inputs,
                        })
                        .collect(),
                    ..Default::default()
                };
                Job::Groth16(request, expected)
            }
            Workload::Sm2 => sm2.next().expect("a request per pool slot"),
            Workload::Merkle => {
                let chunks = rng.bytes(32 * (n * 16));
                let root = engine
                    .merkle_root(&chunks, None, None)
                    .expect("whole chunks");
                Job::Merkle(
                    proto::MerkleRootRequest {
                        chunks,
                        ..Default::default()
                    },
                    root,
                )
            }
            _ => {
                let sets = testkit::signature_sets(
                    &engine,
                    &validators,
                    n,
                    16,
                    args.bad_percent,
                    &mut rng,
                );
                let (sets, expected): (Vec<_>, Vec<_>) = sets.into_iter().unzip();
                let request = proto::VerifySignaturesRequest {
                    sets: sets.into_iter().map(Into::into).collect(),
                    dst: Vec::new(),
                    scheme: 0,
                };
                Job::Signatures(request, expected)
            }
        })
        .collect()
}

/// What the workers found.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    /// Requests answered with verdicts in each second of the run.
    per_second: Vec<u64>,
    items: u64,
    errors: BTreeMap<String, u64>,
    mismatches: u64,
    examples: Vec<String>,
}

impl Tally {
    fn mismatch(&mut self, what: String) {
        self.mismatches += 1;
        if self.examples.len() < 10 {
            self.examples.push(what);
        }
    }

    fn check(&mut self, verdicts: &[proto::Verdict], expected: &[Expected]) {
        if verdicts.len() != expected.len() {
            self.mismatch(format!(
                "{} verdicts for {} items",
                verdicts.len(),
                expected.len()
            ));
            return;
        }
        for (i, (v, e)) in verdicts.iter().zip(expected).enumerate() {
            self.items += 1;
            // Read as the client reads it (veribatch-proto's conversion).
            let v = Verdict::from(v.clone());
            if !e.matches(v == Ok(true), v.is_err()) {
                self.mismatch(format!("item {i}: expected {e:?}, got {v:?}"));
            }
        }
    }
}

/// Sends `job` (again, as the client's retries say).
async fn send(client: &mut Remote, job: &Job, tally: &Mutex<Tally>) -> Result<(), Status> {
    match job {
        Job::Signatures(request, expected) => {
            let r = client
                .retrying(|mut c| {
                    let request = request.clone();
                    async move { c.verify_signatures(request).await }
                })
                .await?;
            lock(tally).check(&r.verdicts, expected);
        }
        Job::Groth16(request, expected) => {
            // A replica that lacks the key (registered through this client) is sent it.
            let r = client.send_groth16(request.clone()).await?;
            lock(tally).check(&r.verdicts, expected);
        }
        Job::Sm2(request, expected) => {
            let r = client
                .retrying(|mut c| {
                    let request = request.clone();
                    async move { c.verify_sm2(request).await }
                })
                .await?;
            lock(tally).check(&r.verdicts, expected);
        }
        Job::Merkle(request, root) => {
            let r = client
                .retrying(|mut c| {
                    let request = request.clone();
                    async move { c.merkle_root(request).await }
                })
                .await?;
            let mut t = lock(tally);
            t.items += 1;
            if r.root != root {
                t.mismatch("a Merkle root differs from the one computed locally".into());
            }
        }
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Serialize)]
struct Report {
    target: String,
    workload: Workload,
    concurrency: usize,
    seconds: f64,
    requests: u64,
    requests_failed: u64,
    /// Requests sent and never answered with verdicts, nor told to retry later
    /// (RESOURCE_EXHAUSTED): any fails the run.
    requests_lost: u64,
    /// Calls sent again after a failure (`--attempts`).
    retries: u64,
    /// Second copies of slow calls (`--hedge-after-ms`).
    hedges: u64,
    /// Requests answered with verdicts in each second of the run: a replica lost
    /// mid-run shows as the dip and the recovery.
    answered_per_second: Vec<u64>,
    items_checked: u64,
    requests_per_second: f64,
    items_per_second: f64,
    latency_ms: Latency,
    errors: BTreeMap<String, u64>,
    mismatches: u64,
    mismatch_examples: Vec<String>,
    /// With `--attack`: the same run beside the hostile caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    attack: Option<AttackOutcome>,
}

#[derive(Serialize)]
struct AttackOutcome {
    kind: Attack,
    /// The well-behaved clients' p99 under the attack over their p99 without it.
    p99_ratio: f64,
    attacked: Box<Report>,
    hostile: AttackReport,
    /// The server's memory after the attacked run (`--server-pid`, same machine).
    #[serde(skip_serializing_if = "Option::is_none")]
    server_memory_kib: Option<Memory>,
}

#[derive(Serialize)]
struct Memory {
    rss: u64,
    peak: u64,
}

#[derive(Serialize)]
struct Latency {
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

fn latency(mut all: Vec<Duration>) -> Latency {
    all.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: f64| {
        all.get(((all.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |d| ms(*d))
    };
    let mean = if all.is_empty() {
        0.0
    } else {
        all.iter().map(|d| ms(*d)).sum::<f64>() / all.len() as f64
    };
    Latency {
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        max: all.last().map_or(0.0, |d| ms(*d)),
        mean,
    }
}

pub fn run(args: LoadArgs) -> CommandResult {
    if args.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let interrupted = output::interrupt_flag();
    runtime.block_on(async move {
        let mut client = Remote::connect(&args.target, args.target_ca.as_deref())
            .await?
            .with_retries(Retries {
                attempts: args.attempts,
                ..Retries::default()
            });
        if let Some(path) = &args.token_file {
            client = client.with_token(&veribatch_client::read_token(path)?)?;
        }
        if let Some(ms) = args.deadline_ms {
            client = client.with_deadline(Duration::from_millis(ms));
        }
        if let Some(ms) = args.hedge_after_ms {
            client = client.with_hedging(Duration::from_millis(ms));
        }
        let key_id = match args.workload {
            Workload::Groth16 | Workload::Mixed => Some(
                client
                    .register_key(testkit::GROTH16_KEY.to_vec(), None)
                    .await?,
            ),
            _ => None,
        };
        let jobs = Arc::new(make_jobs(&args, key_id.as_deref()));
        let mut report = drive(&args, &client, &jobs, &interrupted).await;
        if let Some(kind) = args.attack {
            // The same run again, with the hostile caller beside it.
            let target = target_address(&args.target)?;
            let stop = Arc::new(AtomicBool::new(false));
            // The hostile caller has a connection of its own, as a separate client would.
            let mut hostile_client =
                Remote::connect(&args.target, args.target_ca.as_deref()).await?;
            if let Some(path) = args.attack_token_file.as_ref().or(args.token_file.as_ref()) {
                hostile_client = hostile_client.with_token(&veribatch_client::read_token(path)?)?;
            }
            let hostile = tokio::spawn(attack::run(kind, hostile_client, target, stop.clone()));
            // Let the attack take hold before measuring.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let attacked = drive(&args, &client, &jobs, &interrupted).await;
            stop.store(true, Ordering::SeqCst);
            let hostile = hostile
                .await
                .map_err(|e| format!("the attack failed: {e}"))?;
            report.attack = Some(AttackOutcome {
                kind,
                p99_ratio: attacked.latency_ms.p99 / report.latency_ms.p99.max(1e-9),
                attacked: Box::new(attacked),
                hostile,
                server_memory_kib: args.server_pid.and_then(server_memory),
            });
        }
        print_report(&report, args.json);
        if interrupted.load(Ordering::SeqCst) {
            return Ok(Outcome::Interrupted);
        }
        let runs = std::iter::once(&report).chain(report.attack.as_ref().map(|a| &*a.attacked));
        let mut ok = true;
        for run in runs {
            // Backpressure (RESOURCE_EXHAUSTED) is the service working as designed; any
            // other error, any wrong verdict, and a run that verified nothing fail it.
            ok &= run.mismatches == 0 && run.requests_lost == 0 && run.items_checked > 0;
        }
        Ok(Outcome::from_valid(ok))
    })
}

/// The host and port of a target URL.
fn target_address(url: &str) -> Result<std::net::SocketAddr, String> {
    let uri: tonic::codegen::http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let host = uri.host().ok_or_else(|| format!("{url}: no host"))?;
    let port = uri.port_u16().unwrap_or(443);
    std::net::ToSocketAddrs::to_socket_addrs(&(host.trim_matches(['[', ']']), port))
        .map_err(|e| format!("{url}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: no address"))
}

/// Resident and peak memory of a process on this machine, from /proc.
fn server_memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some(Memory {
        rss: field("VmRSS:")?,
        peak: field("VmHWM:")?,
    })
}

/// One measured run of the well-behaved workers.
async fn drive(
    args: &LoadArgs,
    client: &Remote,
    jobs: &Arc<Vec<Job>>,
    interrupted: &Arc<AtomicBool>,
) -> Report {
    let limit = args.requests;
    let deadline = Instant::now()
        + match (args.duration, limit) {
            (Some(d), _) => d,
            (None, Some(_)) => Duration::from_secs(u64::MAX / 4),
            (None, None) => Duration::from_secs(10),
        };
    let bar = match limit {
        Some(n) => output::progress(n as usize, "requests"),
        None => output::progress(
            deadline.saturating_duration_since(Instant::now()).as_secs() as usize,
            "seconds",
        ),
    };
    let started = Instant::now();
    // The client's clones share its count of calls sent.
    let (attempts_before, hedges_before) = (client.attempts(), client.hedges());
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let slot = Arc::new(tokio::sync::Mutex::new(Instant::now()));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (mut client, jobs, next, failed) =
                (client.clone(), jobs.clone(), next.clone(), failed.clone());
            let (slot, tally, bar, interrupted) = (
                slot.clone(),
                tally.clone(),
                bar.clone(),
                interrupted.clone(),
            );
            let rate = args.rate;
            tokio::spawn(async move {
                loop {
                    if interrupted.load(Ordering::SeqCst) || Instant::now() >= deadline {
                        break;
                    }
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if limit.is_some_and(|l| n >= l) {
                        break;
                    }
                    if let Some(rate) = rate.filter(|r| *r > 0.0) {
                        let at = {
                            let mut slot = slot.lock().await;
                            let at = (*slot).max(Instant::now());
                            *slot = at + Duration::from_secs_f64(1.0 / rate);
                            at
                        };
                        if at >= deadline {
                            break;
                        }
                        // Sleep in short steps so Ctrl-C is noticed.
                        while Instant::now() < at && !interrupted.load(Ordering::SeqCst) {
                            let step = at.min(Instant::now() + Duration::from_millis(50));
                            tokio::time::sleep_until(step.into()).await;
                        }
                        if interrupted.load(Ordering::SeqCst) {
                            break;
                        }
                    }
                    let sent = Instant::now();
                    let result = send(&mut client, &jobs[n as usize % jobs.len()], &tally).await;
                    let elapsed = sent.elapsed();
                    let mut t = lock(&tally);
                    match result {
                        Ok(()) => {
                            t.latencies.push(elapsed);
                            let second = started.elapsed().as_secs() as usize;
                            if t.per_second.len() <= second {
                                t.per_second.resize(second + 1, 0);
                            }
                            t.per_second[second] += 1;
                        }
                        Err(status) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            *t.errors.entry(format!("{:?}", status.code())).or_default() += 1;
                        }
                    }
                    drop(t);
                    if limit.is_some() {
                        bar.inc(1);
                    } else {
                        bar.set_position(sent.duration_since(started).as_secs());
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let tally = std::mem::take(&mut *lock(&tally));
    let requests = tally.latencies.len() as u64 + failed.load(Ordering::SeqCst);
    Report {
        target: args.target.clone(),
        workload: args.workload,
        concurrency: args.concurrency,
        seconds,
        requests,
        requests_failed: failed.load(Ordering::SeqCst),
        requests_lost: tally
            .errors
            .iter()
            .filter(|(code, _)| **code != format!("{:?}", Code::ResourceExhausted))
            .map(|(_, n)| n)
            .sum(),
        retries: (client.attempts() - attempts_before)
            .saturating_sub(requests + client.hedges() - hedges_before),
        hedges: client.hedges() - hedges_before,
        answered_per_second: tally.per_second,
        items_checked: tally.items,
        requests_per_second: requests as f64 / seconds,
        items_per_second: tally.items as f64 / seconds,
        latency_ms: latency(tally.latencies),
        errors: tally.errors,
        mismatches: tally.mismatches,
        mismatch_examples: tally.examples,
        attack: None,
    }
}

fn print_report(r: &Report, json: bool) {
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(r).expect("reports serialize")
        );
        return;
    }
    outln!(
        "target       {} ({:?}, {} in flight)",
        r.target,
        r.workload,
        r.concurrency
    );
    outln!(
        "ran          {:.1} s, {} requests ({} failed)",
        r.seconds,
        r.requests,
        r.requests_failed
    );
    outln!(
        "throughput   {:.1} requests/s, {:.1} items/s",
        r.requests_per_second,
        r.items_per_second
    );
    let l = &r.latency_ms;
    outln!(
        "latency ms   p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}  mean {:.2}",
        l.p50,
        l.p90,
        l.p99,
        l.max,
        l.mean
    );
    outln!(
        "checked      {} items, {} verdicts wrong, {} requests lost, {} retries, {} hedges",
        r.items_checked,
        r.mismatches,
        r.requests_lost,
        r.retries,
        r.hedges
    );
    for (code, n) in &r.errors {
        outln!("error        {code}: {n}");
    }
    for example in &r.mismatch_examples {
        outln!("mismatch     {example}");
    }
    if let Some(a) = &r.attack {
        let l = &a.attacked.latency_ms;
        outln!(
            "attack       {:?}: {} hostile requests {:?}{}",
            a.kind,
            a.hostile.requests,
            a.hostile.answers,
            if a.hostile.connections > 0 {
                format!(", {} idle connections", a.hostile.connections)
            } else {
                String::new()
            }
        );
        outln!(
            "under attack p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2} ms; p99 {:.2}x the run without it",
            l.p50,
            l.p90,
            l.p99,
            l.max,
            a.p99_ratio
        );
        outln!(
            "under attack {} requests ({} failed), {} items checked, {} verdicts wrong",
            a.attacked.requests,
            a.attacked.requests_failed,
            a.attacked.items_checked,
            a.attacked.mismatches
        );
        if let Some(m) = &a.server_memory_kib {
            outln!(
                "server       {} MiB resident, {} MiB peak",
                m.rss >> 10,
                m.peak >> 10
            );
        }
    }
}
