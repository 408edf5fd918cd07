//! One pass over the graph in a linear extension of happens-before: the implied vector clocks,
//! `vc-mismatch`, and the clocks of writes kept for conflict detection. A pass that cannot visit
//! every node has met a cycle; the cycles are then found as strongly connected components.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::graph::{DiGraph, NodeIndex};
use weft_trace::{EventRec, Kind, Op, Trace, NONE};

use crate::clock::{Clock, ClockShape};
use crate::finding::{self, Finding};
use crate::graph::CausalGraph;
use crate::report::Code;

/// The most `related` ids a causality-cycle lists.
pub const MAX_CYCLE_RELATED: usize = 50;

/// What the ordered pass produces.
pub(crate) struct Ordered {
    /// Nodes in the order visited (a linear extension of happens-before when `acyclic`).
    pub order: Vec<u32>,
    /// Whether every node was visited.
    pub acyclic: bool,
    /// The implied clocks of the writes that can conflict (ops set/add/remove).
    pub write_clocks: WriteClocks,
    /// `vc-mismatch` findings (meaningless, and dropped, when not acyclic).
    pub findings: Vec<Finding>,
}

/// The implied clocks of conflict-capable writes, as far as conflict detection needs them.
///
/// Conflicts only compare writes of the same key, so a write's clock is only ever read at the
/// replicas that wrote its key. When those projections are small (the usual case: many keys,
/// each written by a few replicas) only they are kept — with 5,000 replicas that is a few entries
/// per write instead of a whole clock. When some key is written by very many replicas, whole
/// copy-on-write clock snapshots are cheaper and are kept instead.
pub(crate) struct WriteClocks {
    /// Per node: its key's index in `key_ranks`, or NONE for nodes that are not such writes.
    key_of: Vec<u32>,
    /// Per node: where its values start (projected) or its snapshot index.
    slot: Vec<u64>,
    /// Per node: its own replica's position in its key's rank list.
    self_idx: Vec<u32>,
    /// Per key: the ranks of the replicas that wrote it, ascending.
    key_ranks: Vec<Vec<u32>>,
    store: Store,
}

enum Store {
    Projected(Vec<u64>),
    Snapshots(Vec<Clock>),
}

impl WriteClocks {
    fn new(trace: &Trace, g: &CausalGraph) -> Self {
        let events = trace.events();
        let n = g.len();
        let mut key_of = vec![NONE; n];
        let mut self_idx = vec![0u32; n];
        let mut key_slot = vec![NONE; trace.syms().len()];
        let mut key_ranks: Vec<Vec<u32>> = Vec::new();
        let mut projected = 0u64;
        let mut writes = 0u64;
        // Nodes are in (rank, seq) order, so each key's ranks arrive ascending.
        for v in 0..n as u32 {
            let e = &events[g.event(v)];
            if !conflict_write(e) {
                continue;
            }
            let slot = &mut key_slot[e.key as usize];
            if *slot == NONE {
                *slot = key_ranks.len() as u32;
                key_ranks.push(Vec::new());
            }
            let ranks = &mut key_ranks[*slot as usize];
            if ranks.last() != Some(&g.rank(v)) {
                ranks.push(g.rank(v));
            }
            key_of[v as usize] = *slot;
            self_idx[v as usize] = ranks.len() as u32 - 1;
            writes += 1;
        }
        for v in 0..n {
            if key_of[v] != NONE {
                projected += key_ranks[key_of[v] as usize].len() as u64;
            }
        }
        // A snapshot costs its chunk pointers plus about one chunk copied on the next write.
        let replicas = g.replicas() as u64;
        let snapshot_words = 2 * (replicas as f64).sqrt().ceil() as u64 + 16;
        let store = if projected <= writes * snapshot_words {
            Store::Projected(Vec::with_capacity(projected as usize))
        } else {
            Store::Snapshots(Vec::with_capacity(writes as usize))
        };
        WriteClocks {
            key_of,
            slot: vec![0; n],
            self_idx,
            key_ranks,
            store,
        }
    }

