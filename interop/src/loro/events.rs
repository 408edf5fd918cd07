//! The mapping from a Loro history (JSON changes, as `export_json_updates` gives them) to weft
//! events. One event per op:
//!
//! * **replica** — the op's peer, as 20-digit zero-padded decimal ([`replica_name`]), so that
//!   weft's bytewise replica order is Loro's numeric peer order and weft's LWW tie-break
//!   `(lamport, replica)` is Loro's map rule `(lamport, peer)`.
//! * **seq** — the op's position in its peer's history, renumbered 1, 2, … in counter order.
//!   Not `counter + 1`: a text or list op covers as many counters as characters or elements it
//!   inserts or deletes, so counters would leave gaps (`seq-gap` warnings on every text edit).
//!   The op's Loro id `counter@peer` is kept in `attrs.loro_id`, its container's id in
//!   `attrs.container`.
//! * **lamport** — the op's own Lamport timestamp: its change's plus the op's counter offset in
//!   the change (what Loro's map compares).
//! * **parents** — on a change's first op, the ops holding its deps (Loro's frontiers when the
//!   change was made); later ops of the change follow by program order. In a shallow snapshot,
//!   deps on trimmed history are left out and listed in `attrs.trimmed_deps`.
//! * **wall_ns** — the change's timestamp (Unix seconds, recorded only when the app enabled it;
//!   0 means unset) in nanoseconds. **attrs.message** — the commit message, on the first op.
//! * **map insert** → `write`, `op: set`, `crdt: lww`, key `PATH/KEY`, the value (containers
//!   as Loro's JSON writes them, `🦜:cid:…`, mergeable children's slot markers included). **Map delete** → the same with `value: null` and
//!   `attrs.action: "delete"`: in Loro a delete is an LWW entry like a set (a later or larger
//!   concurrent write wins over it and vice versa), and what the map shows for a deleted key is
//!   "no value", weft's `null`.
//! * **counter increment** → `write`, `op: inc`, `crdt: counter`, key `PATH`. Loro counters are
//!   f64; an integral increment (|x| ≤ 2^53) is written as a JSON integer so weft's exact
//!   integer sums apply, others as floats. A counter in a map slot shares its key with the
//!   slot's own writes; such keys declare no `crdt` (see [`undeclare_shared_key`]).
//! * **list, movable list, text, tree ops** → `local` events, key `PATH`, with `attrs.action`
//!   (`insert`, `delete`, `move`, `set`, `mark`, `mark_end`, `create`) and its position, length,
//!   inserted text or values, tree node and parent.
//!
//! `PATH` is the container's path from the root as Loro gives it (`todos/3/done`: root
//! container `todos`, list index 3, map key `done`; tree nodes as `peer@counter`), taken from
//! the document's current state. A container that is not reachable there (deleted, or the
//! loser of two concurrent `insertContainer` on one key) has no path; it is named by its id
//! (`cid:12@3:Map`). Keys holding `/` are not escaped (Loro root names cannot hold one).

use crate::path::escape_segment;
use std::collections::{HashMap, HashSet};

use loro::json::{JsonChange, JsonOp};
use loro::{
    ContainerID, ContainerTrait, Counter, Index, JsonFutureOp, JsonListOp, JsonMapOp,
    JsonMovableListOp, JsonOpContent, JsonTextOp, JsonTreeOp, LoroDoc, LoroValue, PeerID, TreeID,
    ID,
};
use loro_common::translate_mergeable_marker_value;
use serde_json::{json, Map, Value};
use weft_trace::{Crdt, Event, EventId, Kind, Op};

/// Largest integer an f64 counter increment may be to be written as a JSON integer (2^53):
/// every integer up to it is exact in f64, so the conversion loses nothing.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// How Loro names the roots that stand for mergeable child containers
/// (`loro_common::MERGEABLE_NAMESPACE_PREFIX`).
const MERGEABLE_PREFIX: &str = "🤝:";

/// The replica name of a Loro peer: its decimal id zero-padded to 20 digits (`u64::MAX` has
/// 20), so that names sort bytewise exactly as peers sort numerically.
pub fn replica_name(peer: PeerID) -> String {
    format!("{peer:020}")
}

/// Where each peer's ops are: `(first counter, end counter)` per op, in counter order. An op's
/// seq is its index + 1. Built op by op ([`OpIndex::push`]) as the history is read.
#[derive(Debug, Default)]
pub(super) struct OpIndex(HashMap<PeerID, Vec<(Counter, Counter)>>);

impl OpIndex {
    /// Records `peer`'s next op (ops come in counter order per peer).
    pub(super) fn push(&mut self, peer: PeerID, op: &JsonOp) {
        let len = Counter::try_from(op.content.op_len()).unwrap_or(Counter::MAX);
        self.0
            .entry(peer)
            .or_default()
            .push((op.counter, op.counter.saturating_add(len.max(1))));
    }

