//! The registers: [`LwwRegister`] (last writer wins) and [`MvRegister`] (concurrent writes kept
//! as siblings, a causal CRDT).

use super::context::causal_join;
use super::{Digest, Dot, Stamp, Val, Vv};

/// Last-writer-wins register: the write with the largest `(stamp, value)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LwwRegister {
    cur: Option<(Stamp, Val)>,
}

impl LwwRegister {
    pub const fn new() -> Self {
        LwwRegister { cur: None }
    }

    /// Writes `val` at `stamp`: the state becomes `self ⊔ {(stamp, val)}`, so a write with a
    /// stamp older than the current one is lost (as it would be anywhere else). The delta is the
    /// write itself.
    pub fn set(&mut self, stamp: Stamp, val: Val) -> LwwRegister {
        let wins = match &self.cur {
            None => true,
            Some((s, v)) => (stamp, &val) > (*s, v),
        };
        if wins {
            self.cur = Some((stamp, val.clone()));
        }
        LwwRegister {
            cur: Some((stamp, val)),
        }
    }

    /// The current value, if any write was seen.
    pub fn value(&self) -> Option<&Val> {
        self.cur.as_ref().map(|x| &x.1)
    }

    /// The current stamp, if any write was seen.
    pub fn stamp(&self) -> Option<Stamp> {
        self.cur.as_ref().map(|x| x.0)
    }

    /// Keeps the larger `(stamp, value)`. Equal stamps from different replicas cannot happen
    /// (the replica is part of the stamp); equal stamps with different values keep the larger
    /// value so that the join stays commutative.
    pub fn merge(&mut self, other: &Self) -> bool {
        if other.cur > self.cur {
            self.cur.clone_from(&other.cur);
            true
        } else {
            false
        }
    }

    pub fn digest(&self, h: &mut Digest) {
        match &self.cur {
            None => h.write_u64(0),
            Some((s, v)) => {
                h.write_u64(1);
                h.write_u64(s.t);
                h.write_u64(s.replica as u64);
                v.digest(h);
            }
        }
    }

    /// A presence byte, then 8 + 4 bytes of stamp and the value.
    #[inline]
    pub fn wire_len(&self) -> usize {
        1 + self.cur.as_ref().map_or(0, |(_, v)| 12 + v.wire_len())
    }
}

/// Multi-value register: concurrent writes are all kept as siblings until a write that has
/// seen them overwrites them. Entries sorted by dot; context compressed as a [`Vv`] (sound, see
/// the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MvRegister {
    pub(super) entries: Vec<(Dot, Val)>,
    pub(super) ctx: Vv,
}

impl MvRegister {
    pub const fn new() -> Self {
        MvRegister {
            entries: Vec::new(),
            ctx: Vv::new(),
        }
    }

    /// Writes `val` with the fresh `dot`, overwriting every sibling this replica has seen. The
    /// delta holds the new entry with the context `{overwritten dots} ∪ {dot}`.
    pub fn set(&mut self, dot: Dot, val: Val) -> MvRegister {
        debug_assert!(dot.counter > 0, "dot counters start at 1");
        debug_assert!(!self.ctx.covers(dot), "reused dot {dot:?}");
        let mut dctx = Vv::from_dots(self.entries.iter().map(|e| e.0));
        dctx.add_dot(dot);
        self.entries.clear();
        self.entries.push((dot, val.clone()));
        self.ctx.add_dot(dot);
        MvRegister {
            entries: vec![(dot, val)],
            ctx: dctx,
        }
    }

    /// The sibling values, sorted and deduplicated (two concurrent writes of the same value
    /// read as one).
    pub fn values(&self) -> Vec<&Val> {
        let mut v: Vec<&Val> = self.entries.iter().map(|e| &e.1).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The sibling entries, sorted by dot.
    pub fn entries(&self) -> &[(Dot, Val)] {
        &self.entries
    }

    /// The causal context.
    pub fn context(&self) -> &Vv {
        &self.ctx
    }

    /// Causal join; returns whether `self` changed.
    pub fn merge(&mut self, other: &Self) -> bool {
        causal_join(
            &mut self.entries,
            &mut self.ctx,
            &other.entries,
            &other.ctx,
            |e| e.0,
        )
    }

    pub fn digest(&self, h: &mut Digest) {
        h.write_u64(self.entries.len() as u64);
        for (d, v) in &self.entries {
            h.write_u64(d.replica as u64);
            h.write_u64(d.counter);
            v.digest(h);
        }
        self.ctx.digest(h);
    }

    /// 2-byte count, 12 bytes of dot plus the value per entry, then the context.
    pub fn wire_len(&self) -> usize {
        2 + self
            .entries
            .iter()
            .map(|e| 12 + e.1.wire_len())
            .sum::<usize>()
            + self.ctx.wire_len()
    }

    #[cfg(test)]
    pub(super) fn assert_invariants(&self) {
        self.ctx.assert_invariants();
        assert!(
            self.entries.windows(2).all(|w| w[0].0 < w[1].0),
            "mv entries not strictly sorted: {self:?}"
        );
        assert!(
            self.entries.iter().all(|e| self.ctx.covers(e.0)),
            "mv entry outside its context: {self:?}"
        );
    }
}
