//! The columnar in-memory trace: what a reader builds and the analyzer and TUI consume.
//!
//! Events are kept in first-arrival order (the order their first copy was read), each as a
//! fixed-size [`EventRec`] of integers; strings are interned, clocks are varint-encoded in one
//! arena and values live in a side table. Nothing here analyses anything.
//!
//! The spec's duplicate rule lives here too (`Trace::admit`), with the id index it needs, so
//! that a trace can grow: the reader applies the rule line by line, and [`Trace::append`] applies
//! the same rule to the copies of a batch read separately, giving exactly what one read of all
//! the lines gives.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use rustc_hash::FxHashSet;
use serde_json::{Map, Value};

use crate::ids::IdIndex;
use crate::intern::{Interner, Sym};
use crate::model::{Crdt, Event, EventId, Header, Kind, Op};
use crate::vcenc::{self, VcIter};

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
    /// The key's declared type (writes and reads only; ignored on other kinds).
    pub crdt: Option<Crdt>,
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
    /// Index into the value table, or [`NONE`] when the line has no `value` field (an explicit
    /// `null` is stored).
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

    /// The `flags` of a record whose optional fields `lamport`, `wall_ns`, `vc`, `parents` and
    /// `op` are present or not, in that order.
    pub(crate) fn flags_for(present: [bool; 5]) -> u8 {
        let bits = [
            EventRec::HAS_LAMPORT,
            EventRec::HAS_WALL,
            EventRec::HAS_VC,
            EventRec::HAS_PARENTS,
            EventRec::HAS_OP,
        ];
        (present.iter().zip(bits))
            .filter(|(&on, _)| on)
            .fold(0, |flags, (_, bit)| flags | bit)
    }

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

/// At most this many malformed lines are kept in a [`Trace`] ([`Trace::malformed`]): the first
/// ones, in input order. Every later one is only counted ([`Trace::malformed_count`]), so that a
/// lenient read of any number of malformed lines takes bounded memory.
pub const MAX_MALFORMED_KEPT: usize = 1000;

/// A line (or a row of a columnar file) that was skipped in lenient mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// The input it came from.
    pub source: String,
    /// 1-based line number, or row number when `place` is [`Place::Row`].
    pub line: u64,
    /// 1-based column, for JSON syntax errors.
    pub column: Option<u64>,
    /// Why it was rejected.
    pub reason: String,
    /// What `line` counts: NDJSON lines, or the rows of a Parquet file (which have no lines).
    pub place: Place,
}

/// What [`Malformed::line`] counts, so that a message points where a user can look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Place {
    /// Lines of NDJSON text: `FILE:LINE[:COL]: reason`.
    #[default]
    Line,
    /// Rows of a Parquet file, from 1 across its row groups: `FILE:row N: reason`.
    Row,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.place, self.column) {
            (Place::Row, _) => write!(f, "{}:row {}: {}", self.source, self.line, self.reason),
            (Place::Line, Some(c)) => {
                write!(f, "{}:{}:{}: {}", self.source, self.line, c, self.reason)
            }
            (Place::Line, None) => write!(f, "{}:{}: {}", self.source, self.line, self.reason),
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

/// A copy of an already-kept event that the duplicate rule dropped, kept so that the trace can
/// be appended to another one ([`Trace::append`]) with the rule applied to every copy again: a
/// copy that was identical to this trace's first copy may differ from an earlier trace's.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dropped {
    /// How many events the trace held when the copy was met: it came after the first copies at
    /// arrival indices below `before` and before the others.
    pub(crate) before: u32,
    /// Arrival index of the kept (first) copy.
    pub(crate) of: u32,
    /// The dropped copy's fingerprint.
    pub(crate) fingerprint: u64,
}

