//! Hostile and messy input (issue 13): what the reader keeps of any number of malformed lines,
//! where it stops on an endless line, byte order marks, gzip data under any name, numbers
//! quoted as written, and what a directory contributes (links, subdirectories, and every entry
//! left out named).

use std::io::{self, BufReader, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use weft_trace::{
    expand_paths, Input, ReadError, ReadOptions, Trace, TraceBuilder, MAX_MALFORMED_KEPT,
};

fn lenient() -> ReadOptions {
    ReadOptions {
        lenient: true,
        ..ReadOptions::default()
    }
}

fn strict_err(text: &str) -> String {
    match Trace::from_ndjson_str("t.jsonl", text, &ReadOptions::default()) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.to_string(),
    }
}

// ---- item 2: malformed lines are kept up to a bound and counted exactly ----

/// `bad` malformed lines, then one event.
fn malformed_text(bad: usize) -> String {
    let mut t = String::new();
    for i in 0..bad {
        t.push_str(&format!("not json {i}\n"));
    }
    t.push_str("{\"replica\":\"a\",\"seq\":1}\n");
    t
}

#[test]
fn lenient_reads_keep_the_first_malformed_lines_and_count_them_all() {
    let bad = 3 * MAX_MALFORMED_KEPT + 7;
    let text = malformed_text(bad);
    for threads in [1, 4] {
        let mut b = TraceBuilder::new(lenient()).threads(threads);
        b.read("m.jsonl", text.as_bytes()).unwrap();
        let t = b.finish().unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(MAX_MALFORMED_KEPT, 1000, "the documented bound");
        assert_eq!(t.malformed().len(), 1000, "{threads} threads: kept");
        assert_eq!(
            t.malformed_count(),
            bad as u64,
            "{threads} threads: counted"
        );
        // The first ones, in input order.
        let lines: Vec<u64> = t.malformed().iter().map(|m| m.line).collect();
        assert_eq!(lines, (1..=1000).collect::<Vec<u64>>());
    }
    // Under the bound everything is kept.
    let t = Trace::from_ndjson_str("m.jsonl", &malformed_text(5), &lenient()).unwrap();
    assert_eq!((t.malformed().len(), t.malformed_count()), (5, 5));
}

#[test]
fn appended_batches_keep_the_same_bound_and_exact_count() {
    let opts = lenient();
    let mut t = Trace::default();
    let mut counted = 0;
    for n in 0..3 {
        let batch =
            Trace::batch_from_ndjson(&format!("b{n}"), &malformed_text(600), &opts).unwrap();
        assert_eq!(batch.malformed_count(), 600);
        let a = t.append(batch);
        assert_eq!(a.malformed_count, 600);
        counted += a.malformed.len();
    }
    assert_eq!(t.malformed().len(), MAX_MALFORMED_KEPT);
    assert_eq!(counted, MAX_MALFORMED_KEPT);
    assert_eq!(t.malformed_count(), 1800);
    // The kept ones are the first 1000 of the whole stream: all of b0, 400 of b1.
    assert_eq!(t.malformed()[599].source, "b0");
    assert_eq!(t.malformed()[600].source, "b1");
    assert_eq!(t.malformed()[999].line, 400);
}

// ---- item 3: the line limit stops reading at the limit, on any input ----

/// An endless stream of `byte` (no newline ever, like /dev/zero), counting what was read from
/// it, after `prefix`.
struct Endless {
    prefix: io::Cursor<Vec<u8>>,
    byte: u8,
    read: Arc<AtomicU64>,
    /// Ends the stream after this many bytes, so that a reader that reads to the end of the
    /// line fails the test instead of hanging it.
    cap: u64,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.prefix.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        let so_far = self.read.load(Ordering::Relaxed);
        let n = buf.len().min((self.cap - so_far) as usize);
        buf[..n].fill(self.byte);
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[test]
fn an_endless_line_stops_the_read_at_the_limit() {
    const MAX: usize = 1 << 20;
    const CAP: u64 = 256 << 20;
    for threads in [1, 4] {
        for byte in [0u8, b'x'] {
            let read = Arc::new(AtomicU64::new(0));
            let endless = Endless {
                prefix: io::Cursor::new(
                    b"{\"replica\":\"a\",\"seq\":1}\n{\"replica\":\"a\",\"seq\":2}\n".to_vec(),
                ),
                byte,
                read: Arc::clone(&read),
                cap: CAP,
            };
            let mut b = TraceBuilder::new(ReadOptions {
                lenient: false,
                max_line_bytes: MAX,
            })
            .threads(threads);
            let e = b
                .read("/dev/zero", BufReader::with_capacity(64 << 10, endless))
                .unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("/dev/zero:3: line longer than {MAX} bytes"),
                "{threads} threads"
            );
            // Read up to the limit, plus at most a block and a buffer: never to the end.
            let got = read.load(Ordering::Relaxed);
            assert!(
                got <= (MAX as u64) + (3 << 20),
                "{threads} threads read {got} bytes of an endless line (limit {MAX})"
            );
            assert_eq!(b.len(), 2, "the lines before it were read");
        }
    }
}

