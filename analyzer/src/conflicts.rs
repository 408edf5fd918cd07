//! Conflicting writes (spec section 5): for each group of writes that can conflict, the pairs of
//! concurrent writes that are each a *maximal* element of the set of writes concurrent with the
//! other, and the register siblings that stay unresolved.
//!
//! Happens-before between two writes is one clock lookup: `x → y` iff `VC(y)[replica(x)] ≥
//! seq(x)`. Within a group the writes of one replica form a chain (program order), so the writes
//! of that replica concurrent with `b` are a contiguous run of the chain — found with two binary
//! searches — and only the last of the run can be maximal. Each write therefore has at most one
//! candidate per replica, and maximality is decided among those candidates only.

use serde_json::Value;
use weft_trace::{Interner, Op, Sym, Trace};

use crate::graph::CausalGraph;
use crate::order::{conflict_write, WriteClocks};
use crate::report::{Conflict, ConflictWhy, Rule, Unresolved};

/// What conflict detection needs to know about writes: the batch analysis answers from its
/// graph and projected write clocks, the incremental engine from its per-node clocks. Write
/// numbers are the answerer's own; nothing here assumes they follow id order.
pub(crate) trait WriteOrder {
    /// A dense index of the replica of write `v` (any total order of replicas).
    fn replica(&self, v: u32) -> u32;
    /// The seq of write `v`.
    fn seq(&self, v: u32) -> u64;
    /// `VC(y)[replica]`: the highest seq of `replica` that write `y` has in its causal past
    /// (asked only for replicas that wrote the same key as `y`).
    fn seen(&self, y: u32, replica: u32) -> u64;
    /// The arrival index in the trace of write `v`.
    fn arrival(&self, v: u32) -> usize;
    /// `x → y` for two writes of one key: `VC(y)[replica(x)] ≥ seq(x)`.
    #[inline]
    fn hb(&self, x: u32, y: u32) -> bool {
        x != y && self.seen(y, self.replica(x)) >= self.seq(x)
    }
}

/// The batch analysis's answers: its graph and the write clocks of the ordered pass.
struct Batch<'a> {
    g: &'a CausalGraph,
    clocks: &'a WriteClocks,
}

impl WriteOrder for Batch<'_> {
    fn replica(&self, v: u32) -> u32 {
        self.g.rank(v)
    }
    fn seq(&self, v: u32) -> u64 {
        self.g.seq(v)
    }
    fn seen(&self, y: u32, replica: u32) -> u64 {
        self.clocks.get(self.g, y, replica)
    }
    fn arrival(&self, v: u32) -> usize {
        self.g.event(v)
    }
    #[inline]
    fn hb(&self, x: u32, y: u32) -> bool {
        self.clocks.hb(self.g, x, y)
    }
}

/// One key's writes and the trace they come from.
struct Ctx<'a, O: WriteOrder> {
    trace: &'a Trace,
    o: &'a O,
}

impl<O: WriteOrder> Ctx<'_, O> {
    fn op(&self, v: u32) -> Op {
        self.trace.events()[self.o.arrival(v)].op
    }

    fn event(&self, v: u32) -> &weft_trace::EventRec {
        &self.trace.events()[self.o.arrival(v)]
    }

    fn id(&self, v: u32) -> weft_trace::EventId {
        self.trace.id(self.o.arrival(v))
    }
}

/// Splits a group (sorted by replica, then seq, so each replica's writes are contiguous) into
/// per-replica chains.
fn chains(o: &impl WriteOrder, group: &[u32]) -> Vec<(u32, Vec<u32>)> {
    let mut out: Vec<(u32, Vec<u32>)> = Vec::new();
    for &v in group {
        match out.last_mut() {
            Some((r, c)) if *r == o.replica(v) => c.push(v),
            _ => out.push((o.replica(v), vec![v])),
        }
    }
    out
}

/// The maximal elements of the writes of `pool` concurrent with `b`.
fn maximal_concurrent(o: &impl WriteOrder, pool: &[(u32, Vec<u32>)], b: u32) -> Vec<u32> {
    let rb = o.replica(b);

    let mut cands = Vec::new();
    for (r, chain) in pool {
        if *r == rb {
            continue; // program order: every write of b's own replica is ordered with b
        }
        let seen = o.seen(b, *r);
        let lo = chain.partition_point(|&x| o.seq(x) <= seen);
        let hi = lo + chain[lo..].partition_point(|&x| !o.hb(b, x));
        if hi > lo {
            cands.push(chain[hi - 1]);
        }
    }
    let maximal: Vec<u32> = cands
        .iter()
        .copied()
        .filter(|&x| !cands.iter().any(|&y| o.hb(x, y)))
        .collect();
    maximal
}