/// What [`Trace::append`] added. Indices are in the trace appended to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Appended {
    /// Arrival indices of the batch's new events (ids not in the trace before): a contiguous
    /// range at the end, in the batch's arrival order. Empty when every event of the batch was
    /// already there.
    pub events: Range<usize>,
    /// Arrival indices of events that met a *different* copy for the first time in this batch
    /// (newly conflicting duplicates), in the order those copies were met: what was appended to
    /// [`Trace::conflicting_duplicates`]. May name events of earlier batches and of this one.
    pub conflicting: Vec<u32>,
    /// Identical copies the batch brought that were dropped (what [`Trace::duplicates`] grew
    /// by): copies of earlier batches' events as well as repeats inside the batch.
    pub duplicates: u64,
    /// Indices into [`Trace::malformed`] of the batch's malformed lines that were kept (see
    /// [`MAX_MALFORMED_KEPT`]).
    pub malformed: Range<usize>,
    /// How many malformed lines the batch skipped, kept or not (what
    /// [`Trace::malformed_count`] grew by).
    pub malformed_count: u64,
    /// Indices into [`Trace::headers`] of the batch's headers.
    pub headers: Range<usize>,
    /// Indices into [`Trace::in_flight`] of the batch's in-flight tails.
    pub in_flight: Range<usize>,
    /// Replica names ([`Trace::names`] ids) the trace did not know before: the batch's new
    /// replicas and the names only its clocks or parents mention.
    pub names: Range<Sym>,
    /// Message ids and keys ([`Trace::syms`] ids) the trace did not know before.
    pub syms: Range<Sym>,
}

/// A whole trace: the set of events read from one or more inputs.
///
/// It can grow by batches ([`Trace::append`]); [`Trace::default`] is the empty trace to start
/// from.
#[derive(Clone, Debug, Default)]
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
    /// The first [`MAX_MALFORMED_KEPT`] malformed lines.
    pub(crate) malformed: Vec<Malformed>,
    /// Every malformed line skipped, kept in `malformed` or not.
    pub(crate) malformed_count: u64,
    pub(crate) in_flight: Vec<InFlight>,
    /// The id index: `(replica, seq)` → arrival index (dense per replica where seqs are).
    pub(crate) ids: IdIndex,
    /// The arrival indices already in `conflicting`.
    pub(crate) flagged: FxHashSet<u32>,
    /// Every copy the duplicate rule dropped, in the order met.
    pub(crate) dropped: Vec<Dropped>,
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
        EventId::new(Arc::clone(self.names.resolve_shared(e.replica)), e.seq)
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

    /// Lines skipped in lenient mode, in input order: the first [`MAX_MALFORMED_KEPT`] of them
    /// (all of them when [`Trace::malformed_count`] is not larger).
    pub fn malformed(&self) -> &[Malformed] {
        &self.malformed
    }

    /// How many lines were skipped in lenient mode: exact, also beyond the ones kept in
    /// [`Trace::malformed`].
    pub fn malformed_count(&self) -> u64 {
        self.malformed_count
    }

    /// Records one more malformed line: kept while fewer than [`MAX_MALFORMED_KEPT`] are,
    /// counted always. `make` is called only when it is kept.
    pub(crate) fn note_malformed(&mut self, make: impl FnOnce() -> Malformed) {
        self.malformed_count += 1;
        if self.malformed.len() < MAX_MALFORMED_KEPT {
            self.malformed.push(make());
        }
    }

    /// Appends the malformed lines another trace recorded after this trace's own (its kept ones
    /// up to the bound, its count whole).
    fn take_malformed(&mut self, kept: Vec<Malformed>, count: u64) {
        let room = MAX_MALFORMED_KEPT.saturating_sub(self.malformed.len());
        self.malformed.extend(kept.into_iter().take(room));
        self.malformed_count += count;
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
            crdt: e.crdt,
            attrs: self.attrs(e).cloned(),
        }
    }
}

impl Trace {
    /// The arrival index of the event `(replica, seq)`, `replica` a [`Trace::names`] id: one
    /// lookup in the id index (O(1): an array access where a replica's seqs are dense, a hash
    /// probe otherwise).
    pub fn find(&self, replica: Sym, seq: u64) -> Option<usize> {
        self.ids
            .find(replica, seq, |i| {
                let e = &self.events[i as usize];
                (e.replica, e.seq)
            })
            .map(|i| i as usize)
    }

    /// The arrival index of the event with id `replica@seq` (see [`Trace::find`]).
    pub fn find_name(&self, replica: &str, seq: u64) -> Option<usize> {
        self.find(self.names.get(replica)?, seq)
    }

    /// Bytes the id index behind [`Trace::find`] and the duplicate rule has allocated: where a
    /// replica's seqs are dense (1, 2, 3, …), 4 bytes an event (up to 8 while its vector grows);
    /// ids far from their replica's others go to a hash table at 5.7 to 11.4 bytes an event;
    /// plus 32 bytes a replica.
    pub fn id_index_bytes(&self) -> usize {
        self.ids.allocation_size()
    }

