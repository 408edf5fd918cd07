//! A live model grown batch by batch, never rebuilt from the whole trace.
//!
//! [`LineParser`] parses each batch of received lines once (continuing the stream's line
//! numbers); [`Growing::feed`] gives the batch to weft-analyzer's incremental
//! [`Engine`] and extends the [`Model`] for what the batch touched:
//!
//! * **events**: the batch's new events are copied from the engine's trace into the model's
//!   append-only segments (strings too: replica names, message ids and keys);
//! * **lanes**: each new event is inserted into its replica's lane by seq: at the end when it
//!   arrives in program order, else the positions after it move up one (O(lane));
//! * **edges**: the cross edges are the engine's. Only the nodes whose edges can have changed
//!   are compared with it: the new events, the next event of each one's replica (its
//!   clock-derived edges depend on its program-order predecessor), and the engine's successors
//!   of each new event (receives of a new send, events that named a new event as a parent or
//!   clock predecessor);
//! * **rows** (longest-path layering: every edge points down): each new event, and each event
//!   whose predecessors changed, is recomputed from its predecessors' rows, and its successors
//!   after it only while rows change. Events that arrive after their causal past cost O(1)
//!   each; a late event moves its causal future that it pushes down. The worst case is a
//!   rebuild of the whole layout (O(events + edges)): when the graph has a causality cycle
//!   (then on every batch while it lasts, as the engine recomputes its report), or when the
//!   propagation would visit more than twice the events (a late event under most of the
//!   trace);
//! * **skew**: running medians of the message delays per replica, updated per new message edge;
//! * **findings**: read from [`Engine::report`] by [`Growing::refresh_report`], which indexes
//!   them (O(findings)); the caller decides how often (the report costs the engine
//!   O(findings) to assemble).
//!
//! The invariant, tested in `tests/grow.rs`: after any sequence of batches and a report
//! refresh, the model equals [`Model::build`] of the same lines read at once.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_analyzer::Engine;
use weft_trace::{LinePos, ReadError, ReadOptions, Sym, Trace, TraceBuilder, NONE};

use crate::model::{
    skew_of, CausalCache, Changes, Events, Graph, LiveEvents, Median, Model, UNSET,
};
use crate::pvec::PVec;

/// Parses a stream's lines batch by batch, as one read of all of them would (line numbers of
/// malformed lines, the header rule), leniently: a malformed line becomes a finding.
pub struct LineParser {
    label: String,
    pos: LinePos,
    opts: ReadOptions,
}

impl LineParser {
    /// A parser for the stream called `label` in findings.
    pub fn new(label: &str) -> LineParser {
        LineParser {
            label: label.to_string(),
            pos: LinePos::default(),
            opts: ReadOptions {
                lenient: true,
                ..Default::default()
            },
        }
    }

    /// The next lines of the stream (whole lines) as a batch, parsed on this thread.
    pub fn parse(&mut self, lines: &[u8]) -> Result<Trace, ReadError> {
        let mut b = TraceBuilder::new(self.opts.clone()).threads(1);
        b.read_at(&self.label, &mut self.pos, lines)?;
        Ok(b.finish_batch())
    }
}

/// What one [`Growing::feed`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fed {
    /// Time the engine took ([`Engine::feed`]); the rest of the call is the model's.
    pub engine: Duration,
    /// New events.
    pub events: usize,
    /// Nodes whose cross predecessors changed (new ones included).
    pub edges: usize,
    /// Row recomputations of the propagation.
    pub relaxed: usize,
    /// Whether the layout was rebuilt from scratch (a cycle, or a propagation over budget).
    pub rebuilt: bool,
}

/// The incremental engine and the model grown from it. See the module documentation.
pub struct Growing {
    engine: Engine,
    model: Model,
    /// Per replica name id: running medians of its incoming and outgoing message delays.
    delays: Vec<(Median, Median)>,
    /// The nodes the model's report marks, with their bits.
    marks: Vec<(u32, u8)>,
    /// Scratch of the propagation: queued nodes.
    queued: Vec<bool>,
    /// The report is older than the events.
    stale: bool,
    /// Snapshots taken.
    generation: u64,
    /// Nodes new or moved to another row since the last snapshot.
    moved: Vec<u32>,
    /// The layout was made from scratch since the last snapshot.
    relaid: bool,
}

