//! A tiny, correct replicated system for the section-8 property tests (`tests/reads_props.rs`).
//!
//! Why a simulator and not "ask the reference what the read should return": the reads it
//! records come from real state-based CRDTs — a PN-counter, an OR-set (add-wins, tagged adds and
//! tombstones), a multi-value register (siblings plus causal context) and a Lamport-stamped LWW
//! register — merged along exactly the edges the trace records (program order, messages,
//! `parents`, vector clocks). None of that code knows the spec's definitions of `P` and `M`, so
//! "the reference finds no read violation in a simulated trace" is evidence that the reference
//! (and the spec) agree with how these CRDTs actually behave, and the mutants built from the
//! simulator's own bookkeeping do not come from the reference either.
//!
//! Each replica also keeps the set of writes it knows (a grow-only set merged like the rest),
//! which is what the mutants need to pick a stale or an unseen value.

#![allow(dead_code)]

pub mod mutants;

use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// An event id `(replica, seq)`; the tuple order is the spec's id order.
pub type Id = (String, u64);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ty {
    Lww,
    Mv,
    Counter,
    Set,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Lww => "lww",
            Ty::Mv => "mv",
            Ty::Counter => "counter",
            Ty::Set => "set",
        }
    }
}

/// Where a key's `crdt` field is written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decl {
    /// Nowhere: the type is inferred (never used for `mv`, which is not inferred).
    Never,
    /// On every write and read of the key.
    Always,
    /// On some events (for `mv`: on every write, on some reads).
    Sometimes,
}

/// Which edge sources carry causality across replicas.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Edges {
    Msg,
    Parents,
    /// ShiViz style: only vector clocks (rule 4).
    Vc,
    Mixed,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub replicas: usize,
    pub keys: Vec<(Ty, Decl)>,
    pub edges: Edges,
    pub lamport: bool,
    pub vc: bool,
    /// Counter increments sometimes 2^53 + 1 (sums must be exact).
    pub big: bool,
}

#[derive(Clone, Debug)]
pub struct Step {
    pub who: u8,
    pub what: u8,
    pub key: u8,
    pub val: u8,
    pub pick: u8,
    pub flags: u8,
}

/// Replica names whose bytewise order differs from their creation order.
const NAMES: [&str; 3] = ["phone", "Laptop", "r10"];

pub const REGISTER_VALUES: usize = 7;
pub const SET_ELEMENTS: usize = 5;

/// A register write's value (`None`: no `value` field, which wrote null).
pub fn register_value(i: usize) -> Option<Value> {
    match i % REGISTER_VALUES {
        0 => Some(json!(0)),
        1 => Some(json!(1)),
        2 => Some(json!(2)),
        3 => Some(json!("a")),
        4 => Some(json!(1.0)),
        5 => Some(json!({"b": [2], "a": 1})),
        _ => None,
    }
}

pub fn set_element(i: usize) -> Value {
    [
        json!(1),
        json!("x"),
        json!({"k": 1, "j": 2}),
        json!([1]),
        json!(1.0),
    ][i % SET_ELEMENTS]
        .clone()
}

/// An MV register: siblings as (write, value), and the causal context (the writes seen).
type MvReg = (Vec<(usize, Value)>, BTreeSet<usize>);
/// An OR-set: tagged adds as (element, add write), and the tombstoned add tags.
type OrSet = (Vec<(Value, usize)>, BTreeSet<usize>);

/// A replica's state: one CRDT per key, of each kind the key's writes use.
#[derive(Clone, Debug, Default)]
struct State {
    /// Every write this state has absorbed (event indices): the grow-only set of what it saw.
    known: BTreeSet<usize>,
    /// LWW: key → (lamport, replica, value).
    lww: BTreeMap<usize, (u64, String, Value)>,
    /// MV register: key → (siblings as (write, value), causal context: writes seen).
    mv: BTreeMap<usize, MvReg>,
    /// PN-counter: (key, replica) → (sum of positive increments, sum of negative ones).
    pn: BTreeMap<(usize, usize), (i128, i128)>,
    /// OR-set: key → (tagged adds (element, add write), tombstoned add tags).
    orset: BTreeMap<usize, OrSet>,
}

