//! The fast path against the serde path: on any line, `Parser::parse` (fast path first) gives
//! exactly what `Parser::parse_serde` gives — the same verdict, message, event fields and
//! fingerprint — and the fast path does decide the lines real traces are made of.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::super::{Parsed, Parser};
use crate::intern::SharedInterner;

fn parser() -> Parser {
    Parser::new(SharedInterner::default(), SharedInterner::default())
}

/// Everything a parse yields, with interned ids resolved (two parsers number strings apart).
#[derive(Debug, PartialEq)]
enum Outcome {
    Header(serde_json::Map<String, Value>),
    Event(String),
    Error(super::super::LineError),
}

fn outcome(p: &Parser, r: Result<Parsed, super::super::LineError>) -> Outcome {
    let ev = &p.ev;
    let name = |s| p.names.resolve(s).to_owned();
    let sym = |s: Option<u32>| s.map(|s| p.syms.resolve(s).to_owned());
    match r {
        Err(e) => Outcome::Error(e),
        Ok(Parsed::Header(m)) => Outcome::Header(m),
        Ok(Parsed::Event) => Outcome::Event(format!(
            "replica={:?} seq={:?} kind={:?} lamport={:?} wall={:?} has_vc={} vc={:?} \
             has_parents={} parents={:?} msg={:?} key={:?} op={:?} crdt={:?} value={:?} \
             attrs={:?} format={:?} fingerprint={:x}",
            ev.replica.map(name),
            ev.seq,
            ev.kind,
            ev.lamport,
            ev.wall_ns,
            ev.has_vc,
            ev.vc.iter().map(|&(q, v)| (name(q), v)).collect::<Vec<_>>(),
            ev.has_parents,
            ev.parents
                .iter()
                .map(|&(q, v)| (name(q), v))
                .collect::<Vec<_>>(),
            sym(ev.msg),
            sym(ev.key),
            ev.op,
            ev.crdt,
            ev.value,
            ev.attrs,
            ev.format,
            ev.fingerprint,
        )),
    }
}

/// Parses `line` both ways (each parser having read `before` first, so the `vc` name guesses
/// are warm) and asserts equal outcomes; returns whether the fast path decided the line.
fn same(before: &[&[u8]], line: &[u8]) -> bool {
    let (mut fast, mut slow) = (parser(), parser());
    for b in before {
        let _ = fast.parse(b);
        let _ = slow.parse_serde(b);
    }
    fast.ev.reset();
    let decided = super::fill(&mut fast, line);
    let r = fast.parse(line);
    let a = outcome(&fast, r);
    let r = slow.parse_serde(line);
    let b = outcome(&slow, r);
    assert_eq!(a, b, "line {:?}", String::from_utf8_lossy(line));
    // What the fast path decides is the fields; the rules about the whole event (a `send`
    // needs a `msg`, ...) are applied after either path. A header or a syntax error it leaves.
    if decided {
        let syntax = matches!(&a, Outcome::Error(e) if e.column.is_some());
        assert!(!syntax && !matches!(a, Outcome::Header(_)), "decided {a:?}");
    }
    decided
}

const TYPICAL: &[&str] = &[
    r#"{"replica":"r05","seq":1,"kind":"write","lamport":1,"vc":{"r05":1},"wall_ns":1700000000000000319,"key":"k5046","op":"set","value":100}"#,
    r#"{"replica":"r12","seq":2,"kind":"write","lamport":2,"vc":{"r12":2,"r01":7},"wall_ns":1700000000000002327,"key":"k9308","op":"inc","value":8}"#,
    r#"{"replica":"r06","seq":1,"kind":"read","lamport":1,"vc":{"r06":1},"key":"k2024","crdt":"lww","value":[1,"a",null]}"#,
    r#"{"replica":"r13","seq":1,"kind":"send","msg":"m1","attrs":{"x":{"y":[true,false]},"z":"\u00e9\n\"q\""}}"#,
    r#"{"replica":"a","seq":3,"kind":"recv","msg":"m1","parents":[["b",2],["c",9]],"wall_ns":-5}"#,
    r#"  {"replica":"a","seq":3,"lamport":null,"vc":null,"parents":null,"kind":null,"op":null,"msg":null,"key":null,"value":null,"attrs":null,"crdt":null,"wall_ns":null}  "#,
    r#"{"replica":"é日本","seq":18446744073709551615,"lamport":0,"vc":{"é日本":0,"x":18446744073709551615},"other":{"a":1,"a":2},"more":-9223372036854775808}"#,
    r#"{"seq":4,"replica":"a","kind":"write","key":"","value":{"k":"\ud83d\ude00"},"crdt":"counter"}"#,
    r#"{"replica":"a","seq":1,"parents":[],"vc":{}}"#,
];

