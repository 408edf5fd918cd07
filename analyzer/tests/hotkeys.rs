//! Property tests for hot keys: many replicas writing the same one or two keys (registers and a
//! couple of set elements), knowledge spread by merges (gossip: a replica absorbs another's
//! latest event, sometimes in the same event as a write), compared with the brute-force
//! reference in `brute/mod.rs`. This is the shape where each write has many concurrent rivals
//! and conflicts come in large classes, which the per-key conflict code handles without
//! looking at pairs of writes (`src/conflicts.rs`).
//!
//! Failure persistence is off so that the tests never write files into the source tree; proptest
//! prints the minimal failing input (and the failure message prints the NDJSON lines).

mod brute;

use brute::{brute_report, id_json, json_diff, project_to_spec, strip_messages, Id};
use proptest::prelude::*;
use proptest::test_runner::Config as PtConfig;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Replica names: creation order is not bytewise order, and some share prefixes.
const NAMES: [&str; 12] = [
    "r7", "r10", "Zed", "r2", "alice", "r1", "bob", "ü", "r11", "a", "B", "r20",
];

#[derive(Debug, Clone)]
struct Config {
    replicas: usize,
    keys: u8,
    elements: u8,
    /// Cross-replica causality carried by `parents` (false: by vector clocks only, every event
    /// carrying its clock).
    parents: bool,
    /// 0: no lamport or wall clock (rule none), 1: lamport, 2: wall clock only.
    stamps: u8,
}

#[derive(Debug, Clone)]
struct Step {
    who: u8,
    what: u8,
    key: u8,
    op: u8,
    pick: u8,
}

fn config() -> impl Strategy<Value = Config> {
    (4usize..=12, 1u8..=2, 1u8..=2, any::<bool>(), 0u8..3).prop_map(
        |(replicas, keys, elements, parents, stamps)| Config {
            replicas,
            keys,
            elements,
            parents,
            stamps,
        },
    )
}

fn steps(max: usize) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        any::<[u8; 5]>().prop_map(|a| Step {
            who: a[0],
            what: a[1],
            key: a[2],
            op: a[3],
            pick: a[4],
        }),
        8..=max,
    )
}

struct Rep {
    seq: u64,
    lamport: u64,
    vc: BTreeMap<String, u64>,
}

/// Simulates the steps: returns the event lines in creation order.
fn simulate(cfg: &Config, steps: &[Step], registers_only: bool) -> Vec<String> {
    let names: Vec<String> = NAMES[..cfg.replicas]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut reps: Vec<Rep> = (0..cfg.replicas)
        .map(|_| Rep {
            seq: 0,
            lamport: 0,
            vc: BTreeMap::new(),
        })
        .collect();
    let mut lines = Vec::new();
    for (n, s) in steps.iter().enumerate() {
        let r = s.who as usize % cfg.replicas;
        // what: 0..=4 write, 5..=6 merge, 7 merge and write in one event.
        let what = s.what % 8;
        let merged: Option<usize> =
            (what >= 5).then(|| (r + 1 + s.pick as usize % (cfg.replicas - 1)) % cfg.replicas);
        let merged = merged.filter(|&o| reps[o].seq > 0);
        let mut parents: Vec<Id> = Vec::new();
        if let Some(o) = merged {
            let (vc, lamport, seq) = (reps[o].vc.clone(), reps[o].lamport, reps[o].seq);
            let me = &mut reps[r];
            for (q, c) in vc {
                let e = me.vc.entry(q).or_insert(0);
                *e = (*e).max(c);
            }
            me.lamport = me.lamport.max(lamport);
            parents.push((names[o].clone(), seq));
        }
        let me = &mut reps[r];
        me.seq += 1;
        me.lamport += 1;
        me.vc.insert(names[r].clone(), me.seq);
        let mut m = Map::new();
        m.insert("replica".into(), json!(names[r]));
        m.insert("seq".into(), json!(me.seq));
        let writes = what <= 4 || what == 7 || merged.is_none();
        if writes {
            m.insert("kind".into(), json!("write"));
            m.insert("key".into(), json!(format!("k{}", s.key % cfg.keys)));
            let element = json!(format!("e{}", (s.key / 2) % cfg.elements));
            match if registers_only { 0 } else { s.op % 4 } {
                0 | 1 => {
                    m.insert("op".into(), json!("set"));
                    m.insert("value".into(), json!(s.op % 5));
                }
                2 => {
                    m.insert("op".into(), json!("add"));
                    m.insert("value".into(), element);
                }
                _ => {
                    m.insert("op".into(), json!("remove"));
                    m.insert("value".into(), element);
                }
            }
        }
        match cfg.stamps {
            1 => {
                m.insert("lamport".into(), json!(me.lamport));
            }
            2 => {
                m.insert("wall_ns".into(), json!(1_000_000 + 1000 * n as i64));
            }
            _ => {}
        }
        if cfg.parents {
            if !parents.is_empty() {
                m.insert(
                    "parents".into(),
                    parents.iter().map(id_json).collect::<Value>(),
                );
            }
        } else {
            m.insert("vc".into(), json!(me.vc));
        }
        lines.push(Value::Object(m).to_string());
    }
    lines
}

fn real_report(lines: &[String]) -> Value {
    let mut text = lines.join("\n");
    text.push('\n');
    let trace =
        weft_trace::Trace::from_ndjson_str("t.jsonl", &text, &weft_trace::ReadOptions::default())
            .expect("well-formed");
    weft_analyzer::analyze(&trace).to_json()
}

fn check(lines: &[String]) -> Result<(), TestCaseError> {
    let brute = brute_report(lines);
    let real = project_to_spec(&strip_messages(&real_report(lines)));
    prop_assert!(
        real == brute,
        "real report != brute-force report\n=== input\n{}\n=== differences (real vs brute)\n{}\n",
        lines.join("\n"),
        json_diff(&real, &brute)
    );
    Ok(())
}

fn cfg_pt() -> PtConfig {
    PtConfig {
        cases: 128,
        failure_persistence: None,
        ..PtConfig::default()
    }
}

proptest! {
    #![proptest_config(cfg_pt())]

    /// One or two register keys written by up to 12 replicas that gossip.
    #[test]
    fn hot_registers_match_brute(cfg in config(), steps in steps(70)) {
        check(&simulate(&cfg, &steps, true))?;
    }

    /// The same with set elements mixed in: adds and removes of one or two elements.
    #[test]
    fn hot_registers_and_elements_match_brute(cfg in config(), steps in steps(70)) {
        check(&simulate(&cfg, &steps, false))?;
    }
}
