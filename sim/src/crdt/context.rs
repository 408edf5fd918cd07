//! Causal contexts: the version vector [`Vv`] and the causal join of dot-tagged entries that
//! the MV register and the OR-Set share.

use std::cmp::Ordering;

use super::{Digest, Dot, ReplicaIdx};

/// A version vector: sorted `(replica, counter)` pairs, zero counters omitted. As a causal
/// context it stands for every dot `(r, c)` with `c <= self.get(r)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Vv {
    pub(super) e: Vec<(ReplicaIdx, u64)>,
}

impl Vv {
    pub const fn new() -> Self {
        Vv { e: Vec::new() }
    }

    /// The smallest version vector covering `dots`.
    pub fn from_dots(dots: impl IntoIterator<Item = Dot>) -> Self {
        let mut v = Vv::new();
        for d in dots {
            v.add_dot(d);
        }
        v
    }

    /// The sorted `(replica, counter)` entries (no zero counters).
    pub fn entries(&self) -> &[(ReplicaIdx, u64)] {
        &self.e
    }

    pub fn is_empty(&self) -> bool {
        self.e.is_empty()
    }

    /// The counter for `replica` (0 if absent).
    #[inline]
    pub fn get(&self, replica: ReplicaIdx) -> u64 {
        match self.e.binary_search_by_key(&replica, |x| x.0) {
            Ok(i) => self.e[i].1,
            Err(_) => 0,
        }
    }

    /// Whether the context has seen `dot`.
    #[inline]
    pub fn covers(&self, dot: Dot) -> bool {
        dot.counter <= self.get(dot.replica)
    }

    /// Raises the entry of `replica` to at least `counter`; returns whether it changed.
    pub fn bump(&mut self, replica: ReplicaIdx, counter: u64) -> bool {
        if counter == 0 {
            return false;
        }
        match self.e.binary_search_by_key(&replica, |x| x.0) {
            Ok(i) => {
                if self.e[i].1 < counter {
                    self.e[i].1 = counter;
                    true
                } else {
                    false
                }
            }
            Err(i) => {
                self.e.insert(i, (replica, counter));
                true
            }
        }
    }

    /// Adds `dot` to the context (raises its replica's entry); returns whether it changed.
    #[inline]
    pub fn add_dot(&mut self, dot: Dot) -> bool {
        self.bump(dot.replica, dot.counter)
    }

    /// Whether `self <= other` pointwise.
    pub fn leq(&self, other: &Vv) -> bool {
        !other.would_grow_by(self)
    }

    /// Whether joining `other` into `self` would change `self`.
    fn would_grow_by(&self, other: &Vv) -> bool {
        let a = &self.e;
        let mut i = 0;
        for &(r, c) in &other.e {
            while i < a.len() && a[i].0 < r {
                i += 1;
            }
            if i == a.len() || a[i].0 != r || a[i].1 < c {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Pointwise max; returns whether `self` changed. Allocation-free unless `other` has
    /// replicas `self` lacks.
    pub fn join(&mut self, other: &Vv) -> bool {
        let mut changed = false;
        let mut missing = false;
        let a = &mut self.e;
        let mut i = 0;
        for &(r, c) in &other.e {
            while i < a.len() && a[i].0 < r {
                i += 1;
            }
            if i < a.len() && a[i].0 == r {
                if a[i].1 < c {
                    a[i].1 = c;
                    changed = true;
                }
                i += 1;
            } else {
                missing = true;
            }
        }
        if missing {
            for &(r, c) in &other.e {
                if let Err(i) = a.binary_search_by_key(&r, |x| x.0) {
                    a.insert(i, (r, c));
                }
            }
            changed = true;
        }
        changed
    }

    pub fn digest(&self, h: &mut Digest) {
        h.write_u64(self.e.len() as u64);
        for &(r, c) in &self.e {
            h.write_u64(r as u64);
            h.write_u64(c);
        }
    }

    /// 2-byte count, 4 + 8 bytes per entry.
    #[inline]
    pub fn wire_len(&self) -> usize {
        2 + 12 * self.e.len()
    }

    #[cfg(test)]
    pub(super) fn assert_invariants(&self) {
        assert!(
            self.e.windows(2).all(|w| w[0].0 < w[1].0),
            "vv not strictly sorted: {self:?}"
        );
        assert!(
            self.e.iter().all(|x| x.1 > 0),
            "vv has a zero entry: {self:?}"
        );
    }
}

/// Which of the next entries of two dot-sorted lists comes first in a merge (`Less`: `a`'s;
/// the list that has run out comes last); `None` when both have.
#[inline]
fn merge_order<T>(a: Option<&T>, b: Option<&T>, dot: impl Fn(&T) -> Dot) -> Option<Ordering> {
    Some(match (a, b) {
        (Some(a), Some(b)) => dot(a).cmp(&dot(b)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => return None,
    })
}

/// Joins `(mine, my_ctx)` with `(theirs, their_ctx)`: an entry survives if both sides have it,
/// or if the other side's context has not seen its dot. `mine`/`theirs` are sorted by `dot`
/// with unique dots. Returns whether anything changed; allocates only if the entries change.
pub(super) fn causal_join<T: Clone + Ord>(
    mine: &mut Vec<T>,
    my_ctx: &mut Vv,
    theirs: &[T],
    their_ctx: &Vv,
    dot: impl Fn(&T) -> Dot,
) -> bool {
    // Pass 1: would the entries change?
    let mut entries_change = false;
    {
        let (mut i, mut j) = (0, 0);
        while let Some(ord) = merge_order(mine.get(i), theirs.get(j), &dot) {
            match ord {
                Ordering::Less => {
                    if their_ctx.covers(dot(&mine[i])) {
                        entries_change = true;
                        break;
                    }
                    i += 1;
                }
                Ordering::Greater => {
                    if !my_ctx.covers(dot(&theirs[j])) {
                        entries_change = true;
                        break;
                    }
                    j += 1;
                }
                Ordering::Equal => {
                    // Same dot means same write; if payloads ever differ, the larger wins so
                    // that the join stays commutative.
                    if theirs[j] > mine[i] {
                        entries_change = true;
                        break;
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
    }
    // Pass 2: rebuild.
    if entries_change {
        let old = std::mem::take(mine);
        let mut out = Vec::with_capacity(old.len() + theirs.len());
        let mut a_it = old.into_iter().peekable();
        let mut j = 0;
        while let Some(ord) = merge_order(a_it.peek(), theirs.get(j), &dot) {
            match ord {
                Ordering::Less => {
                    let a = a_it.next().expect("peeked");
                    if !their_ctx.covers(dot(&a)) {
                        out.push(a);
                    }
                }
                Ordering::Greater => {
                    let b = &theirs[j];
                    if !my_ctx.covers(dot(b)) {
                        out.push(b.clone());
                    }
                    j += 1;
                }
                Ordering::Equal => {
                    let a = a_it.next().expect("peeked");
                    let b = &theirs[j];
                    out.push(if *b > a { b.clone() } else { a });
                    j += 1;
                }
            }
        }
        *mine = out;
    }
    let ctx_change = my_ctx.join(their_ctx);
    entries_change || ctx_change
}
