//! The analysis spreads per-key conflicts, per-key read verdicts and the JSON report's items
//! over threads. The report must be byte for byte the single-threaded one: on every fixture, and
//! on generated traces with thousands of keys in conflict and reads to judge (enough keys that
//! the work is really split), in one batch (`weft check`) and fed in batches (the collector).

use weft_analyzer::{render, Engine, Report};
use weft_trace::{ReadOptions, Trace};

fn json(report: &Report, threads: usize) -> Vec<u8> {
    let mut out = Vec::new();
    render::write_json_on(report, &mut out, threads).unwrap();
    out
}

fn read(name: &str, text: &str) -> Trace {
    Trace::from_ndjson_str(name, text, &ReadOptions::default()).unwrap()
}

/// `weft check`'s report and its JSON on one thread and on several: the same bytes.
fn same_on_any_threads(trace: &Trace) -> Report {
    let one = Engine::check_on(trace.clone(), 1);
    let want = json(&one, 1);
    for threads in [2, 3, 8] {
        let many = Engine::check_on(trace.clone(), threads);
        assert_eq!(many, one, "{threads} threads");
        let got = json(&many, threads);
        assert!(got == want, "the JSON differs on {threads} threads");
    }
    one
}

/// Calls `f` with the name and text of every `.jsonl` fixture (at least ten of them).
fn for_each_fixture(mut f: impl FnMut(&str, &str)) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            let text = std::fs::read_to_string(&path).unwrap();
            f(&path.display().to_string(), &text);
            seen += 1;
        }
    }
    assert!(seen >= 10, "only {seen} fixtures found");
}

#[test]
fn every_fixture_reports_the_same_bytes_on_any_number_of_threads() {
    for_each_fixture(|name, text| {
        same_on_any_threads(&read(name, text));
    });
}

/// A deterministic stream of numbers below the bound asked for (xorshift64), from `seed`.
fn below(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut x = seed | 1;
    move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    }
}

