//! `Engine::check` (what `weft check` runs) discards clocks nothing will read again and cuts
//! the clocks of writes of keys with few writers down to those writers. Its report must be the
//! report of the engine that keeps everything. Random traces are small, so their clocks are
//! rarely wide enough for the cut-down clocks (a clock 16 times wider than the key's writer
//! set); these traces are built to be.

use weft_analyzer::{render, Engine};
use weft_trace::{ReadOptions, Trace};

/// A message relayed along `n` replicas, then broadcast to the last ones, which write keys
/// concurrently (and some after hearing of each other): every write's clock has about `n`
/// entries, its key two or three writers.
fn relay_then_writes(n: usize) -> String {
    let mut lines = Vec::new();
    for i in 0..n {
        let r = format!("r{i:03}");
        if i > 0 {
            lines.push(format!(
                r#"{{"replica":"{r}","seq":1,"kind":"recv","msg":"m{}"}}"#,
                i - 1
            ));
        }
        let seq = if i > 0 { 2 } else { 1 };
        lines.push(format!(
            r#"{{"replica":"{r}","seq":{seq},"kind":"send","msg":"m{i}"}}"#
        ));
    }
    let last = n - 1;
    for w in ["wa", "wb", "wc"] {
        lines.push(format!(
            r#"{{"replica":"{w}","seq":1,"kind":"recv","msg":"m{last}"}}"#
        ));
        lines.push(format!(
            r#"{{"replica":"{w}","seq":2,"kind":"write","key":"k","value":"{w}"}}"#
        ));
        lines.push(format!(
            r#"{{"replica":"{w}","seq":3,"kind":"write","key":"s","op":"add","value":1}}"#
        ));
    }
    // wa hears of wb's writes and overwrites: wb's write of k is no longer maximal, wa's
    // second write conflicts with wc's.
    lines.push(r#"{"replica":"wb","seq":4,"kind":"send","msg":"b"}"#.to_owned());
    lines.push(r#"{"replica":"wa","seq":4,"kind":"recv","msg":"b"}"#.to_owned());
    lines.push(r#"{"replica":"wa","seq":5,"kind":"write","key":"k","value":"again"}"#.to_owned());
    lines.push(
        r#"{"replica":"wa","seq":6,"kind":"write","key":"s","op":"remove","value":1}"#.to_owned(),
    );
    // And back: wb hears of wa's writes (so every writer's entry is read by someone).
    lines.push(r#"{"replica":"wa","seq":7,"kind":"send","msg":"a"}"#.to_owned());
    lines.push(r#"{"replica":"wb","seq":5,"kind":"recv","msg":"a"}"#.to_owned());
    lines.push(r#"{"replica":"wb","seq":6,"kind":"write","key":"k","value":"last"}"#.to_owned());
    lines.join("\n")
}

#[test]
fn check_with_cut_down_clocks_reports_what_the_full_engine_does() {
    for n in [40, 100, 300] {
        let text = relay_then_writes(n);
        let trace = Trace::from_ndjson_str("t.jsonl", &text, &ReadOptions::default()).unwrap();
        let want = Engine::from_trace(trace.clone()).into_report();
        assert!(want.summary.conflicts >= 3, "{n}: the trace has conflicts");
        assert_eq!(want.summary.errors, 0, "{n}: {:?}", want.violations);
        // What the TUI takes: the report moved out, and the trace back.
        let mut engine = Engine::from_trace(trace.clone());
        let shared = engine.report();
        let (moved, back) = engine.into_report_and_trace();
        assert_eq!(render::json(&moved), render::json(&shared), "{n} replicas");
        assert_eq!(back.len(), trace.len());
        let got = Engine::check(trace);
        assert_eq!(render::json(&got), render::json(&want), "{n} replicas");
    }
}
