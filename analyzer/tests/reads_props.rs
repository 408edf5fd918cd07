//! Property tests for spec section 8 (reads): the engine against the brute-force reference
//! (`brute/reads.rs`), on traces recorded by a small correct CRDT system (`crdt_sim/`).
//!
//! - `simulated_reads_are_correct_for_the_reference`: the reference finds nothing wrong with
//!   reads that real CRDTs returned, and checks exactly the reads it must. This tests the
//!   reference itself, against code that never heard of `P` or `M`.
//! - `engine_matches_reference_after_every_batch`: the same traces, damaged by faults that
//!   section 8 cares about (lines dropped, so reads see writes their past lacks; wrong and
//!   missing declarations; ops that do not fit; non-integer increments; read values removed,
//!   nulled or replaced; cycles), fed to the engine in random order and random batches: after
//!   every batch its report equals the reference's on the lines fed so far (a late write that
//!   enters a read's past changes that read's verdict), and the read evidence agrees.
//! - `each_mutant_gets_exactly_its_violation`: one read of a correct trace mutated (stale value,
//!   unseen value, counter off by one, missing sibling or element, repeated element, a value
//!   nobody wrote, `1` → `1.0`, a non-array, the value removed): the reference and the engine
//!   both report the correct trace's report plus exactly the intended violation on that read,
//!   with the witness computed from the simulator's bookkeeping, or — for the mutants that make
//!   a read uncheckable — one read fewer checked. Every mutant kind must occur.
//!
//! `PROPTEST_CASES` overrides the number of cases. Failure persistence is off (no files in the
//! source tree); a failure prints the NDJSON lines.

mod brute;
mod crdt_sim;

use brute::reads::{Expected, ReadCheck};
use brute::{brute_full, json_diff, project_to_spec, strip_messages};
use crdt_sim::{Config, Decl, Edges, SimTrace, Step, Ty};
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestRunner};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

use crdt_sim::mutants::{self, mutants, Outcome};

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn pt(default_cases: u32) -> PtConfig {
    PtConfig {
        cases: cases(default_cases),
        failure_persistence: None,
        ..PtConfig::default()
    }
}

/// For the tests that also require to have met every code or mutant: a fixed seed unless
/// `PROPTEST_RNG_SEED` is set, so that whether they met everything does not depend on luck.
/// The requirement holds only with at least the default number of cases.
fn pt_covering(default_cases: u32) -> (PtConfig, bool) {
    let mut c = pt(default_cases);
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        c.rng_seed = proptest::test_runner::RngSeed::Fixed(0x00c0_ffee_5ec8);
    }
    let enough = c.cases >= default_cases;
    (c, enough)
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

fn key_spec() -> impl Strategy<Value = (Ty, Decl)> {
    let decl = prop_oneof![Just(Decl::Never), Just(Decl::Always), Just(Decl::Sometimes)];
    (0u8..4, decl).prop_map(|(t, d)| match t {
        0 => (Ty::Lww, d),
        1 => (Ty::Counter, d),
        2 => (Ty::Set, d),
        // mv is never inferred: always declared in a correct trace
        _ => (Ty::Mv, if d == Decl::Never { Decl::Always } else { d }),
    })
}

fn config() -> impl Strategy<Value = Config> {
    let edges = prop_oneof![
        Just(Edges::Msg),
        Just(Edges::Parents),
        Just(Edges::Vc),
        Just(Edges::Mixed)
    ];
    (
        2usize..=3,
        prop::collection::vec(key_spec(), 1..=3),
        edges,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(replicas, keys, edges, lamport, vc, big)| Config {
            replicas,
            keys,
            edges,
            lamport,
            vc,
            big,
        })
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        any::<[u8; 6]>().prop_map(|a| Step {
            who: a[0],
            what: a[1],
            key: a[2],
            val: a[3],
            pick: a[4],
            flags: a[5],
        }),
        4..=26,
    )
}

