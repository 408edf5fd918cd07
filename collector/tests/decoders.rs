//! Property tests of the collector's decoders: the NDJSON batch check (`Ingest::check_ndjson`,
//! built on `weft_trace::LineChecker`) and OTLP protobuf decoding followed by `map_logs` /
//! `map_traces`. Whatever the bytes, nothing panics, and what comes out obeys the invariants the
//! HTTP and gRPC handlers rely on. The fuzz targets in `fuzz/` check the same invariants without
//! a time limit; inputs they found go at the end of this file as regression tests.
//!
//! Kept fast (well under 10 s in a debug build): small sizes, default case counts.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Av;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use proptest::prelude::*;
use prost::Message;
use serde_json::{Map, Value};
use weft_collector::ingest::{BadLine, Ingest};
use weft_collector::otlp::{map_logs, map_traces, partial_success_message, Mapped};
use weft_trace::{CheckedLine, Crdt, Event, EventId, Kind, LineChecker, Op};

/// Longest line the tested ingest path takes: small enough for generated lines to cross it.
const MAX_LINE: usize = 512;

/// An ingest path whose queue nobody reads (the checks never touch it).
fn ingest(max_line: usize) -> Ingest {
    let (tx, _rx) = tokio::sync::mpsc::channel(1);
    Ingest::new(tx, max_line)
}

/// Lines in a body as `check_ndjson` numbers them (a final newline ends the last line).
fn line_count(body: &[u8]) -> u64 {
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    if body.is_empty() {
        0
    } else {
        body.iter().filter(|&&b| b == b'\n').count() as u64 + 1
    }
}

/// The NDJSON invariants: every line checks without panicking, and the batch is either accepted
/// whole (one stored line per event line, each a valid event on its own) or refused with a
/// non-empty list of 1-based, strictly increasing, in-range line numbers with reasons.
fn check_body(body: &[u8]) -> Result<(), TestCaseError> {
    let mut checker = LineChecker::new();
    for line in body.split(|&b| b == b'\n') {
        let _ = checker.check(line);
    }
    let n = line_count(body);
    match ingest(MAX_LINE).check_ndjson(body) {
        Ok(lines) => {
            prop_assert!(lines.len() as u64 <= n);
            for l in &lines {
                let again = LineChecker::new().check(&l.bytes);
                prop_assert_eq!(
                    again,
                    Ok(CheckedLine::Event {
                        replica: l.replica.clone(),
                        seq: l.seq,
                        fingerprint: l.fingerprint,
                    })
                );
            }
        }
        Err(bad) => {
            prop_assert!(!bad.is_empty());
            for b in &bad {
                prop_assert!(
                    (1..=n).contains(&b.line),
                    "line {} of {}: {}",
                    b.line,
                    n,
                    b.reason
                );
                prop_assert!(!b.reason.is_empty());
            }
            for w in bad.windows(2) {
                prop_assert!(w[0].line < w[1].line);
            }
        }
    }
    Ok(())
}

// ---- JSON-ish lines ----

/// Field names of an event line, some misspelled or unknown.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(vec![
            "replica", "seq", "kind", "lamport", "vc", "wall_ns", "parents", "msg", "key", "op",
            "value", "attrs", "format",
        ])
        .prop_map(String::from),
        1 => "[a-z_]{0,6}",
        1 => "\\PC{0,4}",
    ]
}

/// JSON values biased towards what the event fields take, and the edges of each.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u64..4).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![
            "send",
            "recv",
            "write",
            "read",
            "local",
            "set",
            "inc",
            "add",
            "remove",
            "weft-trace/1",
            "",
            "a@1",
        ])
        .prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
        Just(Value::from("r".repeat(257))),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// One line: a JSON object of event-ish fields (keys may repeat), possibly cut or garbled.
