//! The happens-before graph: nodes in id order, the four kinds of direct edges of the spec's
//! section 3, and the violations that can be seen while building it.
//!
//! Nodes are numbered by id order (replica name bytewise, then seq), so node order *is* the
//! order reports sort by, each replica's events are one contiguous run, and the program-order
//! predecessor of node `n` is `n - 1` whenever both belong to the same replica. Only the other
//! ("cross") edges are stored, in compressed sparse rows both ways.

use rustc_hash::FxHashMap;
use weft_trace::{EventId, Kind, Sym, Trace, NONE};

use crate::finding::{self, Finding};

/// Why a cross edge exists (the first reason found, when several give the same edge).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// A `send` before the `recv` of its message.
    Message,
    /// A `parents` entry.
    Parent,
    /// Derived from the receiver's vector clock (rule 4).
    Clock,
}

/// The happens-before graph of a trace.
#[derive(Debug)]
pub struct CausalGraph {
    /// Arrival index of each node.
    pub(crate) event_of: Vec<u32>,
    /// Node of each arrival index.
    pub(crate) node_of: Vec<u32>,
    /// Replica rank of each node.
    pub(crate) rank: Vec<u32>,
    /// Seq of each node.
    pub(crate) seq: Vec<u64>,
    /// Replica rank of each interned name, or `NONE` for names without events.
    pub(crate) rank_of_sym: Vec<u32>,
    /// Interned name of each rank.
    pub(crate) sym_of_rank: Vec<Sym>,
    /// First node of each rank, plus the node count at the end.
    pub(crate) rank_start: Vec<u32>,
    pred_start: Vec<u32>,
    preds: Vec<u32>,
    pred_kind: Vec<EdgeKind>,
    succ_start: Vec<u32>,
    succs: Vec<u32>,
    /// Nodes that name themselves as a parent.
    pub(crate) self_parent: Vec<u32>,
}

impl CausalGraph {
    /// Number of events.
    pub fn len(&self) -> usize {
        self.event_of.len()
    }

    /// True for a graph without events.
    pub fn is_empty(&self) -> bool {
        self.event_of.is_empty()
    }

    /// Number of replicas with events.
    pub fn replicas(&self) -> usize {
        self.sym_of_rank.len()
    }

    /// The arrival index (position in [`Trace::events`]) of node `n`.
    pub fn event(&self, n: u32) -> usize {
        self.event_of[n as usize] as usize
    }

    /// The node of arrival index `i`.
    pub fn node(&self, i: usize) -> u32 {
        self.node_of[i]
    }

    /// The node of `(replica, seq)`, if that event is in the trace.
    pub fn find(&self, replica: Sym, seq: u64) -> Option<u32> {
        let r = *self.rank_of_sym.get(replica as usize)?;
        if r == NONE {
            return None;
        }
        let (lo, hi) = (
            self.rank_start[r as usize] as usize,
            self.rank_start[r as usize + 1] as usize,
        );
        let run = &self.seq[lo..hi];
        run.binary_search(&seq).ok().map(|i| (lo + i) as u32)
    }

    /// The program-order predecessor of `n` (previous present event of its replica).
    #[inline]
    pub fn prev(&self, n: u32) -> Option<u32> {
        (n > 0 && self.rank[n as usize - 1] == self.rank[n as usize]).then(|| n - 1)
    }

    /// The program-order successor of `n`.
    #[inline]
    pub fn next(&self, n: u32) -> Option<u32> {
        let m = n as usize + 1;
        (m < self.rank.len() && self.rank[m] == self.rank[n as usize]).then_some(n + 1)
    }

    /// Cross-edge predecessors of `n` (message, parent and clock edges), ascending, distinct.
    #[inline]
    pub fn cross_preds(&self, n: u32) -> &[u32] {
        &self.preds[self.pred_start[n as usize] as usize..self.pred_start[n as usize + 1] as usize]
    }

    /// Why each of [`CausalGraph::cross_preds`] is an edge.
    pub fn cross_pred_kinds(&self, n: u32) -> &[EdgeKind] {
        &self.pred_kind
            [self.pred_start[n as usize] as usize..self.pred_start[n as usize + 1] as usize]
    }

