//! The calls open on each connection, so that a connection's idle time is time without a
//! call (gRPC's MAX_CONNECTION_IDLE), not time without a byte: a client that answers the
//! server's keepalive pings, or sends its own, but makes no call is idle, and a call that
//! waits a long time for its client (a quiet `VerifyStream`) keeps its connection.
//!
//! [`OpenCalls`] is shared by the accept loop ([`crate::connections`], which registers each
//! connection by its peer address and closes it when it has been idle too long) and the
//! [`TrackCalls`] layer in front of every service, which counts a call from the moment
//! its headers are read until its response body is dropped.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use hyper::body::{Body, Frame, SizeHint};
use tokio::time::Instant;
use tonic::codegen::{Service, http};
use tonic::transport::server::TcpConnectInfo;

/// The open connections' call counts, by peer address (unique among the open
/// connections of one listener).
#[derive(Clone, Default)]
pub struct OpenCalls {
    by_peer: Arc<Mutex<HashMap<SocketAddr, Arc<Calls>>>>,
}

impl OpenCalls {
    /// Starts counting the calls of a connection accepted from `peer`.
    pub(crate) fn register(&self, peer: SocketAddr) -> Arc<Calls> {
        let calls = Arc::new(Calls {
            open: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            quiet_since: Mutex::new(Instant::now()),
        });
        self.lock().insert(peer, calls.clone());
        calls
    }

    /// Forgets a closed connection (not a newer one from the same address, accepted
    /// after a reset before this one was dropped).
    pub(crate) fn unregister(&self, peer: &SocketAddr, calls: &Arc<Calls>) {
        let mut by_peer = self.lock();
        if by_peer.get(peer).is_some_and(|c| Arc::ptr_eq(c, calls)) {
            by_peer.remove(peer);
        }
    }

    fn find(&self, peer: &SocketAddr) -> Option<Arc<Calls>> {
        self.lock().get(peer).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Arc<Calls>>> {
        // The map holds no invariant a panic could break.
        self.by_peer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One connection's calls: how many are open, how many have started, and since when
/// none has been open.
pub(crate) struct Calls {
    open: AtomicUsize,
    started: AtomicU64,
    quiet_since: Mutex<Instant>,
}

impl Calls {
    /// When the connection last became free of calls (its accept time if it never had
    /// one), or `None` while a call is open.
    pub(crate) fn quiet_since(&self) -> Option<Instant> {
        // Read under the lock a call takes as it ends (CallGuard), so an end is seen whole.
        let since = self
            .quiet_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        (self.open.load(Ordering::Acquire) == 0).then_some(*since)
    }

    /// Calls started on the connection so far.
    pub(crate) fn started(&self) -> u64 {
        self.started.load(Ordering::Acquire)
    }

    fn start(self: &Arc<Self>) -> CallGuard {
        self.open.fetch_add(1, Ordering::AcqRel);
        self.started.fetch_add(1, Ordering::AcqRel);
        CallGuard(self.clone())
    }
}

/// An open call; dropping it ends the call.
struct CallGuard(Arc<Calls>);

impl Drop for CallGuard {
    fn drop(&mut self) {
        let mut since = self
            .0
            .quiet_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.0.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            *since = Instant::now();
        }
    }
}

/// The layer that counts calls in [`OpenCalls`].
#[derive(Clone)]
pub struct TrackCalls(pub OpenCalls);

impl<S> tower_layer::Layer<S> for TrackCalls {
    type Service = Tracked<S>;

    fn layer(&self, inner: S) -> Tracked<S> {
        Tracked {
            inner,
            calls: self.0.clone(),
        }
    }
}

/// A service whose calls are counted on their connection.
#[derive(Clone)]
pub struct Tracked<S> {
    inner: S,
    calls: OpenCalls,
}

impl<S, B, R> Service<http::Request<B>> for Tracked<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<TrackedBody<R>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // Counted when the call's stream task first polls the service, just after the
        // connection task read its headers; the idle check's closing grace
        // (connections.rs) covers the moment between.
        let guard = peer(&request)
            .and_then(|peer| self.calls.find(&peer))
            .map(|calls| calls.start());
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|body| TrackedBody { body, _call: guard }))
        })
    }
}

/// The peer of the connection a request came on (tonic inserts its `TcpConnectInfo` over
/// TLS too, beside the `TlsConnectInfo`).
fn peer<B>(request: &http::Request<B>) -> Option<SocketAddr> {
    request
        .extensions()
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
}

/// A response body that holds its call open until it is dropped (sent or abandoned).
pub struct TrackedBody<R> {
    body: R,
    _call: Option<CallGuard>,
}

impl<R: Body + Unpin> Body for TrackedBody<R> {
    type Data = R::Data;
    type Error = R::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
