//! An independent, deliberately naive reading of spec section 8 over the simulator's traces, to
//! judge the simulator without trusting the analyzer (and the analyzer's verdicts on simulated
//! runs against it).
//!
//! It relies on what the simulator guarantees and its own tests check: every event carries its
//! full vector clock (`--clocks full`) and the clock equals the one the graph implies, so `w`
//! happens before `e` exactly when `e.vc[w.replica] >= w.seq`. Everything is recomputed from
//! scratch for every question — quadratic, and fine for the small runs the tests make.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// One event of the trace, as far as reads are concerned.
#[derive(Clone, Debug)]
pub struct Ev {
    pub replica: String,
    pub seq: u64,
    pub kind: String,
    pub vc: BTreeMap<String, u64>,
    pub key: Option<String>,
    pub crdt: Option<String>,
    pub op: Option<String>,
    pub value: Option<Value>,
    pub attrs: Option<Value>,
}

impl Ev {
    /// `replica@seq`.
    pub fn id(&self) -> (String, u64) {
        (self.replica.clone(), self.seq)
    }
}

/// What a read must return (section 8's table), values as canonical JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// The sum of the increments.
    Counter(i64),
    /// Exactly these elements, each once.
    Set(BTreeSet<String>),
    /// One of these values (`null` when nothing was written yet: the set holds `"null"`).
    Lww(BTreeSet<String>),
    /// Exactly these sibling values, each once.
    Mv(BTreeSet<String>),
}

impl Expected {
    /// Whether a read that returned `v` is correct.
    pub fn accepts(&self, v: &Value) -> bool {
        let elements = |v: &Value| -> Option<BTreeSet<String>> {
            let a = v.as_array()?;
            let set: BTreeSet<String> = a.iter().map(|x| x.to_string()).collect();
            (set.len() == a.len()).then_some(set)
        };
        match self {
            Expected::Counter(n) => v.as_i64() == Some(*n),
            Expected::Lww(ok) => ok.contains(&v.to_string()),
            Expected::Set(want) | Expected::Mv(want) => elements(v).as_ref() == Some(want),
        }
    }
}

/// A simulated trace.
pub struct Trace {
    pub events: Vec<Ev>,
}

impl Trace {
    pub fn parse(text: &str) -> Trace {
        let events = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("JSON lines"))
            .filter(|v| v.get("format").is_none())
            .map(|v| {
                let s = |f: &str| v.get(f).and_then(Value::as_str).map(str::to_string);
                let vc = v
                    .get("vc")
                    .and_then(Value::as_object)
                    .expect("the oracle needs --clocks full")
                    .iter()
                    .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
                    .collect();
                Ev {
                    replica: s("replica").unwrap(),
                    seq: v["seq"].as_u64().unwrap(),
                    kind: s("kind").unwrap_or_else(|| "local".into()),
                    vc,
                    key: s("key"),
                    crdt: s("crdt"),
                    op: s("op"),
                    value: v.get("value").cloned(),
                    attrs: v.get("attrs").cloned(),
                }
            })
            .collect();
        Trace { events }
    }

    /// Whether `w` happens before `e`.
    pub fn before(w: &Ev, e: &Ev) -> bool {
        w.id() != e.id() && e.vc.get(&w.replica).copied().unwrap_or(0) >= w.seq
    }

    pub fn reads(&self) -> impl Iterator<Item = &Ev> {
        self.events.iter().filter(|e| e.kind == "read")
    }

    fn writes<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Ev> + 'a {
        self.events
            .iter()
            .filter(move |e| e.kind == "write" && e.key.as_deref() == Some(key))
    }

    /// The declared type of `key` (the simulator declares it on every write and read).
    pub fn crdt(&self, key: &str) -> String {
        let types: BTreeSet<&str> = self
            .events
            .iter()
            .filter(|e| e.key.as_deref() == Some(key))
            .map(|e| e.crdt.as_deref().expect("crdt on every write and read"))
            .collect();
        assert_eq!(types.len(), 1, "{key} declared as {types:?}");
        types.into_iter().next().unwrap().to_string()
    }

    /// What a read of `key` must return at an event with the causal past of `at`.
    pub fn expected(&self, key: &str, at: &Ev) -> Expected {
        let past: Vec<&Ev> = self.writes(key).filter(|w| Self::before(w, at)).collect();
        let text = |w: &Ev| w.value.clone().unwrap_or(Value::Null).to_string();
        let maximal = || -> BTreeSet<String> {
            past.iter()
                .filter(|w| !past.iter().any(|o| Self::before(w, o)))
                .map(|w| text(w))
                .collect()
        };
        match self.crdt(key).as_str() {
            "counter" => Expected::Counter(
                past.iter()
                    .map(|w| w.value.as_ref().map_or(1, |v| v.as_i64().unwrap()))
                    .sum(),
            ),
            "set" => Expected::Set(
                past.iter()
                    .filter(|a| a.op.as_deref() == Some("add"))
                    .filter(|a| {
                        !past.iter().any(|r| {
                            r.op.as_deref() == Some("remove")
                                && r.value == a.value
                                && Self::before(a, r)
                        })
                    })
                    .map(|a| text(a))
                    .collect(),
            ),
            "lww" if past.is_empty() => Expected::Lww(["null".to_string()].into()),
            "lww" => Expected::Lww(maximal()),
            "mv" => Expected::Mv(maximal()),
            other => panic!("unknown type {other}"),
        }
    }

    /// Whether `read` returned what its causal past implies.
    pub fn correct(&self, read: &Ev) -> bool {
        let key = read.key.as_deref().unwrap();
        self.expected(key, read).accepts(
            read.value
                .as_ref()
                .expect("the simulator records every read's value"),
        )
    }

    /// The reads that returned something else than their causal past implies.
    pub fn wrong_reads(&self) -> BTreeSet<(String, u64)> {
        self.reads()
            .filter(|r| !self.correct(r))
            .map(Ev::id)
            .collect()
    }

    /// Whether `read`'s value is what its replica's state implied at one of its earlier events,
    /// or before its first: the value of an older snapshot.
    pub fn an_older_snapshot(&self, read: &Ev) -> bool {
        let key = read.key.as_deref().unwrap();
        let value = read.value.as_ref().unwrap();
        let start = Ev {
            vc: BTreeMap::new(),
            seq: 0,
            ..read.clone()
        };
        let explained = self
            .events
            .iter()
            .filter(|e| e.replica == read.replica && e.seq < read.seq)
            .chain([&start])
            .any(|e| self.expected(key, e).accepts(value));
        explained
    }

    /// Whether `read`'s value (an LWW register's) was written, earlier in simulated time (the
    /// simulator writes lines in that order), by a write outside the read's causal past.
    pub fn written_outside_the_past(&self, read: &Ev) -> bool {
        let key = read.key.as_deref().unwrap();
        let at = self
            .events
            .iter()
            .position(|e| e.id() == read.id())
            .unwrap();
        self.events[..at].iter().any(|w| {
            w.kind == "write"
                && w.key.as_deref() == Some(key)
                && !Self::before(w, read)
                && w.value == read.value
        })
    }

    pub fn event(&self, id: &(String, u64)) -> &Ev {
        self.events.iter().find(|e| &e.id() == id).unwrap()
    }
}