// ---------------------------------------------------------------------------------------------
// Running the engine and comparing with the reference
// ---------------------------------------------------------------------------------------------

/// A report as the reference writes it: messages and fields beyond the spec's dropped.
fn comparable(report: &weft_analyzer::Report) -> Value {
    project_to_spec(&strip_messages(&report.to_json()))
}

/// The lines in the order `keys` gives (a stable sort of positions by key), fed to a fresh
/// engine in batches cut where `cuts` says; after every batch the engine's report must equal
/// the reference's on the lines fed so far. Returns the engine's final report (full JSON), the
/// codes the reference found after some batch, and the lines in the order fed (which copy of a
/// duplicated id is kept depends on it).
fn feed_and_compare(
    lines: &[String],
    keys: &[u16],
    cuts: &[bool],
) -> Result<(Value, BTreeSet<String>, Vec<String>), String> {
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|&i| keys.get(i).copied().unwrap_or(i as u16));
    let mut engine = weft_analyzer::Engine::new();
    let (mut fed, mut batch): (Vec<String>, Vec<String>) = (vec![], vec![]);
    let mut codes = BTreeSet::new();
    for (n, &i) in order.iter().enumerate() {
        batch.push(lines[i].clone());
        if !(n + 1 == order.len() || cuts.get(n).copied().unwrap_or(false)) {
            continue;
        }
        let text = batch.join("\n") + "\n";
        let t = weft_trace::Trace::batch_from_ndjson(
            "b.jsonl",
            &text,
            &weft_trace::ReadOptions::default(),
        )
        .map_err(|e| format!("batch rejected: {e}"))?;
        engine.feed(t);
        fed.append(&mut batch);
        let got = comparable(&engine.report());
        let want = brute::brute_report(&fed);
        for v in want["violations"].as_array().unwrap() {
            codes.insert(v["code"].as_str().unwrap().to_string());
        }
        if got != want {
            return Err(format!(
                "after {} of {} lines the engine differs from the reference{}",
                fed.len(),
                lines.len(),
                explain(&fed, &got, &want)
            ));
        }
    }
    Ok((engine.report().to_json(), codes, fed))
}

/// The batch analysis (`weft_analyzer::analyze`) of all lines, as JSON.
fn batch_report(lines: &[String]) -> Value {
    let text = lines.join("\n") + "\n";
    let trace =
        weft_trace::Trace::from_ndjson_str("t.jsonl", &text, &weft_trace::ReadOptions::default())
            .expect("well-formed");
    weft_analyzer::analyze(&trace).to_json()
}

fn explain(lines: &[String], engine: &Value, reference: &Value) -> String {
    format!(
        "\n=== input ({} lines)\n{}\n=== differences (engine vs reference)\n{}\n=== reference\n{}",
        lines.len(),
        lines.join("\n"),
        json_diff(engine, reference),
        serde_json::to_string_pretty(reference).unwrap()
    )
}

fn id_json(id: &(String, u64)) -> Value {
    json!([id.0, id.1])
}

fn same_elements(a: &Value, b: &[Value]) -> bool {
    a.as_array().is_some_and(|a| {
        a.len() == b.len() && a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
    })
}

