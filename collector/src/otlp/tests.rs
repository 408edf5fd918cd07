//! The mapping, example by example: every attribute, value conversion, fallback and rejection.

#![allow(clippy::needless_update)] // proto literals end in `..Default::default()` on purpose

use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use serde_json::{json, Value};
use weft_trace::{Crdt, Event, EventId, Kind, Op};

use super::*;

pub(super) fn av(v: Av) -> AnyValue {
    AnyValue {
        value: Some(v),
        ..Default::default()
    }
}
pub(super) fn s(v: &str) -> AnyValue {
    av(Av::StringValue(v.into()))
}
pub(super) fn i(v: i64) -> AnyValue {
    av(Av::IntValue(v))
}
pub(super) fn arr(vs: Vec<AnyValue>) -> AnyValue {
    av(Av::ArrayValue(ArrayValue {
        values: vs,
        ..Default::default()
    }))
}
pub(super) fn kvl(kvs: Vec<KeyValue>) -> AnyValue {
    av(Av::KvlistValue(KeyValueList {
        values: kvs,
        ..Default::default()
    }))
}
pub(super) fn kv(k: &str, v: AnyValue) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(v),
        ..Default::default()
    }
}
pub(super) fn log(attrs: Vec<KeyValue>) -> LogRecord {
    LogRecord {
        time_unix_nano: 1_000,
        attributes: attrs,
        ..Default::default()
    }
}
pub(super) fn resource(attrs: Vec<KeyValue>) -> Option<Resource> {
    Some(Resource {
        attributes: attrs,
        ..Default::default()
    })
}
/// One resource (with `res` attributes) per entry; one scope per inner vec.
pub(super) fn logs(
    resources: Vec<(Vec<KeyValue>, Vec<Vec<LogRecord>>)>,
) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: resources
            .into_iter()
            .map(|(res, scopes)| ResourceLogs {
                resource: resource(res),
                scope_logs: scopes
                    .into_iter()
                    .map(|recs| ScopeLogs {
                        log_records: recs,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}
/// One resource named `svc`, one scope.
pub(super) fn one(recs: Vec<LogRecord>) -> Mapped {
    map_logs(&logs(vec![(
        vec![kv("service.name", s("svc"))],
        vec![recs],
    )]))
}
pub(super) fn single(attrs: Vec<KeyValue>) -> Event {
    let m = one(vec![log(attrs)]);
    assert_eq!(m.rejected, vec![], "unexpected rejection");
    assert_eq!(m.lines.len(), 1);
    m.events().unwrap().into_iter().next().unwrap()
}
pub(super) fn reject(attrs: Vec<KeyValue>) -> String {
    let m = one(vec![log(attrs)]);
    assert_eq!(m.events().unwrap(), vec![], "expected a rejection");
    assert_eq!(m.rejected.len(), 1);
    m.rejected[0].reason.clone()
}

#[test]
fn every_weft_attribute() {
    let ev = single(vec![
        kv("weft.replica", s("r1")),
        kv("weft.seq", i(4)),
        kv("weft.kind", s("write")),
        kv("weft.lamport", i(9)),
        kv("weft.vc", kvl(vec![kv("r1", i(4)), kv("r2", i(2))])),
        kv("weft.parents", arr(vec![s("r2@2"), s("x@y@7")])),
        kv("weft.key", s("doc")),
        kv("weft.op", s("add")),
        kv("weft.value", s("milk")),
        kv("weft.msg", s("m9")),
        kv("weft.crdt", s("set")),
    ]);
    assert_eq!(ev.replica, "r1");
    assert_eq!(ev.seq, 4);
    assert_eq!(ev.kind, Kind::Write);
    assert_eq!(ev.lamport, Some(9));
    assert_eq!(
        ev.vc,
        Some([("r1".to_string(), 4), ("r2".to_string(), 2)].into())
    );
    assert_eq!(
        ev.parents,
        Some(vec![EventId::new("r2", 2), EventId::new("x@y", 7)])
    );
    assert_eq!(ev.key.as_deref(), Some("doc"));
    assert_eq!(ev.op, Some(Op::Add));
    assert_eq!(ev.value, Some(json!("milk")));
    assert_eq!(ev.msg.as_deref(), Some("m9"));
    assert_eq!(ev.crdt, Some(Crdt::Set));
    assert_eq!(ev.wall_ns, Some(1_000));
    assert_eq!(ev.attrs, None);
    // The event serializes to a line the reader accepts.
    let line = serde_json::to_string(&ev).unwrap();
    assert!(matches!(
        LineChecker::new().check(line.as_bytes()),
        Ok(CheckedLine::Event { .. })
    ));
}

#[test]
fn values_of_every_type_convert_to_json() {
    let ev = single(vec![
        kv("weft.seq", i(1)),
        kv(
            "weft.value",
            kvl(vec![
                kv("s", s("x")),
                kv("b", av(Av::BoolValue(true))),
                kv("i", i(-3)),
                kv("d", av(Av::DoubleValue(1.5))),
                kv("nan", av(Av::DoubleValue(f64::NAN))),
                kv("inf", av(Av::DoubleValue(f64::INFINITY))),
                kv("ninf", av(Av::DoubleValue(f64::NEG_INFINITY))),
                kv("a", arr(vec![i(1), s("two"), arr(vec![])])),
                kv("bytes", av(Av::BytesValue(b"hello".to_vec()))),
                kv("empty", AnyValue::default()),
                kv("strindex", av(Av::StringValueStrindex(3))),
            ]),
        ),
    ]);
    assert_eq!(
        ev.value,
        Some(json!({
            "s": "x", "b": true, "i": -3, "d": 1.5, "nan": "NaN", "inf": "Infinity",
            "ninf": "-Infinity", "a": [1, "two", []], "bytes": "aGVsbG8=", "empty": null,
            "strindex": null
        }))
    );
    // Scalars at top level, too.
    for (v, want) in [
        (i(7), json!(7)),
        (av(Av::DoubleValue(0.25)), json!(0.25)),
        (av(Av::BoolValue(false)), json!(false)),
        (av(Av::BytesValue(vec![0xff, 0])), json!("/wA=")),
        (arr(vec![s("a")]), json!(["a"])),
    ] {
        let ev = single(vec![kv("weft.seq", i(1)), kv("weft.value", v)]);
        assert_eq!(ev.value, Some(want));
    }
    // An empty AnyValue is OTLP's null: a `weft.value` that is present and empty is the
    // value null (a read that returned null), not a missing value.
    let ev = single(vec![
        kv("weft.seq", i(1)),
        kv("weft.value", AnyValue::default()),
    ]);
    assert_eq!(ev.value, Some(Value::Null));
    let ev = single(vec![kv("weft.seq", i(1))]);
    assert_eq!(ev.value, None);
}

#[test]
fn base64_matches_rfc4648() {
    for (input, want) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(value::base64(input.as_bytes()), want);
    }
}

#[test]
fn replica_fallback_order() {
    let rec = log;
    let res_both = vec![
        kv("service.name", s("name")),
        kv("service.instance.id", s("inst")),
    ];
    let mut req = logs(vec![
        (
            res_both,
            vec![vec![
                rec(vec![kv("weft.seq", i(1)), kv("weft.replica", s("own"))]),
                rec(vec![kv("weft.seq", i(2))]),
            ]],
        ),
        (
            vec![kv("service.name", s("name"))],
            vec![vec![rec(vec![kv("weft.seq", i(3))])]],
        ),
        // Empty and non-string resource values do not count.
        (
            vec![
                kv("service.instance.id", s("")),
                kv("service.name", i(5)),
                kv("service.name", s("late")),
            ],
            vec![vec![rec(vec![kv("weft.seq", i(4))])]],
        ),
        (vec![], vec![vec![rec(vec![kv("weft.seq", i(5))])]]),
    ]);
    req.resource_logs.push(ResourceLogs {
        resource: None,
        scope_logs: vec![ScopeLogs {
            log_records: vec![rec(vec![kv("weft.seq", i(6))])],
            ..Default::default()
        }],
        ..Default::default()
    });
    let m = map_logs(&req);
    let events = m.events().unwrap();
    let got: Vec<_> = events.iter().map(|e| (e.replica.as_str(), e.seq)).collect();
    assert_eq!(got, [("own", 1), ("inst", 2), ("name", 3), ("late", 4)]);
    assert_eq!(
        m.rejected,
        vec![
            Rejected {
                index: 4,
                reason: NO_REPLICA.into()
            },
            Rejected {
                index: 5,
                reason: NO_REPLICA.into()
            },
        ]
    );
    // A present but empty weft.replica is not absent: the checker rejects it.
    let r = reject(vec![kv("weft.seq", i(1)), kv("weft.replica", s(""))]);
    assert!(r.contains("field `replica`"), "{r}");
}

#[test]
fn vc_as_kvlist_and_as_json_string() {
    let ev = single(vec![
        kv("weft.seq", i(3)),
        kv("weft.vc", s(r#"{"svc": 3, "other": 1, "z": 0}"#)),
    ]);
    assert_eq!(
        ev.vc,
        Some(
            [
                ("svc".to_string(), 3),
                ("other".to_string(), 1),
                ("z".to_string(), 0)
            ]
            .into()
        )
    );
    let ev = single(vec![
        kv("weft.seq", i(3)),
        kv(
            "weft.vc",
            kvl(vec![kv("svc", i(3)), kv("big", s("18446744073709551615"))]),
        ),
    ]);
    assert_eq!(
        ev.vc,
        Some([("svc".to_string(), 3), ("big".to_string(), u64::MAX)].into())
    );
    let ev = single(vec![kv("weft.seq", i(1)), kv("weft.vc", kvl(vec![]))]);
    assert_eq!(ev.vc, Some(Default::default()));
}

#[test]
fn vc_rejections() {
    let seq = || kv("weft.seq", i(1));
    let r = reject(vec![seq(), kv("weft.vc", s("{\"a\": 1,"))]);
    assert!(
        r.starts_with("attribute `weft.vc`: not a JSON object: "),
        "{r}"
    );
    let r = reject(vec![seq(), kv("weft.vc", s("[1, 2]"))]);
    assert_eq!(
        r,
        "attribute `weft.vc`: must be a JSON object, got a string \"[1, 2]\""
    );
    let r = reject(vec![seq(), kv("weft.vc", s(r#"{"a": 1, "a": 2}"#))]);
    assert_eq!(r, "attribute `weft.vc`: replica \"a\" appears twice");
    let r = reject(vec![
        seq(),
        kv("weft.vc", kvl(vec![kv("a", i(1)), kv("a", i(1))])),
    ]);
    assert_eq!(r, "attribute `weft.vc`: replica \"a\" appears twice");
    let r = reject(vec![
        seq(),
        kv("weft.vc", kvl(vec![kv("a", av(Av::DoubleValue(1.0)))])),
    ]);
    assert_eq!(
        r,
        "attribute `weft.vc`: entry \"a\" must be an int, got a double 1"
    );
    let r = reject(vec![seq(), kv("weft.vc", kvl(vec![kv("a", i(-2))]))]);
    assert!(r.contains("field `vc`") && r.contains("-2"), "{r}");
    let r = reject(vec![seq(), kv("weft.vc", s(r#"{"a": -2}"#))]);
    assert!(r.contains("field `vc`") && r.contains("-2"), "{r}");
    let r = reject(vec![seq(), kv("weft.vc", s(r#"{"a": 1.5}"#))]);
    assert!(r.contains("field `vc`"), "{r}");
    let r = reject(vec![seq(), kv("weft.vc", i(3))]);
    assert_eq!(
        r,
        "attribute `weft.vc`: must be a kvlist of string to int or a string holding a JSON \
         object, got an int 3"
    );
    // Deep JSON does not crash anything.
    let deep = format!("{{\"a\": {}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let r = reject(vec![seq(), kv("weft.vc", s(&deep))]);
    assert!(r.starts_with("attribute `weft.vc`"), "{r}");
}

#[test]
fn parents_split_at_the_last_at() {
    let ev = single(vec![
        kv("weft.seq", i(2)),
        kv("weft.parents", arr(vec![s("a@b@3"), s("@@1")])),
    ]);
    assert_eq!(
        ev.parents,
        Some(vec![EventId::new("a@b", 3), EventId::new("@", 1)])
    );
    let ev = single(vec![kv("weft.seq", i(2)), kv("weft.parents", arr(vec![]))]);
    assert_eq!(ev.parents, Some(vec![]));
    let seq = || kv("weft.seq", i(2));
    for (v, want) in [
        (
            arr(vec![s("a@1"), s("a")]),
            "attribute `weft.parents`: entry 1 \"a\" is not replica@seq (seq an integer ≥ 1)",
        ),
        (
            arr(vec![s("a@0")]),
            "attribute `weft.parents`: entry 0 \"a@0\" is not replica@seq (seq an integer ≥ 1)",
        ),
        (
            arr(vec![s("@3")]),
            "attribute `weft.parents`: entry 0 \"@3\" is not replica@seq (seq an integer ≥ 1)",
        ),
        (
            arr(vec![i(3)]),
            "attribute `weft.parents`: entry 0 must be a string replica@seq, got an int 3",
        ),
        (
            s("a@1"),
            "attribute `weft.parents`: must be an array of strings replica@seq, got a string \"a@1\"",
        ),
    ] {
        assert_eq!(reject(vec![seq(), kv("weft.parents", v)]), want);
    }
    // A too-long replica in a parent is the checker's business.
    let long = format!("{}@1", "x".repeat(300));
    let r = reject(vec![seq(), kv("weft.parents", arr(vec![s(&long)]))]);
    assert!(r.contains("parents"), "{r}");
}

#[test]
fn skipped_records_are_counted_not_errors() {
    let m = one(vec![
        log(vec![kv("http.method", s("GET"))]),
        log(vec![]),
        log(vec![kv("weft.seq", i(1))]),
        log(vec![kv("weft.kind", s("send"))]), // weft.* but no weft.seq: skipped too
    ]);
    assert_eq!(m.skipped, 3);
    assert_eq!(m.lines.len(), 1);
    assert!(m.rejected.is_empty());
    assert_eq!(partial_success_message(&m), "");
}

#[test]
fn rejections_carry_the_checker_reasons() {
    let r = reject(vec![kv("weft.seq", i(0))]);
    assert_eq!(r, "field `seq`: must be an integer ≥ 1, got 0");
    let r = reject(vec![kv("weft.seq", i(-5))]);
    assert_eq!(r, "field `seq`: must be an integer ≥ 1, got -5");
    let r = reject(vec![kv("weft.seq", i(1)), kv("weft.lamport", i(-1))]);
    assert_eq!(r, "field `lamport`: must be an integer ≥ 0, got -1");
    let r = reject(vec![kv("weft.seq", i(1)), kv("weft.kind", s("send"))]);
    assert_eq!(r, "a `send` needs a `msg` field");
    let r = reject(vec![kv("weft.seq", i(1)), kv("weft.kind", s("read"))]);
    assert_eq!(r, "a `read` needs a `key` field");
    let r = reject(vec![kv("weft.seq", i(1)), kv("weft.kind", s("merge"))]);
    assert!(r.starts_with("field `kind`: unknown kind \"merge\""), "{r}");
    let r = reject(vec![
        kv("weft.seq", i(1)),
        kv("weft.kind", s("write")),
        kv("weft.key", s("k")),
        kv("weft.op", s("mul")),
    ]);
    assert!(r.starts_with("field `op`: unknown op \"mul\""), "{r}");
    let r = reject(vec![
        kv("weft.seq", i(1)),
        kv("weft.replica", s(&"r".repeat(257))),
    ]);
    assert_eq!(
        r,
        "field `replica`: must be a string of 1 to 256 bytes, got 257 bytes"
    );
}

#[test]
fn attribute_type_errors_name_the_attribute() {
    assert_eq!(
        reject(vec![kv("weft.seq", s("abc"))]),
        "attribute `weft.seq`: must be an int, got a string \"abc\""
    );
    assert_eq!(
        reject(vec![kv("weft.seq", av(Av::DoubleValue(2.5)))]),
        "attribute `weft.seq`: must be an int, got a double 2.5"
    );
    assert_eq!(
        reject(vec![kv("weft.seq", AnyValue::default())]),
        "attribute `weft.seq`: must be an int, got an empty value"
    );
    assert_eq!(
        reject(vec![
            kv("weft.seq", i(1)),
            kv("weft.lamport", av(Av::BoolValue(true)))
        ]),
        "attribute `weft.lamport`: must be an int, got a bool true"
    );
    for name in [
        "weft.replica",
        "weft.kind",
        "weft.msg",
        "weft.key",
        "weft.op",
    ] {
        assert_eq!(
            reject(vec![kv("weft.seq", i(1)), kv(name, i(3))]),
            format!("attribute `{name}`: must be a string, got an int 3")
        );
    }
    assert_eq!(
        reject(vec![kv("weft.seq", i(1)), kv("weft.seq", i(2))]),
        "attribute `weft.seq` appears twice"
    );
    // Long strings are cut in reasons.
    let r = reject(vec![kv("weft.seq", s(&"x".repeat(1000)))]);
    assert!(r.len() < 140 && r.ends_with('…'), "{r}");
    // A key_strindex reference does not count as weft.seq.
    let m = one(vec![log(vec![KeyValue {
        key: String::new(),
        key_strindex: 4,
        value: Some(i(1)),
        ..Default::default()
    }])]);
    assert_eq!((m.skipped, m.lines.len()), (1, 0));
}

#[test]
fn seq_and_lamport_as_decimal_strings() {
    let ev = single(vec![kv("weft.seq", s("12")), kv("weft.lamport", s("0"))]);
    assert_eq!((ev.seq, ev.lamport), (12, Some(0)));
    let ev = single(vec![kv("weft.seq", s("18446744073709551615"))]);
    assert_eq!(ev.seq, u64::MAX);
    assert_eq!(
        reject(vec![kv("weft.seq", s("-3"))]),
        "field `seq`: must be an integer ≥ 1, got -3"
    );
    for bad in ["", "-", "1e3", " 5", "+5", "18446744073709551616", "0x10"] {
        assert!(
            reject(vec![kv("weft.seq", s(bad))]).starts_with("attribute `weft.seq`: "),
            "{bad:?}"
        );
    }
}

#[test]
fn attrs_and_body_are_carried() {
    let mut rec = log(vec![
        kv("weft.seq", i(1)),
        kv("http.route", s("/x")),
        kv("retries", i(2)),
        kv("weft.future", av(Av::BoolValue(true))),
        kv("tags", arr(vec![s("a"), s("b")])),
    ]);
    rec.body = Some(kvl(vec![kv("text", s("hello"))]));
    let m = one(vec![rec]);
    let ev = &m.events().unwrap()[0];
    assert_eq!(
        ev.attrs.clone().map(Value::Object),
        Some(json!({
            "http.route": "/x", "retries": 2, "weft.future": true, "tags": ["a", "b"],
            "body": {"text": "hello"}
        }))
    );
    // The body replaces an attribute named `body`; an empty body is no body.
    let mut rec = log(vec![kv("weft.seq", i(1)), kv("body", s("attr"))]);
    rec.body = Some(s("real"));
    let mut empty = log(vec![kv("weft.seq", i(2))]);
    empty.body = Some(AnyValue::default());
    let m = one(vec![rec, empty]);
    assert_eq!(
        m.events().unwrap()[0].attrs.clone().map(Value::Object),
        Some(json!({"body": "real"}))
    );
    assert_eq!(m.events().unwrap()[1].attrs, None);
}

#[test]
fn wall_clock_sources() {
    let mut a = log(vec![kv("weft.seq", i(1))]);
    a.observed_time_unix_nano = 77;
    let mut b = log(vec![kv("weft.seq", i(2))]);
    b.time_unix_nano = 0;
    b.observed_time_unix_nano = 77;
    let mut c = log(vec![kv("weft.seq", i(3))]);
    c.time_unix_nano = 0;
    let mut d = log(vec![kv("weft.seq", i(4))]);
    d.time_unix_nano = u64::MAX;
    let m = one(vec![a, b, c, d]);
    let walls: Vec<_> = m.events().unwrap().iter().map(|e| e.wall_ns).collect();
    assert_eq!(walls, [Some(1_000), Some(77), None]);
    assert_eq!(
        m.rejected,
        vec![Rejected {
            index: 3,
            reason: format!(
                "time_unix_nano {} does not fit `wall_ns` (a signed 64-bit integer)",
                u64::MAX
            )
        }]
    );
}

#[test]
fn spans_use_start_time() {
    let span = |attrs, start| Span {
        name: "op".into(),
        start_time_unix_nano: start,
        end_time_unix_nano: 99_999,
        attributes: attrs,
        ..Default::default()
    };
    let req = ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                resource: resource(vec![kv("service.instance.id", s("node-1"))]),
                scope_spans: vec![
                    ScopeSpans {
                        spans: vec![
                            span(vec![kv("weft.seq", i(1)), kv("k", s("v"))], 5_000),
                            span(vec![], 1),
                        ],
                        ..Default::default()
                    },
                    ScopeSpans {
                        spans: vec![span(vec![kv("weft.seq", i(2))], 0)],
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
            ResourceSpans {
                resource: None,
                scope_spans: vec![ScopeSpans {
                    spans: vec![span(vec![kv("weft.seq", i(1))], 3)],
                    ..Default::default()
                }],
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let m = map_traces(&req);
    assert_eq!(m.skipped, 1);
    assert_eq!(m.lines.len(), 2);
    assert_eq!(m.events().unwrap()[0].id(), EventId::new("node-1", 1));
    assert_eq!(m.events().unwrap()[0].wall_ns, Some(5_000));
    assert_eq!(
        m.events().unwrap()[0].attrs.clone().map(Value::Object),
        Some(json!({"k": "v"}))
    );
    assert_eq!(m.events().unwrap()[1].wall_ns, None);
    assert_eq!(
        m.rejected,
        vec![Rejected {
            index: 3,
            reason: NO_REPLICA.into()
        }]
    );
}

#[test]
fn indices_count_across_resources_and_scopes() {
    let bad = || log(vec![kv("weft.seq", i(0))]);
    let good = |n| log(vec![kv("weft.seq", i(n))]);
    let skip = || log(vec![]);
    let svc = || vec![kv("service.name", s("svc"))];
    let req = logs(vec![
        (svc(), vec![vec![good(1), skip()], vec![], vec![bad()]]), // 0, 1, 2
        (svc(), vec![vec![skip(), good(2)], vec![bad(), good(3)]]), // 3, 4, 5, 6
        (vec![], vec![vec![good(4)]]),                             // 7: no replica
    ]);
    let m = map_logs(&req);
    let idx: Vec<_> = m.rejected.iter().map(|r| r.index).collect();
    assert_eq!(idx, [2, 5, 7]);
    assert_eq!(m.skipped, 2);
    assert_eq!(m.lines.len(), 3);
    assert_eq!(
        partial_success_message(&m),
        format!(
            "3 records rejected: record 2: field `seq`: must be an integer ≥ 1, got 0; \
             record 5: field `seq`: must be an integer ≥ 1, got 0; record 7: {NO_REPLICA}"
        )
    );
}

#[test]
fn partial_success_message_caps_reasons() {
    let one_rej = Mapped {
        rejected: vec![Rejected {
            index: 0,
            reason: "x".into(),
        }],
        ..Default::default()
    };
    assert_eq!(
        partial_success_message(&one_rej),
        "1 record rejected: record 0: x"
    );
    let many = Mapped {
        rejected: (0..25)
            .map(|index| Rejected {
                index,
                reason: "r".into(),
            })
            .collect(),
        ..Default::default()
    };
    let msg = partial_success_message(&many);
    assert!(msg.starts_with("25 records rejected: record 0: r; record 1: r;"));
    assert!(msg.ends_with("record 19: r; ... and 5 more"), "{msg}");
    assert!(!msg.contains("record 20"));
}

#[test]
fn too_deep_values_are_rejected_not_overflowed() {
    let mut v = i(1);
    for _ in 0..200 {
        v = arr(vec![v]);
    }
    let r = reject(vec![kv("weft.seq", i(1)), kv("deep", v.clone())]);
    assert_eq!(r, "attribute `deep`: nested more than 64 levels deep");
    let mut rec = log(vec![kv("weft.seq", i(1))]);
    rec.body = Some(v);
    let m = one(vec![rec]);
    assert_eq!(
        m.rejected[0].reason,
        "body: nested more than 64 levels deep"
    );
    // Right at the limit is fine.
    let mut v = i(1);
    for _ in 0..MAX_DEPTH {
        v = arr(vec![v]);
    }
    single(vec![kv("weft.seq", i(1)), kv("weft.value", v)]);
}
