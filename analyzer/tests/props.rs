//! Property tests: `weft_analyzer::analyze` against the brute-force reference in `brute/mod.rs`.
//!
//! Traces are produced by simulating 2–4 replicas correctly (true vector clocks, Lamport clocks
//! and skewed wall clocks), with cross-replica causality carried by one edge source at a time
//! (messages / explicit parents / vector clocks only, ShiViz style) or all of them mixed, and
//! then damaged by a few random faults (dropped, duplicated and conflicting lines, unmerged
//! clocks, stuck Lamport clocks, dangling and forward parents, seq gaps, reused message ids,
//! unmatched receives, ...).
//!
//! Failure persistence is off so that the tests never write files into the source tree; proptest
//! prints the minimal failing input (and the failure message prints the NDJSON lines).

mod brute;

use brute::{brute_report, json_diff, line_id, project_to_spec, strip_messages, Id};
use proptest::prelude::*;
use proptest::test_runner::Config as PtConfig;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------------
// Generator: configuration and steps
// ---------------------------------------------------------------------------------------------

/// Replica names, chosen so that bytewise order differs from "natural" order
/// ("Zed" < "alice" < "bob" < "r10" < "r2" < "ü").
const NAMES: [&str; 6] = ["alice", "bob", "r10", "r2", "Zed", "ü"];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// send/recv with `msg` (sometimes broadcast)
    Msg,
    /// merge events naming remote events in `parents`
    Parents,
    /// only vector clocks: sync events carry the merged clock, no msg/parents (rule 4)
    VcOnly,
    /// all of the above
    Mixed,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Presence {
    Never,
    Always,
    Sometimes,
}

#[derive(Debug, Clone)]
struct Config {
    replicas: usize,
    mode: Mode,
    lamport: Presence,
    wall: Presence,
    /// vc presence for Msg/Parents/Mixed (VcOnly always carries vc; so do Mixed's sync events)
    vc: Presence,
    keys: u8,
    /// wall-clock skew step between replicas, ns
    skew: i64,
    header: bool,
    blanks: bool,
    names_rot: usize,
}

impl Config {
    fn names(&self) -> Vec<String> {
        (0..self.replicas)
            .map(|i| NAMES[(i + self.names_rot) % NAMES.len()].to_string())
            .collect()
    }
}

#[derive(Debug, Clone)]
struct Step {
    who: u8,
    what: u8,
    key: u8,
    val: u8,
    op: u8,
    pick: u8,
    pick2: u8,
    /// bit 0: lamport shown (Sometimes), 1: wall shown, 2: vc shown, 3: attrs + unknown field,
    /// 4: explicit `"kind":"local"`, 5: omit `"op":"set"`, 6: merge also names own previous
    /// event as a parent, 7: vc lists explicit zero entries
    flags: u8,
}

#[derive(Debug, Clone)]
struct Fault {
    kind: u8,
    i: u16,
    j: u16,
    x: u8,
}

const FAULT_KINDS: u8 = 14;
const DUP_DIFFERENT: u8 = 2;

fn presence() -> impl Strategy<Value = Presence> {
    prop_oneof![
        Just(Presence::Never),
        Just(Presence::Always),
        Just(Presence::Sometimes)
    ]
}

fn config(
    mode: impl Strategy<Value = Mode>,
    vc: impl Strategy<Value = Presence>,
) -> impl Strategy<Value = Config> {
    (
        2usize..=4,
        mode,
        presence(),
        presence(),
        vc,
        1u8..=3,
        prop_oneof![Just(0i64), Just(700), Just(3000)],
        any::<bool>(),
        any::<bool>(),
        0usize..NAMES.len(),
    )
        .prop_map(
            |(replicas, mode, lamport, wall, vc, keys, skew, header, blanks, names_rot)| Config {
                replicas,
                mode,
                lamport,
                wall,
                vc,
                keys,
                skew,
                header,
                blanks,
                names_rot,
            },
        )
}

fn any_mode() -> impl Strategy<Value = Mode> {
    prop_oneof![
        Just(Mode::Msg),
        Just(Mode::Parents),
        Just(Mode::VcOnly),
        Just(Mode::Mixed)
    ]
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        any::<[u8; 8]>().prop_map(|a| Step {
            who: a[0],
            what: a[1],
            key: a[2],
            val: a[3],
            op: a[4],
            pick: a[5],
            pick2: a[6],
            flags: a[7],
        }),
        4..=25,
    )
}

