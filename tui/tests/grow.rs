//! The live model grown batch by batch (`weft_tui::grow`) against the model built from scratch
//! (`Model::build`) on the same lines: after every batch the layout (events, lanes, edges, rows,
//! replay order, skew) is the same, and after every report refresh the findings too, whatever
//! the cuts between batches and the order the lines come in.

use rand_xoshiro::rand_core::{Rng as _, SeedableRng};
use rand_xoshiro::SplitMix64;
use weft_sim::config::{Bug, Clocks, Profile, SyncKind, Workload};
use weft_trace::{ReadOptions, Trace};
use weft_tui::grow::{Fed, Growing, LineParser};
use weft_tui::model::Model;

const LABEL: &str = "http://collector:4318";

/// SplitMix64 (`rand_xoshiro`'s): deterministic cuts and shuffles.
struct Rng(SplitMix64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(SplitMix64::seed_from_u64(seed))
    }

    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

fn scratch(text: &str) -> Model {
    let opts = ReadOptions {
        lenient: true,
        ..Default::default()
    };
    Model::build(Trace::batch_from_ndjson(LABEL, text, &opts).unwrap())
}

/// Feeds `lines` in batches cut at random (empty ones too), checking after each batch against
/// the model built from scratch; refreshes the findings after about half of them. Returns what
/// each feed did.
fn grow_and_compare(what: &str, lines: &[String], seed: u64, max_batch: u64) -> Vec<Fed> {
    let mut rng = Rng::new(seed);
    let mut parser = LineParser::new(LABEL);
    let mut grown = Growing::new();
    let mut so_far = String::new();
    let mut fed = Vec::new();
    let mut at = 0usize;
    while at < lines.len() {
        let k = (rng.below(max_batch + 1) as usize).min(lines.len() - at);
        let batch: String = lines[at..at + k].concat();
        at += k;
        so_far.push_str(&batch);
        fed.push(grown.feed(parser.parse(batch.as_bytes()).unwrap()));
        let reference = scratch(&so_far);
        let ctx = || format!("{what} (seed {seed}), after {at} of {} lines", lines.len());
        if let Some(d) = grown.model().layout_differs_from(&reference) {
            panic!("{}: {d}", ctx());
        }
        if rng.below(2) == 0 || at == lines.len() {
            grown.refresh_report();
            if let Some(d) = grown.model().differs_from(&reference) {
                panic!("{}: {d}", ctx());
            }
            assert!(!grown.report_stale());
        }
    }
    fed
}

fn lines_of(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

fn fixtures() -> Vec<(String, String)> {
    let dir = format!("{}/../fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "the fixtures are there");
    names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(format!("{dir}/{n}")).unwrap();
            (n, text)
        })
        .collect()
}

