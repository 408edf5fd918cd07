//! What the TUI browses: a trace, its analysis, and the time-space layout of its events.
//!
//! A [`Model`] is immutable once built. A recorded trace gets one, from the analysis
//! ([`Model::build`]); a live source grows one batch by batch from the incremental engine
//! ([`crate::grow::Growing`]) and hands the UI snapshots of it, swapped in whole, so every view
//! of the state always agrees with itself.
//!
//! Nodes are numbered by arrival (node `n` is event `n` of the trace): numbers never change as
//! a trace grows, which is what lets a live model be extended instead of rebuilt. Lanes are
//! replicas in name order; each lane lists its nodes by seq. Per-node arrays are
//! [`PVec`](crate::pvec::PVec)s, so a snapshot shares everything a later update does not touch.

use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};
use weft_analyzer::{Analysis, Report, Severity};
use weft_trace::vcenc::{self, VcIter};
use weft_trace::{EventId, EventRec, Kind, Sym, Trace, NONE};

use crate::pvec::{Adj, PVec};

/// The event has a conflicting concurrent write.
pub const F_CONFLICT: u8 = 1;
/// The event has a violation of severity error.
pub const F_ERROR: u8 = 2;
/// The event has a violation of severity warning.
pub const F_WARNING: u8 = 4;
/// The event is one of the unresolved siblings of a register.
pub const F_SIBLING: u8 = 8;

/// A row not computed yet.
pub(crate) const UNSET: u32 = u32::MAX;

/// How an event is drawn: the trace's kinds, plus merges (local events with cross parents).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Glyph {
    /// A write.
    Write,
    /// A read.
    Read,
    /// A send.
    Send,
    /// A receive.
    Recv,
    /// A local event that names parents on other replicas.
    Merge,
    /// Any other local event.
    Local,
}

/// Where a model's events live: a recorded trace as read, or a live model's copy of the
/// engine's events, in chunks shared between snapshots.
#[derive(Clone)]
pub(crate) enum Events {
    Whole(Arc<Trace>),
    Live(LiveEvents),
}

/// Events copied from the engine's trace, appended as they arrive (never changed after).
#[derive(Clone, Default)]
pub(crate) struct LiveEvents {
    segs: Vec<Arc<Segment>>,
    len: usize,
    names: PVec<Arc<str>, 8>,
    name_ids: Arc<HashMap<Arc<str>, Sym>>,
    syms: PVec<Arc<str>>,
}

/// Up to `1 << SEG_SHIFT` consecutive events with their clocks, parents, values and attrs; the
/// records point into this segment's tables.
#[derive(Clone, Default)]
struct Segment {
    recs: Vec<EventRec>,
    vc: Vec<u8>,
    parents: Vec<(Sym, u64)>,
    values: Vec<Value>,
    attrs: Vec<Map<String, Value>>,
}

const SEG_SHIFT: u32 = 12;
const SEG_MASK: usize = (1 << SEG_SHIFT) - 1;

impl LiveEvents {
    /// Copies the strings `t` interned since the last call (both are append-only).
    pub(crate) fn sync_strings(&mut self, t: &Trace) -> bool {
        let names = t.names();
        let new_names = names.len() > self.names.len();
        if new_names {
            let ids = Arc::make_mut(&mut self.name_ids);
            for q in self.names.len()..names.len() {
                let s: Arc<str> = Arc::from(names.resolve(q as Sym));
                ids.insert(s.clone(), q as Sym);
                self.names.push(s);
            }
        }
        let syms = t.syms();
        for m in self.syms.len()..syms.len() {
            self.syms.push(Arc::from(syms.resolve(m as Sym)));
        }
        new_names
    }

    /// Copies event `i` of `t`, which must be the next one.
    pub(crate) fn push_from(&mut self, t: &Trace, i: usize) {
        debug_assert_eq!(i, self.len);
        if self.len & SEG_MASK == 0 {
            self.segs.push(Arc::new(Segment::default()));
        }
        let seg = Arc::make_mut(self.segs.last_mut().expect("a segment with room"));
        let e = &t.events()[i];
        let mut r = *e;
        r.vc_start = seg.vc.len() as u64;
        let entries: Vec<(Sym, u64)> = t.vc(e).collect();
        vcenc::encode(&entries, &mut seg.vc);
        r.vc_len = (seg.vc.len() as u64 - r.vc_start) as u32;
        r.parents_start = seg.parents.len() as u64;
        seg.parents.extend_from_slice(t.parents(e));
        if let Some(v) = t.value(e) {
            r.value = seg.values.len() as u32;
            seg.values.push(v.clone());
        }
        if let Some(a) = t.attrs(e) {
            r.attrs = seg.attrs.len() as u32;
            seg.attrs.push(a.clone());
        }
        seg.recs.push(r);
        self.len += 1;
    }

