//! [`Crdt`]: the one CRDT a key holds, an enum over the five types that dispatches each
//! mutator, the join, the digest and the JSON read to the type inside.

use super::val::write_json_array;
use super::{
    CrdtKind, Digest, Dot, GCounter, LwwRegister, MvRegister, OrSet, PNCounter, ReplicaIdx, Stamp,
    Val,
};

/// The CRDT a key holds (one kind per key).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Crdt {
    GCounter(GCounter),
    PNCounter(PNCounter),
    Lww(LwwRegister),
    Mv(MvRegister),
    OrSet(OrSet),
}

impl Crdt {
    /// The empty state of `kind`.
    pub fn new(kind: CrdtKind) -> Crdt {
        match kind {
            CrdtKind::GCounter => Crdt::GCounter(GCounter::new()),
            CrdtKind::PNCounter => Crdt::PNCounter(PNCounter::new()),
            CrdtKind::LwwRegister => Crdt::Lww(LwwRegister::new()),
            CrdtKind::MvRegister => Crdt::Mv(MvRegister::new()),
            CrdtKind::OrSet => Crdt::OrSet(OrSet::new()),
        }
    }

    pub fn kind(&self) -> CrdtKind {
        match self {
            Crdt::GCounter(_) => CrdtKind::GCounter,
            Crdt::PNCounter(_) => CrdtKind::PNCounter,
            Crdt::Lww(_) => CrdtKind::LwwRegister,
            Crdt::Mv(_) => CrdtKind::MvRegister,
            Crdt::OrSet(_) => CrdtKind::OrSet,
        }
    }

    /// Whether this is a G- or PN-Counter.
    pub fn is_counter(&self) -> bool {
        matches!(self, Crdt::GCounter(_) | Crdt::PNCounter(_))
    }

    /// The LWW register's current stamp (`None` if empty or not an LWW register).
    pub fn lww_stamp(&self) -> Option<Stamp> {
        match self {
            Crdt::Lww(r) => r.stamp(),
            _ => None,
        }
    }

    /// Counter increment by `n` at `replica`; returns the delta.
    ///
    /// # Panics
    /// If this is not a counter, or `n < 0` on a G-Counter.
    pub fn inc(&mut self, replica: ReplicaIdx, n: i64) -> Crdt {
        match self {
            Crdt::GCounter(c) => {
                let n = u64::try_from(n)
                    .unwrap_or_else(|_| panic!("a G-Counter cannot be decremented (inc by {n})"));
                Crdt::GCounter(c.inc(replica, n))
            }
            Crdt::PNCounter(c) => Crdt::PNCounter(c.add(replica, n)),
            other => panic!("inc on a {:?}, which is not a counter", other.kind()),
        }
    }

    /// Register write: an LWW register uses `stamp`, an MV register uses `dot`; returns the delta.
    ///
    /// # Panics
    /// If this is not a register.
    pub fn set(&mut self, stamp: Stamp, dot: Dot, val: Val) -> Crdt {
        match self {
            Crdt::Lww(r) => Crdt::Lww(r.set(stamp, val)),
            Crdt::Mv(r) => Crdt::Mv(r.set(dot, val)),
            other => panic!("set on a {:?}, which is not a register", other.kind()),
        }
    }

    /// OR-Set add; returns the delta.
    ///
    /// # Panics
    /// If this is not an OR-Set.
    pub fn add(&mut self, dot: Dot, elem: Val) -> Crdt {
        match self {
            Crdt::OrSet(s) => Crdt::OrSet(s.add(dot, elem)),
            other => panic!("add on a {:?}, which is not an OR-Set", other.kind()),
        }
    }

    /// OR-Set remove; returns the delta (empty if the element was absent).
    ///
    /// # Panics
    /// If this is not an OR-Set.
    pub fn remove(&mut self, elem: &Val) -> Crdt {
        match self {
            Crdt::OrSet(s) => Crdt::OrSet(s.remove(elem)),
            other => panic!("remove on a {:?}, which is not an OR-Set", other.kind()),
        }
    }

