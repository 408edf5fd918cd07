// weft-clock's tests (kept out of its crate so that it needs only weft-api).
//! Random histories of replicas that write, send, receive and merge: the stamps the clocks give
//! form traces `weft check` finds no error in, and `happened_before` / `concurrent_with` agree
//! with the causal order the history actually had.

use std::collections::BTreeSet;

use proptest::prelude::*;
use weft_clock::{Context, Op, ReplicaClock, Stamp, WeftEvent};
use weft_trace::{ReadOptions, Trace};

#[derive(Clone, Debug)]
enum Step {
    Write {
        replica: usize,
        key: u8,
        inc: bool,
    },
    Send {
        replica: usize,
    },
    /// Receive the `pick`-th message sent so far (modulo); duplicates and broadcast allowed.
    Recv {
        replica: usize,
        pick: usize,
    },
    /// Merge the states of events picked from everything recorded so far.
    Merge {
        replica: usize,
        picks: Vec<usize>,
    },
}

const REPLICAS: usize = 4;

fn step() -> impl Strategy<Value = Step> {
    let r = 0..REPLICAS;
    prop_oneof![
        (r.clone(), 0u8..3, any::<bool>()).prop_map(|(replica, key, inc)| Step::Write {
            replica,
            key,
            inc
        }),
        r.clone().prop_map(|replica| Step::Send { replica }),
        (r.clone(), any::<usize>()).prop_map(|(replica, pick)| Step::Recv { replica, pick }),
        (r, proptest::collection::vec(any::<usize>(), 0..4))
            .prop_map(|(replica, picks)| Step::Merge { replica, picks }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn stamps_agree_with_the_history(steps in proptest::collection::vec(step(), 1..60)) {
        let mut clocks: Vec<ReplicaClock> =
            (0..REPLICAS).map(|i| ReplicaClock::new(format!("r{i}"))).collect();
        let mut stamps: Vec<Stamp> = Vec::new();
        let mut events = Vec::new();
        // For each event, the indices of all events in its causal past, by construction.
        let mut past: Vec<BTreeSet<usize>> = Vec::new();
        let mut last_of: Vec<Option<usize>> = vec![None; REPLICAS];
        let mut sends: Vec<(usize, String)> = Vec::new();
        let mut n = 0i64;

        for st in steps {
            let mut preds = Vec::new();
            let (replica, stamp, ev) = match st {
                Step::Write { replica, key, inc } => {
                    n += 1;
                    let ev = WeftEvent::write(format!("k{key}"))
                        .op(if inc { Op::Inc } else { Op::Set })
                        .value(n);
                    (replica, clocks[replica].tick(), ev)
                }
                Step::Send { replica } => {
                    let s = clocks[replica].tick();
                    let msg = s.id().to_string();
                    sends.push((stamps.len(), msg.clone()));
                    (replica, s, WeftEvent::send(msg))
                }
                Step::Recv { replica, pick } => {
                    if sends.is_empty() {
                        continue;
                    }
                    let (i, msg) = sends[pick % sends.len()].clone();
                    preds.push(i);
                    let s = clocks[replica].receive(&stamps[i].context());
                    (replica, s, WeftEvent::recv(msg))
                }
                Step::Merge { replica, picks } => {
                    let mut remotes: Vec<Context> = Vec::new();
                    for p in picks {
                        if !stamps.is_empty() {
                            let i = p % stamps.len();
                            preds.push(i);
                            remotes.push(stamps[i].context());
                        }
                    }
                    (replica, clocks[replica].merge(&remotes), WeftEvent::local())
                }
            };
            preds.extend(last_of[replica]);
            let mut p = BTreeSet::new();
            for &i in &preds {
                p.insert(i);
                p.extend(past[i].iter().copied());
            }
            last_of[replica] = Some(stamps.len());
            past.push(p);
            events.push(ev.to_event(&stamp, None));
            stamps.push(stamp);
        }

        for (b, sb) in stamps.iter().enumerate() {
            for (a, sa) in stamps.iter().enumerate() {
                let before = past[b].contains(&a);
                prop_assert_eq!(sa.happened_before(sb), before, "{} -> {}", sa.id(), sb.id());
                let conc = a != b && !before && !past[a].contains(&b);
                prop_assert_eq!(sa.concurrent_with(sb), conc, "{} || {}", sa.id(), sb.id());
            }
        }

        if events.is_empty() {
            return Ok(()); // only receives, before any send
        }
        let text: String = events
            .iter()
            .map(|e| format!("{}\n", serde_json::to_string(e).unwrap()))
            .collect();
        let trace = Trace::from_ndjson_str("sim", &text, &ReadOptions::default()).unwrap();
        let report = weft_analyzer::analyze(&trace);
        prop_assert_eq!(report.summary.errors, 0, "{}\n{}", text, report.to_json_string());
        prop_assert_eq!(report.summary.warnings, 0, "{}\n{}", text, report.to_json_string());
    }
}
