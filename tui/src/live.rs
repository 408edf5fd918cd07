//! The live follower: reads the collector's `GET /v1/stream` and polls `GET /v1/status` in
//! background threads, and hands what it finds to the UI over a bounded channel.
//!
//! The stream is a never-ending chunked NDJSON response with no heartbeats, so the follower must
//! tell an idle stream from a dead one and still notice a stop request promptly. reqwest's blocking
//! client turns a read timeout into an error that is hard to tell from a real one, so the stream is
//! read with a small HTTP/1.1 client over a plain [`TcpStream`] with a short socket read timeout: a
//! timeout there only means "nothing new yet". The status counters, one small request a second,
//! go through reqwest.
//!
//! Positions are counted by the follower: line `N` of a stream opened with `from=F` is store
//! position `F + N`, so after any failure the follower reopens the stream from the number of lines
//! it has already handed over, and no line is delivered twice or skipped.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use reqwest::Url;

/// Where and how to follow a collector.
#[derive(Clone)]
pub struct LiveConfig {
    /// The collector's base URL, e.g. `http://127.0.0.1:4318`; a trailing slash, a path prefix
    /// (for a collector behind a reverse proxy) and a missing `http://` are tolerated.
    pub url: String,
    /// The bearer token the collector requires, if any.
    pub token: Option<String>,
    /// The longest line accepted, in bytes (without its newline): a longer line is skipped and
    /// reported as [`LiveMsg::Skipped`], so one bad line cannot make the follower buffer without
    /// bound.
    pub max_line: usize,
}

impl fmt::Debug for LiveConfig {
    /// Hides the token, because configurations end up in logs and error messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveConfig")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("max_line", &self.max_line)
            .finish()
    }
}

/// What the follower tells the UI.
#[derive(Clone, Debug, PartialEq)]
pub enum LiveMsg {
    /// Complete NDJSON lines (each ending in '\n') in stream order; `count` lines; `first` = store
    /// position of the first. Lines are batched (up to about 1 MiB) so that a backlog costs the UI
    /// a few messages rather than one per event.
    Lines {
        /// The lines, each ending in `\n`.
        bytes: Vec<u8>,
        /// How many lines `bytes` holds.
        count: u64,
        /// The store position of the first line.
        first: u64,
    },
    /// The line at store position `position` was not delivered (it was longer than
    /// [`LiveConfig::max_line`]); it still counts as seen, so the following lines keep their
    /// positions and a reconnection does not ask for it again.
    Skipped {
        /// The store position of the skipped line.
        position: u64,
        /// Why it was skipped, for the user.
        reason: String,
    },
    /// The link changed state.
    Link(LinkState),
    /// The collector's /v1/status counters, polled about once a second while reachable.
    Stats(CollectorStats),
}

/// The state of the link to the collector's stream.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkState {
    /// Connecting, or waiting for the response headers.
    Connecting,
    /// The stream is open: new lines arrive as the collector stores them.
    Connected,
    /// The stream failed or ended; the follower tries again after `retry_in`.
    Disconnected {
        /// A short reason for the user, e.g. "connection refused".
        reason: String,
        /// How long until the next attempt.
        retry_in: Duration,
    },
}

/// The collector's counters that the UI shows (a subset of `GET /v1/status`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CollectorStats {
    /// Events durably stored.
    pub events: u64,
    /// Exact duplicate events dropped.
    pub duplicates: u64,
    /// Invalid lines and OTLP records rejected.
    pub rejected: u64,
    /// Batches refused because the write queue was full.
    pub dropped_batches: u64,
    /// OTLP records skipped because they had no weft sequence number.
    pub skipped_otlp_records: u64,
    /// Batches waiting for the store.
    pub queue_depth: u64,
}