/// The conflicts of one group of writes that can conflict — a register key's `set`s
/// (`element: None`), or the `add`s and `remove`s of one element of a set key — appended to
/// `out`, and for a register the unresolved siblings (its maximal writes, when two or more).
/// `group` is sorted by (replica, seq).
pub(crate) fn key_conflicts(
    o: &impl WriteOrder,
    trace: &Trace,
    key: Sym,
    element: Option<&Value>,
    group: &[u32],
    out: &mut Vec<Conflict>,
) -> Option<Unresolved> {
    let cx = Ctx { trace, o };
    let key_text = trace.syms().resolve(key);
    match element {
        None => {
            let pool = chains(o, group);
            register_conflicts(&cx, key_text, group, &pool, out);
            // Unresolved: the maximal set-writes of the key — a chain's last write, unless it
            // happens before another chain's last write.
            let tails: Vec<u32> = pool
                .iter()
                .map(|(_, c)| *c.last().expect("chains are non-empty"))
                .collect();
            let siblings: Vec<u32> = tails
                .iter()
                .copied()
                .filter(|&x| !tails.iter().any(|&y| o.hb(x, y)))
                .collect();
            (siblings.len() >= 2).then(|| Unresolved {
                key: key_text.to_string(),
                siblings: siblings.iter().map(|&v| cx.id(v)).collect(),
            })
        }
        Some(value) => {
            element_conflicts(&cx, key_text, value, group, out);
            None
        }
    }
}

/// Conflicts and unresolved keys of an acyclic trace.
pub(crate) fn find(
    trace: &Trace,
    g: &CausalGraph,
    clocks: &WriteClocks,
) -> (Vec<Conflict>, Vec<Unresolved>) {
    let events = trace.events();
    let mut elements = Interner::default();
    let mut element_values: Vec<Value> = Vec::new();
    // (key, element or NONE for registers, node)
    let mut writes: Vec<(Sym, u32, u32)> = Vec::new();
    for v in 0..g.len() as u32 {
        let e = &events[g.event(v)];
        if !conflict_write(e) {
            continue;
        }
        let element = if e.op == Op::Set {
            u32::MAX
        } else {
            let value = trace.value(e).cloned().unwrap_or(Value::Null);
            let text = serde_json::to_string(&value).expect("values serialize");
            let id = elements.intern(&text);
            if id as usize == element_values.len() {
                element_values.push(value);
            }
            id
        };
        writes.push((e.key, element, v));
    }
    writes.sort_unstable();

    let order = Batch { g, clocks };
    let mut conflicts = Vec::new();
    let mut unresolved = Vec::new();
    let mut i = 0;
    while i < writes.len() {
        let (key, element, _) = writes[i];
        let j = i + writes[i..]
            .iter()
            .take_while(|w| w.0 == key && w.1 == element)
            .count();
        // Nodes ascending: (rank, seq) order.
        let group: Vec<u32> = writes[i..j].iter().map(|w| w.2).collect();
        let value = (element != u32::MAX).then(|| &element_values[element as usize]);
        if let Some(u) = key_conflicts(&order, trace, key, value, &group, &mut conflicts) {
            unresolved.push(u);
        }
        i = j;
    }
    sort_conflicts(&mut conflicts);
    unresolved.sort_by(|x, y| x.key.as_bytes().cmp(y.key.as_bytes()));
    (conflicts, unresolved)
}

/// The report's order: key bytewise, element text, then the pair's ids.
pub(crate) fn sort_conflicts(conflicts: &mut [Conflict]) {
    conflicts.sort_by(|x, y| {
        (x.key.as_bytes(), element_text(&x.element), &x.a, &x.b).cmp(&(
            y.key.as_bytes(),
            element_text(&y.element),
            &y.a,
            &y.b,
        ))
    });
}

/// An element as the compact JSON text the spec sorts by (`null` for registers).
pub fn element_text(e: &Option<Value>) -> String {
    match e {
        Some(v) => serde_json::to_string(v).expect("values serialize"),
        None => "null".to_string(),
    }
}

