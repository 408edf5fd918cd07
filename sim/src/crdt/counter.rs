//! The counters: [`GCounter`] (per-replica totals, pointwise max) and [`PNCounter`] (two of
//! them, increments and decrements).

use std::cmp::Ordering;

use super::{Digest, ReplicaIdx, Vv};

/// Grow-only counter: per-replica totals (sparse, sorted), merged by pointwise max.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct GCounter {
    pub(super) vv: Vv,
}

impl GCounter {
    pub const fn new() -> Self {
        GCounter { vv: Vv::new() }
    }

    /// Adds `n` to `replica`'s total. The delta is that replica's new total alone (empty if
    /// `n == 0`). Saturates at `u64::MAX`.
    pub fn inc(&mut self, replica: ReplicaIdx, n: u64) -> GCounter {
        let total = self.vv.get(replica).saturating_add(n);
        if !self.vv.bump(replica, total) {
            return GCounter::new();
        }
        GCounter {
            vv: Vv {
                e: vec![(replica, total)],
            },
        }
    }

    /// The sum of all totals (saturating).
    pub fn value(&self) -> u64 {
        self.vv.e.iter().fold(0u64, |s, x| s.saturating_add(x.1))
    }

    /// `replica`'s total.
    pub fn get(&self, replica: ReplicaIdx) -> u64 {
        self.vv.get(replica)
    }

    /// Sorted `(replica, total)` pairs, no zeros.
    pub fn entries(&self) -> &[(ReplicaIdx, u64)] {
        &self.vv.e
    }

    /// Pointwise max; returns whether `self` changed.
    #[inline]
    pub fn merge(&mut self, other: &Self) -> bool {
        self.vv.join(&other.vv)
    }

    /// The `non-idempotent-merge` bug: **adds** the other side's totals instead of taking the
    /// max. Not a lattice join: merging the same state twice (or merging a state into itself)
    /// counts it twice. Saturates at `u64::MAX`. Returns whether `self` changed.
    pub fn merge_buggy_add(&mut self, other: &Self) -> bool {
        let mut changed = false;
        for &(r, c) in &other.vv.e {
            let cur = self.vv.get(r);
            changed |= self.vv.bump(r, cur.saturating_add(c));
        }
        changed
    }

    pub fn digest(&self, h: &mut Digest) {
        self.vv.digest(h);
    }

    #[inline]
    pub fn wire_len(&self) -> usize {
        self.vv.wire_len()
    }
}

/// Counter with increments and decrements: two G-Counters, value `P − N`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PNCounter {
    pub(super) p: GCounter,
    pub(super) n: GCounter,
}

impl PNCounter {
    pub const fn new() -> Self {
        PNCounter {
            p: GCounter::new(),
            n: GCounter::new(),
        }
    }

    /// Adds `n` (negative: subtracts) at `replica`. The delta holds just the changed half-entry.
    pub fn add(&mut self, replica: ReplicaIdx, n: i64) -> PNCounter {
        match n.cmp(&0) {
            Ordering::Greater => PNCounter {
                p: self.p.inc(replica, n.unsigned_abs()),
                n: GCounter::new(),
            },
            Ordering::Less => PNCounter {
                p: GCounter::new(),
                n: self.n.inc(replica, n.unsigned_abs()),
            },
            Ordering::Equal => PNCounter::new(),
        }
    }

    /// `P − N`, clamped to the `i64` range.
    pub fn value(&self) -> i64 {
        let v = self.p.value() as i128 - self.n.value() as i128;
        v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// The increments.
    pub fn positive(&self) -> &GCounter {
        &self.p
    }

    /// The decrements.
    pub fn negative(&self) -> &GCounter {
        &self.n
    }

    #[inline]
    pub fn merge(&mut self, other: &Self) -> bool {
        let a = self.p.merge(&other.p);
        let b = self.n.merge(&other.n);
        a || b
    }

    /// The `non-idempotent-merge` bug on both halves (see [`GCounter::merge_buggy_add`]).
    pub fn merge_buggy_add(&mut self, other: &Self) -> bool {
        let a = self.p.merge_buggy_add(&other.p);
        let b = self.n.merge_buggy_add(&other.n);
        a || b
    }

    pub fn digest(&self, h: &mut Digest) {
        self.p.digest(h);
        self.n.digest(h);
    }

    #[inline]
    pub fn wire_len(&self) -> usize {
        self.p.wire_len() + self.n.wire_len()
    }
}
