//! `Trace::append`: a trace grown by batches read separately equals one read of all their lines.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use weft_trace::{Appended, LinePos, ReadError, ReadOptions, Trace, TraceBuilder};

// ---- the random text ----

/// Replica names of events; clocks and parents also name `x` and `y`, which record nothing.
const REPLICAS: [&str; 4] = ["a", "b", "c", "é"];
const CLOCK_NAMES: [&str; 6] = ["a", "b", "c", "é", "x", "y"];

/// One line of the generated text.
#[derive(Clone, Debug)]
enum Line {
    /// An event object, its fields written in this order.
    Event(Vec<(String, Value)>),
    /// The `n`-th earlier event line again (modulo their number), its fields in reverse order:
    /// an identical copy, equal as a JSON value.
    Repeat(usize),
    /// The id of the `n`-th earlier event line with one field changed: a conflicting copy.
    Conflict(usize, u64),
    Blank,
    /// A header object.
    Header,
    /// One of [`MALFORMED`].
    Malformed(usize),
    /// An event line longer than [`MAX_LINE`].
    TooLong,
}

const MAX_LINE: usize = 400;

/// Lines a lenient read skips. The fourth interns a message id before it fails, the fifth
/// names two replicas twice in its clock (the message must not depend on interning order).
const MALFORMED: [&str; 6] = [
    "oops",
    r#"{"replica":"a","seq":0}"#,
    r#"{"replica":"b","seq":2,"kind":"send"}"#,
    r#"{"replica":"q","seq":1,"msg":"only-in-a-malformed-line","lamport":-1}"#,
    r#"{"replica":"zz","seq":1,"vc":{"c":1,"b":1,"c":2,"b":2}}"#,
    r#"{"replica":"a","seq":3,"vc":{"a":1},"parents":[["b"]]}"#,
];

fn event() -> impl Strategy<Value = Vec<(String, Value)>> {
    let kind = prop_oneof![
        Just(None),
        Just(Some("local")),
        Just(Some("send")),
        Just(Some("recv")),
        Just(Some("write")),
        Just(Some("read")),
    ];
    let vc = proptest::option::of(proptest::collection::btree_map(
        proptest::sample::select(&CLOCK_NAMES[..]),
        0u64..4,
        0..5,
    ));
    let parents = proptest::option::of(proptest::collection::vec(
        (proptest::sample::select(&CLOCK_NAMES[..]), 1u64..5),
        0..3,
    ));
    (
        (proptest::sample::select(&REPLICAS[..]), 1u64..6, kind),
        (0u8..4, 0u8..3, proptest::option::of(0u64..20)),
        (vc, parents, proptest::option::of(-5i64..5)),
        (any::<bool>(), any::<bool>(), any::<u8>()),
    )
        .prop_map(
            |((r, seq, kind), (m, k, lamport), (vc, parents, wall), (op, attrs, v))| {
                let mut f: Vec<(String, Value)> =
                    vec![("replica".into(), json!(r)), ("seq".into(), json!(seq))];
                if let Some(kind) = kind {
                    f.push(("kind".into(), json!(kind)));
                    match kind {
                        "send" | "recv" => f.push(("msg".into(), json!(format!("m{m}")))),
                        "write" | "read" => f.push(("key".into(), json!(format!("k{k}")))),
                        _ => {}
                    }
                    if kind == "write" {
                        let value = match v % 4 {
                            0 => json!(v),
                            1 => json!(format!("v{v}")),
                            2 => json!({"n": v, "s": [1, 2]}),
                            _ => Value::Null,
                        };
                        f.push(("value".into(), value));
                        if op {
                            f.push((
                                "op".into(),
                                json!(["set", "inc", "add", "remove"][v as usize % 4]),
                            ));
                        }
                    }
                }
                if let Some(l) = lamport {
                    f.push(("lamport".into(), json!(l)));
                }
                if let Some(vc) = vc {
                    // Written in reverse name order: the stored order is by interned id.
                    let m: Map<String, Value> = vc
                        .into_iter()
                        .rev()
                        .map(|(q, v)| (q.to_string(), json!(v)))
                        .collect();
                    f.push(("vc".into(), Value::Object(m)));
                }
                if let Some(p) = parents {
                    f.push(("parents".into(), json!(p)));
                }
                if let Some(w) = wall {
                    f.push(("wall_ns".into(), json!(w)));
                }
                if attrs {
                    f.push(("attrs".into(), json!({"host": format!("h{}", v % 3)})));
                }
                f
            },
        )
}