    /// The event holding Loro op id `id`, if the history has it.
    pub(super) fn event(&self, id: ID) -> Option<EventId> {
        let ops = self.0.get(&id.peer)?;
        let i = ops.partition_point(|(start, _)| *start <= id.counter);
        let (_, end) = *ops.get(i.checked_sub(1)?)?;
        (id.counter < end).then(|| EventId::new(replica_name(id.peer), i as u64))
    }
}

/// Container paths from the root, computed once per container.
pub(super) struct Paths<'a> {
    doc: &'a LoroDoc,
    cache: HashMap<ContainerID, String>,
}

impl<'a> Paths<'a> {
    pub(super) fn new(doc: &'a LoroDoc) -> Self {
        Paths {
            doc,
            cache: HashMap::new(),
        }
    }

    pub(super) fn get(&mut self, cid: &ContainerID) -> &str {
        let doc = self.doc;
        self.cache
            .entry(cid.clone())
            .or_insert_with(|| path_of(doc, cid))
    }
}

/// `cid`'s path in the document's current state (`a/3/b`), or its id when it has none there.
fn path_of(doc: &LoroDoc, cid: &ContainerID) -> String {
    if let ContainerID::Root { name, .. } = cid {
        // Mergeable children (`ensure_mergeable_*`) are roots with a `🤝:` name; their
        // path is the map key they sit under, like any child's.
        if !name.starts_with(MERGEABLE_PREFIX) {
            return escape_segment(name).into_owned();
        }
    }
    let Some(path) = doc.get_path_to_container(cid) else {
        return cid.to_string();
    };
    // Loro keeps a container's parent link after the container is replaced or deleted; only
    // a path that leads back to this very container names it.
    let indices: Vec<Index> = path.iter().map(|(_, i)| i.clone()).collect();
    match doc.get_by_path(&indices) {
        Some(found) if found.as_container().map(|c| c.id()).as_ref() == Some(cid) => indices
            .iter()
            .map(|i| escape_segment(&i.to_string()).into_owned())
            .collect::<Vec<_>>()
            .join("/"),
        _ => cid.to_string(),
    }
}

/// The key a map op or counter op writes and whether it is an increment: what [`content`]
/// sets as the event's `key` for an `op: set` (`PATH/KEY`) or `op: inc` (`PATH`) write, read
/// without consuming the op. Other ops write no key (`None`).
pub(super) fn write_key(
    cid: &ContainerID,
    content: &JsonOpContent,
    paths: &mut Paths,
) -> Option<(String, bool)> {
    match content {
        JsonOpContent::Map(JsonMapOp::Insert { key, .. } | JsonMapOp::Delete { key }) => {
            Some((format!("{}/{}", paths.get(cid), escape_segment(key)), false))
        }
        JsonOpContent::Future(f) if matches!(f.value, JsonFutureOp::Counter(_)) => {
            Some((paths.get(cid).to_string(), true))
        }
        _ => None,
    }
}

/// Maps a history read in pieces to events, one piece (a change, or part of one) at a time:
/// peers ascending, each peer's ops in counter order, as the pieces must come.
pub(super) struct Mapper<'a> {
    paths: Paths<'a>,
    index: &'a OpIndex,
    /// Keys with both `set` and `inc` writes (see [`undeclare_shared_key`]).
    shared: &'a HashSet<String>,
    /// The document is a shallow snapshot, whose deps may point before its root.
    trimmed: bool,
    peer: Option<PeerID>,
    replica: String,
    seq: u64,
}

impl<'a> Mapper<'a> {
    pub(super) fn new(
        doc: &'a LoroDoc,
        index: &'a OpIndex,
        shared: &'a HashSet<String>,
        trimmed: bool,
    ) -> Self {
        Mapper {
            paths: Paths::new(doc),
            index,
            shared,
            trimmed,
            peer: None,
            replica: String::new(),
            seq: 0,
        }
    }