/// The first wait before reconnecting; it doubles up to [`MAX_RETRY`] while attempts keep failing.
const FIRST_RETRY: Duration = Duration::from_millis(250);
/// The longest wait before reconnecting, so a restarted collector is found within seconds.
const MAX_RETRY: Duration = Duration::from_secs(5);
/// The socket read timeout: how often a silent stream checks the stop flag.
const TICK: Duration = Duration::from_millis(200);
/// The slice in which waits are cut to check the stop flag.
const NAP: Duration = Duration::from_millis(50);
/// Per address; short so that `stop()` is not held up by an unreachable host for long.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(800);
/// How long the collector may take to send the response headers.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response head accepted.
const MAX_HEAD: usize = 64 << 10;
/// How long and how much of an error response's body is read for its message.
const ERROR_BODY_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_ERROR_BODY: usize = 64 << 10;
/// The longest chunk-size or trailer line accepted in a chunked body.
const MAX_CHUNK_LINE: usize = 4096;
/// A [`LiveMsg::Lines`] is sent once it holds this many bytes.
const BATCH_BYTES: usize = 1 << 20;
/// How much one socket read takes.
const READ_BUF: usize = 256 << 10;
/// How often the status counters are polled, and how long one poll may take.
const STATUS_EVERY: Duration = Duration::from_secs(1);
const STATUS_TIMEOUT: Duration = Duration::from_millis(800);
/// How long `stop()` waits for the threads before leaving them to finish on their own.
const STOP_WAIT: Duration = Duration::from_millis(1500);

/// The running follower: two threads, the stream reader and the status poller.
pub struct Follower {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// Disconnected once every thread has ended (each holds a sender it drops on exit), so
    /// `stop()` can wait for them with a deadline, which `JoinHandle::join` cannot.
    done: mpsc::Receiver<()>,
}

impl Follower {
    /// Starts following in background threads; messages go to `tx` (a bounded channel: when the UI is slow the follower waits, it never drops lines).
    ///
    /// The first messages are `Link(Connecting)` then `Link(Connected)` (or `Disconnected` with a
    /// reason). Nothing here blocks: a bad URL is reported as a `Disconnected` reason.
    pub fn spawn(cfg: LiveConfig, tx: SyncSender<LiveMsg>) -> Follower {
        let stop = Arc::new(AtomicBool::new(false));
        let (done_tx, done) = mpsc::channel::<()>();
        let mut threads = Vec::new();
        let link = Link {
            tx: tx.clone(),
            stop: stop.clone(),
        };
        let stream_cfg = cfg.clone();
        let stream_link = link.clone();
        let stream_done = done_tx.clone();
        let spawned = thread::Builder::new()
            .name("weft-live-stream".into())
            .spawn(move || {
                let _done = stream_done;
                follow_stream(&stream_cfg, &stream_link);
            });
        match spawned {
            Ok(h) => threads.push(h),
            Err(e) => {
                // Nothing can follow the stream: say so, once, without waiting on the channel.
                let _ = tx.try_send(LiveMsg::Link(LinkState::Disconnected {
                    reason: format!("cannot start the stream thread: {e}"),
                    retry_in: Duration::ZERO,
                }));
            }
        }
        let status_link = link;
        let status_done = done_tx;
        // A missing status thread only costs the counters, so a failure to start it is ignored.
        if let Ok(h) = thread::Builder::new()
            .name("weft-live-status".into())
            .spawn(move || {
                let _done = status_done;
                poll_status(&cfg, &status_link);
            })
        {
            threads.push(h);
        }
        Follower {
            stop,
            threads,
            done,
        }
    }

    /// Asks the threads to stop and returns promptly (does not block on a stalled read for more than ~1 s).
    ///
    /// Every blocking step of the threads (socket reads, connects, status requests, waits for a
    /// full channel) gives up within about a second once asked to stop; should one not (a slow
    /// DNS lookup), it is left to finish on its own after 1.5 s rather than holding up the UI.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + STOP_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.done.recv_timeout(left) {
                Ok(()) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
                // Leave the stragglers detached: they exit at their next check of the flag.
                Err(RecvTimeoutError::Timeout) => return,
            }
        }
        for h in self.threads.drain(..) {
            let _ = h.join();
        }
    }
}