fn json_line() -> impl Strategy<Value = Vec<u8>> {
    let object = prop::collection::vec((field_name(), json_value()), 0..8).prop_map(|fields| {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), v))
            .collect();
        format!("{{{}}}", body.join(","))
    });
    (object, 0u8..8, any::<prop::sample::Index>(), any::<u8>()).prop_map(|(s, how, at, b)| {
        let mut bytes = s.into_bytes();
        let i = at.index(bytes.len() + 1);
        match how {
            0 => bytes.truncate(i),
            1 => bytes.insert(i, b),
            2 => bytes.insert(0, b' '),
            3 => bytes.extend_from_slice(b" \r"),
            _ => {}
        }
        bytes
    })
}

/// A body of lines joined by `\n` (sometimes `\r\n`), sometimes with a final newline.
fn body_of(lines: Vec<Vec<u8>>, crlf: bool, final_nl: bool) -> Vec<u8> {
    let sep: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut body = lines.join(sep);
    if final_nl {
        body.extend_from_slice(sep);
    }
    body
}

// ---- valid events ----

fn replica() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]{1,8}",
        "\\PC{1,40}",
        "[\\x00-\\x7f]{1,64}",
        Just("r".repeat(256)),
        Just("x@y".to_string()),
    ]
}

fn kind() -> impl Strategy<Value = Kind> {
    prop::sample::select(vec![
        Kind::Write,
        Kind::Read,
        Kind::Send,
        Kind::Recv,
        Kind::Local,
    ])
}

/// A valid event: random replica, seq and kind, with the `msg` / `key` its kind needs and
/// random optional fields.
fn event() -> impl Strategy<Value = Event> {
    let core = (replica(), 1..=u64::MAX, kind(), "\\PC{0,8}", "\\PC{0,8}");
    let optional = (
        prop::option::of(any::<u64>()),
        prop::option::of(prop::collection::btree_map(replica(), any::<u64>(), 0..3)),
        prop::option::of(any::<i64>()),
        prop::option::of(prop::collection::vec((replica(), 1..=u64::MAX), 0..3)),
        prop::option::of(prop::sample::select(vec![
            Op::Set,
            Op::Inc,
            Op::Add,
            Op::Remove,
        ])),
        prop::option::of(json_value()),
        prop::option::of(prop::collection::vec(("[a-z]{1,4}", json_value()), 0..3)),
        prop::option::of(prop::sample::select(Crdt::ALL.to_vec())),
    );
    (core, optional).prop_map(
        |(
            (replica, seq, kind, msg, key),
            (lamport, vc, wall_ns, parents, op, value, attrs, crdt),
        )| {
            Event {
                replica,
                seq,
                kind,
                lamport,
                vc,
                wall_ns,
                parents: parents
                    .map(|ps| ps.into_iter().map(|(r, s)| EventId::new(r, s)).collect()),
                msg: matches!(kind, Kind::Send | Kind::Recv).then_some(msg),
                key: matches!(kind, Kind::Write | Kind::Read).then_some(key),
                op: op.filter(|_| kind == Kind::Write),
                value: value.filter(|v| !v.is_null()),
                attrs: attrs.map(|a| a.into_iter().collect::<Map<String, Value>>()),
                crdt: crdt.filter(|_| matches!(kind, Kind::Write | Kind::Read)),
            }
        },
    )
}

// ---- OTLP ----

fn av(v: Av) -> AnyValue {
    AnyValue { value: Some(v) }
}

fn kv(key: String, value: AnyValue) -> KeyValue {
    KeyValue {
        key,
        value: Some(value),
        ..Default::default()
    }
}

fn attr_key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "weft.replica", "weft.seq", "weft.kind", "weft.lamport", "weft.vc", "weft.parents",
            "weft.msg", "weft.key", "weft.op", "weft.value", "weft.crdt", "weft.other", "body",
            "service.name", "",
        ])
        .prop_map(String::from),
        1 => "[a-z.]{0,8}",
    ]
}

