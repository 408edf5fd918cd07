//! The incremental analysis engine: fed batches of events in any order, it keeps the whole
//! report of everything fed so far up to date, changing only what each batch touches.
//!
//! State is kept per node (a node is an event's arrival index in the engine's accumulated
//! [`Trace`]): its direct cross predecessors (message, parent and clock edges of the spec's
//! section 3), its implied vector clock, and its own findings. A batch marks what it can change
//! and only that is recomputed:
//!
//! * a new event: its own edges and findings; the edges, `seq-gap` and `lamport-violation` of
//!   the next event of its replica (whose program-order predecessor it may become, which also
//!   changes that event's clock-derived edges); every event that waited for it (a missing parent
//!   or clock predecessor); for a `send`, every `recv` of its message and the message's
//!   `duplicate-msg`;
//! * an edge change: the node's implied clock, recomputed from its direct predecessors and
//!   propagated to its successors only while it changes; `vc-mismatch` of each node whose clock
//!   changed; the keys of the writes whose clocks changed;
//! * a dirty key: its conflicts and unresolved siblings, recomputed by the same per-key code the
//!   code always uses (`crate::conflicts`), when the report is read.
//!
//! So events that arrive roughly in causal order cost amortized O(1) each (times the clock
//! width), and a late event costs its causal future's clocks and the keys it touches. The
//! documented worst cases: a key's conflicts are recomputed whole when any of its writes
//! changes (cost: that key's writes); while the trace has a causality cycle, the first report
//! after a batch re-examines the whole graph (one topological pass, then the strongly connected
//! components of what it could not reach: a cycle is an error state, happens-before is not a
//! partial order, and the spec drops vc-mismatch and conflicts then); and a batch that changes
//! most of the graph is computed in one topological pass (each clock once) instead.
//!
//! The invariant, tested in `tests/props.rs` and `tests/engine_fixtures.rs`: after every batch,
//! [`Engine::report`] equals [`crate::analyze`] (the engine fed everything at once) of all
//! events fed so far, whatever the batch sizes and arrival order; and both clock strategies
//! agree with a brute-force reference.

mod adj;
mod clocks;
mod cycles;
mod edges;
mod keys;
mod nodes;
mod reads;
mod wall;

pub use cycles::MAX_CYCLE_RELATED;

use rustc_hash::{FxHashMap, FxHashSet};
use weft_trace::{EventId, Kind, Sym, Trace};

use crate::clock::Clock;
use crate::conflicts::conflict_write;
use crate::finding::{self, Finding};
use crate::report::{Code, Findings, Report};

/// One replica's present events, by seq.
#[derive(Default, Debug)]
struct Log {
    seqs: Vec<u64>,
    nodes: Vec<u32>,
}

impl Log {
    fn find(&self, seq: u64) -> Option<u32> {
        self.seqs.binary_search(&seq).ok().map(|i| self.nodes[i])
    }
}

