//! What each caller may use: cost per second (a token bucket), requests in flight, and
//! registered Groth16 keys, per [`Identity`]. Over a quota is RESOURCE_EXHAUSTED with a
//! `google.rpc.RetryInfo` in the status details saying when to try again, so clients
//! back off instead of hammering.
//!
//! Every identity gets the default quota unless the configuration names it
//! (`[quotas.NAME]`); anonymous callers share one quota between them. Metrics are kept
//! per identity with bounded labels: the names the configuration knows (tokens and
//! `[quotas.NAME]` sections), "anonymous", and "other" for the rest (client certificates
//! of names not configured).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use veribatch_engine::groth16::KeyId;

use crate::auth::Identity;

/// One caller's allowance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quota {
    /// Cost units per second, sustained.
    pub cost_per_second: f64,
    /// Cost units that may be spent at once (the bucket's size); a request costing more
    /// passes when the bucket is full and leaves it in debt.
    pub burst: f64,
    /// Requests (stream requests included) being worked on at once.
    pub in_flight: usize,
    /// Groth16 keys this caller may have registered.
    pub keys: usize,
}

impl Default for Quota {
    fn default() -> Self {
        Self {
            cost_per_second: 1_000_000.0,
            burst: 2_000_000.0,
            in_flight: 512,
            keys: 64,
        }
    }
}

/// How callers are held to their quotas.
#[derive(Clone, Debug, Default)]
pub struct QuotaConfig {
    pub default: Quota,
    /// Quotas of named identities.
    pub named: BTreeMap<String, Quota>,
    /// If set, only these identities may register Groth16 keys.
    pub registrars: Option<HashSet<String>>,
}

/// Which quota a request exceeded, as a metric label.
const QUOTAS: [&str; 4] = ["cost", "in_flight", "keys", "register"];

/// The live state of every caller.
pub struct Quotas {
    config: QuotaConfig,
    callers: Mutex<HashMap<Identity, Caller>>,
    /// Names that get a metric label of their own.
    labelled: RwLock<HashSet<String>>,
    counters: Mutex<BTreeMap<String, Counters>>,
}

struct Caller {
    tokens: f64,
    refilled: Instant,
    in_flight: usize,
    keys: HashSet<KeyId>,
}

impl Caller {
    /// A caller seen for the first time: a full bucket.
    fn new(quota: Quota) -> Self {
        Self {
            tokens: quota.burst,
            refilled: Instant::now(),
            in_flight: 0,
            keys: HashSet::new(),
        }
    }
}

/// Per-label counts, for metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub requests: u64,
    pub cost: u64,
    /// Refusals by quota, in the order of [`QUOTAS`].
    pub refused: [u64; 4],
}

/// A request admitted under its caller's in-flight quota; dropping it frees the slot.
pub struct Admission {
    quotas: Arc<Quotas>,
    identity: Identity,
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some(caller) = self.quotas.callers().get_mut(&self.identity) {
            caller.in_flight = caller.in_flight.saturating_sub(1);
        }
    }
}

impl Quotas {
    pub fn new(config: QuotaConfig, token_names: &[String]) -> Self {
        let labelled = config
            .named
            .keys()
            .cloned()
            .chain(token_names.iter().cloned())
            .collect();
        Self {
            config,
            callers: Mutex::default(),
            labelled: RwLock::new(labelled),
            counters: Mutex::default(),
        }
    }

    fn callers(&self) -> MutexGuard<'_, HashMap<Identity, Caller>> {
        self.callers.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn quota(&self, identity: &Identity) -> Quota {
        match identity {
            Identity::Named(name) => self.config.named.get(name).copied(),
            Identity::Anonymous => None,
        }
        .unwrap_or(self.config.default)
    }

    /// The metric label of `identity`.
    pub fn label(&self, identity: &Identity) -> String {
        match identity {
            Identity::Named(name)
                if self
                    .labelled
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .contains(name) =>
            {
                name.clone()
            }
            Identity::Named(_) => "other".into(),
            Identity::Anonymous => "anonymous".into(),
        }
    }

