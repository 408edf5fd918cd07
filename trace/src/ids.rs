//! The id index behind [`crate::Trace::find`] and the duplicate rule: `(replica, seq)` → the
//! arrival index of the event's kept copy.
//!
//! Replicas number their events 1, 2, 3, … (spec section 2), so most ids are dense per replica:
//! each replica gets a *run*, a vector whose slot `seq - 1` holds the arrival index. A lookup
//! or an insertion there is one array access next to the previous one, where a hash table costs
//! a probe into a table of millions and a comparison through the event records (two cache
//! misses an event when reading 1 M events), and a rehash that touches every record each time
//! the table doubles.
//!
//! Ids that would leave a run mostly empty (a replica whose seqs are far apart: timestamps,
//! strides, one huge seq) go to a hash table instead, so memory stays bounded by the number of
//! events whatever the seqs: a run holds at most `2 × its entries + RUN_SLACK` slots.

use std::hash::BuildHasher;

use hashbrown::hash_table::{Entry, HashTable};
use rustc_hash::FxBuildHasher;

use crate::intern::Sym;

/// An empty slot of a run.
const VACANT: u32 = u32::MAX;

/// Slots a run may have beyond twice its entries: lets a replica's first events (or a small
/// gap) stay in its run.
const RUN_SLACK: u64 = 16;

/// One replica's dense ids: slot `seq - 1` holds the arrival index, or [`VACANT`].
#[derive(Clone, Debug, Default)]
struct Run {
    slots: Vec<u32>,
    filled: u64,
}

/// `(replica, seq)` → arrival index; see the module documentation.
#[derive(Clone, Debug, Default)]
pub(crate) struct IdIndex {
    /// By replica name id.
    runs: Vec<Run>,
    /// The ids that did not fit their replica's run: arrival indices, hashed by the id of the
    /// event they point to (compared through the event records).
    sparse: HashTable<u32>,
}

/// The hash of an id in the sparse table.
#[inline]
fn id_hash(replica: Sym, seq: u64) -> u64 {
    FxBuildHasher.hash_one((replica, seq))
}

impl IdIndex {
    /// The arrival index of `(replica, seq)`; `id_at` gives the id of an arrival index (the
    /// sparse table compares through it rather than keeping ids).
    #[inline]
    pub(crate) fn find(
        &self,
        replica: Sym,
        seq: u64,
        id_at: impl Fn(u32) -> (Sym, u64),
    ) -> Option<u32> {
        if let Some(&i) = self
            .runs
            .get(replica as usize)
            .and_then(|r| r.slots.get(seq.wrapping_sub(1) as usize))
        {
            if i != VACANT {
                return Some(i);
            }
        }
        if self.sparse.is_empty() {
            return None;
        }
        self.sparse
            .find(id_hash(replica, seq), |&i| id_at(i) == (replica, seq))
            .copied()
    }

    /// The arrival index of `(replica, seq)` if the index has it; otherwise records `next` for
    /// it and returns `None`. `id_at` must answer for `next` from the next call on (the caller
    /// records the event before), as for every index the sparse table holds.
    pub(crate) fn find_or_insert(
        &mut self,
        replica: Sym,
        seq: u64,
        next: u32,
        id_at: impl Fn(u32) -> (Sym, u64),
    ) -> Option<u32> {
        let q = replica as usize;
        if self.runs.len() <= q {
            self.runs.resize_with(q + 1, Run::default);
        }
        let run = &mut self.runs[q];
        if let Some(&i) = run.slots.get(seq.wrapping_sub(1) as usize) {
            if i != VACANT {
                return Some(i);
            }
        }
        let hash = id_hash(replica, seq);
        let same = |&i: &u32| id_at(i) == (replica, seq);
        if seq >= 1 && seq <= 2 * (run.filled + 1) + RUN_SLACK {
            // The id may have gone to the sparse table before the run reached its slot.
            if !self.sparse.is_empty() {
                if let Some(&i) = self.sparse.find(hash, same) {
                    return Some(i);
                }
            }
            let slot = (seq - 1) as usize;
            if run.slots.len() <= slot {
                run.slots.resize(slot + 1, VACANT);
            }
            run.slots[slot] = next;
            run.filled += 1;
            return None;
        }
        // Every index in the table is below `next`: a new one is inserted only after the table
        // has made room, and its record is pushed before the next call.
        let rehash = |&i: &u32| {
            let (q, s) = id_at(i);
            id_hash(q, s)
        };
        match self.sparse.entry(hash, same, rehash) {
            Entry::Occupied(o) => Some(*o.get()),
            Entry::Vacant(v) => {
                v.insert(next);
                None
            }
        }
    }

    /// Bytes allocated: 4 per run slot (a run has at most 2 × its entries + 16 slots, and up to
    /// twice that in capacity), 5 per sparse slot (between 8/7 and 16/7 slots an entry), and 32
    /// per replica.
    pub(crate) fn allocation_size(&self) -> usize {
        self.runs.capacity() * std::mem::size_of::<Run>()
            + self
                .runs
                .iter()
                .map(|r| r.slots.capacity() * 4)
                .sum::<usize>()
            + self.sparse.allocation_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// Against a plain map: every id found where it was first inserted, whatever the seqs
        /// (dense, strided, huge, 0, repeated) and however replicas interleave.
        #[test]
        fn answers_like_a_map(ids in prop::collection::vec(
            (0u32..6, prop_oneof![1u64..40, 0u64..3, 1u64..100_000, Just(u64::MAX)]),
            0..400,
        )) {
            let mut index = IdIndex::default();
            let mut events: Vec<(Sym, u64)> = Vec::new();
            let mut map: HashMap<(Sym, u64), u32> = HashMap::new();
            for &(q, s) in &ids {
                let next = events.len() as u32;
                let got = index.find_or_insert(q, s, next, |i| events[i as usize]);
                prop_assert_eq!(got, map.get(&(q, s)).copied());
                if got.is_none() {
                    map.insert((q, s), next);
                    events.push((q, s));
                }
            }
            for q in 0..7 {
                for s in (0..45).chain([99_999, u64::MAX]) {
                    prop_assert_eq!(index.find(q, s, |i| events[i as usize]), map.get(&(q, s)).copied());
                }
            }
        }
    }

    #[test]
    fn far_apart_seqs_do_not_grow_a_run() {
        let mut index = IdIndex::default();
        let mut events: Vec<(Sym, u64)> = Vec::new();
        for k in 0..10_000u64 {
            let seq = 1 + k * 1_000_000;
            assert_eq!(
                index.find_or_insert(3, seq, k as u32, |i| events[i as usize]),
                None
            );
            events.push((3, seq));
        }
        let per_event = index.allocation_size() as f64 / 10_000.0;
        assert!(per_event <= 12.0, "{per_event} bytes an event");
        assert_eq!(
            index.find(3, 1 + 9_999 * 1_000_000, |i| events[i as usize]),
            Some(9_999)
        );
    }

    #[test]
    fn dense_seqs_cost_about_four_bytes_an_event() {
        let mut index = IdIndex::default();
        let mut events: Vec<(Sym, u64)> = Vec::new();
        for k in 0..100_000u64 {
            let (q, seq) = ((k % 16) as Sym, k / 16 + 1);
            assert_eq!(
                index.find_or_insert(q, seq, k as u32, |i| events[i as usize]),
                None
            );
            events.push((q, seq));
        }
        assert!(index.sparse.is_empty());
        let per_event = index.allocation_size() as f64 / 100_000.0;
        assert!(per_event <= 8.5, "{per_event} bytes an event");
    }
}