fn faults(kinds: Vec<u8>) -> impl Strategy<Value = Vec<Fault>> {
    prop::collection::vec(
        (
            prop::sample::select(kinds),
            any::<u16>(),
            any::<u16>(),
            any::<u8>(),
        )
            .prop_map(|(kind, i, j, x)| Fault { kind, i, j, x }),
        0..=4,
    )
}

// ---------------------------------------------------------------------------------------------
// Generator: correct simulation
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Act {
    Write,
    Plain,
    Send,
    Recv,
    Merge,
    Merge2,
    Sync,
}

#[derive(Debug, Clone)]
struct SimEv {
    rep: usize,
    seq: u64,
    kind: &'static str,
    lamport: u64,
    wall: i64,
    vc: BTreeMap<String, u64>,
    parents: Option<Vec<Id>>,
    msg: Option<String>,
    key: Option<String>,
    op: Option<&'static str>,
    value: Option<Value>,
    force_vc: bool,
    flags: u8,
}

struct Rep {
    name: String,
    seq: u64,
    vc: BTreeMap<String, u64>,
    lamport: u64,
    /// indices (into `out`) of sends delivered to this replica but not yet received
    inbox: Vec<usize>,
    /// indices (into `out`) of this replica's events
    events: Vec<usize>,
}

struct Sim<'a> {
    cfg: &'a Config,
    reps: Vec<Rep>,
    out: Vec<SimEv>,
    next_msg: u32,
    time: i64,
}

impl<'a> Sim<'a> {
    fn new(cfg: &'a Config) -> Self {
        let reps = cfg
            .names()
            .into_iter()
            .map(|name| Rep {
                name,
                seq: 0,
                vc: BTreeMap::new(),
                lamport: 0,
                inbox: vec![],
                events: vec![],
            })
            .collect();
        Sim {
            cfg,
            reps,
            out: vec![],
            next_msg: 0,
            time: 0,
        }
    }

    /// A new event of replica `r` that has absorbed the knowledge of the events `merged`
    /// (indices into `out`): vc = pointwise max, then own entry = seq; Lamport = max + 1.
    fn tick(&mut self, r: usize, merged: &[usize], step: &Step) -> SimEv {
        let absorbed: Vec<(BTreeMap<String, u64>, u64)> = merged
            .iter()
            .map(|&m| (self.out[m].vc.clone(), self.out[m].lamport))
            .collect();
        let skew = (r as i64 - 1) * self.cfg.skew;
        let rep = &mut self.reps[r];
        rep.seq += 1;
        for (vc, l) in absorbed {
            for (q, c) in vc {
                let e = rep.vc.entry(q).or_insert(0);
                *e = (*e).max(c);
            }
            rep.lamport = rep.lamport.max(l);
        }
        rep.vc.insert(rep.name.clone(), rep.seq);
        rep.lamport += 1;
        SimEv {
            rep: r,
            seq: rep.seq,
            kind: "local",
            lamport: rep.lamport,
            wall: 1_700_000_000_000_000_000 + self.time + skew,
            vc: rep.vc.clone(),
            parents: None,
            msg: None,
            key: None,
            op: None,
            value: None,
            force_vc: false,
            flags: step.flags,
        }
    }

    fn push(&mut self, ev: SimEv) -> usize {
        let i = self.out.len();
        self.reps[ev.rep].events.push(i);
        self.out.push(ev);
        i
    }

    fn id(&self, i: usize) -> Id {
        (self.reps[self.out[i].rep].name.clone(), self.out[i].seq)
    }

    /// Makes `ev` a write with a payload chosen by the step: small values so that conflicts occur.
    fn write_payload(&self, ev: &mut SimEv, step: &Step) {
        ev.kind = "write";
        ev.key = Some(format!("k{}", step.key % self.cfg.keys));
        let op = match step.op % 8 {
            0..=2 => "set",
            3 | 4 => "add",
            5 | 6 => "remove",
            _ => "inc",
        };
        ev.op = Some(op);
        ev.value = Some(match op {
            "set" => json!(step.val % 4),
            "inc" => json!(1 + step.val % 3),
            _ => [json!(1), json!("x"), json!({"k": 1}), json!([1])][step.val as usize % 4].clone(),
        });
    }

    /// Another replica than `r`, chosen by `pick`.
    fn other(&self, r: usize, pick: u8) -> usize {
        let n = self.reps.len();
        (r + 1 + pick as usize % (n - 1)) % n
    }

