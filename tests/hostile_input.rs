//! `weft check` on hostile and messy input (issue 13): bounded reports of any number of
//! findings, endless lines on pipes and devices, directories with links and subdirectories,
//! byte order marks, gzip data under any name, numbers quoted as written, long lists in
//! messages. Inputs are scaled down; the tests assert the bounds.

mod common;

use common::cli::{weft_cmd, Out};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Waits for `child` at most `secs` seconds (killing it and failing the test past that),
/// reading its output meanwhile.
fn wait(mut child: std::process::Child, secs: u64, what: &str) -> Out {
    fn drain(r: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for weft") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: weft did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Out {
        code: status.code().expect("weft exited by a signal"),
        stdout: String::from_utf8(stdout.join().unwrap()).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr.join().unwrap()).expect("stderr is UTF-8"),
    }
}

/// `weft check ARGS...` with `stdin` (nothing: closed) written on a thread.
fn check_with(args: &[&str], stdin: Option<Vec<u8>>) -> Out {
    let mut child = weft_cmd()
        .arg("check")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn weft");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        std::thread::spawn(move || {
            // weft may stop reading early: a broken pipe is fine.
            let _ = pipe.write_all(&bytes);
        });
    }
    wait(child, 120, &format!("weft check {args:?}"))
}

fn check(args: &[&str]) -> Out {
    check_with(args, None)
}

/// `weft check FILE ARGS...` on `bytes` written to a temporary file named `name`.
fn check_file(name: &str, bytes: impl AsRef<[u8]>, args: &[&str]) -> Out {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join(name);
    std::fs::write(&f, bytes).unwrap();
    let mut all = vec![s(&f)];
    all.extend_from_slice(args);
    check(&all)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

fn report(out: &Out) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {out:?}"))
}