impl Drop for Follower {
    /// A follower dropped without `stop()` still stops its threads (without waiting for them).
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// What both threads share: the channel to the UI and the stop flag.
#[derive(Clone)]
struct Link {
    tx: SyncSender<LiveMsg>,
    stop: Arc<AtomicBool>,
}

impl Link {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sends, waiting while the channel is full (a slow UI slows the follower down, it never
    /// loses lines) but still honouring a stop request. False when the thread must end: stopped,
    /// or the receiver is gone, in which case the other thread is told to end too.
    fn send(&self, msg: LiveMsg) -> bool {
        let mut msg = msg;
        let mut nap = Duration::from_millis(1);
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => return true,
                Err(TrySendError::Full(m)) => {
                    if self.stopped() {
                        return false;
                    }
                    thread::sleep(nap);
                    nap = (nap * 2).min(Duration::from_millis(20));
                    msg = m;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.stop.store(true, Ordering::SeqCst);
                    return false;
                }
            }
        }
    }

    /// Waits `d` in short naps; false if asked to stop meanwhile.
    fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        loop {
            if self.stopped() {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            thread::sleep(left.min(NAP));
        }
    }
}

/// The collector's base URL, checked and normalised.
struct Endpoint {
    url: Url,
    /// The path prefix without a trailing slash ("" for a collector at the root).
    prefix: String,
}

impl Endpoint {
    fn parse(raw: &str) -> Result<Endpoint, String> {
        let raw = raw.trim();
        let with_scheme = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("http://{raw}")
        };
        let url =
            Url::parse(&with_scheme).map_err(|e| format!("invalid collector URL {raw:?}: {e}"))?;
        match url.scheme() {
            "http" => {}
            "https" => {
                return Err(
                    "https is not supported by the live view (this build has no TLS): \
                            use http://"
                        .into(),
                )
            }
            other => {
                return Err(format!(
                    "unsupported URL scheme {other:?}: use http://HOST:PORT"
                ))
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("invalid collector URL {raw:?}: no host"));
        }
        let prefix = url.path().trim_end_matches('/').to_string();
        Ok(Endpoint { url, prefix })
    }

    /// The value of the Host header: the host, and the port unless it is the default.
    fn host_header(&self) -> String {
        let host = self.url.host_str().unwrap_or("");
        match self.url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        }
    }

    fn status_url(&self) -> Url {
        let mut u = self.url.clone();
        u.set_path(&format!("{}/v1/status", self.prefix));
        u.set_query(None);
        u.set_fragment(None);
        u
    }
}

/// How one connection to the stream ended.
enum End {
    /// Asked to stop, or the UI is gone: the thread ends.
    Stop,
    /// A failure: reconnect after a wait. `connected` tells whether the stream had opened (which
    /// resets the backoff).
    Failed { reason: String, connected: bool },
}

fn failed(reason: impl Into<String>, connected: bool) -> End {
    End::Failed {
        reason: reason.into(),
        connected,
    }
}

/// The stream thread: connect, read until failure, wait, reconnect from where it left off.
fn follow_stream(cfg: &LiveConfig, link: &Link) {
    let mut next = 0u64;
    let mut backoff = FIRST_RETRY;
    loop {
        if link.stopped() || !link.send(LiveMsg::Link(LinkState::Connecting)) {
            return;
        }
        let (reason, connected) = match session(cfg, link, &mut next) {
            End::Stop => return,
            End::Failed { reason, connected } => (reason, connected),
        };
        if connected {
            backoff = FIRST_RETRY;
        }
        let retry_in = backoff;
        backoff = (backoff * 2).min(MAX_RETRY);
        if !link.send(LiveMsg::Link(LinkState::Disconnected { reason, retry_in }))
            || !link.sleep(retry_in)
        {
            return;
        }
    }
}