    fn step(&mut self, step: &Step) {
        use Act::*;
        self.time += 1000;
        let r = step.who as usize % self.reps.len();
        let acts: &[Act] = match self.cfg.mode {
            Mode::Msg => &[Write, Write, Plain, Send, Recv, Recv],
            Mode::Parents => &[Write, Write, Plain, Merge, Merge, Merge2],
            Mode::VcOnly => &[Write, Write, Plain, Sync, Sync, Sync],
            Mode::Mixed => &[Write, Plain, Send, Recv, Recv, Merge, Merge2, Sync, Sync],
        };
        let act = acts[step.what as usize % acts.len()];
        match act {
            Write => {
                let mut ev = self.tick(r, &[], step);
                self.write_payload(&mut ev, step);
                self.push(ev);
            }
            Plain => {
                let mut ev = self.tick(r, &[], step);
                if step.val & 1 == 1 {
                    ev.kind = "read";
                    ev.key = Some(format!("k{}", step.key % self.cfg.keys));
                }
                self.push(ev);
            }
            Send => {
                let mut ev = self.tick(r, &[], step);
                ev.kind = "send";
                ev.msg = Some(format!("m{}", self.next_msg));
                self.next_msg += 1;
                let i = self.push(ev);
                // one in three sends is a broadcast to every other replica
                let targets: Vec<usize> = if matches!(step.pick2 % 3, 0) {
                    (0..self.reps.len()).filter(|&t| t != r).collect()
                } else {
                    vec![self.other(r, step.pick)]
                };
                for t in targets {
                    self.reps[t].inbox.push(i);
                }
            }
            Recv => {
                if self.reps[r].inbox.is_empty() {
                    let ev = self.tick(r, &[], step);
                    self.push(ev);
                    return;
                }
                let k = step.pick as usize % self.reps[r].inbox.len();
                let s = self.reps[r].inbox.remove(k); // not FIFO: any pending message
                let mut ev = self.tick(r, &[s], step);
                ev.kind = "recv";
                ev.msg = self.out[s].msg.clone();
                self.push(ev);
            }
            Merge | Merge2 | Sync => {
                let o = self.other(r, step.pick);
                if self.reps[o].events.is_empty() {
                    let mut ev = self.tick(r, &[], step);
                    self.write_payload(&mut ev, step);
                    self.push(ev);
                    return;
                }
                let oe = &self.reps[o].events;
                let mut merged = vec![oe[step.pick2 as usize % oe.len()]];
                if let Act::Merge2 = act {
                    let o2 = self.other(r, step.pick2);
                    let oe2 = &self.reps[o2].events;
                    if o2 != o && !oe2.is_empty() {
                        merged.push(oe2[step.pick as usize % oe2.len()]);
                    }
                }
                let own_prev = self.reps[r].events.last().copied();
                let mut ev = self.tick(r, &merged, step);
                if step.key & 0x80 != 0 {
                    self.write_payload(&mut ev, step);
                }
                if let Act::Sync = act {
                    // ShiViz style: the merged clock is the only trace of the merge
                    ev.force_vc = true;
                } else {
                    let mut ps: Vec<Id> = Vec::new();
                    if step.flags & 0x40 != 0 {
                        if let Some(p) = own_prev {
                            ps.push(self.id(p));
                        }
                    }
                    ps.extend(merged.iter().map(|&m| self.id(m)));
                    ev.parents = Some(ps);
                }
                self.push(ev);
            }
        }
    }

    fn render(&self, ev: &SimEv) -> Value {
        let cfg = self.cfg;
        let shown = |p: Presence, bit: u8| match p {
            Presence::Never => false,
            Presence::Always => true,
            Presence::Sometimes => ev.flags & bit != 0,
        };
        let mut m = Map::new();
        m.insert("replica".into(), json!(self.reps[ev.rep].name));
        m.insert("seq".into(), json!(ev.seq));
        if ev.kind != "local" || ev.flags & 0x10 != 0 {
            m.insert("kind".into(), json!(ev.kind));
        }
        if shown(cfg.lamport, 1) {
            m.insert("lamport".into(), json!(ev.lamport));
        }
        if shown(cfg.wall, 2) {
            m.insert("wall_ns".into(), json!(ev.wall));
        }
        if cfg.mode == Mode::VcOnly || ev.force_vc || shown(cfg.vc, 4) {
            let mut vc = Map::new();
            if ev.flags & 0x80 != 0 {
                // "zero entries may be left out" — here they are written out
                for rep in &self.reps {
                    vc.insert(rep.name.clone(), json!(0));
                }
            }
            for (q, c) in &ev.vc {
                vc.insert(q.clone(), json!(c));
            }
            m.insert("vc".into(), Value::Object(vc));
        }
        if let Some(ps) = &ev.parents {
            m.insert("parents".into(), ps.iter().map(brute::id_json).collect());
        }
        if let Some(msg) = &ev.msg {
            m.insert("msg".into(), json!(msg));
        }
        if let Some(k) = &ev.key {
            m.insert("key".into(), json!(k));
        }
        if let Some(op) = ev.op {
            if !(op == "set" && ev.flags & 0x20 != 0) {
                m.insert("op".into(), json!(op));
            }
        }
        if let Some(v) = &ev.value {
            m.insert("value".into(), v.clone());
        }
        if ev.flags & 0x08 != 0 {
            m.insert("attrs".into(), json!({"step": ev.seq, "note": "generated"}));
            m.insert("x_unknown_field".into(), json!([1, 2]));
        }
        Value::Object(m)
    }
}

