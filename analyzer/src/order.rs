//! One pass over the graph in a linear extension of happens-before: the implied vector clocks,
//! `vc-mismatch`, and the clocks of writes kept for conflict detection. A pass that cannot visit
//! every node has met a cycle; the cycles are then found as strongly connected components.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::graph::{DiGraph, NodeIndex};
use weft_trace::{EventRec, Kind, Op, Trace, NONE};

use crate::clock::{Clock, ClockShape};
use crate::graph::{CausalGraph, Finding};
use crate::report::Code;

/// The most `related` ids a causality-cycle lists.
pub const MAX_CYCLE_RELATED: usize = 50;

/// What the ordered pass produces.
pub(crate) struct Ordered {
    /// Nodes in the order visited (a linear extension of happens-before when `acyclic`).
    pub order: Vec<u32>,
    /// Whether every node was visited.
    pub acyclic: bool,
    /// The implied clock of every write that can conflict (ops set/add/remove), by node.
    pub write_clocks: rustc_hash::FxHashMap<u32, Clock>,
    /// `vc-mismatch` findings (meaningless, and dropped, when not acyclic).
    pub findings: Vec<Finding>,
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
    let mut write_clocks = rustc_hash::FxHashMap::default();
    let mut findings = Vec::new();
    let mut order = Vec::with_capacity(n);
    let mut ready: BinaryHeap<Reverse<u32>> =
        (0..n as u32).filter(|&v| indeg[v as usize] == 0).map(|v| Reverse(g.event_of[v as usize])).collect();

    while let Some(Reverse(arrival)) = ready.pop() {
        let v = g.node_of[arrival as usize];
        order.push(v);
        let r = g.rank(v) as usize;
        let clock = &mut cur[r];
        for &p in g.cross_preds(v) {
            let slot = pending.get_mut(&p).expect("a visited predecessor left its clock");
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
        if conflict_write(e) {
            write_clocks.insert(v, clock.clone());
        }
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
    Ordered { order, acyclic, write_clocks, findings }
}

fn check_vc(trace: &Trace, g: &CausalGraph, v: u32, e: &EventRec, implied: &Clock, out: &mut Vec<Finding>) {
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
    let shown: Vec<String> = diffs
        .iter()
        .take(8)
        .map(|(name, rep, imp)| format!("{name:?} reported {rep}, implied {imp}"))
        .collect();
    let more = if diffs.len() > 8 { format!(" (and {} more entries)", diffs.len() - 8) } else { String::new() };
    out.push(Finding {
        node: v,
        code: Code::VcMismatch,
        related: vec![],
        message: format!(
            "{}'s vector clock differs from the one its causal past implies: {}{more}",
            g.id(trace, v),
            shown.join("; ")
        ),
    });
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
                pg.add_edge(NodeIndex::new(index[p as usize] as usize), NodeIndex::new(index[v as usize] as usize), ());
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
