//! Prometheus metrics: requests and items by operation and outcome, latency, batch size
//! and queue wait histograms, queue depth, backend, device fallbacks. Rendered in the
//! Prometheus text format and served over HTTP on `--metrics-listen` at `/metrics`.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tonic::Code;
use veribatch_engine::Verdict;
use veribatch_engine::scheduler::stats::SECONDS_BUCKETS;
use veribatch_engine::scheduler::{Histogram, Operation, OperationStats, Scheduler};

use crate::convert::code_name;
use crate::quotas::{Counters, Quotas};

/// The RPCs, as metric labels.
pub const RPCS: &[&str] = &[
    "get_info",
    "verify_signatures",
    "aggregate_signatures",
    "aggregate_public_keys",
    "merkle_root",
    "merkle_root_stream",
    "verify_merkle_proofs",
    "log_root",
    "verify_log_proofs",
    "register_verifying_key",
    "verify_groth16",
    "verify_sm2",
    "verify_stream",
];

/// Reads one count of a caller's.
type CallerReader = fn(&Counters) -> u64;

/// Reads one counter of an operation's scheduler statistics.
type StatReader = fn(&OperationStats) -> u64;

/// What the service counts itself; the scheduler's counters are read at render time.
pub struct Metrics {
    scheduler: Arc<Scheduler>,
    quotas: Arc<Quotas>,
    /// (rpc, gRPC outcome) -> requests.
    requests: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// (rpc, verdict) -> items.
    items: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Seconds per request, per RPC (same order as [`RPCS`]).
    latency: Vec<Histogram>,
}

impl Metrics {
    pub fn new(scheduler: Arc<Scheduler>, quotas: Arc<Quotas>) -> Self {
        Self {
            scheduler,
            quotas,
            requests: Mutex::default(),
            items: Mutex::default(),
            latency: RPCS
                .iter()
                .map(|_| Histogram::new(SECONDS_BUCKETS))
                .collect(),
        }
    }

    /// Counts one finished request of `rpc` (one of [`RPCS`]).
    pub fn request(&self, rpc: &'static str, outcome: Code, elapsed: Duration) {
        *lock(&self.requests)
            .entry((rpc, code_name(outcome)))
            .or_default() += 1;
        if let Some(i) = RPCS.iter().position(|r| *r == rpc) {
            self.latency[i].observe(elapsed.as_secs_f64());
        }
    }

    /// Counts the verdicts of a request's items.
    pub fn verdicts(&self, rpc: &'static str, verdicts: &[Verdict]) {
        let mut items = lock(&self.items);
        for v in verdicts {
            let verdict = match v {
                Ok(true) => "valid",
                Ok(false) => "invalid",
                Err(_) => "malformed",
            };
            *items.entry((rpc, verdict)).or_default() += 1;
        }
    }

    /// The metrics in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let engine = self.scheduler.engine();
        family(
            &mut out,
            "veribatch_requests_total",
            "counter",
            "Requests by RPC and outcome (gRPC status code).",
        );
        for ((rpc, outcome), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "veribatch_requests_total{{rpc=\"{rpc}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        family(
            &mut out,
            "veribatch_items_total",
            "counter",
            "Items verified by RPC and verdict (valid, invalid, malformed).",
        );
        for ((rpc, verdict), n) in lock(&self.items).iter() {
            let _ = writeln!(
                out,
                "veribatch_items_total{{rpc=\"{rpc}\",verdict=\"{verdict}\"}} {n}"
            );
        }
        family(
            &mut out,
            "veribatch_request_duration_seconds",
            "histogram",
            "Time to answer a request, by RPC.",
        );
        for (rpc, h) in RPCS.iter().zip(&self.latency) {
            histogram(
                &mut out,
                "veribatch_request_duration_seconds",
                &format!("rpc=\"{rpc}\""),
                h,
            );
        }