/// Simulates the steps; returns the event lines (as values) in creation order.
fn simulate(cfg: &Config, steps: &[Step]) -> Vec<Value> {
    let mut sim = Sim::new(cfg);
    for s in steps {
        sim.step(s);
    }
    sim.out.iter().map(|e| sim.render(e)).collect()
}

// ---------------------------------------------------------------------------------------------
// Faults (applied to the event values; every result stays a well-formed line)
// ---------------------------------------------------------------------------------------------

fn s_kind(v: &Value) -> &str {
    v.get("kind").and_then(Value::as_str).unwrap_or("local")
}

fn pick_where(evs: &[Value], i: u16, pred: impl Fn(&Value) -> bool) -> Option<usize> {
    let cands: Vec<usize> = (0..evs.len()).filter(|&k| pred(&evs[k])).collect();
    if cands.is_empty() {
        None
    } else {
        Some(cands[i as usize % cands.len()])
    }
}

fn push_parent(ev: &mut Value, id: Value) {
    let o = ev.as_object_mut().unwrap();
    let ps = o.entry("parents").or_insert_with(|| json!([]));
    ps.as_array_mut().unwrap().push(id);
}

fn apply_faults(evs: &mut Vec<Value>, faults: &[Fault], names: &[String]) {
    for f in faults {
        if evs.is_empty() {
            return;
        }
        let len = evs.len();
        let i = f.i as usize % len;
        let x = f.x;
        match f.kind {
            // dropped line (leaves a seq gap, maybe dangling parents / vc references)
            0 => {
                if len > 1 {
                    evs.remove(i);
                }
            }
            // identical duplicate (retry)
            1 => {
                let c = evs[i].clone();
                evs.insert(f.j as usize % (len + 1), c);
            }
            // duplicate with different content (inserted anywhere: may even be read first)
            DUP_DIFFERENT => {
                let mut c = evs[i].clone();
                let o = c.as_object_mut().unwrap();
                match x % 4 {
                    0 => {
                        o.insert("value".into(), json!("changed"));
                    }
                    1 => {
                        o.insert("attrs".into(), json!({"retry": true}));
                    }
                    2 => {
                        let l = o.get("lamport").and_then(Value::as_u64).unwrap_or(90);
                        o.insert("lamport".into(), json!(l + 7));
                    }
                    _ => {
                        // semantically the same for a local event, but a different JSON value
                        match o.get("kind").and_then(Value::as_str) {
                            None => {
                                o.insert("kind".into(), json!("local"));
                            }
                            Some("local") => {
                                o.remove("kind");
                            }
                            Some(_) => {
                                o.insert("x_unknown_field".into(), json!("retry"));
                            }
                        }
                    }
                }
                evs.insert(f.j as usize % (len + 1), c);
            }
            // clock not merged: other replicas' vc entries reset to the previous own event's
            3 => {
                let Some(k) = pick_where(evs, f.i, |v| {
                    let own = v["replica"].as_str().unwrap();
                    v.get("vc")
                        .and_then(Value::as_object)
                        .is_some_and(|m| m.iter().any(|(q, c)| q != own && c.as_u64() != Some(0)))
                }) else {
                    continue;
                };
                let (rep, seq) = line_id(&evs[k]).unwrap();
                let prev_vc: Map<String, Value> = evs
                    .iter()
                    .find(|v| line_id(v) == Some((rep.clone(), seq - 1)))
                    .and_then(|v| v.get("vc"))
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                let vc = evs[k]["vc"].as_object_mut().unwrap();
                let others: Vec<String> = vc.keys().filter(|q| **q != rep).cloned().collect();
                for q in others {
                    match prev_vc.get(&q) {
                        Some(c) => vc.insert(q, c.clone()),
                        None => vc.remove(&q),
                    };
                }
            }
            // Lamport clock not advanced (or gone backwards)
            4 => {
                let Some(k) = pick_where(evs, f.i, |v| v.get("lamport").is_some()) else {
                    continue;
                };
                let l = evs[k]["lamport"].as_u64().unwrap();
                evs[k]["lamport"] = json!(l.saturating_sub(1 + x as u64 % 2));
            }
            // parents entry naming an event that doesn't exist
            5 => {
                let own = evs[i]["replica"].clone();
                let ghost = if x % 2 == 0 {
                    json!(["ghost", 1 + x % 3])
                } else {
                    json!([own, 100 + x as u64])
                };
                push_parent(&mut evs[i], ghost);
            }
            // cycle: a parents entry pointing forward (later in creation order), or at itself
            6 => {
                let target = if x % 4 == 0 || len == 1 {
                    line_id(&evs[i]).unwrap()
                } else {
                    let j = if i + 1 < len {
                        i + 1 + f.j as usize % (len - i - 1)
                    } else {
                        f.j as usize % i
                    };
                    line_id(&evs[j]).unwrap()
                };
                push_parent(&mut evs[i], brute::id_json(&target));
            }
            // seq jump (gap), the event's references to it now dangle
            7 => {
                let s = evs[i]["seq"].as_u64().unwrap();
                evs[i]["seq"] = json!(s + 10 + x as u64 % 5);
            }
            // two sends share a message id
            8 => {
                let sends: Vec<usize> = (0..len).filter(|&k| s_kind(&evs[k]) == "send").collect();
                if sends.len() >= 2 {
                    let a = sends[f.i as usize % sends.len()];
                    let b = sends[f.j as usize % sends.len()];
                    if a != b {
                        let m = evs[b]["msg"].clone();
                        evs[a]["msg"] = m;
                    }
                }
            }
            // recv of a message nobody sent
            9 => {
                if let Some(k) = pick_where(evs, f.i, |v| s_kind(v) == "recv") {
                    evs[k]["msg"] = json!(format!("lost{}", x % 2));
                }
            }
            // vc entry raised past the truth (dangling or forward vc-derived predecessor)
            10 => {
                let Some(k) = pick_where(evs, f.i, |v| v.get("vc").is_some()) else {
                    continue;
                };
                let q = &names[x as usize % names.len()];
                let c = evs[k]["vc"].get(q).and_then(Value::as_u64).unwrap_or(0);
                evs[k]["vc"][q] = json!(c + 1 + f.j as u64 % 2);
            }
            // vc removed from an event
            11 => {
                if let Some(k) = pick_where(evs, f.i, |v| v.get("vc").is_some()) {
                    evs[k].as_object_mut().unwrap().remove("vc");
                }
            }
            // an empty "parents" field (rule 4 then does not apply to the event)
            12 => {
                if let Some(k) = pick_where(evs, f.i, |v| v.get("parents").is_none()) {
                    evs[k]["parents"] = json!([]);
                }
            }
            // wall clock jumps backwards on one event
            13 => {
                if let Some(k) = pick_where(evs, f.i, |v| v.get("wall_ns").is_some()) {
                    let w = evs[k]["wall_ns"].as_i64().unwrap();
                    evs[k]["wall_ns"] = json!(w - 500 * (1 + x as i64 % 8));
                }
            }
            _ => unreachable!(),
        }
    }
}