/// The incremental analysis. See the module documentation.
///
/// ```
/// use weft_trace::{ReadOptions, Trace};
///
/// let mut engine = weft_analyzer::Engine::new();
/// let b = r#"{"replica":"b","seq":1,"kind":"write","key":"k","value":2,"lamport":1}"#;
/// let a = r#"{"replica":"a","seq":1,"kind":"write","key":"k","value":1,"lamport":1}"#;
/// engine.feed(Trace::batch_from_ndjson("1", b, &ReadOptions::default()).unwrap());
/// assert_eq!(engine.report().summary.conflicts, 0);
/// engine.feed(Trace::batch_from_ndjson("2", a, &ReadOptions::default()).unwrap());
/// assert_eq!(engine.report().summary.conflicts, 1);
/// ```
pub struct Engine {
    trace: Trace,
    /// Per replica name (by its interned id): its events.
    logs: Vec<Log>,
    /// Per node: its position in its replica's log.
    pos: Vec<u32>,
    /// Per node: direct cross predecessors, ascending, distinct.
    preds: adj::Adj,
    /// Per node: direct cross successors (unordered).
    succs: adj::Adj,
    /// Nodes that name themselves as a parent.
    self_parent: FxHashSet<u32>,
    /// Ids referenced (as a parent or clock predecessor) but not present → who waits for them.
    waiting: FxHashMap<(Sym, u64), Vec<u32>>,
    /// Per message (by its interned id): its sends and its recvs. Most messages have one of
    /// each, which an `Adj` holds without an allocation of its own.
    sends: adj::Adj,
    recvs: adj::Adj,
    /// Per node: its implied vector clock (indexed by replica name id), once computed; stored
    /// only for nodes with cross predecessors.
    clocks: clocks::NodeClocks,
    /// Chunk size of the clocks (log2).
    shift: u32,
    /// Scratch for clock propagation: nodes queued (all false between calls).
    queued: Vec<bool>,
    /// Per-node findings (seq-gap, missing-event, unmatched-recv, lamport-violation,
    /// vc-mismatch), by (node, code).
    findings: FxHashMap<(u32, Code), Finding>,
    /// Per node: how many entries of `findings` it has.
    found: Vec<u8>,
    /// `duplicate-msg` per message.
    duplicate_msgs: FxHashMap<Sym, Finding>,
    wall: wall::Wall,
    keys: keys::Keys,
    /// Section 8: key types and read verdicts.
    reads: reads::ReadKeys,
    /// Happens-before has a cycle (or a self-parent): clocks are not maintained until the
    /// report finds it acyclic again.
    cyclic: bool,
    /// The last report made while cyclic, until the next feed (a cyclic report costs a pass
    /// over the whole graph).
    cyclic_report: Option<Report>,
    /// Batches that change at least this many clocks, and a quarter of all, recompute every
    /// clock in one topological pass instead of propagating changes.
    bulk_min: usize,
    /// [`Engine::check`]: the engine is fed once and read once, so a topological pass may
    /// discard the clocks nothing will read again.
    discard_read: bool,
    /// Threads the per-key work (conflicts, read verdicts) and a large batch's edges may use;
    /// the report is the same on any number.
    threads: usize,
    /// Batches that mark at least this many nodes find their edges on `threads` threads.
    parallel_min: usize,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

/// What a batch marks for recomputation.
#[derive(Default)]
struct Dirty {
    edges: Vec<u32>,
    gaps: Vec<u32>,
    msgs: Vec<Sym>,
}

impl Engine {
    /// An engine that has seen nothing.
    pub fn new() -> Self {
        Engine {
            trace: Trace::default(),
            logs: Vec::new(),
            pos: Vec::new(),
            preds: adj::Adj::default(),
            succs: adj::Adj::default(),
            self_parent: FxHashSet::default(),
            waiting: FxHashMap::default(),
            sends: adj::Adj::default(),
            recvs: adj::Adj::default(),
            clocks: clocks::NodeClocks::default(),
            shift: 4,
            queued: Vec::new(),
            findings: FxHashMap::default(),
            found: Vec::new(),
            duplicate_msgs: FxHashMap::default(),
            wall: wall::Wall::default(),
            keys: keys::Keys::default(),
            reads: reads::ReadKeys::default(),
            cyclic: false,
            cyclic_report: None,
            bulk_min: nodes::BULK_MIN,
            discard_read: false,
            threads: crate::par::default_threads(),
            parallel_min: edges::PARALLEL_MIN,
        }
    }

    /// The events fed so far (first copies, in arrival order), with what was dropped.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The direct cross predecessors of node `v` (its arrival index in [`Engine::trace`]): the
    /// message, parent and clock edges of the spec's section 3 into it, ascending, distinct, as
    /// of the last [`Engine::feed`]. Program order is not among them (the predecessor in program
    /// order is the previous present event of the same replica), nor is a self-parent.
    pub fn cross_preds(&self, v: u32) -> &[u32] {
        self.preds.get(v)
    }

    /// The direct cross successors of node `v`: the nodes whose [`Engine::cross_preds`] hold
    /// `v`, in no particular order.
    pub fn cross_succs(&self, v: u32) -> &[u32] {
        self.succs.get(v)
    }

    /// An engine fed `trace` as one batch: `crate::analyze` and `weft check` are this.
    pub fn from_trace(trace: Trace) -> Engine {
        let mut engine = Engine::new();
        engine.feed(trace);
        engine
    }

