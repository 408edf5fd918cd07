//! Serving HTTP/1.1 and HTTP/2, plain or TLS, with a bound on everything a client controls. Both
//! servers (HTTP and OTLP/gRPC) run here, each on its own listener with its own limits.
//!
//! * **Connections**: at most `total` at once, and `per_ip` from one client address. A client
//!   over its own limit is answered `503 Service Unavailable` with `Retry-After` and the reason
//!   (on the gRPC port, which speaks only HTTP/2, it is disconnected). When the total is
//!   reached, the connection idle the longest (one that never sent a byte first) is closed to
//!   make room, so idle connections cannot starve new ones; only when every connection is busy
//!   with a request does a new one get the 503.
//! * **Time** ([`Timeouts`]): a request head must arrive within `header` (the first one counted
//!   from accept, TLS handshake included; later ones from their first byte); a body must keep
//!   up with `body_min_rate` after `body` (Apache's mod_reqtimeout rule: each `body_min_rate`
//!   bytes received give one more second, so a client sending a byte a second is cut while a slow
//!   honest one is not), else `408`; a connection with no request in flight may stay idle for
//!   `idle`; a response the client stops reading is cut after `idle` without progress.
//! * **Shutdown**: stop accepting, close idle connections, let requests in flight finish for
//!   `grace`, then cut what is left. Nothing is acknowledged before it is durable, so a cut
//!   request loses nothing that was acknowledged (the client retries it; duplicates are dropped).

use std::io;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

mod registry;
mod service;
mod stream;

pub use service::{body_too_slow, BodyDeadline};

use registry::{Registry, Ticket};
use service::ConnService;
use stream::{Conn, Watched};

/// How long clients may take; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// For a request head: the first from accept (TLS handshake included), later ones from
    /// their first byte.
    pub header: Duration,
    /// For a request body, before [`Timeouts::body_min_rate`] extends it.
    pub body: Duration,
    /// Bytes per second of body that extend the body deadline by one second each (0: never).
    pub body_min_rate: u64,
    /// For a connection with no request in flight, and for a response the client does not read.
    pub idle: Duration,
    /// After a shutdown starts, for requests in flight to finish; then they are cut.
    pub grace: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header: Duration::from_secs(10),
            body: Duration::from_secs(30),
            body_min_rate: 1024,
            idle: Duration::from_secs(60),
            grace: Duration::from_secs(10),
        }
    }
}

/// How one server runs.
#[derive(Clone)]
pub struct Options {
    /// Open connections at once.
    pub total: usize,
    /// Open connections from one client address.
    pub per_ip: usize,
    /// Deadlines.
    pub timeouts: Timeouts,
    /// TLS, if served.
    pub tls: Option<TlsAcceptor>,
    /// The gRPC server: HTTP/2 only, gRPC status codes for refused bodies.
    pub grpc: bool,
}

/// Concurrent streams per HTTP/2 connection.
const MAX_STREAMS: u32 = 256;

/// Refusals (the 503 answers to connections over a limit) under way at once; past it an
/// over-limit connection is closed without an answer.
const REFUSING: usize = 64;

/// How long a refusal may take to write its answer and let the client read it.
const REFUSAL_TIME: Duration = Duration::from_secs(2);

/// Serves `app` on `listener` until `stopping` turns true, then shuts down as the module docs
/// say. Returns once every connection is closed.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    opts: Options,
    mut stopping: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The deadlines are kept here (hyper's own header timeout would also end idle keep-alive
    // connections, and does not cover the TLS handshake or the protocol detection).
    builder.http1().header_read_timeout(None);
    builder.http2().max_concurrent_streams(MAX_STREAMS);
    if opts.grpc {
        builder = builder.http2_only();
    }
    let registry = Arc::new(Registry {
        inner: Mutex::default(),
        total: opts.total.max(1),
        per_ip: opts.per_ip.max(1),
    });
    let grace = opts.timeouts.grace;
    let shared = Arc::new(Shared { app, opts, builder });
    let refusing = Arc::new(Semaphore::new(REFUSING));
    let mut conns = JoinSet::new();
    loop {
        let (tcp, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(_) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            Some(_) = conns.join_next() => continue,
            _ = stopped(&mut stopping) => break,
        };
        let accepted = Instant::now();
        match registry.admit(addr.ip(), &registry) {
            Ok(ticket) => {
                conns.spawn(connection(
                    tcp,
                    ticket,
                    accepted,
                    Arc::clone(&shared),
                    stopping.clone(),
                ));
            }
            Err(reason) => {
                // Answered off the accept loop, a bounded number at a time.
                if let Ok(permit) = Arc::clone(&refusing).try_acquire_owned() {
                    let shared = Arc::clone(&shared);
                    conns.spawn(async move {
                        refuse(tcp, &reason, &shared).await;
                        drop(permit);
                    });
                }
            }
        }
    }
    // Stop SYN-ACKing at once rather than leave new clients hanging in the backlog.
    drop(listener);
    let deadline = Instant::now() + grace;
    while let Ok(Some(_)) = tokio::time::timeout_at(deadline, conns.join_next()).await {}
    conns.shutdown().await;
    Ok(())
}