/// OTLP values of every type, biased towards ones that make valid weft attributes.
fn any_value() -> impl Strategy<Value = AnyValue> {
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "1",
            "-1",
            "0",
            "18446744073709551615",
            "send",
            "recv",
            "write",
            "read",
            "local",
            "set",
            "inc",
            "lww",
            "counter",
            "a@1",
            "x@y@2",
            "@",
            "a@0",
            r#"{"a":1}"#,
            r#"{"a":1,"a":2}"#,
            "[1]",
            "",
        ])
        .prop_map(|s| av(Av::StringValue(s.into()))),
        "\\PC{0,8}".prop_map(|s| av(Av::StringValue(s))),
        any::<i64>().prop_map(|i| av(Av::IntValue(i))),
        (0i64..5).prop_map(|i| av(Av::IntValue(i))),
        any::<f64>().prop_map(|d| av(Av::DoubleValue(d))),
        any::<bool>().prop_map(|b| av(Av::BoolValue(b))),
        prop::collection::vec(any::<u8>(), 0..6).prop_map(|b| av(Av::BytesValue(b))),
        Just(AnyValue::default()),
        any::<i32>().prop_map(|i| av(Av::StringValueStrindex(i))),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|values| av(Av::ArrayValue(ArrayValue { values }))),
            prop::collection::vec((attr_key(), inner), 0..4).prop_map(|kvs| {
                av(Av::KvlistValue(KeyValueList {
                    values: kvs.into_iter().map(|(k, v)| kv(k, v)).collect(),
                }))
            }),
        ]
    })
}

fn log_record() -> impl Strategy<Value = LogRecord> {
    (
        prop::collection::vec((attr_key(), any_value()), 0..7),
        any::<bool>(),
        1..=u64::MAX,
        prop::option::of(any_value()),
        prop::sample::select(vec![0u64, 1, 1_700_000_000_000_000_000, u64::MAX]),
        prop::sample::select(vec![0u64, 5, u64::MAX]),
    )
        .prop_map(|(mut attrs, with_seq, seq, body, t, observed)| {
            if with_seq {
                attrs.insert(0, ("weft.seq".into(), av(Av::IntValue(seq as i64))));
            }
            LogRecord {
                attributes: attrs.into_iter().map(|(k, v)| kv(k, v)).collect(),
                body,
                time_unix_nano: t,
                observed_time_unix_nano: observed,
                ..Default::default()
            }
        })
}

