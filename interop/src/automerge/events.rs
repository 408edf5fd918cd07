//! From a loaded document to events: the per-actor numbering, the paths of objects, and one
//! event per operation (the mapping is in the parent module's docs).

use crate::path::escape_segment;
use std::collections::HashMap;
use std::rc::Rc;

use automerge::legacy::{self, ElementId, Key, ObjectId, OpType};
use automerge::{ActorId, Automerge, ChangeHash, ObjType, ReadDoc, ScalarValue, ValueRef};
use serde_json::{json, Map, Value};
use weft_trace::{Event, EventId, Kind, Op};

/// Emits the events of every change of `doc` (all applied: nothing queued), in the document's
/// causal order; returns how many.
pub(super) fn emit(doc: &Automerge, mut sink: impl FnMut(Event)) -> u64 {
    let changes = doc.get_changes(&[]);
    let mut actors = ActorNames::default();
    // Seq of each change's first event: an actor's changes in seq order, each taking as many
    // seqs as it has ops (one for an op-less change, which still gets an event).
    let mut order: Vec<(Rc<str>, u64, usize)> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| (actors.name(c.actor_id()), c.seq(), i))
        .collect();
    order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut first_seq = vec![0u64; changes.len()];
    let mut last: HashMap<ChangeHash, EventId> = HashMap::with_capacity(changes.len());
    let mut running: Option<(Rc<str>, u64)> = None;
    for (actor, _, i) in &order {
        let next = match &running {
            Some((a, n)) if a == actor => *n + 1,
            _ => 1,
        };
        first_seq[*i] = next;
        let end = next + (changes[*i].len().max(1) as u64) - 1;
        last.insert(changes[*i].hash(), EventId::new(actor.to_string(), end));
        running = Some((actor.clone(), end));
    }
    let paths = Paths::of(doc);
    let mut count = 0u64;
    for (i, change) in changes.iter().enumerate() {
        let replica = actors.name(change.actor_id());
        let hash = change.hash().to_string();
        let time = change.timestamp();
        let wall_ns = wall_ns(time);
        let parents: Vec<EventId> = change
            .deps()
            .iter()
            .filter_map(|d| last.get(d).cloned())
            .collect();
        let mut first = Some((parents, change.message().cloned(), time));
        let mut event =
            |seq: u64, lamport: Option<u64>, kind: Kind, mut attrs: Map<String, Value>| {
                attrs.insert("change".into(), Value::String(hash.clone()));
                let (parents, message, time) = first.take().unwrap_or_default();
                if let Some(m) = message {
                    attrs.insert("message".into(), Value::String(m));
                }
                if time != 0 {
                    attrs.insert("time".into(), json!(time));
                }
                Event {
                    replica: replica.to_string(),
                    seq,
                    kind,
                    lamport,
                    wall_ns,
                    parents: (!parents.is_empty()).then_some(parents),
                    attrs: Some(attrs),
                    ..Event::default()
                }
            };
        if change.is_empty() {
            let mut attrs = Map::new();
            attrs.insert("action".into(), "empty-change".into());
            sink(event(first_seq[i], None, Kind::Local, attrs));
            count += 1;
            continue;
        }
        let decoded = change.decode();
        let start = change.start_op().get();
        for (j, op) in decoded.operations.iter().enumerate() {
            let seq = first_seq[i] + j as u64;
            let lamport = start + j as u64;
            let (kind, mut attrs, write) = describe(op, &paths, &mut actors);
            let mut e = event(seq, Some(lamport), kind, std::mem::take(&mut attrs));
            if let Some((key, wop, value)) = write {
                e.key = Some(key);
                e.op = Some(wop);
                e.value = value;
            }
            sink(e);
            count += 1;
        }
    }
    count
}

/// Below this a change's time is taken for seconds, at or above it for milliseconds.
/// Automerge's JavaScript API records seconds (`Math.floor(Date.now() / 1000)` unless the app
/// passes `time`), while apps on the Rust API often pass milliseconds; 10^11 ms is March 1973,
/// before any Automerge document, and 10^11 s is the year 5138.
pub const SECONDS_BELOW: i64 = 100_000_000_000;

/// A change's time as `wall_ns`: none for 0 (no time recorded), seconds or milliseconds by
/// [`SECONDS_BELOW`], none if it overflows.
pub fn wall_ns(time: i64) -> Option<i64> {
    if time == 0 {
        None
    } else if time.unsigned_abs() < SECONDS_BELOW.unsigned_abs() {
        time.checked_mul(1_000_000_000)
    } else {
        time.checked_mul(1_000_000)
    }
}

