//! Scheduling of batched work: per-operation queues that merge the items of concurrent
//! requests into large batches, and the search for the bad items of a failed batch.
//!
//! Queues are per operation and per parameter that a batch must share: one per domain
//! separation tag and scheme (ciphersuite) for signature sets, one per verifying key for
//! Groth16 proofs, one for SM2 signatures (each verified on its own, batched so that a
//! batch fills every core). A queue
//! is flushed into a batch
//! - at once when no batch is running (light load: latency is one verification),
//! - when it holds `max_batch` items, or
//! - when its oldest request has waited `max_delay` (heavy load: batches grow while the
//!   device is busy, up to `max_batch`).
//!
//! `workers` batches run at most at once, and beside them up to `workers` more whose
//! failed check is being searched for bad items on the low-priority
//! [`search_pool`]: a caller's bad items slow that caller, not the batches after it.
//! The queues together hold at most `queue_limit` items; beyond that, requests are refused rather than memory growing. Every accepted
//! request is answered: with its verdicts, with `DeadlineExceeded` if its deadline passed
//! before its batch started, or, if the engine panics on a batch (a device failure), with
//! the verdicts of the same batch rerun on the CPU. If the CPU fails on it too, each
//! request is verified on its own, and only the requests that still fail get an internal
//! error.

pub mod cost;
pub mod search_pool;
pub mod stats;

use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

pub use stats::{Histogram, OperationStats};

use crate::bls::{Ciphersuite, SignatureSet};
use crate::error::{ErrorKind, Field, InputError, Verdict};
use crate::groth16::{KeyId, PreparedKey};
use crate::sm2::Sm2Item;
use crate::{Engine, Progress, ProofInput, Unfollowed};

/// How batches are formed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// A queue is flushed when it holds this many items.
    pub max_batch: usize,
    /// ... or when its oldest request has waited this long.
    pub max_delay: Duration,
    /// Items that may wait in all queues together.
    pub queue_limit: usize,
    /// Cost units (keys and messages of signature sets, one plus the public inputs of a
    /// proof) one batch holds at most; a request costing more is a batch of its own.
    pub max_batch_cost: u64,
    /// Cost units that may wait in all queues together.
    pub queue_cost_limit: u64,
    /// Bytes of items that may wait in all queues together.
    pub queue_byte_limit: usize,
    /// Batches that may run at once at normal priority (and as many more whose search
    /// for bad items runs at low priority).
    pub workers: usize,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            max_batch: 4096,
            max_delay: Duration::from_millis(5),
            queue_limit: 1 << 20,
            max_batch_cost: 1 << 17,
            queue_cost_limit: 1 << 22,
            queue_byte_limit: 1 << 30,
            workers: 2,
        }
    }
}

/// An operation that is batched across requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    VerifySignatures,
    VerifyGroth16,
    VerifySm2,
}

impl Operation {
    pub const ALL: [Operation; 3] = [Self::VerifySignatures, Self::VerifyGroth16, Self::VerifySm2];

