//! The scheduler against the engine itself: merged batches, bounded queues, deadlines,
//! shutdown. No timing is asserted; where a test needs the worker busy, it gives it a
//! batch that takes far longer than the few microseconds the test needs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::EngineConfig;
use crate::bls::Ciphersuite;

fn engine() -> Arc<Engine> {
    Arc::new(Engine::new(&EngineConfig::default()))
}

/// `n` valid sets from `keys` distinct keys, one message each; set `i` signs "message i".
fn sets(engine: &Engine, n: usize) -> Vec<SignatureSet> {
    let mut sk = [7u8; 32];
    (0..n)
        .map(|i| {
            sk[31] = (i % 200) as u8 + 1;
            let message = format!("message {i}").into_bytes();
            let signature = engine
                .sign(&sk, &message, &Ciphersuite::ETHEREUM)
                .unwrap()
                .to_vec();
            let public_key = engine.public_key(&sk).unwrap();
            SignatureSet {
                signature,
                public_keys: vec![public_key.to_vec()],
                messages: vec![message],
            }
        })
        .collect()
}

fn scheduler(engine: Arc<Engine>, workers: usize, queue_limit: usize) -> Arc<Scheduler> {
    configured(
        &engine,
        SchedulerConfig {
            max_batch: 4096,
            max_delay: Duration::from_secs(60),
            queue_limit,
            workers,
            ..SchedulerConfig::default()
        },
    )
}

fn configured(engine: &Arc<Engine>, config: SchedulerConfig) -> Arc<Scheduler> {
    Arc::new(Scheduler::new(engine.clone(), config))
}

/// Submits `sets` and returns the task answering it.
fn submit(
    s: &Arc<Scheduler>,
    sets: Vec<SignatureSet>,
    deadline: Option<Instant>,
) -> tokio::task::JoinHandle<Result<Vec<Verdict>, ScheduleError>> {
    submit_as(
        s,
        sets,
        Ticket {
            deadline,
            caller: 0,
        },
    )
}

/// [`submit`] with a ticket of its own (a caller).
fn submit_as(
    s: &Arc<Scheduler>,
    sets: Vec<SignatureSet>,
    ticket: Ticket,
) -> tokio::task::JoinHandle<Result<Vec<Verdict>, ScheduleError>> {
    let s = s.clone();
    tokio::spawn(async move {
        s.verify_signature_sets(sets, Ciphersuite::ETHEREUM, ticket)
            .await
    })
}

/// Waits until `condition` holds. The two-minute cap only turns a broken test into a
/// failure instead of a hang; no test relies on it.
async fn until(what: &str, condition: impl Fn() -> bool) {
    let give_up = Instant::now() + Duration::from_secs(120);
    while !condition() {
        assert!(Instant::now() < give_up, "gave up waiting until {what}");
        tokio::task::yield_now().await;
    }
}

/// Waits until `n` items are queued (the requests were accepted).
async fn until_queued(s: &Scheduler, n: u64) {
    until("items are queued", || {
        s.stats(Operation::VerifySignatures)
            .queued
            .load(Ordering::SeqCst)
            >= n
    })
    .await;
}

