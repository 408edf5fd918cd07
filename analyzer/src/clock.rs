//! Vector clocks that cost what they hold: sparse while they have few entries, copy-on-write
//! chunks once they fill up.
//!
//! The engine keeps one implied clock per event, so a clock's size is the analysis's memory.
//! Two shapes of trace pull in opposite directions:
//!
//! * few replicas that all talk (16 phones syncing): every clock soon has every entry, and the
//!   clocks of consecutive events differ in one entry. A clock is then split into chunks of
//!   about √R entries, each behind an `Arc`: taking a snapshot copies the chunk pointers, a
//!   write copies one chunk, a join skips chunks that are the same allocation — a few hundred
//!   bytes per event even with thousands of replicas, where dense clocks (R × 8 bytes per event)
//!   could not fit;
//! * very many short-lived replicas (a browser tab, a Wasm actor, a million phones that each
//!   record one event): a clock has a handful of entries at replica numbers up to R. A chunked
//!   clock would hold R/√R chunk pointers for them (√R × 16 bytes per event: memory that grows
//!   faster than the trace), so such a clock is a sorted list of its non-zero entries instead,
//!   and becomes chunked only when the list would be larger than the chunk pointers.

use std::sync::Arc;

/// Entries a sparse clock keeps before it may turn chunked.
const SPARSE_MIN: usize = 8;

/// A vector clock indexed by replica number.
#[derive(Clone, Debug)]
pub struct Clock {
    repr: Repr,
    /// Chunks hold `1 << shift` entries.
    shift: u32,
    nnz: u32,
}

#[derive(Clone, Debug)]
enum Repr {
    /// The non-zero entries, ascending by replica.
    Sparse(Vec<(u32, u64)>),
    /// Chunk `c` holds the entries `c << shift ..`; entries past the last chunk are zero.
    Chunked(Vec<Arc<[u64]>>),
}

impl Clock {
    /// An empty clock that grows as entries are raised. Once chunked, chunks hold
    /// `1 << shift` entries.
    pub fn growable(shift: u32) -> Clock {
        Clock {
            repr: Repr::Sparse(Vec::new()),
            shift,
            nnz: 0,
        }
    }

    /// The entry of replica `i`.
    #[inline]
    pub fn get(&self, i: u32) -> u64 {
        match &self.repr {
            Repr::Sparse(v) => match v.binary_search_by_key(&i, |e| e.0) {
                Ok(k) => v[k].1,
                Err(_) => 0,
            },
            Repr::Chunked(chunks) => {
                let mask = (1u32 << self.shift) - 1;
                match chunks.get((i >> self.shift) as usize) {
                    Some(chunk) => chunk[(i & mask) as usize],
                    None => 0,
                }
            }
        }
    }

    /// Raises the entry of replica `i` to `v` (entries never decrease).
    #[inline]
    pub fn raise(&mut self, i: u32, v: u64) {
        if v == 0 {
            return;
        }
        match &mut self.repr {
            Repr::Sparse(list) => match list.binary_search_by_key(&i, |e| e.0) {
                Ok(k) => list[k].1 = list[k].1.max(v),
                Err(k) => {
                    list.insert(k, (i, v));
                    self.nnz += 1;
                    self.maybe_chunk();
                }
            },
            Repr::Chunked(chunks) => {
                let mask = (1u32 << self.shift) - 1;
                let c = (i >> self.shift) as usize;
                if c >= chunks.len() {
                    let zero: Arc<[u64]> = vec![0u64; 1 << self.shift].into();
                    chunks.resize(c + 1, zero);
                }
                let chunk = &mut chunks[c];
                let cur = chunk[(i & mask) as usize];
                if v > cur {
                    if cur == 0 {
                        self.nnz += 1;
                    }
                    Arc::make_mut(chunk)[(i & mask) as usize] = v;
                }
            }
        }
    }

