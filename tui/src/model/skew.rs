//! Clock skew: each replica's estimated wall-clock offset against its peers, from the delays of
//! the messages it sends and receives, computed whole for a recorded trace and kept as running
//! medians by a grown one.

use std::collections::BinaryHeap;

use weft_trace::Kind;

use super::Model;

impl Model {
    /// The skew of every lane, from every message edge (see [`Skew`]).
    pub(super) fn skew_from_scratch(&self) -> Vec<Option<(i64, u32)>> {
        let lanes = self.graph.lanes() as usize;
        let mut incoming: Vec<Vec<i64>> = vec![Vec::new(); lanes];
        let mut outgoing: Vec<Vec<i64>> = vec![Vec::new(); lanes];
        for n in 0..self.len() as u32 {
            for &p in self.graph.cross_preds(n) {
                if let Some(d) = self.message_delay(p, n) {
                    incoming[self.lane(n) as usize].push(d);
                    outgoing[self.lane(p) as usize].push(d);
                }
            }
        }
        let med = |v: &mut Vec<i64>| {
            let k = v.len() / 2;
            (!v.is_empty()).then(|| *v.select_nth_unstable(k).1)
        };
        incoming
            .iter_mut()
            .zip(outgoing.iter_mut())
            .map(|(i, o)| {
                let samples = (i.len() + o.len()) as u32;
                skew_of(med(i), med(o), samples)
            })
            .collect()
    }

    /// The wall-clock delay of cross edge `p → n` when it is a message (a `send` before a
    /// `recv` of its message) and both carry a wall clock.
    pub(crate) fn message_delay(&self, p: u32, n: u32) -> Option<i64> {
        let (ep, en) = (self.event(p), self.event(n));
        if en.kind != Kind::Recv || ep.kind != Kind::Send || ep.msg != en.msg {
            return None;
        }
        Some(en.wall_ns()?.saturating_sub(ep.wall_ns()?))
    }
}

/// NTP-style offset estimate of a replica: half the difference between the median wall-clock
/// delay of messages it receives and of messages it sends. With symmetric latency this is its
/// clock's offset from its peers'. (The median of k samples is the one at sorted index k / 2.)
pub(crate) fn skew_of(
    incoming: Option<i64>,
    outgoing: Option<i64>,
    samples: u32,
) -> Option<(i64, u32)> {
    let (i, o) = (incoming?, outgoing?);
    Some(((i / 2).saturating_sub(o / 2), samples))
}

/// A running median of a growing multiset: the element at sorted index `len / 2`, in O(log len)
/// per insertion.
#[derive(Clone, Debug, Default)]
pub(crate) struct Median {
    /// The smallest `len / 2` samples.
    low: BinaryHeap<i64>,
    /// The others.
    high: BinaryHeap<std::cmp::Reverse<i64>>,
}

impl Median {
    pub(crate) fn insert(&mut self, x: i64) {
        match self.high.peek() {
            Some(&std::cmp::Reverse(m)) if x < m => self.low.push(x),
            _ => self.high.push(std::cmp::Reverse(x)),
        }
        let half = self.len() / 2;
        while self.low.len() > half {
            let v = self.low.pop().expect("not empty");
            self.high.push(std::cmp::Reverse(v));
        }
        while self.low.len() < half {
            let std::cmp::Reverse(v) = self.high.pop().expect("not empty");
            self.low.push(v);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.low.len() + self.high.len()
    }

    pub(crate) fn get(&self) -> Option<i64> {
        self.high.peek().map(|r| r.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_median_is_the_sorted_middle() {
        let mut m = Median::default();
        let mut all: Vec<i64> = Vec::new();
        let mut x = 3i64;
        for _ in 0..500 {
            x = (x * 7919 + 13) % 1009 - 500;
            m.insert(x);
            all.push(x);
            let mut s = all.clone();
            let k = s.len() / 2;
            assert_eq!(m.get(), Some(*s.select_nth_unstable(k).1));
        }
    }
}