    pub fn name(self) -> &'static str {
        match self {
            Self::VerifySignatures => "verify_signatures",
            Self::VerifyGroth16 => "verify_groth16",
            Self::VerifySm2 => "verify_sm2",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Why a request was not answered with verdicts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The request as a whole is malformed (more items than the queues hold).
    #[error("{0}")]
    Invalid(InputError),
    #[error("the queues are full ({queued} {unit} waiting, limit {limit}): retry later")]
    QueueFull {
        queued: u64,
        limit: u64,
        /// What is counted: items, cost units or bytes.
        unit: &'static str,
    },
    #[error("the deadline passed before the items were verified")]
    DeadlineExceeded,
    #[error("the scheduler is shutting down")]
    ShuttingDown,
    #[error("verification failed on every backend: {0}")]
    Internal(String),
}

type Reply = oneshot::Sender<Result<Vec<Verdict>, ScheduleError>>;

/// The items of one request (or of a batch, merged).
enum Payload {
    Sets(Vec<SignatureSet>),
    Proofs(Vec<ProofInput>),
    Sm2(Vec<Sm2Item>),
}

/// A run of a payload's items.
#[derive(Clone, Copy)]
enum Items<'a> {
    Sets(&'a [SignatureSet]),
    Proofs(&'a [ProofInput]),
    Sm2(&'a [Sm2Item]),
}

impl<'a> Items<'a> {
    fn len(self) -> usize {
        match self {
            Self::Sets(s) => s.len(),
            Self::Proofs(p) => p.len(),
            Self::Sm2(i) => i.len(),
        }
    }

    /// Items `from..to`.
    fn slice(self, from: usize, to: usize) -> Items<'a> {
        match self {
            Self::Sets(s) => Self::Sets(&s[from..to]),
            Self::Proofs(p) => Self::Proofs(&p[from..to]),
            Self::Sm2(i) => Self::Sm2(&i[from..to]),
        }
    }
}

impl Payload {
    fn len(&self) -> usize {
        self.items().len()
    }

    fn items(&self) -> Items<'_> {
        match self {
            Self::Sets(s) => Items::Sets(s),
            Self::Proofs(p) => Items::Proofs(p),
            Self::Sm2(i) => Items::Sm2(i),
        }
    }

    /// Appends `other`'s items, which are of the same kind (one queue's requests).
    fn append(&mut self, other: Payload) {
        match (self, other) {
            (Self::Sets(a), Self::Sets(b)) => a.extend(b),
            (Self::Proofs(a), Self::Proofs(b)) => a.extend(b),
            (Self::Sm2(a), Self::Sm2(b)) => a.extend(b),
            _ => unreachable!("a queue holds one kind of item"),
        }
    }

    /// What verifying it costs: a hash to the curve and a pairing per message and an
    /// addition per key of a set; a pairing and a multiplication per input of a proof.
    fn cost(&self) -> u64 {
        match self {
            Self::Sets(s) => s.iter().map(set_cost).sum(),
            Self::Proofs(p) => p.iter().map(proof_cost).sum(),
            Self::Sm2(i) => i.iter().map(sm2_cost).sum(),
        }
    }

    /// The payload in consecutive parts of at most `max_cost` each (a single item costing
    /// more is a part of its own); one part if it fits.
    fn split(self, max_cost: u64) -> Vec<Payload> {
        fn parts<T>(items: Vec<T>, cost: impl Fn(&T) -> u64, max_cost: u64) -> Vec<Vec<T>> {
            let mut parts: Vec<Vec<T>> = Vec::new();
            let mut part_cost = 0;
            for item in items {
                let c = cost(&item);
                match parts.last_mut() {
                    Some(part) if part_cost + c <= max_cost => {
                        part.push(item);
                        part_cost += c;
                    }
                    _ => {
                        parts.push(vec![item]);
                        part_cost = c;
                    }
                }
            }
            parts
        }
        if self.cost() <= max_cost {
            return vec![self];
        }
        match self {
            Self::Sets(sets) => parts(sets, set_cost, max_cost)
                .into_iter()
                .map(Self::Sets)
                .collect(),
            Self::Proofs(proofs) => parts(proofs, proof_cost, max_cost)
                .into_iter()
                .map(Self::Proofs)
                .collect(),
            Self::Sm2(items) => parts(items, sm2_cost, max_cost)
                .into_iter()
                .map(Self::Sm2)
                .collect(),
        }
    }

    /// The bytes it holds.
    fn bytes(&self) -> usize {
        match self {
            Self::Sets(s) => s
                .iter()
                .map(|s| {
                    s.signature.len()
                        + s.public_keys.iter().map(Vec::len).sum::<usize>()
                        + s.messages.iter().map(Vec::len).sum::<usize>()
                })
                .sum(),
            Self::Proofs(p) => p
                .iter()
                .map(|p| p.proof.len() + p.public_inputs.iter().map(Vec::len).sum::<usize>())
                .sum(),
            Self::Sm2(i) => i.iter().map(Sm2Item::bytes).sum(),
        }
    }
}

/// Who submits a request, and until when it is worth verifying.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ticket {
    /// Past this the request is answered `DeadlineExceeded` instead of verified.
    pub deadline: Option<Instant>,
    /// The caller, any number that tells callers apart: a batch takes the requests of
    /// different callers in turn, so one caller's flood of requests gets its share of
    /// each batch, not all of it.
    pub caller: u64,
}