    /// Turns a sparse clock chunked once its list costs more than the chunk pointers would.
    fn maybe_chunk(&mut self) {
        let Repr::Sparse(list) = &self.repr else {
            return;
        };
        let Some(&(last, _)) = list.last() else {
            return;
        };
        let chunks = (last >> self.shift) as usize + 1;
        if list.len() <= SPARSE_MIN.max(chunks) {
            return;
        }
        let size = 1usize << self.shift;
        let mut dense: Vec<Vec<u64>> = vec![Vec::new(); chunks];
        for &(i, v) in list {
            let chunk = &mut dense[(i >> self.shift) as usize];
            if chunk.is_empty() {
                chunk.resize(size, 0);
            }
            chunk[i as usize & (size - 1)] = v;
        }
        let zero: Arc<[u64]> = vec![0u64; size].into();
        self.repr = Repr::Chunked(
            dense
                .into_iter()
                .map(|c| if c.is_empty() { zero.clone() } else { c.into() })
                .collect(),
        );
    }

    /// Number of non-zero entries.
    #[inline]
    pub fn nnz(&self) -> u32 {
        self.nnz
    }

    /// Sets every entry to the maximum of both clocks.
    pub fn join(&mut self, other: &Clock) {
        match (&mut self.repr, &other.repr) {
            (_, Repr::Sparse(theirs)) => {
                for &(i, v) in theirs {
                    self.raise(i, v);
                }
            }
            (Repr::Sparse(mine), Repr::Chunked(_)) => {
                // Theirs is the larger clock: start from it, then add ours.
                let mine = std::mem::take(mine);
                self.repr = other.repr.clone();
                self.nnz = other.nnz;
                for (i, v) in mine {
                    self.raise(i, v);
                }
            }
            (Repr::Chunked(mine), Repr::Chunked(theirs)) => {
                let mut nnz = self.nnz;
                join_chunks(mine, theirs, &mut nnz);
                self.nnz = nnz;
            }
        }
    }

    /// Whether both clocks have the same entries (whatever their representation).
    pub fn same(&self, other: &Clock) -> bool {
        if self.nnz != other.nnz {
            return false;
        }
        match (&self.repr, &other.repr) {
            (Repr::Sparse(a), Repr::Sparse(b)) => a == b,
            (Repr::Chunked(a), Repr::Chunked(b)) if self.shift == other.shift => {
                let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                long.iter().enumerate().all(|(c, mine)| match short.get(c) {
                    Some(theirs) => Arc::ptr_eq(mine, theirs) || mine[..] == theirs[..],
                    None => mine.iter().all(|v| *v == 0),
                })
            }
            _ => self.entries().eq(other.entries()),
        }
    }

    /// The non-zero entries, in replica order.
    pub fn entries(&self) -> Box<dyn Iterator<Item = (u32, u64)> + '_> {
        match &self.repr {
            Repr::Sparse(list) => Box::new(list.iter().copied()),
            Repr::Chunked(chunks) => {
                let size = 1u32 << self.shift;
                Box::new(chunks.iter().enumerate().flat_map(move |(c, chunk)| {
                    chunk
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| **v != 0)
                        .map(move |(j, &v)| (c as u32 * size + j as u32, v))
                }))
            }
        }
    }

    /// Heap bytes this clock holds on its own (shared chunks counted whole: an upper bound).
    #[cfg(test)]
    fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Sparse(list) => list.capacity() * 16,
            Repr::Chunked(chunks) => {
                chunks.capacity() * 16 + chunks.iter().map(|c| c.len() * 8 + 16).sum::<usize>()
            }
        }
    }
}

