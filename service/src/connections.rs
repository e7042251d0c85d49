//! Accepting connections without running out of them: at most `--max-connections` open
//! at once (beyond it a new socket is closed at once, instead of the process running out
//! of file descriptors), each closed after `--idle-timeout-ms` without a call open (a
//! socket that connects and says nothing, a client that keeps a connection and answers
//! pings but calls nothing; calls are counted by [`crate::open_calls`]), each closed
//! outright at its end of life if one is set (the server's maximum connection age plus a
//! grace: clients were told to go away at the age, and a connection still open after the
//! grace is cut), and the open-file limit raised to its hard limit at start. Peers that
//! vanish during a call are found by HTTP/2 keepalive pings (server.rs).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};
use tokio_stream::Stream;
use tonic::transport::server::{Connected, TcpConnectInfo};

use crate::open_calls::{Calls, OpenCalls};

/// How connections are limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections at most; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// A connection with no call open for this long is closed.
    pub idle_timeout: Duration,
    /// HTTP/2 streams (calls) open at once on one connection; more are refused.
    pub max_streams: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            idle_timeout: Duration::from_secs(300),
            max_streams: 256,
        }
    }
}

/// Raises the soft limit of open files to the hard limit, so that `max_connections`
/// (not the default soft limit, often 1,024) is what bounds connections. Returns the
/// limit in force.
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        // `None` is unlimited.
        let limit = getrlimit(Resource::Nofile);
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        let in_force =
            if limit.current != limit.maximum && setrlimit(Resource::Nofile, raised).is_ok() {
                raised
            } else {
                limit
            };
        Some(in_force.current.unwrap_or(u64::MAX))
    }
    #[cfg(not(unix))]
    None
}

/// The accepted connections of `listener`, within `limits`, each registered in `calls`
/// (whose [`TrackCalls`](crate::open_calls::TrackCalls) layer must be in front of the
/// services, or every connection is idle) and closed `lifetime` after it was accepted
/// (before any TLS handshake) if that is set. An accept task feeds them to the server; it
/// stops when the server drops the stream.
pub fn incoming(
    listener: TcpListener,
    limits: ConnectionLimits,
    lifetime: Option<Duration>,
    calls: OpenCalls,
) -> impl Stream<Item = io::Result<Connection>> {
    let (send, receive) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        let open = Arc::new(AtomicUsize::new(0));
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of descriptors and the like: back off instead of spinning.
                        tracing::warn!(%error, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = send.closed() => return,
            };
            if open.fetch_add(1, Ordering::AcqRel) >= limits.max_connections {
                open.fetch_sub(1, Ordering::AcqRel);
                tracing::warn!(%peer, limit = limits.max_connections, "too many connections; closing a new one");
                continue;
            }
            let _ = stream.set_nodelay(true);
            // Within what a timer can hold (a year), and never zero (the idle check
            // would spin).
            let idle_timeout = limits
                .idle_timeout
                .clamp(Duration::from_millis(1), Duration::from_secs(365 * 86_400));
            let connection = Connection {
                stream,
                peer,
                calls: calls.register(peer),
                registry: calls.clone(),
                idle_timeout,
                idle: Box::pin(tokio::time::sleep(idle_timeout)),
                closing: None,
                end_of_life: lifetime.map(|l| Box::pin(tokio::time::sleep(l))),
                open: open.clone(),
            };
            if send.send(Ok(connection)).await.is_err() {
                return;
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(receive)
}

/// An accepted connection: counted while open, closed when idle too long or at its end
/// of life.
pub struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    calls: Arc<Calls>,
    registry: OpenCalls,
    idle_timeout: Duration,
    /// Fires at the earliest moment the connection could have been idle for
    /// `idle_timeout` (or at the end of the closing grace); when it does, the calls say
    /// whether it has.
    idle: Pin<Box<Sleep>>,
    /// Set once the connection has been idle for `idle_timeout`: it closes at the end of
    /// the grace unless a call starts or a byte arrives meanwhile.
    closing: Option<Closing>,
    end_of_life: Option<Pin<Box<Sleep>>>,
    open: Arc<AtomicUsize>,
}

/// How long an idle connection is watched before it is closed. A call is counted when
/// hyper first polls its stream's task, which runs just after the connection task has
/// read the call's headers, so a request read at the moment the idle time ran out would
/// be cut if the connection closed at once. A byte read during the grace starts another
/// (the call it carries is counted within it), at most [`CLOSING_GRACES`] in all, so a
/// client that sends pings or window updates faster than that is closed too. What is
/// left: a request whose stream task waits longer than the graces to run (a starved
/// runtime), or that arrives in the last one, meets a closed connection, as a request
/// racing any idle close does; clients resend (ours does on a transport error).
const CLOSING_GRACE: Duration = Duration::from_millis(50);
const CLOSING_GRACES: u32 = 4;

#[derive(Clone, Copy)]
struct Closing {
    /// The calls started when the first grace began: another since then is a call.
    started: u64,
    /// Whether a byte was read during this grace.
    read: bool,
    /// Graces watched so far.
    graces: u32,
}

impl Connection {
    /// Whether the connection has had no call open for `idle_timeout` and nothing read
    /// during the closing grace after it; if not, the timer is set to the next moment
    /// that could be so (and polled, so it wakes the connection).
    fn idle(&mut self, cx: &mut Context<'_>) -> bool {
        while self.idle.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            let started = self.calls.started();
            let next = match (self.calls.quiet_since(), self.closing.take()) {
                // A call is open.
                (None, _) => now + self.idle_timeout,
                (Some(since), closing) => {
                    let idle_at = since + self.idle_timeout;
                    match closing {
                        // A call started (and ended) during the graces: idle counts
                        // from its end.
                        Some(c) if c.started != started => idle_at.max(now),
                        Some(c) if !c.read || c.graces >= CLOSING_GRACES => return true,
                        // Bytes read during the grace: watch one more.
                        Some(c) => {
                            self.closing = Some(Closing {
                                read: false,
                                graces: c.graces + 1,
                                ..c
                            });
                            now + CLOSING_GRACE
                        }
                        None if idle_at > now => idle_at,
                        None => {
                            self.closing = Some(Closing {
                                started,
                                read: false,
                                graces: 1,
                            });
                            now + CLOSING_GRACE
                        }
                    }
                }
            };
            self.idle.as_mut().reset(next);
        }
        false
    }

    /// Why the connection must close now, if it must: it is idle, or its end of life
    /// has come (both are checked whenever the socket is polled and would wait).
    fn expired(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        if self.idle(cx) {
            return Some(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection without a call for too long",
            ));
        }
        let ended = self
            .end_of_life
            .as_mut()
            .is_some_and(|end| end.as_mut().poll(cx).is_ready());
        ended.then(|| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                "connection past its maximum age and grace",
            )
        })
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.registry.unregister(&self.peer, &self.calls);
        self.open.fetch_sub(1, Ordering::AcqRel);
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Pending => match this.expired(cx) {
                Some(error) => Poll::Ready(Err(error)),
                None => Poll::Pending,
            },
            ready => {
                if let Some(closing) = &mut this.closing {
                    closing.read |= buf.filled().len() > before;
                }
                ready
            }
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write(cx, buf) {
            // A peer that stops reading is cut at its end of life, or by the keepalive
            // pings it cannot answer.
            Poll::Pending => match this.expired(cx) {
                Some(error) => Poll::Ready(Err(error)),
                None => Poll::Pending,
            },
            ready => ready,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

impl Connected for Connection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.stream.connect_info()
    }
}
