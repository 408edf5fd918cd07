//! Live analysis of everything stored: one thread feeds each commit to weft-analyzer's
//! incremental [`Engine`] and publishes the report, the changes of its findings, and counters.
//!
//! The thread reads committed events back from the store (the page cache, usually) the way a
//! stream reader does, so it never slows the writer down and never drops anything: when it falls
//! behind it catches up in bigger batches. It publishes at most every [`PUBLISH_EVERY`] while
//! events keep coming, and as soon as it has caught up, so the report trails what was
//! acknowledged by well under a second unless the analysis itself is the bottleneck (the
//! status page shows the lag in events).
//!
//! Findings changes are numbered: `added` when a finding appears, `retracted` when a late event
//! resolves it (a missing event arrives, a later write makes a conflict's write non-maximal).
//! The log keeps the last [`CHANGES_KEPT`] changes; a reader asking for older ones gets the
//! current findings again, marked `resync`.

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use weft_analyzer::{render, Code, Engine, Report};
use weft_trace::{ReadOptions, Trace};

use crate::store::read_range;
use crate::writer::Shared;

/// Most events fed to the engine in one batch.
const CHUNK: u64 = 1 << 16;
/// How often the report is published while events keep arriving.
pub const PUBLISH_EVERY: Duration = Duration::from_millis(250);
/// Finding changes kept for `/v1/findings?from=N`.
pub const CHANGES_KEPT: usize = 100_000;

/// One change of the set of findings.
#[derive(Clone, Debug)]
pub struct Change {
    /// Its number (from 0).
    pub seq: u64,
    /// The NDJSON line (no newline).
    pub line: Arc<str>,
}

/// Counters of the latest published report.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    /// Events analysed.
    pub events: u64,
    /// Violations per code (every code, zero included), in the spec's order.
    pub by_code: Vec<(Code, u64)>,
    /// Errors and warnings.
    pub errors: u64,
    /// Warnings.
    pub warnings: u64,
    /// Conflicts.
    pub conflicts: u64,
    /// Unresolved keys.
    pub unresolved: u64,
    /// Whether happens-before is a partial order.
    pub complete: bool,
}

/// What the analysis publishes.
pub struct Published {
    /// The report's JSON (the bytes `weft check DIR --format json` prints).
    pub report: Arc<str>,
    /// Its counters.
    pub counts: Counts,
    /// The last changes.
    pub changes: VecDeque<Change>,
    /// Number of the next change.
    pub next_change: u64,
    /// The current findings' lines, for resyncing readers.
    pub current: Arc<Vec<String>>,
}

/// The analysis shared with handlers.
pub struct Analysis {
    /// The latest publication.
    pub published: Mutex<Published>,
    /// Events analysed as of the latest publication (handlers wait on it).
    pub analysed: watch::Sender<u64>,
    stop: AtomicBool,
}

impl Analysis {
    /// The latest publication, locked.
    pub fn view(&self) -> std::sync::MutexGuard<'_, Published> {
        self.published.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks the thread to stop.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The findings of a report as one NDJSON object each, sorted.
fn finding_lines(report: &Report) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let json = |kind: &str, v: serde_json::Value| {
        serde_json::to_string(&serde_json::json!({ kind: v })).expect("findings serialize")
    };
    for v in &report.violations {
        out.insert(json(
            "violation",
            serde_json::to_value(v).expect("serializes"),
        ));
    }
    for c in &report.conflicts {
        out.insert(json(
            "conflict",
            serde_json::to_value(c).expect("serializes"),
        ));
    }
    for u in &report.unresolved {
        out.insert(json(
            "unresolved",
            serde_json::to_value(u).expect("serializes"),
        ));
    }
    out
}

fn counts(report: &Report, events: u64) -> Counts {
    Counts {
        events,
        by_code: Code::ALL
            .iter()
            .map(|&c| {
                (
                    c,
                    // Exact: the listed ones and those the report counts but does not list.
                    report.violations.iter().filter(|v| v.code == c).count() as u64
                        + report.omitted(c),
                )
            })
            .collect(),
        errors: report.summary.errors,
        warnings: report.summary.warnings,
        conflicts: report.summary.conflicts,
        unresolved: report.summary.unresolved,
        complete: report.summary.complete,
    }
}