    /// Hands `sink` the events of `c`'s ops. `starts`: `c` begins a change (its first op
    /// carries the change's parents and message); otherwise it continues the change the
    /// previous piece was part of. Returns how many events.
    pub(super) fn piece(
        &mut self,
        mut c: JsonChange,
        starts: bool,
        sink: &mut impl FnMut(Event),
    ) -> u64 {
        if self.peer != Some(c.id.peer) {
            self.peer = Some(c.id.peer);
            self.replica = replica_name(c.id.peer);
            self.seq = 0;
        }
        let wall_ns = (c.timestamp != 0)
            .then(|| c.timestamp.checked_mul(1_000_000_000))
            .flatten();
        let mut first = starts;
        let mut n = 0;
        for op in std::mem::take(&mut c.ops) {
            self.seq += 1;
            n += 1;
            let offset = i64::from(op.counter) - i64::from(c.id.counter);
            let mut attrs = Map::new();
            attrs.insert(
                "loro_id".into(),
                format!("{}@{}", op.counter, c.id.peer).into(),
            );
            let mut ev = Event {
                replica: self.replica.clone(),
                seq: self.seq,
                lamport: u64::try_from(i64::from(c.lamport) + offset).ok(),
                wall_ns,
                ..Event::default()
            };
            if first {
                first = false;
                let parents = parents(&c, self.index, self.trimmed, &mut attrs);
                ev.parents = (!parents.is_empty()).then_some(parents);
                if let Some(m) = &c.msg {
                    attrs.insert("message".into(), m.as_str().into());
                }
            }
            content(
                &mut ev,
                &mut attrs,
                &op.container,
                op.content,
                &mut self.paths,
            );
            ev.attrs = Some(attrs);
            undeclare_shared_key(&mut ev, self.shared);
            sink(ev);
        }
        n
    }
}

/// Drops the `crdt` declaration on a write of a key that has both `set` and `inc` writes
/// (`shared`, found by a first pass over the history). That is a map slot holding a counter:
/// the slot's writes (creating or replacing the counter) and the counter's increments share
/// the key `PATH`, and spec section 8 types a key as one or the other, so declaring both would
/// be a `crdt-type-conflict` that is not in the document. Undeclared, the slot's writes still
/// conflict as registers and the increments still sum.
fn undeclare_shared_key(e: &mut Event, shared: &HashSet<String>) {
    if e.kind == Kind::Write && e.key.as_ref().is_some_and(|k| shared.contains(k)) {
        e.crdt = None;
    }
}

/// Checks that the deps of a change (`c`, the piece that starts it) name ops the history
/// holds, in a document that is not shallow. A dep on a peer whose ops are not all indexed yet
/// (a later peer, or a later op of this one) cannot be judged now: it is returned, to be
/// checked once the index is complete. Returns the first dep (its position)
/// that is known missing, and the deferred ones.
pub(super) fn check_deps(
    c: &JsonChange,
    index: &OpIndex,
    deferred: &mut Vec<(ID, usize, ID)>,
) -> Option<(usize, ID)> {
    for (i, dep) in c.deps.iter().enumerate() {
        let judged = dep.peer < c.id.peer || (dep.peer == c.id.peer && dep.counter < c.id.counter);
        if !judged {
            deferred.push((c.id, i, *dep));
        } else if index.event(*dep).is_none() {
            return Some((i, *dep));
        }
    }
    None
}

/// The reason a change depending on an op the document does not hold is an error.
pub(super) fn missing_dep_reason(change: ID, dep: ID) -> String {
    format!(
        "change {}@{} depends on op {}@{}, which the document does not hold",
        change.counter, change.peer, dep.counter, dep.peer
    )
}

/// The events holding a change's deps. In a shallow snapshot a dep may precede the root: it is
/// listed in `attrs.trimmed_deps` instead (weft's parents name only events the trace has). In
/// a document that is not shallow every dep is in the history (the first pass checked it with
/// [`check_deps`]).
fn parents(
    c: &JsonChange,
    index: &OpIndex,
    trimmed: bool,
    attrs: &mut Map<String, Value>,
) -> Vec<EventId> {
    let mut parents = Vec::with_capacity(c.deps.len());
    let mut gone = Vec::new();
    for dep in &c.deps {
        match index.event(*dep) {
            Some(e) => parents.push(e),
            None if trimmed => gone.push(Value::from(format!("{}@{}", dep.counter, dep.peer))),
            None => {}
        }
    }
    if !gone.is_empty() {
        attrs.insert("trimmed_deps".into(), Value::Array(gone));
    }
    parents.sort();
    parents.dedup();
    parents
}

/// Fills in what the op did: key, kind, op, value and the `attrs` describing it.
fn content(
    ev: &mut Event,
    attrs: &mut Map<String, Value>,
    cid: &ContainerID,
    content: JsonOpContent,
    paths: &mut Paths,
) {
    let path = paths.get(cid);
    attrs.insert("container".into(), cid.to_string().into());
    match content {
        JsonOpContent::Map(m) => {
            let (key, value) = match m {
                JsonMapOp::Insert { key, value } => {
                    // A mergeable child (`ensure_mergeable_*`) is stored as a binary marker
                    // in the slot; Loro's map shows the child container, and so does weft.
                    let value = translate_mergeable_marker_value(cid, &key, value);
                    (key, loro_json(&value))
                }
                JsonMapOp::Delete { key } => {
                    attrs.insert("action".into(), "delete".into());
                    (key, Value::Null)
                }
            };
            ev.kind = Kind::Write;
            ev.op = Some(Op::Set);
            ev.crdt = Some(Crdt::Lww);
            ev.key = Some(format!("{path}/{}", escape_segment(&key)));
            ev.value = Some(value);
            return;
        }
        JsonOpContent::Future(f) => match f.value {
            JsonFutureOp::Counter(v) => {
                ev.kind = Kind::Write;
                ev.op = Some(Op::Inc);
                ev.crdt = Some(Crdt::Counter);
                ev.key = Some(path.to_string());
                ev.value = Some(increment(serde_json::to_value(&v).unwrap_or(Value::Null)));
                return;
            }
            JsonFutureOp::Unknown(v) => local(
                attrs,
                "unknown",
                json!({"prop": f.prop, "data": serde_json::to_value(&v).unwrap_or(Value::Null)}),
            ),
        },
        other => {
            let (action, fields) = sequence_op(other);
            local(attrs, action, fields);
        }
    }
    ev.kind = Kind::Local;
    ev.key = Some(path.to_string());
}

