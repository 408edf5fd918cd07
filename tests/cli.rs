//! End-to-end tests of the `weft` binary: exit statuses, input errors, `--lenient`, the kinds of
//! input (files, directories, gzip, stdin, several files), and the three output forms, checked
//! against `shared/spec/trace-format.md` §6. Traces are small and written inline.

mod common;

use common::cli::{weft_cmd, Out};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn finish(out: std::process::Output) -> Out {
    Out {
        code: out.status.code().expect("weft exited by a signal"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// A path as a command-line argument (temp paths are UTF-8).
fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// Runs `weft ARGS...` with stdin closed.
fn weft(args: &[&str]) -> Out {
    finish(
        weft_cmd()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run weft"),
    )
}

/// Runs `weft check ARGS...` with stdin closed.
fn check(args: &[&str]) -> Out {
    let mut cmd = weft_cmd();
    cmd.arg("check").args(args).stdin(Stdio::null());
    finish(cmd.output().expect("run weft"))
}

/// Runs `weft check ARGS...` with `input` on stdin.
fn check_stdin(args: &[&str], input: &str) -> Out {
    let mut child = weft_cmd()
        .arg("check")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn weft");
    let mut stdin = child.stdin.take().expect("stdin");
    // weft may stop reading early (on an input error): a broken pipe here is fine.
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    finish(child.wait_with_output().expect("wait for weft"))
}

/// Writes `text` to `dir/name` and returns the path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    write_bytes(dir, name, text.as_bytes())
}

fn write_bytes(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write temp file");
    p
}

fn tmp() -> TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// A temp dir holding one trace file named `name`.
fn trace_file(name: &str, text: &str) -> (TempDir, PathBuf) {
    let d = tmp();
    let p = write(d.path(), name, text);
    (d, p)
}

/// The single JSON object printed by `--format json` (fails unless stdout is exactly one).
fn report(out: &Out) -> Value {
    let values: Vec<Value> = serde_json::Deserializer::from_str(&out.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {out:?}"));
    assert_eq!(
        values.len(),
        1,
        "expected exactly one JSON value on stdout: {out:?}"
    );
    let v = values.into_iter().next().unwrap();
    assert!(v.is_object(), "the report is not an object: {v}");
    v
}

/// `["r", 4]` → `r@4`; `null` → `null`.
fn id(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Array(a) if a.len() == 2 => {
            format!(
                "{}@{}",
                a[0].as_str().expect("replica string"),
                a[1].as_u64().expect("seq")
            )
        }
        other => panic!("not an event id: {other}"),
    }
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array().expect("array of ids").iter().map(id).collect()
}

/// `EVENT CODE` of every violation, in report order (`null CODE` for `event: null`).
fn violation_keys(r: &Value) -> Vec<String> {
    r["violations"]
        .as_array()
        .expect("violations array")
        .iter()
        .map(|v| format!("{} {}", id(&v["event"]), v["code"].as_str().expect("code")))
        .collect()
}

/// Asserts an input error: status 2, nothing on stdout, and a first stderr line that starts
/// with `prefix` followed by a non-empty reason.
#[track_caller]
fn assert_input_error(out: &Out, prefix: &str) {
    assert_eq!(out.code, 2, "exit status: {out:?}");
    assert!(
        out.stdout.is_empty(),
        "stdout must be empty on an input error: {out:?}"
    );
    let first = out.stderr.lines().next().unwrap_or_default();
    let reason = first.strip_prefix(prefix);
    assert!(
        reason.is_some_and(|r| !r.trim().is_empty()),
        "stderr should start with {prefix:?} and a reason: {out:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Traces
// ---------------------------------------------------------------------------------------------

/// No findings at all: a header, a message, consistent vector clocks and Lamport timestamps.
const CLEAN: &str = r#"{"format":"weft-trace/1","name":"clean","seed":7}
{"replica":"a","seq":1,"kind":"write","key":"k","value":1,"lamport":1,"vc":{"a":1}}
{"replica":"a","seq":2,"kind":"send","msg":"m1","lamport":2,"vc":{"a":2}}
{"replica":"b","seq":1,"kind":"recv","msg":"m1","lamport":3,"vc":{"a":2,"b":1}}

{"replica":"b","seq":2,"kind":"write","key":"k","value":2,"lamport":4,"vc":{"a":2,"b":2}}
"#;

/// Only a `seq-gap` warning (a@3 follows a@1).
const GAP_ONLY: &str = r#"{"replica":"a","seq":1}
{"replica":"a","seq":3}
"#;

/// Only a conflict: two concurrent writes of `k`.
const CONFLICT_ONLY: &str = r#"{"replica":"a","seq":1,"kind":"write","key":"k","value":1}
{"replica":"b","seq":1,"kind":"write","key":"k","value":2}
"#;

/// Only an error: an `unmatched-recv`.
const ERROR_ONLY: &str = r#"{"replica":"a","seq":1,"kind":"recv","msg":"nowhere"}
"#;

/// Every kind of finding, lines deliberately out of order, two malformed lines (line 3 and 11).
const RICH: &str = r#"{"format":"weft-trace/1","name":"rich"}
{"replica":"c","seq":2}
this is not json
{"replica":"c","seq":10}
{"replica":"b","seq":1}
{"replica":"b","seq":2,"parents":[["z",10],["y",1],["z",3]]}
{"replica":"a","seq":1,"lamport":5}
{"replica":"a","seq":2,"kind":"recv","msg":"ghost","lamport":3}
{"replica":"a","seq":4}
{"replica":"B","seq":2}
[]
{"replica":"p","seq":1,"kind":"write","key":"beta","value":1,"lamport":1}
{"replica":"q","seq":1,"kind":"write","key":"beta","value":2,"lamport":2}
{"replica":"q","seq":2,"kind":"write","key":"alpha","value":1}
{"replica":"p","seq":2,"kind":"write","key":"alpha","value":2}
{"replica":"p","seq":3,"kind":"write","key":"tags","op":"add","value":"x"}
{"replica":"q","seq":3,"kind":"write","key":"tags","op":"remove","value":"x"}
{"replica":"p","seq":4,"kind":"write","key":"tags","op":"add","value":"a"}
{"replica":"q","seq":4,"kind":"write","key":"tags","op":"remove","value":"a"}
{"replica":"x3","seq":1,"kind":"write","key":"gamma","value":3}
{"replica":"x1","seq":1,"kind":"write","key":"gamma","value":1}
{"replica":"x2","seq":1,"kind":"write","key":"gamma","value":2}
"#;

// ---------------------------------------------------------------------------------------------
// Exit status
// ---------------------------------------------------------------------------------------------

#[test]
fn exit_0_for_a_clean_trace_at_every_level() {
    let (_d, f) = trace_file("clean.jsonl", CLEAN);
    for level in [None, Some("error"), Some("warning"), Some("conflict")] {
        let mut args = vec![s(&f)];
        if let Some(l) = level {
            args.extend(["--fail-on", l]);
        }
        let out = check(&args);
        assert_eq!(out.code, 0, "--fail-on {level:?}: {out:?}");
        assert!(out.stderr.is_empty(), "{out:?}");
    }
}

#[test]
fn exit_1_for_errors_at_every_level() {
    let (_d, f) = trace_file("err.jsonl", ERROR_ONLY);
    assert_eq!(check(&[s(&f)]).code, 1, "default --fail-on is error");
    for level in ["error", "warning", "conflict"] {
        let out = check(&[s(&f), "--fail-on", level]);
        assert_eq!(out.code, 1, "--fail-on {level}: {out:?}");
    }
}

#[test]
fn fail_on_warning_makes_a_seq_gap_fail() {
    let (_d, f) = trace_file("gap.jsonl", GAP_ONLY);
    let r = report(&check(&[s(&f), "--format", "json"]));
    assert_eq!(
        violation_keys(&r),
        ["a@3 seq-gap"],
        "the trace holds only a seq-gap warning"
    );
    assert_eq!(check(&[s(&f)]).code, 0, "warnings do not fail by default");
    assert_eq!(check(&[s(&f), "--fail-on", "error"]).code, 0);
    assert_eq!(check(&[s(&f), "--fail-on", "conflict"]).code, 0);
    assert_eq!(check(&[s(&f), "--fail-on", "warning"]).code, 1);
}

#[test]
fn fail_on_conflict_makes_a_conflict_fail() {
    let (_d, f) = trace_file("conflict.jsonl", CONFLICT_ONLY);
    let r = report(&check(&[s(&f), "--format", "json"]));
    assert_eq!(r["violations"], serde_json::json!([]));
    assert_eq!(r["summary"]["conflicts"], 1);
    assert_eq!(check(&[s(&f)]).code, 0, "conflicts do not fail by default");
    assert_eq!(check(&[s(&f), "--fail-on", "warning"]).code, 0);
    assert_eq!(check(&[s(&f), "--fail-on", "conflict"]).code, 1);
}

#[test]
fn usage_errors_exit_2_with_nothing_on_stdout() {
    let (_d, f) = trace_file("clean.jsonl", CLEAN);
    for args in [
        vec!["--format", "yaml"],
        vec!["--fail-on", "sometimes"],
        vec!["--no-such-flag"],
        vec!["--limit", "-3"],
    ] {
        let mut cmd = weft_cmd();
        cmd.arg("check").arg(&f).args(&args).stdin(Stdio::null());
        let out = finish(cmd.output().unwrap());
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
        assert!(!out.stderr.is_empty(), "{args:?}: {out:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Input errors
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_json_names_file_line_and_column() {
    // `}` where a value should be, at byte 23 of line 2.
    let (_d, f) = trace_file(
        "bad.jsonl",
        "{\"replica\":\"a\",\"seq\":1}\n{\"replica\":\"a\", \"seq\":}\n",
    );
    for format in ["text", "json", "junit"] {
        let out = check(&[s(&f), "--format", format]);
        assert_input_error(&out, &format!("{}:2:23: ", f.display()));
    }
}

#[test]
fn lines_breaking_a_rule_are_input_errors() {
    let long = format!(r#"{{"replica":"{}","seq":1}}"#, "r".repeat(257));
    let long_utf8 = format!(r#"{{"replica":"{}","seq":1}}"#, "é".repeat(129));
    let cases = [
        ("seq 0", r#"{"replica":"a","seq":0}"#),
        ("seq not an integer", r#"{"replica":"a","seq":1.5}"#),
        ("seq a string", r#"{"replica":"a","seq":"2"}"#),
        ("missing replica", r#"{"seq":1}"#),
        ("empty replica", r#"{"replica":"","seq":1}"#),
        (
            "send without msg",
            r#"{"replica":"a","seq":1,"kind":"send"}"#,
        ),
        (
            "recv without msg",
            r#"{"replica":"a","seq":1,"kind":"recv"}"#,
        ),
        (
            "write without key",
            r#"{"replica":"a","seq":1,"kind":"write","value":1}"#,
        ),
        (
            "unknown kind",
            r#"{"replica":"a","seq":1,"kind":"teleport"}"#,
        ),
        (
            "unknown op",
            r#"{"replica":"a","seq":1,"kind":"write","key":"k","op":"mul"}"#,
        ),
        (
            "negative vc entry",
            r#"{"replica":"a","seq":1,"vc":{"a":-1}}"#,
        ),
        (
            "negative lamport",
            r#"{"replica":"a","seq":1,"lamport":-1}"#,
        ),
        (
            "bad parents entry",
            r#"{"replica":"a","seq":1,"parents":[["b"]]}"#,
        ),
        (
            "parent with seq 0",
            r#"{"replica":"a","seq":1,"parents":[["b",0]]}"#,
        ),
        (
            "fractional vc entry",
            r#"{"replica":"a","seq":1,"vc":{"a":1.5}}"#,
        ),
        ("vc not an object", r#"{"replica":"a","seq":1,"vc":[1]}"#),
        ("kind not a string", r#"{"replica":"a","seq":1,"kind":3}"#),
        ("replica of 257 bytes", long.as_str()),
        ("replica of 258 bytes in 129 chars", long_utf8.as_str()),
        ("not an object: array", "[1,2]"),
        ("not an object: number", "42"),
        ("not an object: string", r#""event""#),
        ("not an object: null", "null"),
    ];
    let d = tmp();
    for (i, (what, line)) in cases.iter().enumerate() {
        let f = write(
            d.path(),
            &format!("case{i}.jsonl"),
            &format!("{{\"replica\":\"x\",\"seq\":1}}\n{line}\n"),
        );
        let out = check(&[s(&f)]);
        assert_eq!(out.code, 2, "{what}: {out:?}");
        assert!(
            out.stdout.is_empty(),
            "{what}: stdout must be empty: {out:?}"
        );
        let first = out.stderr.lines().next().unwrap_or_default();
        let prefix = format!("{}:2:", f.display());
        assert!(
            first.starts_with(&prefix),
            "{what}: stderr should name {prefix}: {out:?}"
        );
        let reason =
            first[prefix.len()..].trim_start_matches(|c: char| c.is_ascii_digit() || c == ':');
        assert!(
            reason.starts_with(' ') && !reason.trim().is_empty(),
            "{what}: no reason: {out:?}"
        );
    }
}

#[test]
fn lines_at_the_edge_of_the_rules_are_accepted() {
    let cases = [
        (
            "replica of 256 bytes",
            format!(r#"{{"replica":"{}","seq":1}}"#, "r".repeat(256)),
        ),
        (
            "replica of 256 bytes in 128 chars",
            format!(r#"{{"replica":"{}","seq":1}}"#, "é".repeat(128)),
        ),
        (
            "negative wall_ns",
            r#"{"replica":"a","seq":1,"wall_ns":-5}"#.to_string(),
        ),
        (
            "lamport 0 and a zero vc entry",
            r#"{"replica":"a","seq":1,"lamport":0,"vc":{"a":1,"b":0}}"#.to_string(),
        ),
        (
            "unknown fields",
            r#"{"replica":"a","seq":1,"colour":{"x":[1]},"attrs":{"z":1}}"#.to_string(),
        ),
        (
            "kind defaults to local",
            r#"{"replica":"a","seq":1,"key":"k"}"#.to_string(),
        ),
        (
            "CRLF line ends",
            "{\"replica\":\"a\",\"seq\":1}\r\n{\"replica\":\"a\",\"seq\":2}\r".to_string(),
        ),
    ];
    let d = tmp();
    for (i, (what, line)) in cases.iter().enumerate() {
        let f = write(d.path(), &format!("ok{i}.jsonl"), &format!("{line}\n"));
        let out = check(&[s(&f)]);
        assert_eq!(out.code, 0, "{what}: {out:?}");
        assert!(out.stdout.starts_with("OK"), "{what}: {out:?}");
    }
}

#[test]
fn line_numbers_count_blank_lines_and_restart_per_file() {
    let d = tmp();
    let good = write(
        d.path(),
        "good.jsonl",
        "{\"replica\":\"a\",\"seq\":1}\n{\"replica\":\"a\",\"seq\":2}\n",
    );
    let bad = write(
        d.path(),
        "bad.jsonl",
        "\n{\"replica\":\"b\",\"seq\":1}\n\n{\"replica\":\"b\",\"seq\":0}\n",
    );
    assert_input_error(
        &check(&[s(&good), s(&bad)]),
        &format!("{}:4: ", bad.display()),
    );
    // Lines of a gzip file are numbered after decompression.
    let gz = write_bytes(
        d.path(),
        "bad.jsonl.gz",
        &gzip(b"{\"replica\":\"c\",\"seq\":1}\n{\"replica\":\"c\"}\n"),
    );
    assert_input_error(&check(&[s(&gz)]), &format!("{}:2: ", gz.display()));
    // The first bad line is the one named, whatever follows.
    let two = write(d.path(), "two.jsonl", "{\"seq\":1}\n{\"seq\":2}\n");
    assert_input_error(&check(&[s(&two)]), &format!("{}:1: ", two.display()));
}

#[test]
fn a_header_after_the_first_line_is_malformed() {
    let (_d, f) = trace_file(
        "late.jsonl",
        "{\"replica\":\"a\",\"seq\":1}\n{\"format\":\"weft-trace/1\"}\n",
    );
    assert_input_error(&check(&[s(&f)]), &format!("{}:2: ", f.display()));
}

#[test]
fn unreadable_inputs_are_input_errors() {
    let d = tmp();
    let good = write(d.path(), "good.jsonl", CLEAN);
    let missing = d.path().join("missing.jsonl");
    let out = check(&[s(&missing)]);
    assert_input_error(&out, &format!("{}: ", missing.display()));
    // Also when a good file comes first, and with --lenient (which only skips lines).
    let out = check(&[s(&good), s(&missing), "--format", "json"]);
    assert_input_error(&out, &format!("{}: ", missing.display()));
    let out = check(&[s(&good), s(&missing), "--lenient"]);
    assert_input_error(&out, &format!("{}: ", missing.display()));
    // A .gz file that is not gzip cannot be read.
    let corrupt = write(d.path(), "corrupt.jsonl.gz", "this is not gzip data\n");
    assert_input_error(&check(&[s(&corrupt)]), &format!("{}: ", corrupt.display()));
}

#[test]
fn a_trace_without_events_is_an_input_error() {
    let d = tmp();
    let cases = [
        ("empty.jsonl", ""),
        (
            "header.jsonl",
            "{\"format\":\"weft-trace/1\",\"name\":\"nothing\"}\n",
        ),
        ("blank.jsonl", "\n\n   \n\t\n"),
        ("header-blank.jsonl", "\n{\"format\":\"weft-trace/1\"}\n\n"),
    ];
    for (name, text) in cases {
        let f = write(d.path(), name, text);
        for format in ["text", "json"] {
            let out = check(&[s(&f), "--format", format]);
            assert_eq!(out.code, 2, "{name}: {out:?}");
            assert!(out.stdout.is_empty(), "{name}: {out:?}");
            assert!(!out.stderr.trim().is_empty(), "{name}: {out:?}");
        }
    }
    let out = check_stdin(&["-"], "");
    assert_eq!(out.code, 2, "empty stdin: {out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    let empty_dir = d.path().join("no-traces");
    std::fs::create_dir(&empty_dir).unwrap();
    write(&empty_dir, "notes.txt", "{\"replica\":\"a\",\"seq\":1}\n");
    let out = check(&[s(&empty_dir)]);
    assert_eq!(out.code, 2, "a directory without trace files: {out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    // With --lenient, a trace whose every line was skipped still has no events.
    let f = write(d.path(), "all-bad.jsonl", "nope\n{\"seq\":1}\n");
    let out = check(&[s(&f), "--lenient"]);
    assert_eq!(out.code, 2, "only malformed lines, lenient: {out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
}

// ---------------------------------------------------------------------------------------------
// --lenient
// ---------------------------------------------------------------------------------------------

#[test]
fn lenient_reports_malformed_lines_first_in_input_order() {
    let d = tmp();
    // Given on the command line as `z` then `a`: input order, not name order.
    let z = write(
        d.path(),
        "z.jsonl",
        "{\"replica\":\"a\",\"seq\":1}\nnot json\n{\"replica\":\"a\",\"seq\":3}\n[1]\n",
    );
    let a = write(
        d.path(),
        "a.jsonl",
        "{\"replica\":\"b\",\"seq\":1}\n{\"replica\":\"a\",\"seq\":0}\n",
    );
    let strict = check(&[s(&z), s(&a)]);
    assert_input_error(&strict, &format!("{}:2:", z.display()));

    let args = [s(&z), s(&a), "--lenient", "--format", "json"];
    let out = check(&args);
    assert_eq!(out.code, 0, "only warnings: {out:?}");
    let r = report(&out);
    let vs = r["violations"].as_array().unwrap();
    assert_eq!(
        violation_keys(&r),
        [
            "null malformed-line",
            "null malformed-line",
            "null malformed-line",
            "a@3 seq-gap"
        ]
    );
    let expected_places = [
        format!("{}:2", z.display()),
        format!("{}:4", z.display()),
        format!("{}:2", a.display()),
    ];
    for (v, place) in vs.iter().zip(&expected_places) {
        assert_eq!(v["severity"], "warning", "{v}");
        assert_eq!(v["event"], Value::Null, "{v}");
        assert_eq!(v["related"], serde_json::json!([]), "{v}");
        let msg = v["message"].as_str().unwrap();
        assert!(
            msg.contains(place.as_str()),
            "message should name {place}: {msg}"
        );
    }
    assert_eq!(r["summary"]["warnings"], 4);
    assert_eq!(r["summary"]["errors"], 0);
    assert_eq!(r["summary"]["events"], 3);

    let mut with_level = args.to_vec();
    with_level.extend(["--fail-on", "warning"]);
    assert_eq!(
        check(&with_level).code,
        1,
        "malformed-line warnings fail at --fail-on warning"
    );
}

#[test]
fn lenient_exit_status_follows_the_findings() {
    let (_d, f) = trace_file(
        "mixed.jsonl",
        "garbage\n{\"replica\":\"a\",\"seq\":1,\"kind\":\"recv\",\"msg\":\"m\"}\n",
    );
    let out = check(&[s(&f), "--lenient", "--format", "json"]);
    assert_eq!(out.code, 1, "an error remains: {out:?}");
    let r = report(&out);
    assert_eq!(
        violation_keys(&r),
        ["null malformed-line", "a@1 unmatched-recv"]
    );
    // The text form shows the skipped line too, naming file and line.
    let out = check(&[s(&f), "--lenient"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("malformed-line"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("{}:1", f.display())),
        "{}",
        out.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// Kinds of input
// ---------------------------------------------------------------------------------------------

/// Gzip of `data` (deflate-compressed).
fn gzip(data: &[u8]) -> Vec<u8> {
    gzip_at(data, flate2::Compression::default())
}

/// A valid gzip member holding `data` in uncompressed (stored) deflate blocks: the other kind
/// of gzip a reader meets.
fn stored_gzip(data: &[u8]) -> Vec<u8> {
    gzip_at(data, flate2::Compression::none())
}

fn gzip_at(data: &[u8], level: flate2::Compression) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), level);
    enc.write_all(data).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

#[test]
fn a_directory_is_its_trace_files_sorted() {
    let d = tmp();
    let dir = d.path().join("weft-data");
    std::fs::create_dir(&dir).unwrap();
    // Created in reverse name order; each holds one event of replica a.
    write_bytes(
        &dir,
        "d.jsonl.gz",
        &stored_gzip(b"{\"replica\":\"a\",\"seq\":4}\n"),
    );
    write_bytes(
        &dir,
        "c.jsonl.gz",
        &gzip(b"{\"replica\":\"a\",\"seq\":3}\n"),
    );
    write(&dir, "b.ndjson", "{\"replica\":\"a\",\"seq\":2}\n");
    write(
        &dir,
        "a.jsonl",
        "{\"format\":\"weft-trace/1\"}\n{\"replica\":\"a\",\"seq\":1}\n",
    );
    // Not trace files: reading any of them would be an input error.
    let not_traces = [
        "notes.txt",
        "trace.json",
        "old.jsonl.bak",
        "README.md",
        "x.gz",
    ];
    for name in not_traces {
        write(&dir, name, "this is not a trace\n");
    }
    let sub = dir.join("sub.jsonl");
    std::fs::create_dir(&sub).unwrap();
    write(&sub, "inner.jsonl", "{\"replica\":\"inner\",\"seq\":1}\n");

    let out = check(&[s(&dir), "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let r = report(&out);
    assert_eq!(
        r["summary"]["events"], 5,
        "a@1..a@4 from .jsonl, .ndjson and both .jsonl.gz, inner@1 from the subdirectory: {r}"
    );
    assert_eq!(r["summary"]["replicas"], 2, "sub-directories are read: {r}");
    // Every file left out is named on stderr.
    for name in not_traces {
        let line = format!(
            "weft: skipped {}: not a trace file",
            dir.join(name).display()
        );
        assert!(out.stderr.contains(&line), "{line} in {out:?}");
    }
    assert_eq!(
        r["violations"],
        serde_json::json!([]),
        "no seq-gap: every file was read: {r}"
    );

    // Order: with one malformed line per file, the malformed-line warnings come in input order,
    // which must be the sorted file names.
    let dir2 = d.path().join("sorted");
    std::fs::create_dir(&dir2).unwrap();
    write_bytes(
        &dir2,
        "c.jsonl.gz",
        &gzip(b"{\"replica\":\"c\",\"seq\":1}\nbad c\n"),
    );
    write(&dir2, "b.ndjson", "{\"replica\":\"b\",\"seq\":1}\nbad b\n");
    write(&dir2, "a.jsonl", "{\"replica\":\"a\",\"seq\":1}\nbad a\n");
    let out = check(&[s(&dir2), "--lenient", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let r = report(&out);
    let msgs: Vec<&str> = r["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs.len(), 3, "{r}");
    for (msg, name) in msgs.iter().zip(["a.jsonl:2", "b.ndjson:2", "c.jsonl.gz:2"]) {
        assert!(
            msg.contains(name),
            "expected {name} in {msg} (all: {msgs:?})"
        );
    }
}

#[test]
fn stdin_is_read_with_dash_and_with_no_path() {
    for args in [vec!["-"], vec![]] {
        let out = check_stdin(&[&args[..], &["--format", "json"]].concat(), CLEAN);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        let r = report(&out);
        assert_eq!(r["summary"]["events"], 4, "{args:?}: {r}");
        assert_eq!(r["summary"]["replicas"], 2, "{args:?}: {r}");

        let out = check_stdin(&args, ERROR_ONLY);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(out.stdout.starts_with("FAIL"), "{args:?}: {out:?}");

        let out = check_stdin(
            &args,
            "{\"replica\":\"a\",\"seq\":1}\n{\"replica\":\"a\",\"seq\":-1}\n",
        );
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
        assert!(
            out.stderr.contains(":2: "),
            "stdin errors name the line too: {out:?}"
        );
    }
}

#[test]
fn several_inputs_are_one_trace() {
    let d = tmp();
    let sends = write(
        d.path(),
        "one.jsonl",
        r#"{"format":"weft-trace/1","name":"part 1"}
{"replica":"a","seq":1,"kind":"send","msg":"m"}
"#,
    );
    let recvs = write(
        d.path(),
        "two.jsonl",
        r#"{"format":"weft-trace/1","name":"part 2"}
{"replica":"b","seq":1,"kind":"recv","msg":"m"}
{"replica":"a","seq":2}
"#,
    );
    // Alone, the second part has an unmatched recv and a gap in a's history.
    let alone = report(&check(&[s(&recvs), "--format", "json"]));
    assert_eq!(
        violation_keys(&alone),
        ["a@2 seq-gap", "b@1 unmatched-recv"]
    );
    // Together: the send and a@1 are in the first file, so nothing is wrong.
    for order in [[&sends, &recvs], [&recvs, &sends]] {
        let out = check(&[s(order[0]), s(order[1]), "--format", "json"]);
        assert_eq!(out.code, 0, "{out:?}");
        let r = report(&out);
        assert_eq!(r["violations"], serde_json::json!([]), "{r}");
        assert_eq!(r["summary"]["events"], 3, "{r}");
    }
    // A file and stdin together are one trace as well.
    let out = check_stdin(
        &[s(&sends), "-"],
        "{\"replica\":\"b\",\"seq\":1,\"kind\":\"recv\",\"msg\":\"m\"}\n",
    );
    assert_eq!(out.code, 0, "{out:?}");
}

// ---------------------------------------------------------------------------------------------
// --format json
// ---------------------------------------------------------------------------------------------

fn assert_id(v: &Value) {
    let a = v
        .as_array()
        .unwrap_or_else(|| panic!("id is not an array: {v}"));
    assert!(
        a.len() == 2 && a[0].is_string() && a[1].as_u64().is_some_and(|s| s >= 1),
        "bad id {v}"
    );
}

#[test]
fn json_report_has_the_spec_shape() {
    let (_d, f) = trace_file("rich.jsonl", RICH);
    let out = check(&[s(&f), "--lenient", "--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    let r = report(&out);
    assert_eq!(r["format"], "weft-report/1");
    let summary = r["summary"].as_object().expect("summary object");
    for k in [
        "events",
        "replicas",
        "duplicates",
        "errors",
        "warnings",
        "conflicts",
        "unresolved",
    ] {
        assert!(
            summary.get(k).is_some_and(Value::is_u64),
            "summary.{k} missing or not a count: {r}"
        );
    }
    assert!(
        summary.get("complete").is_some_and(Value::is_boolean),
        "summary.complete: {r}"
    );
    for v in r["violations"].as_array().expect("violations array") {
        for k in ["code", "severity", "message"] {
            assert!(v[k].is_string(), "violation.{k}: {v}");
        }
        assert!(
            ["error", "warning"].contains(&v["severity"].as_str().unwrap()),
            "{v}"
        );
        assert!(v["event"].is_null() || v["event"].is_array(), "{v}");
        if !v["event"].is_null() {
            assert_id(&v["event"]);
        }
        v["related"]
            .as_array()
            .expect("related array")
            .iter()
            .for_each(assert_id);
    }
    for c in r["conflicts"].as_array().expect("conflicts array") {
        assert!(c["key"].is_string(), "{c}");
        assert!(
            c.get("element").is_some(),
            "conflict.element (null for registers): {c}"
        );
        assert_id(&c["a"]);
        assert_id(&c["b"]);
        assert!(c["winner"].is_null() || c["winner"].is_array(), "{c}");
        assert!(
            ["lamport", "wall", "none", "add-wins"].contains(&c["rule"].as_str().unwrap()),
            "{c}"
        );
    }
    for u in r["unresolved"].as_array().expect("unresolved array") {
        assert!(u["key"].is_string(), "{u}");
        u["siblings"]
            .as_array()
            .expect("siblings")
            .iter()
            .for_each(assert_id);
    }
}

#[test]
fn json_report_counts_and_orders_as_the_spec_says() {
    let (_d, f) = trace_file("rich.jsonl", RICH);
    // --limit only caps the text form.
    let out = check(&[s(&f), "--lenient", "--format", "json", "--limit", "1"]);
    assert_eq!(out.code, 1, "{out:?}");
    let r = report(&out);
    assert_eq!(
        r["summary"],
        serde_json::json!({"events": 19, "replicas": 9, "duplicates": 0, "errors": 3, "warnings": 6,
                           "conflicts": 7, "unresolved": 3, "reads_checked": 0, "complete": true})
    );
    // Violations by (event, code), ids by replica bytes then numeric seq; `event: null` first.
    assert_eq!(
        violation_keys(&r),
        [
            "null malformed-line",
            "null malformed-line",
            "B@2 seq-gap",
            "a@2 lamport-violation",
            "a@2 unmatched-recv",
            "a@4 seq-gap",
            "b@2 missing-event",
            "c@2 seq-gap",
            "c@10 seq-gap",
        ]
    );
    let vs = r["violations"].as_array().unwrap();
    assert!(
        vs[0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{}:3", f.display())),
        "first malformed line is line 3: {}",
        vs[0]
    );
    assert!(
        vs[1]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{}:11", f.display())),
        "second malformed line is line 11: {}",
        vs[1]
    );
    let related = |e: &str, c: &str| {
        let v = vs
            .iter()
            .find(|v| id(&v["event"]) == e && v["code"] == c)
            .unwrap();
        ids(&v["related"])
    };
    assert_eq!(
        related("b@2", "missing-event"),
        ["y@1", "z@3", "z@10"],
        "missing ids, ascending"
    );
    assert_eq!(related("a@2", "lamport-violation"), ["a@1"]);
    for v in vs {
        let sev = if ["seq-gap", "malformed-line"].contains(&v["code"].as_str().unwrap()) {
            "warning"
        } else {
            "error"
        };
        assert_eq!(v["severity"], sev, "{v}");
    }

    // Conflicts by (key, element as JSON text, a, b).
    let conflicts: Vec<String> = r["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {} {} {}",
                c["key"].as_str().unwrap(),
                c["element"],
                id(&c["a"]),
                id(&c["b"]),
                id(&c["winner"]),
                c["rule"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        conflicts,
        [
            "alpha null p@2 q@2 null none",
            "beta null p@1 q@1 q@1 lamport",
            "gamma null x1@1 x2@1 null none",
            "gamma null x1@1 x3@1 null none",
            "gamma null x2@1 x3@1 null none",
            "tags \"a\" p@4 q@4 p@4 add-wins",
            "tags \"x\" p@3 q@3 p@3 add-wins",
        ]
    );
    // Unresolved by key; set writes never appear there.
    let unresolved: Vec<(String, Vec<String>)> = r["unresolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["key"].as_str().unwrap().to_string(), ids(&u["siblings"])))
        .collect();
    assert_eq!(
        unresolved,
        [
            (
                "alpha".to_string(),
                vec!["p@2".to_string(), "q@2".to_string()]
            ),
            (
                "beta".to_string(),
                vec!["p@1".to_string(), "q@1".to_string()]
            ),
            (
                "gamma".to_string(),
                vec!["x1@1".to_string(), "x2@1".to_string(), "x3@1".to_string()]
            ),
        ]
    );
}

#[test]
fn json_report_of_a_clean_trace() {
    let (_d, f) = trace_file("clean.jsonl", CLEAN);
    let out = check(&[s(&f), "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let r = report(&out);
    assert_eq!(
        r["summary"],
        serde_json::json!({"events": 4, "replicas": 2, "duplicates": 0, "errors": 0, "warnings": 0,
                           "conflicts": 0, "unresolved": 0, "reads_checked": 0,
                           "complete": true})
    );
    for k in ["violations", "conflicts", "unresolved"] {
        assert_eq!(r[k], serde_json::json!([]), "{k}: {r}");
    }
}

// ---------------------------------------------------------------------------------------------
// --format junit
// ---------------------------------------------------------------------------------------------

/// An XML element, as far as these tests need: attributes and text with entities decoded.
#[derive(Debug)]
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<El>,
    text: String,
}

impl El {
    fn attr(&self, k: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
    fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }
    fn all<'a>(&'a self, name: &str, out: &mut Vec<&'a El>) {
        for c in &self.children {
            if c.name == name {
                out.push(c);
            }
            c.all(name, out);
        }
    }
}

/// The document's root element, parsed by a strict XML 1.0 parser (roxmltree: well-formedness,
/// entities, unique attributes), as the tree these tests read.
fn parse_xml(s: &str) -> Result<El, String> {
    fn el(n: roxmltree::Node) -> El {
        El {
            name: n.tag_name().name().to_string(),
            attrs: n
                .attributes()
                .map(|a| (a.name().to_string(), a.value().to_string()))
                .collect(),
            children: n.children().filter(|c| c.is_element()).map(el).collect(),
            text: n
                .children()
                .filter(|c| c.is_text())
                .filter_map(|c| c.text())
                .collect(),
        }
    }
    let doc = roxmltree::Document::parse(s).map_err(|e| e.to_string())?;
    Ok(el(doc.root_element()))
}

#[test]
fn the_xml_checker_rejects_what_it_should() {
    for bad in [
        "<a><b></a></b>",
        "<a>",
        "<a/><b/>",
        "<a x=1/>",
        "<a x=\"1\" x=\"2\"/>",
        "<a>1 < 2</a>",
        "<a>fish & chips</a>",
        "<a>&nbsp;</a>",
        "<a x=\"<\"/>",
    ] {
        assert!(parse_xml(bad).is_err(), "accepted {bad:?}");
    }
    let ok =
        parse_xml("<?xml version=\"1.0\"?>\n<a k='v &amp; w'><b>x &lt; y &#233;</b><c/></a>\n")
            .unwrap();
    assert_eq!(ok.attr("k"), Some("v & w"));
    assert_eq!(ok.child("b").unwrap().text, "x < y é");
}

const SPEC_CODES: [&str; 13] = [
    "duplicate-event",
    "seq-gap",
    "missing-event",
    "unmatched-recv",
    "duplicate-msg",
    "causality-cycle",
    "vc-mismatch",
    "lamport-violation",
    "wall-clock-inversion",
    "crdt-type-conflict",
    "read-of-unseen-write",
    "stale-read",
    "read-mismatch",
];

/// Runs the same check as JUnit and as JSON, parses both, and checks what every level shares.
fn junit_and_json(args: &[&str]) -> (El, Value, i32) {
    let mut j = args.to_vec();
    j.extend(["--format", "junit"]);
    let out = check(&j);
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    let xml = parse_xml(&out.stdout)
        .unwrap_or_else(|e| panic!("JUnit output is not well-formed XML: {e}\n{}", out.stdout));
    let mut j = args.to_vec();
    j.extend(["--format", "json"]);
    let json_out = check(&j);
    assert_eq!(
        json_out.code, out.code,
        "the exit status does not depend on the format"
    );
    let r = report(&json_out);

    let mut cases = Vec::new();
    xml.all("testcase", &mut cases);
    let names: Vec<&str> = cases
        .iter()
        .map(|c| c.attr("name").expect("testcase name"))
        .collect();
    // One test case per violation code present (codes without findings may have passing cases).
    let mut present: Vec<&str> = r["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    present.sort();
    present.dedup();
    for code in &present {
        assert_eq!(
            names.iter().filter(|n| *n == code).count(),
            1,
            "one testcase for {code}: {names:?}"
        );
    }
    // One per key with conflicts.
    let mut keys: Vec<&str> = r["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    keys.dedup();
    let key_cases: Vec<&str> = names.iter().copied().filter(|n| !is_code_case(n)).collect();
    assert_eq!(
        key_cases.len(),
        keys.len(),
        "one testcase per key with conflicts: {names:?} vs keys {keys:?}"
    );
    for key in &keys {
        let n = key_cases.iter().filter(|c| c.contains(key)).count();
        assert_eq!(n, 1, "one testcase should name key {key:?}: {key_cases:?}");
    }
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        names.len(),
        "duplicate testcase names: {names:?}"
    );

    // The counters agree with the cases.
    let failures = cases
        .iter()
        .filter(|c| c.child("failure").is_some())
        .count();
    let mut suites = vec![&xml];
    xml.all("testsuite", &mut suites);
    for s in suites.iter().filter(|s| s.attr("tests").is_some()) {
        let mut in_suite = Vec::new();
        s.all("testcase", &mut in_suite);
        assert_eq!(
            s.attr("tests"),
            Some(in_suite.len().to_string().as_str()),
            "<{}> tests=",
            s.name
        );
        let f = in_suite
            .iter()
            .filter(|c| c.child("failure").is_some())
            .count();
        assert_eq!(
            s.attr("failures"),
            Some(f.to_string().as_str()),
            "<{}> failures=",
            s.name
        );
    }
    assert_eq!(
        failures > 0,
        out.code == 1,
        "the dashboard agrees with the exit status:\n{}",
        out.stdout
    );
    (xml, r, out.code)
}

fn is_code_case(name: &str) -> bool {
    SPEC_CODES.contains(&name) || name == "malformed-line"
}

/// The test case of a violation code.
fn testcase<'a>(xml: &'a El, name: &str) -> &'a El {
    let mut cases = Vec::new();
    xml.all("testcase", &mut cases);
    cases
        .into_iter()
        .find(|c| c.attr("name") == Some(name))
        .unwrap_or_else(|| panic!("no testcase {name}"))
}

/// The test case of the conflicts of `key`.
fn key_case<'a>(xml: &'a El, key: &str) -> &'a El {
    let mut cases = Vec::new();
    xml.all("testcase", &mut cases);
    cases
        .into_iter()
        .find(|c| {
            c.attr("name")
                .is_some_and(|n| !is_code_case(n) && n.contains(key))
        })
        .unwrap_or_else(|| panic!("no testcase for key {key:?}"))
}

#[test]
fn junit_is_well_formed_with_a_case_per_code_and_key() {
    let d = tmp();
    let rich = write(d.path(), "rich.jsonl", RICH);
    // Markup characters in keys, replica names and values must be escaped.
    let nasty = write(
        d.path(),
        "nasty.jsonl",
        r#"{"replica":"s<1>","seq":1,"kind":"write","key":"a<b&\"c'","value":"</testcase>"}
{"replica":"s&2","seq":1,"kind":"write","key":"a<b&\"c'","value":"]]>"}
{"replica":"s<1>","seq":3,"attrs":{"note":"\u0001 control"}}
"#,
    );
    let base = [s(&rich), s(&nasty), "--lenient"];

    // Default level: errors fail, and each failure carries the messages of its code.
    let (xml, r, code) = junit_and_json(&base);
    assert_eq!(code, 1);
    assert_eq!(xml.name, "testsuites");
    for v in r["violations"].as_array().unwrap() {
        let case = testcase(&xml, v["code"].as_str().unwrap());
        let msg = v["message"].as_str().unwrap();
        if v["severity"] == "error" {
            let failure = case
                .child("failure")
                .unwrap_or_else(|| panic!("no failure in {case:?}"));
            assert!(
                failure.text.contains(msg),
                "failure of {} lacks {msg:?}: {failure:?}",
                case.attr("name").unwrap()
            );
        } else {
            assert!(
                case.child("failure").is_none(),
                "warnings do not fail at --fail-on error: {case:?}"
            );
        }
    }
    let key = key_case(&xml, "a<b&\"c'");
    assert!(
        key.child("failure").is_none(),
        "conflicts do not fail at --fail-on error: {key:?}"
    );

    // --fail-on warning: warnings fail too, and carry their messages (the malformed lines'
    // messages name file and line).
    let mut args = base.to_vec();
    args.extend(["--fail-on", "warning"]);
    let (xml, r, _) = junit_and_json(&args);
    for v in r["violations"].as_array().unwrap() {
        let case = testcase(&xml, v["code"].as_str().unwrap());
        let failure = case
            .child("failure")
            .unwrap_or_else(|| panic!("no failure in {case:?}"));
        assert!(
            failure.text.contains(v["message"].as_str().unwrap()),
            "{failure:?} lacks {v}"
        );
    }
    let seq_gap = testcase(&xml, "seq-gap").child("failure").unwrap();
    assert!(
        seq_gap.text.contains("s<1>@3"),
        "escaped replica names survive: {seq_gap:?}"
    );

    // --fail-on conflict: each key's case fails and names its conflicting writes.
    let mut args = base.to_vec();
    args.extend(["--fail-on", "conflict"]);
    let (xml, r, _) = junit_and_json(&args);
    for c in r["conflicts"].as_array().unwrap() {
        let case = key_case(&xml, c["key"].as_str().unwrap());
        let failure = case
            .child("failure")
            .unwrap_or_else(|| panic!("no failure in {case:?}"));
        for e in ["a", "b"] {
            assert!(
                failure.text.contains(&id(&c[e])),
                "{failure:?} should name {}",
                id(&c[e])
            );
        }
    }
}

#[test]
fn junit_of_a_clean_trace_has_no_failures() {
    let (_d, f) = trace_file("clean.jsonl", CLEAN);
    let (xml, _, code) = junit_and_json(&[s(&f)]);
    assert_eq!(code, 0);
    let mut failures = Vec::new();
    xml.all("failure", &mut failures);
    assert!(failures.is_empty(), "{failures:?}");
}

// ---------------------------------------------------------------------------------------------
// Text form
// ---------------------------------------------------------------------------------------------

#[test]
fn text_verdict_follows_the_fail_on_level() {
    let d = tmp();
    let clean = write(d.path(), "clean.jsonl", CLEAN);
    let gap = write(d.path(), "gap.jsonl", GAP_ONLY);
    let conflict = write(d.path(), "conflict.jsonl", CONFLICT_ONLY);
    let error = write(d.path(), "error.jsonl", ERROR_ONLY);
    let verdict = |f: &Path, level: &str| {
        let out = check(&[s(f), "--fail-on", level]);
        let first = out.stdout.lines().next().unwrap_or_default().to_string();
        (first, out.code)
    };
    for (f, level, word, code) in [
        (&clean, "error", "OK", 0),
        (&gap, "error", "OK", 0),
        (&gap, "warning", "FAIL", 1),
        (&conflict, "error", "OK", 0),
        (&conflict, "conflict", "FAIL", 1),
        (&error, "error", "FAIL", 1),
    ] {
        let (first, got) = verdict(f, level);
        assert!(
            first.starts_with(word),
            "{} --fail-on {level}: verdict line {first:?}",
            f.display()
        );
        assert_eq!(got, code, "{} --fail-on {level}", f.display());
    }
}

#[test]
fn text_groups_findings_and_names_events() {
    let (_d, f) = trace_file("rich.jsonl", RICH);
    let out = check(&[s(&f), "--lenient"]);
    assert_eq!(out.code, 1);
    let t = &out.stdout;
    assert!(t.starts_with("FAIL"), "{t}");
    for group in [
        "Errors (3)",
        "Warnings (6)",
        "Conflicts (7)",
        "Unresolved (3)",
    ] {
        assert!(t.contains(group), "missing group {group:?}:\n{t}");
    }
    for code in [
        "missing-event (1)",
        "unmatched-recv (1)",
        "lamport-violation (1)",
        "seq-gap (4)",
        "malformed-line (2)",
    ] {
        assert!(t.contains(code), "missing {code:?}:\n{t}");
    }
    for name in [
        "b@2", "a@2", "c@10", "B@2", "y@1", "z@10", "p@2", "q@2", "x3@1",
    ] {
        assert!(t.contains(name), "missing {name}:\n{t}");
    }
    for key in ["alpha", "beta", "gamma", "tags"] {
        assert!(t.contains(key), "missing key {key}:\n{t}");
    }
    let pos = |s: &str| t.find(s).unwrap_or_else(|| panic!("{s} not in\n{t}"));
    assert!(
        pos("Errors (") < pos("Warnings (") && pos("Warnings (") < pos("Conflicts ("),
        "group order:\n{t}"
    );
    assert!(
        !t.contains("... and"),
        "nothing is capped at the default limit:\n{t}"
    );
}

/// 25 seq-gaps on r (seqs 1, 3, 5, ..., 51); 4 writers of k0 (6 conflicts); k1..k3 conflicts
/// between u and v (4 unresolved keys in all).
fn many_findings() -> String {
    let mut s = String::new();
    for seq in (1..=51).step_by(2) {
        s += &format!("{{\"replica\":\"r\",\"seq\":{seq}}}\n");
    }
    let write = |rep: &str, seq: u32, key: &str| {
        format!(r#"{{"replica":"{rep}","seq":{seq},"kind":"write","key":"{key}","value":1}}"#)
            + "\n"
    };
    for w in ["w1", "w2", "w3", "w4"] {
        s += &write(w, 1, "k0");
    }
    for (seq, key) in [(1, "k1"), (2, "k2"), (3, "k3")] {
        s += &write("u", seq, key);
        s += &write("v", seq, key);
    }
    s
}

#[test]
fn text_limit_caps_each_list_with_and_n_more() {
    let (_d, f) = trace_file("many.jsonl", &many_findings());
    let text = |limit: Option<&str>| {
        let mut args = vec![s(&f)];
        if let Some(l) = limit {
            args.extend(["--limit", l]);
        }
        let out = check(&args);
        assert_eq!(out.code, 0, "{out:?}");
        out.stdout
    };
    let t = text(Some("2"));
    assert!(t.contains("seq-gap (25)"), "{t}");
    assert!(
        t.contains("r@3") && t.contains("r@5"),
        "the first two gaps are shown:\n{t}"
    );
    assert!(
        !t.contains("r@7") && !t.contains("r@51"),
        "later gaps are not shown:\n{t}"
    );
    assert!(t.contains("... and 23 more"), "seq-gap list capped:\n{t}");
    assert!(
        t.contains("... and 4 more"),
        "k0's 6 conflicts capped at 2:\n{t}"
    );
    assert!(
        t.contains(
            "6 conflicts among 4 writes by 4 replicas; widest: 4 writes all pairwise concurrent"
        ),
        "a capped key is summed up:\n{t}"
    );
    assert!(
        t.contains("... and 2 more"),
        "4 unresolved keys capped at 2:\n{t}"
    );

    let t = text(None);
    assert!(
        t.contains("... and 5 more"),
        "the default limit is 20:\n{t}"
    );
    assert!(
        t.contains("r@41") && !t.contains("r@43"),
        "20 gaps shown by default:\n{t}"
    );

    let t = text(Some("0"));
    assert!(!t.contains("... and"), "--limit 0 shows everything:\n{t}");
    assert!(
        !t.contains("conflicts among"),
        "no summary when every conflict is listed:\n{t}"
    );
    assert!(t.contains("r@51"), "{t}");
}

fn has_ansi(s: &str) -> bool {
    s.contains('\x1b')
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs `weft check ARGS` with stdout on a pseudo-terminal (through util-linux `script`), or
/// `None` when that is not possible here.
fn check_on_tty(args: &[&str], no_color_env: bool) -> Option<String> {
    let mut line = sh_quote(env!("CARGO_BIN_EXE_weft")) + " check";
    for a in args {
        line += " ";
        line += &sh_quote(a);
    }
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::null())
        .env_remove("WEFT_TIMING");
    if no_color_env {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let out = cmd.output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (matches!(out.status.code(), Some(0 | 1)) && (text.contains("OK") || text.contains("FAIL")))
        .then_some(text)
}

#[test]
fn text_has_no_ansi_escapes_off_a_terminal_or_with_no_color() {
    let d = tmp();
    let f = write(
        d.path(),
        "t.jsonl",
        &(GAP_ONLY.to_string() + CONFLICT_ONLY.replace("\"a\"", "\"c\"").as_str()),
    );
    let path = f.to_str().unwrap();
    // Piped stdout (as in every other test): never coloured.
    for (env, args) in [
        (None, vec![path]),
        (Some("1"), vec![path]),
        (None, vec![path, "--fail-on", "warning"]),
    ] {
        let mut cmd = weft_cmd();
        cmd.arg("check").args(&args).stdin(Stdio::null());
        match env {
            Some(v) => cmd.env("NO_COLOR", v),
            None => cmd.env_remove("NO_COLOR"),
        };
        let out = finish(cmd.output().unwrap());
        assert!(
            out.stdout.contains("Warnings (1)") && out.stdout.contains("Conflicts (1)"),
            "{out:?}"
        );
        assert!(
            !has_ansi(&out.stdout),
            "ANSI escapes on a pipe: {:?}",
            out.stdout
        );
    }
    // On a terminal: coloured by default (the control that shows the terminal is seen), and
    // not with NO_COLOR or --no-color.
    let Some(coloured) = check_on_tty(&[path], false) else {
        eprintln!("skipping the terminal half: `script` cannot run a pseudo-terminal here");
        return;
    };
    assert!(
        has_ansi(&coloured),
        "control: expected colour on a terminal: {coloured:?}"
    );
    let plain = check_on_tty(&[path], true).expect("script ran once already");
    assert!(
        !has_ansi(&plain),
        "ANSI escapes with NO_COLOR set: {plain:?}"
    );
    assert!(plain.contains("Warnings (1)"), "{plain:?}");
    let plain = check_on_tty(&[path, "--no-color"], false).expect("script ran once already");
    assert!(!has_ansi(&plain), "ANSI escapes with --no-color: {plain:?}");
}

// ---------------------------------------------------------------------------------------------
// Help
// ---------------------------------------------------------------------------------------------

#[test]
fn help_snapshots() {
    let top = weft(&["--help"]);
    assert_eq!(top.code, 0, "{top:?}");
    assert!(top.stderr.is_empty(), "{top:?}");
    insta::assert_snapshot!("weft_help", top.stdout);

    for cmd in ["check", "sim", "collect", "tui", "demo", "import", "export"] {
        let sub = weft(&[cmd, "--help"]);
        assert_eq!(sub.code, 0, "{sub:?}");
        assert!(sub.stderr.is_empty(), "{sub:?}");
        insta::assert_snapshot!(format!("weft_{cmd}_help"), sub.stdout);
    }
}

#[test]
fn tui_refuses_bad_inputs_and_a_missing_terminal_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.jsonl");
    let out = weft(&["tui", missing.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("missing.jsonl"), "{out:?}");

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"replica\":\"a\",\"seq\":0}\n").unwrap();
    let out = weft(&["tui", bad.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("bad.jsonl:1: field `seq`"), "{out:?}");

    // A good trace, but the test's stdout is a pipe: say so instead of drawing garbage.
    let good = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/partition-heal.jsonl");
    let out = weft(&["tui", good]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("interactive terminal"), "{out:?}");

    let out = weft(&["tui"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--connect"), "{out:?}");

    // A CA file that cannot be used is refused before the terminal is touched, naming it.
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate\n").unwrap();
    let out = weft(&[
        "tui",
        "--connect",
        "https://localhost:4318",
        "--ca-cert",
        ca.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--ca-cert") && out.stderr.contains("ca.pem: no certificate"),
        "{out:?}"
    );
}

#[test]
fn import_loro_allow_pending_keeps_what_can_be_applied() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/tests/loro_data");
    let (one, ten) = (dir.join("peer-1.update"), dir.join("peer-10.update"));
    let refused = weft(&["import", "loro", s(&one), s(&ten)]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("depends on changes no input holds"),
        "{}",
        refused.stderr
    );
    assert!(refused.stdout.is_empty());

    let partial = weft(&["import", "loro", "--allow-pending", s(&one), s(&ten)]);
    assert_eq!(partial.code, 0, "{}", partial.stderr);
    let events: Vec<Value> = partial
        .stdout
        .lines()
        .skip(1) // the header
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!events.is_empty());
    // Only history whose dependencies are present: every parent is itself in the trace.
    let ids: std::collections::HashSet<(String, u64)> = events
        .iter()
        .map(|e| {
            (
                e["replica"].as_str().unwrap().to_owned(),
                e["seq"].as_u64().unwrap(),
            )
        })
        .collect();
    for e in &events {
        for p in e["parents"].as_array().into_iter().flatten() {
            let id = (p[0].as_str().unwrap().to_owned(), p[1].as_u64().unwrap());
            assert!(ids.contains(&id), "{e}: parent {p} missing");
        }
    }
    let checked = check_stdin(&[], &partial.stdout);
    assert_ne!(checked.code, 2, "{}", checked.stderr);
}

/// A reader that closes the pipe early (`weft check … | head`) is not an error, and the exit
/// status is still the report's: a CI gate piping the report into `head` fails on findings.
#[test]
fn a_closed_stdout_keeps_the_verdict() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("many.jsonl");
    // 300 replicas that never talk, each writing the same key: ~45,000 conflicting pairs, a
    // report far larger than a pipe's buffer.
    let mut text = String::new();
    for r in 0..300 {
        text.push_str(&format!(
            "{{\"replica\":\"r{r}\",\"seq\":1,\"kind\":\"write\",\"key\":\"k\",\"op\":\"set\",\"value\":{r},\"lamport\":1}}\n"
        ));
    }
    std::fs::write(&path, text).unwrap();
    let mut child = weft_cmd()
        .args([
            "check",
            s(&path),
            "--format",
            "json",
            "--fail-on",
            "conflict",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn weft");
    drop(child.stdout.take()); // the reader goes away before weft writes
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sim_stops_at_max_events_and_says_what_to_change() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("flood.jsonl");
    let out = weft(&[
        "sim",
        "--replicas",
        "60",
        "--ops",
        "300",
        "--max-events",
        "2000",
        "-o",
        s(&f),
    ]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .starts_with("weft sim: the run reached 2000 events at "),
        "{out:?}"
    );
    assert!(out.stderr.contains("; the trace so far was written: 60 replicas, 300 operations, --sync delta every 0.100 s"), "{out:?}");
    assert!(
        out.stderr.contains("raise --max-events (0: no limit)"),
        "{out:?}"
    );
    // The header and the first 2,000 events, which weft check reads.
    let text = std::fs::read_to_string(&f).unwrap();
    assert_eq!(text.lines().count(), 2_001);
    let checked = check(&[s(&f), "--format", "json"]);
    assert_ne!(checked.code, 2, "{checked:?}");
    assert!(checked.stdout.contains("\"events\":2000"), "{checked:?}");
}