fn codes(r: &Value, code: &str) -> usize {
    r["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .filter(|v| v["code"] == code)
        .count()
}

fn ev(replica: &str, seq: u64) -> String {
    format!("{{\"replica\":\"{replica}\",\"seq\":{seq}}}\n")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    // A stored (uncompressed) gzip member, written by hand: the binary's tests have no gzip
    // encoder. Blocks of at most 65535 bytes.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut chunks = data.chunks(65535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(c) = chunks.next() {
        let last = chunks.peek().is_none();
        out.push(u8::from(last));
        let n = c.len() as u16;
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(!n).to_le_bytes());
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

// ---- item 2: the report is bounded per code, the counts are exact ----

#[test]
fn lenient_lists_at_most_1000_malformed_lines_and_counts_them_all() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("bad.jsonl");
    let mut text = ev("a", 1);
    for i in 0..5000 {
        text.push_str(&format!("oops {i}\n"));
    }
    std::fs::write(&f, text).unwrap();

    let out = check(&[s(&f), "--lenient", "--format", "json"]);
    assert_eq!(out.code, 0, "warnings do not fail by default: {out:?}");
    let r = report(&out);
    assert_eq!(r["summary"]["warnings"], 5000, "exact count");
    assert_eq!(codes(&r, "malformed-line"), 1000, "listed");
    assert_eq!(
        r["summary"]["omitted"],
        serde_json::json!({"malformed-line": 4000})
    );
    assert!(r["violations"][0]["message"]
        .as_str()
        .unwrap()
        .contains("bad.jsonl:2:1: invalid JSON"));
    assert_eq!(
        check(&[s(&f), "--lenient", "--fail-on", "warning"]).code,
        1,
        "the exit status follows the exact count"
    );

    let out = check(&[s(&f), "--lenient"]);
    assert!(out.stdout.contains("Warnings (5000)"), "{}", out.stdout);
    assert!(
        out.stdout.contains("malformed-line (5000)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("... and 4980 more malformed-line findings not listed"),
        "{}",
        out.stdout
    );
    let out = check(&[s(&f), "--lenient", "--limit", "0"]);
    assert!(
        out.stdout
            .contains("... and 4000 more malformed-line findings not listed"),
        "{}",
        out.stdout
    );

    let out = check(&[
        s(&f),
        "--lenient",
        "--format",
        "junit",
        "--fail-on",
        "warning",
    ]);
    assert!(
        out.stdout.contains("message=\"5000 findings\""),
        "{}",
        &out.stdout[..out.stdout.len().min(2000)]
    );
    assert!(out
        .stdout
        .contains("... and 4000 more malformed-line findings not listed"));
}

#[test]
fn every_code_is_listed_at_most_1000_times_with_exact_counts() {
    // 3000 seq-gaps (warnings) and 1500 missing-events (errors).
    let mut text = String::new();
    for seq in 1..=3000u64 {
        text.push_str(&ev("g", seq * 2));
    }
    for seq in 1..=1500u64 {
        text.push_str(&format!(
            "{{\"replica\":\"m\",\"seq\":{seq},\"parents\":[[\"gone\",{seq}]]}}\n"
        ));
    }
    let out = check_file("t.jsonl", text, &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let r = report(&out);
    assert_eq!(r["summary"]["warnings"], 3000);
    assert_eq!(r["summary"]["errors"], 1500);
    assert_eq!(codes(&r, "seq-gap"), 1000);
    assert_eq!(codes(&r, "missing-event"), 1000);
    assert_eq!(
        r["summary"]["omitted"],
        serde_json::json!({"seq-gap": 2000, "missing-event": 500})
    );
    // The first ones in report order: g@2 .. g@2000, m@1 .. m@1000.
    let events: Vec<String> = r["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| format!("{}@{}", v["event"][0].as_str().unwrap(), v["event"][1]))
        .collect();
    assert_eq!(events[0], "g@2");
    assert_eq!(events[999], "g@2000");
    assert_eq!(events[1000], "m@1");
    assert_eq!(events[1999], "m@1000");

    // Under the bound nothing is omitted, and the field is not written.
    let small = format!("{}{}", ev("a", 1), ev("a", 3));
    let r = report(&check_file("small.jsonl", small, &["--format", "json"]));
    assert!(r["summary"].get("omitted").is_none(), "{r}");
}

// ---- item 3: an endless line ends the read at the limit ----

const LIMIT: &str = "line longer than 16777216 bytes";

#[cfg(unix)]
#[test]
fn dev_zero_fails_at_the_line_limit() {
    let out = check(&["/dev/zero"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.is_empty());
    assert_eq!(out.stderr.trim(), format!("/dev/zero:1: {LIMIT}"));
    // As stdin (a character device).
    let child = weft_cmd()
        .args(["check", "-"])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait(child, 120, "weft check - < /dev/zero");
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stderr.trim(), format!("<stdin>:1: {LIMIT}"));
}

#[test]
fn an_endless_line_on_a_pipe_fails_at_the_line_limit() {
    // `cat /dev/zero | weft check -`, after two good lines: the writer never stops.
    let mut child = weft_cmd()
        .args(["check", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(format!("{}{}", ev("a", 1), ev("a", 2)).as_bytes());
        let zeros = vec![0u8; 1 << 16];
        let mut written = 0u64;
        // Ends when weft closes the pipe (or, failing the test, after 1 GiB).
        while written < 1 << 30 {
            if pipe.write_all(&zeros).is_err() {
                break;
            }
            written += zeros.len() as u64;
        }
        written
    });
    let out = wait(child, 120, "cat /dev/zero | weft check -");
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stderr.trim(), format!("<stdin>:3: {LIMIT}"));
    let written = writer.join().unwrap();
    assert!(written < 1 << 30, "weft read on past the limit");
}

// ---- item 4: directories ----

#[cfg(unix)]
#[test]
fn directories_follow_links_recurse_and_name_what_they_skip() {
    use std::os::unix::fs::symlink;
    let d = tempfile::tempdir().unwrap();
    let elsewhere = d.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("r2.jsonl"), ev("r", 2)).unwrap();
    let dir = d.path().join("traces");
    std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
    std::fs::write(dir.join("r1.jsonl"), ev("r", 1)).unwrap();
    symlink(elsewhere.join("r2.jsonl"), dir.join("r2.jsonl")).unwrap();
    std::fs::write(dir.join("sub/r3.ndjson"), ev("r", 3)).unwrap();
    std::fs::write(dir.join("sub/deeper/r4.jsonl"), ev("r", 4)).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a trace\n").unwrap();
    symlink(&dir, dir.join("sub/loop")).unwrap();

    let out = check(&[s(&dir), "--format", "json", "--fail-on", "warning"]);
    assert_eq!(out.code, 0, "r@1..r@4, no seq-gap: {out:?}");
    assert_eq!(report(&out)["summary"]["events"], 4);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "weft: skipped {}: not a trace file (.jsonl, .ndjson, .jsonl.gz, .ndjson.gz or .parquet)",
                dir.join("notes.txt").display()
            ),
            format!(
                "weft: skipped {}: the same directory as {} (read once)",
                dir.join("sub/loop").display(),
                dir.display()
            ),
        ],
        "{}",
        out.stderr
    );
}

