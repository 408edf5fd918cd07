//! Brute-force reference for `/work/shared/spec/trace-format.md` section 8 ("Reads: what the
//! replicas observed"): the key types, `crdt-type-conflict`, and the verdict on every read.
//!
//! Like the rest of this module it is deliberately naive, so that it can be believed by reading
//! it next to the spec: `P` is "the writes of `k` that happen before `r`" filtered out of all
//! events with the closure matrix, `M` is "no other write of `P` happens after them" evaluated
//! pairwise, elements are compared with `serde_json::Value`'s `==` (`1` ≠ `1.0`; objects are
//! `BTreeMap`s, so key order is irrelevant), and nothing is cached.
//!
//! Readings chosen where the spec is silent or ambiguous (each is marked `AMBIGUITY` below and
//! listed in `fixtures/README.md`):
//!
//! - R1. A read whose value is what section 8 says it must return is never a violation, even when
//!   the first-code list would otherwise match. Concretely: an `lww` read of `null` with `P`
//!   empty is correct (the initial value) even when a write outside `P` also wrote `null`.
//! - R2. "As a set of JSON values": for `mv`, two maximal writes of the same value are one
//!   expected element, so `[3]` is the right read of siblings `3` and `3`, and `[3, 3]` repeats an
//!   element (`read-mismatch`).
//! - R3. An `inc` with an explicit `"value": null` has a value, and it is not an integer, so the
//!   key is not checked ("an inc without value adds 1" is read as: without a `value` field).
//! - R4. An `add`/`remove` without `value` adds/removes the element `null` (by analogy with "a
//!   `set` write without `value` wrote null", and with section 5's grouping by `value`).
//! - R5. A `set` element is unseen when it was *added* only outside `P`; a `remove` of it (in or
//!   out of `P`) does not make it "seen". An element that only removes wrote is a
//!   `read-mismatch` ("a value that no write of `k` wrote" reading "wrote" as "added").
//! - R6. The stale witness: "the smallest such overwritten write" is the smallest write (for
//!   sets: add) of `P` among those that wrote any stale element; its partner is the smallest
//!   write of `P` (sets: remove of the same element in `P`) that it happens before.
//! - R7. "The first declaring event" in the violation table is the smallest declaring event of
//!   the type rules; "the smallest event that disagrees" ranges over every write and read of the
//!   key, the smallest declaring event included (a declaring write whose op does not fit its own
//!   declaration disagrees with itself: `related` is then empty).

// Index loops are the point here, as in mod.rs.
#![allow(clippy::needless_range_loop)]

use super::Id;
use serde_json::Value;

/// A violation found by this section: `event` and `related` are indices into the id-sorted
/// event list (so comparing indices compares ids).
pub struct Finding {
    pub code: &'static str,
    pub event: usize,
    pub related: Vec<usize>,
}

/// What one read must have returned.
#[derive(Clone, Debug, PartialEq)]
pub enum Expected {
    /// `counter`: exactly this integer.
    Sum(i128),
    /// `set`, `mv`: an array with exactly these elements (distinct), in any order.
    Elements(Vec<Value>),
    /// `lww`: any one of these values.
    OneOf(Vec<Value>),
}

/// The reference's verdict on one read whose value it checked.
#[derive(Clone, Debug)]
pub struct ReadCheck {
    pub read: Id,
    pub key: String,
    pub crdt: &'static str,
    pub value: Value,
    pub expected: Expected,
    /// `None` when the read returned what it must.
    pub code: Option<&'static str>,
}

pub struct Outcome {
    /// Type conflicts and read violations, in no particular order.
    pub findings: Vec<Finding>,
    /// Every read whose value was checked (`summary.reads_checked` is its length).
    pub checked: Vec<ReadCheck>,
}

