//! The Loro importer's fuzz harness: arbitrary bytes as a Loro document through
//! `weft_interop::loro::import` (what `weft import loro FILE` runs on the file's bytes), with
//! what must hold beyond "no panic escapes":
//!
//! * an error names the input (`in0.loro: ...`);
//! * a successful import is a complete weft history: events, seq 1, 2, … per replica with no
//!   gap, every parent an event of the result, ids unique; it serializes to weft-trace/1 that
//!   reads back with every event, and the analyzer finds no `missing-event`, `seq-gap` or
//!   `duplicate-event` in it (those would be the importer's fault, whatever the document);
//! * importing the same bytes twice, as two inputs, gives the same events as once (a document
//!   merged with itself is itself).
//!
//! Depends only on weft-interop (and weft-trace, weft-analyzer), so that
//! `interop/tests/loro_fuzz_seeds.rs` includes this file and replays `seeds/loro/` in the
//! ordinary test suite.

use std::collections::{BTreeMap, HashSet};

use weft_analyzer::Code;
use weft_interop::loro::{import, ImportError, ImportOptions};
use weft_trace::{Event, ReadOptions, Trace};

/// Runs one fuzz input through the importer, checks every invariant, and returns the result.
pub fn check(data: &[u8]) -> Result<Vec<Event>, ImportError> {
    let one = vec![("in0.loro".to_string(), data.to_vec())];
    let got = import(&one, &ImportOptions::default());
    match &got {
        Err(e) => assert!(e.to_string().starts_with("in0.loro: "), "{e}"),
        Ok(events) => {
            check_events(events);
            let twice = vec![one[0].clone(), ("in1.loro".to_string(), data.to_vec())];
            match import(&twice, &ImportOptions::default()) {
                Ok(again) => assert_eq!(&again, events, "importing the bytes twice differs"),
                // The library may refuse (or fail on) a damaged document on the second import
                // only; an error must still name an input.
                Err(e) => assert!(e.to_string().starts_with("in"), "{e}"),
            }
        }
    }
    got
}

fn check_events(events: &[Event]) {
    assert!(!events.is_empty(), "an import without an error has events");
    let mut seqs: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for e in events {
        seqs.entry(&e.replica).or_default().push(e.seq);
    }
    for (r, s) in &seqs {
        let want: Vec<u64> = (1..=s.len() as u64).collect();
        assert_eq!(s, &want, "replica {r}: seqs are not 1..n in order");
    }
    let ids: HashSet<_> = events.iter().map(Event::id).collect();
    assert_eq!(ids.len(), events.len());
    for e in events {
        for p in e.parents.iter().flatten() {
            assert!(
                ids.contains(p),
                "{} names a parent {p} not imported",
                e.id()
            );
        }
    }
    let mut text = String::new();
    for e in events {
        text.push_str(&serde_json::to_string(e).expect("events serialize"));
        text.push('\n');
    }
    let trace = Trace::from_ndjson_str("in0.jsonl", &text, &ReadOptions::default())
        .expect("imported events read back as weft-trace/1");
    let report = weft_analyzer::analyze(&trace);
    assert_eq!(report.summary.events, events.len() as u64);
    for v in &report.violations {
        assert!(
            !matches!(
                v.code,
                Code::MissingEvent | Code::SeqGap | Code::DuplicateEvent
            ),
            "{v:?}"
        );
    }
}