/// JSON text with every object's keys in reverse order and spaces after `:` and `,`: the same
/// JSON value as `serde_json::to_string` gives, in a different text.
fn to_text_reordered(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .rev()
                .map(|(k, x)| format!("{}: {}", Value::String(k.clone()), to_text_reordered(x)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter()
                .map(to_text_reordered)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        x => x.to_string(),
    }
}

/// NDJSON lines: optional header first, optional blank lines sprinkled in; every third line is
/// written with another key order and spacing (identical copies must still be recognised).
fn render_lines(cfg: &Config, evs: &[Value]) -> Vec<String> {
    let mut lines = Vec::new();
    if cfg.header {
        lines.push(
            json!({"format": "weft-trace/1", "name": "prop", "replicas": cfg.names()}).to_string(),
        );
    }
    for (k, e) in evs.iter().enumerate() {
        if cfg.blanks && k % 5 == 2 {
            lines.push(String::new());
        }
        lines.push(if k % 3 == 1 {
            to_text_reordered(e)
        } else {
            serde_json::to_string(e).unwrap()
        });
    }
    lines
}

fn build(cfg: &Config, steps: &[Step], faults: &[Fault]) -> Vec<String> {
    let mut evs = simulate(cfg, steps);
    apply_faults(&mut evs, faults, &cfg.names());
    render_lines(cfg, &evs)
}

// ---------------------------------------------------------------------------------------------
// Running the real implementation and comparing
// ---------------------------------------------------------------------------------------------

fn real_report(lines: &[String]) -> Value {
    let mut text = lines.join("\n");
    text.push('\n');
    let trace =
        weft_trace::Trace::from_ndjson_str("t.jsonl", &text, &weft_trace::ReadOptions::default())
            .expect("well-formed");
    let report = weft_analyzer::analyze(&trace);
    // The same events, clocks computed in one topological pass (as large batches are) and by
    // propagating changes (as small ones are).
    for bulk_min in [0, usize::MAX] {
        let mut engine = weft_analyzer::Engine::new().with_bulk_min(bulk_min);
        engine.feed(trace.clone());
        let other = engine.report();
        assert_eq!(
            weft_analyzer::render::json(&other),
            weft_analyzer::render::json(&report),
            "bulk_min {bulk_min}: {text}"
        );
    }
    // The same events, their edges found on several threads, in chunks of a few nodes.
    let mut engine = weft_analyzer::Engine::new()
        .with_threads(3)
        .with_parallel_min(0);
    engine.feed(trace.clone());
    assert_eq!(
        weft_analyzer::render::json(&engine.report()),
        weft_analyzer::render::json(&report),
        "edges in parallel: {text}"
    );
    report.to_json()
}

fn explain(
    lines: &[String],
    left_name: &str,
    left: &Value,
    right_name: &str,
    right: &Value,
) -> String {
    format!(
        "\n=== input ({} lines)\n{}\n=== differences ({left_name} vs {right_name})\n{}\n=== {left_name}\n{}\n=== {right_name}\n{}\n",
        lines.len(),
        lines.join("\n"),
        json_diff(left, right),
        serde_json::to_string_pretty(left).unwrap(),
        serde_json::to_string_pretty(right).unwrap(),
    )
}

/// real (messages stripped, extra fields ignored) == brute; returns the brute report.
fn assert_real_matches_brute(lines: &[String]) -> Result<Value, TestCaseError> {
    let brute = brute_report(lines);
    let real = project_to_spec(&strip_messages(&real_report(lines)));
    prop_assert!(
        real == brute,
        "real report != brute-force report{}",
        explain(lines, "real", &real, "brute", &brute)
    );
    Ok(brute)
}

fn codes(report: &Value) -> Vec<(String, Value)> {
    report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["code"].as_str().unwrap().to_string(), v["event"].clone()))
        .collect()
}