/// The read evidence of every read violation of the engine's `report` against the reference's
/// verdicts: the key, type and value read; the chain ends with the read; what was expected (the
/// sum; the elements; the values one of which was right), compared as sets. A read verdict
/// without evidence fails.
fn check_evidence(report: &Value, checks: &[ReadCheck]) -> Result<(), String> {
    for v in report["violations"].as_array().unwrap() {
        let code = v["code"].as_str().unwrap();
        if !matches!(
            code,
            "read-of-unseen-write" | "stale-read" | "read-mismatch"
        ) {
            continue;
        }
        let c = checks
            .iter()
            .find(|c| id_json(&c.read) == v["event"])
            .ok_or_else(|| format!("reference did not check {}", v["event"]))?;
        let ev = &v["read"];
        let expected_ok = match &c.expected {
            Expected::Sum(n) => ev["expected"].as_i64().map(i128::from) == Some(*n),
            Expected::Elements(els) => same_elements(&ev["expected"], els),
            Expected::OneOf(vals) => {
                ev["one_of"] == json!(true) && same_elements(&ev["expected"], vals)
            }
        };
        let chain_ok = ev["chain"]
            .as_array()
            .and_then(|c| c.last())
            .is_some_and(|last| *last == v["event"]);
        if ev["key"] != json!(c.key)
            || ev["crdt"] != json!(c.crdt)
            || ev["value"] != c.value
            || !expected_ok
            || !chain_ok
        {
            return Err(format!(
                "evidence of {code} on {}: {ev}\nreference: key {}, {}, read {}, expected {:?}",
                v["event"], c.key, c.crdt, c.value, c.expected
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 1. The reference accepts what correct CRDTs returned
// ---------------------------------------------------------------------------------------------

/// Reads the reference must check in a fault-free simulated trace: the key's type is known
/// (declared somewhere, or the key has writes: their ops are uniform in the simulator).
fn must_check(sim: &SimTrace) -> usize {
    sim.reads
        .iter()
        .filter(|r| {
            let name = SimTrace::key_name(r.key);
            sim.writes.iter().any(|w| w.key == r.key)
                || sim
                    .events
                    .iter()
                    .any(|e| e["key"] == json!(name) && e.get("crdt").is_some())
        })
        .count()
}

fn assert_clean(sim: &SimTrace, lines: &[String], report: &Value) -> Result<(), TestCaseError> {
    prop_assert!(
        report["violations"] == json!([]) && report["summary"]["complete"] == json!(true),
        "reads of a correct CRDT system reported\n{}\n{}",
        lines.join("\n"),
        serde_json::to_string_pretty(report).unwrap()
    );
    prop_assert_eq!(
        report["summary"]["reads_checked"].as_u64().unwrap() as usize,
        must_check(sim),
        "reads_checked\n{}",
        lines.join("\n")
    );
    Ok(())
}

proptest! {
    #![proptest_config(pt(256))]

    #[test]
    fn simulated_reads_are_correct_for_the_reference(cfg in config(), steps in steps()) {
        let sim = crdt_sim::simulate(&cfg, &steps);
        let lines = crdt_sim::lines(&sim.events);
        assert_clean(&sim, &lines, &brute::brute_report(&lines))?;
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Engine == reference after every batch, on damaged traces
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Fault {
    kind: u8,
    i: u16,
    x: u8,
}

const FAULT_KINDS: u8 = 12;

fn faults() -> impl Strategy<Value = Vec<Fault>> {
    let fault = (0..FAULT_KINDS + 2, any::<u16>(), any::<u8>()).prop_map(|(kind, i, x)| Fault {
        // a dropped line (0) three times as likely as the others: unseen reads need it
        kind: if kind < FAULT_KINDS { kind } else { 0 },
        i,
        x,
    });
    // and half the time a stale snapshot (11) as well: stale reads need it
    let snapshot = (any::<bool>(), any::<u16>(), any::<u8>())
        .prop_map(|(on, i, x)| on.then_some(Fault { kind: 11, i, x }));
    (prop::collection::vec(fault, 0..=3), snapshot).prop_map(|(mut fs, s)| {
        fs.extend(s);
        fs
    })
}

fn pick(evs: &[Value], i: u16, pred: impl Fn(&Value) -> bool) -> Option<usize> {
    let c: Vec<usize> = (0..evs.len()).filter(|&k| pred(&evs[k])).collect();
    (!c.is_empty()).then(|| c[i as usize % c.len()])
}

fn is(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |v: &Value| v["kind"] == kind
}

fn apply_faults(evs: &mut Vec<Value>, faults: &[Fault]) {
    const TYPES: [&str; 4] = ["lww", "mv", "counter", "set"];
    const OPS: [&str; 4] = ["set", "inc", "add", "remove"];
    for f in faults {
        let x = f.x as usize;
        match f.kind {
            // a line lost: a recv or merge gone, so later reads see writes their past lacks
            0 if evs.len() > 1 => {
                evs.remove(f.i as usize % evs.len());
            }
            // an identical copy (retry)
            1 => {
                let c = evs[f.i as usize % evs.len()].clone();
                evs.push(c);
            }
            // a declaration of another type on a write or read
            2 => {
                if let Some(k) = pick(evs, f.i, |v| v.get("key").is_some()) {
                    evs[k]["crdt"] = json!(TYPES[x % 4]);
                }
            }
            // an op that may not fit the key's type
            3 => {
                if let Some(k) = pick(evs, f.i, is("write")) {
                    evs[k]["op"] = json!(OPS[x % 4]);
                }
            }
            // an increment that is not an integer. Not `"value": null`: whether that is "an inc
            // without value" (adds 1) or a non-integer value is ambiguity R3 (brute/reads.rs).
            4 => {
                if let Some(k) = pick(evs, f.i, |v| v["op"] == "inc") {
                    evs[k]["value"] = [json!(0.5), json!(2.0), json!("1")][x % 3].clone();
                }
            }
            // a read without value (not checked)
            5 => {
                if let Some(k) = pick(evs, f.i, is("read")) {
                    evs[k].as_object_mut().unwrap().remove("value");
                }
            }
            // a read that returned null
            6 => {
                if let Some(k) = pick(evs, f.i, is("read")) {
                    evs[k]["value"] = Value::Null;
                }
            }
            // a read value replaced by another plausible one
            7 => {
                if let Some(k) = pick(evs, f.i, is("read")) {
                    let reg = crdt_sim::register_value(x).unwrap_or(Value::Null);
                    let el = crdt_sim::set_element(x / 7);
                    evs[k]["value"] = match x % 5 {
                        0 => reg,
                        1 => json!([el]),
                        2 => json!([reg, el]),
                        3 => json!(x % 7),
                        _ => json!([el.clone(), el]),
                    };
                }
            }
            // a parents entry forward in creation order, or to itself: maybe a cycle
            8 => {
                let i = f.i as usize % evs.len();
                let j = i + x % (evs.len() - i);
                let target = json!([evs[j]["replica"], evs[j]["seq"]]);
                let o = evs[i].as_object_mut().unwrap();
                let ps = o.entry("parents").or_insert_with(|| json!([]));
                ps.as_array_mut().unwrap().push(target);
            }
            // every declaration of one key removed (mv then inferred lww)
            9 => {
                let key = json!(format!("k{}", x % 3));
                for e in evs.iter_mut().filter(|e| e["key"] == key) {
                    e.as_object_mut().unwrap().remove("crdt");
                }
            }
            // a replica answering from an older snapshot: a read's value replaced by what an
            // earlier read of the same key on the same replica returned, or (when it is not an
            // array) by what an earlier write of it there wrote
            11 => {
                let earlier = |k: usize| -> Vec<Value> {
                    let scalar = !evs[k]["value"].is_array();
                    evs[..k]
                        .iter()
                        .filter(|e| {
                            (e["kind"] == "read" || (scalar && e["kind"] == "write"))
                                && e["key"] == evs[k]["key"]
                                && e["replica"] == evs[k]["replica"]
                        })
                        .filter_map(|e| e.get("value").cloned())
                        .filter(|v| evs[k].get("value") != Some(v))
                        .collect()
                };
                let reads: Vec<usize> = (0..evs.len())
                    .filter(|&k| evs[k]["kind"] == "read" && !earlier(k).is_empty())
                    .collect();
                if !reads.is_empty() {
                    let k = reads[f.i as usize % reads.len()];
                    let old = earlier(k);
                    evs[k]["value"] = old[x % old.len()].clone();
                }
            }
            // a crdt field on a kind that ignores it
            10 => {
                if let Some(k) = pick(evs, f.i, |v| v.get("key").is_none()) {
                    evs[k]["crdt"] = json!(TYPES[x % 4]);
                    evs[k]["key"] = json!(format!("k{}", x % 3));
                }
            }
            _ => {}
        }
    }
}

/// One damaged trace: the engine fed in batches, the batch analysis and the reference agree,
/// and so does the read evidence. Returns the codes the reference found after some batch (and
/// `incomplete` when the whole trace has a cycle).
fn engine_case(
    cfg: &Config,
    steps: &[Step],
    faults: &[Fault],
    keys: &[u16],
    cuts: &[bool],
) -> Result<BTreeSet<String>, TestCaseError> {
    let sim = crdt_sim::simulate(cfg, steps);
    let mut evs = sim.events.clone();
    apply_faults(&mut evs, faults);
    let lines = crdt_sim::lines(&evs);
    let fail = |e: String| TestCaseError::fail(format!("{e}\n{}", lines.join("\n")));
    let (engine, mut codes, fed) =
        feed_and_compare(&lines, keys, cuts).map_err(TestCaseError::fail)?;
    let (want, checks) = brute_full(&lines);
    let batch = batch_report(&lines);
    prop_assert!(
        project_to_spec(&strip_messages(&batch)) == want,
        "batch analysis differs from the reference{}",
        explain(&lines, &project_to_spec(&strip_messages(&batch)), &want)
    );
    check_evidence(&engine, &brute_full(&fed).1).map_err(fail)?;
    check_evidence(&batch, &checks).map_err(fail)?;
    if want["summary"]["complete"] == json!(false) {
        codes.insert("incomplete".into());
    }
    Ok(codes)
}

#[test]
fn engine_matches_reference_after_every_batch() {
    let strategy = (
        config(),
        steps(),
        faults(),
        prop::collection::vec(any::<u16>(), 0..40),
        prop::collection::vec(prop::bool::weighted(0.3), 0..40),
    );
    let seen: std::cell::RefCell<BTreeMap<String, usize>> = Default::default();
    let (pt_config, require_coverage) = pt_covering(200);
    let result = TestRunner::new(pt_config).run(&strategy, |(cfg, steps, faults, keys, cuts)| {
        let codes = engine_case(&cfg, &steps, &faults, &keys, &cuts)?;
        let mut seen = seen.borrow_mut();
        for code in codes {
            *seen.entry(code).or_default() += 1;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The property is only as good as what it met: every section-8 code (in how many cases,
    // after some batch), and cycles.
    let seen = seen.into_inner();
    eprintln!("reference findings met: {seen:?}");
    if !require_coverage {
        return;
    }
    for code in [
        "crdt-type-conflict",
        "read-of-unseen-write",
        "stale-read",
        "read-mismatch",
        "incomplete",
    ] {
        assert!(
            seen.get(code).copied().unwrap_or(0) >= 3,
            "{code} met fewer than 3 times: {seen:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Mutants: exactly the intended violation on exactly the mutated read
// ---------------------------------------------------------------------------------------------

/// `report` with one more violation (sorted in) or one read fewer checked.
fn with_outcome(report: &Value, read: &(String, u64), outcome: &Outcome) -> Value {
    let mut r = report.clone();
    match outcome {
        Outcome::NotChecked => {
            let n = r["summary"]["reads_checked"].as_u64().unwrap();
            r["summary"]["reads_checked"] = json!(n - 1);
        }
        Outcome::Violation(code, related) => {
            let mut related = related.clone();
            related.sort();
            let vs = r["violations"].as_array_mut().unwrap();
            vs.push(json!({
                "code": code,
                "severity": "error",
                "event": id_json(read),
                "related": related.iter().map(id_json).collect::<Vec<_>>(),
            }));
            // §6: by (event, code); ids by replica bytewise, then seq numerically.
            vs.sort_by_key(|v| {
                let e = &v["event"];
                (
                    e[0].as_str().unwrap().to_string(),
                    e[1].as_u64().unwrap(),
                    v["code"].to_string(),
                )
            });
            let e = r["summary"]["errors"].as_u64().unwrap();
            r["summary"]["errors"] = json!(e + 1);
        }
    }
    r
}

#[test]
fn each_mutant_gets_exactly_its_violation() {
    let (pt_config, require_coverage) = pt_covering(160);
    let mut runner = TestRunner::new(pt_config);
    let seen: std::cell::RefCell<BTreeMap<String, usize>> = Default::default();
    let strategy = (config(), steps(), any::<u16>(), any::<u64>());
    let result = runner.run(&strategy, |(mut cfg, steps, which, seed)| {
        // A third of the traces have only sets: their stale reads are the rarest mutants.
        if which % 3 == 0 {
            for k in &mut cfg.keys {
                k.0 = Ty::Set;
            }
        }
        let sim = crdt_sim::simulate(&cfg, &steps);
        if sim.reads.is_empty() {
            return Ok(());
        }
        let lines = crdt_sim::lines(&sim.events);
        let base = brute::brute_report(&lines);
        assert_clean(&sim, &lines, &base)?;
        // The read: from a random start, the first of a set with a stale mutant, else the first
        // with one at all (stale mutants are the rarest, on sets most), else the random one.
        let start = which as usize % sim.reads.len();
        let from_start = || (0..sim.reads.len()).map(|i| &sim.reads[(start + i) % sim.reads.len()]);
        let has_stale =
            |r: &crdt_sim::ReadInfo| mutants(&sim, r, seed).iter().any(|m| m.0 == "stale");
        let read = from_start()
            .find(|r| cfg.keys[r.key].0 == Ty::Set && has_stale(r))
            .or_else(|| from_start().find(|r| has_stale(r)))
            .unwrap_or(&sim.reads[start]);
        let id = sim.ids[read.ev].clone();
        for (name, value, outcome) in mutants(&sim, read, seed) {
            let ty = cfg.keys[read.key].0.name();
            *seen.borrow_mut().entry(format!("{name}/{ty}")).or_default() += 1;
            let mut evs = sim.events.clone();
            match value {
                Some(v) => evs[read.ev]["value"] = v,
                None => {
                    evs[read.ev].as_object_mut().unwrap().remove("value");
                }
            }
            let lines = crdt_sim::lines(&evs);
            let want = with_outcome(&base, &id, &outcome);
            let reference = brute::brute_report(&lines);
            prop_assert!(
                reference == want,
                "mutant {name}: the reference does not give exactly {outcome:?}{}",
                explain(&lines, &reference, &want)
            );
            let keys: Vec<u16> = (0..lines.len() as u64)
                .map(|i| (seed.rotate_left(i as u32 * 7) ^ i) as u16)
                .collect();
            let cuts: Vec<bool> = (0..lines.len())
                .map(|i| seed >> (i % 64) & 1 == 1)
                .collect();
            let (engine, _, _) = feed_and_compare(&lines, &keys, &cuts)
                .map_err(|e| TestCaseError::fail(format!("mutant {name}: {e}")))?;
            prop_assert!(
                project_to_spec(&strip_messages(&engine)) == want,
                "mutant {name}: engine"
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let seen = seen.into_inner();
    eprintln!("mutants applied: {seen:?}");
    if !require_coverage {
        return;
    }
    for kind in mutants::KINDS {
        assert!(
            seen.get(kind).copied().unwrap_or(0) >= 2,
            "mutant {kind} was applied fewer than 2 times: {seen:?}"
        );
    }
}
