//! [`OrSet`]: the add-wins observed-remove set, a causal CRDT with one compressed context per
//! element (the module docs of [`crate::crdt`] say why per element).

use std::cmp::Ordering;

use super::context::causal_join;
use super::{Digest, Dot, Val, Vv};

/// One element of an [`OrSet`]: its live add-dots and its own causal context. No dots = absent
/// (a tombstone keeping the context).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct OrElem {
    elem: Val,
    dots: Vec<Dot>,
    ctx: Vv,
}

/// Add-wins observed-remove set. Elements sorted; each has its live dots (sorted) and its own
/// compressed causal context (see the module docs for why per element). A remove only removes
/// the adds it has seen, so a concurrent add survives.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OrSet {
    entries: Vec<OrElem>,
}

impl OrSet {
    pub const fn new() -> Self {
        OrSet {
            entries: Vec::new(),
        }
    }

    #[inline]
    fn find(&self, elem: &Val) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| e.elem.cmp(elem))
    }

    /// Adds `elem` with the fresh `dot`: the element's dots become `[dot]`. The delta holds the
    /// element with dots `[dot]` and context `{old dots} ∪ {dot}`.
    pub fn add(&mut self, dot: Dot, elem: Val) -> OrSet {
        debug_assert!(dot.counter > 0, "dot counters start at 1");
        let dctx = match self.find(&elem) {
            Ok(i) => {
                let e = &mut self.entries[i];
                debug_assert!(!e.ctx.covers(dot), "reused dot {dot:?}");
                let mut dctx = Vv::from_dots(e.dots.iter().copied());
                dctx.add_dot(dot);
                e.dots.clear();
                e.dots.push(dot);
                e.ctx.add_dot(dot);
                dctx
            }
            Err(i) => {
                let dctx = Vv {
                    e: vec![(dot.replica, dot.counter)],
                };
                self.entries.insert(
                    i,
                    OrElem {
                        elem: elem.clone(),
                        dots: vec![dot],
                        ctx: dctx.clone(),
                    },
                );
                dctx
            }
        };
        OrSet {
            entries: vec![OrElem {
                elem,
                dots: vec![dot],
                ctx: dctx,
            }],
        }
    }

    /// Removes `elem` (the adds of it seen here). The delta holds the element with no dots and
    /// the removed dots as context; it is empty if the element was absent.
    pub fn remove(&mut self, elem: &Val) -> OrSet {
        match self.find(elem) {
            Ok(i) if !self.entries[i].dots.is_empty() => {
                let e = &mut self.entries[i];
                let dctx = Vv::from_dots(e.dots.iter().copied());
                e.dots.clear();
                OrSet {
                    entries: vec![OrElem {
                        elem: elem.clone(),
                        dots: Vec::new(),
                        ctx: dctx,
                    }],
                }
            }
            _ => OrSet::new(),
        }
    }

    pub fn contains(&self, elem: &Val) -> bool {
        self.find(elem)
            .is_ok_and(|i| !self.entries[i].dots.is_empty())
    }

    /// The present elements, sorted.
    pub fn elements(&self) -> impl Iterator<Item = &Val> + '_ {
        self.entries
            .iter()
            .filter(|e| !e.dots.is_empty())
            .map(|e| &e.elem)
    }

    /// Number of present elements.
    pub fn len(&self) -> usize {
        self.entries.iter().filter(|e| !e.dots.is_empty()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The live add-dots of `elem` (empty if absent).
    pub fn dots(&self, elem: &Val) -> &[Dot] {
        self.find(elem).map_or(&[], |i| &self.entries[i].dots)
    }

    /// The causal context of `elem`, if it was ever seen (including removed elements).
    pub fn context(&self, elem: &Val) -> Option<&Vv> {
        self.find(elem).ok().map(|i| &self.entries[i].ctx)
    }

    /// Per-element causal join; returns whether `self` changed.
    pub fn merge(&mut self, other: &Self) -> bool {
        let mut changed = false;
        let mut missing = false;
        let mut i = 0;
        for b in &other.entries {
            let mut ord = Ordering::Greater;
            while i < self.entries.len() {
                ord = self.entries[i].elem.cmp(&b.elem);
                if ord != Ordering::Less {
                    break;
                }
                i += 1;
            }
            if i < self.entries.len() && ord == Ordering::Equal {
                let a = &mut self.entries[i];
                // Fast path: in anti-entropy most elements are already identical.
                if a.dots != b.dots || a.ctx != b.ctx {
                    changed |= causal_join(&mut a.dots, &mut a.ctx, &b.dots, &b.ctx, |d| *d);
                }
                i += 1;
            } else if !(b.dots.is_empty() && b.ctx.is_empty()) {
                missing = true;
            }
        }
        if missing {
            for b in &other.entries {
                if b.dots.is_empty() && b.ctx.is_empty() {
                    continue;
                }
                if let Err(i) = self.find(&b.elem) {
                    self.entries.insert(i, b.clone());
                }
            }
            changed = true;
        }
        changed
    }

    pub fn digest(&self, h: &mut Digest) {
        h.write_u64(self.entries.len() as u64);
        for e in &self.entries {
            e.elem.digest(h);
            h.write_u64(e.dots.len() as u64);
            for d in &e.dots {
                h.write_u64(d.replica as u64);
                h.write_u64(d.counter);
            }
            e.ctx.digest(h);
        }
    }

    /// 2-byte count; per element the value, a 2-byte dot count, 12 bytes per dot, the context.
    pub fn wire_len(&self) -> usize {
        2 + self
            .entries
            .iter()
            .map(|e| e.elem.wire_len() + 2 + 12 * e.dots.len() + e.ctx.wire_len())
            .sum::<usize>()
    }

    #[cfg(test)]
    pub(super) fn assert_invariants(&self) {
        assert!(
            self.entries.windows(2).all(|w| w[0].elem < w[1].elem),
            "orset elements not strictly sorted: {self:?}"
        );
        for e in &self.entries {
            e.ctx.assert_invariants();
            assert!(
                !e.ctx.is_empty(),
                "orset element with an empty context: {self:?}"
            );
            assert!(
                e.dots.windows(2).all(|w| w[0] < w[1]),
                "orset dots not strictly sorted: {self:?}"
            );
            assert!(
                e.dots.iter().all(|d| e.ctx.covers(*d)),
                "orset dot outside its context: {self:?}"
            );
        }
    }
}
