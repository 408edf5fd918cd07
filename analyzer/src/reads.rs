//! Reads (spec section 8): what each replica observed, checked against its causal past.
//!
//! A replica's state holds exactly the writes in its causal past, so a read of key `k` must
//! return what the writes of `k` that happen before it imply: their sum (`counter`), the
//! elements added and not removed after (`set`, add-wins), the value of one of the latest writes
//! (`lww`), or the values of all of them (`mv`). This module judges one key at a time, given the
//! engine's clocks ([`Seen`]), and is the only implementation: the engine calls it for each key
//! whose writes or reads arrived or changed clock.
//!
//! # How `P` (the writes a read has seen) is found without looking at every write
//!
//! The writes of a key, grouped by replica and sorted by seq, form *chains*. A write `w` happens
//! before read `r` exactly when `VC(r)[replica of w] ≥ seq(w)`, so the writes of chain `c` in
//! `P` are a prefix of it, found by one binary search: `P` is a vector of prefix lengths,
//! `O(K log L)` per read for `K` chains (writer replicas) of length at most `L`. Along a chain
//! clocks only grow, which gives the rest:
//!
//! * the maximal writes `M` of `P` are among the chains' last writes in `P`, and such a last
//!   write `x` is maximal when no other chain's last write in `P` has seen it (`O(K)` lookups);
//! * the first write of a chain that has seen a write `a` is found by bisection, so the
//!   smallest write of `P` that `a` happens before (a `stale-read` witness) costs `O(K log L)`;
//! * counters sum prefix sums; a set element is present when one chain's last `add` of it in
//!   `P` is not seen by any chain's last `remove` of it in `P`.
//!
//! Costs per read: `counter` `O(K log L)`; `lww` `O(K log L)` plus `O(K)` per latest write
//! holding the value read; `mv` `O(K²)` (all of `M`); `set` `O(E · A · R)` for `E` elements
//! with `A` and `R` chains holding adds and removes of them. A wrong read adds the cost of its
//! evidence (`M` for the expected values: `O(K²)`).

use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};
use serde_json::Value;
use weft_trace::{Crdt, EventId, EventRec, Kind, Op, Sym, Trace};

use crate::finding::Finding;
use crate::report::Code;

mod judge;
mod past;

/// The engine's clocks, as the reads check asks for them.
pub(crate) trait Seen {
    /// `VC(v)[q]`: the largest seq of replica `q` in the causal past of node `v`, its own seq
    /// when `q` is its own replica.
    fn seen(&self, v: u32, q: Sym) -> u64;

    /// `VC(v)[q]` for each `q` of `qs`, into `out` (one clock lookup for all of them).
    fn seen_all(&self, v: u32, qs: &[Sym], out: &mut Vec<u64>) {
        out.clear();
        out.extend(qs.iter().map(|&q| self.seen(v, q)));
    }
}

/// The section-8 verdicts on one key: its `crdt-type-conflict`, and one finding per wrong read.
#[derive(Debug, Default)]
pub(crate) struct KeyReads {
    pub findings: Vec<Finding>,
    /// Reads whose value was checked (`summary.reads_checked`).
    pub checked: u64,
}

/// Whether event `e` takes part in section 8 at all: a write or a read that declares a type,
/// or a read with a value to check. A key with none of them has no verdicts.
pub(crate) fn involves(trace: &Trace, e: &EventRec) -> bool {
    match e.kind {
        Kind::Write => e.crdt.is_some(),
        Kind::Read => e.crdt.is_some() || trace.value(e).is_some(),
        _ => false,
    }
}

/// Judges key `key`, whose writes and reads are `events` (any order). Reads are checked only
/// when `complete` (happens-before is a partial order); a type conflict is reported either way.
pub(crate) fn check_key(
    trace: &Trace,
    key: Sym,
    events: &[u32],
    complete: bool,
    seen: &impl Seen,
) -> KeyReads {
    let mut out = KeyReads::default();
    let crdt = match typing(trace, key, events) {
        Typing::Checked(c) => c,
        Typing::Unchecked => return out,
        Typing::Conflict(f) => {
            out.findings.push(f);
            return out;
        }
    };
    if !complete {
        return out;
    }
    let ctx = Ctx::new(trace, key, crdt, events, seen);
    if crdt == Crdt::Counter && !ctx.incs_are_integers() {
        return out;
    }
    let evs = trace.events();
    for &r in events {
        let e = &evs[r as usize];
        if e.kind != Kind::Read {
            continue;
        }
        let Some(value) = trace.value(e) else {
            continue;
        };
        if crdt == Crdt::Counter && integer(value).is_none() {
            continue;
        }
        out.checked += 1;
        if let Some(f) = ctx.judge(r, value) {
            out.findings.push(f);
        }
    }
    out
}

