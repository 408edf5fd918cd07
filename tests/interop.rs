//! `weft import`, `weft export` and `--input shiviz`, end to end through the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn weft(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

const BROADCAST_REGEX: &str = r"\[\w+\] \[(?<date>([^ ]+ [^ ]+))\] [^ ]+ \[akka://Broadcast/user/(?<host>\w+)\] (?<clock>.*\}) (?<event>.*)";

#[test]
fn the_shared_shiviz_logs_import_whole_and_check_clean() {
    let echo = root().join("fixtures/shiviz/trace_log_shiviz.txt");
    let (code, out, err) = weft(&["check", "--input", "shiviz", path(&echo)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("OK  0 errors, 0 warnings"), "{out}");
    assert!(out.contains("169 events from 3 replicas"), "{out}");
    assert!(err.is_empty(), "no skipped lines, no problems: {err}");

    let bcast = root().join("fixtures/shiviz/simple-reliable-broadcast.log");
    let (code, out, err) = weft(&[
        "check",
        "--input",
        "shiviz",
        path(&bcast),
        "--regex",
        BROADCAST_REGEX,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("0 errors") && out.contains("39 events from 3 replicas"),
        "{out}"
    );

    // Imported to a file, it is a weft trace like any other, with the other groups in attrs.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bcast.jsonl");
    let (code, _, err) = weft(&[
        "import",
        "shiviz",
        path(&bcast),
        "--regex",
        BROADCAST_REGEX,
        "-o",
        path(&file),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 40, "header + 39 events");
    assert!(text
        .lines()
        .nth(1)
        .unwrap()
        .contains("\"date\":\"10/13/2014 14:37:20.543\""));
    let (code, out, _) = weft(&["check", path(&file)]);
    assert_eq!(code, 0, "{out}");

    // The TUI reads it too (and then, without a terminal here, says it needs one).
    let (code, _, err) = weft(&["tui", "--input", "shiviz", path(&echo)]);
    assert_eq!(code, 2);
    assert!(err.contains("interactive terminal"), "{err}");
}

#[test]
fn executions_are_picked_or_split() {
    let log = root().join("interop/tests/import_data/import-executions.log");
    let (code, out, err) = weft(&["import", "shiviz", path(&log)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("executions; using execution 1 (alpha)"),
        "{err}"
    );
    assert!(err.contains("skipped"), "the banner line is counted: {err}");
    let first = out.lines().nth(1).unwrap().to_string();

    let (code, out2, err) = weft(&["import", "shiviz", path(&log), "--execution", "2"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out2.lines().next().unwrap().contains("\"trace\":\"beta\""),
        "{out2}"
    );
    assert_ne!(out2.lines().nth(1).unwrap(), first);

    let (code, _, err) = weft(&["import", "shiviz", path(&log), "--execution", "9"]);
    assert_eq!(code, 2);
    assert!(err.contains("--execution 9"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = weft(&["import", "shiviz", path(&log), "--split", path(dir.path())]);
    assert_eq!(code, 0, "{err}");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(names.len() >= 2, "{names:?}");
    assert!(names.contains(&"alpha.jsonl".to_string()), "{names:?}");
    let (code, out, _) = weft(&["check", path(&dir.path().join("alpha.jsonl"))]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn bad_logs_and_options_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.log");
    std::fs::write(&bad, "a {\"a\":1}\nstart\nb {\"b\": one}\nnext\n").unwrap();
    let (code, out, err) = weft(&["import", "shiviz", path(&bad)]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("bad.log:3"), "{err}");
    let (code, _, err) = weft(&["import", "shiviz", path(&bad), "--lenient"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("bad.log:3"),
        "the skipped event is reported: {err}"
    );

    let (code, _, err) = weft(&[
        "check",
        "--input",
        "shiviz",
        path(&bad),
        "--regex",
        "(?<host>x",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("regex"), "{err}");
    let (code, _, err) = weft(&[
        "check",
        "--input",
        "shiviz",
        path(&bad),
        "--regex",
        "(?<host>\\S+) (?<event>.*)",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("clock"), "names the missing group: {err}");
    let (code, _, err) = weft(&["import", "shiviz", "no-such.log"]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such.log"), "{err}");
}

#[test]
fn logs_that_are_not_utf8_are_errors_naming_file_line_and_byte() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("latin1.log");
    std::fs::write(
        &bad,
        b"a {\"a\":1}\nsend\nb {\"a\":1, \"b\":1}\nrecv \xE9t\xE9\n",
    )
    .unwrap();
    let at = format!(
        "{}:4:6: not UTF-8 text: 0xE9 at byte 6 of line 4",
        path(&bad)
    );
    for args in [
        &["import", "shiviz", path(&bad)][..],
        &["import", "shiviz", path(&bad), "--lenient"][..],
        &["check", "--input", "shiviz", path(&bad)][..],
    ] {
        let (code, out, err) = weft(args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(&at), "{args:?}: {err}");
    }
}

/// The report with its count of identical duplicate copies set to 0 (the JSON layout kept).
fn without_duplicate_count(report: &str) -> String {
    let key = "\"duplicates\":";
    let start = report.find(key).unwrap() + key.len();
    let end = start + report[start..].find(',').unwrap();
    format!("{}0{}", &report[..start], &report[end..])
}

fn clean_fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    v.sort();
    v
}

/// weft → ShiViz → weft keeps happens-before and the analyzer's report, for every fixture whose
/// report does not depend on what a ShiViz log cannot carry (a cycle, reported clocks that
/// disagree with the graph, duplicate copies).
#[test]
fn shiviz_round_trip_keeps_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut tried = 0;
    for f in clean_fixtures() {
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        if [
            "causality-cycle",
            "vc-mismatch",
            "missing-event-vc",
            "duplicate-event",
            "duplicate-msg",
            // Section 8's fixtures: a ShiViz log carries no crdt declarations nor read values
            // as weft reads them back, and reads-cycle has a cycle.
            "reads-",
        ]
        .iter()
        .any(|x| name.starts_with(x))
        {
            continue;
        }
        let log = dir.path().join(format!("{name}.log"));
        let (code, _, err) = weft(&["export", path(&f), "--to", "shiviz", "-o", path(&log)]);
        assert_eq!(code, 0, "{name}: {err}");
        let (c1, original, _) = weft(&["check", path(&f), "--format", "json"]);
        let (c2, back, err) = weft(&["check", "--input", "shiviz", path(&log), "--format", "json"]);
        // Identical copies of an event are dropped on reading: the log holds one.
        let original = without_duplicate_count(&original);
        assert_eq!((c1, &original), (c2, &back), "{name}: {err}");
        tried += 1;
    }
    assert!(tried >= 10, "{tried}");
}

#[test]
fn exports_write_dot_and_mermaid() {
    let f = root().join("fixtures/partition-heal.jsonl");
    let (code, dot, _) = weft(&["export", path(&f), "--to", "dot"]);
    assert_eq!(code, 0);
    assert!(
        dot.starts_with("digraph weft {") && dot.trim_end().ends_with('}'),
        "{dot}"
    );
    assert_eq!(dot.matches("subgraph cluster_").count(), 4);
    let (_, reduced, _) = weft(&["export", path(&f), "--to", "dot", "--transitive-reduction"]);
    assert!(reduced.matches("->").count() < dot.matches("->").count());
    let (code, _, err) = weft(&["export", path(&f), "--to", "dot", "--around", "r9@1"]);
    assert_eq!(code, 2);
    assert!(err.contains("r9@1"), "{err}");
    let (code, _, err) = weft(&["export", path(&f), "--to", "dot", "--around", "nonsense"]);
    assert_eq!(code, 2);
    assert!(err.contains("REPLICA@SEQ"), "{err}");
    let (code, mmd, _) = weft(&["export", path(&f), "--to", "mermaid"]);
    assert_eq!(code, 0);
    assert!(mmd.starts_with("sequenceDiagram"));
    assert_eq!(
        mmd,
        std::fs::read_to_string(root().join("interop/tests/export_data/partition-heal.mmd"))
            .unwrap()
    );
}

#[test]
fn a_log_read_the_wrong_way_says_how_to_read_it() {
    let bcast = root().join("fixtures/shiviz/simple-reliable-broadcast.log");
    let name = path(&bcast);
    // Without --input: the reader's located message, then which --input reads the file.
    let (code, _, err) = weft(&["check", name]);
    assert_eq!(code, 2, "{err}");
    let mut lines = err.lines();
    assert_eq!(
        lines.next(),
        Some(format!("{name}:1: not a JSON object (got an array)").as_str())
    );
    let hint = lines.next().unwrap_or_default();
    assert!(
        hint.starts_with(&format!(
            "weft: {name} is not weft-trace/1 NDJSON from its first line on: a ShiViz or GoVector log reads with --input shiviz"
        )),
        "{err}"
    );
    // With --input shiviz but no --regex: GoVector's default matches none of its lines.
    let (code, _, err) = weft(&["check", "--input", "shiviz", name]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("{name}: no line matched the regex `")),
        "{err}"
    );
    assert!(
        err.contains("needs --regex, with the named groups host, clock and event"),
        "{err}"
    );
    // Inputs that are traces gone wrong get the reader's located message alone, no hint.
    let dir = tempfile::tempdir().unwrap();
    let reader_alone = |name: &str, text: &str, message: &str| {
        let f = dir.path().join(name);
        std::fs::write(&f, text).unwrap();
        let (code, _, err) = weft(&["check", path(&f)]);
        assert_eq!(code, 2);
        assert_eq!(err, format!("{}:{message}\n", path(&f)));
    };
    // A trace whose first line is cut short is a trace.
    reader_alone(
        "cut.jsonl",
        "{\"replica\":\"a\",\"seq\":1,\"kind\":\"write\"\n",
        "1:37: invalid JSON: EOF while parsing an object",
    );
    // A bad line after good ones.
    reader_alone(
        "t.jsonl",
        "{\"replica\":\"a\",\"seq\":1}\ngarbage\n",
        "2:1: invalid JSON: expected value",
    );
}