    fn seg(&self, n: u32) -> (&Segment, &EventRec) {
        let s = &self.segs[n as usize >> SEG_SHIFT];
        (s, &s.recs[n as usize & SEG_MASK])
    }
}

impl Events {
    fn rec(&self, n: u32) -> &EventRec {
        match self {
            Events::Whole(t) => &t.events()[n as usize],
            Events::Live(l) => l.seg(n).1,
        }
    }

    fn vc(&self, n: u32) -> VcIter<'_> {
        match self {
            Events::Whole(t) => t.vc(&t.events()[n as usize]),
            Events::Live(l) => {
                let (s, r) = l.seg(n);
                let start = r.vc_start as usize;
                VcIter::new(&s.vc[start..start + r.vc_len as usize])
            }
        }
    }

    fn parents(&self, n: u32) -> &[(Sym, u64)] {
        match self {
            Events::Whole(t) => t.parents(&t.events()[n as usize]),
            Events::Live(l) => {
                let (s, r) = l.seg(n);
                let start = r.parents_start as usize;
                &s.parents[start..start + r.parents_len as usize]
            }
        }
    }

    fn value(&self, n: u32) -> Option<&Value> {
        match self {
            Events::Whole(t) => t.value(&t.events()[n as usize]),
            Events::Live(l) => {
                let (s, r) = l.seg(n);
                (r.value != NONE).then(|| &s.values[r.value as usize])
            }
        }
    }

    fn attrs(&self, n: u32) -> Option<&Map<String, Value>> {
        match self {
            Events::Whole(t) => t.attrs(&t.events()[n as usize]),
            Events::Live(l) => {
                let (s, r) = l.seg(n);
                (r.attrs != NONE).then(|| &s.attrs[r.attrs as usize])
            }
        }
    }

    fn name(&self, q: Sym) -> &str {
        match self {
            Events::Whole(t) => t.names().resolve(q),
            Events::Live(l) => &l.names[q as usize],
        }
    }

    fn name_id(&self, name: &str) -> Option<Sym> {
        match self {
            Events::Whole(t) => t.names().get(name),
            Events::Live(l) => l.name_ids.get(name).copied(),
        }
    }

    fn sym(&self, m: Sym) -> &str {
        match self {
            Events::Whole(t) => t.syms().resolve(m),
            Events::Live(l) => &l.syms[m as usize],
        }
    }
}

/// Happens-before as the TUI walks it: lanes, program order, and the cross edges (message,
/// parent and clock edges) of the analysis it was built from: the
/// [`weft_analyzer::CausalGraph`] for a recorded trace, the incremental
/// [`weft_analyzer::Engine`]'s edges for a live one. Nothing here decides an edge.
#[derive(Clone, Default)]
pub struct Graph {
    /// Replica name id of each node.
    pub(crate) sym: PVec<Sym>,
    /// Position of each node in its lane.
    pub(crate) pos: PVec<u32>,
    /// Nodes of each lane (replicas with events, in name order), by seq.
    pub(crate) lanes: Vec<PVec<u32>>,
    /// Lane of each replica name id (`NONE` for names without events).
    pub(crate) rank_of_sym: Arc<Vec<u32>>,
    /// Replica name id of each lane.
    pub(crate) sym_of_rank: Arc<Vec<Sym>>,
    /// Cross predecessors of each node, in id order.
    pub(crate) preds: Adj,
    /// Cross successors of each node, in id order.
    pub(crate) succs: Adj,
}