impl State {
    fn merge(&mut self, o: &State) {
        self.known.extend(o.known.iter().copied());
        for (k, theirs) in &o.lww {
            let mine = self.lww.entry(*k).or_insert_with(|| theirs.clone());
            if (theirs.0, &theirs.1) > (mine.0, &mine.1) {
                *mine = theirs.clone();
            }
        }
        for (k, (osib, octx)) in &o.mv {
            let (sib, ctx) = self.mv.entry(*k).or_default();
            // A sibling survives when the other side has it too or has never seen it.
            let mut next: Vec<(usize, Value)> = sib
                .iter()
                .filter(|(t, _)| osib.iter().any(|(u, _)| u == t) || !octx.contains(t))
                .cloned()
                .collect();
            for (t, v) in osib {
                if !ctx.contains(t) && !next.iter().any(|(u, _)| u == t) {
                    next.push((*t, v.clone()));
                }
            }
            *sib = next;
            ctx.extend(octx.iter().copied());
        }
        for (k, (p, n)) in &o.pn {
            let e = self.pn.entry(*k).or_insert((0, 0));
            e.0 = e.0.max(*p);
            e.1 = e.1.max(*n);
        }
        for (k, (oadds, otomb)) in &o.orset {
            let (adds, tomb) = self.orset.entry(*k).or_default();
            for (x, t) in oadds {
                if !adds.iter().any(|(_, u)| u == t) {
                    adds.push((x.clone(), *t));
                }
            }
            tomb.extend(otomb.iter().copied());
        }
    }
}

/// One write of the simulated trace.
#[derive(Clone, Debug)]
pub struct WriteInfo {
    pub ev: usize,
    pub key: usize,
    pub op: &'static str,
    /// The `value` field (`None`: absent).
    pub value: Option<Value>,
    /// The writes its replica knew when it wrote (its causal past among writes).
    pub past: BTreeSet<usize>,
}

/// One read of the simulated trace, with what the replica's CRDT returned.
#[derive(Clone, Debug)]
pub struct ReadInfo {
    pub ev: usize,
    pub key: usize,
    /// The writes of the key the replica knew: `P`, by the simulator's own bookkeeping.
    pub past: Vec<usize>,
    /// Registers: the MV register's siblings at the read (write events).
    pub siblings: Vec<usize>,
    /// What the read returned.
    pub value: Value,
}

pub struct SimTrace {
    pub cfg: Config,
    /// Event lines as values, in creation order.
    pub events: Vec<Value>,
    pub ids: Vec<Id>,
    pub writes: Vec<WriteInfo>,
    pub reads: Vec<ReadInfo>,
}

impl SimTrace {
    pub fn key_name(k: usize) -> String {
        format!("k{k}")
    }
    pub fn write(&self, ev: usize) -> &WriteInfo {
        self.writes.iter().find(|w| w.ev == ev).unwrap()
    }
    /// `a → b` between two writes, by the simulator's bookkeeping.
    pub fn write_before(&self, a: usize, b: usize) -> bool {
        self.write(b).past.contains(&a)
    }
    /// What a write wrote (`null` without a value field).
    pub fn written(&self, ev: usize) -> Value {
        self.write(ev).value.clone().unwrap_or(Value::Null)
    }
}

struct Rep {
    seq: u64,
    vc: BTreeMap<String, u64>,
    lamport: u64,
    state: State,
    inbox: Vec<usize>,
    events: Vec<usize>,
}