struct Shared {
    app: axum::Router,
    opts: Options,
    builder: auto::Builder<TokioExecutor>,
}

/// Answers a connection over a limit with `503` and the reason (plain HTTP and HTTPS), then
/// closes it after letting the client read the answer.
async fn refuse(tcp: TcpStream, reason: &str, shared: &Shared) {
    if shared.opts.grpc {
        return; // HTTP/2 only: no HTTP/1 answer to give; the client sees the close and retries
    }
    let body = weft_api::http::ApiError::message(reason).to_json();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tcp.set_nodelay(true);
    let _ = tokio::time::timeout(REFUSAL_TIME, async {
        match &shared.opts.tls {
            None => answer_and_linger(tcp, answer.as_bytes()).await,
            Some(acceptor) => {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    answer_and_linger(tls, answer.as_bytes()).await;
                }
            }
        }
    })
    .await;
}

/// Writes `answer`, half-closes, and reads what the client still sends until it closes (so the
/// kernel does not reset the connection, losing the answer, over unread request bytes).
async fn answer_and_linger<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, answer: &[u8]) {
    if s.write_all(answer).await.is_err() || s.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0u8; 4096];
    while let Ok(n) = s.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}

/// Serves one admitted connection until it ends, a deadline passes, it is shed, or the
/// shutdown's grace period ends (the task is then aborted).
async fn connection(
    tcp: TcpStream,
    ticket: Ticket,
    accepted: Instant,
    shared: Arc<Shared>,
    mut stopping: watch::Receiver<bool>,
) {
    let state = Arc::clone(&ticket.state);
    let t = shared.opts.timeouts;
    let _ = tcp.set_nodelay(true);
    let io = Watched {
        tcp,
        state: Arc::clone(&state),
    };
    let io = match &shared.opts.tls {
        None => Conn::Plain(io),
        Some(acceptor) => {
            let handshake = tokio::time::timeout_at(accepted + t.header, acceptor.accept(io));
            tokio::select! {
                r = handshake => match r {
                    Ok(Ok(tls)) => Conn::Tls(Box::new(tls)),
                    _ => return,
                },
                _ = state.shed_signal() => return,
                _ = stopped(&mut stopping) => return,
            }
        }
    };
    let svc = ConnService {
        app: shared.app.clone(),
        state: Arc::clone(&state),
        timeouts: t,
        grpc: shared.opts.grpc,
    };
    let conn = shared.builder.serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    let mut closing = false;
    // Set once an idle HTTP/2 connection was asked to go away (GOAWAY): the latest it may take.
    let mut cut_at: Option<Instant> = None;
    loop {
        let deadline = earliest(state.deadline(&t, accepted), cut_at);
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = sleep => {
                let now = Instant::now();
                if cut_at.is_some_and(|c| c <= now) {
                    return;
                }
                if state.deadline(&t, accepted).is_some_and(|d| d <= now) {
                    if state.idle_h2() && !closing {
                        // Tell an idle HTTP/2 client to go away (it reconnects when it needs
                        // to) rather than drop a connection it may be about to use.
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                        cut_at = Some(now + t.header);
                    } else {
                        return;
                    }
                }
            }
            _ = state.wake.notified() => {
                if state.shed.load(Ordering::Relaxed) && !closing {
                    if state.idle_key().is_some() && !state.idle_h2() {
                        return;
                    }
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
            _ = stopped(&mut stopping), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

/// Resolves once `stopping` is true (or its sender is gone).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|s| *s).await;
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
