//! Conflicts per key, kept between reports: a key is recomputed (by the per-key code the batch
//! analysis uses, `crate::conflicts`) only when one of its writes arrived or changed clock.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::Value;
use weft_trace::{Op, Sym, Trace};

use super::clocks::NodeClocks;
use crate::clock::Clock;
use crate::conflicts::{conflict_write, key_conflicts_in, sort_conflicts, Scratch, WriteOrder};
use crate::report::{Conflict, KeyFindings, Unresolved};

#[derive(Default)]
pub(super) struct Keys {
    /// Per key: its conflict-capable writes, in arrival order.
    writes: FxHashMap<Sym, Vec<u32>>,
    /// Per key: its conflicts (sorted) and unresolved siblings, as of its last change; shared
    /// with the readers of [`Keys::shared`] until the key changes again.
    results: FxHashMap<Sym, Arc<KeyFindings>>,
    dirty: FxHashSet<Sym>,
    /// Buffers reused from one key to the next.
    scratch: Scratch,
    /// For `Engine::check`: per write of a key with few writers, its implied clock cut down
    /// to the key's writers (all that conflict detection asks of it), so the clock it was
    /// based on need not be kept.
    projected: FxHashMap<u32, Clock>,
}

/// Writes of keys written by at most this many replicas get a projected clock in
/// `Engine::check` (beyond it a projection would cost more than the shared stored clock).
pub(super) const PROJECT_MAX_WRITERS: usize = 128;

/// The engine's implied clocks, as conflict detection asks for them, for one key's writes,
/// numbered 0.. in the order given: replicas are numbered by name among the key's writers, so a
/// group sorted by (replica, seq) is in id order, as the report lists pairs. Everything a lookup
/// needs is in arrays indexed by that number (no hashing on the hot path of a hot key).
struct Clocks<'a> {
    /// Per write: the stored clock its implied clock is based on (its own entry aside).
    base: Vec<Option<&'a Clock>>,
    /// Per write: its node.
    node: Vec<u32>,
    /// Per write: its replica's number.
    rank: Vec<u32>,
    /// Per write: its replica's name id (what the clocks are indexed by).
    sym: Vec<Sym>,
    seq: Vec<u64>,
    /// Per replica number: its name id.
    sym_of: Vec<Sym>,
}

impl<'a> Clocks<'a> {
    fn new(
        trace: &'a Trace,
        clocks: &'a NodeClocks,
        projected: &'a FxHashMap<u32, Clock>,
        writes: &[u32],
    ) -> Self {
        let events = trace.events();
        let sym: Vec<Sym> = writes.iter().map(|&v| events[v as usize].replica).collect();
        let mut sym_of = sym.clone();
        sym_of.sort_unstable();
        sym_of.dedup();
        let names = trace.names();
        sym_of.sort_unstable_by(|&a, &b| {
            names.resolve(a).as_bytes().cmp(names.resolve(b).as_bytes())
        });
        let rank_of: FxHashMap<Sym, u32> = sym_of
            .iter()
            .enumerate()
            .map(|(r, &s)| (s, r as u32))
            .collect();
        Clocks {
            base: writes
                .iter()
                .map(|&v| projected.get(&v).or_else(|| clocks.base_clock(v)))
                .collect(),
            node: writes.to_vec(),
            rank: sym.iter().map(|s| rank_of[s]).collect(),
            seq: writes.iter().map(|&v| events[v as usize].seq).collect(),
            sym,
            sym_of,
        }
    }

    /// `VC(y)[sym]`: its own seq for its own replica, else its base clock's entry (arrays
    /// indexed by the write's number only: no trace lookup on this hot path).
    #[inline]
    fn at(&self, y: u32, sym: Sym) -> u64 {
        let y = y as usize;
        if self.sym[y] == sym {
            return self.seq[y];
        }
        self.base[y].map_or(0, |c| c.get(sym))
    }
}

