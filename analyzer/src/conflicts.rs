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

struct Ctx<'a> {
    trace: &'a Trace,
    g: &'a CausalGraph,
    clocks: &'a WriteClocks,
}

impl Ctx<'_> {
    /// `x → y` for two writes (x ≠ y).
    #[inline]
    fn hb(&self, x: u32, y: u32) -> bool {
        self.clocks.hb(self.g, x, y)
    }

    fn op(&self, v: u32) -> Op {
        self.trace.events()[self.g.event(v)].op
    }
}

/// Splits a group (nodes ascending, so each replica's writes are contiguous) into per-replica
/// chains.
fn chains(g: &CausalGraph, group: &[u32]) -> Vec<(u32, Vec<u32>)> {
    let mut out: Vec<(u32, Vec<u32>)> = Vec::new();
    for &v in group {
        match out.last_mut() {
            Some((r, c)) if *r == g.rank(v) => c.push(v),
            _ => out.push((g.rank(v), vec![v])),
        }
    }
    out
}

/// The maximal elements of the writes of `pool` concurrent with `b`.
fn maximal_concurrent(cx: &Ctx, pool: &[(u32, Vec<u32>)], b: u32) -> Vec<u32> {
    let rb = cx.g.rank(b);

    let mut cands = Vec::new();
    for (r, chain) in pool {
        if *r == rb {
            continue; // program order: every write of b's own replica is ordered with b
        }
        let seen = cx.clocks.get(cx.g, b, *r);
        let lo = chain.partition_point(|&x| cx.g.seq(x) <= seen);
        let hi = lo + chain[lo..].partition_point(|&x| !cx.hb(b, x));
        if hi > lo {
            cands.push(chain[hi - 1]);
        }
    }
    let maximal: Vec<u32> = cands
        .iter()
        .copied()
        .filter(|&x| !cands.iter().any(|&y| cx.hb(x, y)))
        .collect();
    maximal
}

/// Conflicts and unresolved keys of an acyclic trace.
pub(crate) fn find(
    trace: &Trace,
    g: &CausalGraph,
    clocks: &WriteClocks,
) -> (Vec<Conflict>, Vec<Unresolved>) {
    let cx = Ctx { trace, g, clocks };
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

    let mut conflicts = Vec::new();
    let mut unresolved = Vec::new();
    let mut i = 0;
    while i < writes.len() {
        let (key, element, _) = writes[i];
        let j = i + writes[i..]
            .iter()
            .take_while(|w| w.0 == key && w.1 == element)
            .count();
        let group: Vec<u32> = writes[i..j].iter().map(|w| w.2).collect();
        let key_text = trace.syms().resolve(key);
        if element == u32::MAX {
            let pool = chains(g, &group);
            register_conflicts(&cx, key_text, &group, &pool, &mut conflicts);
            // Unresolved: the maximal set-writes of the key — a chain's last write, unless it
            // happens before another chain's last write.
            let tails: Vec<u32> = pool
                .iter()
                .map(|(_, c)| *c.last().expect("chains are non-empty"))
                .collect();
            let siblings: Vec<u32> = tails
                .iter()
                .copied()
                .filter(|&x| !tails.iter().any(|&y| cx.hb(x, y)))
                .collect();
            if siblings.len() >= 2 {
                unresolved.push(Unresolved {
                    key: key_text.to_string(),
                    siblings: siblings.iter().map(|&v| g.id(trace, v)).collect(),
                });
            }
        } else {
            let value = &element_values[element as usize];
            element_conflicts(&cx, key_text, value, &group, &mut conflicts);
        }
        i = j;
    }
    conflicts.sort_by(|x, y| {
        (x.key.as_bytes(), element_text(&x.element), &x.a, &x.b).cmp(&(
            y.key.as_bytes(),
            element_text(&y.element),
            &y.a,
            &y.b,
        ))
    });
    unresolved.sort_by(|x, y| x.key.as_bytes().cmp(y.key.as_bytes()));
    (conflicts, unresolved)
}

/// An element as the compact JSON text the spec sorts by (`null` for registers).
pub fn element_text(e: &Option<Value>) -> String {
    match e {
        Some(v) => serde_json::to_string(v).expect("values serialize"),
        None => "null".to_string(),
    }
}

/// Calls `emit(a, b)` for each pair with `a < b` where each is maximal for the other; `maxes[i]`
/// belongs to `group[i]` (ascending).
fn mutual_pairs(maxes: &[Vec<u32>], group: &[u32], mut emit: impl FnMut(u32, u32)) {
    for (i, &b) in group.iter().enumerate() {
        for &a in &maxes[i] {
            if a < b {
                let ia = group
                    .binary_search(&a)
                    .expect("maximal writes come from the group");
                if maxes[ia].contains(&b) {
                    emit(a, b);
                }
            }
        }
    }
}

fn register_conflicts(
    cx: &Ctx,
    key: &str,
    group: &[u32],
    pool: &[(u32, Vec<u32>)],
    out: &mut Vec<Conflict>,
) {
    let maxes: Vec<Vec<u32>> = group
        .iter()
        .map(|&b| maximal_concurrent(cx, pool, b))
        .collect();
    mutual_pairs(&maxes, group, |a, b| {
        let (ea, eb) = (
            &cx.trace.events()[cx.g.event(a)],
            &cx.trace.events()[cx.g.event(b)],
        );
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

fn element_conflicts(cx: &Ctx, key: &str, element: &Value, group: &[u32], out: &mut Vec<Conflict>) {
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
    let (add_pool, remove_pool) = (chains(cx.g, &adds), chains(cx.g, &removes));
    let maxes: Vec<Vec<u32>> = group
        .iter()
        .map(|&b| {
            maximal_concurrent(
                cx,
                if cx.op(b) == Op::Add {
                    &remove_pool
                } else {
                    &add_pool
                },
                b,
            )
        })
        .collect();
    mutual_pairs(&maxes, group, |a, b| {
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

fn conflict(
    cx: &Ctx,
    key: &str,
    element: Option<Value>,
    a: u32,
    b: u32,
    winner: u32,
    rule: Rule,
) -> Conflict {
    let (trace, g) = (cx.trace, cx.g);
    let does = |v: u32| {
        let e = &trace.events()[g.event(v)];
        match trace.value(e) {
            Some(val) => format!("{} {}", e.op.as_str(), val),
            None => e.op.as_str().to_string(),
        }
    };
    let clocks = |v: u32| {
        let e = &trace.events()[g.event(v)];
        (e.lamport(), e.wall_ns())
    };
    Conflict {
        key: key.to_string(),
        element,
        a: g.id(trace, a),
        b: g.id(trace, b),
        winner: (winner != u32::MAX).then(|| g.id(trace, winner)),
        rule,
        why: ConflictWhy {
            a_saw_of_b: cx.clocks.get(g, a, g.rank(b)),
            b_saw_of_a: cx.clocks.get(g, b, g.rank(a)),
            a_does: does(a),
            b_does: does(b),
            a_clocks: clocks(a),
            b_clocks: clocks(b),
        },
    }
}
