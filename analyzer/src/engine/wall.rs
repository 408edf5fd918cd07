//! `wall-clock-inversion`: per ordered pair of replicas, the cross-replica edges whose receiver
//! is earlier by wall clock than its predecessor; the finding names the worst and counts them.
//! Edges come and go as nodes' predecessors are recomputed; a pair's finding is rebuilt only
//! when its edges changed.

use std::cmp::Reverse;

use rustc_hash::{FxHashMap, FxHashSet};
use weft_trace::{Sym, Trace};

use crate::finding::{self, Finding};

#[derive(Default)]
pub(super) struct Wall {
    /// (replica of a, replica of b) → inverted edges (a, b) → how much earlier b is, in ns.
    pairs: FxHashMap<(Sym, Sym), FxHashMap<(u32, u32), u128>>,
    /// The finding of each pair with inverted edges, as of its last change.
    cached: FxHashMap<(Sym, Sym), Finding>,
    dirty: FxHashSet<(Sym, Sym)>,
}

/// The inversion of edge `a → b`, when it is cross-replica and inverted.
fn inversion(trace: &Trace, a: u32, b: u32) -> Option<((Sym, Sym), u128)> {
    let (ea, eb) = (&trace.events()[a as usize], &trace.events()[b as usize]);
    if ea.replica == eb.replica {
        return None;
    }
    let (wa, wb) = (ea.wall_ns()?, eb.wall_ns()?);
    (wb < wa).then(|| {
        (
            (ea.replica, eb.replica),
            (i128::from(wa) - i128::from(wb)) as u128,
        )
    })
}

impl Wall {
    /// Node `b`'s cross predecessors changed from `old` to `new`.
    pub fn replace(&mut self, trace: &Trace, b: u32, old: &[u32], new: &[u32]) {
        for &a in old {
            if let Some((pair, _)) = inversion(trace, a, b) {
                if let Some(edges) = self.pairs.get_mut(&pair) {
                    if edges.remove(&(a, b)).is_some() {
                        self.dirty.insert(pair);
                    }
                }
            }
        }
        for &a in new {
            if let Some((pair, inv)) = inversion(trace, a, b) {
                self.pairs.entry(pair).or_default().insert((a, b), inv);
                self.dirty.insert(pair);
            }
        }
    }

    /// Every pair's finding (rebuilding those whose edges changed).
    pub fn findings<'a>(&'a mut self, trace: &Trace) -> impl Iterator<Item = Finding> + 'a {
        for pair in std::mem::take(&mut self.dirty) {
            let edges = self.pairs.get(&pair).filter(|e| !e.is_empty());
            let Some(edges) = edges else {
                self.pairs.remove(&pair);
                self.cached.remove(&pair);
                continue;
            };
            // The worst: largest inversion, then the earliest b, then the earliest a (ids).
            let ((a, b), inv) = edges
                .iter()
                .map(|(&(a, b), &inv)| ((a, b), inv))
                .max_by_key(|&((a, b), inv)| {
                    (
                        inv,
                        Reverse(trace.id(b as usize)),
                        Reverse(trace.id(a as usize)),
                    )
                })
                .expect("not empty");
            let f = finding::wall_clock_inversion(
                b,
                &trace.id(b as usize),
                &trace.id(a as usize),
                inv,
                edges.len() as u64,
            );
            self.cached.insert(pair, f);
        }
        self.cached.values().cloned()
    }
}
