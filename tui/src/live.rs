//! The live follower: reads the collector's `GET /v1/stream`, polls `GET /v1/status`, and hands
//! what it finds to the UI over a bounded channel.
//!
//! One background thread runs a small current-thread tokio runtime with two tasks, the stream
//! reader and the status poller, both on hyper's HTTP/1.1 client: over plain TCP for `http://`,
//! over rustls (the ring provider, as the collector) for `https://`. The stream is a never-ending
//! chunked NDJSON response with no heartbeats. Every wait (resolving, connecting, the TLS
//! handshake, the response head, each body chunk, room in the UI's channel, the backoff) is raced
//! against the stop signal, so an idle stream is simply a read still pending, never taken for a
//! dead one, and a stop request is noticed at once; a dead connection ends the body with an error
//! or an end of stream.
//!
//! Certificates: with [`LiveConfig::ca_cert`] the collector's certificate must chain to a
//! certificate of that PEM file and to nothing else (as `curl --cacert` does), which is how a
//! collector with a self-signed certificate is followed without trusting every public CA for it
//! too; without it, to one of the CA certificates installed on the system.
//!
//! Positions are counted by the follower: line `N` of a stream opened with `from=F` is store
//! position `F + N`, so after any failure the follower reopens the stream from the number of lines
//! it has already handed over, and no line is delivered twice or skipped.
//!
//! This module holds what the UI sees (the configuration, the messages, the [`Follower`]) and the
//! plumbing both tasks share; the rest is split by concern: `endpoint` (the URL), `tls`
//! (certificates and handshake failures), `connect` (connections and requests), `reasons`
//! (failures in words), `lines` (cutting the stream into positioned lines), `stream` and
//! `status` (the two tasks).

mod connect;
mod endpoint;
mod lines;
mod reasons;
mod status;
mod stream;
mod tls;

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// Where and how to follow a collector.
#[derive(Clone)]
pub struct LiveConfig {
    /// The collector's base URL, e.g. `http://127.0.0.1:4318` or `https://collector:4318`; a
    /// trailing slash, a path prefix (for a collector behind a reverse proxy) and a missing
    /// `http://` are tolerated.
    pub url: String,
    /// The bearer token the collector requires, if any.
    pub token: Option<String>,
    /// For `https://`: a PEM file of the CA certificates to trust, used instead of the system's
    /// (a self-signed certificate is its own CA). `None`: the system's CA certificates.
    pub ca_cert: Option<PathBuf>,
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
            .field("ca_cert", &self.ca_cert)
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

/// Why a CA certificate file cannot be used: the file and the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct CaCertError {
    /// The file.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Reads a PEM file of CA certificates as [`LiveConfig::ca_cert`] is read; returns how many
/// certificates it holds. For callers that refuse a bad file up front: the follower itself only
/// reports it as the reason it cannot connect.
pub fn check_ca_cert(path: &Path) -> Result<usize, CaCertError> {
    tls::ca_certs(path).map(|(certs, _)| certs.len())
}

/// The first wait before reconnecting; it doubles up to [`MAX_RETRY`] while attempts keep failing.
const FIRST_RETRY: Duration = Duration::from_millis(250);
/// The longest wait before reconnecting, so a restarted collector is found within seconds.
const MAX_RETRY: Duration = Duration::from_secs(5);
/// How long resolving the host name may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one address may take to accept the TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the TLS handshake may take (the collector's own deadline is 10 s too).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the collector may take to send the response headers.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long and how much of an error response's body is read for its message (and the most of
/// a /v1/status answer read).
const ERROR_BODY_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_ERROR_BODY: usize = 64 << 10;
/// A [`LiveMsg::Lines`] is sent once it holds this many bytes.
const BATCH_BYTES: usize = 1 << 20;
/// How often the status counters are polled, and how long one poll may take (connecting and a
/// TLS handshake included).
const STATUS_EVERY: Duration = Duration::from_secs(1);
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `stop()` waits for the thread before leaving it to finish on its own.
const STOP_WAIT: Duration = Duration::from_millis(1500);

/// The running follower: one thread whose runtime runs the stream reader and the status poller.
pub struct Follower {
    stop: Arc<watch::Sender<bool>>,
    arrived: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
    /// Disconnected once the thread has ended (it holds a sender it drops on exit), so `stop()`
    /// can wait for it with a deadline, which `JoinHandle::join` cannot.
    done: mpsc::Receiver<()>,
}

impl Follower {
    /// Starts following in a background thread; messages go to `tx` (a bounded channel: when the
    /// UI is slow the follower waits, it never drops lines).
    ///
    /// The first messages are `Link(Connecting)` then `Link(Connected)` (or `Disconnected` with a
    /// reason). Nothing here blocks: a bad URL or CA file is reported as a `Disconnected` reason.
    pub fn spawn(cfg: LiveConfig, tx: SyncSender<LiveMsg>) -> Follower {
        let stop = Arc::new(watch::Sender::new(false));
        let arrived = Arc::new(AtomicU64::new(0));
        let (done_tx, done) = mpsc::channel::<()>();
        let link = Link {
            tx: tx.clone(),
            stop: stop.clone(),
            arrived: arrived.clone(),
        };
        let spawned = thread::Builder::new()
            .name("weft-live".into())
            .spawn(move || {
                let _done = done_tx;
                run(&cfg, &link);
            });
        let thread = match spawned {
            Ok(h) => Some(h),
            Err(e) => {
                // Nothing can follow the stream: say so, once, without waiting on the channel.
                let _ = tx.try_send(LiveMsg::Link(LinkState::Disconnected {
                    reason: format!("cannot start the live thread: {e}"),
                    retry_in: Duration::ZERO,
                }));
                None
            }
        };
        Follower {
            stop,
            arrived,
            thread,
            done,
        }
    }