fn set_cost(set: &SignatureSet) -> u64 {
    cost::signature_set(set.public_keys.len(), set.messages.len())
}

fn proof_cost(proof: &ProofInput) -> u64 {
    cost::groth16_proof(proof.public_inputs.len())
}

fn sm2_cost(item: &Sm2Item) -> u64 {
    cost::sm2_signature(item.bytes())
}

struct Pending {
    payload: Payload,
    cost: u64,
    bytes: usize,
    caller: u64,
    deadline: Option<Instant>,
    enqueued: Instant,
    reply: Reply,
}

impl Pending {
    /// Whether the request should be dropped rather than verified.
    fn expired(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|d| d <= now) || self.reply.is_closed()
    }
}

/// What the requests of one batch must share.
#[derive(Clone, PartialEq, Eq, Hash)]
enum QueueKey {
    Signatures { suite: Ciphersuite },
    Groth16 { key: KeyId },
    Sm2,
}

struct Queue {
    operation: Operation,
    /// The verifying key, for Groth16 queues.
    groth16_key: Option<Arc<PreparedKey>>,
    requests: VecDeque<Pending>,
    items: usize,
}

#[derive(Default)]
struct State {
    queues: HashMap<QueueKey, Queue>,
    queued: usize,
    queued_cost: u64,
    queued_bytes: usize,
    running: usize,
    /// Running batches whose search for bad items holds a search slot and runs at low
    /// priority ([`search_pool`]): they do not count against `workers`.
    searching: usize,
    stopping: bool,
}

impl State {
    /// Batches running at normal priority.
    fn busy(&self) -> usize {
        self.running - self.searching
    }
}

struct Batch {
    key: QueueKey,
    operation: Operation,
    groth16_key: Option<Arc<PreparedKey>>,
    requests: Vec<Pending>,
}

struct Shared {
    engine: Arc<Engine>,
    /// The engine on the CPU ([`Engine::on_cpu`], sharing its key caches), for batches
    /// it failed on; made when first needed.
    cpu_fallback: OnceLock<Engine>,
    config: SchedulerConfig,
    state: Mutex<State>,
    wake: Condvar,
    stats: [OperationStats; 3],
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stats(&self, op: Operation) -> &OperationStats {
        &self.stats[op.index()]
    }
}