struct Sim {
    cfg: Config,
    names: Vec<String>,
    reps: Vec<Rep>,
    out: Vec<(usize, Map<String, Value>)>,
    /// Each event's replica state afterwards (what a message or a merge of it carries).
    snaps: Vec<State>,
    vcs: Vec<BTreeMap<String, u64>>,
    lamports: Vec<u64>,
    writes: Vec<WriteInfo>,
    reads: Vec<ReadInfo>,
    next_msg: usize,
}

impl Sim {
    /// A new event of replica `r` that absorbed the events `merged`.
    fn tick(&mut self, r: usize, merged: &[usize]) -> Map<String, Value> {
        for &m in merged {
            let (snap, vc, l) = (self.snaps[m].clone(), self.vcs[m].clone(), self.lamports[m]);
            let rep = &mut self.reps[r];
            rep.state.merge(&snap);
            for (q, c) in vc {
                let e = rep.vc.entry(q).or_insert(0);
                *e = (*e).max(c);
            }
            rep.lamport = rep.lamport.max(l);
        }
        let rep = &mut self.reps[r];
        rep.seq += 1;
        rep.lamport += 1;
        rep.vc.insert(self.names[r].clone(), rep.seq);
        let mut m = Map::new();
        m.insert("replica".into(), json!(self.names[r]));
        m.insert("seq".into(), json!(rep.seq));
        m
    }

    fn push(&mut self, r: usize, m: Map<String, Value>) -> usize {
        let i = self.out.len();
        self.out.push((r, m));
        self.snaps.push(self.reps[r].state.clone());
        self.vcs.push(self.reps[r].vc.clone());
        self.lamports.push(self.reps[r].lamport);
        self.reps[r].events.push(i);
        i
    }

    fn write(&mut self, r: usize, s: &Step) {
        let k = s.key as usize % self.cfg.keys.len();
        let ty = self.cfg.keys[k].0;
        let mut m = self.tick(r, &[]);
        let i = self.out.len();
        let (op, value): (&'static str, Option<Value>) = match ty {
            Ty::Lww | Ty::Mv => ("set", register_value(s.val as usize)),
            Ty::Counter => {
                let big = self.cfg.big && s.val % 5 == 4;
                let v = match s.val % 6 {
                    _ if big => Some(json!(9_007_199_254_740_993i64)),
                    0 => Some(json!(1)),
                    1 => Some(json!(2)),
                    2 => Some(json!(3)),
                    3 => Some(json!(-1)),
                    4 => Some(json!(-4)),
                    _ => None, // adds 1
                };
                ("inc", v)
            }
            Ty::Set => {
                let op = if s.val % 5 >= 3 { "remove" } else { "add" };
                // half the time one of two elements, so that removes meet their adds
                let el = s.val as usize / 5 % if s.flags & 4 == 0 { 2 } else { SET_ELEMENTS };
                (op, Some(set_element(el)))
            }
        };
        let (name, lamport) = (self.names[r].clone(), self.reps[r].lamport);
        let st = &mut self.reps[r].state;
        let past = st.known.clone();
        st.known.insert(i);
        let v = value.clone().unwrap_or(Value::Null);
        match op {
            "set" => {
                st.lww.insert(k, (lamport, name, v.clone()));
                let (sib, ctx) = st.mv.entry(k).or_default();
                *sib = vec![(i, v)];
                ctx.insert(i);
            }
            "inc" => {
                let n = value
                    .as_ref()
                    .map_or(1, |v| i128::from(v.as_i64().unwrap()));
                let e = st.pn.entry((k, r)).or_insert((0, 0));
                if n >= 0 {
                    e.0 += n;
                } else {
                    e.1 -= n;
                }
            }
            "add" => st.orset.entry(k).or_default().0.push((v, i)),
            _ => {
                let (adds, tomb) = st.orset.entry(k).or_default();
                tomb.extend(adds.iter().filter(|(x, _)| *x == v).map(|(_, t)| *t));
            }
        }
        m.insert("kind".into(), json!("write"));
        m.insert("key".into(), json!(SimTrace::key_name(k)));
        if op != "set" || s.flags & 1 == 0 {
            m.insert("op".into(), json!(op));
        }
        if let Some(v) = &value {
            m.insert("value".into(), v.clone());
        }
        self.writes.push(WriteInfo {
            ev: i,
            key: k,
            op,
            value,
            past,
        });
        self.push(r, m);
    }