#[test]
fn typical_lines_take_the_fast_path_with_the_serde_paths_result() {
    for line in TYPICAL {
        assert!(same(&[], line.as_bytes()), "not decided: {line}");
        // With the previous line's clock names warm, and with names it does not guess.
        assert!(same(&[TYPICAL[1].as_bytes()], line.as_bytes()));
    }
}

#[test]
fn hostile_lines_get_the_serde_paths_verdict_and_message() {
    let deep = |n: usize| {
        format!(
            r#"{{"replica":"a","seq":1,"value":{}{}}}"#,
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    let mut lines: Vec<Vec<u8>> = [
        "",
        "{",
        "[]",
        "1.5",
        "null",
        r#"{"format":"weft-trace/1","name":"x"}"#,
        r#"{"replica":"a","seq":1} x"#,
        r#"{"replica":"a","seq":1,}"#,
        r#"{"replica":"a","seq":0}"#,
        r#"{"replica":"a","seq":-0}"#,
        r#"{"replica":"a","seq":1.0}"#,
        r#"{"replica":"a","seq":1e0}"#,
        r#"{"replica":"a","seq":18446744073709551616}"#,
        r#"{"replica":"a","seq":01}"#,
        r#"{"replica":"a","seq":"1"}"#,
        r#"{"replica":"","seq":1}"#,
        r#"{"replica":null,"seq":1}"#,
        r#"{"replica":"a","replica":"b","seq":1}"#,
        r#"{"replica":"a","seq":1,"u":1,"u":1}"#,
        r#"{"replica":"a","seq":1,"lamport":-1}"#,
        r#"{"replica":"a","seq":1,"lamport":-0}"#,
        r#"{"replica":"a","seq":1,"wall_ns":-0}"#,
        r#"{"replica":"a","seq":1,"wall_ns":9223372036854775808}"#,
        r#"{"replica":"a","seq":1,"wall_ns":1.5e3}"#,
        r#"{"replica":"a","seq":1,"kind":"bogus"}"#,
        r#"{"replica":"a","seq":1,"kind":"send"}"#,
        r#"{"replica":"a","seq":1,"kind":"write","crdt":"nope","key":"k"}"#,
        r#"{"replica":"a","seq":1,"kind":"local","crdt":7}"#,
        r#"{"replica":"a","seq":1,"vc":{"a":1,"a":2}}"#,
        r#"{"replica":"a","seq":1,"vc":{"a":-1}}"#,
        r#"{"replica":"a","seq":1,"vc":{"":1}}"#,
        r#"{"replica":"a","seq":1,"vc":[1]}"#,
        r#"{"replica":"a","seq":1,"vc":{"a":1.0}}"#,
        r#"{"replica":"a","seq":1,"parents":[["b",0]]}"#,
        r#"{"replica":"a","seq":1,"parents":[["b",1.0]]}"#,
        r#"{"replica":"a","seq":1,"parents":[["b",1,2]]}"#,
        r#"{"replica":"a","seq":1,"parents":[["b"]]}"#,
        r#"{"replica":"a","seq":1,"parents":["b@1"]}"#,
        r#"{"replica":"a","seq":1,"attrs":[]}"#,
        r#"{"replica":"a","seq":1,"value":1.5}"#,
        r#"{"replica":"a","seq":1,"value":-0.0}"#,
        r#"{"replica":"a","seq":1,"value":-0}"#,
        r#"{"replica":"a","seq":1,"value":1e400}"#,
        r#"{"replica":"a","seq":1,"value":123456789012345678901234567890}"#,
        r#"{"replica":"a","seq":1,"value":"\ud800"}"#,
        r#"{"replica":"a","seq":1,"value":"\udc00x"}"#,
        r#"{"replica":"a","seq":1,"value":"\x"}"#,
        r#"{"replica":"a","seq":1,"value":{"$serde_json::private::RawValue":"1"}}"#,
        r#"{"replica":"a","seq":1,"value":tru}"#,
        r#"{"replica":"a","seq":1,"value":nul}"#,
        r#"{'replica':"a","seq":1}"#,
        r#"{"replica":"a" "seq":1}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    lines.push(b"{\"replica\":\"a\x01\",\"seq\":1}".to_vec());
    lines.push(b"{\"replica\":\"a\",\"seq\":1,\"value\":\"\t\"}".to_vec());
    lines.push(b"{\"replica\":\"a\",\"seq\":1,\"value\":\"\xff\"}".to_vec());
    lines.push(b"{\"replica\":\"a\",\"seq\":1,\"value\":\"\xed\xa0\x80\"}".to_vec());
    lines.push(b"{\"replica\":\"a\",\"seq\":1}\x00".to_vec());
    lines.push(b"{\"replica\":\"a\",\t\"seq\":1,\r\"key\":\"k\"}".to_vec());
    lines.push(b"{\"replica\":\"a\x7f\",\"seq\":1,\"key\":\"\x1f\"}".to_vec());
    lines.push(b"{\"replica\":\"a\",\"seq\":1,\x0c\"key\":\"k\"}".to_vec());
    lines.push(format!(r#"{{"replica":"{}","seq":1}}"#, "r".repeat(257)).into_bytes());
    lines.push(format!(r#"{{"replica":"{}","seq":1}}"#, "r".repeat(256)).into_bytes());
    for n in [60, 63, 64, 65, 100, 126, 127, 128, 129, 5000] {
        lines.push(deep(n).into_bytes());
    }
    for line in &lines {
        same(&[], line);
    }
}

/// A JSON value of any kind, floats and awkward strings included.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(|u| json!(u)),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "[a-c\u{0}-\u{1f}\"\\\\é😀]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-c$]{0,3}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A field of an event line: mostly the right type, sometimes any value.
fn field() -> impl Strategy<Value = (String, Value)> {
    let name = prop_oneof![
        Just("replica"),
        Just("seq"),
        Just("kind"),
        Just("lamport"),
        Just("vc"),
        Just("wall_ns"),
        Just("parents"),
        Just("msg"),
        Just("key"),
        Just("op"),
        Just("value"),
        Just("crdt"),
        Just("attrs"),
        Just("format"),
        Just("extra"),
    ];
    let good = prop_oneof![
        "[ab]{1,2}".prop_map(|s| json!(s)),
        (0u64..4).prop_map(|u| json!(u)),
        proptest::sample::select(
            &["write", "read", "send", "recv", "local", "set", "inc", "lww"][..]
        )
        .prop_map(|s| json!(s)),
        proptest::collection::btree_map("[ab]{1,2}", 0u64..4, 0..3).prop_map(|m| json!(m)),
        proptest::collection::vec(("[ab]{1,2}", 0u64..3), 0..3).prop_map(|v| json!(v)),
    ];
    (name, prop_oneof![3 => good, 1 => any_value()]).prop_map(|(n, v)| (n.to_owned(), v))
}

/// An event line: `replica` and `seq` usually present, then random fields (repeats included),
/// written as JSON text.
fn line() -> impl Strategy<Value = String> {
    (
        proptest::option::weighted(0.9, "[ab]{1,2}"),
        proptest::option::weighted(0.9, 0u64..3),
        proptest::collection::vec(field(), 0..6),
    )
        .prop_map(|(r, s, fields)| {
            let mut parts = Vec::new();
            if let Some(r) = r {
                parts.push(format!("\"replica\":{}", json!(r)));
            }
            if let Some(s) = s {
                parts.push(format!("\"seq\":{s}"));
            }
            for (n, v) in fields {
                parts.push(format!("{}:{v}", json!(n)));
            }
            format!("{{{}}}", parts.join(","))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn random_lines_parse_the_same_both_ways(l in line(), warm in line()) {
        same(&[warm.as_bytes()], l.as_bytes());
    }

    #[test]
    fn damaged_lines_parse_the_same_both_ways(
        l in line(),
        cuts in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let mut bytes = l.into_bytes();
        for (at, byte, how) in cuts {
            let i = at.index(bytes.len() + 1);
            match how {
                0 => bytes.insert(i, byte),
                1 if i < bytes.len() => { bytes.remove(i); }
                _ => bytes.truncate(i),
            }
        }
        same(&[], &bytes);
    }
}