/// One connection: request the stream from position `*next`, deliver its lines, advance `*next`.
fn session(cfg: &LiveConfig, link: &Link, next: &mut u64) -> End {
    let ep = match Endpoint::parse(&cfg.url) {
        Ok(ep) => ep,
        Err(reason) => return failed(reason, false),
    };
    if let Some(t) = &cfg.token {
        if t.chars().any(char::is_control) {
            return failed(
                "the token contains a line break or control character",
                false,
            );
        }
    }
    let mut sock = match connect(&ep, link) {
        Ok(Some(s)) => s,
        Ok(None) => return End::Stop,
        Err(reason) => return failed(reason, false),
    };
    let mut request = format!(
        "GET {}/v1/stream?from={} HTTP/1.1\r\nHost: {}\r\nAccept: application/x-ndjson\r\n\
         User-Agent: weft-tui\r\nConnection: close\r\n",
        ep.prefix,
        *next,
        ep.host_header()
    );
    if let Some(t) = &cfg.token {
        request.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    request.push_str("\r\n");
    if let Err(e) = sock.write_all(request.as_bytes()) {
        return failed(format!("cannot send the request: {e}"), false);
    }

    let mut raw = Vec::new();
    let head = match read_head(&mut sock, link, &mut raw) {
        Ok(h) => h,
        Err(end) => return end,
    };
    let mut body = match head.framing() {
        Ok(b) => b,
        Err(reason) => return failed(reason, false),
    };
    if head.status != 200 {
        let text = read_error_body(&mut sock, link, &mut body, &raw);
        return failed(http_reason(&head, &text), false);
    }
    if !link.send(LiveMsg::Link(LinkState::Connected)) {
        return End::Stop;
    }

    let mut lines = LineSplitter::new(cfg.max_line);
    let mut pending = Vec::new();
    let mut buf = vec![0u8; READ_BUF];
    // The bytes already read past the head belong to the body.
    let mut fresh = raw;
    loop {
        if !fresh.is_empty() {
            if let Err(reason) = body.feed(&fresh, &mut pending) {
                return failed(format!("malformed response: {reason}"), true);
            }
            for msg in lines.split(&mut pending, next) {
                if !link.send(msg) {
                    return End::Stop;
                }
            }
            if body.finished() {
                return failed("stream ended (collector stopped)", true);
            }
        }
        fresh.clear();
        if link.stopped() {
            return End::Stop;
        }
        match sock.read(&mut buf) {
            Ok(0) => {
                let reason = if body.ends_at_eof() {
                    "stream ended (collector stopped)"
                } else {
                    "connection closed mid-stream (collector stopped?)"
                };
                return failed(reason, true);
            }
            Ok(n) => fresh.extend_from_slice(&buf[..n]),
            // An idle stream: nothing new yet. Loop to check the stop flag.
            Err(e) if is_timeout(&e) => {}
            Err(e) => return failed(format!("connection lost: {e}"), true),
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Connects to the first address that answers. `Ok(None)` when asked to stop meanwhile.
fn connect(ep: &Endpoint, link: &Link) -> Result<Option<TcpStream>, String> {
    let host = ep.url.host_str().unwrap_or("");
    let addrs: Vec<SocketAddr> = ep
        .url
        .socket_addrs(|| Some(80))
        .map_err(|e| format!("cannot resolve {host}: {e}"))?;
    let mut last = format!("cannot resolve {host}: no address");
    for addr in addrs {
        if link.stopped() {
            return Ok(None);
        }
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(s) => {
                let setup = s
                    .set_read_timeout(Some(TICK))
                    .and_then(|()| s.set_write_timeout(Some(Duration::from_secs(1))))
                    .and_then(|()| s.set_nodelay(true));
                return match setup {
                    Ok(()) => Ok(Some(s)),
                    Err(e) => Err(format!("cannot set up the connection: {e}")),
                };
            }
            Err(e) => {
                last = match e.kind() {
                    io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                        "connection timed out".to_string()
                    }
                    _ => format!("cannot connect: {e}"),
                };
            }
        }
    }
    Err(last)
}

/// A parsed response head.
#[derive(Debug)]
struct Head {
    status: u16,
    /// The reason phrase of the status line.
    phrase: String,
    chunked: bool,
    content_length: Option<u64>,
}

impl Head {
    fn framing(&self) -> Result<Body, String> {
        if self.chunked {
            Ok(Body::Chunked(Chunked::default()))
        } else if let Some(n) = self.content_length {
            Ok(Body::Length(n))
        } else {
            Ok(Body::Eof)
        }
    }
}

/// Reads the response head (skipping any 1xx interim response); leaves the bytes read past it in
/// `raw`.
fn read_head(sock: &mut TcpStream, link: &Link, raw: &mut Vec<u8>) -> Result<Head, End> {
    let deadline = Instant::now() + HEAD_TIMEOUT;
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = find(raw, b"\r\n\r\n") {
            let head = parse_head(&raw[..end]).map_err(|r| failed(r, false))?;
            raw.drain(..end + 4);
            if (100..200).contains(&head.status) {
                continue;
            }
            return Ok(head);
        }
        if raw.len() > MAX_HEAD {
            return Err(failed(
                format!("malformed response: a head longer than {MAX_HEAD} bytes"),
                false,
            ));
        }
        if link.stopped() {
            return Err(End::Stop);
        }
        if Instant::now() >= deadline {
            return Err(failed(
                format!(
                    "no answer from the collector within {} s",
                    HEAD_TIMEOUT.as_secs()
                ),
                false,
            ));
        }
        match sock.read(&mut buf) {
            Ok(0) => {
                return Err(failed(
                    "the collector closed the connection without answering",
                    false,
                ))
            }
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if is_timeout(&e) => {}
            Err(e) => return Err(failed(format!("connection lost: {e}"), false)),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(head: &[u8]) -> Result<Head, String> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    let phrase = parts.next().unwrap_or("").trim().to_string();
    let status = match code.parse::<u16>() {
        Ok(s) if version.starts_with("HTTP/1.") && (100..1000).contains(&s) => s,
        _ => {
            return Err(format!(
                "malformed response: status line {:?}",
                truncate(status_line, 80)
            ))
        }
    };
    let mut chunked = false;
    let mut content_length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked is always the last coding when present (RFC 9112 §6.1).
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
        } else if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(value.parse::<u64>().map_err(|_| {
                format!(
                    "malformed response: Content-Length {:?}",
                    truncate(value, 40)
                )
            })?);
        }
    }
    Ok(Head {
        status,
        phrase,
        chunked,
        content_length,
    })
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Reads an error response's body, within a deadline and a size limit, for its message. What
/// cannot be read is simply left out: the status code alone is still a reason.
fn read_error_body(sock: &mut TcpStream, link: &Link, body: &mut Body, raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if body.feed(raw, &mut out).is_err() {
        return out;
    }
    let deadline = Instant::now() + ERROR_BODY_TIMEOUT;
    let mut buf = [0u8; 8192];
    while !body.finished() && out.len() < MAX_ERROR_BODY {
        if link.stopped() || Instant::now() >= deadline {
            break;
        }
        match sock.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if body.feed(&buf[..n], &mut out).is_err() {
                    break;
                }
            }
            Err(e) if is_timeout(&e) => {}
            Err(_) => break,
        }
    }
    out.truncate(MAX_ERROR_BODY);
    out
}