    fn read(&mut self, r: usize, s: &Step) {
        let k = s.key as usize % self.cfg.keys.len();
        let ty = self.cfg.keys[k].0;
        let mut m = self.tick(r, &[]);
        let st = &self.reps[r].state;
        let mut value = match ty {
            Ty::Counter => {
                let sum: i128 = st
                    .pn
                    .iter()
                    .filter(|((kk, _), _)| *kk == k)
                    .map(|(_, (p, n))| p - n)
                    .sum();
                json!(i64::try_from(sum).unwrap())
            }
            Ty::Lww => st.lww.get(&k).map_or(Value::Null, |e| e.2.clone()),
            // The app reports the siblings' values as a set (reading R2 of brute/reads.rs).
            Ty::Mv => Value::Array(dedup(
                st.mv
                    .get(&k)
                    .into_iter()
                    .flat_map(|(s, _)| s.iter().map(|(_, v)| v.clone())),
            )),
            Ty::Set => Value::Array(dedup(st.orset.get(&k).into_iter().flat_map(|(a, t)| {
                a.iter()
                    .filter(|(_, tag)| !t.contains(tag))
                    .map(|(x, _)| x.clone())
            }))),
        };
        if let Value::Array(a) = &mut value {
            let n = a.len().max(1);
            a.rotate_left(s.pick as usize % n);
            if s.pick & 0x80 != 0 {
                a.reverse();
            }
        }
        let past: Vec<usize> = st
            .known
            .iter()
            .copied()
            .filter(|&w| self.writes.iter().any(|x| x.ev == w && x.key == k))
            .collect();
        let siblings = st
            .mv
            .get(&k)
            .map_or(vec![], |(s, _)| s.iter().map(|(t, _)| *t).collect());
        m.insert("kind".into(), json!("read"));
        m.insert("key".into(), json!(SimTrace::key_name(k)));
        m.insert("value".into(), value.clone());
        let ev = self.out.len();
        self.reads.push(ReadInfo {
            ev,
            key: k,
            past,
            siblings,
            value,
        });
        self.push(r, m);
    }

    fn other(&self, r: usize, pick: u8) -> usize {
        let n = self.reps.len();
        (r + 1 + pick as usize % (n - 1)) % n
    }

