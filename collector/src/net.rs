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

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Request, Response, StatusCode, Version};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;

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
    let body = serde_json::json!({ "error": reason }).to_string();
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

/// The connections of one server, for the limits and for shedding.
struct Registry {
    inner: Mutex<RegistryInner>,
    total: usize,
    per_ip: usize,
}

#[derive(Default)]
struct RegistryInner {
    conns: HashMap<u64, Arc<ConnState>>,
    per_ip: HashMap<IpAddr, usize>,
    /// Connections told to close that have not closed yet (not counted against the total).
    shedding: usize,
    next: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Registry {
    /// Admits a connection from `ip`, shedding the connection idle the longest when the total is
    /// reached; or says why not.
    fn admit(&self, ip: IpAddr, me: &Arc<Registry>) -> Result<Ticket, String> {
        let mut g = lock(&self.inner);
        if g.per_ip.get(&ip).copied().unwrap_or(0) >= self.per_ip {
            return Err(format!(
                "too many connections from {ip}: at most {} at once (--max-connections-per-ip); close some or retry later",
                self.per_ip
            ));
        }
        if g.conns.len() - g.shedding >= self.total {
            let victim = g
                .conns
                .values()
                .filter(|c| !c.shed.load(Ordering::Relaxed))
                .filter_map(|c| c.idle_key().map(|k| (k, c)))
                .min_by_key(|(k, _)| *k)
                .map(|(_, c)| Arc::clone(c));
            let Some(victim) = victim else {
                return Err(format!(
                    "the collector has {} connections (--max-connections), every one busy with a request: retry later",
                    self.total
                ));
            };
            victim.shed.store(true, Ordering::Relaxed);
            victim.wake.notify_one();
            g.shedding += 1;
        }
        let id = g.next;
        g.next += 1;
        let state = Arc::new(ConnState {
            phase: Mutex::new(Phase {
                active: 0,
                served: 0,
                since: Instant::now(),
                first_byte: None,
                write_blocked: None,
                h2: false,
            }),
            wake: Notify::new(),
            shed: AtomicBool::new(false),
        });
        g.conns.insert(id, Arc::clone(&state));
        *g.per_ip.entry(ip).or_insert(0) += 1;
        Ok(Ticket {
            id,
            ip,
            state,
            registry: Arc::clone(me),
        })
    }
}

/// A connection's place in the registry, given back when its task ends.
struct Ticket {
    id: u64,
    ip: IpAddr,
    state: Arc<ConnState>,
    registry: Arc<Registry>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut g = lock(&self.registry.inner);
        if g.conns.remove(&self.id).is_some() && self.state.shed.load(Ordering::Relaxed) {
            g.shedding -= 1;
        }
        if let Some(n) = g.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                g.per_ip.remove(&self.ip);
            }
        }
    }
}

/// What the deadlines of one connection depend on.
struct ConnState {
    phase: Mutex<Phase>,
    /// The phase changed, or the connection was shed: its task recomputes its deadline.
    wake: Notify,
    /// Told to close to make room for a new connection.
    shed: AtomicBool,
}

struct Phase {
    /// Requests in flight (from their head to the end of their response).
    active: usize,
    /// Requests started so far.
    served: u64,
    /// When the connection became idle: accept, or the end of its last response.
    since: Instant,
    /// The first byte read while idle: a request head is under way.
    first_byte: Option<Instant>,
    /// Since when a write waits for the client to read.
    write_blocked: Option<Instant>,
    /// HTTP/2 (bytes while idle may be pings and settings, not a request).
    h2: bool,
}

impl ConnState {
    fn phase(&self) -> MutexGuard<'_, Phase> {
        lock(&self.phase)
    }

    /// When the connection is to be closed, as things stand.
    fn deadline(&self, t: &Timeouts, accepted: Instant) -> Option<Instant> {
        let p = self.phase();
        let stalled = p.write_blocked.map(|w| w + t.idle);
        let phase = if p.active > 0 {
            None
        } else if p.served == 0 {
            Some(accepted + t.header)
        } else if p.h2 {
            Some(p.since + t.idle)
        } else if let Some(b) = p.first_byte {
            Some(b + t.header)
        } else {
            Some(p.since + t.idle)
        };
        earliest(stalled, phase)
    }

    /// `None` while a request is in flight; else the order in which idle connections are shed:
    /// those that sent nothing since they became idle first, the longest idle first.
    fn idle_key(&self) -> Option<(bool, Instant)> {
        let p = self.phase();
        if p.active > 0 {
            return None;
        }
        Some(match p.first_byte {
            Some(b) if !p.h2 => (true, b),
            _ => (false, p.since),
        })
    }

    fn idle_h2(&self) -> bool {
        let p = self.phase();
        p.h2 && p.active == 0
    }

    /// Resolves once the connection is shed.
    async fn shed_signal(&self) {
        while !self.shed.load(Ordering::Relaxed) {
            self.wake.notified().await;
        }
    }

    fn on_read(&self) {
        let mut p = self.phase();
        if p.active == 0 && p.first_byte.is_none() {
            p.first_byte = Some(Instant::now());
            drop(p);
            self.wake.notify_one();
        }
    }

    fn on_write(&self, blocked: bool) {
        let mut p = self.phase();
        match (blocked, p.write_blocked.is_some()) {
            (true, false) => {
                p.write_blocked = Some(Instant::now());
                drop(p);
                self.wake.notify_one();
            }
            (false, true) => p.write_blocked = None,
            _ => {}
        }
    }

    fn begin(self: &Arc<Self>, h2: bool) -> Active {
        let mut p = self.phase();
        p.active += 1;
        p.served += 1;
        p.first_byte = None;
        p.h2 |= h2;
        drop(p);
        self.wake.notify_one();
        Active(Arc::clone(self))
    }
}

