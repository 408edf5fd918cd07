//! The happens-before graph as tools browse it: the engine's nodes renumbered in id order, the
//! kinds of direct edges of the spec's section 3 (the engine's edges, with why each exists).
//!
//! Nodes are numbered by id order (replica name bytewise, then seq), so node order *is* the
//! order reports sort by, each replica's events are one contiguous run, and the program-order
//! predecessor of node `n` is `n - 1` whenever both belong to the same replica. Only the other
//! ("cross") edges are stored, in compressed sparse rows both ways.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use weft_trace::{EventId, Kind, Sym, Trace, NONE};

use crate::Engine;

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
                .resolve_shared(self.sym_of_rank[self.rank(n) as usize])
                .clone(),
            self.seq(n),
        )
    }
}

impl CausalGraph {
    /// The graph of everything `engine` was fed, from the engine's own edges: renumbered in id
    /// order and laid out in compressed sparse rows both ways, for tools that browse it.
    pub fn from_engine(engine: &Engine) -> CausalGraph {
        let trace = engine.trace();
        let events = trace.events();
        let n = events.len();
        let logs = engine.replica_logs();
        let sym_of_rank: Vec<Sym> = logs.iter().map(|l| l.0).collect();
        let mut rank_of_sym = vec![NONE; trace.names().len()];
        for (r, &s) in sym_of_rank.iter().enumerate() {
            rank_of_sym[s as usize] = r as u32;
        }
        let mut event_of = Vec::with_capacity(n);
        let mut rank = Vec::with_capacity(n);
        let mut rank_start = Vec::with_capacity(logs.len() + 1);
        for (r, (_, nodes)) in logs.iter().enumerate() {
            rank_start.push(event_of.len() as u32);
            event_of.extend_from_slice(nodes);
            rank.resize(event_of.len(), r as u32);
        }
        rank_start.push(n as u32);
        let mut node_of = vec![0u32; n];
        for (k, &i) in event_of.iter().enumerate() {
            node_of[i as usize] = k as u32;
        }
        let seq: Vec<u64> = event_of.iter().map(|&i| events[i as usize].seq).collect();

        let mut pred_start = Vec::with_capacity(n + 1);
        let mut preds = Vec::new();
        let mut pred_kind = Vec::new();
        let mut row: Vec<(u32, EdgeKind)> = Vec::new();
        pred_start.push(0);
        for &i in &event_of {
            let e = &events[i as usize];
            row.clear();
            row.extend(engine.cross_preds(i).iter().map(|&p| {
                let pe = &events[p as usize];
                let kind = if e.kind == Kind::Recv && pe.kind == Kind::Send && pe.msg == e.msg {
                    EdgeKind::Message
                } else if e.has_parents() {
                    EdgeKind::Parent
                } else {
                    EdgeKind::Clock
                };
                (node_of[p as usize], kind)
            }));
            row.sort_unstable_by_key(|p| p.0);
            preds.extend(row.iter().map(|p| p.0));
            pred_kind.extend(row.iter().map(|p| p.1));
            pred_start.push(preds.len() as u32);
        }

        // Successor lists (reverse of the predecessor rows).
        let mut count = vec![0u32; n + 1];
        for &p in &preds {
            count[p as usize + 1] += 1;
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let mut fill = count.clone();
        let mut succs = vec![0u32; preds.len()];
        for node in 0..n {
            for &p in &preds[pred_start[node] as usize..pred_start[node + 1] as usize] {
                succs[fill[p as usize] as usize] = node as u32;
                fill[p as usize] += 1;
            }
        }
        CausalGraph {
            event_of,
            node_of,
            rank,
            seq,
            rank_of_sym,
            sym_of_rank,
            rank_start,
            pred_start,
            preds,
            pred_kind,
            succ_start: count,
            succs,
        }
    }

    /// The nodes in a linear extension of happens-before that prefers arrival order among the
    /// nodes that are ready (so recorded traces replay close to how they were recorded): all
    /// nodes when acyclic, otherwise those not on or downstream of a cycle.
    pub fn causal_order(&self) -> Vec<u32> {
        let n = self.len();
        let mut indeg: Vec<u32> = (0..n as u32)
            .map(|v| u32::from(self.prev(v).is_some()) + self.cross_preds(v).len() as u32)
            .collect();
        let mut ready: BinaryHeap<Reverse<u32>> = (0..n as u32)
            .filter(|&v| indeg[v as usize] == 0)
            .map(|v| Reverse(self.event_of[v as usize]))
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(Reverse(arrival)) = ready.pop() {
            let v = self.node_of[arrival as usize];
            order.push(v);
            for s in self.succs(v) {
                let d = &mut indeg[s as usize];
                *d -= 1;
                if *d == 0 {
                    ready.push(Reverse(self.event_of[s as usize]));
                }
            }
        }
        order
    }
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