impl Graph {
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.sym.len()
    }

    /// True without nodes.
    pub fn is_empty(&self) -> bool {
        self.sym.is_empty()
    }

    /// Number of lanes.
    pub fn lanes(&self) -> u32 {
        self.lanes.len() as u32
    }

    /// The lane of node `n`.
    #[inline]
    pub fn lane(&self, n: u32) -> u32 {
        self.rank_of_sym[self.sym[n as usize] as usize]
    }

    /// The position of node `n` in its lane (its program-order index among present events).
    #[inline]
    pub fn pos(&self, n: u32) -> u32 {
        self.pos[n as usize]
    }

    /// Number of nodes in lane `l`.
    #[inline]
    pub fn lane_len(&self, l: u32) -> u32 {
        self.lanes[l as usize].len() as u32
    }

    /// The node at position `i` of lane `l`.
    #[inline]
    pub fn lane_node(&self, l: u32, i: u32) -> u32 {
        self.lanes[l as usize][i as usize]
    }

    /// The nodes of lane `l` at positions `range`, in order.
    pub fn lane_nodes(
        &self,
        l: u32,
        range: std::ops::Range<u32>,
    ) -> impl DoubleEndedIterator<Item = u32> + '_ {
        self.lanes[l as usize]
            .range(range.start as usize..range.end as usize)
            .copied()
    }

    /// The replica name id of lane `l`.
    pub fn lane_sym(&self, l: u32) -> Sym {
        self.sym_of_rank[l as usize]
    }

    /// The program-order predecessor of `n` (previous present event of its replica).
    #[inline]
    pub fn prev(&self, n: u32) -> Option<u32> {
        let p = self.pos(n);
        (p > 0).then(|| self.lane_node(self.lane(n), p - 1))
    }

    /// The program-order successor of `n`.
    #[inline]
    pub fn next(&self, n: u32) -> Option<u32> {
        let l = self.lane(n);
        let p = self.pos(n) + 1;
        (p < self.lane_len(l)).then(|| self.lane_node(l, p))
    }

    /// Cross-edge predecessors of `n` (message, parent and clock edges), in id order, distinct.
    #[inline]
    pub fn cross_preds(&self, n: u32) -> &[u32] {
        self.preds.get(n)
    }

    /// Cross-edge successors of `n`, in id order.
    #[inline]
    pub fn cross_succs(&self, n: u32) -> &[u32] {
        self.succs.get(n)
    }

    /// All direct predecessors of `n`: program order first, then cross edges.
    pub fn preds(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        self.prev(n)
            .into_iter()
            .chain(self.cross_preds(n).iter().copied())
    }

    /// All direct successors of `n`.
    pub fn succs(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        self.next(n)
            .into_iter()
            .chain(self.cross_succs(n).iter().copied())
    }
}

/// A trace with its analysis and layout.
#[derive(Clone)]
pub struct Model {
    pub(crate) events: Events,
    /// Happens-before.
    pub graph: Graph,
    /// The findings.
    pub report: Arc<Report>,
    /// Row of each node: its depth in happens-before, so edges always point down and
    /// concurrent events share rows.
    pub row: PVec<u32>,
    /// Number of rows.
    pub rows: u32,
    /// Nodes of each row, in lane order.
    pub(crate) buckets: PVec<Vec<u32>, 8>,
    /// Rows strictly increase along every edge (happens-before has no cycle), so a walk between
    /// two rows never leaves them.
    pub monotone: bool,
    /// Finding bits of each node (`F_*`).
    pub flags: PVec<u8>,
    /// The node each violation is attached to (`None` for malformed lines).
    pub violation_node: Arc<Vec<Option<u32>>>,
    /// Violation indices grouped by code, then event: the order the violations pane lists.
    pub violations_by_code: Arc<Vec<u32>>,
    /// `(node, violation index)`, sorted.
    pub(crate) violations_at: Arc<Vec<(u32, u32)>>,
    /// `(node, conflict index)`, sorted: every conflict appears under both of its writes.
    pub(crate) conflict_of: Arc<Vec<(u32, u32)>>,
    /// Replica name of each lane.
    pub lane_names: Arc<Vec<String>>,
    /// Estimated wall-clock offset of each replica against its peers, ns, with the number of
    /// messages it is estimated from.
    pub skew: Arc<Vec<Option<(i64, u32)>>>,
    /// Causal replay order, computed on first use.
    pub(crate) causal: CausalCache,
    /// Which snapshot of a grown model this is (0: a model built whole).
    pub(crate) generation: u64,
    /// What changed since the snapshot before, when known.
    pub(crate) changes: Option<Arc<Changes>>,
}

/// The nodes of a grown model's snapshot that are new or on another row than in the snapshot
/// `base` before it (what a search's matches must look at again).
#[derive(Debug)]
pub(crate) struct Changes {
    pub(crate) base: u64,
    /// Sorted, distinct.
    pub(crate) nodes: Vec<u32>,
}

/// Row order (then lane order): a linear extension of happens-before when rows are monotone.
struct Causal {
    seq: Vec<u32>,
    pos: Vec<u32>,
}

/// The causal replay order of one model, computed when a replay first asks for it. A copy of
/// the model (which may then change) starts without it.
#[derive(Default)]
pub(crate) struct CausalCache(OnceLock<Causal>);

impl Clone for CausalCache {
    fn clone(&self) -> Self {
        CausalCache::default()
    }
}

/// What a report says about the nodes: indexes into it and the finding bits.
pub(crate) struct Findings {
    pub(crate) violation_node: Vec<Option<u32>>,
    pub(crate) violations_at: Vec<(u32, u32)>,
    pub(crate) violations_by_code: Vec<u32>,
    pub(crate) conflict_of: Vec<(u32, u32)>,
    /// `(node, F_* bits)`, one entry per node with bits.
    pub(crate) marks: Vec<(u32, u8)>,
}