/// A list, movable-list, text or tree op as its action and the fields `attrs` gets; map and
/// counter ops, which are writes, are mapped by [`content`] itself.
fn sequence_op(content: JsonOpContent) -> (&'static str, Value) {
    match content {
        JsonOpContent::List(l) => match l {
            JsonListOp::Insert { pos, value } => {
                ("insert", json!({"pos": pos, "values": values(&value)}))
            }
            JsonListOp::Delete { pos, len, start_id } => ("delete", deletion(pos, len, start_id)),
        },
        JsonOpContent::MovableList(l) => match l {
            JsonMovableListOp::Insert { pos, value } => {
                ("insert", json!({"pos": pos, "values": values(&value)}))
            }
            JsonMovableListOp::Delete { pos, len, start_id } => {
                ("delete", deletion(pos, len, start_id))
            }
            JsonMovableListOp::Move { from, to, elem_id } => (
                "move",
                json!({"from": from, "to": to, "elem": format!("L{}@{}", elem_id.lamport, elem_id.peer)}),
            ),
            JsonMovableListOp::Set { elem_id, value } => (
                "set",
                json!({"elem": format!("L{}@{}", elem_id.lamport, elem_id.peer), "value": loro_json(&value)}),
            ),
        },
        JsonOpContent::Text(t) => match t {
            JsonTextOp::Insert { pos, text } => ("insert", json!({"pos": pos, "text": text})),
            JsonTextOp::Delete { pos, len, start_id } => ("delete", deletion(pos, len, start_id)),
            JsonTextOp::Mark {
                start,
                end,
                style_key,
                style_value,
                ..
            } => (
                "mark",
                json!({"start": start, "end": end, "style": style_key, "value": loro_json(&style_value)}),
            ),
            JsonTextOp::MarkEnd => ("mark_end", Value::Null),
        },
        JsonOpContent::Tree(t) => match t {
            JsonTreeOp::Create {
                target,
                parent,
                fractional_index,
            } => (
                "create",
                json!({"node": node(target), "parent": parent.map(node), "index": fractional_index.to_string()}),
            ),
            JsonTreeOp::Move {
                target,
                parent,
                fractional_index,
            } => (
                "move",
                json!({"node": node(target), "parent": parent.map(node), "index": fractional_index.to_string()}),
            ),
            JsonTreeOp::Delete { target } => ("delete", json!({"node": node(target)})),
        },
        JsonOpContent::Map(_) | JsonOpContent::Future(_) => ("unknown", Value::Null),
    }
}

/// Records a non-map op's action and its fields in `attrs`.
fn local(attrs: &mut Map<String, Value>, action: &str, fields: Value) {
    attrs.insert("action".into(), action.into());
    if let Value::Object(fields) = fields {
        attrs.extend(fields);
    }
}

/// A Loro value as JSON, as Loro's own JSON export writes it (containers as `🦜:cid:…`,
/// binary as an array of bytes; a non-finite double, which JSON cannot hold, as `null`).
pub fn loro_json(v: &LoroValue) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn values(vs: &[LoroValue]) -> Value {
    Value::Array(vs.iter().map(loro_json).collect())
}

fn deletion(pos: i32, len: i32, start_id: ID) -> Value {
    json!({"pos": pos, "len": len, "start_id": format!("{}@{}", start_id.counter, start_id.peer)})
}

fn node(id: TreeID) -> String {
    format!("{}@{}", id.peer, id.counter)
}

/// A counter op's increment from its serialized content (`{"value_type": "f64", "value": x}`):
/// integral values as JSON integers (see the module docs), others as they are.
fn increment(content: Value) -> Value {
    match content.get("value") {
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if n.is_f64() && x.fract() == 0.0 && x.abs() <= MAX_EXACT => {
                Value::from(x as i64)
            }
            _ => Value::Number(n.clone()),
        },
        _ => Value::Null,
    }
}
