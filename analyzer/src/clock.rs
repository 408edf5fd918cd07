//! Copy-on-write chunked vector clocks.
//!
//! A clock over `R` replicas is split into chunks of about √R entries, each behind an `Arc`.
//! Taking a snapshot copies only the chunk pointers; writing to a shared chunk copies that one
//! chunk. Joining two clocks skips chunks that are the same allocation. So the clocks of
//! consecutive events of a replica share almost everything, and keeping one clock per write (for
//! conflict detection) costs a few hundred bytes even with thousands of replicas — the dense
//! alternative (R × 8 bytes per event) is what the spec warns cannot fit.

use std::sync::Arc;

/// A vector clock indexed by replica rank (replica names in sorted order).
#[derive(Clone, Debug)]
pub struct Clock {
    chunks: Vec<Arc<[u64]>>,
    shift: u32,
    nnz: u32,
}

/// Chooses the chunk geometry for `replicas` entries and hands out empty clocks that share one
/// zero chunk.
#[derive(Clone, Debug)]
pub struct ClockShape {
    shift: u32,
    count: usize,
    zero: Arc<[u64]>,
}

impl ClockShape {
    /// The shape for clocks over `replicas` replicas.
    pub fn new(replicas: usize) -> Self {
        let root = (replicas as f64).sqrt().ceil() as usize;
        let size = root.next_power_of_two().max(8);
        let shift = size.trailing_zeros();
        let count = replicas.div_ceil(size).max(1);
        ClockShape {
            shift,
            count,
            zero: vec![0u64; size].into(),
        }
    }

    /// An all-zero clock.
    pub fn zero(&self) -> Clock {
        Clock {
            chunks: vec![self.zero.clone(); self.count],
            shift: self.shift,
            nnz: 0,
        }
    }
}

impl Clock {
    /// An empty clock that grows as entries are raised: for analyses that do not know the
    /// number of replicas in advance. Chunks hold `1 << shift` entries.
    pub fn growable(shift: u32) -> Clock {
        Clock {
            chunks: Vec::new(),
            shift,
            nnz: 0,
        }
    }

    /// The entry of replica `i`.
    #[inline]
    pub fn get(&self, i: u32) -> u64 {
        let mask = (1u32 << self.shift) - 1;
        match self.chunks.get((i >> self.shift) as usize) {
            Some(chunk) => chunk[(i & mask) as usize],
            None => 0,
        }
    }

    /// Raises the entry of replica `i` to `v` (entries never decrease).
    #[inline]
    pub fn raise(&mut self, i: u32, v: u64) {
        let mask = (1u32 << self.shift) - 1;
        let c = (i >> self.shift) as usize;
        if c >= self.chunks.len() {
            if v == 0 {
                return;
            }
            let zero: Arc<[u64]> = vec![0u64; 1 << self.shift].into();
            self.chunks.resize(c + 1, zero);
        }
        let chunk = &mut self.chunks[c];
        let cur = chunk[(i & mask) as usize];
        if v > cur {
            if cur == 0 {
                self.nnz += 1;
            }
            Arc::make_mut(chunk)[(i & mask) as usize] = v;
        }
    }

    /// Number of non-zero entries.
    #[inline]
    pub fn nnz(&self) -> u32 {
        self.nnz
    }

    /// Sets every entry to the maximum of both clocks.
    pub fn join(&mut self, other: &Clock) {
        if other.chunks.len() > self.chunks.len() {
            // Only growable clocks differ in length: take their extra chunks as they are.
            for theirs in &other.chunks[self.chunks.len()..] {
                self.nnz += theirs.iter().filter(|v| **v != 0).count() as u32;
                self.chunks.push(theirs.clone());
            }
        }
        for (mine, theirs) in self.chunks.iter_mut().zip(&other.chunks) {
            if Arc::ptr_eq(mine, theirs) {
                continue;
            }
            let Some(first) = mine.iter().zip(theirs.iter()).position(|(a, b)| b > a) else {
                continue;
            };
            if mine.iter().zip(theirs.iter()).all(|(a, b)| b >= a) {
                // Theirs dominates: share their chunk instead of copying into ours.
                self.nnz += theirs
                    .iter()
                    .zip(mine.iter())
                    .filter(|(b, a)| **a == 0 && **b != 0)
                    .count() as u32;
                *mine = theirs.clone();
                continue;
            }
            let m = Arc::make_mut(mine);
            for (a, &b) in m[first..].iter_mut().zip(&theirs[first..]) {
                if b > *a {
                    if *a == 0 {
                        self.nnz += 1;
                    }
                    *a = b;
                }
            }
        }
    }

    /// Whether both clocks have the same entries (whatever their chunking).
    pub fn same(&self, other: &Clock) -> bool {
        if self.nnz != other.nnz {
            return false;
        }
        let (long, short) = if self.chunks.len() >= other.chunks.len() {
            (self, other)
        } else {
            (other, self)
        };
        long.chunks
            .iter()
            .enumerate()
            .all(|(c, mine)| match short.chunks.get(c) {
                Some(theirs) => Arc::ptr_eq(mine, theirs) || mine[..] == theirs[..],
                None => mine.iter().all(|v| *v == 0),
            })
    }

    /// The non-zero entries, in replica order.
    pub fn entries(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        let size = 1u32 << self.shift;
        self.chunks.iter().enumerate().flat_map(move |(c, chunk)| {
            chunk
                .iter()
                .enumerate()
                .filter(|(_, v)| **v != 0)
                .map(move |(j, &v)| (c as u32 * size + j as u32, v))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_is_pointwise_max_and_counts_non_zero_entries() {
        let shape = ClockShape::new(100);
        let mut a = shape.zero();
        let mut b = shape.zero();
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
        let mut c = shape.zero();
        c.join(&a);
        assert_eq!(
            c.entries().collect::<Vec<_>>(),
            vec![(3, 5), (70, 1), (99, 7)]
        );
        assert_eq!(c.nnz(), 3);
    }
}