/// Returns the difference from the enclosing function, if there is one.
macro_rules! check {
    ($diff:expr) => {
        if let Some(d) = $diff {
            return Some(d);
        }
    };
}

impl Model {
    /// Analyses `trace` and lays it out.
    pub fn build(trace: Trace) -> Model {
        let (trace, analysis) = weft_analyzer::analyze_owned(trace);
        Model::from_analysis(trace, analysis)
    }

    /// Lays out an analysed trace.
    pub fn from_analysis(trace: Trace, analysis: Analysis) -> Model {
        let Analysis {
            graph: g, report, ..
        } = analysis;
        let n = g.len();
        // Arrival numbering: node a is event a; lanes and edges from the `CausalGraph`, whose
        // node order is id order.
        let mut rank_of_sym = vec![NONE; trace.names().len()];
        let mut sym_of_rank = Vec::with_capacity(g.replicas());
        let mut sym = vec![0 as Sym; n];
        let mut pos = vec![0u32; n];
        let mut lanes = Vec::with_capacity(g.replicas());
        for r in 0..g.replicas() as u32 {
            let s = g.replica_sym(r);
            rank_of_sym[s as usize] = r;
            sym_of_rank.push(s);
            let nodes: Vec<u32> = g.replica_nodes(r).map(|k| g.event(k) as u32).collect();
            for (i, &a) in nodes.iter().enumerate() {
                sym[a as usize] = s;
                pos[a as usize] = i as u32;
            }
            lanes.push(PVec::from_vec(nodes));
        }
        let mut preds = Adj::default();
        let mut succs = Adj::default();
        let mut scratch: Vec<u32> = Vec::new();
        for a in 0..n {
            let k = g.node(a);
            scratch.clear();
            scratch.extend(g.cross_preds(k).iter().map(|&p| g.event(p) as u32));
            preds.push(&scratch);
            scratch.clear();
            scratch.extend(g.cross_succs(k).iter().map(|&s| g.event(s) as u32));
            succs.push(&scratch);
        }
        drop(g);
        let graph = Graph {
            sym: PVec::from_vec(sym),
            pos: PVec::from_vec(pos),
            lanes,
            rank_of_sym: Arc::new(rank_of_sym),
            sym_of_rank: Arc::new(sym_of_rank),
            preds,
            succs,
        };
        let mut m = Model::bare(Events::Whole(Arc::new(trace)), graph, report);
        m.lay_out_from_scratch();
        m.skew = Arc::new(m.skew_from_scratch());
        let f = m.index_report(&m.report);
        m.apply_findings(f, &[]);
        m
    }

    /// A model of `events` and `graph` without layout, findings or skew yet.
    pub(crate) fn bare(events: Events, graph: Graph, report: Report) -> Model {
        let n = graph.len();
        let lane_names = (0..graph.lanes())
            .map(|l| events.name(graph.lane_sym(l)).to_string())
            .collect();
        Model {
            events,
            report: Arc::new(report),
            row: PVec::filled(UNSET, n),
            rows: 0,
            buckets: PVec::new(),
            monotone: true,
            flags: PVec::filled(0, n),
            violation_node: Arc::default(),
            violations_by_code: Arc::default(),
            violations_at: Arc::default(),
            conflict_of: Arc::default(),
            lane_names: Arc::new(lane_names),
            skew: Arc::new(vec![None; graph.lanes() as usize]),
            graph,
            causal: CausalCache::default(),
            generation: 0,
            changes: None,
        }
    }