    /// `weft check`: the report of `trace`, fed as one batch. The same report as
    /// [`Engine::from_trace`] then [`Engine::into_report`], in less memory: the engine is never
    /// fed or asked for a clock again, so its one topological pass discards each stored clock
    /// once every successor has read it, unless a conflict-capable write is based on it (with
    /// thousands of replicas gossiping whole states, most stored clocks are receives' that only
    /// their successors read).
    pub fn check(trace: Trace) -> Report {
        Engine::check_on(trace, crate::par::default_threads())
    }

    /// [`Engine::check`] with the per-key work on `threads` threads (the report is the same
    /// on any number: the tests compare 1 with several).
    pub fn check_on(trace: Trace, threads: usize) -> Report {
        let mut engine = Engine::new().with_threads(threads);
        engine.discard_read = true;
        // One pass over everything, whatever the size (it is what a first batch gets anyway
        // from 4096 events on): the pass is what discards.
        engine.bulk_min = 0;
        engine.feed(trace);
        engine.into_report()
    }

    /// Sets how many clocks a batch must change before they are recomputed in one topological
    /// pass instead of propagated (default 4096; the result is the same either way, which the
    /// tests check by setting it to 0 and to `usize::MAX`).
    #[doc(hidden)]
    pub fn with_bulk_min(mut self, clocks: usize) -> Engine {
        self.bulk_min = clocks;
        self
    }

    /// Sets how many nodes a batch must mark before their edges are found on several threads
    /// (default 8192; the result is the same either way, which the tests check by setting it
    /// to 0 and to `usize::MAX`).
    #[doc(hidden)]
    pub fn with_parallel_min(mut self, nodes: usize) -> Engine {
        self.parallel_min = nodes;
        self
    }

    /// Sets how many threads the per-key work and a large batch's edges may use (default: the
    /// cores available).
    pub fn with_threads(mut self, threads: usize) -> Engine {
        self.threads = threads.max(1);
        self
    }

    /// Gives the accumulated trace back (the analysis state is dropped).
    pub fn into_trace(self) -> Trace {
        self.trace
    }

    /// Feeds a batch: the events of `batch` arrive after everything fed before, as if its lines
    /// followed theirs in one file (the first copy of an id wins).
    pub fn feed(&mut self, batch: Trace) {
        self.cyclic_report = None;
        if self.trace.is_empty() && self.preds.is_empty() {
            // Clock chunks of about √(replicas) entries;
            // the replicas of the first batch are the best guess of how many there will be.
            let r = batch.names().len().max(1);
            let root = (r as f64).sqrt().ceil() as usize;
            self.shift = root.next_power_of_two().clamp(8, 1 << 12).trailing_zeros();
        }
        let added = self.trace.append(batch).events;
        let n = self.trace.len();
        self.pos.resize(n, 0);
        self.found.resize(n, 0);
        self.preds.resize(n);
        self.succs.resize(n);
        self.clocks.resize(n);
        self.sends.resize(self.trace.syms().len());
        self.recvs.resize(self.trace.syms().len());
        if self.logs.len() < self.trace.names().len() {
            self.logs
                .resize_with(self.trace.names().len(), Log::default);
        }
        self.place(added.clone());
        let mut dirty = Dirty::default();
        for i in added {
            self.arrive(i as u32, &mut dirty);
        }
        self.settle(dirty);
    }