/// "HTTP 401: missing or wrong bearer token": the collector's `{"error": ...}` message when it
/// sent one, else the first line of the body, else the status line's phrase.
fn http_reason(head: &Head, body: &[u8]) -> String {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .or_else(|| {
            let text = String::from_utf8_lossy(body);
            let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
            Some(truncate(first, 200).to_string())
        })
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| head.phrase.clone());
    if message.is_empty() {
        format!("HTTP {}", head.status)
    } else {
        format!("HTTP {}: {}", head.status, message)
    }
}

/// How the response body is delimited.
#[derive(Debug)]
enum Body {
    Chunked(Chunked),
    /// Content-Length: this many bytes still to come.
    Length(u64),
    /// Neither: the body ends when the connection closes.
    Eof,
}

impl Body {
    /// Decodes `input`, appending the payload to `out`.
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        match self {
            Body::Chunked(c) => c.feed(input, out),
            Body::Length(left) => {
                let take = input
                    .len()
                    .min(usize::try_from(*left).unwrap_or(usize::MAX));
                out.extend_from_slice(&input[..take]);
                *left -= take as u64;
                Ok(())
            }
            Body::Eof => {
                out.extend_from_slice(input);
                Ok(())
            }
        }
    }

    /// The body is complete (never true for a body delimited by the connection's end).
    fn finished(&self) -> bool {
        match self {
            Body::Chunked(c) => c.state == ChunkState::Done,
            Body::Length(left) => *left == 0,
            Body::Eof => false,
        }
    }

    /// The connection closing now ends the body cleanly.
    fn ends_at_eof(&self) -> bool {
        matches!(self, Body::Eof) || self.finished()
    }
}

