//! The columnar in-memory trace: what a reader builds and the analyzer and TUI consume.
//!
//! Events are kept in first-arrival order (the order their first copy was read), each as a
//! fixed-size [`EventRec`] of integers; strings are interned, clocks are varint-encoded in one
//! arena and values live in a side table. Nothing here analyses anything.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::intern::{Interner, Sym};
use crate::model::{Event, EventId, Header, Kind, Op};
use crate::vcenc::VcIter;

/// "No such index" marker for optional side-table references.
pub const NONE: u32 = u32::MAX;

/// One event, as stored: ids into the trace's interners and side tables.
#[derive(Clone, Copy, Debug)]
pub struct EventRec {
    /// The recording replica, a [`Trace::names`] id.
    pub replica: Sym,
    /// What happened.
    pub kind: Kind,
    /// The write's op; [`Op::Set`] when absent.
    pub op: Op,
    /// Presence bits: [`EventRec::HAS_LAMPORT`], [`EventRec::HAS_WALL`], [`EventRec::HAS_VC`],
    /// [`EventRec::HAS_PARENTS`], [`EventRec::HAS_OP`].
    pub flags: u8,
    /// Position in the replica's history, from 1.
    pub seq: u64,
    /// Lamport timestamp (meaningful when `HAS_LAMPORT`).
    pub lamport: u64,
    /// Wall clock in ns (meaningful when `HAS_WALL`).
    pub wall_ns: i64,
    /// Message id, a [`Trace::syms`] id, or [`NONE`].
    pub msg: Sym,
    /// Key, a [`Trace::syms`] id, or [`NONE`].
    pub key: Sym,
    /// Index into the value table, or [`NONE`].
    pub value: u32,
    /// Index into the attrs table, or [`NONE`].
    pub attrs: u32,
    /// Byte offset of the encoded vector clock in the clock arena.
    pub vc_start: u64,
    /// Byte length of the encoded vector clock.
    pub vc_len: u32,
    /// Number of parents entries.
    pub parents_len: u32,
    /// Offset of the parents entries in the parents table.
    pub parents_start: u64,
}

impl EventRec {
    /// `lamport` is present.
    pub const HAS_LAMPORT: u8 = 1;
    /// `wall_ns` is present.
    pub const HAS_WALL: u8 = 2;
    /// `vc` is present (possibly empty).
    pub const HAS_VC: u8 = 4;
    /// `parents` is present (possibly empty): this switches off vc-derived edges.
    pub const HAS_PARENTS: u8 = 8;
    /// `op` was given explicitly.
    pub const HAS_OP: u8 = 16;

    /// The Lamport timestamp, if present.
    #[inline]
    pub fn lamport(&self) -> Option<u64> {
        (self.flags & Self::HAS_LAMPORT != 0).then_some(self.lamport)
    }

    /// The wall clock, if present.
    #[inline]
    pub fn wall_ns(&self) -> Option<i64> {
        (self.flags & Self::HAS_WALL != 0).then_some(self.wall_ns)
    }

    /// Whether the event carries a `vc` field.
    #[inline]
    pub fn has_vc(&self) -> bool {
        self.flags & Self::HAS_VC != 0
    }

    /// Whether the event carries a `parents` field.
    #[inline]
    pub fn has_parents(&self) -> bool {
        self.flags & Self::HAS_PARENTS != 0
    }

    /// The message id, if any.
    #[inline]
    pub fn msg(&self) -> Option<Sym> {
        (self.msg != NONE).then_some(self.msg)
    }

    /// The key, if any.
    #[inline]
    pub fn key(&self) -> Option<Sym> {
        (self.key != NONE).then_some(self.key)
    }
}

/// A line that was skipped in lenient mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// The input it came from.
    pub source: String,
    /// 1-based line number.
    pub line: u64,
    /// 1-based column, for JSON syntax errors.
    pub column: Option<u64>,
    /// Why it was rejected.
    pub reason: String,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(c) => write!(f, "{}:{}:{}: {}", self.source, self.line, c, self.reason),
            None => write!(f, "{}:{}: {}", self.source, self.line, self.reason),
        }
    }
}

/// Bytes at the end of the last segment of a collector's data directory that were not read:
/// after its last newline, so a line the collector had not finished writing when the file was
/// measured (or had not finished when it crashed; its restart cuts them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight {
    /// The segment file.
    pub source: String,
    /// How many bytes were left out.
    pub bytes: u64,
}

