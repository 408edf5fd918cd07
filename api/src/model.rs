//! The owned event model: what one line of a weft-trace/1 file means, for programs that write
//! traces (the simulator, the collector, exporters) and for anyone who wants a plain struct.
//!
//! The analyzer does not use these types for bulk data: it reads weft-trace's columnar `Trace`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// The format name a header line carries.
pub const FORMAT: &str = "weft-trace/1";

/// Longest replica name accepted, in bytes (spec section 2). Readers refuse longer names;
/// writers such as `weft-clock` refuse to make them.
pub const MAX_REPLICA_BYTES: usize = 256;

/// What an event did. Absent in a line means [`Kind::Local`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A write of `key`; see [`Op`].
    Write,
    /// A read of `key`.
    Read,
    /// Sending message `msg`.
    Send,
    /// Receiving message `msg` (the `send` with the same `msg` precedes it).
    Recv,
    /// Anything else (also merges that name their `parents`).
    #[default]
    Local,
}

impl Kind {
    /// Parses the spelling used in traces.
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "write" => Kind::Write,
            "read" => Kind::Read,
            "send" => Kind::Send,
            "recv" => Kind::Recv,
            "local" => Kind::Local,
            _ => return None,
        })
    }

    /// The spelling used in traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Write => "write",
            Kind::Read => "read",
            Kind::Send => "send",
            Kind::Recv => "recv",
            Kind::Local => "local",
        }
    }

    fn is_local(&self) -> bool {
        *self == Kind::Local
    }
}

/// How a write changes its key. Absent on a write means [`Op::Set`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// Register assignment (last-writer-wins or multi-value).
    #[default]
    Set,
    /// Counter increment: never conflicts.
    Inc,
    /// Set-element add: wins over a concurrent remove of the same element.
    Add,
    /// Set-element remove.
    Remove,
}

impl Op {
    /// Parses the spelling used in traces.
    pub fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "set" => Op::Set,
            "inc" => Op::Inc,
            "add" => Op::Add,
            "remove" => Op::Remove,
            _ => return None,
        })
    }

    /// The spelling used in traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Set => "set",
            Op::Inc => "inc",
            Op::Add => "add",
            Op::Remove => "remove",
        }
    }
}

/// The replicated data type of a key (spec section 8), declared by the `crdt` field of a
/// `write` or `read`. It decides what a read of the key must return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Crdt {
    /// Last-writer-wins register: a read returns the value of one of the maximal writes.
    Lww,
    /// Multi-value register: a read returns the values of all maximal writes (siblings).
    Mv,
    /// Counter: a read returns the sum of the increments it has seen.
    Counter,
    /// Add-wins set: a read returns the elements added and not removed after.
    Set,
}

impl Crdt {
    /// Every type, in the order the spec lists them.
    pub const ALL: [Crdt; 4] = [Crdt::Lww, Crdt::Mv, Crdt::Counter, Crdt::Set];

    /// Parses the spelling used in traces.
    pub fn parse(s: &str) -> Option<Crdt> {
        Crdt::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The spelling used in traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Crdt::Lww => "lww",
            Crdt::Mv => "mv",
            Crdt::Counter => "counter",
            Crdt::Set => "set",
        }
    }

    /// Whether a write with `op` fits this type (`counter` takes `inc`; `set` takes `add` and
    /// `remove`; the registers take `set`).
    pub fn accepts(self, op: Op) -> bool {
        match self {
            Crdt::Lww | Crdt::Mv => op == Op::Set,
            Crdt::Counter => op == Op::Inc,
            Crdt::Set => matches!(op, Op::Add | Op::Remove),
        }
    }
}

impl fmt::Display for Crdt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event id: the replica that recorded it and its 1-based position in that replica's history.
///
/// Ids order by replica (bytewise) then seq (numerically), which is the order every report uses.
/// In JSON an id is `[replica, seq]`; in text it is `replica@seq`.
///
/// The replica name is shared (`Arc<str>`): reports name the same few replicas millions of
/// times (13.5 million conflicts among 3,000 replicas' writes of one key), and a clone of an id
/// is then a reference count, not an allocation of the name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId {
    /// The recording replica.
    pub replica: Arc<str>,
    /// Position in the replica's history, from 1.
    pub seq: u64,
}

impl EventId {
    /// Makes an id.
    pub fn new(replica: impl Into<Arc<str>>, seq: u64) -> Self {
        EventId {
            replica: replica.into(),
            seq,
        }
    }

    /// Parses `replica@seq`, splitting at the last `@` (replica names may contain `@`).
    pub fn parse_text(s: &str) -> Option<EventId> {
        let (r, n) = s.rsplit_once('@')?;
        let seq: u64 = n.parse().ok()?;
        (!r.is_empty() && seq >= 1).then(|| EventId::new(r, seq))
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.replica, self.seq)
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&self.replica)?;
        t.serialize_element(&self.seq)?;
        t.end()
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EventId;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an event id [replica, seq]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<EventId, A::Error> {
                let replica: Arc<str> = a
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let seq: u64 = a
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if a.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                Ok(EventId { replica, seq })
            }
        }
        d.deserialize_seq(V)
    }
}

/// One event, owned: the unit the simulator and collector write and exporters read.
///
/// Serializing an `Event` gives a valid weft-trace/1 line (fields that are `None` are left out,
/// `kind` is left out when local).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The recording replica.
    pub replica: String,
    /// Position in the replica's history, from 1.
    pub seq: u64,
    /// What happened.
    #[serde(default, skip_serializing_if = "Kind::is_local")]
    pub kind: Kind,
    /// The Lamport timestamp the replica assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lamport: Option<u64>,
    /// The vector clock the replica assigned, after the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vc: Option<BTreeMap<String, u64>>,
    /// The replica's own (possibly skewed) wall clock, ns since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_ns: Option<i64>,
    /// Explicit direct causal predecessors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parents: Option<Vec<EventId>>,
    /// Message id, for sends and receives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
    /// The replicated object written or read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// How a write changes its key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<Op>,
    /// The value set, increment, or element added or removed; for a read, what it returned.
    /// `Some(Value::Null)` is an explicit `"value": null` (a read that returned null), `None`
    /// no `value` field.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Value>,
    /// The replicated data type of `key` (writes and reads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crdt: Option<Crdt>,
    /// Free-form attributes, carried through untouched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attrs: Option<Map<String, Value>>,
}

/// Keeps an explicit `null` as `Some(Value::Null)` (serde's default for `Option` folds it into
/// `None`): for a read, `"value": null` is a value and a missing `value` is not.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl Event {
    /// The event's id.
    pub fn id(&self) -> EventId {
        EventId::new(self.replica.clone(), self.seq)
    }
}

/// A header line's metadata (everything but `format`), in the order of the files read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Header {
    /// The input the header came from.
    pub source: String,
    /// All fields of the header object, `format` included.
    pub fields: Map<String, Value>,
}