/// Where a chunked decoder is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum ChunkState {
    /// Reading a chunk-size line.
    #[default]
    Size,
    /// Inside a chunk's data, with this many bytes to go.
    Data(u64),
    /// Reading the CRLF that ends a chunk's data.
    DataEnd,
    /// After the last (zero-size) chunk: reading trailer lines up to the empty one.
    Trailer,
    /// The body is complete.
    Done,
}

/// An incremental decoder of `Transfer-Encoding: chunked` (RFC 9112 §7.1): fed whatever the
/// socket returns, split anywhere, it keeps only an incomplete size or trailer line between
/// calls.
#[derive(Debug, Default)]
struct Chunked {
    state: ChunkState,
    /// An incomplete chunk-size, chunk-end or trailer line.
    line: Vec<u8>,
    trailer_bytes: usize,
}

impl Chunked {
    fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        while !input.is_empty() {
            match self.state {
                ChunkState::Done => return Ok(()),
                ChunkState::Data(left) => {
                    let take = input.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    out.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left)
                    };
                }
                ChunkState::Size | ChunkState::DataEnd | ChunkState::Trailer => {
                    let Some(line) = self.take_line(&mut input)? else {
                        return Ok(());
                    };
                    self.state = match self.state {
                        ChunkState::Size => match parse_chunk_size(&line)? {
                            0 => ChunkState::Trailer,
                            n => ChunkState::Data(n),
                        },
                        ChunkState::DataEnd if line.is_empty() => ChunkState::Size,
                        ChunkState::DataEnd => {
                            return Err("chunk data not followed by CRLF".into());
                        }
                        _ if line.is_empty() => ChunkState::Done,
                        _ => {
                            self.trailer_bytes += line.len();
                            if self.trailer_bytes > MAX_HEAD {
                                return Err("trailer section too long".into());
                            }
                            ChunkState::Trailer
                        }
                    };
                }
            }
        }
        Ok(())
    }

    /// Takes one line (without its LF or CRLF) from `input`, or keeps the incomplete rest.
    fn take_line(&mut self, input: &mut &[u8]) -> Result<Option<Vec<u8>>, String> {
        match input.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.line.extend_from_slice(&input[..i]);
                *input = &input[i + 1..];
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > MAX_CHUNK_LINE {
                    return Err(format!("chunk line longer than {MAX_CHUNK_LINE} bytes"));
                }
                Ok(Some(line))
            }
            None => {
                self.line.extend_from_slice(input);
                *input = &[];
                if self.line.len() > MAX_CHUNK_LINE {
                    return Err(format!("chunk line longer than {MAX_CHUNK_LINE} bytes"));
                }
                Ok(None)
            }
        }
    }
}

/// The size of a chunk-size line: hex digits, then optional extensions after ';', ignored.
fn parse_chunk_size(line: &[u8]) -> Result<u64, String> {
    let digits = line.split(|&b| b == b';').next().unwrap_or(&[]);
    let digits = String::from_utf8_lossy(digits);
    let digits = digits.trim_matches(|c| c == ' ' || c == '\t');
    if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "bad chunk size {:?}",
            truncate(&String::from_utf8_lossy(line), 40)
        ));
    }
    u64::from_str_radix(digits, 16).map_err(|e| format!("bad chunk size: {e}"))
}

/// Cuts the decoded payload into lines and counts their store positions.
#[derive(Debug)]
struct LineSplitter {
    max_line: usize,
    /// Inside a line already known to be too long: its bytes are dropped up to its newline.
    skipping: bool,
}

impl LineSplitter {
    fn new(max_line: usize) -> LineSplitter {
        LineSplitter {
            max_line,
            skipping: false,
        }
    }