    /// Longest-path layering of the whole graph, and the rows bucketed (see [`layer`]).
    pub(crate) fn lay_out_from_scratch(&mut self) {
        let (row, monotone) = layer(&self.graph);
        let rows = row.iter().map(|&r| r + 1).max().unwrap_or(0);
        let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); rows as usize];
        for l in 0..self.graph.lanes() {
            for v in self.graph.lane_nodes(l, 0..self.graph.lane_len(l)) {
                buckets[row[v as usize] as usize].push(v);
            }
        }
        self.row = PVec::from_vec(row);
        self.rows = rows;
        self.buckets = PVec::from_vec(buckets);
        self.monotone = monotone;
        self.causal = CausalCache::default();
    }

    /// Indexes a report against this model's nodes.
    pub(crate) fn index_report(&self, report: &Report) -> Findings {
        let violation_node: Vec<Option<u32>> = report
            .violations
            .iter()
            .map(|v| v.event.as_ref().and_then(|id| self.find(id)))
            .collect();
        let mut marks: Vec<(u32, u8)> = Vec::new();
        let mut violations_at: Vec<(u32, u32)> = Vec::new();
        for (i, (v, node)) in report.violations.iter().zip(&violation_node).enumerate() {
            if let Some(node) = *node {
                violations_at.push((node, i as u32));
                marks.push((
                    node,
                    match v.severity {
                        Severity::Error => F_ERROR,
                        Severity::Warning => F_WARNING,
                    },
                ));
            }
        }
        violations_at.sort_unstable();
        let mut violations_by_code: Vec<u32> = (0..report.violations.len() as u32).collect();
        violations_by_code.sort_by_key(|&i| report.violations[i as usize].code.as_str());
        let mut conflict_of = Vec::with_capacity(report.conflicts.len() * 2);
        for (i, c) in report.conflicts.iter().enumerate() {
            for id in [&c.a, &c.b] {
                if let Some(node) = self.find(id) {
                    marks.push((node, F_CONFLICT));
                    conflict_of.push((node, i as u32));
                }
            }
        }
        conflict_of.sort_unstable();
        for u in &report.unresolved {
            for node in u.siblings.iter().filter_map(|id| self.find(id)) {
                marks.push((node, F_SIBLING));
            }
        }
        marks.sort_unstable_by_key(|m| m.0);
        marks.dedup_by(|b, a| {
            if a.0 == b.0 {
                a.1 |= b.1;
                true
            } else {
                false
            }
        });
        Findings {
            violation_node,
            violations_at,
            violations_by_code,
            conflict_of,
            marks,
        }
    }

    /// Takes a report's indexes: the bits of `unmark` nodes are cleared first.
    pub(crate) fn apply_findings(&mut self, f: Findings, unmark: &[(u32, u8)]) {
        for &(n, _) in unmark {
            self.flags.set(n as usize, 0);
        }
        for &(n, bits) in &f.marks {
            self.flags.set(n as usize, bits);
        }
        self.violation_node = Arc::new(f.violation_node);
        self.violations_at = Arc::new(f.violations_at);
        self.violations_by_code = Arc::new(f.violations_by_code);
        self.conflict_of = Arc::new(f.conflict_of);
    }

    /// The skew of every lane, from every message edge (see [`Skew`]).
    fn skew_from_scratch(&self) -> Vec<Option<(i64, u32)>> {
        let lanes = self.graph.lanes() as usize;
        let mut incoming: Vec<Vec<i64>> = vec![Vec::new(); lanes];
        let mut outgoing: Vec<Vec<i64>> = vec![Vec::new(); lanes];
        for n in 0..self.len() as u32 {
            for &p in self.graph.cross_preds(n) {
                if let Some(d) = self.message_delay(p, n) {
                    incoming[self.lane(n) as usize].push(d);
                    outgoing[self.lane(p) as usize].push(d);
                }
            }
        }
        let med = |v: &mut Vec<i64>| {
            let k = v.len() / 2;
            (!v.is_empty()).then(|| *v.select_nth_unstable(k).1)
        };
        incoming
            .iter_mut()
            .zip(outgoing.iter_mut())
            .map(|(i, o)| {
                let samples = (i.len() + o.len()) as u32;
                skew_of(med(i), med(o), samples)
            })
            .collect()
    }

    /// The wall-clock delay of cross edge `p → n` when it is a message (a `send` before a
    /// `recv` of its message) and both carry a wall clock.
    pub(crate) fn message_delay(&self, p: u32, n: u32) -> Option<i64> {
        let (ep, en) = (self.event(p), self.event(n));
        if en.kind != Kind::Recv || ep.kind != Kind::Send || ep.msg != en.msg {
            return None;
        }
        Some(en.wall_ns()?.saturating_sub(ep.wall_ns()?))
    }

    /// Reads an NDJSON text (the live source's buffer) into a model.
    pub fn from_ndjson(name: &str, text: &str) -> Model {
        let opts = weft_trace::ReadOptions {
            lenient: true,
            ..Default::default()
        };
        // Lenient reading only fails on an input without events.
        Model::build(Trace::from_ndjson_str(name, text, &opts).unwrap_or_default())
    }

    /// A model without events (a live source before anything arrived).
    pub fn empty() -> Model {
        Model::build(Trace::default())
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.graph.len()
    }

    /// True without events.
    pub fn is_empty(&self) -> bool {
        self.graph.is_empty()
    }

    /// Number of lanes (replicas).
    pub fn lanes(&self) -> u32 {
        self.graph.lanes()
    }

    /// The nodes on row `r`, in lane order.
    pub fn row_nodes(&self, r: u32) -> &[u32] {
        if r >= self.rows {
            return &[];
        }
        &self.buckets[r as usize]
    }

    /// The lane of a node.
    pub fn lane(&self, node: u32) -> u32 {
        self.graph.lane(node)
    }

    /// The event of node `n`.
    pub fn event(&self, n: u32) -> &EventRec {
        self.events.rec(n)
    }

    /// The reported vector clock entries of node `n`, sorted by name id, without zero entries.
    pub fn vc(&self, n: u32) -> VcIter<'_> {
        self.events.vc(n)
    }

    /// The `parents` entries of node `n`, as written.
    pub fn parents(&self, n: u32) -> &[(Sym, u64)] {
        self.events.parents(n)
    }

    /// The `value` of node `n`.
    pub fn value(&self, n: u32) -> Option<&Value> {
        self.events.value(n)
    }

    /// The `attrs` of node `n`.
    pub fn attrs(&self, n: u32) -> Option<&Map<String, Value>> {
        self.events.attrs(n)
    }

    /// A replica name, by its id.
    pub fn name(&self, q: Sym) -> &str {
        self.events.name(q)
    }

    /// A message id or key, by its id.
    pub fn sym(&self, m: Sym) -> &str {
        self.events.sym(m)
    }

    /// The first position in lane `l` whose node's row is at least `row`.
    pub fn lane_at_row(&self, l: u32, row: u32) -> u32 {
        let lane = &self.graph.lanes[l as usize];
        lane.partition_point(0, lane.len(), |&n| self.row[n as usize] < row) as u32
    }

    /// The node of lane `lane` whose row is nearest to `row` (ties: the earlier one), among
    /// nodes `keep` accepts.
    pub fn nearest_in_lane(&self, lane: u32, row: u32, keep: impl Fn(u32) -> bool) -> Option<u32> {
        let len = self.graph.lane_len(lane);
        let at = self.lane_at_row(lane, row);
        let node = |i: u32| self.graph.lane_node(lane, i);
        // Walk outwards from the insertion point until an accepted node turns up.
        let (mut down, mut up) = (at, at);
        loop {
            let below = (down < len).then_some(down);
            let above = (up > 0).then(|| up - 1);
            let dist = |i: u32| self.row[node(i) as usize].abs_diff(row);
            match (above, below) {
                (None, None) => return None,
                (Some(a), Some(b)) if dist(a) <= dist(b) => {
                    if keep(node(a)) {
                        return Some(node(a));
                    }
                    up -= 1;
                }
                (_, Some(b)) => {
                    if keep(node(b)) {
                        return Some(node(b));
                    }
                    down += 1;
                }
                (Some(a), None) => {
                    if keep(node(a)) {
                        return Some(node(a));
                    }
                    up -= 1;
                }
            }
        }
    }

    /// How node `n` is drawn.
    pub fn glyph(&self, n: u32) -> Glyph {
        let e = self.event(n);
        match e.kind {
            Kind::Write => Glyph::Write,
            Kind::Read => Glyph::Read,
            Kind::Send => Glyph::Send,
            Kind::Recv => Glyph::Recv,
            // A local event's cross edges are its parents when it names any (they switch clock
            // edges off), else clock edges.
            Kind::Local if e.has_parents() && !self.graph.cross_preds(n).is_empty() => Glyph::Merge,
            Kind::Local => Glyph::Local,
        }
    }

    /// The conflicts node `n` takes part in.
    pub fn conflicts_of(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        let at = self.conflict_of.partition_point(|&(m, _)| m < n);
        self.conflict_of[at..]
            .iter()
            .take_while(move |&&(m, _)| m == n)
            .map(|&(_, c)| c)
    }

    /// The violations attached to node `n`, as indices into the report, in report order.
    pub fn violations_of(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        let at = self.violations_at.partition_point(|&(m, _)| m < n);
        self.violations_at[at..]
            .iter()
            .take_while(move |&&(m, _)| m == n)
            .map(|&(_, v)| v)
    }

    /// The node of an event id.
    pub fn find(&self, id: &EventId) -> Option<u32> {
        self.find_at(self.events.name_id(&id.replica)?, id.seq)
    }

    /// The node of `(replica, seq)`, `replica` a name id.
    pub fn find_at(&self, replica: Sym, seq: u64) -> Option<u32> {
        let l = *self.graph.rank_of_sym.get(replica as usize)?;
        if l == NONE {
            return None;
        }
        let lane = &self.graph.lanes[l as usize];
        let i = lane.partition_point(0, lane.len(), |&n| self.event(n).seq < seq);
        lane.get(i).copied().filter(|&n| self.event(n).seq == seq)
    }

    /// The id of node `n` (`replica@seq`).
    pub fn id(&self, n: u32) -> EventId {
        let e = self.event(n);
        EventId::new(self.name(e.replica), e.seq)
    }

    fn causal(&self) -> &Causal {
        self.causal.0.get_or_init(|| {
            let mut seq = Vec::with_capacity(self.len());
            for r in 0..self.rows {
                seq.extend_from_slice(self.row_nodes(r));
            }
            let mut pos = vec![0u32; self.len()];
            for (i, &n) in seq.iter().enumerate() {
                pos[n as usize] = i as u32;
            }
            Causal { seq, pos }
        })
    }

    /// Position of node `n` in the given replay order.
    pub fn replay_pos(&self, n: u32, order: ReplayOrder) -> u32 {
        match order {
            ReplayOrder::Arrival => n,
            ReplayOrder::Causal => self.causal().pos[n as usize],
        }
    }

    /// The node at position `pos` of the given replay order.
    pub fn node_at(&self, pos: u32, order: ReplayOrder) -> Option<u32> {
        if pos as usize >= self.len() {
            return None;
        }
        Some(match order {
            ReplayOrder::Arrival => pos,
            ReplayOrder::Causal => self.causal().seq[pos as usize],
        })
    }

    /// The first difference between this model and `other` in anything the UI reads (events,
    /// lanes, edges, rows, replay orders, skew, the findings and their indexes), or `None`.
    pub fn differs_from(&self, other: &Model) -> Option<String> {
        self.layout_differs_from(other)
            .or_else(|| self.findings_differ_from(other))
    }

    /// [`Model::differs_from`] without the findings: the parts a batch changes before the
    /// report is read again.
    pub fn layout_differs_from(&self, other: &Model) -> Option<String> {
        check!(same("events", self.len(), other.len()));
        check!(same("lanes", &self.lane_names, &other.lane_names));
        check!(same("rows", self.rows, other.rows));
        check!(same("monotone", self.monotone, other.monotone));
        for n in 0..self.len() as u32 {
            let at = |what: &str| format!("{what} of node {n}");
            check!(same(&at("id"), self.id(n), other.id(n)));
            let fields = |m: &Model| {
                let e = m.event(n);
                let sym = |s: Sym| (s != NONE).then(|| m.sym(s).to_string());
                (
                    e.kind,
                    e.op,
                    e.flags,
                    e.lamport(),
                    e.wall_ns(),
                    sym(e.msg),
                    sym(e.key),
                )
            };
            check!(same(&at("fields"), fields(self), fields(other)));
            let vc = |m: &Model| m.vc(n).collect::<Vec<_>>();
            check!(same(&at("vc"), vc(self), vc(other)));
            check!(same(&at("parents"), self.parents(n), other.parents(n)));
            check!(same(&at("value"), self.value(n), other.value(n)));
            check!(same(&at("attrs"), self.attrs(n), other.attrs(n)));
            check!(same(&at("lane"), self.lane(n), other.lane(n)));
            check!(same(
                &at("lane position"),
                self.graph.pos(n),
                other.graph.pos(n)
            ));
            check!(same(
                &at("row"),
                self.row[n as usize],
                other.row[n as usize]
            ));
            check!(same(
                &at("cross predecessors"),
                self.graph.cross_preds(n),
                other.graph.cross_preds(n),
            ));
            check!(same(
                &at("cross successors"),
                self.graph.cross_succs(n),
                other.graph.cross_succs(n),
            ));
            check!(same(&at("glyph"), self.glyph(n), other.glyph(n)));
            check!(same(
                &at("causal position"),
                self.replay_pos(n, ReplayOrder::Causal),
                other.replay_pos(n, ReplayOrder::Causal),
            ));
        }
        for l in 0..self.lanes() {
            let nodes = |m: &Model| {
                m.graph
                    .lane_nodes(l, 0..m.graph.lane_len(l))
                    .collect::<Vec<_>>()
            };
            check!(same(
                &format!("nodes of lane {l}"),
                nodes(self),
                nodes(other)
            ));
        }
        for r in 0..self.rows {
            check!(same(
                &format!("nodes of row {r}"),
                self.row_nodes(r),
                other.row_nodes(r),
            ));
        }
        check!(same("skew", &self.skew, &other.skew));
        None
    }

    /// [`Model::differs_from`] for the findings only: the report and what indexes it.
    pub fn findings_differ_from(&self, other: &Model) -> Option<String> {
        check!(same(
            "report",
            self.report.to_json(),
            other.report.to_json()
        ));
        check!(same(
            "violation nodes",
            &self.violation_node,
            &other.violation_node
        ));
        check!(same(
            "violations by code",
            &self.violations_by_code,
            &other.violations_by_code,
        ));
        for n in 0..self.len() as u32 {
            let at = |what: &str| format!("{what} of node {n}");
            check!(same(
                &at("flags"),
                self.flags[n as usize],
                other.flags[n as usize]
            ));
            check!(same(
                &at("conflicts"),
                self.conflicts_of(n).collect::<Vec<_>>(),
                other.conflicts_of(n).collect::<Vec<_>>(),
            ));
            check!(same(
                &at("violations"),
                self.violations_of(n).collect::<Vec<_>>(),
                other.violations_of(n).collect::<Vec<_>>(),
            ));
        }
        None
    }
}

