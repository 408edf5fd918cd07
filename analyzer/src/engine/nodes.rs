//! Per node: its direct edges (spec section 3) with the findings seen on them, and its implied
//! clock, recomputed from its direct predecessors and propagated while it changes.

use std::collections::VecDeque;

use weft_trace::{Sym, Trace};

use super::Engine;

/// Below this many clocks to recompute, a batch always propagates changes (see
/// [`Engine::propagate`]).
pub(super) const BULK_MIN: usize = 4096;

/// Nodes the topological pass visits between two rounds of `vc-mismatch` checks (each round
/// on several threads, once it is large enough: see `crate::par::map`).
const CHECK_BATCH: usize = 8192;
use super::clocks::{Change, NodeClocks};
use super::keys::PROJECT_MAX_WRITERS;
use crate::clock::Clock;
use crate::conflicts::conflict_write;
use crate::finding::{self, Finding};
use crate::report::Code;

impl Engine {
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
        self.check_vcs(&mut changed);
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
                r.unread.push(s as u32);
            }
        }
    }

    /// Discards the slots [`Engine::count_readers`] found unread since the last call.
    fn discard_unread(&mut self, readers: Option<&mut Readers>) {
        if let Some(r) = readers {
            for s in r.unread.drain(..) {
                self.clocks.discard(s);
            }
        }
    }

    /// `vc-mismatch` of the nodes `nodes` against their implied clocks as computed now (on
    /// several threads when they are many: each verdict only reads the clocks; the findings
    /// are then recorded in the order of `nodes`), and empties `nodes`.
    fn check_vcs(&mut self, nodes: &mut Vec<u32>) {
        let (trace, clocks, shift) = (&self.trace, &self.clocks, self.shift);
        let verdicts = crate::par::map(
            nodes,
            self.threads,
            || (),
            |(), &v| vc_verdict(trace, clocks, shift, v),
        );
        for (&v, f) in nodes.iter().zip(verdicts) {
            if let Some(f) = f {
                self.set_finding(v, Code::VcMismatch, f);
            }
        }
        nodes.clear();
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
        // Nodes whose clock changed, their vc-mismatch checked a batch at a time.
        let mut checks: Vec<u32> = Vec::new();
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
            if change == Change::Changed && self.trace.events()[v as usize].has_vc() {
                checks.push(v);
            }
            if let Some(r) = readers.as_mut() {
                self.count_readers(v, r);
            }
            // Slots nobody reads again are dropped at once while no check is pending (a trace
            // without reported clocks keeps none: 5,000 replicas' clocks held for a round
            // doubled scenario d's peak), else after the round's checks, and a round ends
            // after CHECK_BATCH checks or CHECK_BATCH unread slots, whichever comes first.
            let unread = readers.as_ref().map_or(0, |r| r.unread.len());
            if checks.is_empty() {
                self.discard_unread(readers.as_mut());
            } else if checks.len() >= CHECK_BATCH || unread >= CHECK_BATCH {
                self.check_vcs(&mut checks);
                self.discard_unread(readers.as_mut());
            }
            for s in next.into_iter().chain(self.succs.get(v).iter().copied()) {
                let d = &mut indeg[s as usize];
                *d -= 1;
                if *d == 0 {
                    ready.push(s);
                }
            }
        }
        self.check_vcs(&mut checks);
        self.discard_unread(readers.as_mut());
        self.clocks.settle();
        if visited == n {
            return Vec::new();
        }
        (0..n as u32).filter(|&v| indeg[v as usize] > 0).collect()
    }
}

/// `vc-mismatch` of node `v` against its implied clock as computed now: `None` when `v`
/// reports no clock, else the finding or its absence. The usual case, a reported clock equal
/// to the implied one, is checked entry by entry without making the implied clock; a mismatch
/// makes it for the evidence.
fn vc_verdict(trace: &Trace, clocks: &NodeClocks, shift: u32, v: u32) -> Option<Option<Finding>> {
    let e = &trace.events()[v as usize];
    if !e.has_vc() {
        return None;
    }
    if clocks.equals(trace, v, trace.vc(e)) {
        return Some(None);
    }
    let implied = clocks.full(trace, v, shift).expect("computed");
    let mut matched = 0u32;
    let mut ok = true;
    for (q, val) in trace.vc(e) {
        if implied.get(q) != val {
            ok = false;
            break;
        }
        matched += 1;
    }
    Some((!(ok && matched == implied.nnz())).then(|| {
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
    }))
}

/// Per clock slot, during [`Engine::check`]'s pass: reads still to come, and whether a
/// conflict-capable write is based on it; and the keys whose writes get a projected clock.
#[derive(Default)]
struct Readers {
    pending: Vec<u32>,
    keep: Vec<bool>,
    writers: rustc_hash::FxHashMap<Sym, Vec<Sym>>,
    /// Slots nobody reads again, discarded once the vc-mismatch checks of the nodes visited
    /// so far are done (the checks read them).
    unread: Vec<u32>,
}