        let ops = Operation::ALL.map(|op| (op.name(), self.scheduler.stats(op)));
        family(
            &mut out,
            "veribatch_batch_size",
            "histogram",
            "Items per engine batch, by operation.",
        );
        for (op, s) in &ops {
            histogram(
                &mut out,
                "veribatch_batch_size",
                &format!("operation=\"{op}\""),
                &s.batch_size,
            );
        }
        family(
            &mut out,
            "veribatch_queue_wait_seconds",
            "histogram",
            "Time a request waited in its queue before its batch started.",
        );
        for (op, s) in &ops {
            histogram(
                &mut out,
                "veribatch_queue_wait_seconds",
                &format!("operation=\"{op}\""),
                &s.queue_wait,
            );
        }
        let backend = engine.backend().name();
        let counters: [(&str, &str, &str, StatReader); 5] = [
            (
                "veribatch_batches_total",
                "counter",
                "Engine batches run, by operation and backend.",
                |s| load(&s.batches),
            ),
            (
                "veribatch_queue_depth",
                "gauge",
                "Items waiting in the queues, by operation.",
                |s| load(&s.queued),
            ),
            (
                "veribatch_rejected_requests_total",
                "counter",
                "Requests refused because the queues were full.",
                |s| load(&s.rejected),
            ),
            (
                "veribatch_expired_items_total",
                "counter",
                "Items dropped unverified: deadline passed or caller gone.",
                |s| load(&s.expired),
            ),
            (
                "veribatch_device_fallbacks_total",
                "counter",
                "Batches rerun on the CPU after a device failure.",
                |s| load(&s.fallbacks),
            ),
        ];
        for (name, kind, help, value) in counters {
            family(&mut out, name, kind, help);
            for (op, s) in &ops {
                let _ = writeln!(
                    out,
                    "{name}{{operation=\"{op}\",backend=\"{backend}\"}} {}",
                    value(s)
                );
            }
        }
        family(
            &mut out,
            "veribatch_backend_info",
            "gauge",
            "The backend the engine runs on (value 1).",
        );
        let _ = writeln!(out, "veribatch_backend_info{{backend=\"{backend}\"}} 1");
        if let Some(health) = engine.device_health() {
            let device: [(&str, &str, &str, u64); 6] = [
                (
                    "veribatch_device_primitive_fallbacks_total",
                    "counter",
                    "Primitive calls the device failed (error or malformed answer), run on the CPU.",
                    health.fallbacks,
                ),
                (
                    "veribatch_device_spot_checks_total",
                    "counter",
                    "Device answers recomputed on the CPU.",
                    health.spot_checks,
                ),
                (
                    "veribatch_device_mismatches_total",
                    "counter",
                    "Device answers that differed from the CPU's.",
                    health.mismatches,
                ),
                (
                    "veribatch_device_disabled",
                    "gauge",
                    "1 once the device answered wrongly and the CPU runs everything.",
                    u64::from(health.disabled.is_some()),
                ),
                (
                    "veribatch_device_watchdog_timeouts_total",
                    "counter",
                    "Device calls abandoned by the watchdog and run on the CPU.",
                    health.watchdog_timeouts,
                ),
                (
                    "veribatch_device_unhealthy",
                    "gauge",
                    "1 while the device is not answering (until a probe answers right).",
                    u64::from(health.unhealthy.is_some()),
                ),
            ];
            for (name, kind, help, value) in device {
                family(&mut out, name, kind, help);
                let _ = writeln!(out, "{name}{{backend=\"{backend}\"}} {value}");
            }
        }
        self.render_callers(&mut out);
        family(
            &mut out,
            "veribatch_cached_public_keys",
            "gauge",
            "Validated public keys held in the cache.",
        );
        let _ = writeln!(
            out,
            "veribatch_cached_public_keys {}",
            engine.cached_public_keys()
        );
        out
    }
}

impl Metrics {
    /// Requests, cost and refusals per caller (named identities, "anonymous", "other").
    fn render_callers(&self, out: &mut String) {
        let callers = self.quotas.counters();
        let per_caller: [(&str, &str, CallerReader); 2] = [
            (
                "veribatch_caller_requests_total",
                "Requests admitted, by caller.",
                |c| c.requests,
            ),
            (
                "veribatch_caller_cost_total",
                "Cost units admitted and charged (keys and messages, leaves and nodes, …), by caller.",
                |c| c.cost,
            ),
        ];
        for (name, help, value) in per_caller {
            family(out, name, "counter", help);
            for (caller, c) in &callers {
                let _ = writeln!(out, "{name}{{caller=\"{caller}\"}} {}", value(c));
            }
        }
        family(
            out,
            "veribatch_quota_refusals_total",
            "counter",
            "Requests refused over a quota, by caller and quota.",
        );
        for (caller, c) in &callers {
            for (quota, n) in Quotas::quota_names().iter().zip(c.refused) {
                let _ = writeln!(
                    out,
                    "veribatch_quota_refusals_total{{caller=\"{caller}\",quota=\"{quota}\"}} {n}"
                );
            }
        }
    }
}

fn load(a: &std::sync::atomic::AtomicU64) -> u64 {
    a.load(std::sync::atomic::Ordering::Relaxed)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn histogram(out: &mut String, name: &str, labels: &str, h: &Histogram) {
    for (bound, count) in h.cumulative() {
        let le = if bound.is_infinite() {
            "+Inf".to_string()
        } else {
            bound.to_string()
        };
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {count}");
    }
    let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum());
    let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count());
}

/// Scrapes served at once; more wait to be accepted.
const METRICS_CONNECTIONS: usize = 16;
/// A scraper must send its request headers within this, and be done within
/// [`METRICS_CONNECTION_TIME`]: a socket that connects and says nothing holds nothing.
const METRICS_HEADER_TIME: Duration = Duration::from_secs(5);
const METRICS_CONNECTION_TIME: Duration = Duration::from_secs(30);

/// Serves `GET /metrics` on `listener` until the task is dropped: one request per
/// connection, a bounded number of connections, headers within a deadline.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(METRICS_CONNECTIONS));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "metrics listener cannot accept");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let respond = service_fn(move |request: Request<hyper::body::Incoming>| {
                let metrics = metrics.clone();
                async move {
                    let response = if request.uri().path() == "/metrics" {
                        Response::builder()
                            .header("content-type", "text/plain; version=0.0.4")
                            .body(Full::new(Bytes::from(metrics.render())))
                    } else {
                        Response::builder()
                            .status(StatusCode::NOT_FOUND)
                            .body(Full::new(Bytes::from("try /metrics\n")))
                    };
                    Ok::<_, Infallible>(response.expect("static response parts"))
                }
            });
            let connection = http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(METRICS_HEADER_TIME)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), respond);
            match tokio::time::timeout(METRICS_CONNECTION_TIME, connection).await {
                Ok(Err(e)) => tracing::debug!(error = %e, "metrics connection ended with an error"),
                Err(_) => tracing::debug!("metrics connection took too long; closed"),
                Ok(Ok(())) => {}
            }
            drop(slot);
        });
    }
}

/// The address a metrics listener is bound to, for logs.
pub fn describe(addr: SocketAddr) -> String {
    format!("http://{addr}/metrics")
}
