//! Reading a Loro document's history in bounded chunks, twice: a first pass ([`plan`]) that
//! keeps only compact data — where each op is (to turn deps into parent events), which keys
//! have both `set` and `inc` writes — and finds every error; then [`emit`], which maps the
//! chunks to events one by one and cannot fail. A million-op document is never a million
//! events, nor its whole history as JSON, in memory.
//!
//! Separate from [`events`](super::events), which maps one piece of history to events: this
//! module decides which pieces to read and in what order.
//!
//! A chunk is `LoroDoc::export_json_in_id_span` over one peer's counters `[a, b)`, at most
//! [`CHUNK_COUNTERS`] of them. The library cuts the changes (and ops) that cross the span's
//! ends: a piece that starts inside a change carries the deps and Lamport timestamp of its
//! first counter, not the change's, and an op crossing `b` comes back cut. So chunks start on
//! op boundaries, and the last op of a chunk that ends before the peer's last counter is read
//! again as the first of the next (it may have been cut); a piece that starts inside a change
//! is marked a continuation, so its first op gets no parents or message. The events are the
//! ones `export_json_updates_without_peer_compression` of the whole history (peers ascending,
//! counter order, changes before a shallow snapshot's root cut off) would give.

use std::collections::HashSet;

use loro::json::JsonChange;
use loro::{Counter, IdSpan, LoroDoc, PeerID, VersionVector, ID};
use weft_trace::{Event, Kind, Op};

use super::events::{self, Mapper, OpIndex, Paths};
use super::{guarded, loro_error, ImportError};

/// How many counters (ops; text and list ops count one per element) a chunk spans: enough that
/// a chunk costs little next to its ops, few enough that it is small. An op longer than this
/// is read in a longer chunk of its own.
pub const CHUNK_COUNTERS: Counter = 4096;

/// What the first pass over a document's history found ([`plan`]): everything [`emit`] needs
/// that depends on the whole history.
#[derive(Debug)]
pub struct Plan {
    /// Per peer with history, ascending: the counters to read, `[start, end)`.
    spans: Vec<(PeerID, Counter, Counter)>,
    /// Where each op is, to resolve deps to events.
    index: OpIndex,
    /// Keys with both `set` and `inc` writes: their writes declare no `crdt`.
    shared: HashSet<String>,
    /// The document is a shallow snapshot (deps before its root are left out).
    trimmed: bool,
    /// Counters per chunk.
    chunk: Counter,
    /// How many events [`emit`] will make.
    events: u64,
}

impl Plan {
    /// How many events [`emit`] makes (one per op of the history).
    pub fn len(&self) -> u64 {
        self.events
    }

    /// Whether there are none (never, for a plan [`plan`] returned).
    pub fn is_empty(&self) -> bool {
        self.events == 0
    }
}

/// The first pass over the history of a document [`load`](super::load) returned, in chunks of
/// [`CHUNK_COUNTERS`]. `names` is what errors about the whole document name (load's second
/// value). Fails when the document holds no history ([`ImportError::NoHistory`]), when a
/// change depends on an op a document that is not shallow lacks
/// ([`ImportError::Inconsistent`]), or when the library cannot read the history.
pub fn plan(doc: &LoroDoc, names: &str) -> Result<Plan, ImportError> {
    plan_in_chunks(doc, names, CHUNK_COUNTERS)
}

/// [`plan`] with chunks of `chunk` counters (at least 1): for tests, which cut histories into
/// many small chunks to check that the events do not depend on where chunks end.
#[doc(hidden)]
pub fn plan_in_chunks(doc: &LoroDoc, names: &str, chunk: Counter) -> Result<Plan, ImportError> {
    let chunk = chunk.max(1);
    let (spans, trimmed) = guarded(names, || spans(doc))?;
    let mut pass = FirstPass {
        index: OpIndex::default(),
        paths: Paths::new(doc),
        sets: HashSet::new(),
        incs: HashSet::new(),
        trimmed,
        deferred: Vec::new(),
        missing: None,
        events: 0,
    };
    guarded(names, || {
        for &(peer, start, end) in &spans {
            read_peer(doc, peer, start, end, chunk, |c, starts| {
                pass.piece(c, starts)
            });
        }
    })?;
    // The library records a change block it cannot parse and skips it; the chunks then
    // stopped short. Any id asks it whether that happened.
    if let Some(&(peer, start, _)) = spans.first() {
        guarded(names, || doc.try_get_change(ID::new(peer, start)))?
            .map_err(|e| loro_error(names, e))?;
    }
    if pass.events == 0 {
        return Err(ImportError::NoHistory {
            file: names.into(),
            shallow: if trimmed {
                ", only a shallow snapshot's state"
            } else {
                ""
            },
        });
    }
    if let Some(reason) = pass.first_missing() {
        return Err(ImportError::Inconsistent {
            file: names.into(),
            reason,
        });
    }
    let shared = pass.sets.intersection(&pass.incs).cloned().collect();
    Ok(Plan {
        spans,
        index: pass.index,
        shared,
        trimmed,
        chunk,
        events: pass.events,
    })
}

