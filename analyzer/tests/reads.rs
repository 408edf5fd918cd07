//! The reads check (spec section 8) on one hand-derived trace with every code and type, fed
//! whole and line by line in shuffled orders: late writes entering a read's past change its
//! verdict, and every prefix gets the verdicts of its own batch analysis.

use weft_analyzer::{analyze, render, Code, Engine};
use weft_trace::{ReadOptions, Trace};

const TRACE: &str = include_str!("data/reads-mixed.jsonl");

fn trace(text: &str) -> Trace {
    Trace::from_ndjson_str("t.jsonl", text, &ReadOptions::default()).unwrap()
}

/// (code, event, related) of every violation, as `replica@seq` text.
fn verdicts(text: &str) -> Vec<(Code, String, Vec<String>)> {
    analyze(&trace(text))
        .violations
        .iter()
        .map(|v| {
            (
                v.code,
                v.event.as_ref().unwrap().to_string(),
                v.related.iter().map(ToString::to_string).collect(),
            )
        })
        .collect()
}

#[test]
fn every_code_and_type_is_found_as_derived_by_hand() {
    // k (lww, declared by r1@1): r1@1 wrote 1, r2@2 overwrote it with 2 (r2 heard r1, r3 heard
    // r2). r3@2 reads 1: stale (r1@1 → r2@2 → r3@2); r3@3 reads 2: right; r3@4 reads 3: nobody
    // wrote 3; r1@3 reads 2: only r2@2 wrote 2, unseen by r1; r1@4 reads 1: right.
    // n (counter, inferred): 5 + 1 (an inc without value adds 1) = 6: c@3 right, c@4 reads 7.
    // set (add-wins, inferred): s adds a, b, removes a. s@4 [b] right; s@5 [a, b] stale (s@1
    // added a, s@3 removed it); s@6 [b, b] repeats; s@7 has z, never added; s@8 has q, added
    // only by t@1, unseen.
    // tc: x@1 declares mv (the smallest declaring event), y@1 declares lww: a type conflict,
    // and tc's read is not checked.
    let want = [
        (Code::ReadMismatch, "c@4", vec![]),
        (Code::ReadOfUnseenWrite, "r1@3", vec!["r2@2"]),
        (Code::StaleRead, "r3@2", vec!["r1@1", "r2@2"]),
        (Code::ReadMismatch, "r3@4", vec![]),
        (Code::StaleRead, "s@5", vec!["s@1", "s@3"]),
        (Code::ReadMismatch, "s@6", vec![]),
        (Code::ReadMismatch, "s@7", vec![]),
        (Code::ReadOfUnseenWrite, "s@8", vec!["t@1"]),
        (Code::CrdtTypeConflict, "y@1", vec!["x@1"]),
    ];
    let want: Vec<(Code, String, Vec<String>)> = want
        .into_iter()
        .map(|(c, e, r)| (c, e.to_string(), r.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(verdicts(TRACE), want);
    let report = analyze(&trace(TRACE));
    // k: 5 reads, n: 2, set: 5; tc's read is not checked.
    assert_eq!(report.summary.reads_checked, 12);
    let stale = &report.violations[2];
    let ev = stale.read.as_ref().unwrap();
    let chain: Vec<String> = ev.chain.iter().map(ToString::to_string).collect();
    assert_eq!(chain, ["r1@1", "r2@2", "r3@2"]);
    assert_eq!(ev.expected, serde_json::json!([2]));
    assert!(ev.one_of);
    assert!(
        stale.message.contains("(r1@1 → r2@2 → r3@2)"),
        "{}",
        stale.message
    );
    let counter = &report.violations[0];
    assert_eq!(
        counter.message,
        "c@4 read n = 7, expected 6 (the sum of 2 increments it has seen)"
    );
}

#[test]
fn a_cycle_stops_the_reads_but_not_the_type_conflicts() {
    let text = format!(
        "{TRACE}{}\n{}\n",
        r#"{"replica":"z","seq":1,"parents":[["z2",1]]}"#,
        r#"{"replica":"z2","seq":1,"parents":[["z",1]]}"#
    );
    let report = analyze(&trace(&text));
    assert!(!report.summary.complete);
    assert_eq!(report.summary.reads_checked, 0);
    let codes: Vec<Code> = report.violations.iter().map(|v| v.code).collect();
    assert_eq!(codes, [Code::CrdtTypeConflict, Code::CausalityCycle]);
}

/// xorshift64*: seeded shuffles that replay.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        let r = seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
        items.swap(i, (r % (i as u64 + 1)) as usize);
    }
}

#[test]
fn fed_line_by_line_in_any_order_every_prefix_gets_its_batch_verdicts() {
    let mut lines: Vec<&str> = TRACE.lines().collect();
    for seed in 1..=8u64 {
        shuffle(&mut lines, seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut engine = Engine::new();
        for (i, line) in lines.iter().enumerate() {
            let batch =
                Trace::batch_from_ndjson("l", &format!("{line}\n"), &ReadOptions::default())
                    .unwrap();
            engine.feed(batch);
            let prefix = lines[..=i].join("\n") + "\n";
            assert_eq!(
                render::json(&engine.report()),
                render::json(&analyze(&trace(&prefix))),
                "seed {seed}, after {} lines",
                i + 1
            );
        }
    }
}