    /// Takes the complete lines out of `pending` as messages, advancing `*next` once per line
    /// (delivered or skipped; empty lines are not events and do not count). The incomplete last
    /// line stays in `pending`, unless it is already too long: then it is dropped and the rest
    /// of it skipped as it arrives, so `pending` never holds much more than `max_line` bytes.
    fn split(&mut self, pending: &mut Vec<u8>, next: &mut u64) -> Vec<LiveMsg> {
        let mut out = Vec::new();
        let mut batch: Vec<u8> = Vec::new();
        let mut count = 0u64;
        let mut first = *next;
        let mut start = 0;
        let flush = |batch: &mut Vec<u8>, count: &mut u64, first: u64, out: &mut Vec<LiveMsg>| {
            if *count > 0 {
                out.push(LiveMsg::Lines {
                    bytes: std::mem::take(batch),
                    count: std::mem::take(count),
                    first,
                });
            }
        };
        while let Some(nl) = pending[start..].iter().position(|&b| b == b'\n') {
            let line = &pending[start..start + nl];
            start += nl + 1;
            if self.skipping || line.len() > self.max_line {
                self.skipping = false;
                flush(&mut batch, &mut count, first, &mut out);
                out.push(LiveMsg::Skipped {
                    position: *next,
                    reason: format!(
                        "line {} is longer than {} bytes: skipped",
                        *next, self.max_line
                    ),
                });
                *next += 1;
                continue;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if count == 0 {
                first = *next;
            }
            batch.extend_from_slice(line);
            batch.push(b'\n');
            count += 1;
            *next += 1;
            if batch.len() >= BATCH_BYTES {
                flush(&mut batch, &mut count, first, &mut out);
            }
        }
        flush(&mut batch, &mut count, first, &mut out);
        pending.drain(..start);
        if self.skipping || pending.len() > self.max_line {
            self.skipping = true;
            pending.clear();
        }
        out
    }
}

/// The status thread: polls `/v1/status` about once a second and sends the counters when the
/// collector answers. Failures are silent: the stream thread reports the link's state.
fn poll_status(cfg: &LiveConfig, link: &Link) {
    let Ok(ep) = Endpoint::parse(&cfg.url) else {
        return;
    };
    let url = ep.status_url();
    // No proxy: the stream connects directly, and the counters must come from the same place.
    let Ok(client) = reqwest::blocking::Client::builder()
        .timeout(STATUS_TIMEOUT)
        .connect_timeout(STATUS_TIMEOUT)
        .no_proxy()
        .build()
    else {
        return;
    };
    loop {
        if link.stopped() {
            return;
        }
        if let Some(stats) = fetch_status(&client, &url, cfg.token.as_deref()) {
            if !link.send(LiveMsg::Stats(stats)) {
                return;
            }
        }
        if !link.sleep(STATUS_EVERY) {
            return;
        }
    }
}

fn fetch_status(
    client: &reqwest::blocking::Client,
    url: &Url,
    token: Option<&str>,
) -> Option<CollectorStats> {
    let mut req = client.get(url.clone());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let mut body = Vec::new();
    resp.take(MAX_ERROR_BODY as u64)
        .read_to_end(&mut body)
        .ok()?;
    parse_stats(&body)
}

/// The counters of a `/v1/status` answer; None unless it is a JSON object with `events`. A
/// missing or non-integer counter reads as 0, so an older or newer collector still works.
fn parse_stats(body: &[u8]) -> Option<CollectorStats> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    let get = |k: &str| obj.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    obj.get("events")?;
    Some(CollectorStats {
        events: get("events"),
        duplicates: get("duplicates"),
        rejected: get("rejected"),
        dropped_batches: get("dropped_batches"),
        skipped_otlp_records: get("skipped_otlp_records"),
        queue_depth: get("queue_depth"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &[u8], piece: usize) -> (Vec<u8>, Result<(), String>, ChunkState) {
        let mut c = Chunked::default();
        let mut out = Vec::new();
        for p in input.chunks(piece) {
            if let Err(e) = c.feed(p, &mut out) {
                return (out, Err(e), c.state);
            }
        }
        (out, Ok(()), c.state)
    }

    #[test]
    fn chunked_decodes_split_anywhere() {
        let wire = b"5\r\nhello\r\n1A;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-T: 1\r\n\r\n";
        for piece in 1..=wire.len() {
            let (out, r, state) = decode_in_pieces(wire, piece);
            assert_eq!(r, Ok(()), "piece {piece}");
            assert_eq!(out, b"helloabcdefghijklmnopqrstuvwxyz", "piece {piece}");
            assert_eq!(state, ChunkState::Done, "piece {piece}");
        }
    }

    #[test]
    fn chunked_rejects_bad_framing() {
        for wire in [
            &b"zz\r\nhello\r\n"[..],
            b"5\r\nhelloXX\r\n",
            b"\r\n",
            b"11111111111111111\r\n",
        ] {
            assert!(decode_in_pieces(wire, 3).1.is_err(), "{wire:?}");
        }
        let long = vec![b'1'; MAX_CHUNK_LINE + 10];
        assert!(decode_in_pieces(&long, 100).1.is_err());
    }

    #[test]
    fn chunked_stops_at_the_last_chunk() {
        let (out, r, state) = decode_in_pieces(b"3\r\nabc\r\n0\r\n\r\ngarbage", 4);
        assert_eq!((out, r, state), (b"abc".to_vec(), Ok(()), ChunkState::Done));
    }

    #[test]
    fn lines_are_batched_positioned_and_bounded() {
        let mut s = LineSplitter::new(8);
        let mut next = 10;
        let mut pending = b"a\n\nbb\n0123456789\nc\npart".to_vec();
        let msgs = s.split(&mut pending, &mut next);
        assert_eq!(
            msgs,
            vec![
                LiveMsg::Lines {
                    bytes: b"a\nbb\n".to_vec(),
                    count: 2,
                    first: 10
                },
                LiveMsg::Skipped {
                    position: 12,
                    reason: "line 12 is longer than 8 bytes: skipped".into()
                },
                LiveMsg::Lines {
                    bytes: b"c\n".to_vec(),
                    count: 1,
                    first: 13
                },
            ]
        );
        assert_eq!(next, 14);
        assert_eq!(pending, b"part");
        // An incomplete line grows past the limit: dropped now, skipped when it ends.
        pending.extend_from_slice(b"-too-long");
        assert!(s.split(&mut pending, &mut next).is_empty());
        assert!(pending.is_empty());
        pending.extend_from_slice(b"still the same line");
        assert!(s.split(&mut pending, &mut next).is_empty());
        assert!(pending.is_empty());
        pending.extend_from_slice(b"end\nok\n");
        let msgs = s.split(&mut pending, &mut next);
        assert!(matches!(msgs[0], LiveMsg::Skipped { position: 14, .. }));
        assert_eq!(
            msgs[1],
            LiveMsg::Lines {
                bytes: b"ok\n".to_vec(),
                count: 1,
                first: 15
            }
        );
        assert_eq!(next, 16);
    }

    #[test]
    fn heads_and_reasons() {
        let h = parse_head(
            b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 45\r\nWWW-Authenticate: Bearer",
        )
        .unwrap();
        assert_eq!(
            (h.status, h.content_length, h.chunked),
            (401, Some(45), false)
        );
        assert_eq!(
            http_reason(&h, br#"{"error":"missing or wrong bearer token"}"#),
            "HTTP 401: missing or wrong bearer token"
        );
        assert_eq!(http_reason(&h, b""), "HTTP 401: Unauthorized");
        let h = parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked").unwrap();
        assert!(h.chunked);
        assert!(parse_head(b"SSH-2.0-OpenSSH").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: x").is_err());
    }

    #[test]
    fn urls() {
        for (raw, status) in [
            ("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/status"),
            ("http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/status"),
            ("127.0.0.1:4318", "http://127.0.0.1:4318/v1/status"),
            ("http://h/weft/", "http://h/weft/v1/status"),
        ] {
            let ep = Endpoint::parse(raw).unwrap();
            assert_eq!(ep.status_url().as_str(), status);
        }
        assert_eq!(
            Endpoint::parse("http://[::1]:9/").unwrap().host_header(),
            "[::1]:9"
        );
        assert!(Endpoint::parse("https://x").is_err());
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://").is_err());
    }

    #[test]
    fn stats_tolerate_missing_fields() {
        let s = parse_stats(br#"{"events": 7, "queue_depth": 2, "replicas": ["a"]}"#).unwrap();
        assert_eq!(
            s,
            CollectorStats {
                events: 7,
                queue_depth: 2,
                ..CollectorStats::default()
            }
        );
        assert!(parse_stats(b"[]").is_none());
        assert!(parse_stats(b"{}").is_none());
    }
}