/// Hands `sink` the events of a document [`plan`] accepted, as they are made: peers
/// ascending, each peer's ops in counter order, seq 1, 2, … per replica (see
/// [`events`](super::events) for the mapping). Cannot fail: every error was found by
/// [`load`](super::load) and [`plan`], so a caller can do both before it opens its output and
/// leave no partial file behind. Returns how many events.
pub fn emit(doc: &LoroDoc, plan: &Plan, mut sink: impl FnMut(Event)) -> u64 {
    let mut mapper = Mapper::new(doc, &plan.index, &plan.shared, plan.trimmed);
    let mut n = 0;
    for &(peer, start, end) in &plan.spans {
        read_peer(doc, peer, start, end, plan.chunk, |c, starts| {
            n += mapper.piece(c, starts, &mut sink);
        });
    }
    n
}

/// The peers with history and their counters `[start, end)`, ascending by peer, and whether the
/// document is a shallow snapshot (each peer's history then starts at the shallow root).
fn spans(doc: &LoroDoc) -> (Vec<(PeerID, Counter, Counter)>, bool) {
    let trimmed = doc.is_shallow();
    let since = if trimmed {
        doc.shallow_since_vv().to_vv()
    } else {
        Default::default()
    };
    let mut spans: Vec<_> = doc
        .oplog_vv()
        .iter()
        .map(|(&peer, &end)| (peer, since.get(&peer).copied().unwrap_or(0).max(0), end))
        .filter(|(_, start, end)| start < end)
        .collect();
    spans.sort_unstable();
    (spans, trimmed)
}

/// Reads `peer`'s history `[start, end)` in chunks of about `chunk` counters, handing `f` each
/// piece in counter order with whether it starts a change (see the module docs). `start` is
/// where the peer's history begins (0, or a shallow snapshot's root, where the history as the
/// document gives it begins too, with deps before the root).
fn read_peer(
    doc: &LoroDoc,
    peer: PeerID,
    start: Counter,
    end: Counter,
    chunk: Counter,
    mut f: impl FnMut(JsonChange, bool),
) {
    let mut a = start;
    // Whether a change starts at `a` (or the history does).
    let mut a_starts = true;
    let mut len = chunk;
    while a < end {
        let b = a.saturating_add(len).min(end);
        let mut pieces = doc.export_json_in_id_span(IdSpan::new(peer, a, b));
        let ops: usize = pieces.iter().map(|c| c.ops.len()).sum();
        if ops == 0 || pieces[0].id.counter != a {
            // History the library could not read (plan reports it) or does not have.
            return;
        }
        let first_starts = a_starts;
        if b < end {
            if ops == 1 {
                // One op, maybe cut at `b`: read it whole.
                len = len.saturating_mul(2);
                continue;
            }
            // The last op may be cut at `b`: it opens the next chunk instead.
            let Some(last) = pieces.last_mut() else {
                return;
            };
            let Some(op) = last.ops.pop() else {
                return;
            };
            a = op.counter;
            a_starts = if !last.ops.is_empty() {
                false
            } else {
                // The op began its piece: a change starts there if one started the piece.
                pieces.pop();
                !pieces.is_empty() || first_starts
            };
        } else {
            a = end;
        }
        for (i, c) in pieces.into_iter().enumerate() {
            f(c, i > 0 || first_starts);
        }
        len = chunk;
    }
}