impl Default for Growing {
    fn default() -> Self {
        Growing::new()
    }
}

impl Growing {
    /// Nothing received yet.
    pub fn new() -> Growing {
        let mut engine = Engine::new();
        let report = engine.report();
        let model = Model::bare(
            Events::Live(LiveEvents::default()),
            Graph::default(),
            report,
        );
        Growing {
            engine,
            model,
            delays: Vec::new(),
            marks: Vec::new(),
            queued: Vec::new(),
            stale: false,
            generation: 0,
            moved: Vec::new(),
            relaid: false,
        }
    }

    /// The model as grown so far (its findings as of the last [`Growing::refresh_report`]).
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// A snapshot for the UI: shares every chunk with the model until the next change, and
    /// says which nodes are new or moved since the snapshot before (none before the first).
    pub fn snapshot(&mut self) -> Arc<Model> {
        let mut m = self.model.clone();
        self.generation += 1;
        m.generation = self.generation;
        let mut moved = std::mem::take(&mut self.moved);
        m.changes = (self.generation > 1 && !self.relaid).then(|| {
            moved.sort_unstable();
            moved.dedup();
            Arc::new(Changes {
                base: self.generation - 1,
                nodes: moved,
            })
        });
        self.relaid = false;
        Arc::new(m)
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether events arrived since the findings were last read.
    pub fn report_stale(&self) -> bool {
        self.stale
    }

    /// Reads the engine's report into the model: findings, their indexes, the finding bits.
    pub fn refresh_report(&mut self) {
        let report = self.engine.report();
        let f = self.model.index_report(&report);
        let unmark = std::mem::replace(&mut self.marks, f.marks.clone());
        self.model.apply_findings(f, &unmark);
        self.model.report = Arc::new(report);
        self.stale = false;
    }

    /// Feeds a batch (lines that follow everything fed before) to the engine and extends the
    /// model for it.
    pub fn feed(&mut self, batch: Trace) -> Fed {
        let touches_report = !batch.is_empty()
            || !batch.malformed().is_empty()
            || batch.duplicates() > 0
            || !batch.conflicting_duplicates().is_empty();
        self.stale |= touches_report;
        let old = self.model.len();
        let t = Instant::now();
        self.engine.feed(batch);
        let engine = t.elapsed();
        let new = self.engine.trace().len();
        let mut fed = Fed {
            engine,
            events: new - old,
            ..Fed::default()
        };
        self.copy_events(old, new);
        let next = self.insert_into_lanes(old, new);
        let changed = self.update_edges(old, new, &next);
        fed.edges = changed.len();
        let mut work: Vec<u32> = (old as u32..new as u32).collect();
        work.extend(next);
        work.extend(changed);
        work.sort_unstable();
        work.dedup();
        if !work.is_empty() {
            self.model.causal = CausalCache::default();
            if !self.model.monotone {
                self.model.lay_out_from_scratch();
                fed.rebuilt = true;
            } else {
                match self.relax(work) {
                    Some(k) => fed.relaxed = k,
                    None => {
                        self.model.lay_out_from_scratch();
                        fed.rebuilt = true;
                    }
                }
            }
            self.relaid |= fed.rebuilt;
            if self.moved.len() > self.model.len() {
                // Without snapshots taken, what moved is no longer worth listing.
                self.moved.clear();
                self.relaid = true;
            }
        }
        self.update_skew();
        fed
    }

    /// Copies the new events and strings of the engine's trace; new lanes for replicas that
    /// now have events.
    fn copy_events(&mut self, old: usize, new: usize) {
        let t = self.engine.trace();
        let m = &mut self.model;
        let Events::Live(ev) = &mut m.events else {
            unreachable!("a grown model holds live events")
        };
        ev.sync_strings(t);
        let mut new_lanes: Vec<Sym> = Vec::new();
        for i in old..new {
            ev.push_from(t, i);
            let q = t.events()[i].replica;
            m.graph.sym.push(q);
            m.graph.pos.push(0);
            m.graph.preds.push(&[]);
            m.graph.succs.push(&[]);
            m.row.push(UNSET);
            m.flags.push(0);
            let known = m
                .graph
                .rank_of_sym
                .get(q as usize)
                .is_some_and(|&r| r != NONE);
            if !known && !new_lanes.contains(&q) {
                new_lanes.push(q);
            }
        }
        if self.delays.len() < t.names().len() {
            self.delays.resize_with(t.names().len(), Default::default);
        }
        if !new_lanes.is_empty() {
            self.add_lanes(&new_lanes);
        }
    }

    /// Lanes for replicas that had none: lanes are in name order, so the ranks after each new
    /// one move up (O(replicas)); nodes keep their lane by name id.
    fn add_lanes(&mut self, syms: &[Sym]) {
        let m = &mut self.model;
        let names = self.engine.trace().names();
        let mut order: Vec<Sym> = m.graph.sym_of_rank.iter().copied().collect();
        order.extend_from_slice(syms);
        order.sort_by(|&a, &b| names.resolve(a).as_bytes().cmp(names.resolve(b).as_bytes()));
        let mut old_lanes: Vec<Option<PVec<u32>>> = std::mem::take(&mut m.graph.lanes)
            .into_iter()
            .map(Some)
            .collect();
        let mut rank_of_sym = vec![NONE; names.len()];
        let mut lanes = Vec::with_capacity(order.len());
        for (r, &q) in order.iter().enumerate() {
            rank_of_sym[q as usize] = r as u32;
            let was = m.graph.rank_of_sym.get(q as usize).copied().unwrap_or(NONE);
            lanes.push(if was == NONE {
                PVec::new()
            } else {
                old_lanes[was as usize].take().expect("each lane once")
            });
        }
        m.graph.lanes = lanes;
        m.graph.rank_of_sym = Arc::new(rank_of_sym);
        m.lane_names = Arc::new(
            order
                .iter()
                .map(|&q| names.resolve(q).to_string())
                .collect(),
        );
        m.graph.sym_of_rank = Arc::new(order);
    }

    /// Puts each new node into its lane by seq. Returns the nodes whose program-order
    /// predecessor changed (the next event of a late one).
    fn insert_into_lanes(&mut self, old: usize, new: usize) -> Vec<u32> {
        let m = &mut self.model;
        let mut next = Vec::new();
        for v in old as u32..new as u32 {
            let seq = m.event(v).seq;
            let l = m.graph.lane(v) as usize;
            let len = m.graph.lanes[l].len();
            let at = if len == 0 || m.event(m.graph.lanes[l][len - 1]).seq < seq {
                len
            } else {
                m.graph.lanes[l].partition_point(0, len, |&n| m.event(n).seq < seq)
            };
            m.graph.lanes[l].insert(at, v);
            for i in at..=len {
                let n = m.graph.lanes[l][i];
                m.graph.pos.set(n as usize, i as u32);
            }
            if at < len {
                next.push(m.graph.lanes[l][at + 1]);
            }
        }
        next
    }

    /// Takes the engine's cross edges of the nodes whose edges can have changed; returns those
    /// whose predecessors did.
    fn update_edges(&mut self, old: usize, new: usize, next: &[u32]) -> Vec<u32> {
        let mut check: Vec<u32> = (old as u32..new as u32).collect();
        check.extend_from_slice(next);
        for v in old as u32..new as u32 {
            check.extend_from_slice(self.engine.cross_succs(v));
        }
        check.sort_unstable();
        check.dedup();
        let mut changed = Vec::new();
        let mut rebuild_delays = false;
        for d in check {
            let (preds, was) = {
                let m = &self.model;
                let mut preds = self.engine.cross_preds(d).to_vec();
                preds.sort_unstable_by_key(|&p| (m.graph.lane(p), m.event(p).seq));
                (preds, m.graph.cross_preds(d).to_vec())
            };
            if preds == was {
                continue;
            }
            for &p in &was {
                if !preds.contains(&p) {
                    let m = &self.model;
                    let s: Vec<u32> = m
                        .graph
                        .cross_succs(p)
                        .iter()
                        .copied()
                        .filter(|&x| x != d)
                        .collect();
                    rebuild_delays |= m.message_delay(p, d).is_some();
                    self.model.graph.succs.set(p, &s);
                }
            }
            for &p in &preds {
                if !was.contains(&p) {
                    let (s, delay) = {
                        let m = &self.model;
                        let key = |n: u32| (m.graph.lane(n), m.event(n).seq);
                        let mut s = m.graph.cross_succs(p).to_vec();
                        let at = s.partition_point(|&x| key(x) < key(d));
                        s.insert(at, d);
                        let delay = m
                            .message_delay(p, d)
                            .map(|x| (x, m.event(d).replica, m.event(p).replica));
                        (s, delay)
                    };
                    if let Some((x, qd, qp)) = delay {
                        self.delays[qd as usize].0.insert(x);
                        self.delays[qp as usize].1.insert(x);
                    }
                    self.model.graph.succs.set(p, &s);
                }
            }
            self.model.graph.preds.set(d, &preds);
            changed.push(d);
        }
        if rebuild_delays {
            // A message edge never goes away (a receive follows every send of its message, and
            // sends stay), but should one, the medians are recomputed from every edge.
            self.rebuild_delays();
        }
        changed
    }

    fn rebuild_delays(&mut self) {
        let m = &self.model;
        let mut delays: Vec<(Median, Median)> = vec![Default::default(); self.delays.len()];
        for n in 0..m.len() as u32 {
            for &p in m.graph.cross_preds(n) {
                if let Some(d) = m.message_delay(p, n) {
                    delays[m.event(n).replica as usize].0.insert(d);
                    delays[m.event(p).replica as usize].1.insert(d);
                }
            }
        }
        self.delays = delays;
    }

    fn update_skew(&mut self) {
        let m = &mut self.model;
        let skew: Vec<Option<(i64, u32)>> = m
            .graph
            .sym_of_rank
            .iter()
            .map(|&q| {
                let (i, o) = &self.delays[q as usize];
                skew_of(i.get(), o.get(), (i.len() + o.len()) as u32)
            })
            .collect();
        if *m.skew != skew {
            m.skew = Arc::new(skew);
        }
    }

    /// Recomputes the rows of `work` from their predecessors' rows and, while they change, of
    /// their successors. Returns the number of recomputations, or `None` when over budget (a
    /// cycle makes rows grow forever; a late event under most of the trace is cheaper laid out
    /// again).
    fn relax(&mut self, work: Vec<u32>) -> Option<usize> {
        let m = &mut self.model;
        let n = m.len();
        self.queued.resize(n, false);
        let queued = &mut self.queued;
        let mut queue: VecDeque<u32> = VecDeque::with_capacity(work.len());
        for v in work {
            if !queued[v as usize] {
                queued[v as usize] = true;
                queue.push_back(v);
            }
        }
        let budget = 2 * n + 1024;
        let mut done = 0usize;
        while let Some(v) = queue.pop_front() {
            queued[v as usize] = false;
            done += 1;
            if done > budget {
                for v in queue {
                    queued[v as usize] = false;
                }
                return None;
            }
            let r = m
                .graph
                .preds(v)
                .map(|p| m.row[p as usize])
                .filter(|&r| r != UNSET)
                .map(|r| r + 1)
                .max()
                .unwrap_or(0);
            let was = m.row[v as usize];
            if r == was {
                continue;
            }
            move_to_row(m, v, was, r);
            self.moved.push(v);
            for s in m.graph.succs(v) {
                if !queued[s as usize] {
                    queued[s as usize] = true;
                    queue.push_back(s);
                }
            }
        }
        while !m.buckets.is_empty() && m.buckets[m.buckets.len() - 1].is_empty() {
            m.buckets.pop();
        }
        m.rows = m.buckets.len() as u32;
        Some(done)
    }
}

/// Moves node `v` from row `from` (`UNSET`: none yet) to row `to`, keeping each row's nodes in
/// lane order.
fn move_to_row(m: &mut Model, v: u32, from: u32, to: u32) {
    let key = (m.graph.lane(v), m.graph.pos(v));
    let g = &m.graph;
    let at = |b: &Vec<u32>| b.partition_point(|&x| (g.lane(x), g.pos(x)) < key);
    if from != UNSET {
        let b = &m.buckets[from as usize];
        let i = at(b);
        debug_assert_eq!(b.get(i), Some(&v));
        m.buckets.get_mut(from as usize).remove(i);
    }
    while m.buckets.len() <= to as usize {
        m.buckets.push(Vec::new());
    }
    let i = at(&m.buckets[to as usize]);
    m.buckets.get_mut(to as usize).insert(i, v);
    m.row.set(v as usize, to);
}