fn line(headers_mid_text: bool) -> impl Strategy<Value = Line> {
    let header = if headers_mid_text { 1 } else { 0 };
    prop_oneof![
        10 => event().prop_map(Line::Event),
        3 => any::<usize>().prop_map(Line::Repeat),
        2 => (any::<usize>(), 0u64..3).prop_map(|(n, d)| Line::Conflict(n, d)),
        1 => Just(Line::Blank),
        header => Just(Line::Header),
    ]
}

fn object(fields: &[(String, Value)]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{}", json!(k), v))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// The lines of the text (without their newlines), a header first when `first_header`.
fn render(first_header: bool, lines: &[Line]) -> Vec<String> {
    let mut out = Vec::new();
    if first_header {
        out.push(r#"{"format":"weft-trace/1","name":"gen"}"#.to_string());
    }
    let mut events: Vec<Vec<(String, Value)>> = Vec::new();
    for l in lines {
        let text = match l {
            Line::Event(f) => {
                events.push(f.clone());
                object(f)
            }
            Line::Repeat(n) if !events.is_empty() => {
                let mut f = events[n % events.len()].clone();
                f.reverse();
                object(&f)
            }
            Line::Conflict(n, d) if !events.is_empty() => {
                let mut f = events[n % events.len()].clone();
                f.retain(|(k, _)| k != "lamport");
                f.push(("lamport".into(), json!(100 + d)));
                object(&f)
            }
            Line::Repeat(_) | Line::Conflict(..) | Line::Blank => String::new(),
            Line::Header => r#"{"format":"weft-trace/1"}"#.to_string(),
            Line::Malformed(i) => MALFORMED[i % MALFORMED.len()].to_string(),
            Line::TooLong => format!(
                r#"{{"replica":"a","seq":1,"kind":"write","key":"long","value":"{}"}}"#,
                "z".repeat(MAX_LINE)
            ),
        };
        out.push(text);
    }
    out
}

// ---- comparing ----

/// Every name a trace's interner holds.
fn strings(i: &weft_trace::Interner) -> BTreeSet<String> {
    (0..i.len() as u32)
        .map(|s| i.resolve(s).to_string())
        .collect()
}

/// `got` (grown by batches) holds what `want` (one read) holds. `exact_sources`: the batches
/// were read as one continuing input, so malformed lines and headers must match whole.
fn assert_same(want: &Trace, got: &Trace, exact_sources: bool) {
    assert_eq!(got.len(), want.len(), "event count");
    for i in 0..want.len() {
        assert_eq!(got.id(i), want.id(i), "id at {i}");
        assert_eq!(got.to_event(i), want.to_event(i), "event at {i}");
        let e = &got.events()[i];
        assert_eq!(got.find(e.replica, e.seq), Some(i));
        assert_eq!(got.find_name(got.replica(e), e.seq), Some(i));
        let vc: Vec<u32> = got.vc(e).map(|(q, _)| q).collect();
        assert!(
            vc.windows(2).all(|w| w[0] < w[1]),
            "vc sorted by name id: {vc:?}"
        );
    }
    assert_eq!(got.duplicates(), want.duplicates(), "duplicates");
    assert_eq!(got.conflicting_duplicates(), want.conflicting_duplicates());
    if exact_sources {
        assert_eq!(got.malformed(), want.malformed());
        assert_eq!(got.headers(), want.headers());
    } else {
        let reasons = |t: &Trace| {
            t.malformed()
                .iter()
                .map(|m| (m.reason.clone(), m.column))
                .collect::<Vec<_>>()
        };
        assert_eq!(reasons(got), reasons(want));
        let fields = |t: &Trace| {
            t.headers()
                .iter()
                .map(|h| h.fields.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(got), fields(want));
    }
    assert_eq!(strings(got.names()), strings(want.names()), "names");
    assert_eq!(strings(got.syms()), strings(want.syms()), "syms");
    assert_eq!(got.find_name("nobody", 1), None);
}

/// The `Appended` of each batch, in order, account for everything `total` holds.
fn assert_accounted(total: &Trace, added: &[Appended]) {
    let mut events = 0;
    let mut malformed = 0;
    let mut conflicting = Vec::new();
    let mut duplicates = 0;
    for a in added {
        assert_eq!(a.events.start, events);
        events = a.events.end;
        assert_eq!(a.malformed.start, malformed);
        malformed = a.malformed.end;
        conflicting.extend_from_slice(&a.conflicting);
        duplicates += a.duplicates;
    }
    assert_eq!(events, total.len());
    assert_eq!(malformed, total.malformed().len());
    assert_eq!(conflicting, total.conflicting_duplicates());
    assert_eq!(duplicates, total.duplicates());
}

fn opts(lenient: bool) -> ReadOptions {
    ReadOptions {
        lenient,
        max_line_bytes: MAX_LINE,
    }
}

/// The texts of the batches `lines` is cut into at `cuts` (indices into the lines, modulo their
/// number plus one; repeated ones give empty batches), each line ending in a newline.
fn cut(lines: &[String], cuts: &[usize]) -> Vec<String> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (lines.len() + 1)).collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for c in at.into_iter().chain([lines.len()]) {
        out.push(lines[from..c].iter().map(|l| format!("{l}\n")).collect());
        from = c;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Batches read as one continuing input (`TraceBuilder::read_at`), appended one by one and
    /// also in groups: exactly one read of the whole text, malformed lines and all.
    #[test]
    fn batches_appended_equal_one_read_of_all_lines(
        first_header in any::<bool>(),
        lines in proptest::collection::vec(
            prop_oneof![
                8 => line(true),
                1 => (0usize..MALFORMED.len()).prop_map(Line::Malformed),
                1 => Just(Line::TooLong),
            ],
            0..50,
        ),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        groups in proptest::collection::vec(1usize..4, 1..8),
        lenient in any::<bool>(),
        threads in 1usize..3,
    ) {
        let lines = render(first_header, &lines);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let mut whole = TraceBuilder::new(opts(lenient)).threads(threads);
        let whole = whole.read("t.jsonl", text.as_bytes()).map(|()| whole.finish_batch());

        let read_batch = |text: &str, pos: &mut LinePos| {
            let mut r = TraceBuilder::new(opts(lenient)).threads(threads);
            r.read_at("t.jsonl", pos, text.as_bytes()).map(|()| r.finish_batch())
        };
        let mut pos = LinePos::default();
        // Each batch's text and where it starts, to read it again for the groups below.
        let mut batches = Vec::new();
        let mut failed = None;
        for b in cut(&lines, &cuts) {
            let start = pos;
            match read_batch(&b, &mut pos) {
                Ok(t) => batches.push((t, b, start)),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let whole = match (whole, failed) {
            (Ok(whole), None) => whole,
            (Err(ReadError::Malformed(w)), Some(ReadError::Malformed(g))) => {
                prop_assert!(!lenient);
                prop_assert_eq!(g, w, "strict mode: the same first malformed line");
                return Ok(());
            }
            (w, g) => panic!("one read gave {w:?}, the batches {g:?}"),
        };
        prop_assert_eq!(pos.line, lines.len() as u64);

        // One by one, into an empty trace.
        let mut total = Trace::default();
        let mut added = Vec::new();
        let mut grouped = Trace::default();
        let mut group = Trace::default();
        let mut sizes = groups.iter().cycle();
        let mut left = *sizes.next().unwrap();
        for (b, text, mut start) in batches {
            added.push(total.append(b));
            group.append(read_batch(&text, &mut start).unwrap());
            left -= 1;
            if left == 0 {
                grouped.append(std::mem::take(&mut group));
                left = *sizes.next().unwrap();
            }
        }
        grouped.append(group);
        assert_same(&whole, &total, true);
        assert_accounted(&total, &added);
        // Appending traces that were themselves grown by appending.
        assert_same(&whole, &grouped, true);
    }

    /// Batches read as inputs of their own (`Trace::batch_from_ndjson`, lines numbered from 1
    /// in each): the same events, counts and flags; malformed lines with the same reasons.
    #[test]
    fn batches_read_on_their_own_equal_one_read_but_for_line_numbers(
        first_header in any::<bool>(),
        lines in proptest::collection::vec(
            prop_oneof![
                8 => line(false),
                1 => (0usize..MALFORMED.len()).prop_map(Line::Malformed),
            ],
            0..50,
        ),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let lines = render(first_header, &lines);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let whole = {
            let mut b = TraceBuilder::new(opts(true)).threads(1);
            b.read("t.jsonl", text.as_bytes()).unwrap();
            b.finish_batch()
        };
        let mut total = Trace::default();
        let mut added = Vec::new();
        for (k, b) in cut(&lines, &cuts).iter().enumerate() {
            let batch = Trace::batch_from_ndjson(&format!("batch-{k}"), b, &opts(true)).unwrap();
            for m in batch.malformed() {
                prop_assert_eq!(&m.source, &format!("batch-{k}"));
                prop_assert!(m.line as usize <= b.lines().count());
            }
            added.push(total.append(batch));
        }
        assert_same(&whole, &total, false);
        assert_accounted(&total, &added);
    }
}

// ---- edge cases ----

fn batch(input: &str, text: &str) -> Trace {
    Trace::batch_from_ndjson(input, text, &ReadOptions::default()).unwrap()
}

fn lenient_batch(input: &str, text: &str) -> Trace {
    Trace::batch_from_ndjson(input, text, &opts(true)).unwrap()
}

#[test]
fn an_empty_batch_appends_nothing() {
    let mut t = Trace::default();
    let a = t.append(Trace::default());
    assert_eq!(a, Appended::default());
    assert!(t.is_empty());
    t.append(batch(
        "1",
        "{\"replica\":\"a\",\"seq\":1,\"msg\":\"m\",\"kind\":\"send\"}\n",
    ));
    for empty in [Trace::default(), batch("2", ""), batch("3", "\n  \n")] {
        let a = t.append(empty);
        assert_eq!(a.events, 1..1);
        assert_eq!((a.duplicates, a.conflicting.len()), (0, 0));
        assert_eq!((a.names, a.syms), (1..1, 1..1));
        assert_eq!(t.len(), 1);
    }
    // A batch of a header only, or of malformed lines only (lenient), is not an error.
    let a = t.append(batch("4", "{\"format\":\"weft-trace/1\"}\n"));
    assert_eq!((a.events, a.headers), (1..1, 0..1));
    assert_eq!(t.headers()[0].source, "4");
    let a = t.append(lenient_batch("5", "oops\n{\"replica\":\"b\"}\n"));
    assert_eq!((a.events, a.malformed), (1..1, 0..2));
    assert_eq!(t.malformed()[1].to_string(), "5:2: missing field `seq`");
    // Into an empty trace that already recorded malformed lines: they stay first.
    let mut u = Trace::default();
    u.append(lenient_batch("6", "oops\n"));
    let a = u.append(lenient_batch("7", "bad\n{\"replica\":\"a\",\"seq\":1}\n"));
    assert_eq!((a.events, a.malformed), (0..1, 1..2));
    let sources: Vec<&str> = u.malformed().iter().map(|m| m.source.as_str()).collect();
    assert_eq!(sources, ["6", "7"]);
    // Strict mode still rejects a malformed line; only `finish` rejects an empty trace.
    assert!(Trace::batch_from_ndjson("8", "oops\n", &ReadOptions::default()).is_err());
    let b = TraceBuilder::new(ReadOptions::default());
    assert!(matches!(b.finish(), Err(ReadError::Empty { .. })));
    assert!(TraceBuilder::new(ReadOptions::default())
        .finish_batch()
        .is_empty());
}

#[test]
fn a_batch_of_only_duplicates_adds_no_event() {
    let mut t = Trace::default();
    t.append(batch(
        "1",
        "{\"replica\":\"a\",\"seq\":1,\"lamport\":1}\n{\"replica\":\"b\",\"seq\":1,\"lamport\":1}\n",
    ));
    let a = t.append(batch(
        "2",
        concat!(
            "{\"lamport\":1,\"seq\":1,\"replica\":\"a\"}\n",
            "{\"replica\":\"b\",\"seq\":1,\"lamport\":2}\n",
            "{\"replica\":\"b\",\"seq\":1,\"lamport\":3}\n",
        ),
    ));
    assert_eq!(a.events, 2..2);
    assert_eq!(a.duplicates, 1);
    assert_eq!(a.conflicting, [1]);
    // Another differing copy of b@1: already flagged, so not again.
    let a = t.append(batch("3", "{\"replica\":\"b\",\"seq\":1,\"lamport\":4}\n"));
    assert_eq!((a.duplicates, a.conflicting.len()), (0, 0));
    assert_eq!(t.conflicting_duplicates(), [1]);
    assert_eq!(t.duplicates(), 1);
    assert_eq!(t.to_event(1).lamport, Some(1), "the first copy is kept");
}

#[test]
fn every_copy_in_a_batch_is_compared_with_the_first_copy_ever_read() {
    let first = "{\"replica\":\"a\",\"seq\":1,\"lamport\":1}\n";
    let other = "{\"replica\":\"a\",\"seq\":1,\"lamport\":2}\n";
    // Inside the batch the second copy is identical to the first; both differ from the trace's.
    let mut t = Trace::default();
    t.append(batch("1", first));
    let b = batch("2", &format!("{other}{other}{first}"));
    assert_eq!((b.duplicates(), b.conflicting_duplicates()), (1, &[0][..]));
    let a = t.append(b);
    assert_eq!(a.conflicting, [0]);
    assert_eq!(a.duplicates, 1, "only the last copy equals the kept one");
    let whole = Trace::from_ndjson_str("w", &format!("{first}{other}{other}{first}"), &opts(false))
        .unwrap();
    assert_eq!(
        (t.duplicates(), t.conflicting_duplicates()),
        (whole.duplicates(), whole.conflicting_duplicates())
    );
}

#[test]
fn a_replica_named_only_in_a_clock_or_parents_is_interned() {
    let mut t = Trace::default();
    t.append(batch(
        "1",
        "{\"replica\":\"a\",\"seq\":1,\"vc\":{\"a\":1}}\n",
    ));
    let a = t.append(batch(
        "2",
        "{\"replica\":\"b\",\"seq\":1,\"vc\":{\"newcomer\":3,\"a\":1,\"b\":1},\"parents\":[[\"elder\",2]]}\n",
    ));
    let added: BTreeSet<&str> = a.names.clone().map(|q| t.names().resolve(q)).collect();
    assert_eq!(added, BTreeSet::from(["b", "newcomer", "elder"]));
    let e = t.to_event(1);
    let vc = e.vc.unwrap();
    assert_eq!((vc["newcomer"], vc["a"], vc["b"]), (3, 1, 1));
    assert_eq!(e.parents.unwrap()[0].to_string(), "elder@2");
    let newcomer = t.names().get("newcomer").unwrap();
    assert!(t.vc(&t.events()[1]).any(|(q, v)| q == newcomer && v == 3));
    assert_eq!(t.find(newcomer, 3), None, "named, but no event of its own");
}

#[test]
fn clock_entries_are_re_encoded_in_the_order_of_the_trace_s_name_ids() {
    // The trace interns c, b, a in that order; the batch a, b, c.
    let mut t = Trace::default();
    t.append(batch(
        "1",
        "{\"replica\":\"c\",\"seq\":1}\n{\"replica\":\"b\",\"seq\":1}\n{\"replica\":\"a\",\"seq\":1}\n",
    ));
    let [a, b, c] = ["a", "b", "c"].map(|n| t.names().get(n).unwrap());
    assert!(c < b && b < a);
    let x = batch(
        "2",
        "{\"replica\":\"a\",\"seq\":2,\"vc\":{\"a\":2,\"b\":1,\"c\":1,\"d\":0}}\n",
    );
    let ids = |t: &Trace, i: usize| t.vc(&t.events()[i]).collect::<Vec<_>>();
    let [xa, xb, xc] = ["a", "b", "c"].map(|n| x.names().get(n).unwrap());
    assert_eq!(
        ids(&x, 0),
        [(xa, 2), (xb, 1), (xc, 1)],
        "the batch's own order"
    );
    t.append(x);
    // Sorted by this trace's ids, zero entries still left out.
    assert_eq!(ids(&t, 3), [(c, 1), (b, 1), (a, 2)]);
    assert_eq!(
        t.to_event(3).vc.unwrap().into_iter().collect::<Vec<_>>(),
        [
            ("a".to_string(), 2),
            ("b".to_string(), 1),
            ("c".to_string(), 1)
        ]
    );
}

#[test]
fn find_looks_ids_up() {
    let mut t = Trace::default();
    t.append(batch(
        "1",
        "{\"replica\":\"a\",\"seq\":1}\n{\"replica\":\"a\",\"seq\":7}\n",
    ));
    t.append(batch(
        "2",
        "{\"replica\":\"b\",\"seq\":7}\n{\"replica\":\"a\",\"seq\":7}\n",
    ));
    let a = t.names().get("a").unwrap();
    assert_eq!(t.find(a, 7), Some(1));
    assert_eq!(t.find_name("b", 7), Some(2));
    assert_eq!(t.find(a, 2), None);
    assert_eq!(t.find_name("c", 1), None);
}

#[test]
fn the_id_index_costs_at_most_12_bytes_an_event() {
    let mut t = Trace::default();
    for b in 0..20u64 {
        let text: String = (1..=5_000u64)
            .map(|s| {
                format!(
                    "{{\"replica\":\"r{}\",\"seq\":{}}}\n",
                    s % 16,
                    b * 5_000 + s
                )
            })
            .collect();
        t.append(batch(&b.to_string(), &text));
    }
    assert_eq!(t.len(), 100_000);
    let per_event = t.id_index_bytes() as f64 / t.len() as f64;
    assert!(per_event <= 12.0, "{per_event} bytes an event");
    // The last batch's event 4,987: seq 19 × 5,000 + 4,987, replica r(4,987 mod 16).
    assert_eq!(t.find_name("r11", 99_987), Some(99_986));
    assert_eq!(t.find_name("r12", 99_987), None);
}

#[test]
fn dense_seqs_cost_about_4_bytes_an_event_and_far_ones_stay_findable() {
    // 16 replicas numbering 1, 2, 3, … (the spec's usual case), then each replica's events
    // far past its others (u64::MAX among them): the dense ones in runs, the far ones hashed.
    let mut t = Trace::default();
    for b in 0..10u64 {
        let text: String = (0..10_000u64)
            .map(|k| {
                let i = b * 10_000 + k;
                format!("{{\"replica\":\"r{}\",\"seq\":{}}}\n", i % 16, i / 16 + 1)
            })
            .collect();
        t.append(batch(&b.to_string(), &text));
    }
    assert_eq!(t.len(), 100_000);
    let per_event = t.id_index_bytes() as f64 / t.len() as f64;
    assert!(per_event <= 8.5, "{per_event} bytes an event");
    let far = [1_000_000_000u64, u64::MAX - 1, u64::MAX];
    let text: String = far
        .iter()
        .map(|s| format!("{{\"replica\":\"r3\",\"seq\":{s}}}\n"))
        .collect();
    t.append(batch("far", &text));
    assert_eq!(t.len(), 100_003);
    assert_eq!(t.find_name("r3", 6_250), Some(99_987));
    for (k, s) in far.iter().enumerate() {
        assert_eq!(t.find_name("r3", *s), Some(100_000 + k));
    }
    assert_eq!(t.find_name("r3", 6_251), None);
    assert_eq!(t.find_name("r3", 999_999_999), None);
    // Copies of far and dense ids are duplicates, not new events.
    let again =
        "{\"replica\":\"r3\",\"seq\":18446744073709551615}\n{\"replica\":\"r3\",\"seq\":1}\n";
    t.append(batch("again", again));
    assert_eq!(t.len(), 100_003);
    assert_eq!(t.duplicates(), 2);
}

#[test]
fn read_at_continues_line_numbers_and_the_header_rule() {
    let parts = [
        "\n",
        "{\"format\":\"weft-trace/1\"}\n{\"replica\":\"a\",\"seq\":1}\n",
        "oops\n{\"format\":\"weft-trace/1\"}\n",
    ];
    for threads in [1, 4] {
        let mut pos = LinePos::default();
        let mut t = Trace::default();
        for p in parts {
            let mut b = TraceBuilder::new(opts(true)).threads(threads);
            b.read_at("s", &mut pos, p.as_bytes()).unwrap();
            t.append(b.finish_batch());
            if p == "\n" {
                assert_eq!(
                    pos,
                    LinePos {
                        line: 1,
                        past_start: false
                    },
                    "{threads} threads"
                );
            }
        }
        assert_eq!(
            pos,
            LinePos {
                line: 5,
                past_start: true
            }
        );
        assert_eq!(
            t.headers().len(),
            1,
            "a header after blank lines only is accepted"
        );
        let m: Vec<String> = t.malformed().iter().map(|m| m.to_string()).collect();
        assert_eq!(
            m,
            [
                "s:4:1: invalid JSON: expected value",
                "s:5: a header line (one with `format`) may only be the first line",
            ],
            "{threads} threads"
        );
    }
}
