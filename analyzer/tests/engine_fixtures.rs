//! The golden fixtures fed to the incremental engine one line at a time, in shuffled orders:
//! after every line the engine's report equals the batch analysis of the lines so far, and at
//! the end (where which copy of a duplicated id comes first cannot matter) the fixture's golden
//! report.

use std::path::{Path, PathBuf};

use weft_analyzer::{analyze, render, Engine};
use weft_trace::{ReadOptions, Trace};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .filter(|p| p.with_extension("report.json").exists())
        .collect();
    out.sort();
    out
}

/// A seeded Fisher–Yates shuffle (xorshift64*), so failures replay.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        let r = seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
        items.swap(i, (r % (i as u64 + 1)) as usize);
    }
}

fn batch_json(lines: &[&str]) -> Option<String> {
    let text = lines.join("\n") + "\n";
    let trace = Trace::from_ndjson_str("f.jsonl", &text, &ReadOptions::default()).ok()?;
    Some(render::json(&analyze(&trace)))
}

#[test]
fn every_fixture_fed_line_by_line_in_shuffled_orders_matches() {
    let files = fixtures();
    assert!(files.len() >= 15, "found {} fixtures", files.len());
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let golden = std::fs::read_to_string(f.with_extension("report.json")).unwrap();
        let golden: serde_json::Value = serde_json::from_str(&golden).unwrap();
        let mut lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.contains("\"format\""))
            .collect();
        for seed in [1u64, 0x9e37_79b9_7f4a_7c15, 0xdead_beef] {
            shuffle(&mut lines, seed);
            let mut engine = Engine::new();
            for (i, line) in lines.iter().enumerate() {
                let batch =
                    Trace::batch_from_ndjson("line", &format!("{line}\n"), &ReadOptions::default())
                        .unwrap();
                engine.feed(batch);
                let got = render::json(&engine.report());
                if let Some(want) = batch_json(&lines[..=i]) {
                    assert_eq!(
                        got,
                        want,
                        "{} (seed {seed:#x}) after {} lines",
                        f.display(),
                        i + 1
                    );
                }
            }
            let duplicated = engine.trace().duplicates() > 0
                || !engine.trace().conflicting_duplicates().is_empty();
            if !duplicated {
                let got: serde_json::Value =
                    serde_json::from_str(&render::json(&engine.report())).unwrap();
                assert_eq!(got, golden, "{} (seed {seed:#x})", f.display());
            }
        }
    }
}
