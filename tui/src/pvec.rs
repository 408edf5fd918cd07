//! Persistent chunked vectors: the per-event arrays of a [`crate::model::Model`], cheap to
//! snapshot.
//!
//! A live model is changed by the worker thread while the UI shows an earlier snapshot of it.
//! Each array is cut into fixed-size chunks behind [`Arc`]s: a snapshot clones the list of chunk
//! pointers (one pointer per chunk, not per element), and a change copies only the chunk it
//! touches, and only when a snapshot still shares it. So publishing a model costs O(n / chunk),
//! and an update costs its own changes plus one chunk copy per chunk it touches.

use std::ops::{Index, Range};
use std::sync::Arc;

/// A vector of `T` in chunks of `1 << S` elements, each shared between snapshots until changed.
#[derive(Debug)]
pub struct PVec<T, const S: u32 = 12> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T, const S: u32> Clone for PVec<T, S> {
    fn clone(&self) -> Self {
        PVec {
            chunks: self.chunks.clone(),
            len: self.len,
        }
    }
}

impl<T, const S: u32> Default for PVec<T, S> {
    fn default() -> Self {
        PVec {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone + PartialEq, const S: u32> PartialEq for PVec<T, S> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Clone, const S: u32> PVec<T, S> {
    const CHUNK: usize = 1 << S;
    const MASK: usize = (1 << S) - 1;

    /// An empty vector.
    pub fn new() -> Self {
        Self::default()
    }

    /// The elements of `v`, chunked.
    pub fn from_vec(v: Vec<T>) -> Self {
        let len = v.len();
        let mut chunks = Vec::with_capacity(len.div_ceil(Self::CHUNK));
        let mut it = v.into_iter();
        loop {
            let chunk: Vec<T> = it.by_ref().take(Self::CHUNK).collect();
            if chunk.is_empty() {
                break;
            }
            chunks.push(Arc::new(chunk));
        }
        PVec { chunks, len }
    }

    /// `len` copies of `value`.
    pub fn filled(value: T, len: usize) -> Self {
        Self::from_vec(vec![value; len])
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True without elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The element at `i`, if any.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&T> {
        (i < self.len).then(|| &self.chunks[i >> S][i & Self::MASK])
    }

    /// The element at `i`, to change: its chunk is copied first if a snapshot shares it.
    #[inline]
    pub fn get_mut(&mut self, i: usize) -> &mut T {
        assert!(i < self.len, "index {i} out of {}", self.len);
        &mut Arc::make_mut(&mut self.chunks[i >> S])[i & Self::MASK]
    }

    /// Sets the element at `i`.
    #[inline]
    pub fn set(&mut self, i: usize, value: T) {
        *self.get_mut(i) = value;
    }

    /// Appends an element.
    pub fn push(&mut self, value: T) {
        if self.len & Self::MASK == 0 {
            self.chunks.push(Arc::new(Vec::with_capacity(Self::CHUNK)));
        }
        let last = self.chunks.last_mut().expect("a chunk with room");
        let chunk = Arc::make_mut(last);
        if chunk.capacity() < Self::CHUNK {
            chunk.reserve_exact(Self::CHUNK - chunk.len());
        }
        chunk.push(value);
        self.len += 1;
    }

    /// Removes the last element.
    pub fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        let last = self.chunks.last_mut().expect("not empty");
        let value = Arc::make_mut(last).pop();
        if self.len & Self::MASK == 0 {
            self.chunks.pop();
        }
        value
    }

    /// Inserts `value` at `i`, moving the elements from `i` on one place up: O(len - i).
    pub fn insert(&mut self, i: usize, value: T) {
        assert!(i <= self.len, "insert at {i} past {}", self.len);
        if i == self.len {
            self.push(value);
            return;
        }
        let last = self[self.len - 1].clone();
        self.push(last);
        // Chunk by chunk from the end: each chunk's elements move up one place, its first one
        // taking the previous chunk's last.
        let mut k = self.len - 1;
        while k > i {
            let chunk = k >> S;
            let start = (chunk << S).max(i + 1);
            let carry = self[start - 1].clone();
            let c = Arc::make_mut(&mut self.chunks[chunk]);
            let (lo, hi) = (start & Self::MASK, k & Self::MASK);
            c[lo..=hi].rotate_right(1);
            c[lo] = carry;
            k = start - 1;
        }
        self.set(i, value);
    }

    /// The elements in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    /// The elements at `range`, in order.
    pub fn range(&self, range: Range<usize>) -> impl DoubleEndedIterator<Item = &T> + '_ {
        let end = range.end.min(self.len);
        let start = range.start.min(end);
        (start..end).map(move |i| &self[i])
    }

    /// The first index in `lo..hi` whose element `pred` rejects, for a `pred` that accepts a
    /// prefix of that range (as [`slice::partition_point`]).
    pub fn partition_point(&self, lo: usize, hi: usize, pred: impl Fn(&T) -> bool) -> usize {
        let (mut lo, mut hi) = (lo, hi.min(self.len));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(&self[mid]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The elements as one vector (for tests and whole rebuilds).
    pub fn to_vec(&self) -> Vec<T> {
        self.iter().cloned().collect()
    }
}

impl<T, const S: u32> Index<usize> for PVec<T, S> {
    type Output = T;

    #[inline]
    fn index(&self, i: usize) -> &T {
        assert!(i < self.len, "index {i} out of {}", self.len);
        &self.chunks[i >> S][i & ((1 << S) - 1)]
    }
}

/// Per node, a list of nodes (an adjacency list), in chunks of `1 << 10` nodes, each chunk in
/// compressed sparse rows, shared between snapshots until changed.
#[derive(Clone, Debug, Default)]
pub struct Adj {
    chunks: Vec<Arc<AdjChunk>>,
    len: usize,
}

#[derive(Clone, Debug, Default)]
struct AdjChunk {
    /// Where each node's list starts in `to`, plus the end.
    start: Vec<u32>,
    to: Vec<u32>,
}

const ADJ_SHIFT: u32 = 10;
const ADJ_MASK: usize = (1 << ADJ_SHIFT) - 1;

impl Adj {
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True without nodes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The list of node `n`.
    #[inline]
    pub fn get(&self, n: u32) -> &[u32] {
        let n = n as usize;
        assert!(n < self.len, "node {n} out of {}", self.len);
        let c = &self.chunks[n >> ADJ_SHIFT];
        let k = n & ADJ_MASK;
        &c.to[c.start[k] as usize..c.start[k + 1] as usize]
    }

    /// Appends a node with list `list`.
    pub fn push(&mut self, list: &[u32]) {
        if self.len & ADJ_MASK == 0 {
            self.chunks.push(Arc::new(AdjChunk {
                start: vec![0],
                to: Vec::new(),
            }));
        }
        let c = Arc::make_mut(self.chunks.last_mut().expect("a chunk with room"));
        c.to.extend_from_slice(list);
        c.start.push(c.to.len() as u32);
        self.len += 1;
    }

    /// Replaces the list of node `n`: O(edges of its chunk).
    pub fn set(&mut self, n: u32, list: &[u32]) {
        let n = n as usize;
        assert!(n < self.len, "node {n} out of {}", self.len);
        let c = Arc::make_mut(&mut self.chunks[n >> ADJ_SHIFT]);
        let k = n & ADJ_MASK;
        let (a, b) = (c.start[k] as usize, c.start[k + 1] as usize);
        c.to.splice(a..b, list.iter().copied());
        let delta = list.len() as i64 - (b - a) as i64;
        if delta != 0 {
            for s in &mut c.start[k + 1..] {
                *s = (*s as i64 + delta) as u32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_and_sets_match_a_vec_and_leave_snapshots_alone() {
        let mut p: PVec<u32, 2> = PVec::new();
        let mut v: Vec<u32> = Vec::new();
        let mut snapshots: Vec<(PVec<u32, 2>, Vec<u32>)> = Vec::new();
        let mut x = 7u32;
        for step in 0..400u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            match x % 5 {
                0 | 1 => {
                    p.push(step);
                    v.push(step);
                }
                2 if !v.is_empty() => {
                    let i = (x as usize / 7) % (v.len() + 1);
                    p.insert(i, step);
                    v.insert(i, step);
                }
                3 if !v.is_empty() => {
                    let i = (x as usize / 7) % v.len();
                    p.set(i, step + 1000);
                    v[i] = step + 1000;
                }
                4 if !v.is_empty() && x.is_multiple_of(3) => {
                    assert_eq!(p.pop(), v.pop());
                }
                _ => {}
            }
            assert_eq!(p.len(), v.len());
            assert_eq!(p.to_vec(), v);
            if step % 50 == 0 {
                snapshots.push((p.clone(), v.clone()));
            }
        }
        for (s, v) in snapshots {
            assert_eq!(s.to_vec(), v, "a snapshot never changes");
        }
        let sorted: PVec<u32> = PVec::from_vec((0..10_000).map(|i| i * 2).collect());
        assert_eq!(sorted.partition_point(0, 10_000, |&e| e < 501), 251);
        assert_eq!(sorted.partition_point(100, 200, |&e| e < 200), 100);
        assert_eq!(sorted.partition_point(100, 200, |&e| e < 1_000), 200);
    }

    #[test]
    fn adjacency_lists_replace_in_place() {
        let mut a = Adj::default();
        let mut lists: Vec<Vec<u32>> = Vec::new();
        for n in 0..3000u32 {
            let l: Vec<u32> = (0..n % 4).map(|k| n * 10 + k).collect();
            a.push(&l);
            lists.push(l);
        }
        let before = a.clone();
        for n in (0..3000u32).step_by(7) {
            let l: Vec<u32> = (0..(n % 5)).map(|k| k + 1).collect();
            a.set(n, &l);
            lists[n as usize] = l;
        }
        for n in 0..3000u32 {
            assert_eq!(a.get(n), &lists[n as usize][..]);
        }
        assert_eq!(
            before.get(7),
            &[70, 71, 72][..],
            "the snapshot kept its lists"
        );
        assert_eq!(a.get(7), &[1, 2][..]);
    }
}