/// Entrywise maximum of two chunked clocks into `mine`, sharing `theirs`' chunks where they
/// dominate.
fn join_chunks(mine: &mut Vec<Arc<[u64]>>, theirs: &[Arc<[u64]>], nnz: &mut u32) {
    if theirs.len() > mine.len() {
        for t in &theirs[mine.len()..] {
            *nnz += t.iter().filter(|v| **v != 0).count() as u32;
            mine.push(t.clone());
        }
    }
    for (m, t) in mine.iter_mut().zip(theirs) {
        if Arc::ptr_eq(m, t) {
            continue;
        }
        let Some(first) = m.iter().zip(t.iter()).position(|(a, b)| b > a) else {
            continue;
        };
        if m.iter().zip(t.iter()).all(|(a, b)| b >= a) {
            // Theirs dominates: share their chunk instead of copying into ours.
            *nnz += t
                .iter()
                .zip(m.iter())
                .filter(|(b, a)| **a == 0 && **b != 0)
                .count() as u32;
            *m = t.clone();
            continue;
        }
        let w = Arc::make_mut(m);
        for (a, &b) in w[first..].iter_mut().zip(&t[first..]) {
            if b > *a {
                if *a == 0 {
                    *nnz += 1;
                }
                *a = b;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn join_is_pointwise_max_and_counts_non_zero_entries() {
        let mut a = Clock::growable(3);
        let mut b = Clock::growable(3);
        a.raise(3, 5);
        a.raise(70, 1);
        b.raise(3, 2);
        b.raise(99, 7);
        let snapshot = a.clone();
        a.join(&b);
        assert_eq!((a.get(3), a.get(70), a.get(99), a.nnz()), (5, 1, 7, 3));
        assert_eq!(
            snapshot.get(99),
            0,
            "snapshots are unaffected by later writes"
        );
        let mut c = Clock::growable(3);
        c.join(&a);
        assert_eq!(
            c.entries().collect::<Vec<_>>(),
            vec![(3, 5), (70, 1), (99, 7)]
        );
        assert_eq!(c.nnz(), 3);
    }

    #[test]
    fn a_clock_with_few_entries_at_high_replica_numbers_stays_small() {
        let mut a = Clock::growable(10);
        a.raise(999_999, 1);
        a.raise(500_000, 3);
        assert!(a.heap_bytes() <= 64, "{} bytes", a.heap_bytes());
        let mut full = Clock::growable(3);
        for i in 0..64 {
            full.raise(i, 1);
        }
        assert!(matches!(full.repr, Repr::Chunked(_)));
    }

    proptest! {
        /// Any sequence of raises and joins, on clocks of either representation, gives the
        /// entries a plain map gives.
        #[test]
        fn clocks_agree_with_a_map(
            shift in 1u32..5,
            ops in prop::collection::vec((0usize..3, 0usize..3, 0u32..200, 0u64..50, any::<bool>()), 1..200),
        ) {
            let mut clocks: Vec<Clock> = (0..3).map(|_| Clock::growable(shift)).collect();
            let mut maps: Vec<std::collections::BTreeMap<u32, u64>> = vec![Default::default(); 3];
            for (x, y, i, v, join) in ops {
                if join {
                    let other = clocks[y].clone();
                    clocks[x].join(&other);
                    let other = maps[y].clone();
                    for (k, w) in other {
                        let e = maps[x].entry(k).or_insert(0);
                        *e = (*e).max(w);
                    }
                } else {
                    clocks[x].raise(i, v);
                    if v > 0 {
                        let e = maps[x].entry(i).or_insert(0);
                        *e = (*e).max(v);
                    }
                }
                for k in 0..3 {
                    let want: Vec<(u32, u64)> = maps[k].iter().map(|(&a, &b)| (a, b)).collect();
                    prop_assert_eq!(clocks[k].entries().collect::<Vec<_>>(), want.clone());
                    prop_assert_eq!(clocks[k].nnz() as usize, want.len());
                    for &(a, b) in &want {
                        prop_assert_eq!(clocks[k].get(a), b);
                    }
                    let mut rebuilt = Clock::growable(shift);
                    for &(a, b) in &want {
                        rebuilt.raise(a, b);
                    }
                    prop_assert!(rebuilt.same(&clocks[k]) && clocks[k].same(&rebuilt));
                }
            }
        }
    }
}
