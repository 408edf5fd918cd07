//! Mutants of one correct read, each with the outcome section 8 prescribes for it, worked out
//! from the simulator's own bookkeeping (the writes each replica knew, the MV register's
//! siblings, the OR-set's contents) — never from the reference under test.

use super::{Id, ReadInfo, SimTrace, Ty};
use serde_json::{json, Value};

/// Every mutant kind on every type it applies to; the property test requires each to occur.
pub const KINDS: [&str; 24] = [
    "stale/lww",
    "stale/mv",
    "stale/set",
    "unseen/lww",
    "unseen/mv",
    "unseen/set",
    "off-by-one/counter",
    "missing/mv",
    "missing/set",
    "repeated/mv",
    "repeated/set",
    "not-written/lww",
    "not-written/mv",
    "not-written/set",
    "float-twin/lww",
    "float-twin/mv",
    "float-twin/set",
    "non-array/mv",
    "non-array/set",
    "no-value/lww",
    "no-value/mv",
    "no-value/counter",
    "no-value/set",
    "float-counter/counter",
];

/// What the mutated read must get.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// This code on the read, with these related events.
    Violation(&'static str, Vec<Id>),
    /// The read is no longer checked (`summary.reads_checked` one lower, no violation).
    NotChecked,
}

fn dedup(vals: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for v in vals {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// `base` with `x` inserted at a position chosen by `seed`.
fn insert(base: &[Value], x: Value, seed: u64) -> Value {
    let mut a = base.to_vec();
    a.insert(seed as usize % (a.len() + 1), x);
    Value::Array(a)
}

/// Whether the read is checked in the correct trace: its key's type is known.
fn checked(sim: &SimTrace, read: &ReadInfo) -> bool {
    let name = json!(SimTrace::key_name(read.key));
    sim.writes.iter().any(|w| w.key == read.key)
        || sim
            .events
            .iter()
            .any(|e| e["key"] == name && e.get("crdt").is_some())
}

/// The mutants of `read` that apply (name, new `value` or `None` to remove it, outcome).
pub fn mutants(
    sim: &SimTrace,
    read: &ReadInfo,
    seed: u64,
) -> Vec<(&'static str, Option<Value>, Outcome)> {
    let mut out = Vec::new();
    if !checked(sim, read) {
        return out;
    }
    let ty = sim.cfg.keys[read.key].0;
    let id = |ev: usize| sim.ids[ev].clone();
    let min_id = |evs: &mut dyn Iterator<Item = usize>| evs.min_by_key(|&e| id(e));
    let writes: Vec<usize> = sim
        .writes
        .iter()
        .filter(|w| w.key == read.key)
        .map(|w| w.ev)
        .collect();
    let op = |w: usize| sim.write(w).op;
    let p = &read.past;
    let cur: Vec<Value> = read.value.as_array().cloned().unwrap_or_default();
    let choose = |c: &[Value]| c[seed as usize % c.len()].clone();
    let mismatch = || Outcome::Violation("read-mismatch", vec![]);
    let never = json!("never written");

    out.push(("no-value", None, Outcome::NotChecked));
    match ty {
        Ty::Lww | Ty::Mv => {
            let vals_m = dedup(read.siblings.iter().map(|&w| sim.written(w)));
            let put = |v: Value| match ty {
                Ty::Lww => v,
                _ => insert(&cur, v, seed),
            };
            // stale: written in P, by none of the siblings; witness: the smallest write of it
            // in P and the smallest write of P after that one.
            let stale = dedup(p.iter().map(|&w| sim.written(w)))
                .into_iter()
                .filter(|v| !vals_m.contains(v))
                .collect::<Vec<_>>();
            if !stale.is_empty() {
                let v = choose(&stale);
                let w = min_id(&mut p.iter().copied().filter(|&w| sim.written(w) == v)).unwrap();
                let after = min_id(&mut p.iter().copied().filter(|&x| sim.write_before(w, x)))
                    .expect("an overwritten write has a successor in P");
                let o = Outcome::Violation("stale-read", vec![id(w), id(after)]);
                out.push(("stale", Some(put(v)), o));
            }
            // unseen: written by writes of the key, none in P (R1: with P empty an lww read of
            // null is the initial value, not a mutant).
            let unseen = dedup(writes.iter().map(|&w| sim.written(w)))
                .into_iter()
                .filter(|v| !p.iter().any(|&w| sim.written(w) == *v))
                .filter(|v| !(ty == Ty::Lww && p.is_empty() && v.is_null()))
                .collect::<Vec<_>>();
            if !unseen.is_empty() {
                let v = choose(&unseen);
                let w = min_id(&mut writes.iter().copied().filter(|&w| sim.written(w) == v));
                let o = Outcome::Violation("read-of-unseen-write", vec![id(w.unwrap())]);
                out.push(("unseen", Some(put(v)), o));
            }
            out.push(("not-written", Some(put(never)), mismatch()));
        }
        Ty::Set => {
            let adds_of = |x: &Value| -> Vec<usize> {
                writes
                    .iter()
                    .copied()
                    .filter(|&w| op(w) == "add" && sim.written(w) == *x)
                    .collect()
            };
            // stale: added in P but not in the OR-set (so every such add was removed after);
            // witness: the smallest add of it in P, the smallest remove of it in P after that.
            let stale = dedup(
                p.iter()
                    .filter(|&&w| op(w) == "add")
                    .map(|&w| sim.written(w)),
            )
            .into_iter()
            .filter(|x| !cur.contains(x))
            .collect::<Vec<_>>();
            if !stale.is_empty() {
                let x = choose(&stale);
                let a = min_id(&mut adds_of(&x).into_iter().filter(|a| p.contains(a))).unwrap();
                let rem = min_id(&mut p.iter().copied().filter(|&w| {
                    op(w) == "remove" && sim.written(w) == x && sim.write_before(a, w)
                }))
                .expect("an OR-set drops an element only after a remove that saw the add");
                let o = Outcome::Violation("stale-read", vec![id(a), id(rem)]);
                out.push(("stale", Some(insert(&cur, x, seed)), o));
            }
            // unseen: added by the key's writes, never in P
            let unseen = dedup(
                writes
                    .iter()
                    .filter(|&&w| op(w) == "add")
                    .map(|&w| sim.written(w)),
            )
            .into_iter()
            .filter(|x| !adds_of(x).iter().any(|a| p.contains(a)))
            .collect::<Vec<_>>();
            if !unseen.is_empty() {
                let x = choose(&unseen);
                let a = min_id(&mut adds_of(&x).into_iter()).unwrap();
                let o = Outcome::Violation("read-of-unseen-write", vec![id(a)]);
                out.push(("unseen", Some(insert(&cur, x, seed)), o));
            }
            out.push(("not-written", Some(insert(&cur, never, seed)), mismatch()));
        }
        Ty::Counter => {
            let n = read.value.as_i64().unwrap();
            let off = if seed & 1 == 0 { n + 1 } else { n - 1 };
            out.push(("off-by-one", Some(json!(off)), mismatch()));
            // `5.0` is not an integer: the read is not checked
            out.push(("float-counter", Some(json!(n as f64)), Outcome::NotChecked));
        }
    }
    if matches!(ty, Ty::Mv | Ty::Set) {
        if !cur.is_empty() {
            let i = seed as usize % cur.len();
            let mut fewer = cur.clone();
            fewer.remove(i);
            out.push(("missing", Some(Value::Array(fewer)), mismatch()));
            out.push((
                "repeated",
                Some(insert(&cur, cur[i].clone(), seed >> 8)),
                mismatch(),
            ));
        }
        let not_array = if seed & 2 == 0 {
            json!({"elements": cur})
        } else {
            Value::Null
        };
        out.push(("non-array", Some(not_array), mismatch()));
    }
    // `1` read as `1.0`, which no write of the key wrote: a value nobody wrote.
    let twin = |v: &Value| v.as_i64().map(|n| json!(n as f64));
    let unwritten = |t: &Value| !writes.iter().any(|&w| sim.written(w) == *t);
    match ty {
        Ty::Lww => {
            if let Some(t) = twin(&read.value).filter(|t| unwritten(t)) {
                out.push(("float-twin", Some(t), mismatch()));
            }
        }
        Ty::Mv | Ty::Set => {
            if let Some((i, t)) = cur
                .iter()
                .enumerate()
                .find_map(|(i, v)| twin(v).filter(|t| unwritten(t)).map(|t| (i, t)))
            {
                let mut a = cur.clone();
                a[i] = t;
                out.push(("float-twin", Some(Value::Array(a)), mismatch()));
            }
        }
        Ty::Counter => {}
    }
    out
}
