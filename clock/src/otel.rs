//! Putting a stamped event on an OpenTelemetry log record (trace-format §7).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::logs::{AnyValue, LogRecord, Logger, Severity};
use opentelemetry::Key;
use serde_json::Value;
use weft_api::{Crdt, Event, Kind, Op};

use crate::{Stamp, MAX_CLOCK};

/// The `event_name` [`emit`] gives its records, so that other backends can tell weft events
/// from ordinary logs. The collector itself recognises weft events by `weft.seq` alone.
pub const EVENT_NAME: &str = "weft.event";

/// What an event did, apart from its clocks: its kind, the message or key it concerns, for
/// writes the operation and value, for reads the value the read returned, and for both the
/// key's replicated data type. Build one per event and pass it with the event's [`Stamp`] to
/// [`emit`] or [`attach`].
///
/// A read with its value and type is what lets `weft check` tell whether the replica showed
/// what its causal past implies (spec section 8: stale reads, reads of writes it had not seen):
///
/// ```
/// use weft_clock::{Crdt, ReplicaClock, WeftEvent};
///
/// let mut phone = ReplicaClock::new("phone");
/// let write = WeftEvent::write("sku-1/price").crdt(Crdt::Lww).value(12);
/// let w = write.to_event(&phone.tick(), None);
/// let read = WeftEvent::read("sku-1/price").crdt(Crdt::Lww).value(12);
/// let r = read.to_event(&phone.tick(), None);
/// assert_eq!((w.crdt, r.crdt), (Some(Crdt::Lww), Some(Crdt::Lww)));
/// assert_eq!(r.value, Some(12.into())); // what the read returned
/// ```
///
/// The spec requires a `msg` on sends and receives and a `key` on writes and reads; the
/// shorthands [`send`](Self::send), [`recv`](Self::recv), [`write`](Self::write) and
/// [`read`](Self::read) take it up front so that it cannot be forgotten. The collector rejects a
/// record that lacks it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WeftEvent {
    kind: Kind,
    msg: Option<String>,
    key: Option<String>,
    op: Option<Op>,
    value: Option<Value>,
    crdt: Option<Crdt>,
    body: Option<String>,
}

impl WeftEvent {
    /// An event of the given kind with nothing else set yet.
    pub fn new(kind: Kind) -> Self {
        WeftEvent {
            kind,
            ..WeftEvent::default()
        }
    }

    /// A local step: anything that is neither a write, a read nor a message (also a
    /// [`merge`](crate::ReplicaClock::merge)).
    pub fn local() -> Self {
        Self::new(Kind::Local)
    }

    /// A write of `key` (a register assignment unless [`op`](Self::op) says otherwise).
    pub fn write(key: impl Into<String>) -> Self {
        Self::new(Kind::Write).key(key)
    }

    /// A read of `key`.
    pub fn read(key: impl Into<String>) -> Self {
        Self::new(Kind::Read).key(key)
    }

    /// Sending message `msg`. Message ids must be unique across the system; the send's own id
    /// (`stamp.id().to_string()`) is one that always is.
    pub fn send(msg: impl Into<String>) -> Self {
        Self::new(Kind::Send).msg(msg)
    }

    /// Receiving message `msg`: the same id the sender's `send` event carries.
    pub fn recv(msg: impl Into<String>) -> Self {
        Self::new(Kind::Recv).msg(msg)
    }

    /// Sets the message id.
    pub fn msg(mut self, msg: impl Into<String>) -> Self {
        self.msg = Some(msg.into());
        self
    }

    /// Sets the replicated object written or read.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets how a write changes its key (without it, a write is a `set`).
    pub fn op(mut self, op: Op) -> Self {
        self.op = Some(op);
        self
    }