fn logs_request() -> impl Strategy<Value = ExportLogsServiceRequest> {
    let resource = prop::option::of(prop::collection::vec(
        (
            prop::sample::select(vec!["service.name", "service.instance.id", "other"]),
            any_value(),
        ),
        0..3,
    ));
    let scopes = prop::collection::vec(prop::collection::vec(log_record(), 0..4), 0..3);
    prop::collection::vec((resource, scopes), 0..3).prop_map(|resources| ExportLogsServiceRequest {
        resource_logs: resources
            .into_iter()
            .map(|(res, scopes)| ResourceLogs {
                resource: res.map(|attrs| Resource {
                    attributes: attrs.into_iter().map(|(k, v)| kv(k.into(), v)).collect(),
                    ..Default::default()
                }),
                scope_logs: scopes
                    .into_iter()
                    .map(|log_records| ScopeLogs {
                        log_records,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
    })
}

/// The mapping invariants: every record is counted once, rejections are ordered, in range and
/// explained, and every event serializes to a line the checker (and the ingest path) accepts
/// with the event's own replica and seq.
fn check_mapped(m: &Mapped, records: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        m.lines.len() + m.rejected.len() + m.skipped as usize,
        records
    );
    for r in &m.rejected {
        prop_assert!(r.index < records && !r.reason.is_empty(), "{:?}", r);
    }
    for w in m.rejected.windows(2) {
        prop_assert!(w[0].index < w[1].index);
    }
    let events = m.events().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut checker = LineChecker::new();
    for ev in &events {
        let line = serde_json::to_string(ev).unwrap();
        match checker.check(line.as_bytes()) {
            Ok(CheckedLine::Event { replica, seq, .. }) => {
                prop_assert_eq!((replica.as_str(), seq), (ev.replica.as_str(), ev.seq));
            }
            other => prop_assert!(false, "{} checks as {:?}", line, other),
        }
    }
    let stored = ingest(usize::MAX).check_events(&events);
    prop_assert_eq!(stored.map(|l| l.len()), Ok(m.lines.len()));
    prop_assert_eq!(partial_success_message(m).is_empty(), m.rejected.is_empty());
    Ok(())
}

fn records_in_logs(req: &ExportLogsServiceRequest) -> usize {
    req.resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum()
}

fn spans_in(req: &ExportTraceServiceRequest) -> usize {
    req.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

/// Decodes bytes as both request types and, where that works, maps and checks them.
fn decode_and_map(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(req) = ExportLogsServiceRequest::decode(bytes) {
        check_mapped(&map_logs(&req), records_in_logs(&req))?;
    }
    if let Ok(req) = ExportTraceServiceRequest::decode(bytes) {
        check_mapped(&map_traces(&req), spans_in(&req))?;
    }
    Ok(())
}

/// One protobuf field with a plausible tag and wire type and a payload that may or may not
/// match it: the raw material of protobuf-ish byte strings.
fn proto_field() -> impl Strategy<Value = Vec<u8>> {
    (1u32..16, 0u8..6, prop::collection::vec(any::<u8>(), 0..12)).prop_map(
        |(tag, wire, payload)| {
            let mut out = Vec::new();
            prost::encoding::encode_varint(u64::from(tag << 3 | u32::from(wire)), &mut out);
            match wire {
                0 => prost::encoding::encode_varint(
                    payload.iter().fold(0u64, |a, &b| a << 8 | u64::from(b)),
                    &mut out,
                ),
                2 => {
                    prost::encoding::encode_varint(payload.len() as u64, &mut out);
                    out.extend_from_slice(&payload);
                }
                _ => out.extend_from_slice(&payload),
            }
            out
        },
    )
}

/// Nests fields as length-delimited submessages, as a request nests resource, scope, record
/// and attribute messages.
fn protobuf_ish() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop::collection::vec(proto_field(), 0..4).prop_map(|fs| fs.concat());
    leaf.prop_recursive(5, 64, 4, |inner| {
        prop::collection::vec((1u32..10, inner), 1..4).prop_map(|subs| {
            let mut out = Vec::new();
            for (tag, sub) in subs {
                prost::encoding::encode_varint(u64::from(tag << 3 | 2), &mut out);
                prost::encoding::encode_varint(sub.len() as u64, &mut out);
                out.extend_from_slice(&sub);
            }
            out
        })
    })
}

proptest! {
    #[test]
    fn ndjson_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..256)) {
        check_body(&body)?;
    }

    #[test]
    fn ndjson_arbitrary_newline_heavy_bytes(
        body in prop::collection::vec(
            prop::sample::select(vec![b'\n', b'\r', b' ', b'{', b'}', b'"', b'a', b':', b'1']),
            0..64,
        ),
    ) {
        check_body(&body)?;
    }

    #[test]
    fn ndjson_json_ish_lines(
        lines in prop::collection::vec(
            prop_oneof![
                8 => json_line(),
                1 => Just(Vec::new()),
                1 => Just(br#"{"format":"weft-trace/1","source":"t"}"#.to_vec()),
            ],
            0..8,
        ),
        crlf in any::<bool>(),
        final_nl in any::<bool>(),
    ) {
        check_body(&body_of(lines, crlf, final_nl))?;
    }

    #[test]
    fn valid_event_batches_are_accepted(
        events in prop::collection::vec(event(), 1..8),
        header in any::<bool>(),
        blanks in prop::collection::vec(any::<bool>(), 8),
        crlf in any::<bool>(),
        final_nl in any::<bool>(),
    ) {
        let mut lines = Vec::new();
        if header {
            lines.push(br#"{"format":"weft-trace/1"}"#.to_vec());
        }
        for (ev, blank) in events.iter().zip(&blanks) {
            lines.push(serde_json::to_vec(ev).unwrap());
            if *blank {
                lines.push(b"  ".to_vec());
            }
        }
        let body = body_of(lines, crlf, final_nl);
        let got = ingest(usize::MAX).check_ndjson(&body);
        let lines = match got {
            Ok(lines) => lines,
            Err(bad) => {
                let bad: Vec<BadLine> = bad;
                return Err(TestCaseError::fail(format!(
                    "refused {bad:?}: {}",
                    String::from_utf8_lossy(&body)
                )));
            }
        };
        prop_assert_eq!(lines.len(), events.len());
        for (line, ev) in lines.iter().zip(&events) {
            prop_assert_eq!((line.replica.as_str(), line.seq), (ev.replica.as_str(), ev.seq));
            // Stored verbatim. (Not compared as parsed `Event`s: serde_json, built without
            // `float_roundtrip`, may parse a printed f64 back 1 ULP off; see
            // `otlp_doubles_are_kept_exactly` below.)
            let want = serde_json::to_vec(ev).unwrap();
            prop_assert_eq!(&line.bytes, &want);
        }
    }

    #[test]
    fn protobuf_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..128)) {
        decode_and_map(&bytes)?;
    }

    #[test]
    fn protobuf_ish_bytes(bytes in protobuf_ish()) {
        decode_and_map(&bytes)?;
    }

    #[test]
    fn protobuf_mutated_requests(
        req in logs_request(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let mut bytes = req.encode_to_vec();
        for (at, b, how) in edits {
            let i = at.index(bytes.len() + 1);
            match how {
                0 if i < bytes.len() => bytes[i] = b,
                1 => bytes.insert(i, b),
                _ => bytes.truncate(i),
            }
        }
        decode_and_map(&bytes)?;
    }

    #[test]
    fn generated_logs_requests_map(req in logs_request()) {
        let m = map_logs(&req);
        check_mapped(&m, records_in_logs(&req))?;
        // The wire changes nothing.
        let again = ExportLogsServiceRequest::decode(req.encode_to_vec().as_slice()).unwrap();
        prop_assert_eq!(map_logs(&again), m);
    }
}

/// A generated request of only valid weft records maps every record to an event.
#[test]
fn valid_records_all_map() {
    let rec = |seq: i64, kind: &str, extra: Vec<KeyValue>| {
        let mut attributes = vec![
            kv("weft.seq".into(), av(Av::IntValue(seq))),
            kv("weft.kind".into(), av(Av::StringValue(kind.into()))),
        ];
        attributes.extend(extra);
        LogRecord {
            attributes,
            ..Default::default()
        }
    };
    let s = |v: &str| av(Av::StringValue(v.into()));
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![kv("service.name".into(), s("svc"))],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    rec(1, "send", vec![kv("weft.msg".into(), s("m"))]),
                    rec(2, "write", vec![kv("weft.key".into(), s("k"))]),
                    rec(3, "local", vec![]),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let m = map_logs(&req);
    assert_eq!(m.rejected, vec![]);
    let ids: BTreeMap<_, _> = m
        .events()
        .unwrap()
        .iter()
        .map(|e| (e.seq, e.kind))
        .collect();
    assert_eq!(
        ids,
        [(1, Kind::Send), (2, Kind::Write), (3, Kind::Local)].into()
    );
}

/// Found by the `valid_event_batches_are_accepted` property: `map_logs` turns each record into a
/// JSON line and parses it back into an `Event` with serde_json, which (built without its
/// `float_roundtrip` feature) can land 1 ULP off the printed value, so an OTLP double attribute
/// is stored slightly changed. Ignored until the workspace enables `float_roundtrip` on
/// serde_json; run with `--ignored` to see it.
#[test]
fn otlp_doubles_are_kept_exactly() {
    let d = 4.755111218914903e-284_f64;
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    attributes: vec![
                        kv("weft.replica".into(), av(Av::StringValue("a".into()))),
                        kv("weft.seq".into(), av(Av::IntValue(1))),
                        kv("weft.value".into(), av(Av::DoubleValue(d))),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let m = map_logs(&req);
    assert_eq!(m.lines.len(), 1);
    assert_eq!(
        m.events().unwrap()[0]
            .value
            .as_ref()
            .and_then(Value::as_f64),
        Some(d)
    );
}

/// The fingerprint of an accepted line, or `None` when the checker rejects it.
fn fingerprint(line: &str) -> Option<u64> {
    match LineChecker::new().check(line.as_bytes()) {
        Ok(CheckedLine::Event { fingerprint, .. }) => Some(fingerprint),
        _ => None,
    }
}

/// Found by the `ndjson` fuzz target's "equal JSON values, equal fingerprints" check: a line
/// that repeats an unknown top-level key is accepted (a repeated known field is rejected), and
/// every copy is hashed. So a retry that a JSON reader (last key wins) sees as identical gets a
/// different fingerprint (reported as `duplicate-event`), while two copies with the repeated
/// values swapped, different to such a reader, get the same one (merged silently). Fixed by
/// rejecting repeated keys; either fix makes this pass.
#[test]
fn duplicate_top_level_keys_fingerprint_like_json_values() {
    let dup = r#"{"replica":"a","seq":1,"x":1,"x":2}"#;
    let last = r#"{"replica":"a","seq":1,"x":2}"#;
    let swapped = r#"{"replica":"a","seq":1,"x":2,"x":1}"#;
    if let Some(fp) = fingerprint(dup) {
        assert_eq!(
            Some(fp),
            fingerprint(last),
            "equal JSON values, different fingerprints"
        );
        assert_ne!(
            Some(fp),
            fingerprint(swapped),
            "different JSON values, equal fingerprints"
        );
    }
}

/// Repeated keys, known or not, are rejected with the field named (so "equal as JSON values"
/// stays well defined for the duplicate rule).
#[test]
fn duplicate_top_level_keys_are_rejected_by_name() {
    let body = b"{\"replica\":\"a\",\"seq\":1,\"x\":1,\"x\":2}\n{\"replica\":\"a\",\"seq\":2}\n";
    let bad = ingest(MAX_LINE).check_ndjson(body).unwrap_err();
    assert_eq!(bad.len(), 1);
    assert_eq!(
        (bad[0].line, bad[0].reason.as_str()),
        (1, "field `x` appears twice")
    );
    let bad = ingest(MAX_LINE)
        .check_ndjson(br#"{"replica":"a","seq":1,"seq":2}"#)
        .unwrap_err();
    assert_eq!(bad.len(), 1);
    assert!(bad[0].reason.contains("appears twice"), "{}", bad[0].reason);
}

/// The fuzz targets' seed inputs (fuzz/seeds, written by make_seeds.py) decode, in protobuf
/// and in JSON, to the same mapping, with the events, skips and rejections they were made for.
#[test]
fn fuzz_seeds_decode_and_map() {
    macro_rules! seed {
        ($name:literal) => {
            (
                $name,
                &include_bytes!(concat!("../../fuzz/seeds/otlp_proto_logs/", $name, ".bin"))[..],
                &include_bytes!(concat!("../../fuzz/seeds/otlp_json/logs_", $name, ".json"))[..],
                &include_bytes!(concat!(
                    "../../fuzz/seeds/otlp_proto_traces/",
                    $name,
                    ".bin"
                ))[..],
                &include_bytes!(concat!(
                    "../../fuzz/seeds/otlp_json/traces_",
                    $name,
                    ".json"
                ))[..],
            )
        };
    }
    // (events, rejected, skipped) for logs, then for traces.
    let want = [
        ((2, 0, 0), (1, 0, 0)),
        ((2, 1, 1), (2, 1, 1)),
        ((2, 1, 1), (2, 1, 1)),
    ];
    let seeds = [seed!("full"), seed!("send_recv"), seed!("mixed")];
    for ((name, lp, lj, tp, tj), (wl, wt)) in seeds.into_iter().zip(want) {
        let counts = |m: &Mapped| (m.lines.len(), m.rejected.len(), m.skipped as usize);
        let logs = ExportLogsServiceRequest::decode(lp).unwrap();
        let m = map_logs(&logs);
        assert_eq!(counts(&m), wl, "{name} logs: {m:?}");
        let from_json: ExportLogsServiceRequest = serde_json::from_slice(lj).unwrap();
        assert_eq!(map_logs(&from_json), m, "{name} logs, JSON");
        let traces = ExportTraceServiceRequest::decode(tp).unwrap();
        let m = map_traces(&traces);
        assert_eq!(counts(&m), wt, "{name} traces: {m:?}");
        let from_json: ExportTraceServiceRequest = serde_json::from_slice(tj).unwrap();
        assert_eq!(map_traces(&from_json), m, "{name} traces, JSON");
    }
}
