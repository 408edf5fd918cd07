//! Brute-force reference implementation of `/work/shared/spec/trace-format.md`, sections 1–6
//! and 8 (section 8, the reads, is in `reads.rs`).
//!
//! This is deliberately naive: every event is kept as the `serde_json::Value` it was read as,
//! events are addressed by their index in the id-sorted list, happens-before is a dense boolean
//! reachability matrix (Floyd–Warshall), and every "maximal element of" / "concurrent with" is
//! evaluated straight from its definition. It is meant for traces of at most a few dozen events.
//!
//! `brute_report` returns the section-6 JSON report object, except that violations carry no
//! `"message"` field (messages are prose, not part of the checked contract).
//!
//! Used by `tests/props.rs` and `tests/brute_fixtures.rs` (each includes it with `mod brute;`).

// Index loops are the point here: events are numbered 0..n in id order.
#![allow(dead_code, clippy::needless_range_loop)]

use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

pub mod reads;

/// An event id `(replica, seq)`. The derived tuple order is exactly the spec's id order
/// (§2 "Ids sort by replica (bytewise), then seq (numeric)"): `String`'s `Ord` compares the
/// UTF-8 bytes lexicographically, `u64` numerically.
pub type Id = (String, u64);

pub fn id_json(id: &Id) -> Value {
    json!([id.0, id.1])
}

// ---------------------------------------------------------------------------------------------
// §2 validation. The property tests only feed well-formed lines; the fixture test uses
// `malformed_reason` to skip fixtures that need `--lenient`, which this reference doesn't model.
// ---------------------------------------------------------------------------------------------

const KINDS: [&str; 5] = ["write", "read", "send", "recv", "local"];
const OPS: [&str; 4] = ["set", "inc", "add", "remove"];

fn is_nonneg_int(v: &Value) -> bool {
    v.as_u64().is_some()
}

fn is_int(v: &Value) -> bool {
    v.as_i64().is_some() || v.as_u64().is_some()
}