impl std::fmt::Display for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} byte{} at the end ignored as in flight (not yet committed by the collector)",
            self.source,
            self.bytes,
            if self.bytes == 1 { "" } else { "s" }
        )
    }
}

/// A whole trace: the set of events read from one or more inputs.
#[derive(Debug, Default)]
pub struct Trace {
    pub(crate) names: Interner,
    pub(crate) syms: Interner,
    pub(crate) events: Vec<EventRec>,
    pub(crate) vc_arena: Vec<u8>,
    pub(crate) parents: Vec<(Sym, u64)>,
    pub(crate) fingerprints: Vec<u64>,
    pub(crate) values: Vec<Value>,
    pub(crate) attrs: Vec<Map<String, Value>>,
    pub(crate) headers: Vec<Header>,
    pub(crate) duplicates: u64,
    pub(crate) conflicting: Vec<u32>,
    pub(crate) malformed: Vec<Malformed>,
    pub(crate) in_flight: Vec<InFlight>,
}

impl Trace {
    /// Number of distinct events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when the trace holds no event.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Every event, in first-arrival order.
    pub fn events(&self) -> &[EventRec] {
        &self.events
    }

    /// Replica names (also those only named in clocks or parents).
    pub fn names(&self) -> &Interner {
        &self.names
    }

    /// Message ids and keys.
    pub fn syms(&self) -> &Interner {
        &self.syms
    }

    /// The replica name of an event.
    pub fn replica(&self, e: &EventRec) -> &str {
        self.names.resolve(e.replica)
    }

    /// The id of the event at arrival index `i`.
    pub fn id(&self, i: usize) -> EventId {
        let e = &self.events[i];
        EventId::new(self.replica(e), e.seq)
    }

    /// The reported vector clock entries of `e`, sorted by name id, without zero entries.
    pub fn vc(&self, e: &EventRec) -> VcIter<'_> {
        let start = e.vc_start as usize;
        VcIter::new(&self.vc_arena[start..start + e.vc_len as usize])
    }

    /// The `parents` entries of `e`, in the order written.
    pub fn parents(&self, e: &EventRec) -> &[(Sym, u64)] {
        let start = e.parents_start as usize;
        &self.parents[start..start + e.parents_len as usize]
    }

    /// The `value` of `e`.
    pub fn value(&self, e: &EventRec) -> Option<&Value> {
        (e.value != NONE).then(|| &self.values[e.value as usize])
    }

    /// The `attrs` of `e`.
    pub fn attrs(&self, e: &EventRec) -> Option<&Map<String, Value>> {
        (e.attrs != NONE).then(|| &self.attrs[e.attrs as usize])
    }

    /// Header lines read, one per input that had one.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// Identical copies of already-read events that were dropped.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Arrival indices of events for which a *different* copy was also read (each once, in the
    /// order the first differing copy was met). The first copy is the one kept.
    pub fn conflicting_duplicates(&self) -> &[u32] {
        &self.conflicting
    }

    /// Lines skipped in lenient mode, in input order.
    pub fn malformed(&self) -> &[Malformed] {
        &self.malformed
    }

    /// Unfinished tails left out of collector segments, in input order (see [`InFlight`]).
    pub fn in_flight(&self) -> &[InFlight] {
        &self.in_flight
    }

    /// The event at arrival index `i` as an owned [`Event`].
    pub fn to_event(&self, i: usize) -> Event {
        let e = &self.events[i];
        let vc = e.has_vc().then(|| {
            self.vc(e)
                .map(|(q, v)| (self.names.resolve(q).to_string(), v))
                .collect::<BTreeMap<_, _>>()
        });
        let parents = e.has_parents().then(|| {
            self.parents(e)
                .iter()
                .map(|&(q, s)| EventId::new(self.names.resolve(q), s))
                .collect()
        });
        Event {
            replica: self.replica(e).to_string(),
            seq: e.seq,
            kind: e.kind,
            lamport: e.lamport(),
            vc,
            wall_ns: e.wall_ns(),
            parents,
            msg: e.msg().map(|m| self.syms.resolve(m).to_string()),
            key: e.key().map(|k| self.syms.resolve(k).to_string()),
            op: (e.flags & EventRec::HAS_OP != 0).then_some(e.op),
            value: self.value(e).cloned(),
            attrs: self.attrs(e).cloned(),
        }
    }
}