/// The first pass's state: the op index and key flags as they grow, and the deps it could not
/// judge yet.
struct FirstPass<'a> {
    index: OpIndex,
    paths: Paths<'a>,
    /// Keys of `set` writes.
    sets: HashSet<String>,
    /// Keys of `inc` writes.
    incs: HashSet<String>,
    trimmed: bool,
    /// `(change, dep position, dep)` for deps on ops not indexed yet when their change was read.
    deferred: Vec<(ID, usize, ID)>,
    /// The first change (in read order) found depending on an op the document lacks: the
    /// change, the dep's position, the dep.
    missing: Option<(ID, usize, ID)>,
    events: u64,
}

impl FirstPass<'_> {
    fn piece(&mut self, c: JsonChange, starts: bool) {
        if starts && !self.trimmed && self.missing.is_none() {
            if let Some((i, dep)) = events::check_deps(&c, &self.index, &mut self.deferred) {
                self.missing = Some((c.id, i, dep));
            }
        }
        for op in &c.ops {
            self.events += 1;
            self.index.push(c.id.peer, op);
            if let Some((key, inc)) = events::write_key(&op.container, &op.content, &mut self.paths)
            {
                let keys = if inc { &mut self.incs } else { &mut self.sets };
                if !keys.contains(&key) {
                    keys.insert(key);
                }
            }
        }
    }

    /// The error for the first change, in (peer, counter) order and its deps in order, that
    /// depends on an op the complete history lacks: what mapping the whole history at once
    /// reported.
    fn first_missing(&self) -> Option<String> {
        let late = self
            .deferred
            .iter()
            .filter(|(_, _, dep)| self.index.event(*dep).is_none())
            .copied();
        let key = |(c, i, _): &(ID, usize, ID)| (c.peer, c.counter, *i);
        self.missing
            .into_iter()
            .chain(late)
            .min_by_key(key)
            .map(|(c, _, dep)| events::missing_dep_reason(c, dep))
    }
}

/// The events of the whole history read at once (`export_json_updates_without_peer_compression`)
/// and mapped change by change, the keys shared by `set` and `inc` writes undeclared afterwards
/// over all the events: how the import worked before it streamed, kept as the reference the
/// tests hold [`emit`] to. Holds the whole history and every event in memory.
#[doc(hidden)]
pub fn whole_history_events(doc: &LoroDoc, names: &str) -> Result<Vec<Event>, ImportError> {
    let trimmed = doc.is_shallow();
    let start: VersionVector = if trimmed {
        doc.shallow_since_vv().to_vv()
    } else {
        VersionVector::default()
    };
    let mut changes = guarded(names, || {
        doc.export_json_updates_without_peer_compression(&start, &doc.oplog_vv())
    })?
    .map_err(|e| loro_error(names, e))?
    .changes;
    if changes.is_empty() {
        return Err(ImportError::NoHistory {
            file: names.into(),
            shallow: if trimmed {
                ", only a shallow snapshot's state"
            } else {
                ""
            },
        });
    }
    changes.sort_unstable_by_key(|c| (c.id.peer, c.id.counter));
    let mut index = OpIndex::default();
    for c in &changes {
        for op in &c.ops {
            index.push(c.id.peer, op);
        }
    }
    if !trimmed {
        for c in &changes {
            if let Some(dep) = c.deps.iter().find(|d| index.event(**d).is_none()) {
                return Err(ImportError::Inconsistent {
                    file: names.into(),
                    reason: events::missing_dep_reason(c.id, *dep),
                });
            }
        }
    }
    let none = HashSet::new();
    let mut mapper = Mapper::new(doc, &index, &none, trimmed);
    let mut out = Vec::new();
    for c in changes {
        mapper.piece(c, true, &mut |e| out.push(e));
    }
    let mut sets = HashSet::new();
    let mut incs = HashSet::new();
    for e in &out {
        match (e.op, e.key.as_deref()) {
            (Some(Op::Set), Some(k)) => sets.insert(k.to_string()),
            (Some(Op::Inc), Some(k)) => incs.insert(k.to_string()),
            _ => false,
        };
    }
    for e in &mut out {
        if e.kind == Kind::Write
            && e.key
                .as_ref()
                .is_some_and(|k| sets.contains(k) && incs.contains(k))
        {
            e.crdt = None;
        }
    }
    Ok(out)
}
