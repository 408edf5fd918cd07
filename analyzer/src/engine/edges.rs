//! Per node: its direct edges (spec section 3) with the findings seen on them, in two steps so a
//! large batch can use every core and still give the sequential result.
//!
//! Finding a node's edges only reads what the batch has already placed (the trace, the
//! replicas' logs, the sends of each message), and recording them only writes what finding
//! them never reads (edge lists, waiters, findings). So a batch's edges are first found for all
//! its marked nodes — on several threads for a large batch, over consecutive chunks of them —
//! and then recorded one node at a time in the batch's order, which makes every map's
//! insertion order, and so the report, the same as a one-node-at-a-time pass.

use weft_trace::{EventId, EventRec, Kind, Sym, Trace};

use super::{Engine, Log};
use crate::finding::{self, Finding};
use crate::report::Code;

/// Below this many marked nodes a batch finds its edges on the calling thread: the live
/// collector's batches are a few events, and starting threads costs tens of microseconds.
pub(super) const PARALLEL_MIN: usize = 8192;

/// Nodes per chunk of a parallel batch at most: enough chunks that a slow one does not leave
/// a thread idle, few enough that each chunk's buffers are not the cost.
const CHUNK_MAX: usize = 4096;

/// The per-node findings found with the edges, in the order they are recorded.
const CODES: [Code; 3] = [
    Code::MissingEvent,
    Code::UnmatchedRecv,
    Code::LamportViolation,
];

/// What the engine's state says about the edges (all that finding them reads).
struct Inputs<'a> {
    trace: &'a Trace,
    logs: &'a [Log],
    pos: &'a [u32],
    sends: &'a super::adj::Adj,
}

/// The edges and findings of a run of consecutive marked nodes, in flat buffers (no
/// allocation per node).
#[derive(Default)]
struct Found {
    /// Per node: where its predecessors and waits end in `preds` and `waits`, which of
    /// [`CODES`] it has (bit i for `CODES[i]`, their findings next in `findings`), and whether
    /// it names itself as a parent (bit 7).
    nodes: Vec<(u32, u32, u8)>,
    preds: Vec<u32>,
    waits: Vec<(Sym, u64)>,
    findings: Vec<Finding>,
}

const SELF_PARENT: u8 = 1 << 7;

/// Buffers one thread reuses from node to node.
#[derive(Default)]
struct Scratch {
    preds: Vec<u32>,
    before: Vec<(Sym, u64)>,
    missing: Vec<(EventId, &'static str)>,
    bad: Vec<(EventId, u64)>,
}

impl Inputs<'_> {
    /// The previous present event of `v`'s replica.
    fn prev(&self, v: u32) -> Option<u32> {
        let e = &self.trace.events()[v as usize];
        let at = self.pos[v as usize] as usize;
        at.checked_sub(1)
            .map(|i| self.logs[e.replica as usize].nodes[i])
    }

    fn find(&self, q: Sym, seq: u64) -> Option<u32> {
        self.logs.get(q as usize).and_then(|l| l.find(seq))
    }

    /// Finds the direct cross predecessors of `v` (ascending, distinct), the ids it waits for,
    /// and the findings on it (missing-event, unmatched-recv, lamport-violation), into `out`.
    fn node(&self, v: u32, s: &mut Scratch, out: &mut Found) {
        let trace = self.trace;
        let e = trace.events()[v as usize];
        let prev = self.prev(v);
        s.preds.clear();
        s.missing.clear();
        let mut flags = 0u8;
        let mut unmatched = false;
        // Rule 3: a recv follows every send of its message.
        if e.kind == Kind::Recv {
            let sends = self.sends.get(e.msg);
            unmatched = sends.is_empty();
            s.preds.extend_from_slice(sends);
        }
        if e.has_parents() {
            // Rule 2.
            for &(q, seq) in trace.parents(&e) {
                match self.find(q, seq) {
                    Some(p) if p == v => flags |= SELF_PARENT,
                    Some(p) => s.preds.push(p),
                    None => {
                        let id = EventId::new(trace.names().resolve_shared(q).clone(), seq);
                        s.missing.push((id, "a parent"));
                        out.waits.push((q, seq));
                    }
                }
            }
        } else if e.has_vc() && e.kind != Kind::Recv {
            // Rule 4: entries above the previous present event's reported clock.
            self.vc_preds(&e, prev, s, &mut out.waits);
        }
        s.preds.sort_unstable();
        s.preds.dedup();

        // Findings on the node itself.
        let id = trace.id(v as usize);
        if !s.missing.is_empty() {
            s.missing.sort();
            s.missing.dedup_by(|a, b| a.0 == b.0);
            flags |= 1;
            out.findings
                .push(finding::missing_event(v, &id, &s.missing));
        }
        if unmatched {
            flags |= 1 << 1;
            let msg = trace.syms().resolve(e.msg);
            out.findings.push(finding::unmatched_recv(v, &id, msg));
        }
        if let Some(lb) = e.lamport() {
            s.bad.clear();
            let self_parent = flags & SELF_PARENT != 0;
            for p in prev
                .into_iter()
                .chain(s.preds.iter().copied())
                .chain(self_parent.then_some(v))
            {
                if let Some(la) = trace.events()[p as usize].lamport() {
                    if lb <= la {
                        s.bad.push((trace.id(p as usize), la));
                    }
                }
            }
            if !s.bad.is_empty() {
                s.bad.sort();
                s.bad.dedup();
                flags |= 1 << 2;
                out.findings
                    .push(finding::lamport_violation(v, &id, lb, &s.bad));
            }
        }
        out.preds.extend_from_slice(&s.preds);
        out.nodes
            .push((out.preds.len() as u32, out.waits.len() as u32, flags));
    }