/// Merges requests into batches and runs them on worker threads.
pub struct Scheduler {
    shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl Scheduler {
    pub fn new(engine: Arc<Engine>, config: SchedulerConfig) -> Self {
        let shared = Arc::new(Shared {
            engine,
            cpu_fallback: OnceLock::new(),
            config,
            state: Mutex::default(),
            wake: Condvar::new(),
            stats: Operation::ALL.map(|_| OperationStats::new()),
        });
        // Half of the threads stand by for batches started beside searching ones.
        let workers = (0..2 * shared.config.workers.max(1))
            .map(|i| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("veribatch-batch-{i}"))
                    .spawn(move || work(&shared))
                    .expect("a worker thread starts")
            })
            .collect();
        Self {
            shared,
            workers: Mutex::new(workers),
        }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.shared.engine
    }

    pub fn config(&self) -> &SchedulerConfig {
        &self.shared.config
    }

    pub fn stats(&self, op: Operation) -> &OperationStats {
        self.shared.stats(op)
    }

    /// Verifies signature sets in a batch shared with other requests for the same
    /// ciphersuite (tag and scheme).
    pub async fn verify_signature_sets(
        &self,
        sets: Vec<SignatureSet>,
        suite: Ciphersuite,
        ticket: Ticket,
    ) -> Result<Vec<Verdict>, ScheduleError> {
        self.submit(
            QueueKey::Signatures { suite },
            Operation::VerifySignatures,
            None,
            Payload::Sets(sets),
            ticket,
        )
        .await
    }

    /// Verifies SM2 signatures in a batch shared with other requests for SM2.
    pub async fn verify_sm2(
        &self,
        items: Vec<Sm2Item>,
        ticket: Ticket,
    ) -> Result<Vec<Verdict>, ScheduleError> {
        self.submit(
            QueueKey::Sm2,
            Operation::VerifySm2,
            None,
            Payload::Sm2(items),
            ticket,
        )
        .await
    }

    /// Verifies Groth16 proofs in a batch shared with other requests for the same key.
    pub async fn verify_groth16(
        &self,
        key: Arc<PreparedKey>,
        proofs: Vec<ProofInput>,
        ticket: Ticket,
    ) -> Result<Vec<Verdict>, ScheduleError> {
        self.submit(
            QueueKey::Groth16 { key: *key.id() },
            Operation::VerifyGroth16,
            Some(key),
            Payload::Proofs(proofs),
            ticket,
        )
        .await
    }

    async fn submit(
        &self,
        key: QueueKey,
        operation: Operation,
        groth16_key: Option<Arc<PreparedKey>>,
        payload: Payload,
        ticket: Ticket,
    ) -> Result<Vec<Verdict>, ScheduleError> {
        let n = payload.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let stats = self.shared.stats(operation);
        let config = &self.shared.config;
        let (cost, bytes) = (payload.cost(), payload.bytes());
        // The request against each bound of the queues: (unit, its size, limit).
        let bounds = |state: &State| {
            [
                (
                    "items",
                    n as u64,
                    state.queued as u64,
                    config.queue_limit as u64,
                ),
                (
                    "cost units",
                    cost,
                    state.queued_cost,
                    config.queue_cost_limit,
                ),
                (
                    "bytes",
                    bytes as u64,
                    state.queued_bytes as u64,
                    config.queue_byte_limit as u64,
                ),
            ]
        };
        for (unit, size, _, limit) in bounds(&State::default()) {
            if size > limit {
                // Waiting would never help: the request alone is larger than the queues.
                return Err(ScheduleError::Invalid(InputError::new(
                    Field::Items,
                    None,
                    ErrorKind::OverQueueLimit { size, unit, limit },
                )));
            }
        }
        let full = |state: &State| {
            bounds(state)
                .into_iter()
                .find(|(_, size, queued, limit)| queued + size > *limit)
        };
        // A request costing more than a batch holds goes in as parts of at most a batch's
        // cost each, queued together and answered together: its parts take their turns
        // in batches beside other callers' requests instead of one batch of its own.
        let parts = payload.split(config.max_batch_cost);
        let mut answers = Vec::with_capacity(parts.len());
        {
            let mut state = self.shared.lock();
            if state.stopping {
                return Err(ScheduleError::ShuttingDown);
            }
            if full(&state).is_some() {
                // Requests that can no longer be answered must not crowd out this one.
                drop_expired(&self.shared, &mut state, Instant::now());
            }
            if let Some((unit, _, queued, limit)) = full(&state) {
                stats.rejected.fetch_add(1, Ordering::Relaxed);
                return Err(ScheduleError::QueueFull {
                    queued,
                    limit,
                    unit,
                });
            }
            let queue = state.queues.entry(key).or_insert_with(|| Queue {
                operation,
                groth16_key,
                requests: VecDeque::new(),
                items: 0,
            });
            for payload in parts {
                let (reply, answer) = oneshot::channel();
                answers.push(answer);
                queue.requests.push_back(Pending {
                    cost: payload.cost(),
                    bytes: payload.bytes(),
                    payload,
                    caller: ticket.caller,
                    deadline: ticket.deadline,
                    enqueued: Instant::now(),
                    reply,
                });
            }
            queue.items += n;
            state.queued += n;
            state.queued_cost += cost;
            state.queued_bytes += bytes;
            stats.requests.fetch_add(1, Ordering::Relaxed);
            stats.queued.fetch_add(n as u64, Ordering::Relaxed);
        }
        self.shared.wake.notify_all();
        let mut verdicts = Vec::with_capacity(n);
        for answer in answers {
            let part = answer
                .await
                .unwrap_or_else(|_| Err(ScheduleError::Internal("the batch was lost".into())))?;
            verdicts.extend(part);
        }
        Ok(verdicts)
    }

    /// Stops accepting requests, answers every accepted one, and stops the workers.
    pub fn shutdown(&self) {
        self.shared.lock().stopping = true;
        self.shared.wake.notify_all();
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|e| e.into_inner()));
        for worker in workers {
            let _ = worker.join();
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A worker: takes ready batches and runs them until the scheduler stops and the
/// queues are empty.
///
/// Each worker runs its batches on a thread pool of its own, as wide as the machine: two
/// batches running at once then share the cores the way the OS shares threads, instead
/// of the second batch's tasks queueing behind the first one's in one pool (a caller's
/// long bisection would otherwise hold every other batch until it ends).
fn work(shared: &Shared) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(std::thread::available_parallelism().map_or(1, usize::from))
        .thread_name(|i| format!("veribatch-verify-{i}"))
        .build()
        .ok();
    // Built when this worker's batch first searches.
    let search_pool = OnceLock::new();
    let workers = shared.config.workers.max(1);
    let mut state = shared.lock();
    loop {
        let now = Instant::now();
        if state.busy() >= workers {
            // Every slot is taken: wait for one to be given back (that notifies).
            state = shared.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            continue;
        }
        if let Some(batch) = take_batch(shared, &mut state, now) {
            state.running += 1;
            drop(state);
            let searching = Searching {
                slot: AtomicBool::new(false),
                pool: &search_pool,
            };
            // A panic that escapes run_batch drops the batch's reply channels, so its
            // callers still get an answer (an internal error); the worker carries on.
            let run = || catch_unwind(AssertUnwindSafe(|| run_batch(shared, batch, &searching)));
            let _ = match &pool {
                Some(pool) => pool.install(run),
                None => run(),
            };
            state = shared.lock();
            state.running -= 1;
            if searching.slot.into_inner() {
                state.searching -= 1;
            }
            shared.wake.notify_all();
            continue;
        }
        if state.stopping && state.queued == 0 {
            return;
        }
        // Sleep until the oldest request reaches max_delay, or until woken.
        let wake_at = state
            .queues
            .values()
            .filter_map(|q| q.requests.front())
            .map(|p| p.enqueued + shared.config.max_delay)
            .min();
        state = match wake_at {
            Some(at) => {
                let timeout = at
                    .saturating_duration_since(now)
                    .max(Duration::from_micros(50));
                shared
                    .wake
                    .wait_timeout(state, timeout)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => shared.wake.wait(state).unwrap_or_else(|e| e.into_inner()),
        };
    }
}

/// Answers and removes every request past its deadline (or whose caller left), so that
/// they stop counting against the queue limit.
fn drop_expired(shared: &Shared, state: &mut State, now: Instant) {
    let (mut dropped, mut cost, mut bytes) = (0, 0, 0);
    state.queues.retain(|_, queue| {
        let stats = shared.stats(queue.operation);
        let mut kept = VecDeque::with_capacity(queue.requests.len());
        for pending in queue.requests.drain(..) {
            if pending.expired(now) {
                let n = pending.payload.len();
                queue.items -= n;
                dropped += n;
                cost += pending.cost;
                bytes += pending.bytes;
                stats.expired.fetch_add(n as u64, Ordering::Relaxed);
                stats.queued.fetch_sub(n as u64, Ordering::Relaxed);
                let _ = pending.reply.send(Err(ScheduleError::DeadlineExceeded));
            } else {
                kept.push_back(pending);
            }
        }
        queue.requests = kept;
        !queue.requests.is_empty()
    });
    state.queued -= dropped;
    state.queued_cost -= cost;
    state.queued_bytes -= bytes;
}

/// The next batch to run, if a queue is ready: the ready queue whose oldest request is
/// oldest, up to `max_batch` items and `max_batch_cost` cost units of whole requests (a
/// request larger than either is a batch of its own), so that a few costly requests do
/// not make one batch that holds everyone merged with them; the requests of different
/// callers are taken in turn ([`Ticket::caller`]). Requests past their deadline are answered and dropped here.
fn take_batch(shared: &Shared, state: &mut State, now: Instant) -> Option<Batch> {
    let config = &shared.config;
    loop {
        let idle = state.busy() == 0 || state.stopping;
        let key = state
            .queues
            .iter()
            .filter(|(_, q)| {
                let waited = q.requests.front().map(|p| now.duration_since(p.enqueued));
                idle || q.items >= config.max_batch || waited.is_some_and(|w| w >= config.max_delay)
            })
            .min_by_key(|(_, q)| q.requests.front().map(|p| p.enqueued))
            .map(|(k, _)| k.clone())?;
        let queue = state.queues.get_mut(&key).expect("chosen queue exists");
        let stats = shared.stats(queue.operation);
        let (mut removed, mut removed_cost, mut removed_bytes) = (0, 0, 0);
        // Requests past their deadline are answered and dropped first.
        let mut waiting = VecDeque::with_capacity(queue.requests.len());
        for pending in queue.requests.drain(..) {
            if pending.expired(now) {
                let n = pending.payload.len();
                stats.expired.fetch_add(n as u64, Ordering::Relaxed);
                (removed, removed_cost, removed_bytes) = (
                    removed + n,
                    removed_cost + pending.cost,
                    removed_bytes + pending.bytes,
                );
                let _ = pending.reply.send(Err(ScheduleError::DeadlineExceeded));
            } else {
                waiting.push_back(pending);
            }
        }
        // Then the callers in turn: every caller's first waiting request, in the order
        // they came, then every caller's second, and so on, while the batch has room.
        let mut turn: HashMap<u64, usize> = HashMap::new();
        let mut order: Vec<(usize, usize)> = waiting
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let round = turn.entry(p.caller).or_default();
                *round += 1;
                (*round, i)
            })
            .collect();
        order.sort_unstable();
        let mut take = vec![false; waiting.len()];
        let (mut items, mut cost) = (0, 0);
        for (_, i) in order {
            let (n, c) = (waiting[i].payload.len(), waiting[i].cost);
            if items != 0 && (items + n > config.max_batch || cost + c > config.max_batch_cost) {
                break;
            }
            take[i] = true;
            (items, cost) = (items + n, cost + c);
            (removed, removed_cost, removed_bytes) = (
                removed + n,
                removed_cost + c,
                removed_bytes + waiting[i].bytes,
            );
        }
        let mut taken = Vec::new();
        for (pending, take) in waiting.into_iter().zip(take) {
            if take {
                taken.push(pending);
            } else {
                queue.requests.push_back(pending);
            }
        }
        queue.items -= removed;
        state.queued_cost -= removed_cost;
        state.queued_bytes -= removed_bytes;
        let (operation, groth16_key) = (queue.operation, queue.groth16_key.clone());
        if queue.requests.is_empty() {
            state.queues.remove(&key);
        }
        state.queued -= removed;
        stats.queued.fetch_sub(removed as u64, Ordering::Relaxed);
        if !taken.is_empty() {
            return Some(Batch {
                key,
                operation,
                groth16_key,
                requests: taken,
            });
        }
    }
}

