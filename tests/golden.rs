//! Golden tests: `weft check --format json` on every fixture equals the committed report.
//!
//! The reports in `fixtures/*.report.json` were derived by hand from the spec (see
//! `fixtures/README.md`), then their human `message` texts, and the read verdicts' `read`
//! evidence objects (a presentation of the verdict the spec does not define; the property tests
//! in `analyzer/tests/reads_props.rs` check them against the reference), were filled in from the
//! tool. To accept new ones after a deliberate change, run with `WEFT_BLESS=1` and review the
//! diff: blessing never changes anything else, and only when everything else matches.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .filter(|p| p.with_extension("report.json").exists())
        .collect();
    out.sort();
    out
}

/// The report without what blessing may fill in: messages and read evidence.
fn strip_messages(mut v: Value) -> Value {
    if let Some(vs) = v.get_mut("violations").and_then(Value::as_array_mut) {
        for x in vs {
            let x = x.as_object_mut().expect("violation object");
            x.remove("message");
            x.remove("read");
        }
    }
    v
}

#[test]
fn every_fixture_matches_its_golden_report() {
    let files = fixtures();
    assert!(
        files.len() >= 15,
        "expected the fixture set, found {}",
        files.len()
    );
    let bless = std::env::var_os("WEFT_BLESS").is_some();
    let mut failures = Vec::new();
    for f in &files {
        let out = Command::new(env!("CARGO_BIN_EXE_weft"))
            .args(["check", "--format", "json"])
            .arg(f)
            .output()
            .expect("run weft");
        assert!(
            out.status.code() == Some(0) || out.status.code() == Some(1),
            "{}: {:?}",
            f.display(),
            out
        );
        let got: Value = serde_json::from_slice(&out.stdout).expect("json report");
        let golden_path = f.with_extension("report.json");
        let golden: Value =
            serde_json::from_str(&std::fs::read_to_string(&golden_path).unwrap()).unwrap();
        if got == golden && !bless {
            let errors = got["summary"]["errors"].as_u64().unwrap();
            assert_eq!(
                out.status.code(),
                Some(i32::from(errors > 0)),
                "{}: exit status",
                f.display()
            );
            continue;
        }
        if bless && strip_messages(got.clone()) == strip_messages(golden.clone()) {
            std::fs::write(&golden_path, &out.stdout).unwrap();
            continue;
        }
        failures.push(format!(
            "{}:\n  got:    {}\n  golden: {}",
            f.display(),
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&golden).unwrap()
        ));
    }
    assert!(
        failures.is_empty(),
        "reports differ from goldens:\n{}",
        failures.join("\n")
    );
}