    /// Puts the nodes `added` into their replicas' logs. Each replica's new events are sorted
    /// first, so a batch costs O(k log k) for k new events of a replica when they all come after
    /// its log (the usual case), and a merge of the log when they do not: never an insertion
    /// into the middle of a long log per event.
    fn place(&mut self, added: std::ops::Range<usize>) {
        let events = self.trace.events();
        // Group the new nodes by replica (a counting sort: no comparison sort of the batch),
        // each group in arrival order, then sort a group by seq only when it is not already.
        let names = self.logs.len();
        let mut start = vec![0u32; names + 1];
        for i in added.clone() {
            start[events[i].replica as usize + 1] += 1;
        }
        for q in 0..names {
            start[q + 1] += start[q];
        }
        let mut fill = start.clone();
        let mut new = vec![0u32; added.len()];
        for i in added {
            let q = events[i].replica as usize;
            new[fill[q] as usize] = i as u32;
            fill[q] += 1;
        }
        for q in 0..names {
            let run = &mut new[start[q] as usize..start[q + 1] as usize];
            if run.is_empty() {
                continue;
            }
            if !run.is_sorted_by_key(|&v| events[v as usize].seq) {
                run.sort_unstable_by_key(|&v| events[v as usize].seq);
            }
            let log = &mut self.logs[q];
            let first = events[run[0] as usize].seq;
            let from = if log.seqs.last().is_none_or(|&last| last < first) {
                let from = log.seqs.len();
                log.seqs.extend(run.iter().map(|&v| events[v as usize].seq));
                log.nodes.extend_from_slice(run);
                from
            } else if run.len() <= 8 {
                let mut from = usize::MAX;
                for &v in run.iter() {
                    let seq = events[v as usize].seq;
                    let at = log.seqs.partition_point(|&s| s < seq);
                    log.seqs.insert(at, seq);
                    log.nodes.insert(at, v);
                    from = from.min(at);
                }
                from
            } else {
                let old = std::mem::take(log);
                let mut merged = Log {
                    seqs: Vec::with_capacity(old.seqs.len() + run.len()),
                    nodes: Vec::with_capacity(old.seqs.len() + run.len()),
                };
                let (mut i, mut j) = (0, 0);
                while i < old.seqs.len() || j < run.len() {
                    let theirs = run.get(j).map(|&v| events[v as usize].seq);
                    match theirs {
                        Some(t) if i == old.seqs.len() || t < old.seqs[i] => {
                            merged.seqs.push(t);
                            merged.nodes.push(run[j]);
                            j += 1;
                        }
                        _ => {
                            merged.seqs.push(old.seqs[i]);
                            merged.nodes.push(old.nodes[i]);
                            i += 1;
                        }
                    }
                }
                *log = merged;
                0
            };
            // Positions from the first changed one on.
            for (k, &v) in log.nodes.iter().enumerate().skip(from) {
                self.pos[v as usize] = k as u32;
            }
        }
    }

    /// Registers a new node and marks what it may change.
    fn arrive(&mut self, v: u32, dirty: &mut Dirty) {
        let e = &self.trace.events()[v as usize];
        let (replica, seq, kind, msg) = (e.replica, e.seq, e.kind, e.msg);
        let (_, next) = self.around(v);
        dirty.edges.push(v);
        dirty.gaps.push(v);
        if let Some(next) = next {
            dirty.edges.push(next);
            dirty.gaps.push(next);
        }
        if let Some(waiters) = self.waiting.remove(&(replica, seq)) {
            dirty.edges.extend(waiters);
        }
        match kind {
            Kind::Send => {
                self.sends.push(msg, v);
                dirty.msgs.push(msg);
                dirty.edges.extend_from_slice(self.recvs.get(msg));
            }
            Kind::Recv => self.recvs.push(msg, v),
            _ => {}
        }
        if conflict_write(e) {
            self.keys.add(&self.trace, v);
        }
        self.reads.add(&self.trace, v);
    }

    /// Recomputes what a batch marked.
    fn settle(&mut self, mut dirty: Dirty) {
        self.dedup(&mut dirty.gaps);
        for &v in &dirty.gaps {
            self.seq_gap(v);
        }
        self.dedup(&mut dirty.edges);
        self.edges(&dirty.edges);
        dirty.msgs.sort_unstable();
        dirty.msgs.dedup();
        for &m in &dirty.msgs {
            self.duplicate_msg(m);
        }
        if !self.cyclic {
            // Every node whose edges were recomputed needs its clock recomputed.
            self.propagate(dirty.edges);
        }
    }

    /// Removes repeats, keeping first occurrences in order (in O(len), with the propagation's
    /// marks, which are all clear between calls).
    fn dedup(&mut self, v: &mut Vec<u32>) {
        self.queued.resize(self.trace.len(), false);
        v.retain(|&x| !std::mem::replace(&mut self.queued[x as usize], true));
        for &x in v.iter() {
            self.queued[x as usize] = false;
        }
    }

