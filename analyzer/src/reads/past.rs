//! The writes a read has seen, found without looking at each: per chain a prefix (one binary
//! search), its maximal writes, and the first write of the past that has seen a given one.
//! Separate from the verdicts, which only ask these questions.

use super::{partition_point, Ctx, Seen};

impl<S: Seen> Ctx<'_, S> {
    /// The prefix lengths of the chains in the causal past of read `r`.
    pub(super) fn past(&self, r: u32) -> Vec<usize> {
        let mut upto = Vec::with_capacity(self.reps.len());
        self.seen.seen_all(r, &self.reps, &mut upto);
        (0..self.reps.len())
            .map(|c| {
                let seqs = &self.seqs[self.starts[c]..self.starts[c + 1]];
                seqs.partition_point(|&s| s <= upto[c])
            })
            .collect()
    }

    pub(super) fn in_past(&self, p: &[usize], i: usize) -> bool {
        let c = self.chain_of[i] as usize;
        i - self.starts[c] < p[c]
    }

    /// The last write of chain `c` in the past, if any.
    pub(super) fn last(&self, p: &[usize], c: usize) -> Option<usize> {
        (p[c] > 0).then(|| self.starts[c] + p[c] - 1)
    }

    /// Whether write `i`, the last of its chain in the past, is maximal there: no other
    /// chain's last write in the past has seen it.
    pub(super) fn maximal(&self, p: &[usize], i: usize) -> bool {
        let own = self.chain_of[i] as usize;
        let (rep, seq) = (self.reps[own], self.seqs[i]);
        (0..self.reps.len()).all(|c| {
            c == own
                || self
                    .last(p, c)
                    .is_none_or(|l| self.seen.seen(self.nodes[l], rep) < seq)
        })
    }

    /// The maximal writes of the past (`M`), ascending.
    pub(super) fn maxima(&self, p: &[usize]) -> Vec<usize> {
        (0..self.reps.len())
            .filter_map(|c| self.last(p, c))
            .filter(|&i| self.maximal(p, i))
            .collect()
    }

    /// The smallest write of the past that write `a` happens before, among the writes of
    /// `candidates` (ascending) or, when `None`, among all: per chain, the first one that has
    /// seen `a` (clocks grow along a chain, so a bisection); the first chain with one has the
    /// smallest.
    pub(super) fn first_after(
        &self,
        p: &[usize],
        a: usize,
        candidates: Option<&[usize]>,
    ) -> Option<usize> {
        let (rep, seq) = (self.reps[self.chain_of[a] as usize], self.seqs[a]);
        let after = |i: usize| i != a && self.seen.seen(self.nodes[i], rep) >= seq;
        let Some(candidates) = candidates else {
            return (0..self.reps.len()).find_map(|c| {
                let run = self.starts[c]..self.starts[c] + p[c];
                let k = partition_point(run.len(), |j| !after(run.start + j));
                (k < run.len()).then(|| run.start + k)
            });
        };
        self.by_chain(p, candidates)
            .find_map(|group| group.get(group.partition_point(|&i| !after(i))).copied())
    }

    /// `writes` (ascending) cut into runs of one chain each, in chain order, each run cut to
    /// its writes in the past `p` (possibly empty).
    pub(super) fn by_chain<'s, 'w: 's>(
        &'s self,
        p: &'s [usize],
        writes: &'w [usize],
    ) -> impl Iterator<Item = &'w [usize]> + 's {
        let mut rest = writes;
        std::iter::from_fn(move || {
            let &first = rest.first()?;
            let c = self.chain_of[first] as usize;
            let run = rest.partition_point(|&i| self.chain_of[i] as usize == c);
            let (group, tail) = rest.split_at(run);
            rest = tail;
            Some(&group[..group.partition_point(|&i| i - self.starts[c] < p[c])])
        })
    }
}
