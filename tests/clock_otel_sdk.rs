// weft-clock's tests (kept out of its crate so that it needs only weft-api).
//! Events emitted through the real OpenTelemetry SDK carry exactly the attributes of
//! trace-format §7, and the events they map to pass `weft check`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::Key;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLogRecord, SdkLoggerProvider};
use opentelemetry_sdk::Resource;
use serde_json::{json, Map, Value};
use weft_clock::{attach, emit, Context, Crdt, Op, ReplicaClock, Stamp, WeftEvent, EVENT_NAME};
use weft_trace::{Event, ReadOptions, Trace};

/// Keeps every exported record (the SDK's `InMemoryLogExporter` needs its `testing` feature,
/// which would pull in tracing and metrics as well).
#[derive(Clone, Debug, Default)]
struct Collect(Arc<Mutex<Vec<SdkLogRecord>>>);

impl LogExporter for Collect {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let mut v = self.0.lock().unwrap();
        v.extend(batch.iter().map(|(r, _)| r.clone()));
        Ok(())
    }
}

fn setup() -> (SdkLoggerProvider, Collect) {
    let exporter = Collect::default();
    let provider = SdkLoggerProvider::builder()
        .with_resource(Resource::builder().with_service_name("shop").build())
        .with_simple_exporter(exporter.clone())
        .build();
    (provider, exporter)
}

fn attrs(r: &SdkLogRecord) -> Vec<(&str, &AnyValue)> {
    r.attributes_iter().map(|(k, v)| (k.as_str(), v)).collect()
}

fn s(v: &str) -> AnyValue {
    AnyValue::from(v.to_string())
}

fn vc(entries: &[(&str, i64)]) -> AnyValue {
    AnyValue::Map(Box::new(
        entries
            .iter()
            .map(|&(q, n)| (Key::from(q.to_string()), AnyValue::Int(n)))
            .collect(),
    ))
}

fn at(ms: u64) -> Option<SystemTime> {
    Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(ms))
}

/// The §7 mapping, written out independently of the crate: record → weft-trace/1 event line.
/// Panics when an attribute has a type the spec does not allow, which is what this test checks.
fn to_line(r: &SdkLogRecord) -> Value {
    let mut line = Map::new();
    let mut extra = Map::new();
    for (k, v) in attrs(r) {
        let Some(field) = k.strip_prefix("weft.") else {
            extra.insert(k.to_string(), any_to_json(v));
            continue;
        };
        let j = match (field, v) {
            ("replica" | "kind" | "msg" | "key" | "op" | "crdt", AnyValue::String(s)) => {
                json!(s.as_str())
            }
            ("seq" | "lamport", AnyValue::Int(i)) => json!(i),
            ("vc", AnyValue::Map(m)) => Value::Object(
                m.iter()
                    .map(|(q, n)| match n {
                        AnyValue::Int(n) => (q.as_str().to_string(), json!(n)),
                        other => panic!("weft.vc entry {q} is not an int: {other:?}"),
                    })
                    .collect(),
            ),
            ("parents", AnyValue::ListAny(l)) => l
                .iter()
                .map(|p| match p {
                    AnyValue::String(p) => {
                        let (r, n) = p.as_str().rsplit_once('@').expect("replica@seq");
                        json!([r, n.parse::<u64>().expect("seq")])
                    }
                    other => panic!("weft.parents entry is not a string: {other:?}"),
                })
                .collect(),
            ("value", v) => any_to_json(v),
            (f, v) => panic!("attribute weft.{f} has a type §7 does not allow: {v:?}"),
        };
        assert!(line.insert(field.to_string(), j).is_none(), "{k} twice");
    }
    let t = r.timestamp().or(r.observed_timestamp()).expect("a time");
    let ns = t.duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64;
    line.insert("wall_ns".into(), json!(ns));
    if let Some(b) = r.body() {
        extra.insert("body".into(), any_to_json(b));
    }
    if !extra.is_empty() {
        line.insert("attrs".into(), Value::Object(extra));
    }
    Value::Object(line)
}

fn any_to_json(v: &AnyValue) -> Value {
    match v {
        AnyValue::Int(i) => json!(i),
        AnyValue::Double(d) => json!(d),
        AnyValue::String(s) => json!(s.as_str()),
        AnyValue::Boolean(b) => json!(b),
        AnyValue::ListAny(l) => l.iter().map(any_to_json).collect(),
        AnyValue::Map(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.as_str().to_string(), any_to_json(v)))
                .collect(),
        ),
        other => panic!("unexpected value {other:?}"),
    }
}