/// The difference between `a` and `b`, named `what`, if they differ.
fn same<T: PartialEq + std::fmt::Debug>(what: &str, a: T, b: T) -> Option<String> {
    (a != b).then(|| format!("{what}: {a:?} != {b:?}"))
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("events", &self.len())
            .field("lanes", &self.lanes())
            .field("rows", &self.rows)
            .field("summary", &self.report.summary)
            .finish()
    }
}

/// The order replay steps through events in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayOrder {
    /// As recorded: the order the events were read.
    Arrival,
    /// A linear extension of happens-before: row by row, each row in lane order.
    Causal,
}

/// Longest-path layering: row(n) = 1 + the largest row of its direct predecessors, 0 without
/// any. Nodes are placed in a topological order (Kahn); nodes on or downstream of a cycle, which
/// it never reaches, follow in id order (lane by lane), ignoring predecessors not yet placed, so
/// each lane still runs strictly downwards. Returns the rows and whether every node was reached
/// (no cycle: rows strictly increase along every edge).
pub(crate) fn layer(g: &Graph) -> (Vec<u32>, bool) {
    let n = g.len();
    let mut indegree: Vec<u32> = (0..n as u32).map(|v| g.preds(v).count() as u32).collect();
    let mut row = vec![UNSET; n];
    let mut queue: VecDeque<u32> = (0..n as u32)
        .filter(|&v| indegree[v as usize] == 0)
        .collect();
    let mut placed = 0usize;
    while let Some(v) = queue.pop_front() {
        row[v as usize] = g.preds(v).map(|p| row[p as usize] + 1).max().unwrap_or(0);
        placed += 1;
        for s in g.succs(v) {
            indegree[s as usize] -= 1;
            if indegree[s as usize] == 0 {
                queue.push_back(s);
            }
        }
    }
    if placed < n {
        for l in 0..g.lanes() {
            for v in g.lane_nodes(l, 0..g.lane_len(l)) {
                if row[v as usize] == UNSET {
                    row[v as usize] = g
                        .preds(v)
                        .map(|p| row[p as usize])
                        .filter(|&r| r != UNSET)
                        .map(|r| r + 1)
                        .max()
                        .unwrap_or(0);
                }
            }
        }
    }
    (row, placed == n)
}