/// The verdicts of `items` items on the engine, or, if it fails, on a CPU engine; `None`
/// if both fail (panic, or a wrong number of verdicts).
fn verify_with_fallback(
    shared: &Shared,
    batch: &Batch,
    payload: Items<'_>,
    groups: &[usize],
    progress: &dyn Progress,
) -> Option<Vec<Verdict>> {
    let items = payload.len();
    let attempt = |engine: &Engine| {
        catch_unwind(AssertUnwindSafe(|| {
            execute(engine, batch, payload, groups, progress)
        }))
        .ok()
        .filter(|v| v.len() == items)
    };
    attempt(&shared.engine).or_else(|| {
        shared
            .stats(batch.operation)
            .fallbacks
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            backend = shared.engine.backend().name(),
            items,
            "the engine failed on a batch; running it again on the CPU"
        );
        let cpu = shared.cpu_fallback.get_or_init(|| shared.engine.on_cpu());
        attempt(cpu)
    })
}

/// The verdicts of one batch's items, in order, each reported as soon as it is known.
fn execute(
    engine: &Engine,
    batch: &Batch,
    items: Items<'_>,
    groups: &[usize],
    progress: &dyn Progress,
) -> Vec<Verdict> {
    match (&batch.key, items) {
        (QueueKey::Signatures { suite }, Items::Sets(sets)) => {
            engine.verify_signature_sets_reporting(sets, suite, groups, progress)
        }
        (QueueKey::Groth16 { .. }, Items::Proofs(proofs)) => {
            let key = batch
                .groth16_key
                .as_ref()
                .expect("Groth16 batches carry their key");
            engine.verify_groth16_reporting(key, proofs, groups, progress)
        }
        (QueueKey::Sm2, Items::Sm2(items)) => engine.verify_sm2_reporting(items, progress),
        _ => unreachable!("a queue holds the items of its operation"),
    }
}