/// The type of a key after the section-8 type rules.
enum KeyType {
    Checked(&'static str),
    /// A `crdt-type-conflict` on this event, with these related events: the key is not checked.
    Conflict(usize, Vec<usize>),
    /// Mixed ops and no declaration, or no writes and no declaration.
    NotChecked,
}

fn kind(v: &Value) -> &str {
    v.get("kind").and_then(Value::as_str).unwrap_or("local")
}
fn key(v: &Value) -> Option<&str> {
    v.get("key").and_then(Value::as_str)
}
/// `op`, default `"set"` (§2).
fn op(v: &Value) -> &str {
    v.get("op").and_then(Value::as_str).unwrap_or("set")
}
/// What a write wrote: its `value`, `null` without one ("a set write without value wrote null";
/// reading R4 for add/remove).
fn written(v: &Value) -> Value {
    v.get("value").cloned().unwrap_or(Value::Null)
}
/// The declared type, on a write or read only ("on other kinds the field is ignored").
fn declared(v: &Value) -> Option<&'static str> {
    if !matches!(kind(v), "write" | "read") {
        return None;
    }
    let s = v.get("crdt")?.as_str()?;
    ["lww", "mv", "counter", "set"]
        .into_iter()
        .find(|t| *t == s)
}
/// "`counter` takes `inc`; `set` takes `add`/`remove`; `lww` and `mv` take `set`".
fn fits(t: &str, op: &str) -> bool {
    match t {
        "counter" => op == "inc",
        "set" => op == "add" || op == "remove",
        _ => op == "set",
    }
}
/// A JSON integer (`1.0` and `1e0` are not: serde_json keeps them as floats).
fn as_int(v: &Value) -> Option<i128> {
    v.as_i64()
        .map(i128::from)
        .or_else(|| v.as_u64().map(i128::from))
}
fn contains(set: &[Value], x: &Value) -> bool {
    set.iter().any(|y| y == x)
}
fn dedup(values: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for v in values {
        if !contains(&out, &v) {
            out.push(v);
        }
    }
    out
}

/// The section-8 type rules for the events `evk` (the writes and reads of one key, ascending).
fn key_type(evs: &[&Value], evk: &[usize]) -> KeyType {
    let decls: Vec<usize> = evk
        .iter()
        .copied()
        .filter(|&e| declared(evs[e]).is_some())
        .collect();
    if let Some(&first) = decls.first() {
        // "the smallest declaring event"; an event disagrees with it when it declares another
        // type or is a write whose op does not fit that type (reading R7).
        let t = declared(evs[first]).unwrap();
        let disagrees = |e: usize| {
            declared(evs[e]).is_some_and(|d| d != t)
                || (kind(evs[e]) == "write" && !fits(t, op(evs[e])))
        };
        if let Some(e) = evk.iter().copied().find(|&e| disagrees(e)) {
            let related = if e == first { vec![] } else { vec![first] };
            return KeyType::Conflict(e, related);
        }
        return KeyType::Checked(t);
    }
    // "Without a declaration the type is inferred from the key's writes".
    let ops: Vec<&str> = evk
        .iter()
        .filter(|&&e| kind(evs[e]) == "write")
        .map(|&e| op(evs[e]))
        .collect();
    if ops.is_empty() {
        KeyType::NotChecked
    } else if ops.iter().all(|o| *o == "inc") {
        KeyType::Checked("counter")
    } else if ops.iter().all(|o| *o == "add" || *o == "remove") {
        KeyType::Checked("set")
    } else if ops.iter().all(|o| *o == "set") {
        KeyType::Checked("lww")
    } else {
        KeyType::NotChecked
    }
}

/// Section 8 over the id-sorted events `evs` (`ids[i]` is the id of `evs[i]`), with
/// happens-before `hb(a, b)` (a → b, the transitive closure) and whether the trace is complete.
pub fn check(
    ids: &[Id],
    evs: &[&Value],
    hb: &dyn Fn(usize, usize) -> bool,
    complete: bool,
) -> Outcome {
    let n = evs.len();
    let mut out = Outcome {
        findings: vec![],
        checked: vec![],
    };
    let mut keys: Vec<&str> = (0..n)
        .filter(|&e| matches!(kind(evs[e]), "write" | "read"))
        .filter_map(|e| key(evs[e]))
        .collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let evk: Vec<usize> = (0..n)
            .filter(|&e| matches!(kind(evs[e]), "write" | "read") && key(evs[e]) == Some(k))
            .collect();
        let t = match key_type(evs, &evk) {
            // "Type conflicts are reported whether or not the trace is complete."
            KeyType::Conflict(e, related) => {
                out.findings.push(Finding {
                    code: "crdt-type-conflict",
                    event: e,
                    related,
                });
                continue;
            }
            KeyType::NotChecked => continue,
            KeyType::Checked(t) => t,
        };
        // "Reads are checked only when the trace is complete (no causality-cycle)".
        if !complete {
            continue;
        }
        let writes: Vec<usize> = evk
            .iter()
            .copied()
            .filter(|&e| kind(evs[e]) == "write")
            .collect();
        // "A counter key with an inc whose value is not an integer is not checked" (R3: an
        // explicit null is such a value).
        if t == "counter"
            && writes
                .iter()
                .any(|&w| evs[w].get("value").is_some_and(|v| as_int(v).is_none()))
        {
            continue;
        }
        for &r in evk.iter().filter(|&&e| kind(evs[e]) == "read") {
            // "A read without a value field is not checked; "value": null is a value."
            let Some(value) = evs[r].get("value") else {
                continue;
            };
            // "nor is a counter read whose value is not an integer".
            if t == "counter" && as_int(value).is_none() {
                continue;
            }
            let p: Vec<usize> = writes.iter().copied().filter(|&w| hb(w, r)).collect();
            let (expected, verdict) = judge(t, value, evs, &writes, &p, hb);
            if let Some((code, related)) = verdict {
                out.findings.push(Finding {
                    code,
                    event: r,
                    related,
                });
            }
            out.checked.push(ReadCheck {
                read: ids[r].clone(),
                key: k.to_string(),
                crdt: t,
                value: value.clone(),
                expected,
                code: verdict_code(&out.findings, r),
            });
        }
    }
    out
}

