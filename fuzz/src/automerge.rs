//! The Automerge importer's fuzz harness: arbitrary bytes as Automerge files through
//! `weft_interop::automerge::import`, with what must hold beyond "no panic": events that form a
//! complete weft trace (seqs 1, 2, … per replica, every parent present and emitted before, read
//! back as weft-trace/1, no missing event, duplicate, seq gap or cycle for the analyzer), or an
//! error that names one of the inputs.
//!
//! Depends only on weft-interop (and the weft-trace and weft-analyzer it depends on), so that
//! `interop/tests/automerge_fuzz_seeds.rs` includes this very file and replays the seeds through
//! it in the ordinary test suite.
//!
//! An input is one file, as `weft import automerge FILE` reads it; when Automerge's magic bytes
//! occur again later in it, it is also split there into two files given in reverse order (a save
//! and the changes after it, as several inputs in any order), which must give the same events
//! as the whole whenever both import.

use std::collections::{HashMap, HashSet};

use weft_analyzer::Code;
use weft_interop::automerge::{import, ImportError, ImportOptions, MAGIC};
use weft_trace::{Event, EventId, ReadOptions, Trace};

/// Imports the input (and its split, see the module docs), asserting the invariants; returns
/// the whole input's import.
pub fn check(data: &[u8]) -> Result<Vec<Event>, ImportError> {
    let whole = vec![("doc".to_string(), data.to_vec())];
    let result = checked(&whole);
    let again = data
        .windows(MAGIC.len())
        .skip(1)
        .position(|w| w == MAGIC)
        .map(|p| p + 1);
    if let Some(at) = again {
        let split = vec![
            ("tail".to_string(), data[at..].to_vec()),
            ("head".to_string(), data[..at].to_vec()),
        ];
        if let (Ok(a), Ok(b)) = (&result, checked(&split)) {
            assert_eq!(sorted(a), sorted(&b), "split at {at}");
        }
    }
    result
}

fn sorted(events: &[Event]) -> Vec<Event> {
    let mut v = events.to_vec();
    v.sort_by_key(|e| e.id());
    v
}

fn checked(inputs: &[(String, Vec<u8>)]) -> Result<Vec<Event>, ImportError> {
    match import(inputs, &ImportOptions::default()) {
        Ok(events) => {
            trace_invariants(&events);
            Ok(events)
        }
        Err(e) => {
            let name = e.source_name();
            assert!(inputs.iter().any(|(n, _)| n == name), "{e} names no input");
            assert!(e.to_string().starts_with(&format!("{name}: ")), "{e}");
            Err(e)
        }
    }
}

fn trace_invariants(events: &[Event]) {
    let mut seen: HashSet<EventId> = HashSet::new();
    let mut next: HashMap<&str, u64> = HashMap::new();
    for e in events {
        let want = next.entry(&e.replica).or_insert(1);
        assert_eq!(e.seq, *want, "{} out of its replica's order", e.id());
        *want += 1;
        for p in e.parents.iter().flatten() {
            assert!(
                seen.contains(p),
                "{} names {p} before it is emitted",
                e.id()
            );
        }
        assert!(seen.insert(e.id()), "{} twice", e.id());
    }
    if events.is_empty() {
        return;
    }
    let ndjson: String = events
        .iter()
        .map(|e| serde_json::to_string(e).expect("events serialize") + "\n")
        .collect();
    let trace = Trace::from_ndjson_str("import.jsonl", &ndjson, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("the import does not read back: {e}"));
    assert_eq!(trace.len(), events.len());
    let report = weft_analyzer::analyze(&trace);
    for v in &report.violations {
        assert!(
            !matches!(
                v.code,
                Code::MissingEvent | Code::DuplicateEvent | Code::SeqGap | Code::CausalityCycle
            ),
            "{v:?}"
        );
    }
}