    /// Cross-edge successors of `n`, ascending.
    #[inline]
    pub fn cross_succs(&self, n: u32) -> &[u32] {
        &self.succs[self.succ_start[n as usize] as usize..self.succ_start[n as usize + 1] as usize]
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

    /// Replica rank (index in sorted replica order) of node `n`.
    pub fn rank(&self, n: u32) -> u32 {
        self.rank[n as usize]
    }

    /// Seq of node `n`.
    pub fn seq(&self, n: u32) -> u64 {
        self.seq[n as usize]
    }

    /// The nodes of replica rank `r`, in seq order: always one contiguous run.
    pub fn replica_nodes(&self, r: u32) -> std::ops::Range<u32> {
        self.rank_start[r as usize]..self.rank_start[r as usize + 1]
    }

    /// The interned name of replica rank `r`.
    pub fn replica_sym(&self, r: u32) -> Sym {
        self.sym_of_rank[r as usize]
    }

    /// The id of node `n`.
    pub fn id(&self, trace: &Trace, n: u32) -> EventId {
        EventId::new(
            trace
                .names()
                .resolve(self.sym_of_rank[self.rank(n) as usize]),
            self.seq(n),
        )
    }
}

/// Builds the graph and returns the findings visible on the way: seq-gap, missing-event,
/// unmatched-recv, duplicate-msg, lamport-violation and wall-clock-inversion.
pub(crate) fn build(trace: &Trace) -> (CausalGraph, Vec<Finding>) {
    let events = trace.events();
    let n = events.len();
    let names = trace.names();

    // Replica ranks: names that have events, sorted bytewise.
    let mut has_events = vec![false; names.len()];
    for e in events {
        has_events[e.replica as usize] = true;
    }
    let mut sym_of_rank: Vec<Sym> = (0..names.len() as Sym)
        .filter(|&s| has_events[s as usize])
        .collect();
    sym_of_rank
        .sort_unstable_by(|&a, &b| names.resolve(a).as_bytes().cmp(names.resolve(b).as_bytes()));
    let mut rank_of_sym = vec![NONE; names.len()];
    for (r, &s) in sym_of_rank.iter().enumerate() {
        rank_of_sym[s as usize] = r as u32;
    }

    // Node order = id order.
    // Counting sort by rank (stable, so each run keeps arrival order), then each run by seq —
    // usually already sorted, since replicas record in order.
    let mut run_len = vec![0u32; sym_of_rank.len() + 1];
    for e in events {
        run_len[rank_of_sym[e.replica as usize] as usize + 1] += 1;
    }
    for r in 0..sym_of_rank.len() {
        run_len[r + 1] += run_len[r];
    }
    let mut event_of = vec![0u32; n];
    let mut fill = run_len.clone();
    for (i, e) in events.iter().enumerate() {
        let r = rank_of_sym[e.replica as usize] as usize;
        event_of[fill[r] as usize] = i as u32;
        fill[r] += 1;
    }
    for r in 0..sym_of_rank.len() {
        let run = &mut event_of[run_len[r] as usize..run_len[r + 1] as usize];
        if !run.is_sorted_by_key(|&i| events[i as usize].seq) {
            run.sort_unstable_by_key(|&i| events[i as usize].seq);
        }
    }
    let mut node_of = vec![0u32; n];
    let mut rank = Vec::with_capacity(n);
    let mut seq = Vec::with_capacity(n);
    let mut rank_start = Vec::with_capacity(sym_of_rank.len() + 1);
    for (node, &i) in event_of.iter().enumerate() {
        node_of[i as usize] = node as u32;
        let e = &events[i as usize];
        let r = rank_of_sym[e.replica as usize];
        if rank_start.len() as u32 <= r {
            rank_start.push(node as u32);
        }
        rank.push(r);
        seq.push(e.seq);
    }
    rank_start.push(n as u32);

    let mut g = CausalGraph {
        event_of,
        node_of,
        rank,
        seq,
        rank_of_sym,
        sym_of_rank,
        rank_start,
        pred_start: Vec::with_capacity(n + 1),
        preds: Vec::new(),
        pred_kind: Vec::new(),
        succ_start: Vec::new(),
        succs: Vec::new(),
        self_parent: Vec::new(),
    };
    let mut findings = Vec::new();
    let id = |g: &CausalGraph, node: u32| g.id(trace, node);

    // Sends by message, for rule 3, duplicate-msg and unmatched-recv.
    let mut sends: Vec<(Sym, u32)> = Vec::new();
    for (node, &i) in g.event_of.iter().enumerate() {
        let e = &events[i as usize];
        if e.kind == Kind::Send {
            sends.push((e.msg, node as u32));
        }
    }
    sends.sort_unstable();
    let mut i = 0;
    while i < sends.len() {
        let j = i + sends[i..].iter().take_while(|s| s.0 == sends[i].0).count();
        if j - i > 1 {
            let msg = trace.syms().resolve(sends[i].0);
            let all: Vec<EventId> = sends[i..j].iter().map(|s| id(&g, s.1)).collect();
            findings.push(finding::duplicate_msg(sends[i].1, msg, &all));
        }
        i = j;
    }
    let senders_of = |msg: Sym| -> &[(Sym, u32)] {
        let lo = sends.partition_point(|s| s.0 < msg);
        let hi = sends.partition_point(|s| s.0 <= msg);
        &sends[lo..hi]
    };

    // Walk nodes in order, collecting cross predecessors.
    let mut scratch: Vec<(u32, EdgeKind)> = Vec::new();
    let mut missing: Vec<(EventId, &'static str)> = Vec::new();
    let mut prev_vc: Vec<(Sym, u64)> = Vec::new();
    let mut wall_worst: FxHashMap<(u32, u32), WallWorst> = FxHashMap::default();
    g.pred_start.push(0);
    for node in 0..n as u32 {
        let e = &events[g.event(node)];
        let prev = g.prev(node);
        scratch.clear();
        missing.clear();

        // seq-gap
        match prev {
            None if e.seq != 1 => {
                findings.push(finding::first_seq_gap(node, trace.replica(e), e.seq))
            }
            Some(p) if g.seq(p) != e.seq - 1 => {
                findings.push(finding::seq_gap(node, &id(&g, node), &id(&g, p)))
            }
            _ => {}
        }

        // Rule 3: a recv follows every send of its message.
        if e.kind == Kind::Recv {
            let senders = senders_of(e.msg);
            if senders.is_empty() {
                findings.push(finding::unmatched_recv(
                    node,
                    &id(&g, node),
                    trace.syms().resolve(e.msg),
                ));
            }
            scratch.extend(senders.iter().map(|s| (s.1, EdgeKind::Message)));
        }

        // Rule 2: parents.
        if e.has_parents() {
            for &(q, s) in trace.parents(e) {
                match g.find(q, s) {
                    Some(p) if p == node => {
                        if g.self_parent.last() != Some(&node) {
                            g.self_parent.push(node);
                        }
                    }
                    Some(p) => scratch.push((p, EdgeKind::Parent)),
                    None => missing.push((EventId::new(names.resolve(q), s), "a parent")),
                }
            }
        } else if e.has_vc() && e.kind != Kind::Recv {
            // Rule 4: vc-derived predecessors.
            prev_vc.clear();
            if let Some(p) = prev {
                let pe = &events[g.event(p)];
                if pe.has_vc() {
                    prev_vc.extend(trace.vc(pe));
                }
            }
            let mut k = 0;
            for (q, v) in trace.vc(e) {
                while k < prev_vc.len() && prev_vc[k].0 < q {
                    k += 1;
                }
                let before = if k < prev_vc.len() && prev_vc[k].0 == q {
                    prev_vc[k].1
                } else {
                    0
                };
                if q == e.replica || v <= before {
                    continue;
                }
                match g.find(q, v) {
                    Some(p) => scratch.push((p, EdgeKind::Clock)),
                    None => missing.push((
                        EventId::new(names.resolve(q), v),
                        "a vector-clock predecessor",
                    )),
                }
            }
        }

        if !missing.is_empty() {
            missing.sort();
            missing.dedup_by(|a, b| a.0 == b.0);
            findings.push(finding::missing_event(node, &id(&g, node), &missing));
        }

        scratch.sort_unstable_by_key(|p| p.0);
        scratch.dedup_by_key(|p| p.0);

        // lamport-violation over every direct edge.
        if let Some(lb) = e.lamport() {
            let mut bad: Vec<(u32, u64)> = Vec::new();
            // A self-parent is a direct edge b → b too (rule 2 read literally): lamport(b) ≤
            // lamport(b) always holds, so it is reported here as well as a causality-cycle.
            let own = g.self_parent.last().copied().filter(|&s| s == node);
            for p in prev
                .into_iter()
                .chain(scratch.iter().map(|s| s.0))
                .chain(own)
            {
                if let Some(la) = events[g.event(p)].lamport() {
                    if lb <= la {
                        bad.push((p, la));
                    }
                }
            }
            if !bad.is_empty() {
                bad.sort_unstable();
                bad.dedup();
                let bad: Vec<(EventId, u64)> = bad.iter().map(|&(p, la)| (id(&g, p), la)).collect();
                findings.push(finding::lamport_violation(node, &id(&g, node), lb, &bad));
            }
        }

        // wall-clock-inversion candidates over cross-replica edges.
        if let Some(wb) = e.wall_ns() {
            for &(p, _) in &scratch {
                let (ra, rb) = (g.rank(p), g.rank(node));
                if ra == rb {
                    continue;
                }
                let Some(wa) = events[g.event(p)].wall_ns() else {
                    continue;
                };
                if wb >= wa {
                    continue;
                }
                let inv = (i128::from(wa) - i128::from(wb)) as u128;
                let w = wall_worst.entry((ra, rb)).or_insert(WallWorst {
                    inv,
                    b: node,
                    a: p,
                    edges: 0,
                });
                w.edges += 1;
                if (inv, std::cmp::Reverse(node), std::cmp::Reverse(p))
                    > (w.inv, std::cmp::Reverse(w.b), std::cmp::Reverse(w.a))
                {
                    (w.inv, w.b, w.a) = (inv, node, p);
                }
            }
        }

        g.preds.extend(scratch.iter().map(|s| s.0));
        g.pred_kind.extend(scratch.iter().map(|s| s.1));
        g.pred_start.push(g.preds.len() as u32);
    }

    let mut worst: Vec<((u32, u32), WallWorst)> = wall_worst.into_iter().collect();
    worst.sort_unstable_by_key(|w| w.0);
    for (_, w) in worst {
        findings.push(finding::wall_clock_inversion(
            w.b,
            &id(&g, w.b),
            &id(&g, w.a),
            w.inv,
            w.edges,
        ));
    }

    // Successor lists (reverse of the predecessor rows).
    let mut count = vec![0u32; n + 1];
    for &p in &g.preds {
        count[p as usize + 1] += 1;
    }
    for i in 0..n {
        count[i + 1] += count[i];
    }
    let mut fill = count.clone();
    let mut succs = vec![0u32; g.preds.len()];
    for node in 0..n as u32 {
        for &p in g.cross_preds(node) {
            succs[fill[p as usize] as usize] = node;
            fill[p as usize] += 1;
        }
    }
    g.succ_start = count;
    g.succs = succs;
    (g, findings)
}

#[derive(Clone, Copy, Debug)]
struct WallWorst {
    inv: u128,
    b: u32,
    a: u32,
    edges: u64,
}

/// A nanosecond span for humans: `1.5 s`, `250 ms`, `3 µs`, `12 ns`.
pub fn human_ns(ns: u128) -> String {
    let f = ns as f64;
    if ns >= 1_000_000_000 {
        format!("{:.3} s", f / 1e9)
    } else if ns >= 1_000_000 {
        format!("{:.3} ms", f / 1e6)
    } else if ns >= 1_000 {
        format!("{:.3} µs", f / 1e3)
    } else {
        format!("{ns} ns")
    }
}
