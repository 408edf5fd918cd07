//! The one ingest path every endpoint uses: validate a whole batch (nothing is stored unless
//! every line is valid), hand it to the store's queue without waiting for room (a full queue is
//! an immediate "busy, retry", never unbounded memory), and wait for the durable commit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use weft_trace::{CheckedLine, LineChecker};

use crate::store::{Appended, Line, Refusal};
use crate::writer::Batch;

/// A rejected line of an NDJSON batch (listed in the `400` answer's body).
pub use weft_api::http::BadLine;

/// Why a batch was not stored.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Some lines are invalid (all listed); nothing was stored.
    Invalid(Vec<BadLine>),
    /// The store's queue is full: retry later.
    Busy,
    /// The collector is shutting down.
    Stopping,
    /// The disk is full: retry once space is freed (nothing of the batch was stored).
    Full(String),
    /// The store failed to write or sync and went back to its last durable state (nothing of
    /// the batch was stored): retry later.
    Store(String),
}

/// Counters of what was refused or skipped, for the status page and metrics.
#[derive(Debug, Default)]
pub struct Counters {
    /// NDJSON lines and OTLP records rejected as invalid.
    pub rejected: AtomicU64,
    /// Batches refused because the queue was full.
    pub dropped: AtomicU64,
    /// OTLP records without `weft.seq`, skipped.
    pub skipped: AtomicU64,
    /// Requests that stored events.
    pub batches: AtomicU64,
}

/// Distinct replica names a thread's line checker keeps before it is replaced by a fresh one
/// (message ids and keys it only hashes).
const CHECKER_STRINGS_MAX: usize = 1 << 16;

thread_local! {
    /// Each thread's line checker, kept across requests: a fresh one per request interned
    /// every replica and vector-clock name of the request again.
    static CHECKER: std::cell::RefCell<LineChecker> = std::cell::RefCell::new(LineChecker::new());
}

/// Runs `f` with this thread's line checker, replaced by a fresh one once its tables hold
/// [`CHECKER_STRINGS_MAX`] names (millions of short-lived replicas: a kept checker must not
/// grow with the traffic).
fn with_checker<R>(f: impl FnOnce(&mut LineChecker) -> R) -> R {
    CHECKER.with(|cell| {
        let mut checker = cell.borrow_mut();
        if checker.interned() > CHECKER_STRINGS_MAX {
            *checker = LineChecker::new();
        }
        f(&mut checker)
    })
}

/// The shared ingest path.
#[derive(Clone)]
pub struct Ingest {
    queue: mpsc::Sender<Batch>,
    /// What was refused.
    pub counters: Arc<Counters>,
    max_line: usize,
}

impl Ingest {
    /// An ingest path feeding `queue`; lines longer than `max_line` bytes are invalid.
    pub fn new(queue: mpsc::Sender<Batch>, max_line: usize) -> Self {
        Ingest {
            queue,
            counters: Arc::new(Counters::default()),
            max_line,
        }
    }

    /// Validates an NDJSON body: all lines or none. Header lines are accepted and not stored.
    pub fn check_ndjson(&self, body: &[u8]) -> Result<Vec<Line>, Vec<BadLine>> {
        self.check_body(&Bytes::copy_from_slice(body))
    }

    /// [`Ingest::check_ndjson`] on a body already in a shared buffer: the lines stored are slices
    /// of it, not copies (no allocation per line).
    pub fn check_body(&self, whole: &Bytes) -> Result<Vec<Line>, Vec<BadLine>> {
        with_checker(|checker| self.check_lines(checker, whole))
    }

    fn check_lines(
        &self,
        checker: &mut LineChecker,
        whole: &Bytes,
    ) -> Result<Vec<Line>, Vec<BadLine>> {
        let mut bad = Vec::new();
        let body = whole.strip_suffix(b"\n").unwrap_or(whole);
        if body.is_empty() {
            return Ok(Vec::new());
        }
        // Lines are about 200 bytes: one allocation for most bodies.
        let mut lines = Vec::with_capacity(body.len() / 128 + 1);
        for (i, raw) in weft_trace::split_lines(body).enumerate() {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let line = i as u64 + 1;
            if raw.len() > self.max_line {
                bad.push(BadLine {
                    line,
                    reason: format!("line longer than {} bytes", self.max_line),
                });
                continue;
            }
            match checker.check(raw) {
                Ok(CheckedLine::Event {
                    replica,
                    seq,
                    fingerprint,
                }) => lines.push(Line {
                    bytes: whole.slice_ref(raw.trim_ascii()),
                    replica,
                    seq,
                    fingerprint,
                }),
                Ok(CheckedLine::Blank) => {}
                Ok(CheckedLine::Header) if line == 1 => {}
                Ok(CheckedLine::Header) => bad.push(BadLine {
                    line,
                    reason: "a header line may only be the first line".into(),
                }),
                Err(e) => bad.push(BadLine {
                    line,
                    reason: match e.column {
                        Some(c) => format!("column {c}: {}", e.reason),
                        None => e.reason,
                    },
                }),
            }
        }
        if bad.is_empty() {
            Ok(lines)
        } else {
            self.counters
                .rejected
                .fetch_add(bad.len() as u64, Ordering::Relaxed);
            Err(bad)
        }
    }

    /// Validates events built in memory (by a mapping or an embedding program): the same rules
    /// as NDJSON lines.
    pub fn check_events(&self, events: &[weft_trace::Event]) -> Result<Vec<Line>, Vec<BadLine>> {
        let mut body = Vec::new();
        for e in events {
            serde_json::to_writer(&mut body, e).expect("events serialize");
            body.push(b'\n');
        }
        self.check_ndjson(&body)
    }