/// `None` when `v` is a well-formed event line per the §2 table, else the reason.
pub fn malformed_reason(v: &Value) -> Option<String> {
    let Some(o) = v.as_object() else {
        return Some("not a JSON object".into());
    };
    // replica: string, 1–256 bytes, required
    match o.get("replica").and_then(Value::as_str) {
        Some(r) if !r.is_empty() && r.len() <= 256 => {}
        _ => return Some("replica must be a string of 1-256 bytes".into()),
    }
    // seq: integer >= 1, required
    match o.get("seq").and_then(Value::as_u64) {
        Some(s) if s >= 1 => {}
        _ => return Some("seq must be an integer >= 1".into()),
    }
    // kind: one of five, default "local"
    let kind = match o.get("kind") {
        None => "local",
        Some(k) => match k.as_str() {
            Some(k) if KINDS.contains(&k) => k,
            _ => return Some("unknown kind".into()),
        },
    };
    // lamport: integer >= 0
    if let Some(l) = o.get("lamport") {
        if !is_nonneg_int(l) {
            return Some("lamport must be an integer >= 0".into());
        }
    }
    // vc: object replica -> integer >= 0
    if let Some(vc) = o.get("vc") {
        let Some(m) = vc.as_object() else {
            return Some("vc must be an object".into());
        };
        if !m.values().all(is_nonneg_int) {
            return Some("negative or non-integer vc entry".into());
        }
    }
    // wall_ns: integer
    if let Some(w) = o.get("wall_ns") {
        if !is_int(w) {
            return Some("wall_ns must be an integer".into());
        }
    }
    // parents: array of [replica, seq]
    if let Some(p) = o.get("parents") {
        let Some(arr) = p.as_array() else {
            return Some("parents must be an array".into());
        };
        for e in arr {
            let ok = e.as_array().is_some_and(|pair| {
                pair.len() == 2
                    && pair[0]
                        .as_str()
                        .is_some_and(|r| !r.is_empty() && r.len() <= 256)
                    && pair[1].as_u64().is_some_and(|s| s >= 1)
            });
            if !ok {
                return Some("parents entries must be [replica, seq]".into());
            }
        }
    }
    // msg: string, required for send/recv
    match o.get("msg") {
        Some(m) if !m.is_string() => return Some("msg must be a string".into()),
        None if kind == "send" || kind == "recv" => return Some("send/recv without msg".into()),
        _ => {}
    }
    // key: string, required for write/read
    match o.get("key") {
        Some(k) if !k.is_string() => return Some("key must be a string".into()),
        None if kind == "write" || kind == "read" => return Some("write/read without key".into()),
        _ => {}
    }
    // op: one of four
    if let Some(op) = o.get("op") {
        if !op.as_str().is_some_and(|op| OPS.contains(&op)) {
            return Some("unknown op".into());
        }
    }
    // crdt: "on a write or read, a value other than the four makes the line malformed" (on
    // other kinds it is ignored). Read literally, `"crdt": null` is such a value; weft-trace
    // accepts it as no declaration. No fixture or generator writes it.
    if kind == "write" || kind == "read" {
        if let Some(c) = o.get("crdt") {
            if !c
                .as_str()
                .is_some_and(|c| ["lww", "mv", "counter", "set"].contains(&c))
            {
                return Some("unknown crdt".into());
            }
        }
    }
    // attrs: object
    if let Some(a) = o.get("attrs") {
        if !a.is_object() {
            return Some("attrs must be an object".into());
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Field accessors on a (well-formed) event value, with the §2 defaults.
// ---------------------------------------------------------------------------------------------

fn ev_id(v: &Value) -> Id {
    (
        v["replica"].as_str().unwrap().to_string(),
        v["seq"].as_u64().unwrap(),
    )
}
/// `kind`, default `"local"`.
fn kind(v: &Value) -> &str {
    v.get("kind").and_then(Value::as_str).unwrap_or("local")
}
fn lamport(v: &Value) -> Option<u64> {
    v.get("lamport").and_then(Value::as_u64)
}
fn wall(v: &Value) -> Option<i128> {
    let w = v.get("wall_ns")?;
    w.as_i64()
        .map(i128::from)
        .or_else(|| w.as_u64().map(i128::from))
}
/// `vc` as a map; `None` when the event has no `vc` field.
fn vc(v: &Value) -> Option<BTreeMap<String, u64>> {
    let m = v.get("vc")?.as_object()?;
    Some(
        m.iter()
            .map(|(k, c)| (k.clone(), c.as_u64().unwrap()))
            .collect(),
    )
}
/// `parents`; `None` when the event has no `parents` field (an empty array is `Some(vec![])`).
fn parents(v: &Value) -> Option<Vec<Id>> {
    let arr = v.get("parents")?.as_array()?;
    Some(
        arr.iter()
            .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_u64().unwrap()))
            .collect(),
    )
}
fn msg(v: &Value) -> Option<&str> {
    v.get("msg").and_then(Value::as_str)
}
fn key(v: &Value) -> Option<&str> {
    v.get("key").and_then(Value::as_str)
}
/// `op`, default `"set"` (only meaningful for writes).
fn op(v: &Value) -> &str {
    v.get("op").and_then(Value::as_str).unwrap_or("set")
}
/// `value`; an absent value is treated as JSON `null`.
fn value(v: &Value) -> Value {
    v.get("value").cloned().unwrap_or(Value::Null)
}

/// Spec ambiguity (§4 lamport-violation vs. an event that is its own parent): read literally,
/// a self-parent `b` is a direct predecessor of itself and `lamport(b) ≤ lamport(b)`, so every
/// self-parent event carrying a `lamport` would also get a lamport-violation naming itself.
/// `false`: the self-edge only counts as a causality-cycle (what weft-analyzer does).
pub const SELF_PARENT_IS_LAMPORT_PREDECESSOR: bool = true;

// ---------------------------------------------------------------------------------------------
// The report.
// ---------------------------------------------------------------------------------------------

struct Violation {
    code: &'static str,
    severity: &'static str,
    event: Id,
    related: Vec<Id>, // kept sorted
}

fn violation(code: &'static str, event: Id, related: impl IntoIterator<Item = Id>) -> Violation {
    // §4 table, "severity" column: only seq-gap and wall-clock-inversion are warnings.
    let severity = match code {
        "seq-gap" | "wall-clock-inversion" => "warning",
        _ => "error",
    };
    let mut related: Vec<Id> = related.into_iter().collect();
    related.sort(); // §4 "Ids in `related` are sorted."
    Violation {
        code,
        severity,
        event,
        related,
    }
}

/// Parses and dedupes the lines (§1, §2). Returns the kept events by id, the number of identical
/// later copies, and the ids that had a differing later copy.
fn read_events(lines: &[String]) -> (BTreeMap<Id, Value>, u64, BTreeSet<Id>) {
    let mut kept: BTreeMap<Id, Value> = BTreeMap::new();
    let mut duplicates = 0u64;
    let mut differing: BTreeSet<Id> = BTreeSet::new();
    let mut seen_first_line = false;
    for (i, line) in lines.iter().enumerate() {
        // §1 "Blank lines are ignored."
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("line {}: not JSON ({e}): {line}", i + 1));
        // §1 "An optional first line that is a header object: {"format": ...}"
        let is_first = !seen_first_line;
        seen_first_line = true;
        if is_first && v.as_object().is_some_and(|o| o.contains_key("format")) {
            continue;
        }
        if let Some(why) = malformed_reason(&v) {
            panic!("line {}: malformed ({why}): {line}", i + 1);
        }
        let id = ev_id(&v);
        match kept.get(&id) {
            // §2 "The first copy read is kept"
            None => {
                kept.insert(id, v);
            }
            // "later copies equal to it (as JSON values) are dropped and counted"
            Some(first) if *first == v => duplicates += 1,
            // "a copy that differs is a duplicate-event error" (one per id, §4 table)
            Some(_) => {
                differing.insert(id);
            }
        }
    }
    (kept, duplicates, differing)
}