#[test]
fn two_replicas_exchanging_a_message_emit_section_7_records() {
    let (provider, exporter) = setup();
    let logger = provider.logger("weft-clock-test");

    let mut phone = ReplicaClock::new("phone");
    let mut edge = ReplicaClock::new("edge");

    // What was emitted, to compare with what the records say.
    let mut sent: Vec<(Stamp, WeftEvent, Option<SystemTime>)> = Vec::new();
    let mut record = |stamp: &Stamp, event: WeftEvent, wall: Option<SystemTime>| {
        emit(&logger, stamp, &event, wall);
        sent.push((stamp.clone(), event, wall));
    };

    let price = phone.tick();
    let value = json!({"eur": 12.5, "tags": ["sale"]});
    record(&price, WeftEvent::write("sku-1/price").value(value), at(0));
    let send = phone.tick();
    record(&send, WeftEvent::send("m1"), at(1));
    let header = send.context().to_header();

    let edge_price = edge.tick();
    record(
        &edge_price,
        WeftEvent::write("sku-1/price")
            .op(Op::Set)
            .value(13)
            .crdt(Crdt::Lww),
        at(2),
    );
    let recv = edge.receive(&Context::from_header(&header).unwrap());
    record(
        &recv,
        WeftEvent::recv("m1").body("got the phone's price"),
        at(3),
    );

    // The phone later merges the edge node's state, naming it as its parent; no wall time, so
    // the SDK's observed time stands in.
    let merge = phone.merge(&[recv.context()]);
    record(&merge, WeftEvent::local(), None);
    let read = phone.tick();
    // It reads the price: 13, one of the two concurrent writes it has seen (last writer wins).
    record(
        &read,
        WeftEvent::read("sku-1/price").crdt(Crdt::Lww).value(13),
        at(9),
    );

    provider.force_flush().unwrap();
    let records = exporter.0.lock().unwrap().clone();
    assert_eq!(records.len(), 6);

    // Exact attributes, names and types, in the order attach writes them.
    let expected: Vec<Vec<(&str, AnyValue)>> = vec![
        vec![
            ("weft.replica", s("phone")),
            ("weft.seq", AnyValue::Int(1)),
            ("weft.kind", s("write")),
            ("weft.lamport", AnyValue::Int(1)),
            ("weft.vc", vc(&[("phone", 1)])),
            ("weft.key", s("sku-1/price")),
            (
                "weft.value",
                AnyValue::Map(Box::new(
                    [
                        (Key::from("eur"), AnyValue::Double(12.5)),
                        (
                            Key::from("tags"),
                            AnyValue::ListAny(Box::new(vec![s("sale")])),
                        ),
                    ]
                    .into_iter()
                    .collect(),
                )),
            ),
        ],
        vec![
            ("weft.replica", s("phone")),
            ("weft.seq", AnyValue::Int(2)),
            ("weft.kind", s("send")),
            ("weft.lamport", AnyValue::Int(2)),
            ("weft.vc", vc(&[("phone", 2)])),
            ("weft.msg", s("m1")),
        ],
        vec![
            ("weft.replica", s("edge")),
            ("weft.seq", AnyValue::Int(1)),
            ("weft.kind", s("write")),
            ("weft.lamport", AnyValue::Int(1)),
            ("weft.vc", vc(&[("edge", 1)])),
            ("weft.key", s("sku-1/price")),
            ("weft.op", s("set")),
            ("weft.value", AnyValue::Int(13)),
            ("weft.crdt", s("lww")),
        ],
        vec![
            ("weft.replica", s("edge")),
            ("weft.seq", AnyValue::Int(2)),
            ("weft.kind", s("recv")),
            ("weft.lamport", AnyValue::Int(3)),
            ("weft.vc", vc(&[("edge", 2), ("phone", 2)])),
            ("weft.msg", s("m1")),
        ],
        vec![
            ("weft.replica", s("phone")),
            ("weft.seq", AnyValue::Int(3)),
            ("weft.kind", s("local")),
            ("weft.lamport", AnyValue::Int(4)),
            ("weft.vc", vc(&[("edge", 2), ("phone", 3)])),
            (
                "weft.parents",
                AnyValue::ListAny(Box::new(vec![s("edge@2")])),
            ),
        ],
        vec![
            ("weft.replica", s("phone")),
            ("weft.seq", AnyValue::Int(4)),
            ("weft.kind", s("read")),
            ("weft.lamport", AnyValue::Int(5)),
            ("weft.vc", vc(&[("edge", 2), ("phone", 4)])),
            ("weft.key", s("sku-1/price")),
            ("weft.value", AnyValue::Int(13)),
            ("weft.crdt", s("lww")),
        ],
    ];
    for (i, (r, want)) in records.iter().zip(&expected).enumerate() {
        let got: Vec<(&str, AnyValue)> =
            attrs(r).into_iter().map(|(k, v)| (k, v.clone())).collect();
        assert_eq!(&got, want, "record {i}");
        assert_eq!(r.event_name(), Some(EVENT_NAME));
        assert_eq!(r.severity_number(), Some(Severity::Info));
        assert_eq!(r.severity_text(), Some("INFO"));
        assert!(
            r.observed_timestamp().is_some(),
            "the SDK sets the observed time"
        );
    }
    let times: Vec<_> = records.iter().map(|r| r.timestamp()).collect();
    assert_eq!(times, [at(0), at(1), at(2), at(3), None, at(9)]);
    let bodies: Vec<_> = records.iter().map(|r| r.body().cloned()).collect();
    assert_eq!(
        bodies,
        [
            "write sku-1/price",
            "send m1",
            "write sku-1/price",
            "got the phone's price",
            "merge edge@2",
            "read sku-1/price"
        ]
        .map(|b| Some(s(b)))
    );

    // The records, mapped as §7 says, are a trace `weft check` finds nothing wrong with, apart
    // from the two concurrent price writes — which it reports as the one conflict.
    let text: String = records
        .iter()
        .map(|r| format!("{}\n", to_line(r)))
        .collect();
    let trace = Trace::from_ndjson_str("otel", &text, &ReadOptions::default()).unwrap();
    let report = weft_analyzer::analyze(&trace);
    assert_eq!(report.summary.errors, 0, "{}", report.to_json_string());
    assert_eq!(report.summary.warnings, 0, "{}", report.to_json_string());
    assert_eq!(report.summary.conflicts, 1, "{}", report.to_json_string());
    // The read's value and type came through, and 13 is right for it.
    assert_eq!(
        report.summary.reads_checked,
        1,
        "{}",
        report.to_json_string()
    );
    let c = &report.conflicts[0];
    assert_eq!(
        (c.a.to_string(), c.b.to_string()),
        ("edge@1".into(), "phone@1".into())
    );
    assert!(price.concurrent_with(&edge_price));
    assert!(price.happened_before(&read) && edge_price.happened_before(&read));

    // And each line is what `WeftEvent::to_event` says the collector makes of the record.
    assert_eq!(sent.len(), records.len());
    for (r, (stamp, event, wall)) in records.iter().zip(&sent) {
        let mut line = to_line(r);
        let obj = line.as_object_mut().unwrap();
        obj.remove("attrs");
        if wall.is_none() {
            obj.remove("wall_ns"); // the observed time
        }
        let from_record: Event = serde_json::from_value(line).unwrap();
        assert_eq!(from_record, event.to_event(stamp, *wall));
    }
}

#[test]
fn attach_works_on_a_record_the_caller_emits() {
    let (provider, exporter) = setup();
    let logger = provider.logger("weft-clock-test");
    let mut clock = ReplicaClock::new("svc-1");
    let stamp = clock.tick();

    let mut record = logger.create_log_record();
    record.set_severity_number(Severity::Warn);
    record.set_body(s("cache evicted"));
    record.add_attribute("http.route", "/cart");
    attach(&mut record, &stamp, &WeftEvent::local(), None);
    logger.emit(record);
    provider.force_flush().unwrap();

    let records = exporter.0.lock().unwrap().clone();
    let r = &records[0];
    assert_eq!(r.severity_number(), Some(Severity::Warn));
    assert_eq!(r.event_name(), None);
    assert_eq!(r.timestamp(), None);
    let keys: Vec<&str> = attrs(r).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            "http.route",
            "weft.replica",
            "weft.seq",
            "weft.kind",
            "weft.lamport",
            "weft.vc"
        ]
    );
    let line = to_line(r);
    assert_eq!(
        line["attrs"],
        json!({"http.route": "/cart", "body": "cache evicted"})
    );
    assert_eq!(line["vc"], json!({"svc-1": 1}));
    assert_eq!(line["kind"], json!("local"));
}