    /// The spec's duplicate rule, for one copy of the event `(replica, seq)` met after everything
    /// already in the trace. Returns the arrival index of the kept copy and whether it is this
    /// one.
    ///
    /// The first copy of an id is kept: `make` builds its record (pushing its clock, parents,
    /// value and attrs into the trace's side tables), which gets the next arrival index. A later
    /// copy is dropped (and remembered, see [`Dropped`]): counted in [`Trace::duplicates`] when
    /// its fingerprint equals the kept copy's, else the kept copy's index is added to
    /// [`Trace::conflicting_duplicates`], once. The reader and [`Trace::append`] both go through
    /// here, so they cannot disagree.
    pub(crate) fn admit(
        &mut self,
        replica: Sym,
        seq: u64,
        fingerprint: u64,
        make: impl FnOnce(&mut Trace) -> EventRec,
    ) -> (u32, bool) {
        let next = u32::try_from(self.events.len()).expect("more than 2^32 events");
        // The record is pushed below, before the next call, as the index requires.
        if let Some(of) = self.ids.find_or_insert(replica, seq, next, |i| {
            let e = &self.events[i as usize];
            (e.replica, e.seq)
        }) {
            self.drop_copy(of, fingerprint);
            return (of, false);
        }
        let rec = make(self);
        debug_assert!(rec.replica == replica && rec.seq == seq);
        self.events.push(rec);
        self.fingerprints.push(fingerprint);
        (next, true)
    }

    /// A later copy of the kept event `of`: counted or flagged, and remembered.
    fn drop_copy(&mut self, of: u32, fingerprint: u64) {
        self.dropped.push(Dropped {
            before: self.events.len() as u32,
            of,
            fingerprint,
        });
        if self.fingerprints[of as usize] == fingerprint {
            self.duplicates += 1;
        } else if self.flagged.insert(of) {
            self.conflicting.push(of);
        }
    }

    /// Appends the events of `batch` (a trace read from the lines that come next, e.g. with
    /// [`Trace::batch_from_ndjson`]) as if its lines had been read after this trace's lines in
    /// one read: the result equals what one [`crate::TraceBuilder`] reading all the lines in
    /// order builds, event for event.
    ///
    /// * Every copy of every id the batch read, dropped ones included, goes through the duplicate
    ///   rule against everything before it: the first copy of an id wins (a batch event whose id
    ///   the trace has is not added), an identical later copy (same fingerprint) is counted in
    ///   [`Trace::duplicates`], a differing one puts the first copy's arrival index into
    ///   [`Trace::conflicting_duplicates`] once. The batch's own counts are not added as such:
    ///   a copy identical to the batch's first copy may differ from this trace's.
    /// * Names and message ids/keys are interned into this trace's tables (every name and sym
    ///   the batch knows, also those only its malformed lines or dropped copies named) and every
    ///   reference remapped: replica, msg, key, parents entries, and the clock entries, which are
    ///   re-encoded sorted by this trace's name ids ([`Trace::vc`]'s order). Values and attrs
    ///   move over.
    /// * Malformed lines, headers and in-flight tails are appended as the batch recorded them
    ///   (naming the batch's input and lines); malformed lines only up to [`MAX_MALFORMED_KEPT`]
    ///   in all, and counted whole in [`Trace::malformed_count`].
    ///
    /// An empty batch appends nothing (except what it recorded besides events); appending to an
    /// empty trace takes the batch over without copying it. Cost: O(batch size), plus the
    /// growth of the id index. The batch's record of dropped copies carries over (16 bytes a
    /// dropped copy), so the result can itself be appended to another trace.
    pub fn append(&mut self, mut batch: Trace) -> Appended {
        let events = self.events.len();
        let conflicting = self.conflicting.len();
        let duplicates = self.duplicates;
        let malformed = self.malformed.len();
        let malformed_count = self.malformed_count;
        let headers = self.headers.len();
        let in_flight = self.in_flight.len();
        let names = self.names.len() as Sym;
        let syms = self.syms.len() as Sym;
        if self.events.is_empty() && self.names.is_empty() && self.syms.is_empty() {
            // Nothing to remap against: replaying the batch here would intern its strings in
            // the same order and give every event, count and flag the batch already has.
            let mut earlier = std::mem::take(self);
            earlier.take_malformed(std::mem::take(&mut batch.malformed), batch.malformed_count);
            earlier.headers.append(&mut batch.headers);
            earlier.in_flight.append(&mut batch.in_flight);
            batch.malformed = earlier.malformed;
            batch.malformed_count = earlier.malformed_count;
            batch.headers = earlier.headers;
            batch.in_flight = earlier.in_flight;
            *self = batch;
        } else {
            self.append_remapped(batch);
        }
        Appended {
            events: events..self.events.len(),
            conflicting: self.conflicting[conflicting..].to_vec(),
            duplicates: self.duplicates - duplicates,
            malformed: malformed..self.malformed.len(),
            malformed_count: self.malformed_count - malformed_count,
            headers: headers..self.headers.len(),
            in_flight: in_flight..self.in_flight.len(),
            names: names..self.names.len() as Sym,
            syms: syms..self.syms.len() as Sym,
        }
    }