pub fn brute_report(lines: &[String]) -> Value {
    brute_full(lines).0
}

/// The report, and the reference's verdict on every read it checked (section 8).
pub fn brute_full(lines: &[String]) -> (Value, Vec<reads::ReadCheck>) {
    let (kept, duplicates, differing) = read_events(lines);

    // Events indexed 0..n in id order, so comparing indices == comparing ids.
    let ids: Vec<Id> = kept.keys().cloned().collect();
    let evs: Vec<&Value> = kept.values().collect();
    let n = ids.len();
    let index_of = |id: &Id| ids.iter().position(|x| x == id);
    // The previous present event of the same replica (by seq) is simply the previous index
    // when it has the same replica name.
    let prev_of = |i: usize| -> Option<usize> {
        if i > 0 && ids[i - 1].0 == ids[i].0 {
            Some(i - 1)
        } else {
            None
        }
    };

    let mut violations: Vec<Violation> = Vec::new();

    // duplicate-event: "id seen twice with different content" — event: the id; related: none.
    for id in &differing {
        violations.push(violation("duplicate-event", id.clone(), []));
    }

    // seq-gap: "present event whose previous present event of the same replica has
    // seq ≠ its seq − 1 (or, for the first present event, seq ≠ 1)".
    for i in 0..n {
        let expected = match prev_of(i) {
            Some(p) => ids[p].1 + 1,
            None => 1,
        };
        if ids[i].1 != expected {
            violations.push(violation("seq-gap", ids[i].clone(), []));
        }
    }

    // ---- §3 direct edges (a, b) meaning a → b, between present events ----
    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    // Per referring event: the ids it names (parents or vc-derived) that are not in the trace.
    let mut missing: BTreeMap<usize, BTreeSet<Id>> = BTreeMap::new();

    for b in 0..n {
        let v = evs[b];

        // Rule 1: "each present event of a replica precedes the next present event of that
        // replica (by seq; a gap in seq does not break the chain)".
        if let Some(p) = prev_of(b) {
            edges.insert((p, b));
        }

        // Rule 2: "Each entry of `parents`."
        if let Some(ps) = parents(v) {
            for pid in ps {
                match index_of(&pid) {
                    Some(a) => {
                        edges.insert((a, b));
                    }
                    None => {
                        missing.entry(b).or_default().insert(pid);
                    }
                }
            }
        }

        // Rule 3: "For a recv with message m: every send with message m."
        if kind(v) == "recv" {
            let m = msg(v).unwrap();
            let sends: Vec<usize> = (0..n)
                .filter(|&a| kind(evs[a]) == "send" && msg(evs[a]) == Some(m))
                .collect();
            // unmatched-recv: "recv whose msg no send has".
            if sends.is_empty() {
                violations.push(violation("unmatched-recv", ids[b].clone(), []));
            }
            for a in sends {
                edges.insert((a, b));
            }
        }

        // Rule 4: "only for an event that is not a recv, has no parents field and has a vc: for
        // each replica q other than its own whose vc entry exceeds the entry of the previous
        // present event of the same replica (0 where that event is absent or has no vc), the
        // event (q, vc[q]) is a direct predecessor."
        if kind(v) != "recv" && v.get("parents").is_none() {
            if let Some(my_vc) = vc(v) {
                let prev_vc: BTreeMap<String, u64> =
                    prev_of(b).and_then(|p| vc(evs[p])).unwrap_or_default();
                for (q, &c) in &my_vc {
                    let before = prev_vc.get(q).copied().unwrap_or(0);
                    if *q != ids[b].0 && c > before {
                        let pid: Id = (q.clone(), c);
                        match index_of(&pid) {
                            Some(a) => {
                                edges.insert((a, b));
                            }
                            None => {
                                missing.entry(b).or_default().insert(pid);
                            }
                        }
                    }
                }
            }
        }
    }

    // missing-event: "event with a parents entry or vc-derived predecessor that is not in the
    // trace" — event: the referring event; related: the missing ids.
    for (b, ms) in &missing {
        violations.push(violation(
            "missing-event",
            ids[*b].clone(),
            ms.iter().cloned(),
        ));
    }

    // duplicate-msg: "message id carried by more than one send" — event: the smallest of those
    // sends; related: the other sends.
    let mut sends_by_msg: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for a in 0..n {
        if kind(evs[a]) == "send" {
            sends_by_msg
                .entry(msg(evs[a]).unwrap())
                .or_default()
                .push(a);
        }
    }
    for sends in sends_by_msg.values() {
        if sends.len() > 1 {
            let smallest = *sends.iter().min().unwrap();
            let others = sends
                .iter()
                .filter(|&&s| s != smallest)
                .map(|&s| ids[s].clone());
            violations.push(violation("duplicate-msg", ids[smallest].clone(), others));
        }
    }

    // lamport-violation: "event b with a direct predecessor a where both have lamport and
    // lamport(b) ≤ lamport(a)" — related: every such a.
    for b in 0..n {
        let Some(lb) = lamport(evs[b]) else { continue };
        let bad: BTreeSet<usize> = edges
            .iter()
            .filter(|&&(a, bb)| bb == b && (a != b || SELF_PARENT_IS_LAMPORT_PREDECESSOR))
            .filter(|&&(a, _)| lamport(evs[a]).is_some_and(|la| lb <= la))
            .map(|&(a, _)| a)
            .collect();
        if !bad.is_empty() {
            violations.push(violation(
                "lamport-violation",
                ids[b].clone(),
                bad.iter().map(|&a| ids[a].clone()),
            ));
        }
    }

    // wall-clock-inversion: one per "ordered pair of replicas (p, q), p ≠ q, with a direct edge
    // a → b from p to q where both have wall_ns and wall_ns(b) < wall_ns(a)"; event: b of the
    // worst such edge (largest inversion; ties: smallest b, then smallest a); related: its a.
    let mut worst: BTreeMap<(String, String), (i128, usize, usize)> = BTreeMap::new();
    for &(a, b) in &edges {
        let (p, q) = (&ids[a].0, &ids[b].0);
        if p == q {
            continue;
        }
        let (Some(wa), Some(wb)) = (wall(evs[a]), wall(evs[b])) else {
            continue;
        };
        if wb >= wa {
            continue;
        }
        let inv = wa - wb;
        let slot = worst.entry((p.clone(), q.clone())).or_insert((inv, b, a));
        let (best_inv, best_b, best_a) = *slot;
        let better =
            inv > best_inv || (inv == best_inv && (b < best_b || (b == best_b && a < best_a)));
        if better {
            *slot = (inv, b, a);
        }
    }
    for &(_, b, a) in worst.values() {
        violations.push(violation(
            "wall-clock-inversion",
            ids[b].clone(),
            [ids[a].clone()],
        ));
    }

    // ---- happens-before: transitive closure by Floyd–Warshall ----
    // reach[a][b] == true  iff  there is a path of length ≥ 1 of direct edges from a to b.
    let mut reach = vec![vec![false; n]; n];
    for &(a, b) in &edges {
        reach[a][b] = true;
    }
    for k in 0..n {
        for i in 0..n {
            if reach[i][k] {
                for j in 0..n {
                    if reach[k][j] {
                        reach[i][j] = true;
                    }
                }
            }
        }
    }

    // causality-cycle: "strongly connected set of more than one event, or an event that is its
    // own parent" — event: the smallest event in it; related: the others (at most 50).
    // An event lies on a cycle iff it reaches itself; its strongly connected set is itself plus
    // every event it reaches and is reached by. (An event that is its own parent reaches itself
    // through its self-edge; the only self-edges come from `parents`: rules 1, 3, 4 never relate
    // an event to itself.)
    let mut has_cycle = false;
    for i in 0..n {
        if !reach[i][i] {
            continue;
        }
        has_cycle = true;
        let class: Vec<usize> = (0..n)
            .filter(|&j| j == i || (reach[i][j] && reach[j][i]))
            .collect();
        if class[0] == i {
            // i is the smallest member: report the class once.
            let others = class.iter().skip(1).take(50).map(|&j| ids[j].clone());
            violations.push(violation("causality-cycle", ids[i].clone(), others));
        }
    }

    // a → b (happens-before) and a ∥ b (concurrent), straight from the definitions in §3.
    let hb = |a: usize, b: usize| reach[a][b];
    let concurrent = |a: usize, b: usize| a != b && !hb(a, b) && !hb(b, a);

    let mut conflicts: Vec<(String, Value, usize, usize, Value, &'static str)> = Vec::new();
    let mut unresolved: Vec<(String, Vec<usize>)> = Vec::new();

    // §4: "When there is a causality-cycle ... vc-mismatch and the conflict sections are not
    // computed (empty)".
    if !has_cycle {
        // vc-mismatch: "event with a vc that differs from VC(e) (zero entries equal absent ones)".
        // VC(e) "maps each replica to the largest seq of its events in the causal past of e
        // (e included)".
        for e in 0..n {
            let Some(given) = vc(evs[e]) else { continue };
            let given: BTreeMap<String, u64> = given.into_iter().filter(|(_, c)| *c != 0).collect();
            let mut implied: BTreeMap<String, u64> = BTreeMap::new();
            for x in 0..n {
                if x == e || hb(x, e) {
                    let slot = implied.entry(ids[x].0.clone()).or_insert(0);
                    *slot = (*slot).max(ids[x].1);
                }
            }
            if given != implied {
                violations.push(violation("vc-mismatch", ids[e].clone(), []));
            }
        }

        // §5 helpers. "maximal: no other member of that set happens after it".
        let is_maximal_in = |x: usize, set: &[usize]| -> bool {
            set.contains(&x) && !set.iter().any(|&y| y != x && hb(x, y))
        };
        let writes: Vec<usize> = (0..n).filter(|&i| kind(evs[i]) == "write").collect();

        // Registers (op "set"), per key: W = the set-writes of that key.
        let mut reg_keys: BTreeSet<&str> = BTreeSet::new();
        for &w in &writes {
            if op(evs[w]) == "set" {
                reg_keys.insert(key(evs[w]).unwrap());
            }
        }
        for k in &reg_keys {
            let ws: Vec<usize> = writes
                .iter()
                .copied()
                .filter(|&w| op(evs[w]) == "set" && key(evs[w]) == Some(*k))
                .collect();
            // C(x) = the writes of W concurrent with x.
            let c_of = |x: usize| -> Vec<usize> {
                ws.iter().copied().filter(|&w| concurrent(w, x)).collect()
            };
            for &a in &ws {
                for &b in &ws {
                    // "{a, b} is a conflict when a ∥ b, a is a maximal element of C(b) and b is a
                    // maximal element of C(a)"; a < b names each unordered pair once, a the smaller.
                    if a < b
                        && concurrent(a, b)
                        && is_maximal_in(a, &c_of(b))
                        && is_maximal_in(b, &c_of(a))
                    {
                        let (winner, rule) = lww(evs[a], &ids[a], evs[b], &ids[b]);
                        conflicts.push((k.to_string(), Value::Null, a, b, winner, rule));
                    }
                }
            }
            // unresolved: "per key, the maximal register writes of the whole trace when there
            // are two or more of them".
            let maximal: Vec<usize> = ws
                .iter()
                .copied()
                .filter(|&w| is_maximal_in(w, &ws))
                .collect();
            if maximal.len() >= 2 {
                unresolved.push((k.to_string(), maximal));
            }
        }

        // Set elements (op add/remove), per key and element (value): same rule, with C(b)
        // restricted to writes of the other op. Elements are grouped by JSON-value equality.
        let mut groups: Vec<(String, Value, Vec<usize>)> = Vec::new();
        for &w in &writes {
            let o = op(evs[w]);
            if o != "add" && o != "remove" {
                continue;
            }
            let (k, el) = (key(evs[w]).unwrap().to_string(), value(evs[w]));
            match groups
                .iter_mut()
                .find(|(gk, gel, _)| *gk == k && *gel == el)
            {
                Some(g) => g.2.push(w),
                None => groups.push((k, el, vec![w])),
            }
        }
        for (k, el, ws) in &groups {
            // C(x) = the writes of the group with the other op, concurrent with x.
            let c_of = |x: usize| -> Vec<usize> {
                ws.iter()
                    .copied()
                    .filter(|&w| op(evs[w]) != op(evs[x]) && concurrent(w, x))
                    .collect()
            };
            for &a in ws {
                for &b in ws {
                    if a < b
                        && concurrent(a, b)
                        && is_maximal_in(a, &c_of(b))
                        && is_maximal_in(b, &c_of(a))
                    {
                        // a ∈ C(b) forces the ops to differ: exactly one of a, b is the add.
                        // "set elements: the add wins (rule: "add-wins")".
                        let add = if op(evs[a]) == "add" { a } else { b };
                        conflicts.push((
                            k.clone(),
                            el.clone(),
                            a,
                            b,
                            id_json(&ids[add]),
                            "add-wins",
                        ));
                    }
                }
            }
        }
        // Counter increments (op "inc") never conflict: nothing to do.
    }

    // §8: key types (whether or not the trace is complete) and reads (only when it is).
    let section8 = reads::check(&ids, &evs, &hb, !has_cycle);
    for f in &section8.findings {
        violations.push(violation(
            f.code,
            ids[f.event].clone(),
            f.related.iter().map(|&i| ids[i].clone()),
        ));
    }

    // ---- §6 sorting and output ----
    // "violations by (event, code)"; ties (possible for wall-clock-inversion: one b can be the
    // worst edge for both (p, q) and (p', q)) broken by related.
    violations.sort_by(|x, y| (&x.event, x.code, &x.related).cmp(&(&y.event, y.code, &y.related)));
    // "conflicts by (key, element as JSON text, a, b)"
    conflicts.sort_by(|x, y| {
        let tx = serde_json::to_string(&x.1).unwrap();
        let ty = serde_json::to_string(&y.1).unwrap();
        (&x.0, tx, &ids[x.2], &ids[x.3]).cmp(&(&y.0, ty, &ids[y.2], &ids[y.3]))
    });
    // "unresolved by key"
    unresolved.sort_by(|x, y| x.0.cmp(&y.0));

    let errors = violations.iter().filter(|v| v.severity == "error").count();
    let warnings = violations
        .iter()
        .filter(|v| v.severity == "warning")
        .count();
    let replicas: BTreeSet<&String> = ids.iter().map(|id| &id.0).collect();

    let violations_json: Vec<Value> = violations
        .iter()
        .map(|v| {
            json!({
                "code": v.code,
                "severity": v.severity,
                "event": id_json(&v.event),
                "related": v.related.iter().map(id_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let conflicts_json: Vec<Value> = conflicts
        .iter()
        .map(|(k, el, a, b, winner, rule)| {
            json!({
                "key": k,
                "element": el,
                "a": id_json(&ids[*a]),
                "b": id_json(&ids[*b]),
                "winner": winner,
                "rule": rule,
            })
        })
        .collect();
    let unresolved_json: Vec<Value> = unresolved
        .iter()
        .map(|(k, sibs)| {
            json!({"key": k, "siblings": sibs.iter().map(|&s| id_json(&ids[s])).collect::<Vec<_>>()})
        })
        .collect();

    let report = json!({
        "format": "weft-report/1",
        "summary": {
            "events": n,
            "replicas": replicas.len(),
            "duplicates": duplicates,
            "errors": errors,
            "warnings": warnings,
            "conflicts": conflicts_json.len(),
            "unresolved": unresolved_json.len(),
            // §8 "summary.reads_checked counts the reads whose value was checked."
            "reads_checked": section8.checked.len(),
            "complete": !has_cycle,
        },
        "violations": violations_json,
        "conflicts": conflicts_json,
        "unresolved": unresolved_json,
    });
    (report, section8.checked)
}

/// §5 register last-writer-wins: "the winner is the larger (lamport, replica) when both have
/// lamport (rule "lamport"), else the larger (wall_ns, replica) when both have wall_ns (rule
/// "wall"), else no winner (rule "none")". Concurrent writes are on different replicas (rule 1
/// orders a replica's own events), so the pairs never tie.
fn lww(va: &Value, a: &Id, vb: &Value, b: &Id) -> (Value, &'static str) {
    if let (Some(la), Some(lb)) = (lamport(va), lamport(vb)) {
        let w = if (lb, &b.0) > (la, &a.0) { b } else { a };
        return (id_json(w), "lamport");
    }
    if let (Some(wa), Some(wb)) = (wall(va), wall(vb)) {
        let w = if (wb, &b.0) > (wa, &a.0) { b } else { a };
        return (id_json(w), "wall");
    }
    (Value::Null, "none")
}

/// Removes `"message"` from every violation of a report (for comparing a real report with
/// `brute_report`).
pub fn strip_messages(report: &Value) -> Value {
    let mut r = report.clone();
    if let Some(vs) = r.get_mut("violations").and_then(Value::as_array_mut) {
        for v in vs {
            if let Some(o) = v.as_object_mut() {
                o.remove("message");
            }
        }
    }
    r
}

/// Human-readable list of the JSON paths where `a` and `b` differ (for failure messages).
pub fn json_diff(a: &Value, b: &Value) -> String {
    let mut out = Vec::new();
    diff_rec("$", a, b, &mut out);
    out.truncate(40);
    out.join("\n")
}

fn diff_rec(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => diff_rec(&p, u, v, out),
                    (Some(u), None) => out.push(format!("{p}: only left: {u}")),
                    (None, Some(v)) => out.push(format!("{p}: only right: {v}")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                diff_rec(&format!("{path}[{i}]"), u, v, out);
            }
        }
        _ => out.push(format!("{path}:\n    left:  {a}\n    right: {b}")),
    }
}

/// Keeps only the fields §6 defines (the spec allows "more fields may be added"), so extra
/// fields of the real report don't fail the comparison. Missing fields still show up.
pub fn project_to_spec(report: &Value) -> Value {
    fn pick(v: &Value, keys: &[&str]) -> Value {
        let mut m = Map::new();
        if let Some(o) = v.as_object() {
            for k in keys {
                if let Some(x) = o.get(*k) {
                    m.insert((*k).to_string(), x.clone());
                }
            }
        }
        Value::Object(m)
    }
    fn pick_all(v: Option<&Value>, keys: &[&str]) -> Option<Value> {
        Some(Value::Array(
            v?.as_array()?.iter().map(|x| pick(x, keys)).collect(),
        ))
    }
    let mut out = pick(
        report,
        &["format", "summary", "violations", "conflicts", "unresolved"],
    );
    let o = out.as_object_mut().unwrap();
    if let Some(s) = report.get("summary") {
        o.insert(
            "summary".into(),
            pick(
                s,
                &[
                    "events",
                    "replicas",
                    "duplicates",
                    "errors",
                    "warnings",
                    "conflicts",
                    "unresolved",
                    "reads_checked",
                    "complete",
                ],
            ),
        );
    }
    if let Some(v) = pick_all(
        report.get("violations"),
        &["code", "severity", "event", "related", "message"],
    ) {
        o.insert("violations".into(), v);
    }
    if let Some(v) = pick_all(
        report.get("conflicts"),
        &["key", "element", "a", "b", "winner", "rule"],
    ) {
        o.insert("conflicts".into(), v);
    }
    if let Some(v) = pick_all(report.get("unresolved"), &["key", "siblings"]) {
        o.insert("unresolved".into(), v);
    }
    out
}

/// Id of an event line (for generators/tests).
pub fn line_id(v: &Value) -> Option<Id> {
    Some((
        v.get("replica")?.as_str()?.to_string(),
        v.get("seq")?.as_u64()?,
    ))
}