impl WriteOrder for Clocks<'_> {
    #[inline]
    fn replica(&self, v: u32) -> u32 {
        self.rank[v as usize]
    }
    #[inline]
    fn seq(&self, v: u32) -> u64 {
        self.seq[v as usize]
    }
    #[inline]
    fn seen(&self, y: u32, replica: u32) -> u64 {
        self.at(y, self.sym_of[replica as usize])
    }
    #[inline]
    fn seen_of(&self, y: u32, x: u32) -> u64 {
        self.at(y, self.sym[x as usize])
    }
    fn arrival(&self, v: u32) -> usize {
        self.node[v as usize] as usize
    }
}

impl Keys {
    /// A new write `v`.
    pub fn add(&mut self, trace: &Trace, v: u32) {
        let key = trace.events()[v as usize].key;
        self.writes.entry(key).or_default().push(v);
        self.dirty.insert(key);
    }

    /// For `Engine::check`, before its one pass: per key written by at most
    /// [`PROJECT_MAX_WRITERS`] replicas, its writers (name ids, ascending).
    pub fn small_writer_sets(&self, trace: &Trace) -> FxHashMap<Sym, Vec<Sym>> {
        let events = trace.events();
        let mut out = FxHashMap::default();
        let mut writers: FxHashSet<Sym> = FxHashSet::default();
        for (&key, writes) in &self.writes {
            writers.clear();
            for &v in writes {
                writers.insert(events[v as usize].replica);
                if writers.len() > PROJECT_MAX_WRITERS {
                    break;
                }
            }
            if writers.len() <= PROJECT_MAX_WRITERS {
                let mut sorted: Vec<Sym> = writers.iter().copied().collect();
                sorted.sort_unstable();
                out.insert(key, sorted);
            }
        }
        out
    }

    /// Keeps write `v`'s clock cut down to `writers` (`full`: its whole implied clock).
    pub fn project(&mut self, v: u32, full: &Clock, writers: &[Sym], shift: u32) {
        let mut c = Clock::growable(shift);
        for &q in writers {
            let x = full.get(q);
            if x > 0 {
                c.raise(q, x);
            }
        }
        self.projected.insert(v, c);
    }

    /// The cut-down clocks `Engine::check` keeps, by node.
    pub fn projected(&self) -> &FxHashMap<u32, Clock> {
        &self.projected
    }

    /// Node `v`'s clock changed.
    pub fn touched(&mut self, trace: &Trace, v: u32) {
        let e = &trace.events()[v as usize];
        if conflict_write(e) {
            self.dirty.insert(e.key);
        }
    }

    /// The keys with conflicts or unresolved siblings, in the report's order (key bytewise),
    /// each shared: a key's `Arc` stays the same until one of its writes arrives or changes
    /// clock, so a reader can skip the keys it has seen.
    pub fn shared(
        &mut self,
        trace: &Trace,
        clocks: &NodeClocks,
        threads: usize,
    ) -> Vec<Arc<KeyFindings>> {
        self.update(trace, clocks, threads);
        self.sorted_keys(trace)
            .into_iter()
            .map(|k| Arc::clone(&self.results[&k]))
            .collect()
    }

    /// Recomputes the dirty keys, spread over `threads` threads (each key is independent; the
    /// results are stored in the order the keys were taken, as on one thread).
    fn update(&mut self, trace: &Trace, clocks: &NodeClocks, threads: usize) {
        let dirty: Vec<Sym> = std::mem::take(&mut self.dirty).into_iter().collect();
        let (writes, projected) = (&self.writes, &self.projected);
        let found = if dirty.len() < crate::par::MIN_PARALLEL {
            // The collector's frequent reports: a few keys, and this engine's warm buffers.
            let scratch = &mut self.scratch;
            dirty
                .iter()
                .map(|&key| key_findings(scratch, trace, clocks, projected, writes, key))
                .collect()
        } else {
            crate::par::map(&dirty, threads, Scratch::default, |scratch, &key| {
                key_findings(scratch, trace, clocks, projected, writes, key)
            })
        };
        for (key, found) in dirty.into_iter().zip(found) {
            match found {
                Some(found) => {
                    self.results.insert(key, Arc::new(found));
                }
                None => {
                    self.results.remove(&key);
                }
            }
        }
    }

    /// [`Keys::results`] for the last time: the results are moved out, not copied (a hot key
    /// can hold millions of conflicts).
    pub fn into_results(
        mut self,
        trace: &Trace,
        clocks: &NodeClocks,
        threads: usize,
    ) -> (Vec<Conflict>, Vec<Unresolved>) {
        self.update(trace, clocks, threads);
        self.collect(trace)
    }

