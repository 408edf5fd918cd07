//! Cross-checks the hand-written golden reports in the workspace's `fixtures/` directory against
//! the brute-force reference: for every `fixtures/NAME.jsonl` with a sibling `NAME.report.json`,
//! `brute_report(lines)` must equal the golden report with its `"message"` fields and read
//! evidence (`"read"`, filled in from the tool like the messages) removed.
//!
//! Fixtures that contain malformed lines (they need `--lenient`, which the reference doesn't
//! model) are skipped and listed. The test fails when no fixture could be compared at all.

mod brute;

use brute::{brute_report, json_diff, malformed_reason, project_to_spec, strip_messages};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))
}

/// `Some(reason)` when some non-header, non-blank line isn't a well-formed event.
fn needs_lenient(lines: &[String]) -> Option<String> {
    let mut first = true;
    for (i, l) in lines.iter().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let v: Value = match serde_json::from_str(l) {
            Ok(v) => v,
            Err(e) => return Some(format!("line {}: {e}", i + 1)),
        };
        let is_header = first && v.as_object().is_some_and(|o| o.contains_key("format"));
        first = false;
        if is_header {
            continue;
        }
        if let Some(why) = malformed_reason(&v) {
            return Some(format!("line {}: {why}", i + 1));
        }
    }
    None
}

fn fixtures_with_reports(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut out: Vec<(PathBuf, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .filter_map(|p| {
            let stem = p.file_stem()?.to_str()?.to_string();
            let report = p.with_file_name(format!("{stem}.report.json"));
            report.exists().then_some((p, report))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn golden_reports_match_brute_force_reference() {
    let dir = fixtures_dir();
    let fixtures = fixtures_with_reports(&dir);
    assert!(
        !fixtures.is_empty(),
        "no fixtures/*.jsonl with a sibling *.report.json found in {}",
        dir.display()
    );

    let mut compared = 0;
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    for (trace_path, report_path) in &fixtures {
        let text = std::fs::read_to_string(trace_path).unwrap();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if let Some(why) = needs_lenient(&lines) {
            skipped.push(format!("{} ({why})", trace_path.display()));
            continue;
        }
        let golden_text = std::fs::read_to_string(report_path).unwrap();
        let golden: Value = serde_json::from_str(&golden_text)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", report_path.display()));
        let golden = strip_messages(&project_to_spec(&golden));
        let brute = brute_report(&lines);
        compared += 1;
        if golden != brute {
            failures.push(format!(
                "--- {} (golden vs brute)\n{}\n=== brute\n{}",
                trace_path.display(),
                json_diff(&golden, &brute),
                serde_json::to_string_pretty(&brute).unwrap()
            ));
        }
    }
    for s in &skipped {
        eprintln!("skipped (needs --lenient): {s}");
    }
    eprintln!(
        "compared {compared} golden reports, skipped {}",
        skipped.len()
    );
    assert!(
        compared > 0,
        "every fixture with a report was skipped: {skipped:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {compared} golden reports disagree with the brute-force reference:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