    /// Lattice join; returns whether `self` changed.
    ///
    /// # Panics
    /// If the kinds differ (a programming error).
    pub fn merge(&mut self, other: &Crdt) -> bool {
        match (self, other) {
            (Crdt::GCounter(a), Crdt::GCounter(b)) => a.merge(b),
            (Crdt::PNCounter(a), Crdt::PNCounter(b)) => a.merge(b),
            (Crdt::Lww(a), Crdt::Lww(b)) => a.merge(b),
            (Crdt::Mv(a), Crdt::Mv(b)) => a.merge(b),
            (Crdt::OrSet(a), Crdt::OrSet(b)) => a.merge(b),
            (a, b) => kind_mismatch(a.kind(), b.kind()),
        }
    }

    /// The `non-idempotent-merge` bug: counters add instead of taking the max; other kinds merge
    /// correctly. Returns whether `self` changed.
    ///
    /// # Panics
    /// If the kinds differ (a programming error).
    pub fn merge_buggy(&mut self, other: &Crdt) -> bool {
        match (self, other) {
            (Crdt::GCounter(a), Crdt::GCounter(b)) => a.merge_buggy_add(b),
            (Crdt::PNCounter(a), Crdt::PNCounter(b)) => a.merge_buggy_add(b),
            (a, b) => a.merge(b),
        }
    }

    /// Feeds the kind and the canonical content to `h`.
    pub fn digest(&self, h: &mut Digest) {
        h.write_u64(self.kind().tag());
        match self {
            Crdt::GCounter(c) => c.digest(h),
            Crdt::PNCounter(c) => c.digest(h),
            Crdt::Lww(r) => r.digest(h),
            Crdt::Mv(r) => r.digest(h),
            Crdt::OrSet(s) => s.digest(h),
        }
    }

    /// Deterministic estimate of the encoded size in bytes (a kind byte plus the content).
    pub fn wire_len(&self) -> usize {
        1 + match self {
            Crdt::GCounter(c) => c.wire_len(),
            Crdt::PNCounter(c) => c.wire_len(),
            Crdt::Lww(r) => r.wire_len(),
            Crdt::Mv(r) => r.wire_len(),
            Crdt::OrSet(s) => s.wire_len(),
        }
    }

    /// Appends the current value as compact JSON: counters a number, LWW the value or `null`,
    /// MV a sorted array of the distinct sibling values, OR-Set a sorted array of elements.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Crdt::GCounter(c) => out.push_str(itoa::Buffer::new().format(c.value())),
            Crdt::PNCounter(c) => out.push_str(itoa::Buffer::new().format(c.value())),
            Crdt::Lww(r) => match r.value() {
                Some(v) => v.write_json(out),
                None => out.push_str("null"),
            },
            Crdt::Mv(r) => match r.entries() {
                [] => out.push_str("[]"),
                [(_, v)] => {
                    out.push('[');
                    v.write_json(out);
                    out.push(']');
                }
                _ => write_json_array(r.values().into_iter(), out),
            },
            Crdt::OrSet(s) => write_json_array(s.elements(), out),
        }
    }

    /// The current value as compact JSON text (see [`Crdt::write_json`]).
    pub fn read_json(&self) -> String {
        let mut s = String::new();
        self.write_json(&mut s);
        s
    }

    #[cfg(test)]
    pub(super) fn assert_invariants(&self) {
        match self {
            Crdt::GCounter(c) => c.vv.assert_invariants(),
            Crdt::PNCounter(c) => {
                c.p.vv.assert_invariants();
                c.n.vv.assert_invariants();
            }
            Crdt::Lww(_) => {}
            Crdt::Mv(r) => r.assert_invariants(),
            Crdt::OrSet(s) => s.assert_invariants(),
        }
    }
}

#[cold]
#[track_caller]
fn kind_mismatch(a: CrdtKind, b: CrdtKind) -> ! {
    panic!("cannot merge a {b:?} into a {a:?}: a key holds one CRDT kind")
}