fn verdict_code(findings: &[Finding], r: usize) -> Option<&'static str> {
    findings
        .iter()
        .find(|f| f.event == r && f.code != "crdt-type-conflict")
        .map(|f| f.code)
}

type Verdict = Option<(&'static str, Vec<usize>)>;

/// What a read of type `t` must return given its past `p` (writes of the key that happen before
/// it), and the violation its `value` is, if any.
fn judge(
    t: &str,
    value: &Value,
    evs: &[&Value],
    writes: &[usize],
    p: &[usize],
    hb: &dyn Fn(usize, usize) -> bool,
) -> (Expected, Verdict) {
    let in_p = |w: usize| p.contains(&w);
    // "M the maximal set-writes of P (no other write of P happens after them)".
    let m: Vec<usize> = p
        .iter()
        .copied()
        .filter(|&w| op(evs[w]) == "set" && !p.iter().any(|&x| x != w && hb(w, x)))
        .collect();
    let in_m = |w: usize| m.contains(&w);
    // Registers: the writes of the key that wrote `x`.
    let writers = |x: &Value| -> Vec<usize> {
        writes
            .iter()
            .copied()
            .filter(|&w| written(evs[w]) == *x)
            .collect()
    };
    match t {
        "counter" => {
            // "the sum of the values of the inc writes of P (an inc without value adds 1)".
            let sum: i128 = p
                .iter()
                .filter(|&&w| op(evs[w]) == "inc")
                .map(|&w| evs[w].get("value").map_or(1, |v| as_int(v).unwrap()))
                .sum();
            let v = as_int(value).unwrap();
            let verdict = (v != sum).then(|| ("read-mismatch", vec![]));
            (Expected::Sum(sum), verdict)
        }
        "lww" => {
            // "the value of one of the writes of M"; initial (P empty) `null`.
            let expected = if p.is_empty() {
                vec![Value::Null]
            } else {
                dedup(m.iter().map(|&w| written(evs[w])))
            };
            if contains(&expected, value) {
                return (Expected::OneOf(expected), None); // R1
            }
            let ws = writers(value);
            let verdict = if !ws.is_empty() && !ws.iter().any(|&w| in_p(w)) {
                Some(("read-of-unseen-write", vec![ws[0]]))
            } else {
                let seen: Vec<usize> = ws.iter().copied().filter(|&w| in_p(w)).collect();
                if !seen.is_empty() && seen.iter().all(|&w| !in_m(w)) {
                    Some(("stale-read", stale_pair_register(&seen, p, hb)))
                } else {
                    Some(("read-mismatch", vec![]))
                }
            };
            (Expected::OneOf(expected), verdict)
        }
        "mv" => {
            // "an array whose elements, as a set of JSON values, are the values of the writes
            // of M" (R2: equal values are one element).
            let expected = dedup(m.iter().map(|&w| written(evs[w])));
            let verdict = examine_elements(value, &expected, |els| {
                // unseen: written only by writes not in P
                let unseen: Vec<usize> = els
                    .iter()
                    .map(&writers)
                    .filter(|ws| !ws.is_empty() && !ws.iter().any(|&w| in_p(w)))
                    .map(|ws| ws[0])
                    .collect();
                if let Some(&w) = unseen.iter().min() {
                    return Some(("read-of-unseen-write", vec![w]));
                }
                // stale: written in P only by writes not in M
                let mut overwritten: Vec<usize> = Vec::new();
                for x in els {
                    let seen: Vec<usize> = writers(x).into_iter().filter(|&w| in_p(w)).collect();
                    if !seen.is_empty() && seen.iter().all(|&w| !in_m(w)) {
                        overwritten.extend(seen);
                    }
                }
                overwritten.sort();
                (!overwritten.is_empty())
                    .then(|| ("stale-read", stale_pair_register(&overwritten, p, hb)))
            });
            (Expected::Elements(expected), verdict)
        }
        "set" => {
            let adds = |x: &Value| -> Vec<usize> {
                writes
                    .iter()
                    .copied()
                    .filter(|&w| op(evs[w]) == "add" && written(evs[w]) == *x)
                    .collect()
            };
            let removes_in_p_after = |x: &Value, a: usize| -> Vec<usize> {
                p.iter()
                    .copied()
                    .filter(|&w| op(evs[w]) == "remove" && written(evs[w]) == *x && hb(a, w))
                    .collect()
            };
            // "the elements x with an add of x in P that no remove of x in P happens after".
            let expected = dedup(
                p.iter()
                    .copied()
                    .filter(|&a| op(evs[a]) == "add")
                    .filter(|&a| removes_in_p_after(&written(evs[a]), a).is_empty())
                    .map(|a| written(evs[a])),
            );
            let verdict = examine_elements(value, &expected, |els| {
                // unseen: added only by writes not in P (R5)
                let unseen: Vec<usize> = els
                    .iter()
                    .map(&adds)
                    .filter(|ws| !ws.is_empty() && !ws.iter().any(|&w| in_p(w)))
                    .map(|ws| ws[0])
                    .collect();
                if let Some(&w) = unseen.iter().min() {
                    return Some(("read-of-unseen-write", vec![w]));
                }
                // stale: every add of it in P has a remove of it in P after it
                let mut overwritten: Vec<(usize, Vec<usize>)> = Vec::new();
                for x in els {
                    let seen: Vec<usize> = adds(x).into_iter().filter(|&w| in_p(w)).collect();
                    if !seen.is_empty()
                        && seen.iter().all(|&a| !removes_in_p_after(x, a).is_empty())
                    {
                        overwritten.extend(seen.iter().map(|&a| (a, removes_in_p_after(x, a))));
                    }
                }
                // R6: the smallest such add, and the smallest remove of its element after it.
                overwritten.sort();
                let (a, rems) = overwritten.into_iter().next()?;
                Some(("stale-read", vec![a, rems[0]]))
            });
            (Expected::Elements(expected), verdict)
        }
        _ => unreachable!("no such type {t}"),
    }
}

/// `mv` and `set`: "the elements are examined together": a non-array is a `read-mismatch`; an
/// array equal as a set to `expected` with no element repeated is right (R1); otherwise
/// `unseen_or_stale` decides between `read-of-unseen-write` and `stale-read`, and anything else
/// ("a missing element or sibling, a value that no write of k wrote, ..., an element repeated")
/// is a `read-mismatch`.
fn examine_elements(
    value: &Value,
    expected: &[Value],
    unseen_or_stale: impl Fn(&[Value]) -> Verdict,
) -> Verdict {
    let Some(els) = value.as_array() else {
        return Some(("read-mismatch", vec![]));
    };
    let repeated = dedup(els.iter().cloned()).len() != els.len();
    let same_set =
        els.iter().all(|x| contains(expected, x)) && expected.iter().all(|x| contains(els, x));
    if same_set && !repeated {
        return None;
    }
    unseen_or_stale(els).or(Some(("read-mismatch", vec![])))
}

/// Registers' stale witness: "the smallest such overwritten write and the smallest write of P it
/// happens before". `overwritten` is ascending and non-empty; each member has a successor in P
/// (it is in P but not maximal).
fn stale_pair_register(
    overwritten: &[usize],
    p: &[usize],
    hb: &dyn Fn(usize, usize) -> bool,
) -> Vec<usize> {
    let w = overwritten[0];
    let after = p.iter().copied().filter(|&x| hb(w, x)).min().unwrap();
    vec![w, after]
}