/// A map write: key, op, value.
type Write = (String, Op, Option<Value>);

/// What one operation becomes: its kind, its attrs, and for a map operation the write.
fn describe(
    op: &legacy::Op,
    paths: &Paths,
    actors: &mut ActorNames,
) -> (Kind, Map<String, Value>, Option<Write>) {
    let mut attrs = Map::new();
    match &op.key {
        Key::Map(k) => {
            let key = paths.key(&op.obj, k, actors);
            let (action, wop, value) = match &op.action {
                OpType::Put(v) => ("put", Op::Set, Some(scalar_json(v))),
                OpType::Make(t) => ("make", Op::Set, Some(json!({ "make": obj_type(*t) }))),
                OpType::Delete => ("delete", Op::Set, None),
                OpType::Increment(n) => {
                    // Automerge makes an increment the successor of every value the key showed,
                    // and hides those that are not counters: after a counter and a scalar were
                    // put concurrently, an increment leaves only the counter. weft's `inc` does
                    // not overwrite a register write, so the hidden values stay siblings in
                    // weft's report; `attrs.pred` names them for the reader.
                    if op.pred.len() > 1 {
                        let pred: Vec<Value> = op
                            .pred
                            .iter()
                            .map(|id| {
                                format!("{}@{}", id.counter(), actors.name(id.actor())).into()
                            })
                            .collect();
                        attrs.insert("pred".into(), Value::Array(pred));
                    }
                    ("inc", Op::Inc, Some(json!(n)))
                }
                OpType::MarkBegin(_) | OpType::MarkEnd(_) => {
                    // Marks belong to text; on a map key they are no write. Kept as what they are.
                    mark_attrs(&op.action, &mut attrs);
                    attrs.insert("obj".into(), paths.name(&op.obj, actors).into());
                    attrs.insert("key".into(), Value::String(k.to_string()));
                    return (Kind::Local, attrs, None);
                }
            };
            attrs.insert("action".into(), action.into());
            (Kind::Write, attrs, Some((key, wop, value)))
        }
        Key::Seq(elem) => {
            attrs.insert("obj".into(), paths.name(&op.obj, actors).into());
            let elem = match elem {
                ElementId::Head => "_head".to_string(),
                ElementId::Id(id) => format!("{}@{}", id.counter(), actors.name(id.actor())),
            };
            // An insert names the element it goes after; other ops the element they change.
            attrs.insert(if op.insert { "after" } else { "elem" }.into(), elem.into());
            let action = match &op.action {
                OpType::Put(v) => {
                    attrs.insert("value".into(), scalar_json(v));
                    if op.insert {
                        "insert"
                    } else {
                        "put"
                    }
                }
                OpType::Make(t) => {
                    attrs.insert("value".into(), json!({ "make": obj_type(*t) }));
                    if op.insert {
                        "insert"
                    } else {
                        "make"
                    }
                }
                OpType::Delete => "delete",
                OpType::Increment(n) => {
                    attrs.insert("value".into(), json!(n));
                    "inc"
                }
                OpType::MarkBegin(_) | OpType::MarkEnd(_) => {
                    mark_attrs(&op.action, &mut attrs);
                    return (Kind::Local, attrs, None);
                }
            };
            attrs.insert("action".into(), action.into());
            (Kind::Local, attrs, None)
        }
    }
}

/// A text mark's begin (name, value, whether it expands) or end.
fn mark_attrs(action: &OpType, attrs: &mut Map<String, Value>) {
    match action {
        OpType::MarkBegin(m) => {
            attrs.insert("action".into(), "mark-begin".into());
            attrs.insert("mark".into(), Value::String(m.name.to_string()));
            attrs.insert("value".into(), scalar_json(&m.value));
            attrs.insert("expand".into(), m.expand.into());
        }
        OpType::MarkEnd(expand) => {
            attrs.insert("action".into(), "mark-end".into());
            attrs.insert("expand".into(), (*expand).into());
        }
        _ => {}
    }
}

fn obj_type(t: ObjType) -> &'static str {
    match t {
        ObjType::Map => "map",
        ObjType::Table => "table",
        ObjType::List => "list",
        ObjType::Text => "text",
    }
}