/// NTP-style offset estimate of a replica: half the difference between the median wall-clock
/// delay of messages it receives and of messages it sends. With symmetric latency this is its
/// clock's offset from its peers'. (The median of k samples is the one at sorted index k / 2.)
pub(crate) fn skew_of(
    incoming: Option<i64>,
    outgoing: Option<i64>,
    samples: u32,
) -> Option<(i64, u32)> {
    let (i, o) = (incoming?, outgoing?);
    Some(((i / 2).saturating_sub(o / 2), samples))
}

/// A running median of a growing multiset: the element at sorted index `len / 2`, in O(log len)
/// per insertion.
#[derive(Clone, Debug, Default)]
pub(crate) struct Median {
    /// The smallest `len / 2` samples.
    low: BinaryHeap<i64>,
    /// The others.
    high: BinaryHeap<std::cmp::Reverse<i64>>,
}

impl Median {
    pub(crate) fn insert(&mut self, x: i64) {
        match self.high.peek() {
            Some(&std::cmp::Reverse(m)) if x < m => self.low.push(x),
            _ => self.high.push(std::cmp::Reverse(x)),
        }
        let half = self.len() / 2;
        while self.low.len() > half {
            let v = self.low.pop().expect("not empty");
            self.high.push(std::cmp::Reverse(v));
        }
        while self.low.len() < half {
            let std::cmp::Reverse(v) = self.high.pop().expect("not empty");
            self.low.push(v);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.low.len() + self.high.len()
    }

    pub(crate) fn get(&self) -> Option<i64> {
        self.high.peek().map(|r| r.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_median_is_the_sorted_middle() {
        let mut m = Median::default();
        let mut all: Vec<i64> = Vec::new();
        let mut x = 3i64;
        for _ in 0..500 {
            x = (x * 7919 + 13) % 1009 - 500;
            m.insert(x);
            all.push(x);
            let mut s = all.clone();
            let k = s.len() / 2;
            assert_eq!(m.get(), Some(*s.select_nth_unstable(k).1));
        }
    }
}
