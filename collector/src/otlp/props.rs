//! Properties of the mapping over random records: nothing panics, every accepted line is valid,
//! and the direct path gives the old path's lines byte for byte and its rejections word for
//! word; `weft.crdt` is judged as the trace reader judges it.

#![allow(clippy::needless_update)] // proto literals end in `..Default::default()` on purpose

use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use proptest::prelude::*;
use serde_json::json;
use weft_trace::{Crdt, ReadOptions, Trace};

use super::tests::{arr, av, i, kv, kvl, log, logs, one, reject, s, single};
use super::*;

fn leaf() -> impl Strategy<Value = AnyValue> {
    prop_oneof![
        prop_oneof![
            Just("1".to_string()),
            Just("-1".to_string()),
            Just("0".to_string()),
            Just("send".to_string()),
            Just("write".to_string()),
            Just("set".to_string()),
            Just("read".to_string()),
            Just("lww".to_string()),
            Just("a@b@3".to_string()),
            Just("@".to_string()),
            Just(r#"{"a":1,"b":-1}"#.to_string()),
            Just(r#"{"a":"#.to_string()),
            Just("é".repeat(300)),
            ".{0,12}",
        ]
        .prop_map(|v| s(&v)),
        any::<i64>().prop_map(i),
        (0i64..4).prop_map(i),
        any::<f64>().prop_map(|d| av(Av::DoubleValue(d))),
        any::<bool>().prop_map(|b| av(Av::BoolValue(b))),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(|b| av(Av::BytesValue(b))),
        Just(AnyValue::default()),
        any::<i32>().prop_map(|n| av(Av::StringValueStrindex(n))),
    ]
}

fn value() -> impl Strategy<Value = AnyValue> {
    leaf().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(arr),
            proptest::collection::vec((key(), inner), 0..6)
                .prop_map(|kvs| kvl(kvs.into_iter().map(|(k, v)| kv(&k, v)).collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("weft.replica"),
        Just("weft.seq"),
        Just("weft.kind"),
        Just("weft.lamport"),
        Just("weft.vc"),
        Just("weft.parents"),
        Just("weft.msg"),
        Just("weft.key"),
        Just("weft.op"),
        Just("weft.value"),
        Just("weft.crdt"),
        Just("weft.other"),
        Just("body"),
        Just("a"),
        Just(""),
    ]
    .prop_map(String::from)
}

proptest! {
    #[test]
    fn never_panics_and_accepts_only_valid_lines(
        records in proptest::collection::vec(
            (proptest::collection::vec((key(), value()), 0..8),
             proptest::option::of(value()), any::<u64>(), any::<u64>()),
            0..6,
        ),
        service in proptest::option::of(".{0,3}"),
    ) {
        let n = records.len();
        let recs = records
            .into_iter()
            .map(|(attrs, body, t, o)| LogRecord {
                attributes: attrs.into_iter().map(|(k, v)| kv(&k, v)).collect(),
                body,
                time_unix_nano: t % 3 * (t / 3),
                observed_time_unix_nano: o,
                ..Default::default()
            })
            .collect();
        let res = service.map(|s_| vec![kv("service.name", s(&s_))]).unwrap_or_default();
        let m = map_logs(&logs(vec![(res, vec![recs])]));
        prop_assert_eq!(m.lines.len() + m.rejected.len() + m.skipped as usize, n);
        let mut checker = LineChecker::new();
        for ev in &m.events().unwrap() {
            let line = serde_json::to_string(ev).unwrap();
            let checked = checker.check(line.as_bytes());
            prop_assert!(matches!(checked, Ok(CheckedLine::Event { .. })), "{}", line);
        }
        for r in &m.rejected {
            prop_assert!(r.index < n && !r.reason.is_empty());
        }
        let _ = partial_success_message(&m);
    }
}

/// `weft.crdt` must give exactly what the same field gives in an NDJSON line: the type on
/// a write or read, a rejection with the trace reader's own reason for an unknown one, and
/// nothing at all (not even a rejection) on the other kinds.
#[test]
fn crdt_is_judged_as_the_trace_reader_judges_it() {
    let kinds = ["write", "read", "send", "recv", "local"];
    let types = ["lww", "mv", "counter", "set", "LWW", "bogus", ""];
    for kind in kinds {
        for ty in types {
            let ndjson = json!({"replica": "svc", "seq": 1, "kind": kind, "key": "k",
                                "msg": "m", "crdt": ty, "wall_ns": 1_000})
            .to_string();
            let m = one(vec![log(vec![
                kv("weft.seq", i(1)),
                kv("weft.kind", s(kind)),
                kv("weft.crdt", s(ty)),
                kv("weft.key", s("k")),
                kv("weft.msg", s("m")),
            ])]);
            let case = format!("kind {kind}, crdt {ty:?}");
            match LineChecker::new().check(ndjson.as_bytes()) {
                Ok(_) => {
                    let trace =
                        Trace::from_ndjson_str("t", &ndjson, &ReadOptions::default()).unwrap();
                    assert_eq!(m.rejected, vec![], "{case}");
                    assert_eq!(m.events().unwrap(), vec![trace.to_event(0)], "{case}");
                    let reads_or_writes = matches!(kind, "write" | "read");
                    assert_eq!(
                        m.events().unwrap()[0].crdt,
                        Crdt::parse(ty).filter(|_| reads_or_writes),
                        "{case}"
                    );
                }
                Err(e) => {
                    assert_eq!(m.events().unwrap(), vec![], "{case}");
                    assert_eq!(m.rejected.len(), 1, "{case}");
                    assert_eq!(m.rejected[0].reason, e.reason, "{case}");
                }
            }
        }
    }
    // The unknown types on writes and reads are exactly the rejections, and the response
    // names the field and the accepted spellings.
    let r = reject(vec![
        kv("weft.seq", i(1)),
        kv("weft.kind", s("read")),
        kv("weft.key", s("k")),
        kv("weft.crdt", s("register")),
    ]);
    assert_eq!(
        r,
        "field `crdt`: unknown type \"register\" (expected lww, mv, counter or set)"
    );
    let m = one(vec![
        log(vec![kv("weft.seq", i(1))]),
        log(vec![
            kv("weft.crdt", s("bogus")),
            kv("weft.kind", s("write")),
            kv("weft.key", s("k")),
            kv("weft.seq", i(2)),
        ]),
    ]);
    assert_eq!(
        partial_success_message(&m),
        "1 record rejected: record 1: field `crdt`: unknown type \"bogus\" \
         (expected lww, mv, counter or set)"
    );
}

#[test]
fn crdt_must_be_a_string_on_writes_and_reads_only() {
    let rec = |kind: &str, crdt: AnyValue| {
        vec![
            kv("weft.seq", i(1)),
            kv("weft.crdt", crdt),
            kv("weft.kind", s(kind)),
            kv("weft.key", s("k")),
            kv("weft.msg", s("m")),
        ]
    };
    assert_eq!(
        reject(rec("write", i(3))),
        "attribute `weft.crdt`: must be a string, got an int 3"
    );
    assert_eq!(
        reject(rec("read", AnyValue::default())),
        "attribute `weft.crdt`: must be a string, got an empty value"
    );
    // Elsewhere the attribute is ignored, whatever it holds: not a rejection, not an attr.
    for kind in ["send", "recv", "local"] {
        let ev = single(rec(kind, arr(vec![i(3)])));
        assert_eq!((ev.crdt, ev.attrs), (None, None), "{kind}");
    }
    let ev = single(vec![kv("weft.seq", i(1)), kv("weft.crdt", s("counter"))]);
    assert_eq!(ev.crdt, None, "no kind is local");
    assert_eq!(
        reject(vec![
            kv("weft.seq", i(1)),
            kv("weft.crdt", s("lww")),
            kv("weft.crdt", s("lww")),
        ]),
        "attribute `weft.crdt` appears twice"
    );
    // Spans map it the same way.
    let span = |kind: &str, ty: &str| Span {
        attributes: vec![
            kv("weft.replica", s("r1")),
            kv("weft.seq", i(1)),
            kv("weft.kind", s(kind)),
            kv("weft.key", s("k")),
            kv("weft.crdt", s(ty)),
        ],
        ..Default::default()
    };
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![span("read", "mv"), span("write", "nope")],
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let m = map_traces(&req);
    assert_eq!(m.lines.len(), 1);
    assert_eq!(m.events().unwrap()[0].crdt, Some(Crdt::Mv));
    assert_eq!(m.rejected.len(), 1);
    assert_eq!(m.rejected[0].index, 1);
    assert!(m.rejected[0]
        .reason
        .starts_with("field `crdt`: unknown type \"nope\""));
}

#[test]
fn a_checker_per_request_sees_duplicates_as_plain_events() {
    // Duplicates are the store's business: both copies map.
    let m = one(vec![
        log(vec![kv("weft.seq", i(1))]),
        log(vec![kv("weft.seq", i(1))]),
    ]);
    assert_eq!(m.lines.len(), 2);
    assert_eq!(m.events().unwrap()[0], m.events().unwrap()[1]);
}

/// A weft attribute as an instrumented app would send it, sometimes wrong: the values are mostly
/// of the right type and range, so that most records are accepted and the rest break one rule.
fn weft_attr() -> impl Strategy<Value = KeyValue> {
    let replica = prop_oneof![
        Just("r1".to_string()),
        Just("r2".to_string()),
        Just(String::new()),
        Just("x".repeat(257)),
        Just("q\"\\\n\u{7f}é".to_string()),
        ".{0,6}",
    ];
    let int = prop_oneof![
        4 => (1i64..50).prop_map(i),
        1 => (-3i64..1).prop_map(i),
        1 => Just(s("18446744073709551615")),
        1 => any::<i64>().prop_map(|n| s(&n.to_string())),
        1 => leaf(),
    ];
    let vc_entry = (
        replica.clone(),
        prop_oneof![4 => (0i64..9).prop_map(i), 1 => leaf()],
    );
    let vc = prop_oneof![
        proptest::collection::vec(vc_entry, 0..5)
            .prop_map(|es| kvl(es.into_iter().map(|(q, n)| kv(&q, n)).collect())),
        proptest::collection::btree_map(replica.clone(), 0u64..9, 0..5)
            .prop_map(|m| s(&serde_json::to_string(&m).unwrap())),
        prop_oneof![
            Just(r#"{"b":1,"a":2}"#),
            Just(r#"{"a":1,"a":2}"#),
            Just(r#"{"a":-1}"#),
            Just(r#"{"a":1.0}"#),
            Just(r#"{"\u0061":3}"#),
            Just(r#" {"a" : 1 } "#),
            Just(r#"{"":1}"#),
            Just("[1]"),
            Just("{"),
        ]
        .prop_map(s),
        leaf(),
    ];
    let parent = prop_oneof![
        (replica.clone(), 0u64..4).prop_map(|(r, n)| s(&format!("{r}@{n}"))),
        Just(s("a@+2")),
        leaf(),
    ];
    let parents = prop_oneof![
        4 => proptest::collection::vec(parent, 0..4).prop_map(arr),
        1 => leaf(),
    ];
    let word = |words: &'static [&'static str]| {
        prop_oneof![
            4 => proptest::sample::select(words).prop_map(s),
            1 => leaf(),
        ]
    };
    prop_oneof![
        1 => replica.prop_map(|r| kv("weft.replica", s(&r))),
        1 => int.clone().prop_map(|v| kv("weft.seq", v)),
        3 => int.prop_map(|v| kv("weft.lamport", v)),
        3 => word(&["write", "read", "send", "recv", "local", "bogus"])
            .prop_map(|v| kv("weft.kind", v)),
        3 => word(&["set", "inc", "add", "remove", "mul"]).prop_map(|v| kv("weft.op", v)),
        3 => word(&["lww", "mv", "counter", "set", "register"]).prop_map(|v| kv("weft.crdt", v)),
        3 => word(&["k", "m1", ""]).prop_map(|v| kv("weft.key", v)),
        3 => word(&["k", "m1", ""]).prop_map(|v| kv("weft.msg", v)),
        3 => vc.prop_map(|v| kv("weft.vc", v)),
        3 => parents.prop_map(|v| kv("weft.parents", v)),
        3 => value().prop_map(|v| kv("weft.value", v)),
        3 => (key(), value()).prop_map(|(k, v)| kv(&k, v)),
    ]
}

/// A record's attributes: usually `weft.seq` first-class, in any order, sometimes twice.
fn weft_attrs() -> impl Strategy<Value = Vec<KeyValue>> {
    (
        proptest::collection::vec(weft_attr(), 0..6),
        proptest::option::weighted(0.9, (1i64..9).prop_map(|n| kv("weft.seq", i(n)))),
        proptest::option::weighted(0.6, Just(kv("weft.replica", s("r1")))),
    )
        .prop_flat_map(|(mut attrs, seq, replica)| {
            attrs.extend(seq);
            attrs.extend(replica);
            Just(attrs).prop_shuffle()
        })
}

/// The direct path's lines and rejections are the old path's (`super::reference`), byte for byte
/// and word for word, for logs and spans; the lines it accepted without the checker carry the
/// checker's own replica, seq and fingerprint.
fn same_as_the_old_path(req: &ExportLogsServiceRequest) -> Result<(), TestCaseError> {
    let new = map_logs(req);
    let old = reference::map_logs(req);
    prop_assert_eq!(&new.rejected, &old.rejected);
    prop_assert_eq!(new.skipped, old.skipped);
    prop_assert_eq!(new.lines.len(), old.lines.len());
    for (n, o) in new.lines.iter().zip(&old.lines) {
        prop_assert_eq!(
            String::from_utf8_lossy(&n.bytes),
            String::from_utf8_lossy(&o.bytes)
        );
        prop_assert_eq!(n, o);
    }
    let spans = ExportTraceServiceRequest {
        resource_spans: req
            .resource_logs
            .iter()
            .map(|rl| ResourceSpans {
                resource: rl.resource.clone(),
                scope_spans: rl
                    .scope_logs
                    .iter()
                    .map(|sl| ScopeSpans {
                        spans: sl
                            .log_records
                            .iter()
                            .map(|r| Span {
                                attributes: r.attributes.clone(),
                                start_time_unix_nano: r.time_unix_nano,
                                ..Default::default()
                            })
                            .collect(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
    };
    prop_assert_eq!(map_traces(&spans), reference::map_traces(&spans));
    let mut checker = LineChecker::new();
    for r in req.resource_logs.iter().flat_map(|rl| &rl.scope_logs) {
        for rec in &r.log_records {
            let built = line::build(&rec.attributes, rec.body.as_ref(), None, Some("svc"), 0);
            let Ok(line::Built {
                bytes,
                verdict: Some((replica, seq, fingerprint)),
            }) = built
            else {
                continue;
            };
            let checked = checker.check(&bytes).map_err(|e| e.reason);
            prop_assert_eq!(
                checked,
                Ok(CheckedLine::Event {
                    replica,
                    seq,
                    fingerprint
                }),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn direct_lines_are_the_old_lines(
        records in proptest::collection::vec(
            (weft_attrs(), proptest::option::of(value()), any::<u64>(), any::<u64>()),
            1..6,
        ),
        service in proptest::option::of(prop_oneof![Just("svc".to_string()), ".{0,3}"]),
    ) {
        let recs = records
            .into_iter()
            .map(|(attributes, body, t, o)| LogRecord {
                attributes,
                body,
                time_unix_nano: t % 3 * (t / 3),
                observed_time_unix_nano: o % 2 * o,
                ..Default::default()
            })
            .collect();
        let res = service.map(|n| vec![kv("service.name", s(&n))]).unwrap_or_default();
        same_as_the_old_path(&logs(vec![(res, vec![recs])]))?;
    }
}

/// The usual record (what `weft-clock` and the benchmark send) is accepted without the line
/// checker, and the fingerprint computed on the way is the checker's.
#[test]
fn a_usual_record_needs_no_checker() {
    for vc in [
        kvl(vec![kv("r2", i(2)), kv("r1", i(4))]),
        s(r#"{"r2":2,"r1":4,"r3":0}"#),
    ] {
        let attrs = vec![
            kv("weft.replica", s("r1")),
            kv("weft.seq", i(4)),
            kv("weft.kind", s("write")),
            kv("weft.lamport", i(9)),
            kv("weft.vc", vc),
            kv("weft.parents", arr(vec![s("r2@2")])),
            kv("weft.key", s("doc")),
            kv("weft.op", s("add")),
            kv("weft.crdt", s("set")),
            kv(
                "weft.value",
                kvl(vec![kv("b", i(-1)), kv("a", av(Av::DoubleValue(0.5)))]),
            ),
            kv("other", s("x")),
        ];
        let built = line::build(&attrs, Some(&s("hi")), Some(("t", 7)), None, 0).unwrap();
        let (replica, seq, fingerprint) = built.verdict.expect("a verdict without the checker");
        assert_eq!(
            LineChecker::new().check(&built.bytes),
            Ok(CheckedLine::Event {
                replica,
                seq,
                fingerprint
            })
        );
    }
}