    /// Lines (events) read off the stream so far, counted as they come in, before they are
    /// handed over: the arrival count, whatever the receiver is busy with.
    pub fn arrived(&self) -> Arc<AtomicU64> {
        self.arrived.clone()
    }

    /// Asks the thread to stop and returns promptly.
    ///
    /// Every wait of the follower is raced against the stop signal, so the thread ends at once;
    /// should it not (a host name lookup runs on a thread of its own and cannot be interrupted,
    /// but nothing waits for it), it is left to finish on its own after 1.5 s rather than holding
    /// up the UI.
    pub fn stop(mut self) {
        self.stop.send_replace(true);
        let deadline = Instant::now() + STOP_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.done.recv_timeout(left) {
                Ok(()) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
                // Leave it detached: it exits as soon as it next runs.
                Err(RecvTimeoutError::Timeout) => return,
            }
        }
        if let Some(h) = self.thread.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Follower {
    /// A follower dropped without `stop()` still stops its thread (without waiting for it).
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// The thread: a current-thread runtime running both tasks until a stop.
fn run(cfg: &LiveConfig, link: &Link) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = link.tx.try_send(LiveMsg::Link(LinkState::Disconnected {
                reason: format!("cannot start the live runtime: {e}"),
                retry_in: Duration::ZERO,
            }));
            return;
        }
    };
    rt.block_on(async {
        tokio::join!(
            stream::follow_stream(cfg, link),
            status::poll_status(cfg, link)
        );
    });
    // Connection tasks are dropped, and a host name lookup still running is not waited for.
    rt.shutdown_background();
}

/// What both tasks share: the channel to the UI and the stop signal.
#[derive(Clone)]
struct Link {
    tx: SyncSender<LiveMsg>,
    stop: Arc<watch::Sender<bool>>,
    /// Lines read off the stream.
    arrived: Arc<AtomicU64>,
}

impl Link {
    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves once a stop has been asked for.
    async fn stop_requested(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Runs `f` unless a stop is asked for first (then `None`).
    async fn or_stop<F: Future>(&self, f: F) -> Option<F::Output> {
        tokio::select! {
            biased;
            () = self.stop_requested() => None,
            out = f => Some(out),
        }
    }

    /// Sends, waiting while the channel is full (a slow UI slows the follower down, it never
    /// loses lines) but still honouring a stop request. False when the task must end: stopped,
    /// or the receiver is gone, in which case the other task is told to end too.
    async fn send(&self, msg: LiveMsg) -> bool {
        let mut msg = msg;
        let mut nap = Duration::from_millis(1);
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => return true,
                Err(TrySendError::Full(m)) => {
                    if self.or_stop(tokio::time::sleep(nap)).await.is_none() {
                        return false;
                    }
                    nap = (nap * 2).min(Duration::from_millis(20));
                    msg = m;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.stop.send_replace(true);
                    return false;
                }
            }
        }
    }

    /// Waits `d`; false if asked to stop meanwhile.
    async fn sleep(&self, d: Duration) -> bool {
        self.or_stop(tokio::time::sleep(d)).await.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_files_are_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let missing = dir.join("missing.pem");
        let e = check_ca_cert(&missing).unwrap_err();
        assert_eq!(e.path, missing.display().to_string());
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not pem at all\n").unwrap();
        assert!(check_ca_cert(&empty)
            .unwrap_err()
            .reason
            .contains("no certificate"));
        let bad = dir.join("bad.pem");
        std::fs::write(
            &bad,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        assert!(check_ca_cert(&bad).is_err());
    }
}