    /// The id of node `v`.
    fn id(&self, v: u32) -> EventId {
        self.trace.id(v as usize)
    }

    /// A node's program-order neighbours.
    #[inline]
    fn around(&self, v: u32) -> (Option<u32>, Option<u32>) {
        let e = &self.trace.events()[v as usize];
        let log = &self.logs[e.replica as usize];
        let at = self.pos[v as usize] as usize;
        (
            at.checked_sub(1).map(|i| log.nodes[i]),
            log.nodes.get(at + 1).copied(),
        )
    }

    fn set_finding(&mut self, v: u32, code: Code, f: Option<Finding>) {
        let count = &mut self.found[v as usize];
        match f {
            Some(f) => {
                if self.findings.insert((v, code), f).is_none() {
                    *count += 1;
                }
            }
            // Most nodes have no finding: no lookup to learn that.
            None if *count == 0 => {}
            None => {
                if self.findings.remove(&(v, code)).is_some() {
                    *count -= 1;
                }
            }
        }
    }

    fn seq_gap(&mut self, v: u32) {
        let e = &self.trace.events()[v as usize];
        let f = match self.around(v).0 {
            None if e.seq != 1 => Some(finding::first_seq_gap(v, self.trace.replica(e), e.seq)),
            Some(p) if self.trace.events()[p as usize].seq != e.seq - 1 => {
                Some(finding::seq_gap(v, &self.id(v), &self.id(p)))
            }
            _ => None,
        };
        self.set_finding(v, Code::SeqGap, f);
    }

    fn duplicate_msg(&mut self, m: Sym) {
        let sends = self.sends.get(m);
        if sends.len() < 2 {
            self.duplicate_msgs.remove(&m);
            return;
        }
        let mut ids: Vec<(EventId, u32)> = sends.iter().map(|&s| (self.id(s), s)).collect();
        ids.sort();
        let all: Vec<EventId> = ids.iter().map(|(id, _)| id.clone()).collect();
        let f = finding::duplicate_msg(ids[0].1, self.trace.syms().resolve(m), &all);
        self.duplicate_msgs.insert(m, f);
    }

    /// The report of everything fed so far (the spec's section 6). Feeding the same events in
    /// any batches and any order gives the same report.
    pub fn report(&mut self) -> Report {
        self.findings().to_report()
    }

    /// [`Engine::report`] for a reader that reads it often (the collector, many times a
    /// second): the conflicts stay shared with the engine per key, and a key's [`crate::KeyFindings`]
    /// is the same `Arc` until one of its writes arrives or changes clock, so the cost of a read
    /// is the violations and the number of keys with findings, not the conflicts.
    /// [`Findings::to_report`] gives exactly [`Engine::report`].
    pub fn findings(&mut self) -> Findings {
        if let Some(report) = self.while_cyclic() {
            return Findings {
                report,
                keys: Vec::new(),
            };
        }
        let keys = self.keys.shared(&self.trace, &self.clocks, self.threads);
        let findings = self.node_findings(false);
        let mut report = self.assemble(findings, Vec::new(), Vec::new(), true);
        report.summary.conflicts = keys.iter().map(|k| k.conflicts.len() as u64).sum();
        report.summary.unresolved = keys.iter().filter(|k| k.unresolved.is_some()).count() as u64;
        Findings { report, keys }
    }

    /// The report while happens-before has a cycle; `None` when it is a partial order.
    fn while_cyclic(&mut self) -> Option<Report> {
        if let Some(r) = self.cyclic_report.as_ref().filter(|_| self.cyclic) {
            return Some(r.clone());
        }
        if self.cyclic {
            // Clocks are not maintained while happens-before has a cycle; a pass over the whole
            // graph finds whether it still has one (an edge it needed can be replaced by a
            // late event) and brings every clock up to date if not.
            let residue = self.recompute_all();
            if !residue.is_empty() || !self.self_parent.is_empty() {
                let report = self.cyclic_report(&residue);
                self.cyclic_report = Some(report.clone());
                return Some(report);
            }
            self.cyclic = false;
        }
        None
    }

