//! Live analysis of everything stored: one thread feeds each commit to weft-analyzer's
//! incremental [`Engine`] and publishes the report, the changes of its findings, and counters.
//!
//! The thread reads committed events back from the store (the page cache, usually) the way a
//! stream reader does, so it never slows the writer down and never drops anything: when it falls
//! behind it catches up in bigger batches. A publication waits after the previous one for as
//! long as that one took (at least [`PUBLISH_GAP`]), so publishing takes at most half of the
//! thread however many findings there are; the report trails what was acknowledged by the gap,
//! plus one publication, plus what the engine has not fed yet (the status page and
//! `weft_analysis_lag_events` show the lag in events).
//!
//! Findings changes are numbered: `added` when a finding appears, `retracted` when a late event
//! resolves it (a missing event arrives, a later write makes a conflict's write non-maximal).
//! The log keeps the last [`CHANGES_KEPT`] changes; a reader asking for older ones gets the
//! current findings again, marked `resync`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use weft_analyzer::{render, Code, Engine, Findings, Report};
use weft_trace::{ReadOptions, Trace};

use crate::findings_diff;
use crate::store::read_range;
use crate::writer::Shared;

/// Most events fed to the engine in one batch.
const CHUNK: u64 = 1 << 16;
/// The least time between two publications (more when a publication takes longer).
pub const PUBLISH_GAP: Duration = Duration::from_millis(100);
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
    /// Reads checked against their causal past (spec section 8).
    pub reads_checked: u64,
    /// Whether happens-before is a partial order.
    pub complete: bool,
}

/// What the analysis publishes.
pub struct Published {
    /// The latest report, with its JSON rendered on first demand (most publications are never
    /// asked for: rendering each would cost as much as the analysis).
    pub report: Arc<Snapshot>,
    /// Its counters.
    pub counts: Counts,
    /// The last changes.
    pub changes: VecDeque<Change>,
    /// Number of the next change.
    pub next_change: u64,
}

/// One published reading of the engine's findings.
pub struct Snapshot {
    /// The findings (conflicts shared with the engine per key).
    pub findings: Findings,
    json: OnceLock<Arc<str>>,
}

impl Snapshot {
    fn new(findings: Findings) -> Snapshot {
        Snapshot {
            findings,
            json: OnceLock::new(),
        }
    }

    /// The report's JSON (the bytes `weft check DIR --format json` prints), rendered once.
    pub fn json(&self) -> Arc<str> {
        let render = || render::json(&self.findings.to_report()).into();
        Arc::clone(self.json.get_or_init(render))
    }

    /// The current findings, one JSON object each (`{"violation": …}`, `{"conflict": …}`,
    /// `{"unresolved": …}`), in report order: what a resyncing findings reader gets.
    pub fn finding_lines(&self) -> impl Iterator<Item = String> + '_ {
        findings_diff::findings(&self.findings).map(findings_diff::Finding::line)
    }
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
        reads_checked: report.summary.reads_checked,
        complete: report.summary.complete,
    }
}

/// The thread's own state.
struct Worker {
    engine: Engine,
    analysed: u64,
    /// Number of the next change.
    next_change: u64,
    /// The last report published.
    last: Arc<Snapshot>,
}

impl Worker {
    /// Publishes the engine's findings and the changes since the last publication. Only the
    /// changes the log will keep are serialized: when a publication changes more than
    /// [`CHANGES_KEPT`] findings, the earlier ones are numbered and dropped at once (a reader
    /// that far behind resyncs).
    fn publish(&mut self, to: &Analysis) {
        let now = Arc::new(Snapshot::new(self.engine.findings()));
        let counts = counts(&now.findings.report, self.analysed);
        let mut changed = Vec::new();
        findings_diff::diff(&self.last.findings, &now.findings, |change, f| {
            changed.push((change, f));
        });
        let first = self.next_change;
        self.next_change += changed.len() as u64;
        let skip = changed.len().saturating_sub(CHANGES_KEPT);
        let lines: Vec<Change> = (first + skip as u64..)
            .zip(&changed[skip..])
            .map(|(seq, (change, f))| Change {
                seq,
                line: f.change_line(seq, change.as_str()).into(),
            })
            .collect();
        drop(changed);
        {
            let mut p = to.view();
            if skip > 0 {
                p.changes.clear();
            }
            p.changes.extend(lines);
            let excess = p.changes.len().saturating_sub(CHANGES_KEPT);
            p.changes.drain(..excess);
            p.next_change = self.next_change;
            p.report = Arc::clone(&now);
            p.counts = counts;
        }
        let old = std::mem::replace(&mut self.last, now);
        to.analysed.send_replace(self.analysed);
        // Freeing a big reading takes a while (hundreds of thousands of conflicts): not on
        // this thread's time. Whatever it still shares with the new one stays.
        if Arc::strong_count(&old) == 1 && old.findings.keys.len() > 1000 {
            let _ = std::thread::Builder::new()
                .name("weft-analysis-free".into())
                .spawn(move || drop(old));
        }
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
        // Stored lines were validated on the way in (UTF-8 included): read as bytes, with no
        // conversion pass over them.
        let opts = ReadOptions {
            lenient: true,
            ..ReadOptions::default()
        };
        match Trace::batch_from_ndjson_bytes("store", &text, &opts) {
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
    let empty = Arc::new(Snapshot::new(Engine::new().findings()));
    let analysis = Arc::new(Analysis {
        published: Mutex::new(Published {
            report: Arc::clone(&empty),
            counts: counts(&empty.findings.report, 0),
            changes: VecDeque::new(),
            next_change: 0,
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
                next_change: 0,
                last: empty,
            };
            // When the next publication is due: a gap after the last one as long as it took
            // (at least PUBLISH_GAP), so publishing never takes more than half of the thread
            // while events pour in, however many findings there are.
            let mut due = Instant::now();
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
                }
                if unpublished && Instant::now() >= due {
                    let started = Instant::now();
                    w.publish(&view);
                    let took = started.elapsed();
                    due = Instant::now() + took.max(PUBLISH_GAP);
                    unpublished = false;
                }
                if w.analysed < *committed.borrow() {
                    continue;
                }
                // Caught up: wait for the next commit, or until the publication is due, looking
                // at the stop flag now and then.
                let wait = if unpublished {
                    due.saturating_duration_since(Instant::now())
                } else {
                    Duration::from_millis(200)
                };
                let waited =
                    rt.block_on(async { tokio::time::timeout(wait, committed.changed()).await });
                if let Ok(Err(_)) = waited {
                    break; // the store's writer is gone: nothing more will be committed
                }
            }
        })
        .expect("spawning the analysis thread");
    (analysis, handle)
}