fn vc_mismatch_events(report: &Value) -> Vec<Value> {
    codes(report)
        .into_iter()
        .filter(|(c, _)| c == "vc-mismatch")
        .map(|(_, e)| e)
        .collect()
}

/// A fault-free simulated trace must be clean: only wall-clock-inversion warnings (skew).
fn assert_clean(lines: &[String], brute: &Value) -> Result<(), TestCaseError> {
    let bad: Vec<(String, Value)> = codes(brute)
        .into_iter()
        .filter(|(c, _)| c != "wall-clock-inversion")
        .collect();
    prop_assert!(
        bad.is_empty() && brute["summary"]["complete"] == json!(true),
        "generator bug: fault-free trace has violations {:?}\n{}",
        bad,
        lines.join("\n")
    );
    Ok(())
}

fn cfg_pt() -> PtConfig {
    PtConfig {
        cases: 256,
        failure_persistence: None,
        ..PtConfig::default()
    }
}

fn all_faults() -> Vec<u8> {
    (0..FAULT_KINDS).collect()
}

fn prop1(cfg: &Config, steps: &[Step], faults: &[Fault]) -> Result<(), TestCaseError> {
    let lines = build(cfg, steps, faults);
    let brute = assert_real_matches_brute(&lines)?;
    if faults.is_empty() {
        assert_clean(&lines, &brute)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 1: real == brute on random (faulty) traces, per edge source and mixed
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cfg_pt())]

    #[test]
    fn real_matches_brute_msg(cfg in config(Just(Mode::Msg), presence()), steps in steps(), faults in faults(all_faults())) {
        prop1(&cfg, &steps, &faults)?;
    }

    #[test]
    fn real_matches_brute_parents(cfg in config(Just(Mode::Parents), presence()), steps in steps(), faults in faults(all_faults())) {
        prop1(&cfg, &steps, &faults)?;
    }

    #[test]
    fn real_matches_brute_vc_only(cfg in config(Just(Mode::VcOnly), presence()), steps in steps(), faults in faults(all_faults())) {
        prop1(&cfg, &steps, &faults)?;
    }

    #[test]
    fn real_matches_brute_mixed(cfg in config(Just(Mode::Mixed), presence()), steps in steps(), faults in faults(all_faults())) {
        prop1(&cfg, &steps, &faults)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Property 2: line order (after the header) doesn't change the report
// ---------------------------------------------------------------------------------------------

/// Drops every later copy of an id that differs from the first copy, so that which copy is
/// "read first" can't matter.
fn keep_only_identical_copies(lines: Vec<String>) -> Vec<String> {
    let mut first: BTreeMap<Id, Value> = BTreeMap::new();
    lines
        .into_iter()
        .filter(|l| {
            let Ok(v) = serde_json::from_str::<Value>(l) else {
                return true;
            };
            let Some(id) = line_id(&v) else { return true };
            match first.get(&id) {
                None => {
                    first.insert(id, v);
                    true
                }
                Some(f) => *f == v,
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(cfg_pt())]

    #[test]
    fn shuffling_lines_does_not_change_report(
        cfg in config(any_mode(), presence()),
        steps in steps(),
        faults in faults((0..FAULT_KINDS).filter(|&k| k != DUP_DIFFERENT).collect()),
        keys in prop::collection::vec(any::<u32>(), 64),
    ) {
        let lines = keep_only_identical_copies(build(&cfg, &steps, &faults));
        let head = if cfg.header { 1 } else { 0 };
        let mut body: Vec<(u32, usize, String)> = lines[head..]
            .iter()
            .enumerate()
            .map(|(k, l)| (keys[k % keys.len()], k, l.clone()))
            .collect();
        body.sort();
        let shuffled: Vec<String> =
            lines[..head].iter().cloned().chain(body.into_iter().map(|(_, _, l)| l)).collect();

        let a = real_report(&lines);
        let b = real_report(&shuffled);
        prop_assert!(
            a == b,
            "report changed when lines were shuffled{}\n=== shuffled input\n{}",
            explain(&lines, "original", &a, "shuffled", &b),
            shuffled.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Property 3: the implied vector clock equals the true clock; one corrupted vc entry is reported
// ---------------------------------------------------------------------------------------------

fn is_rule4_subject(v: &Value) -> bool {
    s_kind(v) != "recv" && v.get("parents").is_none() && v.get("vc").is_some()
}

/// Corrupts the vc of event `k` so that it no longer equals VC(e), without changing any
/// rule-4 edge: the own entry (never used by rule 4), or — when neither the event nor the next
/// event of its replica derives edges from its vc — another replica's entry.
fn corrupt_vc(evs: &mut [Value], k: usize, variant: u8, names: &[String]) {
    let (own, seq) = line_id(&evs[k]).unwrap();
    let next_is_rule4 = evs
        .iter()
        .any(|v| line_id(v) == Some((own.clone(), seq + 1)) && is_rule4_subject(v));
    let others_ok = !is_rule4_subject(&evs[k]) && !next_is_rule4;
    let others: Vec<&String> = names.iter().filter(|q| **q != own).collect();
    let vc = evs[k]["vc"].as_object_mut().unwrap();
    let get = |vc: &Map<String, Value>, q: &str| vc.get(q).and_then(Value::as_u64).unwrap_or(0);
    match variant % 4 {
        2 | 3 if others_ok => {
            let q = others[variant as usize / 4 % others.len()];
            let c = get(vc, q);
            let new = if variant % 4 == 3 && c > 0 {
                c - 1
            } else {
                c + 1
            };
            vc.insert(q.clone(), json!(new));
        }
        v => {
            let c = get(vc, &own);
            assert_eq!(c, seq);
            let new = if v % 2 == 1 { c - 1 } else { c + 1 }; // c - 1 may be 0 (== absent)
            vc.insert(own, json!(new));
        }
    }
}

proptest! {
    #![proptest_config(cfg_pt())]

    #[test]
    fn implied_vc_matches_true_clock(
        cfg in config(any_mode(), Just(Presence::Always)),
        steps in steps(),
        target in any::<u16>(),
        variant in any::<u8>(),
    ) {
        let mut evs = simulate(&cfg, &steps);
        let lines = render_lines(&cfg, &evs);
        let brute = assert_real_matches_brute(&lines)?;
        assert_clean(&lines, &brute)?;
        let real = real_report(&lines);
        prop_assert!(
            vc_mismatch_events(&real).is_empty(),
            "correct clocks reported as vc-mismatch\n{}\n{}",
            lines.join("\n"),
            serde_json::to_string_pretty(&real).unwrap()
        );

        let k = target as usize % evs.len();
        let id = brute::id_json(&line_id(&evs[k]).unwrap());
        corrupt_vc(&mut evs, k, variant, &cfg.names());
        let lines = render_lines(&cfg, &evs);
        let brute = assert_real_matches_brute(&lines)?;
        prop_assert_eq!(vc_mismatch_events(&brute), vec![id.clone()], "brute:\n{}", lines.join("\n"));
        let real = real_report(&lines);
        prop_assert_eq!(vc_mismatch_events(&real), vec![id], "real:\n{}", lines.join("\n"));
    }
}

// ---------------------------------------------------------------------------------------------
// Property: the incremental engine, fed in batches in any order, always reports what the batch
// analysis of everything fed so far reports
// ---------------------------------------------------------------------------------------------

/// The report of `lines` read as one trace, or `None` when they hold no event.
fn batch_report_text(lines: &[&str]) -> Option<String> {
    let mut text = lines.join("\n");
    text.push('\n');
    let trace =
        weft_trace::Trace::from_ndjson_str("t.jsonl", &text, &weft_trace::ReadOptions::default())
            .ok()?;
    Some(weft_analyzer::render::json(&weft_analyzer::analyze(&trace)))
}

/// Feeds `lines` (header dropped) in the order `perm` gives, cut where `cuts` says, and checks
/// the engine's report against the batch analysis after every batch.
fn engine_matches_batch(
    lines: &[String],
    perm: &[usize],
    cuts: &[bool],
) -> Result<(), TestCaseError> {
    let body: Vec<&str> = lines
        .iter()
        .map(|l| l.as_str())
        .filter(|l| !l.contains("\"format\""))
        .collect();
    let order: Vec<&str> = {
        let mut idx: Vec<usize> = (0..body.len()).collect();
        // A permutation from the random keys: stable sort of indices by their key.
        idx.sort_by_key(|&i| perm.get(i).copied().unwrap_or(i));
        idx.into_iter().map(|i| body[i]).collect()
    };
    let mut engine = weft_analyzer::Engine::new();
    let mut fed: Vec<&str> = Vec::new();
    let mut batch: Vec<&str> = Vec::new();
    for (i, line) in order.iter().enumerate() {
        batch.push(line);
        let last = i + 1 == order.len();
        if !(last || cuts.get(i).copied().unwrap_or(false)) {
            continue;
        }
        let mut text = batch.join("\n");
        text.push('\n');
        let t = weft_trace::Trace::batch_from_ndjson(
            "b.jsonl",
            &text,
            &weft_trace::ReadOptions::default(),
        )
        .expect("well-formed");
        engine.feed(t);
        fed.append(&mut batch);
        let Some(want) = batch_report_text(&fed) else {
            continue;
        };
        // Read either way: the report, or the shared per-key findings a live reader takes
        // (which must make the same report, with keys shared across feeds).
        let got = if fed.len().is_multiple_of(2) {
            weft_analyzer::render::json(&engine.report())
        } else {
            weft_analyzer::render::json(&engine.findings().to_report())
        };
        if got != want {
            let (g, w): (Value, Value) = (
                serde_json::from_str(&got).unwrap(),
                serde_json::from_str(&want).unwrap(),
            );
            let fed_owned: Vec<String> = fed.iter().map(|s| s.to_string()).collect();
            return Err(TestCaseError::fail(format!(
                "after {} of {} lines the engine differs from the batch analysis{}",
                fed.len(),
                order.len(),
                explain(&fed_owned, "engine", &g, "batch", &w)
            )));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(cfg_pt())]

    #[test]
    fn engine_fed_in_batches_in_any_order_matches_the_batch_analysis(
        cfg in config(any_mode(), presence()),
        steps in steps(),
        faults in faults(all_faults()),
        perm in proptest::collection::vec(0usize..64, 0..200),
        cuts in proptest::collection::vec(proptest::bool::weighted(0.3), 0..200),
    ) {
        let lines = build(&cfg, &steps, &faults);
        engine_matches_batch(&lines, &perm, &cuts)?;
    }

    #[test]
    fn engine_fed_in_arrival_order_matches_the_batch_analysis(
        cfg in config(any_mode(), presence()),
        steps in steps(),
        faults in faults(all_faults()),
        cuts in proptest::collection::vec(proptest::bool::weighted(0.2), 0..200),
    ) {
        let lines = build(&cfg, &steps, &faults);
        engine_matches_batch(&lines, &[], &cuts)?;
    }
}