    /// Sets the value written (the increment, the set element), or for a read the value it
    /// returned. A read that returned nothing returned `null`: pass [`Value::Null`], which is
    /// kept (a read without `value` is one weft does not check, a read of `null` is checked).
    ///
    /// OpenTelemetry values have no null, so [`attach`] cannot carry one: a read whose value is
    /// or contains `null` goes out without `weft.value` (unchecked rather than checked against
    /// a value it did not return). [`to_event`](Self::to_event) keeps it, for NDJSON.
    pub fn value(mut self, value: impl Into<Value>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// Sets the replicated data type of the key (`lww`, `mv`, `counter`, `set`) on a write or a
    /// read. It decides what a read must return; without it weft infers it from the key's
    /// writes (all `inc`: counter, all `add`/`remove`: set, all `set`: lww), and never infers
    /// `mv`. Ignored on other kinds, as the collector ignores it there.
    pub fn crdt(mut self, crdt: Crdt) -> Self {
        self.crdt = Some(crdt);
        self
    }

    /// Sets the text [`emit`] uses as the record's body, in place of the generated one
    /// (`write sku-1/stock`, `send phone@2`, ...). The collector keeps it as `attrs.body`.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// The event's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The weft event the collector makes of a record that [`attach`] (or [`emit`]) filled with
    /// this event, `stamp` and `wall`, apart from `attrs` (which the collector fills with the
    /// record's other attributes and body) and from nulls in the value, which this keeps and
    /// OpenTelemetry cannot carry. Useful to write weft-trace/1 NDJSON directly: there a read
    /// that returned `null` is recorded, and checked, as such.
    pub fn to_event(&self, stamp: &Stamp, wall: Option<SystemTime>) -> Event {
        Event {
            replica: stamp.replica.clone(),
            seq: stamp.seq,
            kind: self.kind,
            lamport: Some(stamp.lamport),
            vc: Some(stamp.vc.clone()),
            wall_ns: wall.and_then(unix_nanos),
            parents: stamp.parents.clone(),
            msg: self.msg.clone(),
            key: self.key.clone(),
            op: self.op,
            value: self.value.clone(),
            attrs: None,
            crdt: self.crdt.filter(|_| self.reads_or_writes()),
        }
    }

    /// Whether the event is a write or a read: the kinds `crdt` belongs to.
    fn reads_or_writes(&self) -> bool {
        matches!(self.kind, Kind::Write | Kind::Read)
    }

    /// The value as `attach` carries it: nulls cannot be. A read's value with a null anywhere is
    /// left out whole; elsewhere nulls inside objects and arrays are dropped, and a top-level
    /// null is left out (for a register write the same as writing null).
    fn value_to_attach(&self) -> Option<AnyValue> {
        let v = self.value.as_ref()?;
        if self.kind == Kind::Read && has_null(v) {
            return None;
        }
        json_to_any(v)
    }

    /// The generated body: what happened, in a few words.
    fn summary(&self, stamp: &Stamp) -> String {
        let verb = match (self.kind, self.op) {
            (Kind::Write, Some(op)) if op != Op::Set => op.as_str(),
            (k, _) => k.as_str(),
        };
        let what = match self.kind {
            Kind::Send | Kind::Recv => self.msg.as_deref(),
            _ => self.key.as_deref(),
        };
        match (what, &stamp.parents) {
            (Some(w), _) => format!("{verb} {w}"),
            (None, Some(parents)) if self.kind == Kind::Local => {
                const SHOWN: usize = 4;
                let mut s = String::from("merge");
                for p in parents.iter().take(SHOWN) {
                    s.push(' ');
                    s.push_str(&p.to_string());
                }
                if parents.len() > SHOWN {
                    s.push_str(&format!(" and {} more", parents.len() - SHOWN));
                }
                s
            }
            (None, _) => verb.to_string(),
        }
    }
}

/// Writes an event onto an OpenTelemetry log record as the `weft.*` attributes of trace-format
/// §7, so that the weft collector turns the record into that event.
///
/// Sets `weft.replica`, `weft.seq` and `weft.lamport` (ints), `weft.kind`, `weft.vc` (a map of
/// replica to int), `weft.parents` (strings `replica@seq`, only for a
/// [`merge`](crate::ReplicaClock::merge)), and `weft.msg`, `weft.key`, `weft.op`, `weft.value`
/// when the event has them, `weft.crdt` when a write or read has it. The value is converted as
/// JSON reads: objects to maps, arrays to lists, integers that fit an `i64` to ints and other
/// numbers to doubles, booleans and strings as themselves. OpenTelemetry has no null, so nulls
/// inside objects and arrays are left out, and a read whose value holds a null has no
/// `weft.value` (see [`WeftEvent::value`]).
///
/// `wall` becomes the record's timestamp, which the collector reads as the event's `wall_ns`.
/// The library never reads the clock itself, so a caller with a simulated or recorded clock gets
/// the same records every time. With `None` the record has no timestamp and the collector falls
/// back to the observed time, which the SDK sets when the record is emitted.
///
/// Severity and body are left to the caller ([`emit`] sets both). Attach an event to a record
/// once only: attributes are added, not replaced, and the collector rejects a record with a
/// repeated `weft.*` attribute.
pub fn attach<R: LogRecord>(
    record: &mut R,
    stamp: &Stamp,
    event: &WeftEvent,
    wall: Option<SystemTime>,
) {
    if let Some(t) = wall {
        record.set_timestamp(t);
    }
    record.add_attribute("weft.replica", stamp.replica.clone());
    record.add_attribute("weft.seq", clock_value(stamp.seq));
    record.add_attribute("weft.kind", event.kind.as_str());
    record.add_attribute("weft.lamport", clock_value(stamp.lamport));
    let vc: HashMap<Key, AnyValue> = stamp
        .vc
        .iter()
        .map(|(q, &n)| (Key::from(q.clone()), clock_value(n)))
        .collect();
    record.add_attribute("weft.vc", AnyValue::Map(Box::new(vc)));
    if let Some(parents) = &stamp.parents {
        let ids = parents
            .iter()
            .map(|p| AnyValue::from(p.to_string()))
            .collect();
        record.add_attribute("weft.parents", AnyValue::ListAny(Box::new(ids)));
    }
    if let Some(msg) = &event.msg {
        record.add_attribute("weft.msg", msg.clone());
    }
    if let Some(key) = &event.key {
        record.add_attribute("weft.key", key.clone());
    }
    if let Some(op) = event.op {
        record.add_attribute("weft.op", op.as_str());
    }
    if let Some(v) = event.value_to_attach() {
        record.add_attribute("weft.value", v);
    }
    if let Some(c) = event.crdt.filter(|_| event.reads_or_writes()) {
        record.add_attribute("weft.crdt", c.as_str());
    }
}

/// Emits one event as an OpenTelemetry log record: creates the record, [`attach`]es the event,
/// names it [`EVENT_NAME`], gives it severity `INFO` and a short body (`write sku-1/stock`,
/// `send phone@2`, `merge edge@4 phone@7`, or the event's own [`body`](WeftEvent::body)), and
/// hands it to the logger.
///
/// `wall` is as for [`attach`]. The logger's processors and exporter decide what happens next;
/// records the SDK drops leave gaps in the replica's history (`seq-gap` warnings).
pub fn emit(logger: &impl Logger, stamp: &Stamp, event: &WeftEvent, wall: Option<SystemTime>) {
    let mut record = logger.create_log_record();
    record.set_event_name(EVENT_NAME);
    record.set_severity_number(Severity::Info);
    record.set_severity_text(Severity::Info.name());
    let body = event.body.clone().unwrap_or_else(|| event.summary(stamp));
    record.set_body(AnyValue::from(body));
    attach(&mut record, stamp, event, wall);
    logger.emit(record);
}

/// A clock value as an OpenTelemetry int. Values above [`MAX_CLOCK`] (which a
/// [`ReplicaClock`](crate::ReplicaClock) reaches only when resumed or fed out of range by hand)
/// become decimal strings, the form the collector also accepts.
fn clock_value(n: u64) -> AnyValue {
    if n <= MAX_CLOCK {
        AnyValue::Int(n as i64)
    } else {
        AnyValue::from(n.to_string())
    }
}

/// JSON as an OpenTelemetry value; `None` for null.
fn json_to_any(v: &Value) -> Option<AnyValue> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => AnyValue::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => AnyValue::Int(i),
            None => AnyValue::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => AnyValue::from(s.clone()),
        Value::Array(a) => AnyValue::ListAny(Box::new(a.iter().filter_map(json_to_any).collect())),
        Value::Object(o) => AnyValue::Map(Box::new(
            o.iter()
                .filter_map(|(k, v)| Some((Key::from(k.clone()), json_to_any(v)?)))
                .collect(),
        )),
    })
}