/// A request in flight; dropped with its response body (or when it is cut).
struct Active(Arc<ConnState>);

impl Drop for Active {
    fn drop(&mut self) {
        let mut p = self.0.phase();
        p.active -= 1;
        if p.active == 0 {
            p.since = Instant::now();
            p.first_byte = None;
        }
        drop(p);
        self.0.wake.notify_one();
    }
}

/// Set on a request whose body did not arrive in time (see [`Timeouts::body`]); handlers find
/// it in the request's extensions to answer `408`.
#[derive(Clone, Debug, Default)]
pub struct BodyDeadline(Arc<AtomicBool>);

impl BodyDeadline {
    /// Whether the body deadline passed.
    pub fn expired(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The message for a body that did not arrive in time.
pub fn body_too_slow(t: &Timeouts) -> String {
    format!(
        "the request body did not arrive in time: a body may take {} s, and one more second per {} bytes received",
        t.body.as_secs_f64(),
        t.body_min_rate
    )
}

#[derive(Clone)]
struct ConnService {
    app: axum::Router,
    state: Arc<ConnState>,
    timeouts: Timeouts,
    grpc: bool,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Guarded>;
    type Error = std::convert::Infallible;
    type Future =
        Pin<Box<dyn Future<Output = Result<Response<Guarded>, std::convert::Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let h2 = req.version() == Version::HTTP_2;
        let active = self.state.begin(h2);
        let deadline = BodyDeadline::default();
        let t = self.timeouts;
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(deadline.clone());
        let start = Instant::now();
        let body = TimedBody {
            inner: body,
            start,
            base: t.body,
            rate: t.body_min_rate,
            received: 0,
            sleep: Box::pin(tokio::time::sleep_until(start + t.body)),
            deadline: deadline.clone(),
        };
        let req = Request::from_parts(parts, Body::new(body));
        let mut app = self.app.clone();
        let grpc = self.grpc;
        Box::pin(async move {
            let mut resp = match tower_service::Service::call(&mut app, req).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            if grpc {
                if deadline.expired() {
                    resp = tonic::Status::deadline_exceeded(body_too_slow(&t)).into_http();
                }
                grpc_status_for_bad_input(&mut resp);
            } else if deadline.expired() {
                if resp.status() != StatusCode::REQUEST_TIMEOUT {
                    let body = serde_json::json!({ "error": body_too_slow(&t) }).to_string();
                    resp = Response::new(Body::from(body));
                    *resp.status_mut() = StatusCode::REQUEST_TIMEOUT;
                    resp.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                }
                if !h2 {
                    resp.headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
            }
            Ok(resp.map(|inner| Guarded {
                inner,
                _active: active,
            }))
        })
    }
}

/// tonic answers a request it cannot decode (garbage, a bad compressed frame) with `INTERNAL`,
/// and one over the size limit with `OUT_OF_RANGE`, both before the service sees it. OTLP
/// clients treat `INTERNAL` as the server's fault and `OUT_OF_RANGE` as retryable; the client's
/// input is at fault and retrying it cannot succeed, so they become `INVALID_ARGUMENT` and
/// `RESOURCE_EXHAUSTED` (what gRPC's own servers answer for a message too large). The OTLP
/// services themselves never answer either code.
fn grpc_status_for_bad_input(resp: &mut Response<Body>) {
    let h = resp.headers_mut();
    let code = h
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<i32>().ok());
    let fixed = match code {
        Some(13) => tonic::Code::InvalidArgument,
        Some(11) => tonic::Code::ResourceExhausted,
        _ => return,
    };
    h.insert("grpc-status", HeaderValue::from(fixed as i32));
}

/// A request body with the body deadline.
struct TimedBody {
    inner: Incoming,
    start: Instant,
    base: Duration,
    rate: u64,
    received: u64,
    sleep: Pin<Box<Sleep>>,
    deadline: BodyDeadline,
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.deadline.expired() {
            return Poll::Ready(Some(Err("the request body did not arrive in time".into())));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    this.received += d.len() as u64;
                    if let Some(ms) = this.received.saturating_mul(1000).checked_div(this.rate) {
                        // At most a day more, whatever the body.
                        let extra = Duration::from_millis(ms.min(86_400_000));
                        let at = this.start + this.base + extra;
                        this.sleep.as_mut().reset(at);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if this.sleep.as_mut().poll(cx).is_ready() {
                    this.deadline.0.store(true, Ordering::Relaxed);
                    Poll::Ready(Some(Err("the request body did not arrive in time".into())))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that keeps its request counted as in flight until it is done.
struct Guarded {
    inner: Body,
    _active: Active,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A TCP stream that tells its connection's state when bytes arrive and when writes block.
struct Watched {
    tcp: TcpStream,
    state: Arc<ConnState>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.state.on_read();
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.tcp).poll_write(cx, buf);
        self.state.on_write(r.is_pending());
        r
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs);
        self.state.on_write(r.is_pending());
        r
    }
    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

enum Conn {
    Plain(Watched),
    Tls(Box<tokio_rustls::server::TlsStream<Watched>>),
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match &mut *$self {
            Conn::Plain($s) => {
                let $s = Pin::new($s);
                $e
            }
            Conn::Tls($s) => {
                let $s = Pin::new($s.as_mut());
                $e
            }
        }
    };
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write(cx, buf))
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_flush(cx))
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_shutdown(cx))
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write_vectored(cx, bufs))
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }
}
