//! The replicas a client calls: one URL, several separated by commas, or every address a
//! DNS name resolves to (`dns:///name:port`, a Kubernetes headless Service), resolved
//! again every [`RESOLVE_EVERY`].
//!
//! Calls to several replicas are balanced by power of two choices on the calls in flight
//! (tower's balance, in tonic). Every [`PROBE_EVERY`] each replica is asked, on a
//! connection of its own, whether it is serving (the gRPC health service): one that is
//! not (draining before a restart, killed, unreachable) is taken out of the balance, so
//! new calls go elsewhere, and put back when it answers SERVING again.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tonic::transport::channel::Change;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::ClientError;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// How often `dns:///` targets are resolved again.
pub const RESOLVE_EVERY: Duration = Duration::from_secs(30);

/// How often each replica of a pool is asked whether it serves.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);

/// A probe not answered in this time counts as "not serving".
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The TLS settings for `ca` (the certificate authority of the server's certificate) and
/// a client certificate, if either is given.
pub(crate) fn tls_config(
    ca: Option<&Path>,
    identity: Option<(&Path, &Path)>,
) -> Result<Option<ClientTlsConfig>, ClientError> {
    if ca.is_none() && identity.is_none() {
        return Ok(None);
    }
    let read = |p: &Path| {
        std::fs::read(p).map_err(|source| ClientError::Read {
            path: p.to_path_buf(),
            source,
        })
    };
    let mut tls = ClientTlsConfig::new();
    if let Some(ca) = ca {
        tls = tls.ca_certificate(Certificate::from_pem(read(ca)?));
    }
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?));
    }
    Ok(Some(tls))
}

/// A channel to `target`: one URL is connected at once (so that a wrong address fails
/// here); several, or a DNS name, make a pool watched by a task that ends with the
/// channel.
pub(crate) async fn connect(
    target: &str,
    mut tls: Option<ClientTlsConfig>,
) -> Result<Channel, ClientError> {
    let targets = if let Some(name) = target.strip_prefix("dns:///") {
        let scheme = if tls.is_some() { "https" } else { "http" };
        // Endpoints are addresses; the certificate names the Service.
        let host = name.rsplit_once(':').map_or(name, |(host, _)| host);
        tls = tls.map(|t| t.domain_name(host.trim_matches(['[', ']'])));
        Targets::Dns {
            name: name.to_string(),
            scheme,
        }
    } else if target.contains(',') {
        Targets::List(
            target
                .split(',')
                .map(|url| url.trim().to_string())
                .collect(),
        )
    } else {
        return endpoint(target, tls.as_ref())?
            .connect()
            .await
            .map_err(|source| ClientError::Connect {
                target: target.to_string(),
                source,
            });
    };
    let first = targets.urls().await?;
    if first.is_empty() {
        return Err(ClientError::Target {
            target: target.to_string(),
            reason: "no address".into(),
        });
    }
    for url in &first {
        endpoint(url, tls.as_ref())?;
    }
    let (channel, changes) = Channel::balance_channel::<String>(64);
    let mut pool = Pool {
        targets,
        tls,
        replicas: HashMap::new(),
        changes,
    };
    tokio::spawn(async move {
        if pool.update(first).await.is_ok() {
            pool.watch().await;
        }
    });
    Ok(channel)
}

fn endpoint(url: &str, tls: Option<&ClientTlsConfig>) -> Result<Endpoint, ClientError> {
    let endpoint = Endpoint::from_shared(url.to_string()).map_err(|e| ClientError::Target {
        target: url.to_string(),
        reason: e.to_string(),
    })?;
    match tls {
        Some(tls) => endpoint.tls_config(tls.clone()).map_err(ClientError::Tls),
        None => Ok(endpoint),
    }
}

