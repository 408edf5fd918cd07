//! Reads per key, kept between reports: a key's section-8 verdicts are recomputed (by
//! `crate::reads`, the only implementation) only when one of its writes or reads arrived or
//! changed clock, or when the trace went from cyclic to acyclic or back.

use rustc_hash::{FxHashMap, FxHashSet};
use weft_trace::{Kind, Sym, Trace};

use super::clocks::NodeClocks;
use crate::clock::Clock;
use crate::finding::Finding;
use crate::reads::{check_key, involves, KeyReads, Seen};

#[derive(Default)]
pub(super) struct ReadKeys {
    /// Per key: its writes and reads, in arrival order.
    events: FxHashMap<Sym, Vec<u32>>,
    /// Keys with a declared type or a read with a value: the only ones with verdicts.
    involved: FxHashSet<Sym>,
    dirty: FxHashSet<Sym>,
    /// Per involved key with a verdict or a checked read.
    results: FxHashMap<Sym, KeyReads>,
    /// Whether the results were computed for a complete trace (`None`: never computed).
    complete: Option<bool>,
}

/// The engine's implied clocks, with [`crate::Engine::check`]'s cut-down ones where it made
/// them (a read of a key with few writers keeps only the writers' entries).
struct EngineSeen<'a> {
    trace: &'a Trace,
    clocks: &'a NodeClocks,
    projected: &'a FxHashMap<u32, Clock>,
}

impl Seen for EngineSeen<'_> {
    fn seen(&self, v: u32, q: Sym) -> u64 {
        let e = &self.trace.events()[v as usize];
        if e.replica == q {
            return e.seq;
        }
        if !self.projected.is_empty() {
            if let Some(c) = self.projected.get(&v) {
                return c.get(q);
            }
        }
        self.clocks.entry(self.trace, v, q)
    }

    fn seen_all(&self, v: u32, qs: &[Sym], out: &mut Vec<u64>) {
        let e = &self.trace.events()[v as usize];
        let clock = self.projected.get(&v).or_else(|| self.clocks.base_clock(v));
        out.clear();
        out.extend(qs.iter().map(|&q| {
            if q == e.replica {
                e.seq
            } else {
                clock.map_or(0, |c| c.get(q))
            }
        }));
    }
}

impl ReadKeys {
    /// A new node `v` (a write or a read).
    pub fn add(&mut self, trace: &Trace, v: u32) {
        let e = &trace.events()[v as usize];
        if !matches!(e.kind, Kind::Write | Kind::Read) {
            return;
        }
        self.events.entry(e.key).or_default().push(v);
        if involves(trace, e) {
            self.involved.insert(e.key);
        }
        if self.involved.contains(&e.key) {
            self.dirty.insert(e.key);
        }
    }

    /// Node `v`'s clock changed.
    pub fn touched(&mut self, trace: &Trace, v: u32) {
        let e = &trace.events()[v as usize];
        if matches!(e.kind, Kind::Write | Kind::Read) && self.involved.contains(&e.key) {
            self.dirty.insert(e.key);
        }
    }

    /// Whether node `v` is a read whose clock the check will ask for.
    pub fn checks_read(&self, trace: &Trace, v: u32) -> bool {
        let e = &trace.events()[v as usize];
        e.kind == Kind::Read && trace.value(e).is_some() && self.involved.contains(&e.key)
    }

    /// For `Engine::check`: adds to `out` the writers of each involved key (name ids,
    /// ascending) when there are at most `max` of them, merged with what is there already (the
    /// writers of its conflict-capable writes).
    pub fn writer_sets(&self, trace: &Trace, max: usize, out: &mut FxHashMap<Sym, Vec<Sym>>) {
        let evs = trace.events();
        let mut writers: FxHashSet<Sym> = FxHashSet::default();
        for key in &self.involved {
            writers.clear();
            writers.extend(out.get(key).into_iter().flatten().copied());
            for &v in &self.events[key] {
                let e = &evs[v as usize];
                if e.kind == Kind::Write {
                    writers.insert(e.replica);
                    if writers.len() > max {
                        break;
                    }
                }
            }
            if writers.len() <= max {
                let mut sorted: Vec<Sym> = writers.iter().copied().collect();
                sorted.sort_unstable();
                out.insert(*key, sorted);
            } else {
                out.remove(key);
            }
        }
    }

    /// Brings the verdicts of the dirty keys up to date (all involved keys when completeness
    /// changed), on up to `threads` threads.
    pub fn update(
        &mut self,
        trace: &Trace,
        clocks: &NodeClocks,
        projected: &FxHashMap<u32, Clock>,
        complete: bool,
        threads: usize,
    ) {
        if self.complete != Some(complete) {
            self.complete = Some(complete);
            self.dirty.extend(self.involved.iter().copied());
        }
        let seen = EngineSeen {
            trace,
            clocks,
            projected,
        };
        // Keys are independent: judged on `threads` threads, stored in the order taken.
        let dirty: Vec<Sym> = std::mem::take(&mut self.dirty).into_iter().collect();
        let events = &self.events;
        let found = crate::par::map(
            &dirty,
            threads,
            || (),
            |(), &key| check_key(trace, key, &events[&key], complete, &seen),
        );
        for (key, found) in dirty.into_iter().zip(found) {
            if found.findings.is_empty() && found.checked == 0 {
                self.results.remove(&key);
            } else {
                self.results.insert(key, found);
            }
        }
    }

    /// The verdicts, as of the last [`ReadKeys::update`].
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.results.values().flat_map(|r| &r.findings)
    }

    /// Reads checked, as of the last [`ReadKeys::update`].
    pub fn checked(&self) -> u64 {
        self.results.values().map(|r| r.checked).sum()
    }
}