    /// The report of everything fed, for the last time: like [`Engine::report`], but the
    /// conflicts are moved into the report instead of copied (what `weft check` wants: a hot
    /// key can hold millions of them).
    pub fn into_report(self) -> Report {
        self.into_report_and_trace().0
    }

    /// [`Engine::into_report`], and the trace back: for a reader that keeps both (the TUI),
    /// without the copy of every conflict that [`Engine::report`] then [`Engine::into_trace`]
    /// would hold at once.
    pub fn into_report_and_trace(mut self) -> (Report, Trace) {
        if self.cyclic {
            let report = self.report();
            return (report, self.trace);
        }
        let findings = self.node_findings(false);
        let keys = std::mem::take(&mut self.keys);
        let (conflicts, unresolved) = keys.into_results(&self.trace, &self.clocks, self.threads);
        let report = self.assemble(findings, conflicts, unresolved, true);
        (report, self.trace)
    }

    /// The report while happens-before has a cycle: the cycles, and the findings that do not
    /// need a partial order (no vc-mismatch, no conflicts: the spec drops them then).
    fn cyclic_report(&mut self, residue: &[u32]) -> Report {
        let mut findings = self.node_findings(true);
        findings.extend(self.cycle_findings(residue));
        self.assemble(findings, Vec::new(), Vec::new(), false)
    }

    /// The per-node, per-message and per-pair findings, the read verdicts (only the key types
    /// while cyclic), and the conflicting duplicates.
    fn node_findings(&mut self, cyclic: bool) -> Vec<Finding> {
        self.reads.update(
            &self.trace,
            &self.clocks,
            self.keys.projected(),
            !cyclic,
            self.threads,
        );
        let mut findings: Vec<Finding> = self
            .findings
            .values()
            .filter(|f| !(cyclic && f.code == Code::VcMismatch))
            .chain(self.duplicate_msgs.values())
            .chain(self.reads.findings())
            .cloned()
            .chain(self.wall.findings(&self.trace))
            .collect();
        for &i in self.trace.conflicting_duplicates() {
            findings.push(finding::duplicate_event(i, &self.trace.id(i as usize)));
        }
        findings
    }

    fn assemble(
        &self,
        findings: Vec<Finding>,
        conflicts: Vec<crate::Conflict>,
        unresolved: Vec<crate::Unresolved>,
        complete: bool,
    ) -> Report {
        let keyed: Vec<(EventId, Finding)> =
            findings.into_iter().map(|f| (self.id(f.node), f)).collect();
        crate::assemble(
            &self.trace,
            keyed,
            conflicts,
            unresolved,
            self.replicas() as u64,
            complete,
            if complete { self.reads.checked() } else { 0 },
        )
    }

    /// Number of replicas with events.
    pub fn replicas(&self) -> usize {
        self.logs.iter().filter(|l| !l.seqs.is_empty()).count()
    }

    /// The replicas with events (interned name ids), in name order, each with its events'
    /// nodes in seq order.
    pub fn replica_logs(&self) -> Vec<(Sym, &[u32])> {
        let names = self.trace.names();
        let mut out: Vec<(Sym, &[u32])> = self
            .logs
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.seqs.is_empty())
            .map(|(q, l)| (q as Sym, &l.nodes[..]))
            .collect();
        out.sort_unstable_by(|a, b| {
            names
                .resolve(a.0)
                .as_bytes()
                .cmp(names.resolve(b.0).as_bytes())
        });
        out
    }

    /// The implied vector clock of node `v` (`VC(v)` of the spec's section 3, indexed by
    /// interned replica name), when happens-before is a partial order; `None` while the trace
    /// has a cycle.
    pub fn implied_clock(&self, v: u32) -> Option<Clock> {
        if self.cyclic {
            return None;
        }
        self.clocks.full(&self.trace, v, self.shift)
    }

    /// One entry of [`Engine::implied_clock`]: `VC(v)[replica]` (0 while the trace has a cycle).
    pub fn implied_entry(&self, v: u32, replica: Sym) -> u64 {
        if self.cyclic {
            return 0;
        }
        self.clocks.entry(&self.trace, v, replica)
    }
}