    fn count(&self, identity: &Identity, update: impl FnOnce(&mut Counters)) {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        update(counters.entry(self.label(identity)).or_default());
    }

    fn refuse(
        &self,
        identity: &Identity,
        quota: usize,
        message: String,
        retry: Option<Duration>,
    ) -> Status {
        self.count(identity, |c| c.refused[quota] += 1);
        match retry {
            Some(delay) => Status::with_error_details(
                Code::ResourceExhausted,
                message,
                ErrorDetails::with_retry_info(Some(delay)),
            ),
            None => Status::resource_exhausted(message),
        }
    }

    /// Admits a request of `cost` from `identity`, or says when to retry.
    pub fn admit(self: &Arc<Self>, identity: &Identity, cost: u64) -> Result<Admission, Status> {
        let quota = self.quota(identity);
        let now = Instant::now();
        let cost = cost as f64;
        let mut callers = self.callers();
        let caller = callers
            .entry(identity.clone())
            .or_insert_with(|| Caller::new(quota));
        let elapsed = now.duration_since(caller.refilled).as_secs_f64();
        caller.tokens = (caller.tokens + elapsed * quota.cost_per_second).min(quota.burst);
        caller.refilled = now;
        if caller.in_flight >= quota.in_flight {
            drop(callers);
            return Err(self.refuse(
                identity,
                1,
                format!(
                    "{}: {} requests in flight, the quota; retry when one is answered",
                    identity.name(),
                    quota.in_flight
                ),
                Some(Duration::from_millis(100)),
            ));
        }
        // A request costing more than the bucket holds passes when the bucket is full,
        // and leaves it in debt: any request within the limits passes in time.
        let needed = cost.min(quota.burst);
        if caller.tokens < needed {
            let wait = (needed - caller.tokens) / quota.cost_per_second.max(f64::MIN_POSITIVE);
            drop(callers);
            let delay = Duration::from_secs_f64(wait.min(3600.0)).max(Duration::from_millis(1));
            return Err(self.refuse(
                identity,
                0,
                format!(
                    "{}: over the quota of {} cost units per second; retry in {} ms",
                    identity.name(),
                    quota.cost_per_second,
                    delay.as_millis()
                ),
                Some(delay),
            ));
        }
        caller.tokens = (caller.tokens - cost).max(-quota.burst);
        caller.in_flight += 1;
        drop(callers);
        self.count(identity, |c| {
            c.requests += 1;
            c.cost += cost as u64;
        });
        Ok(Admission {
            quotas: Arc::clone(self),
            identity: identity.clone(),
        })
    }

    /// Charges `identity` for work its request caused beyond its cost: the search for its
    /// invalid items. The bucket may go into debt, down to minus its size, so a caller
    /// that keeps sending bad items is refused (with a retry delay) until it is repaid.
    pub fn charge(&self, identity: &Identity, extra: u64) {
        if extra == 0 {
            return;
        }
        let quota = self.quota(identity);
        if let Some(caller) = self.callers().get_mut(identity) {
            caller.tokens = (caller.tokens - extra as f64).max(-quota.burst);
        }
        self.count(identity, |c| c.cost += extra);
    }

    /// Whether `identity` may register keys at all (checked before a key is parsed).
    pub fn may_register(&self, identity: &Identity) -> Result<(), Status> {
        if let Some(registrars) = &self.config.registrars
            && !registrars.contains(identity.name())
        {
            self.count(identity, |c| c.refused[3] += 1);
            return Err(Status::permission_denied(format!(
                "{}: registering Groth16 keys is limited to named identities",
                identity.name()
            )));
        }
        Ok(())
    }

    /// Counts `key` against `identity`'s key quota, or refuses it if the quota is full (a
    /// key the caller registered before always passes).
    pub fn claim_key(&self, identity: &Identity, key: KeyId) -> Result<(), Status> {
        let quota = self.quota(identity);
        let mut callers = self.callers();
        let keys = &mut callers
            .entry(identity.clone())
            .or_insert_with(|| Caller::new(quota))
            .keys;
        if keys.contains(&key) {
            return Ok(());
        }
        let held = keys.len();
        if held >= quota.keys {
            drop(callers);
            return Err(self.refuse(
                identity,
                2,
                format!(
                    "{}: {held} Groth16 keys registered, the quota",
                    identity.name()
                ),
                None,
            ));
        }
        keys.insert(key);
        Ok(())
    }