/// The thread's own state.
struct Worker {
    engine: Engine,
    analysed: u64,
    current: BTreeSet<String>,
}

impl Worker {
    /// Publishes the engine's report and the changes since the last publication.
    fn publish(&mut self, to: &Analysis) {
        let report = self.engine.report();
        let json: Arc<str> = render::json(&report).into();
        let now = finding_lines(&report);
        let counts = counts(&report, self.analysed);
        {
            let mut p = to.view();
            let mut push = |change: &str, line: &str| {
                let seq = p.next_change;
                p.next_change += 1;
                let text = format!("{{\"seq\":{seq},\"change\":\"{change}\",{}", &line[1..]);
                p.changes.push_back(Change {
                    seq,
                    line: text.into(),
                });
                if p.changes.len() > CHANGES_KEPT {
                    p.changes.pop_front();
                }
            };
            for gone in self.current.difference(&now) {
                push("retracted", gone);
            }
            for new in now.difference(&self.current) {
                push("added", new);
            }
            p.report = json;
            p.counts = counts;
            p.current = Arc::new(now.iter().cloned().collect());
        }
        self.current = now;
        to.analysed.send_replace(self.analysed);
    }

    /// Feeds the committed events after `analysed`, at most [`CHUNK`] of them.
    fn feed(&mut self, shared: &Shared, upto: u64) -> std::io::Result<()> {
        let index = shared
            .index
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let until = upto.min(self.analysed + CHUNK);
        let mut text = Vec::new();
        let end = read_range(&index, self.analysed, until, |line| {
            text.extend_from_slice(line);
            text.push(b'\n');
            true
        })?;
        if end <= self.analysed {
            return Ok(());
        }
        // Stored lines were validated on the way in, and the store holds UTF-8 only.
        let text = String::from_utf8_lossy(&text);
        let opts = ReadOptions {
            lenient: true,
            ..ReadOptions::default()
        };
        match Trace::batch_from_ndjson("store", &text, &opts) {
            Ok(batch) => self.engine.feed(batch),
            Err(e) => return Err(std::io::Error::other(e.to_string())),
        }
        self.analysed = end;
        Ok(())
    }
}

/// Starts the analysis thread over the store's shared view.
pub fn start(shared: Arc<Shared>) -> (Arc<Analysis>, std::thread::JoinHandle<()>) {
    let (analysed, _) = watch::channel(0u64);
    let analysis = Arc::new(Analysis {
        published: Mutex::new(Published {
            report: render::json(&Engine::new().report()).into(),
            counts: counts(&Engine::new().report(), 0),
            changes: VecDeque::new(),
            next_change: 0,
            current: Arc::new(Vec::new()),
        }),
        analysed,
        stop: AtomicBool::new(false),
    });
    let view = Arc::clone(&analysis);
    let handle = std::thread::Builder::new()
        .name("weft-analysis".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a current-thread runtime with a timer");
            let mut committed = shared.committed.subscribe();
            let mut w = Worker {
                engine: Engine::new(),
                analysed: 0,
                current: BTreeSet::new(),
            };
            let mut last_publish = Instant::now();
            let mut unpublished = false;
            while !view.stop.load(Ordering::Relaxed) {
                let upto = *committed.borrow_and_update();
                if w.analysed < upto {
                    if w.feed(&shared, upto).is_err() {
                        // A read error (a segment removed under us): retry after a pause.
                        std::thread::sleep(Duration::from_millis(200));
                        continue;
                    }
                    unpublished = true;
                    let caught_up = w.analysed >= *committed.borrow();
                    if caught_up || last_publish.elapsed() >= PUBLISH_EVERY {
                        w.publish(&view);
                        last_publish = Instant::now();
                        unpublished = false;
                    }
                    continue;
                }
                if unpublished {
                    w.publish(&view);
                    last_publish = Instant::now();
                    unpublished = false;
                }
                // Wait for the next commit, looking at the stop flag now and then.
                let waited = rt.block_on(async {
                    tokio::time::timeout(Duration::from_millis(200), committed.changed()).await
                });
                if let Ok(Err(_)) = waited {
                    break; // the store's writer is gone: nothing more will be committed
                }
            }
        })
        .expect("spawning the analysis thread");
    (analysis, handle)
}