/// A deterministic trace of `events` events on 6 replicas that write, read (sometimes a wrong
/// value) and sync by messages: many concurrent writes on `keys` keys of all four types.
fn generated(seed: u64, events: usize, keys: u64) -> String {
    let mut rand = below(seed);
    let mut seq = [0u64; 6];
    let mut lamport = [0u64; 6];
    let mut sent: Vec<(String, u64)> = Vec::new();
    let mut lines = Vec::new();
    for _ in 0..events {
        let r = rand(6) as usize;
        seq[r] += 1;
        lamport[r] += 1;
        let head = format!(
            r#""replica":"r{r}","seq":{},"lamport":{}"#,
            seq[r], lamport[r]
        );
        let k = rand(keys);
        // Keys by type: k % 4 = 0 counter, 1 set, 2 mv, 3 lww.
        let line = match rand(10) {
            0..=4 => match k % 4 {
                0 => format!(
                    r#"{{{head},"kind":"write","key":"k{k}","op":"inc","value":{}}}"#,
                    rand(5)
                ),
                1 => {
                    let op = if rand(3) == 0 { "remove" } else { "add" };
                    format!(
                        r#"{{{head},"kind":"write","key":"k{k}","op":"{op}","value":"e{}"}}"#,
                        rand(3)
                    )
                }
                2 => format!(
                    r#"{{{head},"kind":"write","key":"k{k}","crdt":"mv","value":{}}}"#,
                    rand(9)
                ),
                _ => format!(
                    r#"{{{head},"kind":"write","key":"k{k}","value":{}}}"#,
                    rand(9)
                ),
            },
            5..=6 => {
                let value = match k % 4 {
                    0 => rand(20).to_string(),
                    1 => format!(r#"["e{}"]"#, rand(3)),
                    2 => format!("[{}]", rand(9)),
                    _ => rand(9).to_string(),
                };
                format!(r#"{{{head},"kind":"read","key":"k{k}","value":{value}}}"#)
            }
            7..=8 => {
                let m = format!("m{}", sent.len());
                sent.push((m.clone(), lamport[r]));
                format!(r#"{{{head},"kind":"send","msg":"{m}"}}"#)
            }
            _ => match sent.len() {
                0 => format!(r#"{{{head}}}"#),
                n => {
                    let (m, l) = &sent[rand(n as u64) as usize];
                    lamport[r] = lamport[r].max(*l) + 1;
                    let head = format!(
                        r#""replica":"r{r}","seq":{},"lamport":{}"#,
                        seq[r], lamport[r]
                    );
                    format!(r#"{{{head},"kind":"recv","msg":"{m}"}}"#)
                }
            },
        };
        lines.push(line);
    }
    lines.join("\n")
}

#[test]
fn generated_traces_report_the_same_bytes_on_any_number_of_threads() {
    for seed in [1, 7] {
        let trace = read("gen.jsonl", &generated(seed, 20_000, 3000));
        let report = same_on_any_threads(&trace);
        // Enough work that every thread got some: thousands of keys with findings.
        let keys: std::collections::BTreeSet<&str> =
            report.conflicts.iter().map(|c| &*c.key).collect();
        assert!(keys.len() > 500, "{} keys in conflict", keys.len());
        assert!(report.summary.reads_checked > 1000, "{:?}", report.summary);
        assert!(
            report.violations.len() > 100,
            "{} violations",
            report.violations.len()
        );
    }
}

#[test]
fn batches_fed_to_engines_on_one_and_several_threads_report_the_same() {
    let text = generated(3, 12_000, 2000);
    let lines: Vec<&str> = text.lines().collect();
    let mut one = Engine::new().with_threads(1);
    let mut many = Engine::new().with_threads(4);
    for batch in lines.chunks(3000) {
        let batch = batch.join("\n");
        one.feed(read("b.jsonl", &batch));
        many.feed(read("b.jsonl", &batch));
        assert_eq!(json(&many.report(), 4), json(&one.report(), 1));
    }
}

/// Two engines fed the same batches, one finding every batch's edges on several threads (in
/// chunks of a few nodes, so even a small fixture is split) and one on the calling thread:
/// the same report after every batch.
fn same_with_edges_in_parallel(name: &str, batches: &[String]) {
    let mut par = Engine::new().with_threads(3).with_parallel_min(0);
    let mut seq = Engine::new().with_threads(1).with_parallel_min(usize::MAX);
    for (i, batch) in batches.iter().enumerate() {
        let opts = ReadOptions::default();
        par.feed(Trace::batch_from_ndjson("b", batch, &opts).unwrap());
        seq.feed(Trace::batch_from_ndjson("b", batch, &opts).unwrap());
        assert_eq!(
            json(&par.report(), 1),
            json(&seq.report(), 1),
            "{name}, after batch {i}"
        );
    }
}

#[test]
fn edges_found_on_several_threads_or_one_report_the_same() {
    for_each_fixture(|name, text| {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.contains("\"format\""))
            .collect();
        // All at once (`weft check`), and backwards in batches of three (late events re-mark
        // the nodes that waited for them).
        same_with_edges_in_parallel(name, &[lines.join("\n") + "\n"]);
        let backwards: Vec<String> = lines.rchunks(3).map(|c| c.join("\n") + "\n").collect();
        same_with_edges_in_parallel(name, &backwards);
    });
    let text = generated(5, 6_000, 500);
    let lines: Vec<&str> = text.lines().collect();
    let batches: Vec<String> = lines.chunks(1000).map(|c| c.join("\n") + "\n").collect();
    same_with_edges_in_parallel("generated", &batches);
}

/// A deterministic trace of `events` events on 6 replicas that report vector clocks and sync
/// by messages; every 40th event leaves one entry out of its clock (a `vc-mismatch`).
fn generated_clocks(seed: u64, events: usize) -> String {
    let mut rand = below(seed);
    let mut vc = [[0u64; 6]; 6];
    let mut sent: Vec<(String, [u64; 6])> = Vec::new();
    let mut lines = Vec::new();
    for i in 0..events {
        let r = rand(6) as usize;
        let body = match rand(4) {
            0 => {
                let m = format!("m{}", sent.len());
                sent.push((m.clone(), vc[r]));
                format!(r#""kind":"send","msg":"{m}""#)
            }
            1 if !sent.is_empty() => {
                let (m, theirs) = &sent[rand(sent.len() as u64) as usize];
                for q in 0..6 {
                    vc[r][q] = vc[r][q].max(theirs[q]);
                }
                format!(r#""kind":"recv","msg":"{m}""#)
            }
            _ => format!(r#""kind":"write","key":"k{}","value":{i}"#, rand(50)),
        };
        vc[r][r] += 1;
        let skip = (i % 40 == 39).then(|| (r + 1) % 6);
        let entries: Vec<String> = (0..6)
            .filter(|&q| vc[r][q] > 0 && Some(q) != skip)
            .map(|q| format!(r#""r{q}":{}"#, vc[r][q]))
            .collect();
        lines.push(format!(
            r#"{{"replica":"r{r}","seq":{},{body},"vc":{{{}}}}}"#,
            vc[r][r],
            entries.join(",")
        ));
    }
    lines.join("\n")
}

#[test]
fn vector_clock_checks_on_several_threads_report_the_same() {
    let trace = read("clocks.jsonl", &generated_clocks(9, 30_000));
    let report = same_on_any_threads(&trace);
    let mismatches = report
        .violations
        .iter()
        .filter(|v| v.code == weft_analyzer::Code::VcMismatch)
        .count();
    // Enough of them that several rounds of checks found some.
    assert!(mismatches > 300, "{mismatches} vc-mismatch findings");
}