/// Where a worker's batch searches for its bad items.
struct Searching<'a> {
    /// Set when the batch's search took one of the search slots.
    slot: AtomicBool,
    /// The worker's low-priority search pool.
    pool: &'a OnceLock<Option<rayon::ThreadPool>>,
}

/// Runs `batch`, answering each request as soon as its items are decided, and searching
/// for bad items as `searching` says.
fn run_batch(shared: &Shared, mut batch: Batch, searching: &Searching<'_>) {
    let stats = shared.stats(batch.operation);
    let started = Instant::now();
    let mut merged: Option<Payload> = None;
    let mut lengths = Vec::with_capacity(batch.requests.len());
    for request in &mut batch.requests {
        stats
            .queue_wait
            .observe(started.duration_since(request.enqueued).as_secs_f64());
        lengths.push(request.payload.len());
        let payload = std::mem::replace(&mut request.payload, Payload::Sets(Vec::new()));
        match &mut merged {
            Some(merged) => merged.append(payload),
            None => merged = Some(payload),
        }
    }
    let merged = merged.expect("a batch has a request");
    let items = merged.len();

    // Counted before the work: the first replies may go out before it ends.
    stats.batches.fetch_add(1, Ordering::Relaxed);
    stats.items.fetch_add(items as u64, Ordering::Relaxed);
    stats
        .largest_batch
        .fetch_max(items as u64, Ordering::Relaxed);
    stats.batch_size.observe(items as f64);

    // Each request is answered as soon as all of its items are decided, so callers
    // merged with another caller's bad items are not held for the whole search.
    let requests = std::mem::take(&mut batch.requests);
    let progress = BatchProgress {
        shared,
        early: EarlyReplies::new(requests, &lengths),
        searching,
    };
    let verdicts = verify_with_fallback(shared, &batch, merged.items(), &lengths, &progress);

    tracing::debug!(
        operation = batch.operation.name(),
        requests = batch.requests.len(),
        items,
        seconds = started.elapsed().as_secs_f64(),
        "batch verified"
    );

    // What the reports left unanswered (nothing, unless the engine failed part way).
    let requests = progress.early.unanswered();
    match verdicts {
        Some(verdicts) => {
            let mut verdicts = verdicts.into_iter();
            for (request, n) in requests.into_iter().zip(lengths) {
                let own: Vec<Verdict> = verdicts.by_ref().take(n).collect();
                if let Some(request) = request {
                    let _ = request.reply.send(Ok(own));
                }
            }
        }
        None => {
            // The batch fails on every backend: find the requests it fails for, so one
            // bad request does not cost the others their answers.
            tracing::error!(
                items,
                "the CPU backend failed on a batch too; verifying its requests one by one"
            );
            let mut at = 0;
            for (request, n) in requests.into_iter().zip(&lengths) {
                let own = merged.items().slice(at, at + n);
                at += n;
                let Some(request) = request else {
                    continue;
                };
                let answer = verify_with_fallback(shared, &batch, own, &[], &Unfollowed)
                    .ok_or_else(|| {
                        ScheduleError::Internal("the engine failed on this request".into())
                    });
                let _ = request.reply.send(answer);
            }
        }
    }
}

