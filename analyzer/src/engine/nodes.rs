//! Per node: its direct edges (spec section 3) with the findings seen on them, and its implied
//! clock, recomputed from its direct predecessors and propagated while it changes.

use std::collections::VecDeque;

use weft_trace::{EventId, EventRec, Kind, Sym};

use super::Engine;

/// Below this many clocks to recompute, a batch always propagates changes (see
/// [`Engine::propagate`]).
pub(super) const BULK_MIN: usize = 4096;
use super::clocks::Change;
use super::keys::PROJECT_MAX_WRITERS;
use crate::clock::Clock;
use crate::conflicts::conflict_write;
use crate::finding;
use crate::report::Code;

impl Engine {
    /// Recomputes the direct cross predecessors of `v` and the findings that depend on them
    /// (missing-event, unmatched-recv, lamport-violation, wall-clock inversions). Returns
    /// whether its clock must be recomputed.
    pub(super) fn edges(&mut self, v: u32) -> bool {
        let e = self.trace.events()[v as usize];
        let (prev, _) = self.around(v);
        let trace = &self.trace;
        let mut preds: Vec<u32> = Vec::new();
        let mut missing: Vec<(EventId, &'static str)> = Vec::new();
        let mut waits: Vec<(Sym, u64)> = Vec::new();
        let mut self_parent = false;
        let mut unmatched = false;
        // Rule 3: a recv follows every send of its message.
        if e.kind == Kind::Recv {
            match self.sends.get(&e.msg) {
                Some(s) if !s.is_empty() => preds.extend(s),
                _ => unmatched = true,
            }
        }
        if e.has_parents() {
            // Rule 2.
            for &(q, s) in trace.parents(&e) {
                match self.logs.get(q as usize).and_then(|l| l.find(s)) {
                    Some(p) if p == v => self_parent = true,
                    Some(p) => preds.push(p),
                    None => {
                        missing.push((EventId::new(trace.names().resolve(q), s), "a parent"));
                        waits.push((q, s));
                    }
                }
            }
        } else if e.has_vc() && e.kind != Kind::Recv {
            // Rule 4: entries above the previous present event's reported clock.
            self.vc_preds(&e, prev, &mut preds, &mut missing, &mut waits);
        }
        preds.sort_unstable();
        preds.dedup();

        // Findings on the node itself.
        let id = self.id(v);
        let f = (!missing.is_empty()).then(|| {
            missing.sort();
            missing.dedup_by(|a, b| a.0 == b.0);
            finding::missing_event(v, &id, &missing)
        });
        self.set_finding(v, Code::MissingEvent, f);
        let f =
            unmatched.then(|| finding::unmatched_recv(v, &id, self.trace.syms().resolve(e.msg)));
        self.set_finding(v, Code::UnmatchedRecv, f);
        let f = e.lamport().and_then(|lb| {
            let mut bad: Vec<(EventId, u64)> = prev
                .into_iter()
                .chain(preds.iter().copied())
                .chain(self_parent.then_some(v))
                .filter_map(|p| {
                    let la = self.trace.events()[p as usize].lamport()?;
                    (lb <= la).then(|| (self.id(p), la))
                })
                .collect();
            bad.sort();
            bad.dedup();
            (!bad.is_empty()).then(|| finding::lamport_violation(v, &id, lb, &bad))
        });
        self.set_finding(v, Code::LamportViolation, f);

        self.link(v, preds, waits, self_parent);
        // A new node has no clock yet; an old one needs a new clock when its predecessors
        // (or its program-order predecessor, which is why it was marked) changed.
        true
    }

    /// Rule 4 for event `e` (after `prev` in program order): the events its clock names
    /// above the previous present event's reported clock, into `preds`, or `missing` and
    /// `waits` when they are not in the trace yet.
    fn vc_preds(
        &mut self,
        e: &EventRec,
        prev: Option<u32>,
        preds: &mut Vec<u32>,
        missing: &mut Vec<(EventId, &'static str)>,
        waits: &mut Vec<(Sym, u64)>,
    ) {
        let trace = &self.trace;
        // The previous event's reported clock, in a buffer kept between calls.
        let mut before = std::mem::take(&mut self.vc_scratch);
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
            match self.logs.get(q as usize).and_then(|l| l.find(val)) {
                Some(p) => preds.push(p),
                None => {
                    missing.push((
                        EventId::new(trace.names().resolve(q), val),
                        "a vector-clock predecessor",
                    ));
                    waits.push((q, val));
                }
            }
        }
        self.vc_scratch = before;
    }

    /// Records `v`'s new direct predecessors `preds` (its successors' lists and wall-clock
    /// checks follow), the events it waits for, and whether it names itself as a parent.
    fn link(&mut self, v: u32, preds: Vec<u32>, waits: Vec<(Sym, u64)>, self_parent: bool) {
        for w in waits {
            let list = self.waiting.entry(w).or_default();
            if list.last() != Some(&v) {
                list.push(v);
            }
        }
        if self_parent {
            self.self_parent.insert(v);
            self.cyclic = true;
        } else {
            self.self_parent.remove(&v);
        }
        let old = self.preds.get(v).to_vec();
        self.wall.replace(&self.trace, v, &old, &preds);
        if old != preds {
            for &p in &old {
                if preds.binary_search(&p).is_err() {
                    self.succs.remove(p, v);
                }
            }
            for &p in &preds {
                if old.binary_search(&p).is_err() {
                    self.succs.push(p, v);
                }
            }
            self.preds.set(v, preds);
        }
    }

    /// Recomputes the clocks of `work` and, while they change, of their successors. Marks the
    /// graph cyclic (and stops) when a node turns out to happen before one of its predecessors.
    pub(super) fn propagate(&mut self, work: Vec<u32>) {
        let n = self.trace.len();
        if work.len() >= self.bulk_min && work.len() >= n / 4 {
            // Most of the graph is new (the first batch of `weft check`, a replay): one pass in
            // a topological order computes each clock once, where propagating while clocks
            // change could recompute a long chain once per late message into it.
            if !self.recompute_all().is_empty() {
                self.cyclic = true;
            }
            return;
        }
        // Kept between calls (all false between them), so a small batch costs its own size.
        let mut queued = std::mem::take(&mut self.queued);
        queued.resize(self.trace.len(), false);
        let mut queue: VecDeque<u32> = VecDeque::with_capacity(work.len());
        for v in work {
            if !queued[v as usize] {
                queued[v as usize] = true;
                queue.push_back(v);
            }
        }
        // The nodes whose clock changed: their vc-mismatch is checked once, with their final
        // clock, after the propagation (in queue order a node can be reached before one of
        // its predecessors is updated, and checking it then would build a finding only to
        // drop it again).
        let mut changed: Vec<u32> = Vec::new();
        while let Some(v) = queue.pop_front() {
            queued[v as usize] = false;
            let next = self.around(v).1;
            match self.update_clock(v) {
                None => {
                    // v is in the causal past of one of its own predecessors.
                    self.cyclic = true;
                    queue.iter().for_each(|&q| queued[q as usize] = false);
                    break;
                }
                Some(Change::Same) => continue,
                Some(Change::Changed) => changed.push(v),
            }
            for s in next.into_iter().chain(self.succs.get(v).iter().copied()) {
                if !queued[s as usize] {
                    queued[s as usize] = true;
                    queue.push_back(s);
                }
            }
        }
        self.queued = queued;
        self.clocks.settle();
        self.dedup(&mut changed);
        for v in changed {
            self.check_vc(v);
        }
    }

    /// Recomputes node `v`'s clock from its program-order predecessor and its cross
    /// predecessors (those computed so far) and marks its key when it changed (the caller
    /// checks its `vc-mismatch` once the clock is final). `None` when `v` turns out to be in the causal past of one of its predecessors
    /// (a cycle; nothing is changed then).
    fn update_clock(&mut self, v: u32) -> Option<Change> {
        let e = self.trace.events()[v as usize];
        let prev = self.around(v).0;
        let preds = self.preds.get(v);
        let change = if preds.is_empty() {
            self.clocks.set_derived(v, prev)
        } else {
            let mut clock = prev
                .and_then(|p| self.clocks.full(&self.trace, p, self.shift))
                .unwrap_or_else(|| Clock::growable(self.shift));
            for &p in preds {
                self.clocks.join_into(&self.trace, p, &mut clock);
            }
            if clock.get(e.replica) >= e.seq {
                return None;
            }
            clock.raise(e.replica, e.seq);
            self.clocks.set_own(v, clock)
        };
        if change == Change::Changed {
            self.keys.touched(&self.trace, v);
            self.reads.touched(&self.trace, v);
        }
        Some(change)
    }

    /// For [`Engine::check`]'s one pass: node `v` is computed, so the clock slot it is based
    /// on will be read by its successors, and its predecessors' slots by one reader fewer; a
    /// slot nobody will read again, and that no conflict-capable write or checked read is based
    /// on (conflict detection and the reads check read those at the end), is discarded. With thousands of gossiping replicas
    /// most stored clocks are receives' that only their successors read.
    fn count_readers(&mut self, v: u32, r: &mut Readers) {
        if let Some(s) = self.clocks.slot(v) {
            let s = s as usize;
            if r.pending.len() <= s {
                r.pending.resize(s + 1, 0);
                r.keep.resize(s + 1, false);
            }
            let (next, succs) = (self.around(v).1, self.succs.get(v).len());
            r.pending[s] += u32::from(next.is_some()) + succs as u32;
            let e = &self.trace.events()[v as usize];
            if conflict_write(e) || self.reads.checks_read(&self.trace, v) {
                // A key with few writers next to a wide clock: the write keeps its own
                // cut-down clock (where clocks are about as wide as the writer sets, the
                // stored clock shared by the events based on it is the cheaper one to keep).
                let nnz = self.clocks.nnz(&self.trace, v) as usize;
                let small = r.writers.get(&e.key).filter(|w| w.len() * 16 <= nnz);
                match small {
                    Some(writers) => {
                        let full = self
                            .clocks
                            .full(&self.trace, v, self.shift)
                            .expect("computed");
                        self.keys.project(v, &full, writers, self.shift);
                    }
                    None => r.keep[s] = true,
                }
            }
        }
        let prev = self.around(v).0;
        for p in prev.into_iter().chain(self.preds.get(v).iter().copied()) {
            let Some(s) = self.clocks.slot(p) else {
                continue;
            };
            let s = s as usize;
            r.pending[s] -= 1;
            if r.pending[s] == 0 && !r.keep[s] {
                self.clocks.discard(s as u32);
            }
        }
    }

    /// `vc-mismatch` of node `v` against its implied clock as computed now.
    fn check_vc(&mut self, v: u32) {
        let e = &self.trace.events()[v as usize];
        if !e.has_vc() {
            return;
        }
        // The usual case, a reported clock equal to the implied one, is checked entry by entry
        // without making the implied clock; a mismatch makes it for the evidence.
        let trace = &self.trace;
        let mut matched = 0u32;
        let same = trace.vc(e).all(|(q, val)| {
            matched += 1;
            self.clocks.entry(trace, v, q) == val
        }) && matched == self.clocks.nnz(trace, v);
        if same {
            self.set_finding(v, Code::VcMismatch, None);
        } else {
            let full = self
                .clocks
                .full(&self.trace, v, self.shift)
                .expect("computed");
            self.vc_mismatch(v, &full);
        }
    }

    /// Recomputes every node's clock in one pass in a topological order (Kahn's algorithm over
    /// program order and the cross edges), each clock once: the nodes whose clock changed get
    /// their `vc-mismatch` checked and their key marked. Returns the nodes the pass could not
    /// reach: those on a causality cycle or downstream of one (empty when acyclic).
    pub(super) fn recompute_all(&mut self) -> Vec<u32> {
        let n = self.trace.len();
        let mut indeg: Vec<u32> = (0..n as u32)
            .map(|v| u32::from(self.around(v).0.is_some()) + self.preds.get(v).len() as u32)
            .collect();
        let mut ready: Vec<u32> = (0..n as u32).filter(|&v| indeg[v as usize] == 0).collect();
        let mut visited = 0usize;
        let mut readers = self.discard_read.then(|| {
            let mut writers = self.keys.small_writer_sets(&self.trace);
            self.reads
                .writer_sets(&self.trace, PROJECT_MAX_WRITERS, &mut writers);
            Readers {
                writers,
                ..Readers::default()
            }
        });
        while let Some(v) = ready.pop() {
            visited += 1;
            let next = self.around(v).1;
            // In a topological order every predecessor is computed first: no cycle here, and
            // the clock is final.
            let change = self
                .update_clock(v)
                .expect("visited after all its predecessors");
            if change == Change::Changed {
                self.check_vc(v);
            }
            if let Some(r) = readers.as_mut() {
                self.count_readers(v, r);
            }
            for s in next.into_iter().chain(self.succs.get(v).iter().copied()) {
                let d = &mut indeg[s as usize];
                *d -= 1;
                if *d == 0 {
                    ready.push(s);
                }
            }
        }
        self.clocks.settle();
        if visited == n {
            return Vec::new();
        }
        (0..n as u32).filter(|&v| indeg[v as usize] > 0).collect()
    }

    /// `vc-mismatch` of `v` against its implied clock.
    fn vc_mismatch(&mut self, v: u32, implied: &Clock) {
        let trace = &self.trace;
        let e = &trace.events()[v as usize];
        if !e.has_vc() {
            return;
        }
        let mut matched = 0u32;
        let mut ok = true;
        for (q, val) in trace.vc(e) {
            if implied.get(q) != val {
                ok = false;
                break;
            }
            matched += 1;
        }
        let f = (!(ok && matched == implied.nnz())).then(|| {
            let names = trace.names();
            let reported: Vec<(Sym, u64)> = trace.vc(e).collect();
            let mut diffs: Vec<(String, u64, u64)> = Vec::new();
            for &(q, val) in &reported {
                let imp = implied.get(q);
                if imp != val {
                    diffs.push((names.resolve(q).to_string(), val, imp));
                }
            }
            for (q, imp) in implied.entries() {
                if !reported.iter().any(|&(s, _)| s == q) {
                    diffs.push((names.resolve(q).to_string(), 0, imp));
                }
            }
            diffs.sort();
            finding::vc_mismatch(v, &trace.id(v as usize), &diffs)
        });
        self.set_finding(v, Code::VcMismatch, f);
    }
}

/// Per clock slot, during [`Engine::check`]'s pass: reads still to come, and whether a
/// conflict-capable write is based on it; and the keys whose writes get a projected clock.
#[derive(Default)]
struct Readers {
    pending: Vec<u32>,
    keep: Vec<bool>,
    writers: rustc_hash::FxHashMap<Sym, Vec<Sym>>,
}
