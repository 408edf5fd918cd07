//! `weft import automerge` and `--input automerge`, end to end through the binary, on the
//! documents written by Automerge's JavaScript package (fixtures/automerge).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/automerge")
        .join(name)
}

fn weft(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or_default()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn unresolved_keys(report: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(report).unwrap();
    v["unresolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["key"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_imported_document_checks_as_the_document_itself() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("todo.jsonl");
    let todo = data("todo.automerge");
    let (code, stdout, err) = weft(&["import", "automerge", s(&todo), "-o", s(&out)], None);
    assert_eq!((code, stdout.as_str(), err.as_str()), (0, "", ""));
    let text = std::fs::read_to_string(&out).unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["name"], "weft import automerge");

    let (code, from_file, err) = weft(&["check", s(&out), "--format", "json"], None);
    assert_eq!(code, 0, "{err}");
    let (code, direct, err) = weft(
        &[
            "check",
            "--input",
            "automerge",
            s(&todo),
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(direct, from_file);
    // The concurrent done flags, and the delete beside a concurrent put.
    assert_eq!(unresolved_keys(&direct), ["note", "todos/0/done"]);

    // From stdin, and as a save plus an incremental save in either order.
    let bytes = std::fs::read(&todo).unwrap();
    let (code, piped, _) = weft(
        &["check", "--input", "automerge", "-", "--format", "json"],
        Some(&bytes),
    );
    assert_eq!((code, piped), (0, direct));
    let (base, inc) = (data("base.automerge"), data("later.incremental"));
    let (code, one, err) = weft(&["import", "automerge", s(&base), s(&inc)], None);
    assert_eq!(code, 0, "{err}");
    let (code, two, err) = weft(&["import", "automerge", s(&inc), s(&base)], None);
    assert_eq!(code, 0, "{err}");
    let body = |t: &str| {
        let mut lines: Vec<String> = t.lines().skip(1).map(String::from).collect();
        lines.sort();
        lines
    };
    assert_eq!(body(&one), body(&two));

    let (code, dot, err) = weft(
        &["export", "--input", "automerge", s(&todo), "--to", "dot"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(dot.starts_with("digraph"), "{dot}");
}

#[test]
fn bad_documents_exit_2_naming_the_file_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let json = data("expected.json");
    let (code, stdout, err) = weft(&["import", "automerge", s(&json), "-o", s(&out)], None);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(
        err.starts_with(&format!(
            "weft import: {}: not an Automerge document (it looks like JSON",
            s(&json)
        )),
        "{err}"
    );
    assert!(!out.exists(), "no partial trace");

    let mut bytes = std::fs::read(data("todo.automerge")).unwrap();
    bytes[6] ^= 1;
    let bad = dir.path().join("bad.automerge");
    std::fs::write(&bad, &bytes).unwrap();
    let (code, _, err) = weft(&["check", "--input", "automerge", s(&bad)], None);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{}: checksum mismatch", s(&bad))),
        "{err}"
    );

    let cut = dir.path().join("cut.automerge");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (code, _, err) = weft(&["tui", "--input", "automerge", s(&cut)], None);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("{}: ", s(&cut))), "{err}");

    let inc = data("later.incremental");
    let (code, _, err) = weft(&["import", "automerge", s(&inc)], None);
    assert_eq!(code, 2);
    assert!(
        err.contains("changes that no input holds are needed"),
        "{err}"
    );
}