#[test]
fn lenient_reads_still_skip_an_over_long_line_to_its_end() {
    let mut text = b"{\"replica\":\"a\",\"seq\":1}\n".to_vec();
    text.extend(std::iter::repeat_n(b'x', 5000));
    text.extend_from_slice(b"\n{\"replica\":\"a\",\"seq\":2}\n");
    for threads in [1, 4] {
        let mut b = TraceBuilder::new(ReadOptions {
            lenient: true,
            max_line_bytes: 1000,
        })
        .threads(threads);
        b.read("p", &text[..]).unwrap();
        let t = b.finish().unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.malformed()[0].to_string(),
            "p:2: line longer than 1000 bytes"
        );
    }
}

// ---- item 5: byte order marks, gzip data under any name, numbers as written ----

const BOM: &str = "\u{feff}";

#[test]
fn a_byte_order_mark_starting_a_line_is_ignored() {
    let text = format!("{BOM}{{\"replica\":\"a\",\"seq\":1}}\n{{\"replica\":\"a\",\"seq\":2}}\n");
    let t = Trace::from_ndjson_str("t.jsonl", &text, &ReadOptions::default()).unwrap();
    assert_eq!(t.len(), 2);
    // Lenient: the first event is not dropped.
    let t = Trace::from_ndjson_str("t.jsonl", &text, &lenient()).unwrap();
    assert_eq!((t.len(), t.malformed_count()), (2, 0));
    // Before a header; and where files were concatenated (`cat a.jsonl b.jsonl`).
    let text = format!(
        "{BOM}{{\"format\":\"weft-trace/1\"}}\n{{\"replica\":\"a\",\"seq\":1}}\n{BOM}{{\"replica\":\"b\",\"seq\":1}}\r\n"
    );
    let t = Trace::from_ndjson_str("t.jsonl", &text, &ReadOptions::default()).unwrap();
    assert_eq!((t.len(), t.headers().len()), (2, 1));
    // A syntax error's column counts the mark's three bytes.
    assert_eq!(
        strict_err(&format!("{BOM}{{\"replica\":\"a\",,}}\n")),
        "t.jsonl:1:19: invalid JSON: key must be a string"
    );
    // The same through the checker servers use.
    let mut c = weft_trace::LineChecker::new();
    let line = format!("{BOM}{{\"replica\":\"a\",\"seq\":1}}");
    assert!(matches!(
        c.check(line.as_bytes()),
        Ok(weft_trace::CheckedLine::Event { seq: 1, .. })
    ));
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn read_file(path: &Path) -> Result<Trace, ReadError> {
    Trace::read_inputs(&[Input::File(path.to_path_buf())], &ReadOptions::default())
}

#[test]
fn gzip_data_is_recognised_whatever_the_file_is_called() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{BOM}{{\"replica\":\"a\",\"seq\":1}}\n{{\"replica\":\"a\",\"seq\":2}}\n");
    for name in ["t.jsonl", "t.ndjson", "t", "t.jsonl.gz"] {
        let path = dir.path().join(name);
        std::fs::write(&path, gzip(text.as_bytes())).unwrap();
        let t = read_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.len(), 2, "{name}");
    }
    // Two gzip members, as `cat a.gz b.gz` makes.
    let mut two = gzip(b"{\"replica\":\"a\",\"seq\":1}\n");
    two.extend(gzip(b"{\"replica\":\"a\",\"seq\":2}\n"));
    let path = dir.path().join("two.jsonl");
    std::fs::write(&path, two).unwrap();
    assert_eq!(read_file(&path).unwrap().len(), 2);
    // Broken gzip data says so.
    let mut cut = gzip(text.as_bytes());
    cut.truncate(cut.len() / 2);
    for name in ["cut.jsonl", "cut.jsonl.gz"] {
        let path = dir.path().join(name);
        std::fs::write(&path, &cut).unwrap();
        let e = read_file(&path).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: gzip data: ", path.display())),
            "{e}"
        );
    }
    // Other compressed data and UTF-16 are refused with a reason, not "invalid JSON".
    for (bytes, what) in [
        (&b"\xfd7zXZ\x00\x00\x04"[..], "xz data"),
        (&b"\x28\xb5\x2f\xfd\x00\x00"[..], "zstd data"),
        (&b"BZh91AY&SY"[..], "bzip2 data"),
        (&b"\xff\xfe{\x00\"\x00"[..], "UTF-16 text"),
    ] {
        let path = dir.path().join("odd.jsonl");
        std::fs::write(&path, bytes).unwrap();
        let e = read_file(&path).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "{}: {what}: weft reads UTF-8 NDJSON",
                path.display()
            )),
            "{e}"
        );
    }
}

