//! Property test of the scheduler: whatever the interleaving of submissions, batch
//! sizes, deadlines and a shutdown, every request is answered exactly once, and a
//! request answered with verdicts gets exactly its own, in its order: none dropped,
//! duplicated, reordered or mixed with another request's.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;
use crate::EngineConfig;
use crate::backend::BackendChoice;
use crate::bls::Ciphersuite;

/// What one set of a request is: its verdict is known before it is verified.
#[derive(Clone, Copy, Debug)]
enum Item {
    Valid(usize),
    /// A valid signature over another message.
    Invalid(usize),
    /// A signature cut short.
    Malformed(usize),
}

/// Deadline of a request.
#[derive(Clone, Copy, Debug)]
enum Deadline {
    None,
    Passed,
    Far,
}

#[derive(Clone, Debug)]
struct Request {
    items: Vec<Item>,
    deadline: Deadline,
}

const POOL: usize = 24;

/// POOL valid sets, signed once for all cases.
fn pool(engine: &Engine) -> &'static [SignatureSet] {
    static POOL_SETS: OnceLock<Vec<SignatureSet>> = OnceLock::new();
    POOL_SETS.get_or_init(|| {
        (0..POOL)
            .map(|i| {
                let mut sk = [9u8; 32];
                sk[31] = i as u8 + 1;
                let message = format!("property {i}").into_bytes();
                let suite = &Ciphersuite::ETHEREUM;
                SignatureSet {
                    signature: engine.sign(&sk, &message, suite).unwrap().to_vec(),
                    public_keys: vec![engine.public_key(&sk).unwrap().to_vec()],
                    messages: vec![message],
                }
            })
            .collect()
    })
}

fn set_of(engine: &Engine, item: Item) -> SignatureSet {
    let sets = pool(engine);
    match item {
        Item::Valid(i) => sets[i].clone(),
        Item::Invalid(i) => SignatureSet {
            messages: sets[(i + 1) % POOL].messages.clone(),
            ..sets[i].clone()
        },
        Item::Malformed(i) => SignatureSet {
            signature: sets[i].signature[..95].to_vec(),
            ..sets[i].clone()
        },
    }
}

/// The verdict an item must get: Ok(valid) or an error.
fn expected(item: Item) -> Result<bool, ()> {
    match item {
        Item::Valid(_) => Ok(true),
        Item::Invalid(_) => Ok(false),
        Item::Malformed(_) => Err(()),
    }
}

fn item() -> impl Strategy<Value = Item> {
    (0..POOL, 0..10u8).prop_map(|(i, kind)| match kind {
        0..=6 => Item::Valid(i),
        7..=8 => Item::Invalid(i),
        _ => Item::Malformed(i),
    })
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop::collection::vec(item(), 0..6),
        prop_oneof![
            6 => Just(Deadline::None),
            1 => Just(Deadline::Passed),
            2 => Just(Deadline::Far),
        ],
    )
        .prop_map(|(items, deadline)| Request { items, deadline })
}

fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            Arc::new(Engine::new(&EngineConfig {
                backend: BackendChoice::Cpu,
                ..EngineConfig::default()
            }))
        })
        .clone()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_request_gets_exactly_its_own_verdicts(
        requests in prop::collection::vec(request(), 1..12),
        max_batch in 1usize..10,
        workers in 1usize..4,
        delay_micros in 0u64..2000,
        shutdown_after in prop::option::of(0usize..12),
    ) {
        let engine = engine();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let scheduler = Arc::new(Scheduler::new(
            engine.clone(),
            SchedulerConfig {
                max_batch,
                max_delay: Duration::from_micros(delay_micros),
                queue_limit: 1 << 16,
                workers,
                ..SchedulerConfig::default()
            },
        ));
        let answers = runtime.block_on(async {
            let mut tasks = Vec::new();
            for (i, request) in requests.iter().enumerate() {
                if shutdown_after == Some(i) {
                    let s = scheduler.clone();
                    tasks.push((None, tokio::task::spawn_blocking(move || { s.shutdown(); None })));
                }
                let sets = request.items.iter().map(|&it| set_of(&engine, it)).collect();
                let deadline = match request.deadline {
                    Deadline::None => None,
                    Deadline::Passed => Some(Instant::now()),
                    Deadline::Far => Some(Instant::now() + Duration::from_secs(600)),
                };
                let s = scheduler.clone();
                tasks.push((Some(i), tokio::spawn(async move {
                    Some(
                        s.verify_signature_sets(
                            sets,
                            Ciphersuite::ETHEREUM,
                            Ticket {
                                deadline,
                                caller: i as u64 % 3,
                            },
                        )
                        .await,
                    )
                })));
            }
            let mut answers = vec![None; requests.len()];
            for (index, task) in tasks {
                let answer = tokio::time::timeout(Duration::from_secs(120), task)
                    .await
                    .expect("every request is answered")
                    .expect("no task panics");
                if let Some(i) = index {
                    answers[i] = answer;
                }
            }
            answers
        });
        scheduler.shutdown();
        for (request, answer) in requests.iter().zip(answers) {
            let answer = answer.expect("an answer per request");
            let want: Vec<Result<bool, ()>> = request.items.iter().map(|&i| expected(i)).collect();
            match answer {
                Ok(verdicts) => {
                    let got: Vec<Result<bool, ()>> =
                        verdicts.into_iter().map(|v| v.map_err(|_| ())).collect();
                    prop_assert_eq!(got, want, "{:?}", request);
                    prop_assert!(
                        !matches!(request.deadline, Deadline::Passed) || request.items.is_empty(),
                        "a request past its deadline was verified"
                    );
                }
                Err(ScheduleError::DeadlineExceeded) => {
                    prop_assert!(matches!(request.deadline, Deadline::Passed), "{:?}", request);
                }
                Err(ScheduleError::ShuttingDown) => {
                    prop_assert!(shutdown_after.is_some(), "refused without a shutdown");
                }
                Err(other) => prop_assert!(false, "unexpected answer {other:?} for {request:?}"),
            }
        }
    }
}