    /// Records the implied clock of write `v` if it is one that can conflict.
    #[inline]
    fn record(&mut self, v: u32, clock: &Clock) {
        let key = self.key_of[v as usize];
        if key == NONE {
            return;
        }
        match &mut self.store {
            Store::Projected(values) => {
                self.slot[v as usize] = values.len() as u64;
                values.extend(self.key_ranks[key as usize].iter().map(|&r| clock.get(r)));
            }
            Store::Snapshots(clocks) => {
                self.slot[v as usize] = clocks.len() as u64;
                clocks.push(clock.clone());
            }
        }
    }

    /// `VC(y)[replica of x]` ≥ `seq(x)`: whether write `x` happens before write `y` of the
    /// same key (x ≠ y).
    #[inline]
    pub fn hb(&self, g: &CausalGraph, x: u32, y: u32) -> bool {
        x != y && self.seen_of(g, y, x) >= g.seq(x)
    }

    /// `VC(y)` at the replica of write `x`, for two writes of the same key: one array read
    /// (no search for the replica among the key's writers).
    #[inline]
    pub fn seen_of(&self, g: &CausalGraph, y: u32, x: u32) -> u64 {
        self.at_writer(g, y, self.self_idx[x as usize], g.rank(x))
    }

    #[inline]
    fn at_writer(&self, _g: &CausalGraph, y: u32, idx: u32, rank: u32) -> u64 {
        match &self.store {
            Store::Projected(values) => values[(self.slot[y as usize] + u64::from(idx)) as usize],
            Store::Snapshots(clocks) => clocks[self.slot[y as usize] as usize].get(rank),
        }
    }

    /// `VC(y)[rank]` for a write `y` and the rank of a replica that wrote the same key.
    pub fn get(&self, g: &CausalGraph, y: u32, rank: u32) -> u64 {
        let ranks = &self.key_ranks[self.key_of[y as usize] as usize];
        match ranks.binary_search(&rank) {
            Ok(idx) => self.at_writer(g, y, idx as u32, rank),
            Err(_) => match &self.store {
                Store::Snapshots(clocks) => clocks[self.slot[y as usize] as usize].get(rank),
                Store::Projected(_) => {
                    panic!("asked a projected clock about a replica that never wrote its key")
                }
            },
        }
    }
}

/// Whether a write can take part in a conflict (counters never do).
pub(crate) fn conflict_write(e: &EventRec) -> bool {
    e.kind == Kind::Write && e.op != Op::Inc
}

/// Visits nodes in a linear extension of happens-before, preferring arrival order among the
/// nodes that are ready (so recorded traces replay close to how they were recorded), computing
/// each node's implied clock `VC(e)` from its direct predecessors.
pub(crate) fn run(trace: &Trace, g: &CausalGraph) -> Ordered {
    let events = trace.events();
    let n = g.len();
    let shape = ClockShape::new(g.replicas());
    let mut indeg: Vec<u32> = (0..n as u32)
        .map(|v| u32::from(g.prev(v).is_some()) + g.cross_preds(v).len() as u32)
        .collect();
    // Clocks of nodes whose cross successors are not all visited yet, with how many remain.
    let mut pending: rustc_hash::FxHashMap<u32, (Clock, u32)> = rustc_hash::FxHashMap::default();
    let mut cur: Vec<Clock> = (0..g.replicas()).map(|_| shape.zero()).collect();
    let mut write_clocks = WriteClocks::new(trace, g);
    let mut findings = Vec::new();
    let mut order = Vec::with_capacity(n);
    let mut ready: BinaryHeap<Reverse<u32>> = (0..n as u32)
        .filter(|&v| indeg[v as usize] == 0)
        .map(|v| Reverse(g.event_of[v as usize]))
        .collect();

    while let Some(Reverse(arrival)) = ready.pop() {
        let v = g.node_of[arrival as usize];
        order.push(v);
        let r = g.rank(v) as usize;
        let clock = &mut cur[r];
        for &p in g.cross_preds(v) {
            let slot = pending
                .get_mut(&p)
                .expect("a visited predecessor left its clock");
            clock.join(&slot.0);
            slot.1 -= 1;
            if slot.1 == 0 {
                pending.remove(&p);
            }
        }
        clock.raise(r as u32, g.seq(v));

        let e = &events[arrival as usize];
        if e.has_vc() {
            check_vc(trace, g, v, e, clock, &mut findings);
        }
        write_clocks.record(v, clock);
        let out = g.cross_succs(v).len() as u32;
        if out > 0 {
            pending.insert(v, (clock.clone(), out));
        }
        for s in g.succs(v) {
            let d = &mut indeg[s as usize];
            *d -= 1;
            if *d == 0 {
                ready.push(Reverse(g.event_of[s as usize]));
            }
        }
    }
    let acyclic = order.len() == n;
    Ordered {
        order,
        acyclic,
        write_clocks,
        findings,
    }
}