/// An Automerge scalar as JSON. JSON's own types where they fit (strings, integers, floats,
/// booleans, null); the rest tagged so they are not mistaken for those: `{"counter": N}` (a
/// counter's value when put), `{"timestamp": MS}`, `{"bytes": "HEX"}`, `{"f64": "NaN"}` (and
/// `"inf"`, `"-inf"`: JSON has no such numbers), `{"unknown": CODE, "bytes": "HEX"}` (a type
/// from a newer Automerge).
pub fn scalar_json(v: &ScalarValue) -> Value {
    match v {
        ScalarValue::Str(s) => Value::String(s.to_string()),
        ScalarValue::Int(n) => json!(n),
        ScalarValue::Uint(n) => json!(n),
        ScalarValue::F64(f) => serde_json::Number::from_f64(*f).map_or_else(
            || {
                let text = if f.is_nan() {
                    "NaN"
                } else if *f > 0.0 {
                    "inf"
                } else {
                    "-inf"
                };
                json!({ "f64": text })
            },
            Value::Number,
        ),
        ScalarValue::Counter(c) => json!({ "counter": i64::from(c) }),
        ScalarValue::Timestamp(ms) => json!({ "timestamp": ms }),
        ScalarValue::Boolean(b) => Value::Bool(*b),
        ScalarValue::Bytes(b) => json!({ "bytes": hex(b) }),
        ScalarValue::Unknown { type_code, bytes } => {
            json!({ "unknown": type_code, "bytes": hex(bytes) })
        }
        ScalarValue::Null => Value::Null,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Actor ids as lowercase hex, computed once per actor.
#[derive(Default)]
struct ActorNames(HashMap<ActorId, Rc<str>>);

impl ActorNames {
    fn name(&mut self, a: &ActorId) -> Rc<str> {
        if let Some(n) = self.0.get(a) {
            return n.clone();
        }
        let n: Rc<str> = a.to_hex_string().into();
        self.0.insert(a.clone(), n.clone());
        n
    }
}

/// The path of every object the document shows, from the root: map keys and list indexes,
/// escaped and joined with `/`. An object the document does not show (deleted, or a value that
/// lost a conflict) has none.
struct Paths(HashMap<ObjectId, String>);

impl Paths {
    /// Walks the visible values (an explicit stack: documents may nest deeper than the thread's
    /// stack would allow).
    fn of(doc: &Automerge) -> Paths {
        let mut paths = HashMap::new();
        let mut stack: Vec<(automerge::ObjId, String)> = vec![(automerge::ROOT, String::new())];
        while let Some((obj, path)) = stack.pop() {
            let mut visit = |id: automerge::ObjId, seg: &str| {
                let p = if path.is_empty() {
                    escape_segment(seg).into_owned()
                } else {
                    format!("{path}/{}", escape_segment(seg))
                };
                if let automerge::ObjId::Id(ctr, actor, _) = &id {
                    paths.insert(ObjectId::Id(legacy::OpId(*ctr, actor.clone())), p.clone());
                }
                stack.push((id, p));
            };
            match doc.object_type(&obj) {
                Ok(ObjType::Map | ObjType::Table) => {
                    for item in doc.map_range(&obj, ..) {
                        if matches!(item.value, ValueRef::Object(_)) {
                            visit(item.id(), &item.key);
                        }
                    }
                }
                Ok(ObjType::List | ObjType::Text) => {
                    for item in doc.list_range(&obj, ..) {
                        if matches!(item.value, ValueRef::Object(_)) {
                            visit(item.id(), &item.index.to_string());
                        }
                    }
                }
                Err(_) => {}
            }
        }
        Paths(paths)
    }

    /// How an object is named in keys and attrs: its path, `""` for the root, or `~@ID` for an
    /// object the document does not show.
    fn name(&self, obj: &ObjectId, actors: &mut ActorNames) -> String {
        match obj {
            ObjectId::Root => String::new(),
            ObjectId::Id(id) => match self.0.get(obj) {
                Some(p) => p.clone(),
                None => format!("~@{}@{}", id.counter(), actors.name(id.actor())),
            },
        }
    }

    /// The weft key of map key `k` of `obj`.
    fn key(&self, obj: &ObjectId, k: &str, actors: &mut ActorNames) -> String {
        let k = escape_segment(k);
        match obj {
            ObjectId::Root => k.into_owned(),
            _ => format!("{}/{k}", self.name(obj, actors)),
        }
    }
}
