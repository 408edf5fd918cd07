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
const STALE_ANSWER: f64 = 0.75;
/// How often, at each of its sync ticks, the `stale-read` replica refreshes its snapshot: it
/// lags a tick or two behind the state (older, and it would mostly hold keys not written yet).
const SNAPSHOT_REFRESH: f64 = 0.5;
/// How often the `unrecorded-merge` replica repairs a key from its peers before reading it.
const UNRECORDED_MERGE: f64 = 0.5;

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
            self.unrecorded_merge(r, key);
        }
        self.local_tick(r);
        let value = if self.has_bug(Bug::StaleRead, r) {
            self.maybe_stale_value(r, key)
        } else {
            self.replicas[r as usize].state[key as usize].read_json()
        };
        self.emit(r, EvKind::Read, None, Some(key), None, Some(&value), None)
    }

    /// The `stale-read` bug: most reads are answered from a copy of the state taken at an
    /// earlier sync tick (see [`World::refresh_snapshot`]) instead of the state — as an app that
    /// renders from a cached snapshot it refreshes only now and then. Draws come from the
    /// world's RNG (the workload's stream stays untouched, so the buggy run performs the same
    /// operations).
    fn maybe_stale_value(&mut self, r: u32, key: u32) -> String {
        let from_snapshot = self.rng.chance(STALE_ANSWER);
        let rep = &self.replicas[r as usize];
        match &rep.snapshot {
            Some(snapshot) if from_snapshot => snapshot[key as usize].read_json(),
            _ => rep.state[key as usize].read_json(),
        }
    }

    /// The `stale-read` replica's snapshot, at one of its sync ticks: sometimes replaced by a
    /// copy of the current state.
    pub(super) fn refresh_snapshot(&mut self, r: u32) {
        if self.rng.chance(SNAPSHOT_REFRESH) {
            let rep = &mut self.replicas[r as usize];
            rep.snapshot = Some(rep.state.clone());
        }
    }

    /// The `unrecorded-merge` bug, before `r` reads `key`: sometimes `r` first repairs the key
    /// from the peers it can reach — merging their state of it, as a quorum read with read
    /// repair does — through a path that records nothing: no receive event, no clock merge, no
    /// entry in its sync logs. Its state then holds writes its causal past does not, and the
    /// read (and what `r` sends later) shows them.
    fn unrecorded_merge(&mut self, r: u32, key: u32) {
        if !self.rng.chance(UNRECORDED_MERGE) {
            return;
        }
        let k = key as usize;
        for p in (0..self.cfg.replicas).filter(|&p| p != r) {
            if !self.link_up(r, p) {
                continue;
            }
            let theirs = self.replicas[p as usize].state[k].clone();
            let rep = &mut self.replicas[r as usize];
            if rep.state[k].merge(&theirs) {
                rep.digest = None;
            }
        }
    }
}