    /// Rule 4 for event `e` (after `prev` in program order): the events its clock names
    /// above the previous present event's reported clock, into the scratch's predecessors, or
    /// its missing ids and `waits` when they are not in the trace yet.
    fn vc_preds(
        &self,
        e: &EventRec,
        prev: Option<u32>,
        s: &mut Scratch,
        waits: &mut Vec<(Sym, u64)>,
    ) {
        let trace = self.trace;
        let before = &mut s.before;
        before.clear();
        if let Some(pe) = prev.map(|p| &trace.events()[p as usize]) {
            if pe.has_vc() {
                before.extend(trace.vc(pe));
            }
        }
        let mut k = 0;
        for (q, val) in trace.vc(e) {
            while k < before.len() && before[k].0 < q {
                k += 1;
            }
            let seen = if k < before.len() && before[k].0 == q {
                before[k].1
            } else {
                0
            };
            if q == e.replica || val <= seen {
                continue;
            }
            match self.find(q, val) {
                Some(p) => s.preds.push(p),
                None => {
                    s.missing.push((
                        EventId::new(trace.names().resolve_shared(q).clone(), val),
                        "a vector-clock predecessor",
                    ));
                    waits.push((q, val));
                }
            }
        }
    }

    /// Finds the edges of `nodes`, in order.
    fn run(&self, nodes: &[u32]) -> Found {
        let mut s = Scratch::default();
        let mut out = Found {
            nodes: Vec::with_capacity(nodes.len()),
            preds: Vec::with_capacity(nodes.len()),
            ..Found::default()
        };
        for &v in nodes {
            self.node(v, &mut s, &mut out);
        }
        out
    }
}

impl Engine {
    /// Recomputes the direct cross predecessors of the marked nodes `nodes` and the findings
    /// that depend on them (missing-event, unmatched-recv, lamport-violation, wall-clock
    /// inversions). Every one of them needs its clock recomputed after: a new node has no
    /// clock yet, and an old one was marked because its predecessors (or its program-order
    /// predecessor) changed.
    pub(super) fn edges(&mut self, nodes: &[u32]) {
        let inputs = Inputs {
            trace: &self.trace,
            logs: &self.logs,
            pos: &self.pos,
            sends: &self.sends,
        };
        let threads = self.threads;
        let found: Vec<Found> = if nodes.len() < self.parallel_min || threads == 1 {
            vec![inputs.run(nodes)]
        } else {
            // Several chunks per thread (a chunk of merges costs more than one of writes),
            // none larger than CHUNK_MAX.
            let size = nodes.len().div_ceil(threads * 8).clamp(1, CHUNK_MAX);
            let chunks: Vec<&[u32]> = nodes.chunks(size).collect();
            crate::par::map_all(&chunks, threads, |c| inputs.run(c))
        };
        let mut at = 0;
        let mut old = Vec::new();
        for chunk in found {
            let (mut p, mut w) = (0usize, 0usize);
            let mut findings = chunk.findings.into_iter();
            for &(p_end, w_end, flags) in &chunk.nodes {
                let v = nodes[at];
                at += 1;
                for (i, &code) in CODES.iter().enumerate() {
                    let f = (flags & (1 << i) != 0).then(|| findings.next().expect("found"));
                    self.set_finding(v, code, f);
                }
                let (preds, waits) = (
                    &chunk.preds[p..p_end as usize],
                    &chunk.waits[w..w_end as usize],
                );
                self.link(v, preds, waits, flags & SELF_PARENT != 0, &mut old);
                (p, w) = (p_end as usize, w_end as usize);
            }
        }
    }

    /// Records `v`'s new direct predecessors `preds` (its successors' lists and wall-clock
    /// checks follow), the events it waits for, and whether it names itself as a parent.
    /// `old` is a buffer reused between calls.
    fn link(
        &mut self,
        v: u32,
        preds: &[u32],
        waits: &[(Sym, u64)],
        self_parent: bool,
        old: &mut Vec<u32>,
    ) {
        for &w in waits {
            let list = self.waiting.entry(w).or_default();
            if list.last() != Some(&v) {
                list.push(v);
            }
        }
        if self_parent {
            self.self_parent.insert(v);
            self.cyclic = true;
        } else if !self.self_parent.is_empty() {
            self.self_parent.remove(&v);
        }
        old.clear();
        old.extend_from_slice(self.preds.get(v));
        if old.is_empty() && preds.is_empty() {
            return;
        }
        self.wall.replace(&self.trace, v, old, preds);
        if old[..] != *preds {
            for &p in old.iter() {
                if preds.binary_search(&p).is_err() {
                    self.succs.remove(p, v);
                }
            }
            for &p in preds {
                if old.binary_search(&p).is_err() {
                    self.succs.push(p, v);
                }
            }
            self.preds.set(v, preds);
        }
    }
}
