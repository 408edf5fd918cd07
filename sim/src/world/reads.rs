//! Reads, and the two injected bugs that make them contradict the trace: `stale-read` answers
//! from an older copy of the state, `unrecorded-merge` puts writes into the state that the
//! replica's causal past (as the trace records it) does not hold.
//!
//! A correct replica's state is exactly the join of the writes in its causal past, so every
//! read returns what spec section 8 says it must; these bugs are what `weft check` has to find.

use std::io;

use weft_trace::Crdt as TraceType;

use super::World;
use crate::config::Bug;
use crate::crdt::CrdtKind;
use crate::out::EvKind;

/// How often the `stale-read` replica answers a read from its snapshot rather than its state.
const STALE_ANSWER: f64 = 0.5;
/// How often the `unrecorded-merge` replica refreshes from a peer's state before a read.
const UNRECORDED_MERGE: f64 = 0.25;

impl CrdtKind {
    /// The data type the trace declares for keys of this kind (`crdt`, spec section 8): both
    /// counters are `counter` (a PN-counter's decrement is an `inc` with a negative value), the
    /// LWW register is `lww`, the multi-value register `mv` and the add-wins OR-set `set`. The
    /// values [`crate::crdt::Crdt::read_json`] writes have the shape each type's reads take.
    pub fn trace_type(self) -> TraceType {
        match self {
            CrdtKind::GCounter | CrdtKind::PNCounter => TraceType::Counter,
            CrdtKind::LwwRegister => TraceType::Lww,
            CrdtKind::MvRegister => TraceType::Mv,
            CrdtKind::OrSet => TraceType::Set,
        }
    }
}

impl World {
    /// A read of `key` at `r`: a local event carrying what the replica's state holds (or, with
    /// the `stale-read` bug, sometimes what an older copy of it held).
    pub(super) fn read(&mut self, r: u32, key: u32) -> io::Result<()> {
        if self.has_bug(Bug::UnrecordedMerge, r) {
            self.unrecorded_merge(r);
        }
        self.local_tick(r);
        let value = if self.has_bug(Bug::StaleRead, r) {
            self.maybe_stale_value(r, key)
        } else {
            self.replicas[r as usize].state[key as usize].read_json()
        };
        self.emit(r, EvKind::Read, None, Some(key), None, Some(&value), None)
    }

    /// The `stale-read` bug: the replica keeps a copy of its state, refreshed only by the reads
    /// it answers from the state itself, and answers the others from that copy — as an app
    /// that caches a snapshot for its UI and sometimes forgets to refresh it. Whether a read is
    /// answered from the snapshot is drawn from the world's RNG (the workload's stream stays
    /// untouched, so the buggy run performs the same operations).
    fn maybe_stale_value(&mut self, r: u32, key: u32) -> String {
        let from_snapshot = self.rng.chance(STALE_ANSWER);
        let rep = &mut self.replicas[r as usize];
        match &rep.snapshot {
            Some(snapshot) if from_snapshot => snapshot[key as usize].read_json(),
            _ => {
                rep.snapshot = Some(rep.state.clone());
                rep.state[key as usize].read_json()
            }
        }
    }

    /// The `unrecorded-merge` bug, before one of `r`'s reads: sometimes `r` first refreshes
    /// from the current state of a peer it can reach, through a path that records nothing — no
    /// receive event, no clock merge, no entry in its sync logs — as an app whose reads fall
    /// back to fetching from a peer outside its instrumented sync. Its state then holds writes
    /// its causal past does not, and the read shows them.
    fn unrecorded_merge(&mut self, r: u32) {
        if !self.rng.chance(UNRECORDED_MERGE) {
            return;
        }
        let mut p = self.rng.below(u64::from(self.cfg.replicas - 1)) as u32;
        if p >= r {
            p += 1;
        }
        if !self.link_up(r, p) {
            return;
        }
        let (mine, theirs) = if r < p {
            let (a, b) = self.replicas.split_at_mut(p as usize);
            (&mut a[r as usize], &b[0])
        } else {
            let (a, b) = self.replicas.split_at_mut(r as usize);
            (&mut b[0], &a[p as usize])
        };
        let mut changed = false;
        for (m, t) in mine.state.iter_mut().zip(&theirs.state) {
            changed |= m.merge(t);
        }
        if changed {
            mine.digest = None;
        }
    }
}