fn check_vc(
    trace: &Trace,
    g: &CausalGraph,
    v: u32,
    e: &EventRec,
    implied: &Clock,
    out: &mut Vec<Finding>,
) {
    let mut matched = 0u32;
    let mut ok = true;
    for (q, val) in trace.vc(e) {
        let r = g.rank_of_sym[q as usize];
        if r == NONE || implied.get(r) != val {
            ok = false;
            break;
        }
        matched += 1;
    }
    if ok && matched == implied.nnz() {
        return;
    }
    // Evidence: every entry that differs, in replica-name order.
    let names = trace.names();
    let mut diffs: Vec<(String, u64, u64)> = Vec::new();
    let reported: Vec<(u32, u64)> = trace.vc(e).collect();
    for &(q, val) in &reported {
        let r = g.rank_of_sym[q as usize];
        let imp = if r == NONE { 0 } else { implied.get(r) };
        if imp != val {
            diffs.push((names.resolve(q).to_string(), val, imp));
        }
    }
    for (r, imp) in implied.entries() {
        let q = g.replica_sym(r);
        if !reported.iter().any(|&(s, _)| s == q) {
            diffs.push((names.resolve(q).to_string(), 0, imp));
        }
    }
    diffs.sort();
    out.push(finding::vc_mismatch(v, &g.id(trace, v), &diffs));
}

/// The causality cycles among the nodes the ordered pass could not visit, found with petgraph's
/// (iterative) Kosaraju SCC on that residue, plus self-parents.
pub(crate) fn cycles(trace: &Trace, g: &CausalGraph, visited: &[u32]) -> Vec<Finding> {
    let mut seen = vec![false; g.len()];
    for &v in visited {
        seen[v as usize] = true;
    }
    let residue: Vec<u32> = (0..g.len() as u32).filter(|&v| !seen[v as usize]).collect();
    let mut index = vec![NONE; g.len()];
    let mut pg: DiGraph<u32, ()> = DiGraph::with_capacity(residue.len(), residue.len() * 2);
    for &v in &residue {
        index[v as usize] = pg.add_node(v).index() as u32;
    }
    for &v in &residue {
        for p in g.preds(v) {
            if index[p as usize] != NONE {
                pg.add_edge(
                    NodeIndex::new(index[p as usize] as usize),
                    NodeIndex::new(index[v as usize] as usize),
                    (),
                );
            }
        }
    }
    let mut comps: Vec<Vec<u32>> = petgraph::algo::kosaraju_scc(&pg)
        .into_iter()
        .map(|c| c.into_iter().map(|i| pg[i]).collect::<Vec<u32>>())
        .filter(|c| c.len() > 1)
        .collect();
    let in_big: rustc_hash::FxHashSet<u32> = comps.iter().flatten().copied().collect();
    for &v in &g.self_parent {
        if !in_big.contains(&v) {
            comps.push(vec![v]);
        }
    }
    comps
        .into_iter()
        .map(|mut c| {
            c.sort_unstable();
            c.dedup();
            let head = c[0];
            let others = &c[1..];
            let message = if others.is_empty() {
                format!(
                    "{} names itself as a parent: happens-before is not a partial order, so vc-mismatch and conflicts were not computed",
                    g.id(trace, head)
                )
            } else {
                let shown: Vec<String> = c.iter().take(6).map(|&v| g.id(trace, v).to_string()).collect();
                let more = if c.len() > 6 { format!(" and {} more", c.len() - 6) } else { String::new() };
                format!(
                    "{} events happen before each other ({}{more}): happens-before is not a partial order, so vc-mismatch and conflicts were not computed",
                    c.len(),
                    shown.join(", ")
                )
            };
            Finding {
                node: head,
                code: Code::CausalityCycle,
                related: others.iter().take(MAX_CYCLE_RELATED).map(|&v| g.id(trace, v)).collect(),
                message,
            }
        })
        .collect()
}
