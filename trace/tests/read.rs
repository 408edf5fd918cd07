//! Reader tests: every rule of the field table gives a located, named error; the parallel
//! block reader gives exactly what the line-by-line reader gives.

use std::io::Write;

use weft_trace::{Crdt, ReadError, ReadOptions, Trace, TraceBuilder};

fn strict(text: &str) -> Result<Trace, ReadError> {
    Trace::from_ndjson_str("t.jsonl", text, &ReadOptions::default())
}

fn err(text: &str) -> String {
    match strict(text) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_lines_name_file_line_and_reason() {
    let ok = r#"{"replica":"a","seq":1}"#;
    let cases = [
        (r#"{"replica":"a","seq":0}"#, "t.jsonl:2: field `seq`: must be an integer ≥ 1, got 0"),
        (r#"{"replica":"a","seq":1.5}"#, "t.jsonl:2: field `seq`: must be an integer ≥ 1, got 1.5"),
        (r#"{"replica":"a","seq":"3"}"#, "t.jsonl:2: field `seq`: must be an integer ≥ 1, got the string \"3\""),
        (r#"{"seq":2}"#, "t.jsonl:2: missing field `replica`"),
        (r#"{"replica":"a"}"#, "t.jsonl:2: missing field `seq`"),
        (r#"{"replica":"","seq":2}"#, "t.jsonl:2: field `replica`: must be a string of 1 to 256 bytes, got 0 bytes"),
        (r#"{"replica":"a","seq":2,"kind":"merge"}"#, "t.jsonl:2: field `kind`: unknown kind \"merge\" (expected write, read, send, recv or local)"),
        (r#"{"replica":"a","seq":2,"kind":"send"}"#, "t.jsonl:2: a `send` needs a `msg` field"),
        (r#"{"replica":"a","seq":2,"kind":"write"}"#, "t.jsonl:2: a `write` needs a `key` field"),
        (r#"{"replica":"a","seq":2,"vc":{"a":-1}}"#, "t.jsonl:2: field `vc`: must be an integer ≥ 0, got -1 (entry \"a\")"),
        (r#"{"replica":"a","seq":2,"vc":[1]}"#, "t.jsonl:2: field `vc`: must be an object, got an array"),
        (r#"{"replica":"a","seq":2,"lamport":-3}"#, "t.jsonl:2: field `lamport`: must be an integer ≥ 0, got -3"),
        (r#"{"replica":"a","seq":2,"op":"mul","kind":"write","key":"k"}"#, "t.jsonl:2: field `op`: unknown op \"mul\" (expected set, inc, add or remove)"),
        (r#"{"replica":"a","seq":2,"parents":[["b"]]}"#, "t.jsonl:2: field `parents`: entry 0: got 1 elements (expected [replica, seq])"),
        (r#"{"replica":"a","seq":2,"kind":"write","key":"k","crdt":"register"}"#, "t.jsonl:2: field `crdt`: unknown type \"register\" (expected lww, mv, counter or set)"),
        (r#"{"replica":"a","seq":2,"crdt":7,"kind":"read","key":"k"}"#, "t.jsonl:2: field `crdt`: must be a string, got a number (expected lww, mv, counter or set)"),
        (r#"{"replica":"a","seq":2,"attrs":3}"#, "t.jsonl:2: field `attrs`: must be an object, got a number"),
        (r#"{"replica":"a","seq":2,"seq":3}"#, "t.jsonl:2: field `seq` appears twice"),
        (r#"{"replica":"a","seq":2,"x":1,"x":1}"#, "t.jsonl:2: field `x` appears twice"),
        (r#"{"replica":"a","seq":2,"vc":{"a":1,"a":2}}"#, "t.jsonl:2: field `vc`: replica \"a\" appears twice"),
        (r#"[1,2]"#, "t.jsonl:2: not a JSON object (got an array)"),
        (r#"{"replica":"a","seq":2"#, "t.jsonl:2:22: invalid JSON: EOF while parsing an object"),
        (r#"{"replica":"a",,}"#, "t.jsonl:2:16: invalid JSON: key must be a string"),
        (r#"{"format":"weft-trace/1"}"#, "t.jsonl:2: a header line (one with `format`) may only be the first line"),
    ];
    for (line, want) in cases {
        let got = err(&format!("{ok}\n{line}\n"));
        assert_eq!(got, want, "for line {line}");
    }
    assert_eq!(
        err("{\"format\":\"weft-trace/2\"}\n"),
        "t.jsonl:1: unsupported format \"weft-trace/2\" (this weft reads \"weft-trace/1\")"
    );
}

#[test]
fn crdt_is_kept_on_writes_and_reads_and_ignored_elsewhere() {
    let t = strict(concat!(
        r#"{"replica":"a","seq":1,"kind":"write","key":"k","op":"inc","value":2,"crdt":"counter"}"#,
        "\n",
        r#"{"replica":"a","seq":2,"kind":"read","key":"k","value":2,"crdt":"counter"}"#,
        "\n",
        r#"{"replica":"a","seq":3,"kind":"send","msg":"m","crdt":"bogus"}"#,
        "\n",
        r#"{"replica":"a","seq":4,"crdt":{"x":1}}"#,
        "\n",
        r#"{"replica":"a","seq":5,"kind":"read","key":"k","crdt":null}"#,
        "\n",
    ))
    .unwrap();
    let crdt: Vec<_> = t.events().iter().map(|e| e.crdt).collect();
    assert_eq!(
        crdt,
        [Some(Crdt::Counter), Some(Crdt::Counter), None, None, None]
    );
    assert_eq!(t.to_event(0).crdt, Some(Crdt::Counter));
    let line = serde_json::to_string(&t.to_event(1)).unwrap();
    assert!(line.contains(r#""crdt":"counter""#), "{line}");
}

#[test]
fn an_explicit_null_value_is_kept_and_a_missing_one_is_not() {
    let t = strict(concat!(
        r#"{"replica":"a","seq":1,"kind":"read","key":"k","value":null}"#,
        "\n",
        r#"{"replica":"a","seq":2,"kind":"read","key":"k"}"#,
        "\n",
    ))
    .unwrap();
    let e = t.events();
    assert_eq!(t.value(&e[0]), Some(&serde_json::Value::Null));
    assert_eq!(t.value(&e[1]), None);
    // The owned model round-trips the difference.
    let line = serde_json::to_string(&t.to_event(0)).unwrap();
    assert!(line.contains(r#""value":null"#), "{line}");
    let back: weft_trace::Event = serde_json::from_str(&line).unwrap();
    assert_eq!(back.value, Some(serde_json::Value::Null));
    let back: weft_trace::Event =
        serde_json::from_str(&serde_json::to_string(&t.to_event(1)).unwrap()).unwrap();
    assert_eq!(back.value, None);
}

#[test]
fn empty_inputs_are_errors() {
    for text in ["", "\n\n  \n", "{\"format\":\"weft-trace/1\"}\n"] {
        assert_eq!(
            err(text),
            "t.jsonl: the trace has no events",
            "for {text:?}"
        );
    }
}

#[test]
fn nulls_are_absent_and_crlf_and_unknown_fields_are_accepted() {
    let t = strict("{\"replica\":\"a\",\"seq\":1,\"lamport\":null,\"x\":{\"y\":[1]}}\r\n").unwrap();
    assert_eq!(t.events()[0].lamport(), None);
    assert_eq!(t.len(), 1);
}

#[test]
fn duplicates_equal_as_json_values_are_merged_others_flagged() {
    let text = concat!(
        "{\"replica\":\"a\",\"seq\":1,\"value\":{\"x\":1,\"y\":2},\"vc\":{\"a\":1}}\n",
        "{\"vc\":{\"a\":1},\"value\":{\"y\":2,\"x\":1},  \"seq\":1,\"replica\":\"a\"}\n",
        "{\"replica\":\"a\",\"seq\":1,\"value\":{\"x\":1,\"y\":3},\"vc\":{\"a\":1}}\n",
        "{\"replica\":\"a\",\"seq\":1,\"value\":{\"x\":1,\"y\":4},\"vc\":{\"a\":1}}\n",
        "{\"replica\":\"a\",\"seq\":1,\"value\":{\"x\":1.0,\"y\":2},\"vc\":{\"a\":1}}\n",
    );
    let t = strict(text).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t.duplicates(), 1);
    assert_eq!(t.conflicting_duplicates(), &[0]);
    assert_eq!(
        t.value(&t.events()[0]).unwrap()["y"],
        2,
        "the first copy is kept"
    );
}

#[test]
fn too_long_lines_are_malformed_without_being_buffered() {
    let long = format!(
        "{{\"replica\":\"a\",\"seq\":2,\"value\":\"{}\"}}",
        "x".repeat(5000)
    );
    let text =
        format!("{{\"replica\":\"a\",\"seq\":1}}\n{long}\n{{\"replica\":\"a\",\"seq\":3}}\n");
    for threads in [1, 3] {
        let mut b = TraceBuilder::new(ReadOptions {
            lenient: true,
            max_line_bytes: 1000,
        })
        .threads(threads);
        b.read("t.jsonl", text.as_bytes()).unwrap();
        let t = b.finish().unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.malformed().len(), 1);
        assert_eq!(
            t.malformed()[0].to_string(),
            "t.jsonl:2: line longer than 1000 bytes"
        );
    }
}

/// A few megabytes of lines with every kind of line, so that block boundaries fall everywhere.
fn messy_input() -> String {
    let mut s = String::from("{\"format\":\"weft-trace/1\",\"name\":\"messy\"}\n");
    let mut x: u64 = 0x9e37_79b9;
    for i in 0..40_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let r = format!("r{}", x % 7);
        let seq = 1 + x % 5000;
        match x % 23 {
            0 => s.push_str("not json\n"),
            1 => s.push('\n'),
            2 => s.push_str(&format!("{{\"replica\":\"{r}\",\"seq\":0}}\n")),
            3 => s.push_str(&format!("{{\"replica\":\"{r}\",\"seq\":{seq},\"value\":{}}}\n", x % 3)),
            _ => s.push_str(&format!(
                "{{\"replica\":\"{r}\",\"seq\":{seq},\"kind\":\"write\",\"key\":\"k{}\",\"vc\":{{\"{r}\":{seq},\"r9\":{i}}},\"value\":{}}}\n",
                x % 11,
                x % 2
            )),
        }
    }
    s
}

#[test]
fn parallel_reading_equals_line_by_line_reading() {
    let text = messy_input();
    let read = |threads: usize| {
        let mut b = TraceBuilder::new(ReadOptions {
            lenient: true,
            ..ReadOptions::default()
        })
        .threads(threads);
        b.read("m.jsonl", text.as_bytes()).unwrap();
        b.finish().unwrap()
    };
    let (one, many) = (read(1), read(4));
    assert!(one.len() > 1000 && !one.malformed().is_empty() && one.duplicates() > 0);
    assert_eq!(one.len(), many.len());
    assert_eq!(one.duplicates(), many.duplicates());
    assert_eq!(one.malformed(), many.malformed());
    assert_eq!(one.headers(), many.headers());
    let ids = |t: &Trace| (0..t.len()).map(|i| t.to_event(i)).collect::<Vec<_>>();
    assert_eq!(ids(&one), ids(&many));
    let flagged = |t: &Trace| {
        t.conflicting_duplicates()
            .iter()
            .map(|&i| t.id(i as usize))
            .collect::<Vec<_>>()
    };
    assert_eq!(flagged(&one), flagged(&many));
}

#[test]
fn strict_mode_reports_the_first_malformed_line_wherever_it_is() {
    let mut text = String::new();
    for i in 1..=30_000 {
        text.push_str(&format!("{{\"replica\":\"a\",\"seq\":{i}}}\n"));
    }
    text.push_str("{\"replica\":\"a\"}\n");
    text.push_str("oops\n");
    let mut b = TraceBuilder::new(ReadOptions::default()).threads(4);
    let e = b.read("big.jsonl", text.as_bytes()).unwrap_err();
    assert_eq!(e.to_string(), "big.jsonl:30001: missing field `seq`");
}

#[test]
fn gzip_files_and_directories_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(dir.path().join("b.jsonl.gz")).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(b"{\"replica\":\"b\",\"seq\":1}\n").unwrap();
    gz.finish().unwrap();
    std::fs::write(
        dir.path().join("a.jsonl"),
        "{\"replica\":\"a\",\"seq\":1}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a trace").unwrap();
    let inputs = weft_trace::expand_inputs(&[dir.path()]).unwrap();
    assert_eq!(inputs.len(), 2);
    let t = Trace::read_inputs(&inputs, &ReadOptions::default()).unwrap();
    assert_eq!(
        (t.id(0).to_string(), t.id(1).to_string()),
        ("a@1".to_string(), "b@1".to_string())
    );
}

#[test]
fn written_events_read_back_identically() {
    let text = messy_input();
    let t = Trace::from_ndjson_str(
        "m",
        &text,
        &ReadOptions {
            lenient: true,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    let mut w = weft_trace::NdjsonWriter::new(Vec::new());
    for i in 0..t.len() {
        w.write(&t.to_event(i)).unwrap();
    }
    let back = String::from_utf8(w.finish().unwrap()).unwrap();
    let t2 = strict(&back).unwrap();
    assert_eq!(
        (0..t.len()).map(|i| t.to_event(i)).collect::<Vec<_>>(),
        (0..t2.len()).map(|i| t2.to_event(i)).collect::<Vec<_>>()
    );
}

#[test]
fn line_checker_fingerprints_are_stable_across_checkers() {
    use weft_trace::{CheckedLine, LineChecker};
    let a = br#"{"replica":"a","seq":3,"kind":"send","msg":"m1","vc":{"a":3,"b":1},"value":{"x":[1,2]}}"#;
    let b = br#"{"value":{"x":[1,2]},"vc":{"b":1,"a":3},"msg":"m1","kind":"send","seq":3,"replica":"a"}"#;
    let c = br#"{"replica":"a","seq":3,"kind":"send","msg":"m2","vc":{"a":3,"b":1},"value":{"x":[1,2]}}"#;
    let mut first = LineChecker::new();
    first
        .check(br#"{"replica":"zz","seq":1,"msg":"m2"}"#)
        .unwrap(); // shifts interned ids
    let fp = |checker: &mut LineChecker, line: &[u8]| match checker.check(line).unwrap() {
        CheckedLine::Event {
            replica,
            seq,
            fingerprint,
        } => {
            assert_eq!((replica.as_str(), seq), ("a", 3));
            fingerprint
        }
        other => panic!("{other:?}"),
    };
    let fa = fp(&mut first, a);
    let fb = fp(&mut LineChecker::new(), b);
    let fc = fp(&mut LineChecker::new(), c);
    assert_eq!(fa, fb);
    assert_ne!(fa, fc);
    assert_eq!(LineChecker::new().check(b"  ").unwrap(), CheckedLine::Blank);
    assert_eq!(
        LineChecker::new()
            .check(br#"{"format":"weft-trace/1"}"#)
            .unwrap(),
        CheckedLine::Header
    );
    let e = LineChecker::new()
        .check(br#"{"replica":"a","seq":-1}"#)
        .unwrap_err();
    assert_eq!(e.reason, "field `seq`: must be an integer ≥ 1, got -1");
}

const HEADER: &str = "{\"format\":\"weft-trace/1\",\"name\":\"weft collector\",\"segment\":1}\n";

fn ev(replica: &str, seq: u64) -> String {
    format!("{{\"replica\":\"{replica}\",\"seq\":{seq}}}\n")
}

fn read_dir(dir: &std::path::Path) -> Result<Trace, ReadError> {
    let inputs = weft_trace::expand_inputs(&[dir]).unwrap();
    Trace::read_inputs(&inputs, &ReadOptions::default())
}

#[test]
fn an_unfinished_tail_of_a_collectors_last_segment_is_left_out_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let seg = |n: u32| dir.path().join(format!("segment-{n:06}.jsonl"));
    std::fs::write(seg(1), format!("{HEADER}{}{}", ev("a", 1), ev("a", 2))).unwrap();
    let torn = "{\"replica\":\"b\",\"se";
    std::fs::write(seg(2), format!("{HEADER}{}{torn}", ev("b", 1))).unwrap();
    let inputs = weft_trace::expand_inputs(&[dir.path()]).unwrap();
    assert_eq!(
        inputs,
        vec![
            weft_trace::Input::File(seg(1)),
            weft_trace::Input::LastSegment(seg(2))
        ]
    );
    let t = read_dir(dir.path()).unwrap();
    assert_eq!(t.len(), 3);
    assert!(t.malformed().is_empty());
    let name = seg(2).display().to_string();
    assert_eq!(
        t.in_flight(),
        [weft_trace::InFlight {
            source: name.clone(),
            bytes: torn.len() as u64
        }]
    );
    assert_eq!(
        t.in_flight()[0].to_string(),
        format!(
            "{name}: 18 bytes at the end ignored as in flight (not yet committed by the collector)"
        )
    );

    // A line without its newline is in flight even when it parses: the collector writes the
    // newline with the line, so its end may not be written yet.
    std::fs::write(
        seg(2),
        format!("{HEADER}{}{}", ev("b", 1), ev("b", 2).trim_end()),
    )
    .unwrap();
    let t = read_dir(dir.path()).unwrap();
    assert_eq!(t.len(), 3);
    assert_eq!(t.in_flight()[0].bytes, ev("b", 2).len() as u64 - 1);

    // A segment just created: only part of its header is written.
    std::fs::write(seg(3), &HEADER[..10]).unwrap();
    let t = read_dir(dir.path()).unwrap();
    assert_eq!(
        t.len(),
        4,
        "segment 2 is now read whole, its last line included"
    );
    assert_eq!(
        t.in_flight(),
        [weft_trace::InFlight {
            source: seg(3).display().to_string(),
            bytes: 10
        }]
    );

    // A complete last segment: nothing in flight. Also in lenient mode nothing is malformed.
    std::fs::write(seg(3), format!("{HEADER}{}", ev("c", 1))).unwrap();
    let t = Trace::read_inputs(
        &weft_trace::expand_inputs(&[dir.path()]).unwrap(),
        &ReadOptions {
            lenient: true,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        (t.len(), t.in_flight().len(), t.malformed().len()),
        (5, 0, 0)
    );
}

#[test]
fn a_torn_line_elsewhere_is_still_malformed_and_an_unterminated_valid_last_line_still_read() {
    let torn = "{\"replica\":\"b\",\"se";
    // In a segment that is not the last one: corruption, not a write in progress.
    let dir = tempfile::tempdir().unwrap();
    let seg = |n: u32| dir.path().join(format!("segment-{n:06}.jsonl"));
    std::fs::write(seg(1), format!("{HEADER}{}{torn}", ev("a", 1))).unwrap();
    std::fs::write(seg(2), format!("{HEADER}{}", ev("b", 1))).unwrap();
    assert_eq!(
        read_dir(dir.path()).unwrap_err().to_string(),
        format!(
            "{}:3:18: invalid JSON: EOF while parsing a string",
            seg(1).display()
        )
    );

    // In an ordinary trace file, alone or in a directory without segments.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trace.jsonl");
    std::fs::write(&file, format!("{}{torn}", ev("a", 1))).unwrap();
    let want = format!(
        "{}:2:18: invalid JSON: EOF while parsing a string",
        file.display()
    );
    assert_eq!(read_dir(dir.path()).unwrap_err().to_string(), want);
    assert_eq!(read_dir(&file).unwrap_err().to_string(), want);

    // A valid last line without a newline is an event there, as always.
    std::fs::write(&file, format!("{}{}", ev("a", 1), ev("a", 2).trim_end())).unwrap();
    let t = read_dir(dir.path()).unwrap();
    assert_eq!((t.len(), t.in_flight().len()), (2, 0));
}

#[test]
fn the_last_segment_is_the_highest_number_and_only_in_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "segment-999999.jsonl",
        "segment-1000000.jsonl",
        "segment-x.jsonl",
        "segment-+7.jsonl",
        "other.jsonl",
    ] {
        std::fs::write(dir.path().join(name), ev("a", 1)).unwrap();
    }
    let inputs = weft_trace::expand_inputs(&[dir.path()]).unwrap();
    let last: Vec<_> = inputs
        .iter()
        .filter(|i| matches!(i, weft_trace::Input::LastSegment(_)))
        .map(|i| i.name())
        .collect();
    assert_eq!(
        last,
        [dir.path()
            .join("segment-1000000.jsonl")
            .display()
            .to_string()]
    );
    assert_eq!(inputs.len(), 5);
    // Named on its own, a segment is an ordinary file.
    let one = dir.path().join("segment-1000000.jsonl");
    assert_eq!(
        weft_trace::expand_inputs(&[&one]).unwrap(),
        [weft_trace::Input::File(one.clone())]
    );
}

#[test]
fn files_are_read_up_to_the_length_they_had_when_opened() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("segment-000001.jsonl");
    let first = format!("{HEADER}{}", ev("a", 1));
    std::fs::write(&file, format!("{first}{{\"replica\":\"a\"")).unwrap();
    for input in [
        weft_trace::Input::File(file.clone()),
        weft_trace::Input::LastSegment(file.clone()),
    ] {
        std::fs::write(&file, format!("{first}{{\"replica\":\"a\"")).unwrap();
        let mut opened = input.open_measured().unwrap();
        // The file grows after it was opened: the rest of the line and a whole new one.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap();
        f.write_all(format!(",\"seq\":2}}\n{}", ev("a", 3)).as_bytes())
            .unwrap();
        let mut got = String::new();
        opened.reader.read_to_string(&mut got).unwrap();
        match input {
            weft_trace::Input::LastSegment(_) => {
                assert_eq!(got, first);
                assert_eq!(opened.in_flight, "{\"replica\":\"a\"".len() as u64);
            }
            _ => {
                assert_eq!(got, format!("{first}{{\"replica\":\"a\""));
                assert_eq!(opened.in_flight, 0);
            }
        }
    }
    // A file that gets shorter than measured is an error, never a line cut short.
    std::fs::write(&file, format!("{first}{}", ev("a", 2))).unwrap();
    for input in [
        weft_trace::Input::File(file.clone()),
        weft_trace::Input::LastSegment(file.clone()),
    ] {
        std::fs::write(&file, format!("{first}{}", ev("a", 2))).unwrap();
        let mut opened = input.open_measured().unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&file)
            .unwrap()
            .set_len(first.len() as u64 + 5)
            .unwrap();
        let mut got = String::new();
        let e = opened.reader.read_to_string(&mut got).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}");
        assert!(e.to_string().contains("got shorter"), "{e}");
    }
}

#[test]
fn only_what_the_collector_committed_is_read_of_its_last_segment() {
    use weft_trace::collector_dir::{commit_line, LOCK_FILE};
    let dir = tempfile::tempdir().unwrap();
    let seg = dir.path().join("segment-000001.jsonl");
    let durable = format!("{HEADER}{}{}", ev("a", 1), ev("a", 2));
    // Two more whole lines are written but not yet synced (they could still be cut back).
    std::fs::write(&seg, format!("{durable}{}{}", ev("a", 3), ev("b", 1))).unwrap();
    let lock = dir.path().join(LOCK_FILE);
    let marker = |name: &str, bytes: u64| format!("77\n{}\n", commit_line(name, bytes));
    std::fs::write(&lock, marker("segment-000001.jsonl", durable.len() as u64)).unwrap();
    let t = read_dir(dir.path()).unwrap();
    assert_eq!(t.len(), 2);
    let uncommitted = (ev("a", 3).len() + ev("b", 1).len()) as u64;
    assert_eq!(t.in_flight()[0].bytes, uncommitted);

    // A marker that names another segment, is torn, or claims more than the file holds is not
    // trusted: the last newline rule applies.
    for text in [
        marker("segment-000002.jsonl", 10),
        marker("segment-000001.jsonl", durable.len() as u64).replacen('0', "1", 1)[..40]
            .to_string(),
        marker("segment-000001.jsonl", 1 << 40),
    ] {
        std::fs::write(&lock, text).unwrap();
        let t = read_dir(dir.path()).unwrap();
        assert_eq!(t.len(), 4);
        assert!(t.in_flight().is_empty());
    }
}

#[test]
fn a_clock_naming_several_replicas_twice_names_the_same_one_whatever_was_read_before() {
    let bad = r#"{"replica":"z","seq":1,"vc":{"c":1,"b":1,"c":2,"b":2}}"#;
    // "c" is interned before "b" on the bad line itself, or "b" before "c" by an earlier line.
    for before in [
        r#"{"replica":"a","seq":1}"#,
        r#"{"replica":"b","seq":1,"vc":{"c":1}}"#,
    ] {
        assert_eq!(
            err(&format!("{before}\n{bad}\n")),
            "t.jsonl:2: field `vc`: replica \"b\" appears twice",
            "after {before}"
        );
    }
}