/// Whether a JSON value is or holds a null.
fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().any(has_null),
        Value::Object(o) => o.values().any(has_null),
        _ => false,
    }
}

/// Nanoseconds since the Unix epoch, negative before it; `None` beyond what `i64` holds.
fn unix_nanos(t: SystemTime) -> Option<i64> {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).ok(),
        Err(e) => i64::try_from(e.duration().as_nanos()).ok().map(|n| -n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReplicaClock;
    use opentelemetry::logs::Severity;
    use opentelemetry::{SpanId, TraceFlags, TraceId};
    use serde_json::json;
    use std::borrow::Cow;
    use std::time::Duration;
    use weft_api::EventId;

    /// A log record that keeps what it is given, to test `attach` without an SDK.
    #[derive(Default)]
    struct Rec {
        timestamp: Option<SystemTime>,
        body: Option<AnyValue>,
        attrs: Vec<(Key, AnyValue)>,
    }

    impl LogRecord for Rec {
        fn set_event_name(&mut self, _: &'static str) {}
        fn set_target<T: Into<Cow<'static, str>>>(&mut self, _: T) {}
        fn set_timestamp(&mut self, t: SystemTime) {
            self.timestamp = Some(t);
        }
        fn set_observed_timestamp(&mut self, _: SystemTime) {}
        fn set_severity_text(&mut self, _: &'static str) {}
        fn set_severity_number(&mut self, _: Severity) {}
        fn set_body(&mut self, body: AnyValue) {
            self.body = Some(body);
        }
        fn add_attributes<I, K, V>(&mut self, attributes: I)
        where
            I: IntoIterator<Item = (K, V)>,
            K: Into<Key>,
            V: Into<AnyValue>,
        {
            for (k, v) in attributes {
                self.add_attribute(k, v);
            }
        }
        fn add_attribute<K: Into<Key>, V: Into<AnyValue>>(&mut self, key: K, value: V) {
            self.attrs.push((key.into(), value.into()));
        }
        fn set_trace_context(&mut self, _: TraceId, _: SpanId, _: Option<TraceFlags>) {}
    }

    impl Rec {
        fn get(&self, key: &str) -> Option<&AnyValue> {
            self.attrs
                .iter()
                .find(|(k, _)| k.as_str() == key)
                .map(|(_, v)| v)
        }
        fn keys(&self) -> Vec<&str> {
            self.attrs.iter().map(|(k, _)| k.as_str()).collect()
        }
    }

    fn s(v: &str) -> AnyValue {
        AnyValue::from(v.to_string())
    }

    fn map(entries: &[(&str, AnyValue)]) -> AnyValue {
        AnyValue::Map(Box::new(
            entries
                .iter()
                .map(|(k, v)| (Key::from(k.to_string()), v.clone()))
                .collect(),
        ))
    }

    #[test]
    fn attach_writes_the_section_7_attributes() {
        let mut a = ReplicaClock::new("phone");
        a.tick();
        let stamp = a.tick();
        let ev = WeftEvent::write("sku-1/stock")
            .op(Op::Inc)
            .value(json!({"by": -1, "note": "sold", "gone": null, "tags": [1, 2.5, null, true]}));
        let wall = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        let mut rec = Rec::default();
        attach(&mut rec, &stamp, &ev, Some(wall));
        assert_eq!(
            rec.keys(),
            [
                "weft.replica",
                "weft.seq",
                "weft.kind",
                "weft.lamport",
                "weft.vc",
                "weft.key",
                "weft.op",
                "weft.value"
            ]
        );
        assert_eq!(rec.get("weft.replica"), Some(&s("phone")));
        assert_eq!(rec.get("weft.seq"), Some(&AnyValue::Int(2)));
        assert_eq!(rec.get("weft.kind"), Some(&s("write")));
        assert_eq!(rec.get("weft.lamport"), Some(&AnyValue::Int(2)));
        assert_eq!(
            rec.get("weft.vc"),
            Some(&map(&[("phone", AnyValue::Int(2))]))
        );
        assert_eq!(rec.get("weft.key"), Some(&s("sku-1/stock")));
        assert_eq!(rec.get("weft.op"), Some(&s("inc")));
        let list = AnyValue::ListAny(Box::new(vec![
            AnyValue::Int(1),
            AnyValue::Double(2.5),
            AnyValue::Boolean(true),
        ]));
        assert_eq!(
            rec.get("weft.value"),
            Some(&map(&[
                ("by", AnyValue::Int(-1)),
                ("note", s("sold")),
                ("tags", list)
            ]))
        );
        assert_eq!(rec.timestamp, Some(wall));
        assert_eq!(rec.body, None, "attach leaves the body alone");
    }

    #[test]
    fn attach_writes_parents_msg_and_omits_what_is_absent() {
        let mut a = ReplicaClock::new("a");
        let mut b = ReplicaClock::new("b");
        let send = b.tick();
        let m = a.merge(&[send.context()]);
        let mut rec = Rec::default();
        attach(&mut rec, &m, &WeftEvent::local().value(json!(null)), None);
        assert_eq!(
            rec.keys(),
            [
                "weft.replica",
                "weft.seq",
                "weft.kind",
                "weft.lamport",
                "weft.vc",
                "weft.parents"
            ]
        );
        assert_eq!(rec.get("weft.kind"), Some(&s("local")));
        assert_eq!(
            rec.get("weft.parents"),
            Some(&AnyValue::ListAny(Box::new(vec![s("b@1")])))
        );
        assert_eq!(rec.timestamp, None);

        let mut rec = Rec::default();
        attach(&mut rec, &send, &WeftEvent::send("b@1"), None);
        assert_eq!(rec.get("weft.msg"), Some(&s("b@1")));
        assert_eq!(rec.get("weft.parents"), None);
    }

    #[test]
    fn reads_carry_the_value_returned_and_writes_and_reads_their_type() {
        let mut a = ReplicaClock::new("phone");
        let w = a.tick();
        let r = a.tick();
        let write = WeftEvent::write("sku-1/price").crdt(Crdt::Lww).value(12);
        let mut rec = Rec::default();
        attach(&mut rec, &w, &write, None);
        assert_eq!(rec.get("weft.crdt"), Some(&s("lww")));
        assert_eq!(rec.get("weft.value"), Some(&AnyValue::Int(12)));
        assert_eq!(rec.keys().last(), Some(&"weft.crdt"));
        let e = write.to_event(&w, None);
        assert_eq!((e.crdt, e.value), (Some(Crdt::Lww), Some(json!(12))));

        let read = |v: Value| WeftEvent::read("cart").crdt(Crdt::Set).value(v);
        let attached = |ev: &WeftEvent| {
            let mut rec = Rec::default();
            attach(&mut rec, &r, ev, None);
            (
                rec.get("weft.crdt").cloned(),
                rec.get("weft.value").cloned(),
            )
        };
        let list = |vs: Vec<AnyValue>| AnyValue::ListAny(Box::new(vs));
        assert_eq!(
            attached(&read(json!(["milk", 2]))),
            (
                Some(s("set")),
                Some(list(vec![s("milk"), AnyValue::Int(2)]))
            )
        );
        // An empty result is a value: the read is checked against it.
        assert_eq!(
            attached(&read(json!([]))),
            (Some(s("set")), Some(list(vec![])))
        );
        // OpenTelemetry has no null: a read that returned null, or an array holding one, goes
        // out without a value rather than as a different one ([null, 3] is not [3]).
        for v in [json!(null), json!([null, 3]), json!({"a": [null]})] {
            assert_eq!(attached(&read(v.clone())), (Some(s("set")), None), "{v}");
            // ... while the event itself keeps what the read returned, for NDJSON.
            assert_eq!(read(v.clone()).to_event(&r, None).value, Some(v));
        }
        // A read that recorded no value has none, which is not a null.
        let unread = WeftEvent::read("cart");
        assert_eq!(attached(&unread), (None, None));
        assert_eq!(unread.to_event(&r, None).value, None);
        // A write's nulls inside are dropped as before (a set write's own null is its default).
        let mut rec = Rec::default();
        attach(
            &mut rec,
            &w,
            &WeftEvent::write("k").value(json!([null, 3])),
            None,
        );
        assert_eq!(rec.get("weft.value"), Some(&list(vec![AnyValue::Int(3)])));

        // The type belongs to writes and reads: elsewhere neither attached nor in the event.
        for ev in [
            WeftEvent::send("m1").crdt(Crdt::Counter),
            WeftEvent::local().crdt(Crdt::Mv),
        ] {
            let mut rec = Rec::default();
            attach(&mut rec, &r, &ev, None);
            assert_eq!(rec.get("weft.crdt"), None);
            assert_eq!(ev.to_event(&r, None).crdt, None);
        }
        let e = WeftEvent::read("k").crdt(Crdt::Mv).to_event(&r, None);
        assert_eq!(
            serde_json::to_value(&e).unwrap()["crdt"],
            json!("mv"),
            "spelled as the trace format spells it"
        );
    }

    #[test]
    fn numbers_become_ints_when_integral_else_doubles() {
        let cases = [
            (json!(7), AnyValue::Int(7)),
            (json!(-7), AnyValue::Int(-7)),
            (json!(i64::MIN), AnyValue::Int(i64::MIN)),
            (json!(1.0), AnyValue::Double(1.0)),
            (json!(0.1), AnyValue::Double(0.1)),
            (json!(u64::MAX), AnyValue::Double(u64::MAX as f64)),
            (json!("x"), s("x")),
            (json!(false), AnyValue::Boolean(false)),
            (json!([]), AnyValue::ListAny(Box::default())),
            (json!({}), AnyValue::Map(Box::default())),
        ];
        for (json, any) in cases {
            assert_eq!(json_to_any(&json), Some(any), "{json}");
        }
        assert_eq!(json_to_any(&json!(null)), None);
    }

    #[test]
    fn clock_values_beyond_i64_become_decimal_strings() {
        assert_eq!(clock_value(0), AnyValue::Int(0));
        assert_eq!(clock_value(MAX_CLOCK), AnyValue::Int(i64::MAX));
        assert_eq!(clock_value(MAX_CLOCK + 1), s("9223372036854775808"));
    }

    #[test]
    fn generated_bodies_say_what_happened() {
        let mut a = ReplicaClock::new("a");
        let t = a.tick();
        let body = |e: WeftEvent, st: &Stamp| e.summary(st);
        assert_eq!(
            body(WeftEvent::write("sku-1/stock"), &t),
            "write sku-1/stock"
        );
        assert_eq!(
            body(WeftEvent::write("sku-1/stock").op(Op::Set), &t),
            "write sku-1/stock"
        );
        assert_eq!(
            body(WeftEvent::write("visits").op(Op::Inc), &t),
            "inc visits"
        );
        assert_eq!(body(WeftEvent::read("cart"), &t), "read cart");
        assert_eq!(body(WeftEvent::send("m1"), &t), "send m1");
        assert_eq!(body(WeftEvent::recv("m1"), &t), "recv m1");
        assert_eq!(body(WeftEvent::local(), &t), "local");
        let ctxs: Vec<_> = (1..=6)
            .map(|i| ReplicaClock::new(format!("r{i}")).tick().context())
            .collect();
        let m = a.merge(&ctxs);
        assert_eq!(
            body(WeftEvent::local(), &m),
            "merge r1@1 r2@1 r3@1 r4@1 and 2 more"
        );
    }

    #[test]
    fn to_event_is_the_collectors_reading() {
        let mut a = ReplicaClock::new("a");
        let st = a.merge(&[ReplicaClock::new("b").tick().context()]);
        let wall = UNIX_EPOCH - Duration::from_nanos(5);
        let e = WeftEvent::local().value(3).to_event(&st, Some(wall));
        assert_eq!(e.id(), EventId::new("a", 1));
        assert_eq!(e.wall_ns, Some(-5));
        assert_eq!(e.parents, Some(vec![EventId::new("b", 1)]));
        assert_eq!(e.lamport, Some(2));
        assert_eq!(e.value, Some(json!(3)));
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"replica":"a","seq":1,"lamport":2,"vc":{"a":1,"b":1},"wall_ns":-5,
                   "parents":[["b",1]],"value":3})
        );
    }
}
