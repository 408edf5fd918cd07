//! The implied clocks of all nodes, stored only where they are not implied by the node before.
//!
//! An event with no cross predecessor has the clock of its program-order predecessor with its
//! own entry raised to its seq. So only events with cross predecessors (receives, merges,
//! events with clock-derived edges) store a clock; every other event points at the stored clock
//! of the nearest such event before it on its replica (its *base*) and adds its own entry when
//! read. With ~15 % receives that is one stored clock in seven events, and 4 bytes for each of
//! the others. A stored clock is updated in place, so the events based on it change with it.

use weft_trace::{Sym, Trace};

use crate::clock::Clock;

/// Not computed yet.
const UNSET: u32 = u32::MAX;
/// Based on the empty clock (the first events of a replica, before any cross predecessor).
const EMPTY: u32 = u32::MAX - 1;

#[derive(Default)]
pub(super) struct NodeClocks {
    /// Per node: the slot of its base clock in `stored`, `EMPTY` or `UNSET`.
    base: Vec<u32>,
    /// Per node: whether `base` is the node's own slot (it has cross predecessors).
    owns: Vec<bool>,
    stored: Vec<Clock>,
    /// Slots free for reuse.
    free: Vec<u32>,
    /// Slots freed during the current update, reusable after it (nodes based on them are
    /// re-pointed by the same update).
    freed: Vec<u32>,
}

/// What [`NodeClocks::set_own`] and [`NodeClocks::set_derived`] did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Change {
    /// The clock is what it was.
    Same,
    /// The clock may have changed (always said of a node without cross predecessors: its base
    /// may have been updated in place).
    Changed,
}

impl NodeClocks {
    pub fn resize(&mut self, n: usize) {
        self.base.resize(n, UNSET);
        self.owns.resize(n, false);
    }

    /// The stored clock `v` is based on (its own when it has cross predecessors).
    pub fn base_clock(&self, v: u32) -> Option<&Clock> {
        match self.base[v as usize] {
            UNSET | EMPTY => None,
            s => Some(&self.stored[s as usize]),
        }
    }

    /// `VC(v)[q]`: 0 when not computed.
    #[inline]
    pub fn entry(&self, trace: &Trace, v: u32, q: Sym) -> u64 {
        match self.base[v as usize] {
            UNSET => 0,
            base => {
                let e = &trace.events()[v as usize];
                if e.replica == q {
                    e.seq
                } else if base == EMPTY {
                    0
                } else {
                    self.stored[base as usize].get(q)
                }
            }
        }
    }

    /// Whether `VC(v)` (computed) has exactly the entries `reported` (ascending, distinct):
    /// [`NodeClocks::entry`] of each and [`NodeClocks::nnz`], with `v`'s base looked up once.
    pub fn equals(
        &self,
        trace: &Trace,
        v: u32,
        reported: impl Iterator<Item = (Sym, u64)>,
    ) -> bool {
        let e = &trace.events()[v as usize];
        let base = self.base_clock(v);
        let mut matched = 0u32;
        for (q, val) in reported {
            matched += 1;
            let have = if q == e.replica {
                e.seq
            } else {
                base.map_or(0, |c| c.get(q))
            };
            if have != val {
                return false;
            }
        }
        matched == self.nnz(trace, v)
    }

    /// The number of non-zero entries of `VC(v)` (computed).
    pub fn nnz(&self, trace: &Trace, v: u32) -> u32 {
        let own = trace.events()[v as usize].replica;
        match self.base[v as usize] {
            UNSET => 0,
            EMPTY => 1,
            b => {
                let c = &self.stored[b as usize];
                c.nnz() + u32::from(c.get(own) == 0)
            }
        }
    }

    /// Joins `VC(p)` into `clock` (nothing when `p` is not computed).
    pub fn join_into(&self, trace: &Trace, p: u32, clock: &mut Clock) {
        if self.base[p as usize] == UNSET {
            return;
        }
        if let Some(c) = self.base_clock(p) {
            clock.join(c);
        }
        let e = &trace.events()[p as usize];
        clock.raise(e.replica, e.seq);
    }

    /// `VC(v)` as a clock of its own (a copy: chunks are shared), when computed.
    pub fn full(&self, trace: &Trace, v: u32, shift: u32) -> Option<Clock> {
        if self.base[v as usize] == UNSET {
            return None;
        }
        let mut c = Clock::growable(shift);
        self.join_into(trace, v, &mut c);
        Some(c)
    }

    /// Node `v` has no cross predecessor: its clock is based on `prev`'s (or empty).
    pub fn set_derived(&mut self, v: u32, prev: Option<u32>) -> Change {
        self.release(v);
        self.base[v as usize] = match prev {
            Some(p) if self.base[p as usize] != UNSET => self.base[p as usize],
            _ => EMPTY,
        };
        Change::Changed
    }

    /// Node `v` has cross predecessors and this clock.
    pub fn set_own(&mut self, v: u32, clock: Clock) -> Change {
        if self.owns[v as usize] {
            let slot = &mut self.stored[self.base[v as usize] as usize];
            if slot.same(&clock) {
                return Change::Same;
            }
            *slot = clock;
            return Change::Changed;
        }
        let s = match self.free.pop() {
            Some(s) => {
                self.stored[s as usize] = clock;
                s
            }
            None => {
                self.stored.push(clock);
                (self.stored.len() - 1) as u32
            }
        };
        self.base[v as usize] = s;
        self.owns[v as usize] = true;
        Change::Changed
    }

    /// Gives up `v`'s own slot, if it has one.
    fn release(&mut self, v: u32) {
        if self.owns[v as usize] {
            let s = self.base[v as usize];
            self.stored[s as usize] = Clock::growable(0);
            self.freed.push(s);
            self.owns[v as usize] = false;
        }
    }

    /// The slot `v`'s clock is based on, if any (`None` before it is computed and for the
    /// empty clock).
    pub fn slot(&self, v: u32) -> Option<u32> {
        match self.base[v as usize] {
            UNSET | EMPTY => None,
            s => Some(s),
        }
    }

    /// Frees the memory of slot `s` for good: the nodes based on it read zeros from now on.
    /// Only for an engine that is read once more and never fed again (see
    /// `Engine::check`).
    pub fn discard(&mut self, s: u32) {
        self.stored[s as usize] = Clock::growable(0);
    }

    /// The end of an update: slots freed during it may be reused.
    pub fn settle(&mut self) {
        self.free.append(&mut self.freed);
    }
}