// ---- item 5: byte order marks, gzip data, numbers as written, long lists ----

#[test]
fn a_byte_order_mark_is_ignored_on_stdin_and_in_files() {
    let text = format!("\u{feff}{}{}", ev("a", 1), ev("a", 2));
    let out = check_with(&["-", "--format", "json"], Some(text.clone().into_bytes()));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(report(&out)["summary"]["events"], 2);
    let out = check_file("bom.jsonl", &text, &["--lenient", "--format", "json"]);
    let r = report(&out);
    assert_eq!(
        (
            r["summary"]["events"].clone(),
            r["summary"]["warnings"].clone()
        ),
        (2.into(), 0.into()),
        "the first event is kept: {r}"
    );
}

#[test]
fn gzip_data_is_read_on_stdin_and_under_any_name() {
    let data = gzip(format!("{}{}", ev("a", 1), ev("a", 2)).as_bytes());
    let out = check_with(&["--format", "json"], Some(data.clone()));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(report(&out)["summary"]["events"], 2);
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("not-named-gz.jsonl");
    std::fs::write(&f, &data).unwrap();
    let out = check(&[s(&f), "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(report(&out)["summary"]["events"], 2);
    // Cut short: the error says it is gzip data.
    std::fs::write(&f, &data[..data.len() - 12]).unwrap();
    let out = check(&[s(&f)]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .starts_with(&format!("{}: gzip data: ", f.display())),
        "{out:?}"
    );
}

#[test]
fn numbers_in_errors_are_quoted_as_written() {
    for (line, got) in [
        (
            r#"{"replica":"a","seq":18446744073709551616}"#,
            "18446744073709551616",
        ),
        (r#"{"replica":"a","seq":1.0}"#, "1.0"),
    ] {
        let out = check_with(&["-"], Some(format!("{line}\n").into_bytes()));
        assert_eq!(out.code, 2);
        assert_eq!(
            out.stderr.trim(),
            format!("<stdin>:1: field `seq`: must be an integer ≥ 1, got {got}")
        );
    }
}

#[test]
fn long_lists_in_messages_are_cut() {
    // One event whose parents are 5000 missing events; a message sent by 30 events.
    let parents: Vec<String> = (1..=5000).map(|i| format!("[\"gone\",{i}]")).collect();
    let mut text = format!(
        "{{\"replica\":\"a\",\"seq\":1,\"parents\":[{}]}}\n",
        parents.join(",")
    );
    for i in 1..=30 {
        text.push_str(&format!(
            "{{\"replica\":\"s{i:02}\",\"seq\":1,\"kind\":\"send\",\"msg\":\"m\"}}\n"
        ));
    }
    let out = check_file("t.jsonl", &text, &["--format", "json"]);
    let r = report(&out);
    let missing = r["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["code"] == "missing-event")
        .unwrap();
    assert_eq!(
        missing["related"].as_array().unwrap().len(),
        5000,
        "related keeps all"
    );
    let msg = missing["message"].as_str().unwrap();
    assert!(msg.len() < 1000, "{} bytes: {msg}", msg.len());
    assert!(msg.ends_with("gone@20 (a parent), and 4980 more"), "{msg}");
    let dup = r["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["code"] == "duplicate-msg")
        .unwrap();
    let msg = dup["message"].as_str().unwrap();
    assert!(
        msg.starts_with("message \"m\" is sent by 30 events: s01@1, s02@1,")
            && msg.ends_with("s20@1, and 10 more"),
        "{msg}"
    );
    // The text form cuts the related list too.
    let out = check_file("t.jsonl", &text, &[]);
    assert!(out.stdout.contains("s21@1, and 9 more"), "{}", out.stdout);
}