    /// The stored results, moved out in the report's order: keys bytewise (each key's
    /// conflicts are sorted already, so the whole list is too).
    fn collect(&mut self, trace: &Trace) -> (Vec<Conflict>, Vec<Unresolved>) {
        let total: usize = self.results.values().map(|f| f.conflicts.len()).sum();
        let mut conflicts: Vec<Conflict> = Vec::new();
        let mut unresolved: Vec<Unresolved> = Vec::new();
        for key in self.sorted_keys(trace) {
            let found = self.results.remove(&key).expect("listed");
            let found = Arc::try_unwrap(found).unwrap_or_else(|shared| (*shared).clone());
            // Moved, never grown: with one hot key the list is that key's own (no copy of
            // millions of conflicts), else it is sized once.
            if conflicts.is_empty() && found.conflicts.len() == total {
                conflicts = found.conflicts;
            } else {
                conflicts.reserve_exact(total - conflicts.len());
                conflicts.extend(found.conflicts);
            }
            unresolved.extend(found.unresolved);
        }
        debug_assert!({
            let mut sorted = conflicts.clone();
            sort_conflicts(&mut sorted);
            sorted == conflicts
        });
        (conflicts, unresolved)
    }

    /// The keys with results, bytewise.
    fn sorted_keys(&self, trace: &Trace) -> Vec<Sym> {
        let names = trace.syms();
        let mut keys: Vec<Sym> = self.results.keys().copied().collect();
        keys.sort_unstable_by(|&a, &b| {
            names.resolve(a).as_bytes().cmp(names.resolve(b).as_bytes())
        });
        keys
    }
}

/// Key `key`'s conflicts and unresolved siblings (`None` when it has neither, or no writes).
fn key_findings(
    scratch: &mut Scratch,
    trace: &Trace,
    clocks: &NodeClocks,
    projected: &FxHashMap<u32, Clock>,
    writes: &FxHashMap<Sym, Vec<u32>>,
    key: Sym,
) -> Option<KeyFindings> {
    let writes = writes.get(&key)?;
    let order = Clocks::new(trace, clocks, projected, writes);
    // Registers (set) form one group; set elements (add/remove) one group each.
    let mut registers: Vec<u32> = Vec::new();
    let mut elements: FxHashMap<String, (Value, Vec<u32>)> = FxHashMap::default();
    for (w, &v) in writes.iter().enumerate() {
        let e = &trace.events()[v as usize];
        if e.op == Op::Set {
            registers.push(w as u32);
        } else {
            let value = trace.value(e).cloned().unwrap_or(Value::Null);
            let text = serde_json::to_string(&value).expect("values serialize");
            elements
                .entry(text)
                .or_insert_with(|| (value, Vec::new()))
                .1
                .push(w as u32);
        }
    }
    let by_writer =
        |g: &mut Vec<u32>| g.sort_unstable_by_key(|&v| (order.replica(v), order.seq(v)));
    let mut conflicts = Vec::new();
    by_writer(&mut registers);
    let unresolved = if registers.is_empty() {
        None
    } else {
        key_conflicts_in(
            scratch,
            &order,
            trace,
            key,
            None,
            &registers,
            &mut conflicts,
        )
    };
    let has_elements = !elements.is_empty();
    for (_, (value, mut group)) in elements {
        by_writer(&mut group);
        key_conflicts_in(
            scratch,
            &order,
            trace,
            key,
            Some(&value),
            &group,
            &mut conflicts,
        );
    }
    if has_elements {
        sort_conflicts(&mut conflicts);
    } else {
        // One register group: its conflicts come out in (a, b) order (`register_conflicts`),
        // which a hot key's millions need not be compared to learn.
        debug_assert!(conflicts.is_sorted_by(|x, y| (&x.a, &x.b) <= (&y.a, &y.b)));
    }
    if conflicts.is_empty() && unresolved.is_none() {
        return None;
    }
    Some(KeyFindings {
        key: trace.syms().resolve(key).to_owned(),
        conflicts,
        unresolved,
    })
}