/// A running batch's progress: its requests answered as their items are decided, and its
/// search moved out of the way of other batches.
struct BatchProgress<'a> {
    shared: &'a Shared,
    early: EarlyReplies,
    searching: &'a Searching<'a>,
}

impl Progress for BatchProgress<'_> {
    fn decided(&self, index: usize, verdict: &Verdict) {
        self.early.decided(index, verdict);
    }

    /// While fewer than `workers` batches search, the search takes a search slot and
    /// runs on the worker's low-priority pool, and the batch stops counting against
    /// `workers` (another batch may start beside it). Past that, the search runs at
    /// normal priority in the batch's own slot and new batches wait, so the threads and
    /// the memory that searches hold stay bounded.
    fn searching(&self) -> Option<&rayon::ThreadPool> {
        let searching = self.searching;
        // A rerun on the CPU searches again, in the slot it has.
        if !searching.slot.load(Ordering::Relaxed) {
            let mut state = self.shared.lock();
            if state.searching >= self.shared.config.workers.max(1) {
                return None;
            }
            state.searching += 1;
            searching.slot.store(true, Ordering::Relaxed);
            self.shared.wake.notify_all();
        }
        searching.pool.get_or_init(search_pool::build).as_ref()
    }
}

/// The replies of a running batch's requests, sent as soon as each request's items are
/// all decided.
struct EarlyReplies {
    /// The first item of each request in the batch, in order.
    starts: Vec<usize>,
    requests: Vec<Mutex<EarlyReply>>,
}