    /// Queues a validated batch and waits until it is durable.
    pub async fn commit(&self, lines: Vec<Line>) -> Result<Appended, Refused> {
        if lines.is_empty() {
            return Ok(Appended::default());
        }
        let (reply, answer) = oneshot::channel();
        match self.queue.try_send(Batch { lines, reply }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                return Err(Refused::Busy);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(Refused::Stopping),
        }
        match answer.await {
            Ok(Ok(a)) => {
                self.counters.batches.fetch_add(1, Ordering::Relaxed);
                Ok(a)
            }
            Ok(Err(Refusal::Full(e))) => Err(Refused::Full(e)),
            Ok(Err(e @ Refusal::Failed(_))) => Err(Refused::Store(e.to_string())),
            Err(_) => Err(Refused::Stopping),
        }
    }

    /// Batches waiting in the queue.
    pub fn queue_depth(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: u64) -> Line {
        Line {
            bytes: format!("{{\"replica\":\"a\",\"seq\":{seq}}}").into(),
            replica: "a".into(),
            seq,
            fingerprint: seq,
        }
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_counts_the_drop() {
        let (tx, mut rx) = mpsc::channel(1);
        let ingest = Ingest::new(tx, 1 << 20);
        // Nobody is writing: the first batch waits in the queue, the second finds it full.
        let first = {
            let ingest = ingest.clone();
            tokio::spawn(async move { ingest.commit(vec![line(1)]).await })
        };
        while ingest.queue_depth() == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(ingest.commit(vec![line(2)]).await, Err(Refused::Busy));
        assert_eq!(ingest.counters.dropped.load(Ordering::Relaxed), 1);
        // The writer answers the first; closing the queue makes later batches "stopping".
        let batch = rx.recv().await.unwrap();
        batch
            .reply
            .send(Ok(Appended {
                stored: 1,
                ..Appended::default()
            }))
            .unwrap();
        assert_eq!(first.await.unwrap().unwrap().stored, 1);
        drop(rx);
        assert_eq!(ingest.commit(vec![line(3)]).await, Err(Refused::Stopping));
    }

    #[test]
    fn every_bad_line_of_a_batch_is_named() {
        let (tx, _rx) = mpsc::channel(1);
        let ingest = Ingest::new(tx, 40);
        let body = b"{\"replica\":\"a\",\"seq\":1}\n\n{\"replica\":\"a\",\"seq\":1,\"attrs\":{\"pad\":\"xxxxxxxxxxxx\"}}\n{\"format\":\"weft-trace/1\"}\n[1]";
        let bad = ingest.check_ndjson(body).unwrap_err();
        let lines: Vec<u64> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert_eq!(bad[0].reason, "line longer than 40 bytes");
        assert_eq!(ingest.counters.rejected.load(Ordering::Relaxed), 3);
    }

    /// A body of `n` sends of replica `r` with message ids from `first`.
    fn sends(r: &str, first: usize, n: usize) -> Bytes {
        let mut body = String::new();
        for i in 0..n {
            body.push_str(&format!(
                "{{\"replica\":\"{r}\",\"seq\":{},\"kind\":\"send\",\"msg\":\"m{}\",\"vc\":{{\"{r}\":{}}}}}\n",
                i + 1,
                first + i,
                i + 1
            ));
        }
        Bytes::from(body)
    }

    /// What a fresh checker says of every line of `body`.
    fn fresh(body: &Bytes) -> Vec<(String, u64, u64)> {
        let mut c = LineChecker::new();
        weft_trace::split_lines(body.strip_suffix(b"\n").unwrap())
            .map(|l| match c.check(l).unwrap() {
                CheckedLine::Event {
                    replica,
                    seq,
                    fingerprint,
                } => (replica, seq, fingerprint),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn the_kept_checker_answers_as_a_fresh_one_and_is_replaced_before_it_grows_unbounded() {
        let (tx, _rx) = mpsc::channel(1);
        let ingest = Ingest::new(tx, 1 << 20);
        let seen = |lines: Vec<Line>| -> Vec<(String, u64, u64)> {
            lines
                .into_iter()
                .map(|l| (l.replica, l.seq, l.fingerprint))
                .collect()
        };
        // Bodies sharing names and ids with earlier ones, on this thread's kept checker.
        for (r, first) in [("a", 0), ("b", 0), ("a", 5), ("c", 100)] {
            let body = sends(r, first, 50);
            assert_eq!(seen(ingest.check_body(&body).unwrap()), fresh(&body));
        }
        // Message ids and keys are hashed, never kept.
        let ids = sends("z", 1_000, 20_000);
        assert_eq!(ingest.check_body(&ids).unwrap().len(), 20_000);
        assert!(CHECKER.with(|c| c.borrow().interned()) < 10);
        // More distinct replica names than the bound: the next request starts a fresh checker.
        let n = CHECKER_STRINGS_MAX + 10;
        let many: String = (0..n)
            .map(|i| format!("{{\"replica\":\"r{i}\",\"seq\":1}}\n"))
            .collect();
        assert_eq!(ingest.check_body(&Bytes::from(many)).unwrap().len(), n);
        assert!(CHECKER.with(|c| c.borrow().interned()) > CHECKER_STRINGS_MAX);
        let body = sends("a", 0, 3);
        assert_eq!(seen(ingest.check_body(&body).unwrap()), fresh(&body));
        assert!(CHECKER.with(|c| c.borrow().interned()) < 10);
    }
}
