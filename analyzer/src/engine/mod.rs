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
//!   batch analysis uses, when the report is read.
//!
//! So events that arrive roughly in causal order cost amortized O(1) each (times the clock
//! width), and a late event costs its causal future's clocks and the keys it touches. The
//! documented worst cases: a key's conflicts are recomputed whole when any of its writes
//! changes (cost: that key's writes), and while the trace has a causality cycle the report is
//! computed from scratch each time it is read (a cycle is an error state: happens-before is not
//! a partial order, and the spec drops vc-mismatch and conflicts then).
//!
//! The invariant, tested in `tests/engine.rs`: after every batch, [`Engine::report`] equals
//! [`crate::analyze`] of all events fed so far, whatever the batch sizes and arrival order.

mod keys;
mod nodes;
mod wall;

use rustc_hash::{FxHashMap, FxHashSet};
use weft_trace::{EventId, Kind, Sym, Trace};

use crate::clock::Clock;
use crate::finding::{self, Finding};
use crate::order::conflict_write;
use crate::report::{Code, Report};

/// One replica's present events, by seq.
#[derive(Default, Debug)]
struct Log {
    seqs: Vec<u64>,
    nodes: Vec<u32>,
}

impl Log {
    /// Inserts `(seq, node)`; returns its program-order neighbours.
    fn insert(&mut self, seq: u64, node: u32) -> (Option<u32>, Option<u32>) {
        let at = self.seqs.partition_point(|&s| s < seq);
        self.seqs.insert(at, seq);
        self.nodes.insert(at, node);
        (
            at.checked_sub(1).map(|i| self.nodes[i]),
            self.nodes.get(at + 1).copied(),
        )
    }

    fn find(&self, seq: u64) -> Option<u32> {
        self.seqs.binary_search(&seq).ok().map(|i| self.nodes[i])
    }

    /// The program-order neighbours of the event with `seq` (which is present).
    fn around(&self, seq: u64) -> (Option<u32>, Option<u32>) {
        match self.seqs.binary_search(&seq) {
            Ok(at) => (
                at.checked_sub(1).map(|i| self.nodes[i]),
                self.nodes.get(at + 1).copied(),
            ),
            Err(_) => (None, None),
        }
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
    /// Per node: direct cross predecessors, ascending, distinct.
    preds: Vec<Vec<u32>>,
    /// Per node: direct cross successors (unordered).
    succs: Vec<Vec<u32>>,
    /// Nodes that name themselves as a parent.
    self_parent: FxHashSet<u32>,
    /// Ids referenced (as a parent or clock predecessor) but not present → who waits for them.
    waiting: FxHashMap<(Sym, u64), Vec<u32>>,
    /// Per message: its sends and its recvs.
    sends: FxHashMap<Sym, Vec<u32>>,
    recvs: FxHashMap<Sym, Vec<u32>>,
    /// Per node: its implied vector clock (indexed by replica name id), once computed.
    clocks: Vec<Option<Clock>>,
    /// Chunk size of the clocks (log2).
    shift: u32,
    /// Scratch for clock propagation: nodes queued (all false between calls).
    queued: Vec<bool>,
    /// Per-node findings (seq-gap, missing-event, unmatched-recv, lamport-violation,
    /// vc-mismatch), by (node, code).
    findings: FxHashMap<(u32, Code), Finding>,
    /// `duplicate-msg` per message.
    duplicate_msgs: FxHashMap<Sym, Finding>,
    wall: wall::Wall,
    keys: keys::Keys,
    /// Happens-before has a cycle (or a self-parent): clocks are not maintained until the
    /// report finds it acyclic again.
    cyclic: bool,
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
    clocks: Vec<u32>,
}

impl Engine {
    /// An engine that has seen nothing.
    pub fn new() -> Self {
        Engine {
            trace: Trace::default(),
            logs: Vec::new(),
            preds: Vec::new(),
            succs: Vec::new(),
            self_parent: FxHashSet::default(),
            waiting: FxHashMap::default(),
            sends: FxHashMap::default(),
            recvs: FxHashMap::default(),
            clocks: Vec::new(),
            shift: 4,
            queued: Vec::new(),
            findings: FxHashMap::default(),
            duplicate_msgs: FxHashMap::default(),
            wall: wall::Wall::default(),
            keys: keys::Keys::default(),
            cyclic: false,
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
        &self.preds[v as usize]
    }

    /// The direct cross successors of node `v`: the nodes whose [`Engine::cross_preds`] hold
    /// `v`, in no particular order.
    pub fn cross_succs(&self, v: u32) -> &[u32] {
        &self.succs[v as usize]
    }

    /// Feeds a batch: the events of `batch` arrive after everything fed before, as if its lines
    /// followed theirs in one file (the first copy of an id wins).
    pub fn feed(&mut self, batch: Trace) {
        if self.trace.is_empty() && self.preds.is_empty() {
            // Clock chunks of about √(replicas) entries, as the batch analysis chooses them;
            // the replicas of the first batch are the best guess of how many there will be.
            let r = batch.names().len().max(1);
            let root = (r as f64).sqrt().ceil() as usize;
            self.shift = root.next_power_of_two().clamp(8, 1 << 12).trailing_zeros();
        }
        let added = self.trace.append(batch).events;
        let n = self.trace.len();
        self.preds.resize_with(n, Vec::new);
        self.succs.resize_with(n, Vec::new);
        self.clocks.resize_with(n, || None);
        if self.logs.len() < self.trace.names().len() {
            self.logs
                .resize_with(self.trace.names().len(), Log::default);
        }
        let mut dirty = Dirty::default();
        for i in added {
            self.arrive(i as u32, &mut dirty);
        }
        self.settle(dirty);
    }

    /// Registers a new node and marks what it may change.
    fn arrive(&mut self, v: u32, dirty: &mut Dirty) {
        let e = &self.trace.events()[v as usize];
        let (replica, seq, kind, msg) = (e.replica, e.seq, e.kind, e.msg);
        let (_, next) = self.logs[replica as usize].insert(seq, v);
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
                self.sends.entry(msg).or_default().push(v);
                dirty.msgs.push(msg);
                if let Some(recvs) = self.recvs.get(&msg) {
                    dirty.edges.extend(recvs);
                }
            }
            Kind::Recv => self.recvs.entry(msg).or_default().push(v),
            _ => {}
        }
        if conflict_write(e) {
            self.keys.add(&self.trace, v);
        }
    }