/// Calls `emit(a, b)` for each pair where each is maximal for the other, once per pair with `a`
/// before `b` in `group`; `maxes[i]` belongs to `group[i]` (sorted by replica, then seq).
fn mutual_pairs(
    o: &impl WriteOrder,
    maxes: &[Vec<u32>],
    group: &[u32],
    mut emit: impl FnMut(u32, u32),
) {
    let pos = |v: u32| {
        group
            .binary_search_by_key(&(o.replica(v), o.seq(v)), |&x| (o.replica(x), o.seq(x)))
            .expect("maximal writes come from the group")
    };
    for (i, &b) in group.iter().enumerate() {
        for &a in &maxes[i] {
            let ia = pos(a);
            if ia < i && maxes[ia].contains(&b) {
                emit(a, b);
            }
        }
    }
}

fn register_conflicts<O: WriteOrder>(
    cx: &Ctx<O>,
    key: &str,
    group: &[u32],
    pool: &[(u32, Vec<u32>)],
    out: &mut Vec<Conflict>,
) {
    let maxes: Vec<Vec<u32>> = group
        .iter()
        .map(|&b| maximal_concurrent(cx.o, pool, b))
        .collect();
    mutual_pairs(cx.o, &maxes, group, |a, b| {
        let (ea, eb) = (cx.event(a), cx.event(b));
        let (ra, rb) = (
            cx.trace.replica(ea).as_bytes(),
            cx.trace.replica(eb).as_bytes(),
        );
        let (winner, rule) = match (ea.lamport(), eb.lamport(), ea.wall_ns(), eb.wall_ns()) {
            (Some(la), Some(lb), _, _) => (if (la, ra) > (lb, rb) { a } else { b }, Rule::Lamport),
            (_, _, Some(wa), Some(wb)) => (if (wa, ra) > (wb, rb) { a } else { b }, Rule::Wall),
            _ => (u32::MAX, Rule::None),
        };
        out.push(conflict(cx, key, None, a, b, winner, rule));
    });
}

fn element_conflicts<O: WriteOrder>(
    cx: &Ctx<O>,
    key: &str,
    element: &Value,
    group: &[u32],
    out: &mut Vec<Conflict>,
) {
    let adds: Vec<u32> = group
        .iter()
        .copied()
        .filter(|&v| cx.op(v) == Op::Add)
        .collect();
    let removes: Vec<u32> = group
        .iter()
        .copied()
        .filter(|&v| cx.op(v) == Op::Remove)
        .collect();
    if adds.is_empty() || removes.is_empty() {
        return;
    }
    let (add_pool, remove_pool) = (chains(cx.o, &adds), chains(cx.o, &removes));
    let maxes: Vec<Vec<u32>> = group
        .iter()
        .map(|&b| {
            maximal_concurrent(
                cx.o,
                if cx.op(b) == Op::Add {
                    &remove_pool
                } else {
                    &add_pool
                },
                b,
            )
        })
        .collect();
    mutual_pairs(cx.o, &maxes, group, |a, b| {
        let winner = if cx.op(a) == Op::Add { a } else { b };
        out.push(conflict(
            cx,
            key,
            Some(element.clone()),
            a,
            b,
            winner,
            Rule::AddWins,
        ));
    });
}

fn conflict<O: WriteOrder>(
    cx: &Ctx<O>,
    key: &str,
    element: Option<Value>,
    a: u32,
    b: u32,
    winner: u32,
    rule: Rule,
) -> Conflict {
    let trace = cx.trace;
    let does = |v: u32| {
        let e = cx.event(v);
        match trace.value(e) {
            Some(val) => format!("{} {}", e.op.as_str(), val),
            None => e.op.as_str().to_string(),
        }
    };
    let clocks = |v: u32| {
        let e = cx.event(v);
        (e.lamport(), e.wall_ns())
    };
    Conflict {
        key: key.to_string(),
        element,
        a: cx.id(a),
        b: cx.id(b),
        winner: (winner != u32::MAX).then(|| cx.id(winner)),
        rule,
        why: ConflictWhy {
            a_saw_of_b: cx.o.seen(a, cx.o.replica(b)),
            b_saw_of_a: cx.o.seen(b, cx.o.replica(a)),
            a_does: does(a),
            b_does: does(b),
            a_clocks: clocks(a),
            b_clocks: clocks(b),
        },
    }
}