    fn step(&mut self, s: &Step) {
        let r = s.who as usize % self.reps.len();
        #[derive(Clone, Copy)]
        enum A {
            Write,
            Read,
            Send,
            Recv,
            Merge,
            Sync,
        }
        use A::*;
        let acts: &[A] = match self.cfg.edges {
            Edges::Msg => &[Write, Write, Read, Read, Send, Recv, Recv],
            Edges::Parents => &[Write, Write, Read, Read, Merge, Merge],
            Edges::Vc => &[Write, Write, Read, Read, Sync, Sync],
            Edges::Mixed => &[Write, Write, Read, Read, Send, Recv, Merge, Sync],
        };
        match acts[s.what as usize % acts.len()] {
            Write => self.write(r, s),
            Read => self.read(r, s),
            Send => {
                let mut m = self.tick(r, &[]);
                m.insert("kind".into(), json!("send"));
                m.insert("msg".into(), json!(format!("m{}", self.next_msg)));
                self.next_msg += 1;
                let i = self.push(r, m);
                let targets: Vec<usize> = if s.pick.is_multiple_of(3) {
                    (0..self.reps.len()).filter(|&t| t != r).collect()
                } else {
                    vec![self.other(r, s.pick)]
                };
                for t in targets {
                    self.reps[t].inbox.push(i);
                }
            }
            Recv => {
                if self.reps[r].inbox.is_empty() {
                    return self.read(r, s);
                }
                let j = s.pick as usize % self.reps[r].inbox.len();
                let send = self.reps[r].inbox.remove(j);
                let mut m = self.tick(r, &[send]);
                m.insert("kind".into(), json!("recv"));
                m.insert("msg".into(), self.out[send].1["msg"].clone());
                self.push(r, m);
            }
            Merge | Sync => {
                let o = self.other(r, s.pick);
                let Some(&e) = self.reps[o]
                    .events
                    .get(s.val as usize % self.reps[o].events.len().max(1))
                else {
                    return self.write(r, s);
                };
                let mut m = self.tick(r, &[e]);
                if matches!(self.cfg.edges, Edges::Vc) || s.flags & 2 != 0 {
                    m.insert("x_sync".into(), json!(true)); // rendered with vc, no parents
                } else {
                    let (on, os) = (
                        self.out[e].1["replica"].clone(),
                        self.out[e].1["seq"].clone(),
                    );
                    m.insert("parents".into(), json!([[on, os]]));
                }
                self.push(r, m);
            }
        }
    }
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

/// Runs the steps; the events carry `lamport` and `vc` as configured and `crdt` per the keys'
/// declaration modes.
pub fn simulate(cfg: &Config, steps: &[Step]) -> SimTrace {
    let names: Vec<String> = NAMES[..cfg.replicas]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let reps = (0..cfg.replicas)
        .map(|_| Rep {
            seq: 0,
            vc: BTreeMap::new(),
            lamport: 0,
            state: State::default(),
            inbox: vec![],
            events: vec![],
        })
        .collect();
    let mut sim = Sim {
        cfg: cfg.clone(),
        names: names.clone(),
        reps,
        out: vec![],
        snaps: vec![],
        vcs: vec![],
        lamports: vec![],
        writes: vec![],
        reads: vec![],
        next_msg: 0,
    };
    for s in steps {
        sim.step(s);
    }
    let mut events = Vec::new();
    let mut ids = Vec::new();
    for (i, (r, m)) in sim.out.iter().enumerate() {
        let mut m = m.clone();
        let sync = m.remove("x_sync").is_some();
        if cfg.lamport {
            m.insert("lamport".into(), json!(sim.lamports[i]));
        }
        if sync || cfg.vc || cfg.edges == Edges::Vc {
            m.insert("vc".into(), json!(sim.vcs[i]));
        }
        if let Some(k) = m.get("key").and_then(Value::as_str) {
            let k: usize = k[1..].parse().unwrap();
            let (ty, decl) = cfg.keys[k];
            let is_write = m["kind"] == "write";
            let coin = (i * 7 + k * 3).is_multiple_of(3);
            let declare = match decl {
                Decl::Never => false,
                Decl::Always => true,
                Decl::Sometimes => coin || (ty == Ty::Mv && is_write),
            };
            if declare {
                m.insert("crdt".into(), json!(ty.name()));
            }
        }
        ids.push((names[*r].clone(), m["seq"].as_u64().unwrap()));
        events.push(Value::Object(m));
    }
    SimTrace {
        cfg: cfg.clone(),
        events,
        ids,
        writes: sim.writes,
        reads: sim.reads,
    }
}

/// JSON text with every object's keys in reverse order and spaces: the same JSON value in
/// another text (key order must not matter anywhere, read values included).
pub fn to_text_reordered(v: &Value) -> String {
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

/// NDJSON lines of the events, every third one with reversed key order.
pub fn lines(evs: &[Value]) -> Vec<String> {
    evs.iter()
        .enumerate()
        .map(|(i, e)| {
            if i % 3 == 1 {
                to_text_reordered(e)
            } else {
                e.to_string()
            }
        })
        .collect()
}