    /// Names that get a metric label of their own from now on (the tokens after a reload).
    pub fn label_names(&self, names: &[String]) {
        let mut labelled = self.labelled.write().unwrap_or_else(|e| e.into_inner());
        *labelled = self
            .config
            .named
            .keys()
            .cloned()
            .chain(names.iter().cloned())
            .collect();
    }

    /// The counts per label, for metrics.
    pub fn counters(&self) -> BTreeMap<String, Counters> {
        self.counters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The names of the quotas, in the order of [`Counters::refused`].
    pub fn quota_names() -> [&'static str; 4] {
        QUOTAS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quotas(quota: Quota) -> Arc<Quotas> {
        Arc::new(Quotas::new(
            QuotaConfig {
                default: quota,
                ..QuotaConfig::default()
            },
            &[],
        ))
    }

    #[test]
    fn the_bucket_and_the_in_flight_count_refuse_with_a_retry_delay() {
        let q = quotas(Quota {
            cost_per_second: 10.0,
            burst: 20.0,
            in_flight: 2,
            keys: 1,
        });
        let who = Identity::Named("a".into());
        let first = q.admit(&who, 15).unwrap();
        let over = q.admit(&who, 10).map(|_| ()).unwrap_err();
        assert_eq!(over.code(), Code::ResourceExhausted);
        let delay = over
            .get_details_retry_info()
            .and_then(|r| r.retry_delay)
            .unwrap();
        assert!(
            delay > Duration::from_millis(100) && delay <= Duration::from_secs(1),
            "{delay:?}"
        );
        let second = q.admit(&who, 1).unwrap();
        let busy = q.admit(&who, 1).map(|_| ()).unwrap_err();
        assert!(busy.message().contains("in flight"), "{busy:?}");
        drop((first, second));
        // Another caller has a bucket of its own.
        assert!(q.admit(&Identity::Anonymous, 15).is_ok());
        let counts = q.counters();
        assert_eq!(counts["other"].refused, [1, 1, 0, 0]);
        assert_eq!(counts["anonymous"].cost, 15);
    }

    #[test]
    fn a_search_charged_puts_the_bucket_in_debt() {
        let q = quotas(Quota {
            cost_per_second: 10.0,
            burst: 20.0,
            in_flight: 8,
            keys: 1,
        });
        let who = Identity::Named("a".into());
        drop(q.admit(&who, 1).unwrap());
        q.charge(&who, 30);
        let refused = q.admit(&who, 1).map(|_| ()).unwrap_err();
        let delay = refused
            .get_details_retry_info()
            .and_then(|r| r.retry_delay)
            .unwrap();
        // 20 - 1 - 30 = -11 units: 12 units to refill at 10 units/s before a request of
        // 1 passes (without the debt, 0.1 s).
        assert!(delay > Duration::from_secs(1), "{delay:?}");
        assert_eq!(q.counters()["other"].cost, 31);
    }

    #[test]
    fn keys_are_counted_per_caller_and_registration_can_be_limited() {
        let q = quotas(Quota {
            keys: 1,
            ..Quota::default()
        });
        let who = Identity::Named("a".into());
        q.may_register(&who).unwrap();
        q.claim_key(&who, [1; 32]).unwrap();
        q.claim_key(&who, [1; 32]).unwrap();
        let full = q.claim_key(&who, [2; 32]).unwrap_err();
        assert_eq!(full.code(), Code::ResourceExhausted);

        let limited = Quotas::new(
            QuotaConfig {
                registrars: Some(["ops".to_string()].into()),
                ..QuotaConfig::default()
            },
            &[],
        );
        assert_eq!(
            limited.may_register(&who).unwrap_err().code(),
            Code::PermissionDenied
        );
        assert!(limited.may_register(&Identity::Named("ops".into())).is_ok());
    }
}