    /// Recomputes what a batch marked.
    fn settle(&mut self, mut dirty: Dirty) {
        dedup(&mut dirty.gaps);
        for &v in &dirty.gaps {
            self.seq_gap(v);
        }
        dedup(&mut dirty.edges);
        for &v in &dirty.edges {
            if self.edges(v) {
                dirty.clocks.push(v);
            }
        }
        dirty.msgs.sort_unstable();
        dirty.msgs.dedup();
        for &m in &dirty.msgs {
            self.duplicate_msg(m);
        }
        if !self.cyclic {
            self.propagate(dirty.clocks);
        }
    }

    /// The id of node `v`.
    fn id(&self, v: u32) -> EventId {
        self.trace.id(v as usize)
    }

    /// A node's program-order neighbours.
    fn around(&self, v: u32) -> (Option<u32>, Option<u32>) {
        let e = &self.trace.events()[v as usize];
        self.logs[e.replica as usize].around(e.seq)
    }

    fn set_finding(&mut self, v: u32, code: Code, f: Option<Finding>) {
        match f {
            Some(f) => {
                self.findings.insert((v, code), f);
            }
            None => {
                self.findings.remove(&(v, code));
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
        let sends = self.sends.get(&m).map_or(&[][..], |s| &s[..]);
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

    /// The report of everything fed so far: exactly [`crate::analyze`] of [`Engine::trace`].
    pub fn report(&mut self) -> Report {
        if self.cyclic {
            let full = crate::analyze_full(&self.trace);
            if !full.report.summary.complete {
                return full.report;
            }
            // The cycle is gone (an edge it needed was replaced): clocks from scratch.
            self.cyclic = false;
            self.clocks.iter_mut().for_each(|c| *c = None);
            self.propagate((0..self.trace.len() as u32).collect());
            if self.cyclic {
                return crate::analyze_full(&self.trace).report;
            }
            self.keys.dirty_all();
        }
        let (conflicts, unresolved) = self.keys.results(&self.trace, &self.clocks);
        let mut findings: Vec<Finding> = self
            .findings
            .values()
            .chain(self.duplicate_msgs.values())
            .cloned()
            .chain(self.wall.findings(&self.trace))
            .collect();
        for &i in self.trace.conflicting_duplicates() {
            findings.push(finding::duplicate_event(i, &self.trace.id(i as usize)));
        }
        let keyed: Vec<(EventId, Finding)> =
            findings.into_iter().map(|f| (self.id(f.node), f)).collect();
        let replicas = self.logs.iter().filter(|l| !l.seqs.is_empty()).count() as u64;
        crate::assemble(&self.trace, keyed, conflicts, unresolved, replicas, true)
    }
}

/// Sorts and removes repeats.
fn dedup(v: &mut Vec<u32>) {
    v.sort_unstable();
    v.dedup();
}