/// The outcome of a key's type rules.
enum Typing {
    Checked(Crdt),
    /// No declaration and no single kind of op among its writes (or no writes).
    Unchecked,
    Conflict(Finding),
}

/// Orders nodes by id: replica name bytewise, then seq.
fn by_id(trace: &Trace, a: u32, b: u32) -> std::cmp::Ordering {
    let (ea, eb) = (&trace.events()[a as usize], &trace.events()[b as usize]);
    (trace.replica(ea).as_bytes(), ea.seq).cmp(&(trace.replica(eb).as_bytes(), eb.seq))
}

fn smallest(trace: &Trace, nodes: impl Iterator<Item = u32>) -> Option<u32> {
    nodes.min_by(|&a, &b| by_id(trace, a, b))
}

/// The declared type (the smallest declaring event's) and whatever disagrees with it, else the
/// type the writes imply.
fn typing(trace: &Trace, key: Sym, events: &[u32]) -> Typing {
    let evs = trace.events();
    let declaring = smallest(
        trace,
        events
            .iter()
            .copied()
            .filter(|&v| evs[v as usize].crdt.is_some()),
    );
    if let Some(d) = declaring {
        let t = evs[d as usize].crdt.expect("declaring");
        let disagrees = |v: u32| {
            let e = &evs[v as usize];
            e.crdt.is_some_and(|c| c != t) || (e.kind == Kind::Write && !t.accepts(e.op))
        };
        return match smallest(trace, events.iter().copied().filter(|&v| disagrees(v))) {
            None => Typing::Checked(t),
            Some(x) => Typing::Conflict(type_conflict(trace, key, t, d, x)),
        };
    }
    let mut ops = events
        .iter()
        .map(|&v| &evs[v as usize])
        .filter(|e| e.kind == Kind::Write)
        .map(|e| match e.op {
            Op::Inc => Crdt::Counter,
            Op::Add | Op::Remove => Crdt::Set,
            Op::Set => Crdt::Lww,
        });
    match ops.next() {
        Some(first) if ops.all(|c| c == first) => Typing::Checked(first),
        _ => Typing::Unchecked,
    }
}

fn type_conflict(trace: &Trace, key: Sym, t: Crdt, d: u32, x: u32) -> Finding {
    let e = &trace.events()[x as usize];
    let (did, xid) = (trace.id(d as usize), trace.id(x as usize));
    let k = trace.syms().resolve(key);
    let what = match e.crdt {
        Some(c) if c != t => format!("{xid} declares {k:?} a {c}, but {did} declared it a {t}"),
        _ if x == d => format!(
            "{xid} declares {k:?} a {t} but writes it with op {}, which a {t} does not take",
            e.op.as_str()
        ),
        _ => format!(
            "{xid} writes {k:?} with op {}, which a {t} does not take ({did} declared it a {t})",
            e.op.as_str()
        ),
    };
    Finding {
        node: x,
        code: Code::CrdtTypeConflict,
        related: if x == d { vec![] } else { vec![did] },
        message: format!("{what}; the reads of {k:?} are not checked"),
        read: None,
    }
}

/// A JSON value's integer, when it is one (`1.0` is not: it is a different value).
fn integer(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        _ => None,
    }
}

/// A hash under which equal JSON values (as `serde_json::Value`s: `1` ≠ `1.0`, object keys in
/// any order, `-0.0` = `0.0`) hash equal.
fn value_hash(v: &Value) -> u64 {
    fn go(v: &Value, h: &mut FxHasher) {
        match v {
            Value::Null => 0u8.hash(h),
            Value::Bool(b) => (1u8, b).hash(h),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    (2u8, u).hash(h);
                } else if let Some(i) = n.as_i64() {
                    (3u8, i).hash(h);
                } else {
                    let f = n.as_f64().unwrap_or(0.0);
                    (4u8, if f == 0.0 { 0 } else { f.to_bits() }).hash(h);
                }
            }
            Value::String(s) => (5u8, s).hash(h),
            Value::Array(a) => {
                (6u8, a.len()).hash(h);
                for x in a {
                    go(x, h);
                }
            }
            Value::Object(m) => {
                // Order-free: a sum of the entries' own hashes.
                let sum = m.iter().fold(0u64, |acc, (k, x)| {
                    let mut e = FxHasher::default();
                    k.hash(&mut e);
                    go(x, &mut e);
                    acc.wrapping_add(e.finish())
                });
                (7u8, m.len(), sum).hash(h);
            }
        }
    }
    let mut h = FxHasher::default();
    go(v, &mut h);
    h.finish()
}

/// Distinct JSON values, numbered in order of first appearance.
#[derive(Default)]
struct Values<'a> {
    by_hash: FxHashMap<u64, Vec<u32>>,
    values: Vec<&'a Value>,
}

impl<'a> Values<'a> {
    fn find(&self, v: &Value) -> Option<u32> {
        self.by_hash
            .get(&value_hash(v))?
            .iter()
            .copied()
            .find(|&c| self.values[c as usize] == v)
    }