#[test]
fn rejected_numbers_are_quoted_as_written() {
    let long = format!("{}.5", "1".repeat(100));
    let cases = [
        (r#"{"replica":"a","seq":18446744073709551616}"#.to_string(), "field `seq`: must be an integer ≥ 1, got 18446744073709551616"),
        (r#"{"replica":"a","seq":1.0}"#.to_string(), "field `seq`: must be an integer ≥ 1, got 1.0"),
        (r#"{"replica":"a","seq": 1e2 ,"kind":"local"}"#.to_string(), "field `seq`: must be an integer ≥ 1, got 1e2"),
        (r#"{"replica":"a","seq":-0}"#.to_string(), "field `seq`: must be an integer ≥ 1, got -0"),
        (r#"{"replica":"a","seq":1,"lamport":1.5e300}"#.to_string(), "field `lamport`: must be an integer ≥ 0, got 1.5e300"),
        (r#"{"replica":"a","seq":1,"lamport":-18446744073709551617}"#.to_string(), "field `lamport`: must be an integer ≥ 0, got -18446744073709551617"),
        (r#"{"replica":"a","seq":1,"vc":{"b":1,"a":2.50}}"#.to_string(), "field `vc`: must be an integer ≥ 0, got 2.50 (entry \"a\")"),
        (r#"{"replica":"a","seq":1,"vc":{"a":-1}}"#.to_string(), "field `vc`: must be an integer ≥ 0, got -1 (entry \"a\")"),
        (r#"{"replica":"a","seq":1,"vc":2.0}"#.to_string(), "field `vc`: must be an object, got 2.0"),
        (r#"{"replica":"a","seq":1,"wall_ns":9.3e18}"#.to_string(), "field `wall_ns`: must be a 64-bit integer, got 9.3e18"),
        (r#"{"replica":"a","seq":1,"kind":"send","msg":1.50}"#.to_string(), "field `msg`: must be a string, got 1.50"),
        (r#"{"replica":"a","seq":1,"parents":[["b",1.0]]}"#.to_string(), "field `parents`: entry 0: the seq must be an integer ≥ 1, got 1.0 (expected [replica, seq])"),
        (r#"{"replica":"a","seq":1,"parents":[["b",2],["b", 18446744073709551616 ]]}"#.to_string(), "field `parents`: entry 1: the seq must be an integer ≥ 1, got 18446744073709551616 (expected [replica, seq])"),
        (r#"{"replica":"a","seq":1,"parents":[["b","3"]]}"#.to_string(), "field `parents`: entry 0: the seq must be an integer ≥ 1, got \"3\" (expected [replica, seq])"),
        (r#"{"replica":"a","seq":1,"parents":[["b",1,2]]}"#.to_string(), "field `parents`: entry 0: got 3 elements (expected [replica, seq])"),
        (r#"{"replica":"a","seq":1,"parents":["b"]}"#.to_string(), "field `parents`: entry 0: got a string (expected [replica, seq])"),
        (r#"{"replica":"a","seq":1,"parents":[{"b":1}]}"#.to_string(), "field `parents`: entry 0: got an object (expected [replica, seq])"),
        ("1.0".to_string(), "not a JSON object (got floating point `1.0`)"),
        (format!(r#"{{"replica":"a","seq":{long}}}"#), "field `seq`: must be an integer ≥ 1, got 1111111111111111111111111111111111111111… (102 bytes)"),
    ];
    for (line, want) in cases {
        assert_eq!(
            strict_err(&format!("{line}\n")),
            format!("t.jsonl:1: {want}"),
            "{line}"
        );
        // The same through the checker servers use.
        let e = weft_trace::LineChecker::new()
            .check(line.as_bytes())
            .unwrap_err();
        assert_eq!(e.reason, want, "{line}");
    }
}

// ---- item 4: directories ----

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn ev(replica: &str, seq: u64) -> String {
    format!("{{\"replica\":\"{replica}\",\"seq\":{seq}}}\n")
}

fn names(inputs: &[Input], root: &Path) -> Vec<String> {
    inputs
        .iter()
        .map(|i| match i {
            Input::File(p) | Input::LastSegment(p) => {
                p.strip_prefix(root).unwrap().display().to_string()
            }
            Input::Stdin => "-".to_string(),
        })
        .collect()
}

#[test]
fn a_directory_is_read_with_its_subdirectories_in_path_order() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    write(&root.join("b.jsonl"), &ev("a", 2));
    std::fs::create_dir_all(root.join("a/deep/er")).unwrap();
    write(&root.join("a/x.ndjson"), &ev("a", 1));
    write(&root.join("a/deep/er/y.jsonl"), &ev("b", 1));
    std::fs::create_dir(root.join("c")).unwrap();
    write(&root.join("c/z.jsonl"), &ev("c", 1));
    write(&root.join("a.jsonl"), &ev("a", 3));
    write(&root.join("notes.txt"), "not a trace\n");
    std::fs::create_dir(root.join("empty")).unwrap();
    let e = expand_paths(&[root]).unwrap();
    assert_eq!(
        names(&e.inputs, root),
        [
            "a/deep/er/y.jsonl",
            "a/x.ndjson",
            "a.jsonl",
            "b.jsonl",
            "c/z.jsonl"
        ]
    );
    let skipped: Vec<String> = e.skipped.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        skipped,
        [format!(
            "{}: not a trace file (.jsonl, .ndjson, .jsonl.gz, .ndjson.gz or .parquet)",
            root.join("notes.txt").display()
        )]
    );
    // A subdirectory that is a collector's data directory keeps its last-segment rule.
    std::fs::create_dir(root.join("data")).unwrap();
    write(&root.join("data/segment-000001.jsonl"), &ev("d", 1));
    write(&root.join("data/segment-000002.jsonl"), &ev("d", 2));
    write(&root.join("data/collector.lock"), "1\n");
    let e = expand_paths(&[root]).unwrap();
    assert!(e
        .inputs
        .contains(&Input::File(root.join("data/segment-000001.jsonl"))));
    assert!(e
        .inputs
        .contains(&Input::LastSegment(root.join("data/segment-000002.jsonl"))));
    assert_eq!(
        e.skipped.len(),
        1,
        "the lock file is not named: {:?}",
        e.skipped
    );
}

#[cfg(unix)]
#[test]
fn links_are_followed_once_and_every_entry_left_out_is_named() {
    use std::os::unix::fs::symlink;
    let d = tempfile::tempdir().unwrap();
    let outside = d.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    write(&outside.join("linked.jsonl"), &ev("l", 1));
    let root = d.path().join("traces");
    std::fs::create_dir(&root).unwrap();
    write(&root.join("a.jsonl"), &ev("a", 1));
    // A link to a trace file elsewhere, and one to a file of this directory.
    symlink(outside.join("linked.jsonl"), root.join("b.jsonl")).unwrap();
    symlink(root.join("a.jsonl"), root.join("c.jsonl")).unwrap();
    // A link to a directory, and a loop back to the directory itself.
    symlink(&outside, root.join("d")).unwrap();
    symlink(&root, root.join("loop")).unwrap();
    // A hidden directory, a fifo, a link to nothing that is not a trace name.
    std::fs::create_dir(root.join(".git")).unwrap();
    write(&root.join(".git/x.jsonl"), &ev("git", 1));
    symlink(root.join("nothing"), root.join("stale.txt")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(root.join("pipe.jsonl"))
        .status()
        .is_ok_and(|s| s.success());

    let e = expand_paths(&[&root]).unwrap();
    assert_eq!(
        names(&e.inputs, &root),
        ["a.jsonl", "b.jsonl"],
        "{:?}",
        e.skipped
    );
    let skipped: Vec<(String, String)> = e
        .skipped
        .iter()
        .map(|s| {
            let name = s.path.strip_prefix(&root).unwrap().display().to_string();
            (name, s.reason.clone())
        })
        .collect();
    let same =
        |what: &str, first: &Path| format!("the same {what} as {} (read once)", first.display());
    let mut want = vec![
        (".git", "a hidden directory (not entered)".to_string()),
        ("c.jsonl", same("file", &root.join("a.jsonl"))),
        // Through the link `d`: the file `b.jsonl` already led to.
        ("d/linked.jsonl", same("file", &root.join("b.jsonl"))),
        ("loop", same("directory", &root)),
    ];
    if fifo {
        want.push(("pipe.jsonl", "not a regular file".to_string()));
    }
    assert_eq!(skipped.len(), want.len() + 1, "{skipped:?}");
    for (w, got) in want.iter().zip(&skipped) {
        assert_eq!(
            (w.0, w.1.as_str()),
            (got.0.as_str(), got.1.as_str()),
            "{skipped:?}"
        );
    }
    let last = skipped.last().unwrap();
    assert_eq!(last.0, "stale.txt");
    assert!(
        last.1
            .starts_with("a symbolic link that cannot be followed ("),
        "{last:?}"
    );
    // The trace read: every event once.
    let t = Trace::read_inputs(&e.inputs, &ReadOptions::default()).unwrap();
    assert_eq!((t.len(), t.duplicates()), (2, 0));

    // A link named like a trace file that leads nowhere is an error, like an unreadable file.
    symlink(root.join("gone.jsonl"), root.join("e.jsonl")).unwrap();
    let err = expand_paths(&[&root]).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}: ", root.join("e.jsonl").display())),
        "{err}"
    );
}