/// Where the replicas are.
enum Targets {
    List(Vec<String>),
    Dns { name: String, scheme: &'static str },
}

impl Targets {
    /// The replicas' URLs now.
    async fn urls(&self) -> Result<HashSet<String>, ClientError> {
        match self {
            Self::List(urls) => Ok(urls.iter().cloned().collect()),
            Self::Dns { name, scheme } => tokio::net::lookup_host(name)
                .await
                .map(|addresses| addresses.map(|a| format!("{scheme}://{a}")).collect())
                .map_err(|e| ClientError::Target {
                    target: format!("dns:///{name}"),
                    reason: e.to_string(),
                }),
        }
    }
}

/// The balanced channel was dropped: nothing left to watch.
struct Closed;

/// The replicas behind a balanced channel, by URL.
struct Pool {
    targets: Targets,
    tls: Option<ClientTlsConfig>,
    replicas: HashMap<String, Replica>,
    changes: mpsc::Sender<Change<String, Endpoint>>,
}

struct Replica {
    endpoint: Endpoint,
    /// The probes' own connection, apart from the balanced one.
    health: HealthClient<Channel>,
    /// Whether calls are balanced to it now.
    in_balance: bool,
}

impl Pool {
    /// Probes the replicas every [`PROBE_EVERY`] and resolves a DNS name again every
    /// [`RESOLVE_EVERY`], until the channel is dropped.
    async fn watch(mut self) {
        let mut resolved = Instant::now();
        loop {
            tokio::time::sleep(PROBE_EVERY).await;
            if self.changes.is_closed() {
                return;
            }
            if matches!(self.targets, Targets::Dns { .. }) && resolved.elapsed() >= RESOLVE_EVERY {
                resolved = Instant::now();
                match self.targets.urls().await {
                    // An empty answer (a Service scaled to nothing for a moment) is kept
                    // from emptying the pool, like an error.
                    Ok(urls) if urls.is_empty() => {
                        tracing::warn!(
                            "the target resolves to no address; keeping the replicas known"
                        )
                    }
                    Ok(urls) => {
                        if self.update(urls).await.is_err() {
                            return;
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot resolve the target again"),
                }
            }
            if self.probe().await.is_err() {
                return;
            }
        }
    }

    /// Replicas no longer in `urls` leave the pool; new ones join it, balanced to until
    /// a probe says otherwise.
    async fn update(&mut self, urls: HashSet<String>) -> Result<(), Closed> {
        let gone: Vec<String> = self
            .replicas
            .keys()
            .filter(|url| !urls.contains(*url))
            .cloned()
            .collect();
        for url in gone {
            if self.replicas.remove(&url).is_some_and(|r| r.in_balance) {
                send(&self.changes, Change::Remove(url)).await?;
            }
        }
        for url in urls {
            if self.replicas.contains_key(&url) {
                continue;
            }
            let Ok(endpoint) = endpoint(&url, self.tls.as_ref()) else {
                continue;
            };
            let health = HealthClient::new(endpoint.connect_lazy());
            send(&self.changes, Change::Insert(url.clone(), endpoint.clone())).await?;
            let replica = Replica {
                endpoint,
                health,
                in_balance: true,
            };
            self.replicas.insert(url, replica);
        }
        Ok(())
    }

    /// Asks every replica at once whether it serves, and takes those that do not out of
    /// the balance (and those that do back in). When none serves, all stay in: a call
    /// then fails and is retried, where with no replica at all it would wait.
    async fn probe(&mut self) -> Result<(), Closed> {
        let mut probes = JoinSet::new();
        for (url, replica) in &self.replicas {
            let (url, mut health) = (url.clone(), replica.health.clone());
            probes.spawn(async move { (serving(&mut health).await, url) });
        }
        let mut serving = HashSet::new();
        while let Some(answer) = probes.join_next().await {
            if let Ok((true, url)) = answer {
                serving.insert(url);
            }
        }
        let all = serving.is_empty();
        for (url, replica) in &mut self.replicas {
            let wanted = all || serving.contains(url);
            if wanted == replica.in_balance {
                continue;
            }
            if wanted {
                tracing::info!(replica = %url, "replica serving again; back in the balance");
                send(
                    &self.changes,
                    Change::Insert(url.clone(), replica.endpoint.clone()),
                )
                .await?;
            } else {
                tracing::warn!(replica = %url, "replica not serving; out of the balance");
                send(&self.changes, Change::Remove(url.clone())).await?;
            }
            replica.in_balance = wanted;
        }
        Ok(())
    }
}

async fn send(
    changes: &mpsc::Sender<Change<String, Endpoint>>,
    change: Change<String, Endpoint>,
) -> Result<(), Closed> {
    changes.send(change).await.map_err(|_| Closed)
}

/// Whether the replica says it serves. One without the health service cannot say, and
/// is not taken out for it.
async fn serving(health: &mut HealthClient<Channel>) -> bool {
    let request = HealthCheckRequest {
        service: String::new(),
    };
    match tokio::time::timeout(PROBE_TIMEOUT, health.check(request)).await {
        Ok(Ok(answer)) => answer.into_inner().status == ServingStatus::Serving as i32,
        Ok(Err(status)) => status.code() == tonic::Code::Unimplemented,
        Err(_) => false,
    }
}