    /// [`Trace::append`] into a trace that has strings: every reference of the batch remapped.
    fn append_remapped(&mut self, batch: Trace) {
        let Trace {
            names,
            syms,
            events,
            vc_arena,
            parents,
            fingerprints,
            values,
            attrs,
            headers,
            malformed,
            malformed_count,
            in_flight,
            dropped,
            duplicates: _,
            conflicting: _,
            ids: _,
            flagged: _,
        } = batch;
        let name_of: Vec<Sym> = (0..names.len() as Sym)
            .map(|q| self.names.intern(names.resolve(q)))
            .collect();
        let sym_of: Vec<Sym> = (0..syms.len() as Sym)
            .map(|m| self.syms.intern(syms.resolve(m)))
            .collect();
        let mut values: Vec<Option<Value>> = values.into_iter().map(Some).collect();
        let mut attrs: Vec<Option<Map<String, Value>>> = attrs.into_iter().map(Some).collect();
        self.events.reserve(events.len());
        self.fingerprints.reserve(events.len());
        // The arrival index in `self` of each batch event's id (kept here, or earlier).
        let mut here: Vec<u32> = Vec::with_capacity(events.len());
        let mut vc: Vec<(Sym, u64)> = Vec::new();
        let mut dropped = dropped.into_iter().peekable();
        for (j, rec) in events.iter().enumerate() {
            while let Some(d) = dropped.next_if(|d| d.before as usize <= j) {
                self.drop_copy(here[d.of as usize], d.fingerprint);
            }
            let replica = name_of[rec.replica as usize];
            let (at, _) = self.admit(replica, rec.seq, fingerprints[j], |t| {
                let mut r = *rec;
                r.replica = replica;
                let start = rec.vc_start as usize;
                vc.clear();
                vc.extend(
                    VcIter::new(&vc_arena[start..start + rec.vc_len as usize])
                        .map(|(q, v)| (name_of[q as usize], v)),
                );
                if !vc.is_sorted_by_key(|&(q, _)| q) {
                    vc.sort_unstable_by_key(|&(q, _)| q);
                }
                r.vc_start = t.vc_arena.len() as u64;
                vcenc::encode(&vc, &mut t.vc_arena);
                r.vc_len = (t.vc_arena.len() as u64 - r.vc_start) as u32;
                let start = rec.parents_start as usize;
                r.parents_start = t.parents.len() as u64;
                t.parents.extend(
                    parents[start..start + rec.parents_len as usize]
                        .iter()
                        .map(|&(q, s)| (name_of[q as usize], s)),
                );
                if r.msg != NONE {
                    r.msg = sym_of[r.msg as usize];
                }
                if r.key != NONE {
                    r.key = sym_of[r.key as usize];
                }
                if r.value != NONE {
                    let v = values[r.value as usize]
                        .take()
                        .expect("each value belongs to one event");
                    r.value = t.values.len() as u32;
                    t.values.push(v);
                }
                if r.attrs != NONE {
                    let a = attrs[r.attrs as usize]
                        .take()
                        .expect("each attrs belongs to one event");
                    r.attrs = t.attrs.len() as u32;
                    t.attrs.push(a);
                }
                r
            });
            here.push(at);
        }
        for d in dropped {
            self.drop_copy(here[d.of as usize], d.fingerprint);
        }
        self.take_malformed(malformed, malformed_count);
        self.headers.extend(headers);
        self.in_flight.extend(in_flight);
    }
}

/// `v` appended to `table`: its index, or [`NONE`] for no value.
pub(crate) fn push_opt<T>(table: &mut Vec<T>, v: Option<T>) -> u32 {
    match v {
        Some(v) => {
            table.push(v);
            (table.len() - 1) as u32
        }
        None => NONE,
    }
}