fn sim(seed: u64, replicas: u32, ops: u64, f: impl FnOnce(&mut weft_sim::Config)) -> String {
    let mut cfg = weft_sim::Config {
        seed,
        replicas,
        ops,
        profile: Profile::Mixed,
        net: Profile::Mixed.net(),
        ..Default::default()
    };
    f(&mut cfg);
    let mut out = Vec::new();
    weft_sim::simulate(&cfg, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn every_fixture_in_order_and_shuffled() {
    for (name, text) in fixtures() {
        let lines = lines_of(&text);
        for seed in 0..4 {
            grow_and_compare(&name, &lines, seed, 1 + seed * 3);
        }
        for seed in 10..20 {
            let mut shuffled = lines.clone();
            Rng::new(seed).shuffle(&mut shuffled);
            grow_and_compare(&format!("{name} shuffled"), &shuffled, seed, 6);
        }
    }
}

#[test]
fn simulated_runs_with_bugs_cut_at_random() {
    let runs = [
        ("mixed", sim(1, 4, 150, |_| {})),
        (
            "vc-no-merge",
            sim(2, 5, 150, |c| c.bug = Some((Bug::VcNoMerge, 1))),
        ),
        (
            "lamport-no-max",
            sim(3, 3, 120, |c| c.bug = Some((Bug::LamportNoMax, 0))),
        ),
        (
            "lww by wall clock, tokyo",
            sim(4, 6, 150, |c| {
                c.workload = Workload::Register;
                c.profile = Profile::Tokyo;
                c.net = Profile::Tokyo.net();
                c.bug = Some((Bug::LwwByWallClock, 2));
            }),
        ),
        (
            "op sync, lamport only",
            sim(5, 4, 120, |c| {
                c.sync = SyncKind::Op;
                c.clocks = Clocks::Lamport;
            }),
        ),
        (
            "state sync, no clocks",
            sim(6, 5, 120, |c| {
                c.sync = SyncKind::State;
                c.clocks = Clocks::None;
                c.workload = Workload::Set;
            }),
        ),
    ];
    for (name, text) in &runs {
        let lines = lines_of(text);
        assert!(lines.len() > 100, "{name}: a real run");
        // In arrival order every event comes after its causal past: rows are extended, never
        // laid out again.
        for seed in 0..3 {
            let fed = grow_and_compare(name, &lines, seed, 40);
            assert!(
                fed.iter().all(|f| !f.rebuilt),
                "{name}: an in-order stream is laid out incrementally"
            );
            let events: usize = fed.iter().map(|f| f.events).sum();
            let relaxed: usize = fed.iter().map(|f| f.relaxed).sum();
            assert!(
                events > 100 && relaxed >= events,
                "{name}: {events} {relaxed}"
            );
        }
        // Shuffled, events arrive before their causes: rows move down as the causes come in.
        for seed in 0..3 {
            let mut shuffled = lines.clone();
            Rng::new(100 + seed).shuffle(&mut shuffled);
            grow_and_compare(&format!("{name} shuffled"), &shuffled, seed, 25);
        }
    }
}

/// A late event that is the cause of much of what arrived already: the rows it pushes down
/// move, the others stay.
#[test]
fn a_late_cause_moves_its_future_down() {
    let text = sim(7, 4, 200, |_| {});
    let mut lines = lines_of(&text);
    // Hold back an early send until the end.
    let i = lines
        .iter()
        .position(|l| l.contains("\"kind\":\"send\""))
        .unwrap();
    let late = lines.remove(i);
    lines.push(late);
    let fed = grow_and_compare("a late send", &lines, 1, 30);
    let last = fed.iter().rev().find(|f| f.events > 0).unwrap();
    assert!(last.relaxed > 1, "the late send's future moved: {last:?}");
}

/// A search stays right as snapshots of a growing model are swapped in: the matches of each new
/// snapshot are found from the last ones and what moved, and equal a search of the whole model.
#[test]
fn a_search_follows_the_grown_model() {
    use std::sync::Arc;
    use weft_tui::state::{Action, App, Config};

    let search = |a: &mut App, text: &str| {
        a.apply(Action::StartSearch);
        for c in text.chars() {
            a.apply(Action::PromptInput(c));
        }
        a.apply(Action::PromptSubmit);
    };
    let text = sim(9, 5, 200, |_| {});
    for (order, seed) in [("in order", None), ("shuffled", Some(3))] {
        let mut lines = lines_of(&text);
        if let Some(seed) = seed {
            Rng::new(seed).shuffle(&mut lines);
        }
        let mut rng = Rng::new(7);
        let mut parser = LineParser::new(LABEL);
        let mut grown = Growing::new();
        let mut a = App::live(LABEL, Config::default());
        a.apply(Action::Resize { w: 120, h: 40 });
        let mut at = 0;
        let mut batches = 0;
        while at < lines.len() {
            let k = (1 + rng.below(30) as usize).min(lines.len() - at);
            let batch: String = lines[at..at + k].concat();
            at += k;
            grown.feed(parser.parse(batch.as_bytes()).unwrap());
            batches += 1;
            if batches % 4 == 0 {
                grown.refresh_report();
            }
            let snapshot = grown.snapshot();
            // Paused for a while: the snapshots in between are skipped.
            if batches == 5 || batches == 8 {
                a.apply(Action::TogglePause);
            }
            a.apply(Action::Model(snapshot.clone()));
            if a.search.is_none() && snapshot.len() > 20 {
                search(&mut a, "r1");
            }
            let Some(s) = &a.search else { continue };
            if a.live.as_ref().unwrap().paused {
                continue;
            }
            let mut whole = App::new(snapshot, "whole", Config::default());
            search(&mut whole, "r1");
            let expect = whole.search.as_ref().map_or(vec![], |s| s.matches.clone());
            assert!(!expect.is_empty());
            assert_eq!(s.matches, expect, "{order}: after {at} lines");
        }
        assert!(Arc::strong_count(&a.model) >= 1);
    }
}