/// Waits until a worker has taken a batch from the queue.
async fn until_running(s: &Scheduler) {
    until("a batch runs", || s.shared.lock().running > 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_wait_together_share_one_batch() {
    let engine = engine();
    let busy = sets(&engine, 600);
    let mut small = sets(&engine, 40);
    small[7].messages[0].push(b'!');
    let s = scheduler(engine.clone(), 1, 1 << 20);
    let first = submit(&s, busy, None);
    until_running(&s).await;
    let waiting: Vec<_> = small
        .chunks(4)
        .map(|c| submit(&s, c.to_vec(), None))
        .collect();
    until_queued(&s, 40).await;
    assert!(first.await.unwrap().unwrap().iter().all(|v| *v == Ok(true)));
    let mut verdicts = Vec::new();
    for w in waiting {
        verdicts.extend(w.await.unwrap().unwrap());
    }
    let expected = engine.verify_signature_sets(&small, &Ciphersuite::ETHEREUM);
    assert_eq!(verdicts, expected);
    assert_eq!(verdicts.iter().filter(|v| **v == Ok(false)).count(), 1);
    let stats = s.stats(Operation::VerifySignatures);
    assert_eq!(stats.requests.load(Ordering::SeqCst), 11);
    assert_eq!(
        stats.batches.load(Ordering::SeqCst),
        2,
        "ten requests, one batch"
    );
    assert_eq!(stats.items.load(Ordering::SeqCst), 640);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_requests_and_loses_none_it_accepted() {
    let engine = engine();
    // The limit counts waiting items: the busy batch has left the queue when it runs.
    let (busy, small, big) = (sets(&engine, 600), sets(&engine, 8), sets(&engine, 593));
    let s = scheduler(engine.clone(), 1, 600);
    let busy = submit(&s, busy, None);
    until_running(&s).await;
    let accepted = submit(&s, small, None);
    until_queued(&s, 8).await;
    let refused = s
        .verify_signature_sets(big, Ciphersuite::ETHEREUM, Ticket::default())
        .await;
    assert_eq!(
        refused,
        Err(ScheduleError::QueueFull {
            queued: 8,
            limit: 600,
            unit: "items",
        })
    );
    assert_eq!(accepted.await.unwrap().unwrap(), vec![Ok(true); 8]);
    assert_eq!(busy.await.unwrap().unwrap().len(), 600);
    assert_eq!(
        s.stats(Operation::VerifySignatures)
            .rejected
            .load(Ordering::SeqCst),
        1
    );
    let too_big = s
        .verify_signature_sets(sets(&engine, 601), Ciphersuite::ETHEREUM, Ticket::default())
        .await;
    assert_eq!(
        too_big.unwrap_err().to_string(),
        "items: 601 items exceed the queue limit of 600; split the request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_past_their_deadline_are_not_verified() {
    let engine = engine();
    let (busy, five) = (sets(&engine, 600), sets(&engine, 5));
    let s = scheduler(engine.clone(), 1, 1 << 20);
    let busy = submit(&s, busy, None);
    until_running(&s).await;
    let late = submit(&s, five.clone(), Some(Instant::now()));
    let on_time = submit(&s, five, None);
    assert_eq!(late.await.unwrap(), Err(ScheduleError::DeadlineExceeded));
    assert_eq!(on_time.await.unwrap().unwrap(), vec![Ok(true); 5]);
    busy.await.unwrap().unwrap();
    let stats = s.stats(Operation::VerifySignatures);
    assert_eq!(stats.expired.load(Ordering::SeqCst), 5);
    assert_eq!(stats.items.load(Ordering::SeqCst), 605);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_every_accepted_request() {
    let engine = engine();
    let (busy, three) = (sets(&engine, 300), sets(&engine, 3));
    let s = scheduler(engine.clone(), 1, 1 << 20);
    let busy = submit(&s, busy, None);
    until_running(&s).await;
    let queued: Vec<_> = (0..5).map(|_| submit(&s, three.clone(), None)).collect();
    until_queued(&s, 15).await;
    let stopper = {
        let s = s.clone();
        tokio::task::spawn_blocking(move || s.shutdown())
    };
    for q in queued {
        assert_eq!(q.await.unwrap().unwrap(), vec![Ok(true); 3]);
    }
    busy.await.unwrap().unwrap();
    stopper.await.unwrap();
    let after = s
        .verify_signature_sets(sets(&engine, 1), Ciphersuite::ETHEREUM, Ticket::default())
        .await;
    assert_eq!(after, Err(ScheduleError::ShuttingDown));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_requests_are_answered() {
    let engine = engine();
    let s = scheduler(engine.clone(), 2, 1 << 20);
    assert_eq!(
        s.verify_signature_sets(Vec::new(), Ciphersuite::ETHEREUM, Ticket::default())
            .await,
        Ok(Vec::new())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_requests_do_not_count_against_the_queue_limit() {
    let engine = engine();
    let (busy, small, big) = (sets(&engine, 600), sets(&engine, 8), sets(&engine, 593));
    let s = scheduler(engine.clone(), 1, 600);
    let busy = submit(&s, busy, None);
    until_running(&s).await;
    let late = submit(&s, small, Some(Instant::now()));
    until_queued(&s, 8).await;
    // 8 + 593 > 600, but the 8 are past their deadline: they make room.
    let fits = submit(&s, big, None);
    assert_eq!(late.await.unwrap(), Err(ScheduleError::DeadlineExceeded));
    assert_eq!(fits.await.unwrap().unwrap().len(), 593);
    busy.await.unwrap().unwrap();
    let stats = s.stats(Operation::VerifySignatures);
    assert_eq!(stats.rejected.load(Ordering::SeqCst), 0);
    assert_eq!(stats.expired.load(Ordering::SeqCst), 8);
    assert_eq!(stats.queued.load(Ordering::SeqCst), 0);
}

/// One batch merging a caller's 400 sets, a quarter of its first 200 bad, with another
/// caller's one valid set: the good caller is answered as soon as its set is decided
/// (here by the first half-batch, which holds no bad set), while the search for the 50
/// bad sets goes on.
#[test]
fn a_caller_merged_with_bad_sets_is_answered_before_the_search_ends() {
    let engine = engine();
    let mut hostile = sets(&engine, 400);
    for set in hostile[..200].iter_mut().step_by(4) {
        set.messages[0].push(0); // signature no longer matches
    }
    let good = sets(&engine, 401).pop().unwrap();
    let shared = Shared {
        engine: engine.clone(),
        cpu_fallback: OnceLock::new(),
        config: SchedulerConfig::default(),
        state: Mutex::default(),
        wake: Condvar::new(),
        stats: Operation::ALL.map(|_| OperationStats::new()),
    };
    let pending = |payload| {
        let (reply, answer) = oneshot::channel();
        let payload = Payload::Sets(payload);
        let pending = Pending {
            caller: 0,
            cost: payload.cost(),
            bytes: payload.bytes(),
            payload,
            deadline: None,
            enqueued: Instant::now(),
            reply,
        };
        (pending, answer)
    };
    // The good set goes last, so it shares its first halves with bad sets.
    let (hostile_pending, mut hostile_answer) = pending(hostile);
    let (good_pending, good_answer) = pending(vec![good]);
    let batch = Batch {
        key: QueueKey::Signatures {
            suite: Ciphersuite::ETHEREUM,
        },
        operation: Operation::VerifySignatures,
        groth16_key: None,
        requests: vec![hostile_pending, good_pending],
    };
    let watcher = std::thread::spawn(move || {
        let good = good_answer.blocking_recv().expect("answered");
        // At the moment the good caller has its answer, the hostile one has none yet.
        let hostile_done = !matches!(
            hostile_answer.try_recv(),
            Err(oneshot::error::TryRecvError::Empty)
        );
        (good, hostile_done, hostile_answer)
    });
    let search_pool = OnceLock::new();
    let searching = Searching {
        slot: AtomicBool::new(false),
        pool: &search_pool,
    };
    run_batch(&shared, batch, &searching);
    let (good, hostile_done, mut hostile_answer) = watcher.join().unwrap();
    assert_eq!(good, Ok(vec![Ok(true)]));
    assert!(!hostile_done, "the good caller waited for the whole search");
    let hostile = hostile_answer.try_recv().expect("answered").unwrap();
    assert_eq!(hostile.iter().filter(|v| **v == Ok(false)).count(), 50);
}

/// The queues are bounded in cost and bytes too: a request costing more than the queues
/// may hold is refused before it is queued, naming the unit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_are_bounded_in_cost_and_bytes() {
    let engine = engine();
    let bounded = |cost, bytes| {
        configured(
            &engine,
            SchedulerConfig {
                queue_cost_limit: cost,
                queue_byte_limit: bytes,
                ..SchedulerConfig::default()
            },
        )
    };
    // Ten one-key, one-message sets cost 20 units and hold 10 × (96 + 48 + 9..) bytes.
    let ten = sets(&engine, 10);
    let by_cost = bounded(19, 1 << 20)
        .verify_signature_sets(ten.clone(), Ciphersuite::ETHEREUM, Ticket::default())
        .await
        .unwrap_err();
    assert!(
        by_cost
            .to_string()
            .contains("20 cost units exceed the queue limit of 19"),
        "{by_cost}"
    );
    let by_bytes = bounded(1 << 20, 1000)
        .verify_signature_sets(ten.clone(), Ciphersuite::ETHEREUM, Ticket::default())
        .await
        .unwrap_err();
    assert!(
        by_bytes
            .to_string()
            .contains("bytes exceed the queue limit of 1000"),
        "{by_bytes}"
    );
    let fits = bounded(20, 1 << 20)
        .verify_signature_sets(ten, Ciphersuite::ETHEREUM, Ticket::default())
        .await
        .unwrap();
    assert_eq!(fits, vec![Ok(true); 10]);
}

/// A caller that floods the queue gets its turn, not all of them: with the worker busy,
/// caller 1 queues ten requests of 100 sets and caller 2 one request; batches of 300 sets
/// take the callers in turn, so caller 2 is answered while most of caller 1's requests
/// still wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_caller_gets_its_turn_not_every_batch() {
    let engine = engine();
    let s = configured(
        &engine,
        SchedulerConfig {
            max_batch: 300,
            max_delay: Duration::from_secs(60),
            workers: 1,
            ..SchedulerConfig::default()
        },
    );
    let hundred = sets(&engine, 100);
    let busy = submit(&s, sets(&engine, 1200), None);
    until_running(&s).await;
    let as_caller = |caller, sets| {
        submit_as(
            &s,
            sets,
            Ticket {
                deadline: None,
                caller,
            },
        )
    };
    let flood: Vec<_> = (0..10).map(|_| as_caller(1, hundred.clone())).collect();
    until_queued(&s, 1000).await;
    let other = as_caller(2, sets(&engine, 1));
    assert_eq!(other.await.unwrap().unwrap(), vec![Ok(true)]);
    let waiting = flood.iter().filter(|f| !f.is_finished()).count();
    assert!(
        waiting >= 5,
        "caller 2 waited for {} of caller 1's requests",
        10 - waiting
    );
    for f in flood {
        assert_eq!(f.await.unwrap().unwrap().len(), 100);
    }
    busy.await.unwrap().unwrap();
}

/// A request costing more than a batch holds is verified in parts of a batch's cost,
/// answered together in its own order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_costing_more_than_a_batch_is_verified_in_parts() {
    let engine = engine();
    let s = configured(
        &engine,
        SchedulerConfig {
            max_batch_cost: 10,
            ..SchedulerConfig::default()
        },
    );
    let mut twenty = sets(&engine, 20);
    twenty[13].messages[0].push(1);
    let verdicts = s
        .verify_signature_sets(twenty, Ciphersuite::ETHEREUM, Ticket::default())
        .await
        .unwrap();
    let expected: Vec<Verdict> = (0..20).map(|i| Ok(i != 13)).collect();
    assert_eq!(verdicts, expected);
    // Twenty sets of cost 2 in parts of at most 10: at least four batches.
    assert!(
        s.stats(Operation::VerifySignatures)
            .batches
            .load(Ordering::SeqCst)
            >= 4
    );
}

/// A batch searching for its bad items gives its worker up: with one worker, a good
/// caller's request sent while another caller's failed batch is searched is answered
/// before that search ends, instead of queueing behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_searches_does_not_hold_the_next_one() {
    let engine = engine();
    let mut hostile = sets(&engine, 400);
    for set in hostile.iter_mut().step_by(8) {
        set.messages[0].push(0); // signature no longer matches
    }
    let good = sets(&engine, 1);
    let s = scheduler(engine, 1, 1 << 16);
    let ticket = |caller| Ticket {
        deadline: None,
        caller,
    };
    let hostile = submit_as(&s, hostile, ticket(1));
    until("the hostile batch searches", || {
        s.shared.lock().searching == 1
    })
    .await;
    let good = submit_as(&s, good, ticket(2)).await.unwrap();
    assert_eq!(good, Ok(vec![Ok(true)]));
    assert!(
        !hostile.is_finished(),
        "the good request waited for the search"
    );
    let hostile = hostile.await.unwrap().unwrap();
    assert_eq!(hostile.iter().filter(|v| **v == Ok(false)).count(), 50);
    // The answer goes out before the worker gives the slot back.
    until("the search gives its slot back", || {
        s.shared.lock().searching == 0
    })
    .await;
}