    fn intern(&mut self, v: &'a Value) -> u32 {
        if let Some(c) = self.find(v) {
            return c;
        }
        let c = self.values.len() as u32;
        self.values.push(v);
        self.by_hash.entry(value_hash(v)).or_default().push(c);
        c
    }
}

static NULL: Value = Value::Null;

/// One key's writes arranged for the checks: chains in id order, so a write's index in
/// `nodes` orders writes by id.
struct Ctx<'a, S> {
    trace: &'a Trace,
    key: Sym,
    crdt: Crdt,
    seen: &'a S,
    /// Per chain: its replica; chain `c` is `nodes[starts[c]..starts[c + 1]]`, by seq.
    reps: Vec<Sym>,
    starts: Vec<usize>,
    nodes: Vec<u32>,
    seqs: Vec<u64>,
    chain_of: Vec<u32>,
    /// Per write: its value's number in `values` (a write without value wrote null).
    class: Vec<u32>,
    values: Values<'a>,
    /// Per value: the writes that wrote it (for sets: the adds), ascending.
    writers: Vec<Vec<usize>>,
    /// Per value (sets only): its removes, ascending.
    removes: Vec<Vec<usize>>,
    /// Counters: `cum[i]` = the sum of the increments of `nodes[..i]`.
    cum: Vec<i128>,
    ints: bool,
}

impl<'a, S: Seen> Ctx<'a, S> {
    fn new(trace: &'a Trace, key: Sym, crdt: Crdt, events: &[u32], seen: &'a S) -> Self {
        let evs = trace.events();
        let mut nodes: Vec<u32> = events
            .iter()
            .copied()
            .filter(|&v| evs[v as usize].kind == Kind::Write)
            .collect();
        nodes.sort_unstable_by(|&a, &b| by_id(trace, a, b));
        let mut ctx = Ctx {
            trace,
            key,
            crdt,
            seen,
            reps: Vec::new(),
            starts: Vec::new(),
            seqs: nodes.iter().map(|&v| evs[v as usize].seq).collect(),
            chain_of: Vec::with_capacity(nodes.len()),
            class: Vec::with_capacity(nodes.len()),
            values: Values::default(),
            writers: Vec::new(),
            removes: Vec::new(),
            cum: Vec::new(),
            ints: true,
            nodes,
        };
        for (i, &v) in ctx.nodes.iter().enumerate() {
            let e = &evs[v as usize];
            if ctx.reps.last() != Some(&e.replica) {
                ctx.reps.push(e.replica);
                ctx.starts.push(i);
            }
            ctx.chain_of.push((ctx.reps.len() - 1) as u32);
            let value = trace.value(e).unwrap_or(&NULL);
            let c = ctx.values.intern(value);
            ctx.class.push(c);
            if ctx.writers.len() <= c as usize {
                ctx.writers.resize_with(c as usize + 1, Vec::new);
                ctx.removes.resize_with(c as usize + 1, Vec::new);
            }
            if e.op == Op::Remove {
                ctx.removes[c as usize].push(i);
            } else {
                ctx.writers[c as usize].push(i);
            }
        }
        ctx.starts.push(ctx.nodes.len());
        if crdt == Crdt::Counter {
            ctx.cum.reserve(ctx.nodes.len() + 1);
            ctx.cum.push(0);
            let mut sum: i128 = 0;
            for &v in &ctx.nodes {
                // An inc without `value` adds 1; `"value": null` is a value, and not an integer.
                let inc = match trace.value(&evs[v as usize]) {
                    None => Some(1),
                    Some(x) => integer(x),
                };
                match inc {
                    Some(i) => sum += i,
                    None => ctx.ints = false,
                }
                ctx.cum.push(sum);
            }
        }
        ctx
    }

    fn incs_are_integers(&self) -> bool {
        self.ints
    }

    fn id(&self, v: u32) -> EventId {
        self.trace.id(v as usize)
    }
}

/// The first `i` in `0..n` for which `pred` is false (`pred` true then false over the range).
fn partition_point(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// What the past says of one element (or register value) a read returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Present,
    /// The smallest write of the past that wrote it; all are overwritten.
    Stale(usize),
    /// The smallest write that wrote it; none is in the past.
    Unseen(usize),
    /// No write of the key wrote (added) it.
    Unwritten,
}

/// At most this many characters of a value are quoted in a message.
const MAX_SHOWN: usize = 80;

/// A value as JSON text, cut to [`MAX_SHOWN`] characters.
fn shown(v: &Value) -> String {
    let text = serde_json::to_string(v).expect("values serialize");
    if text.chars().count() <= MAX_SHOWN {
        return text;
    }
    let cut: String = text.chars().take(MAX_SHOWN).collect();
    format!("{cut}…")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