struct EarlyReply {
    pending: Option<Pending>,
    verdicts: Vec<Option<Verdict>>,
    undecided: usize,
}

impl EarlyReplies {
    fn new(requests: Vec<Pending>, lengths: &[usize]) -> Self {
        let mut starts = Vec::with_capacity(lengths.len());
        let mut at = 0;
        for n in lengths {
            starts.push(at);
            at += n;
        }
        let requests = requests
            .into_iter()
            .zip(lengths)
            .map(|(pending, &n)| {
                Mutex::new(EarlyReply {
                    pending: Some(pending),
                    verdicts: vec![None; n],
                    undecided: n,
                })
            })
            .collect();
        Self { starts, requests }
    }

    /// Item `item` of the batch is decided; its request is answered if it was the last.
    fn decided(&self, item: usize, verdict: &Verdict) {
        let r = self.starts.partition_point(|&s| s <= item) - 1;
        let mut reply = self.requests[r].lock().unwrap_or_else(|e| e.into_inner());
        if reply.pending.is_none() {
            // Answered already (a rerun on the CPU reports every item again).
            return;
        }
        let own = &mut reply.verdicts[item - self.starts[r]];
        if own.is_some() {
            return;
        }
        *own = Some(verdict.clone());
        reply.undecided -= 1;
        if reply.undecided == 0
            && let Some(pending) = reply.pending.take()
        {
            let verdicts = reply
                .verdicts
                .iter_mut()
                .map(|v| v.take().expect("decided"))
                .collect();
            let _ = pending.reply.send(Ok(verdicts));
        }
    }

    /// The requests not answered yet, in order (`None` where answered).
    fn unanswered(self) -> Vec<Option<Pending>> {
        self.requests
            .into_iter()
            .map(|r| r.into_inner().unwrap_or_else(|e| e.into_inner()).pending)
            .collect()
    }
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
