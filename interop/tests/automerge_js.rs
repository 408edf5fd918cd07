//! Files written by Automerge's JavaScript package (fixtures/automerge/make_fixtures.mjs, committed
//! with its output; the tests need no node): imported, checked against the Rust crate's reading
//! of the same file key by key (support/agree.rs), and against what the JavaScript library
//! itself showed when it wrote them (expected.json: getConflicts, the value shown, counters).

#[path = "support/agree.rs"]
mod agree;

use std::collections::BTreeSet;
use std::path::PathBuf;

use automerge::{Automerge, ReadDoc};
use serde_json::Value;
use weft_interop::automerge::{import, ImportOptions};
use weft_trace::{Event, ReadOptions, Trace};

fn data(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/automerge")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn run(files: &[&str]) -> Vec<Event> {
    let inputs: Vec<(String, Vec<u8>)> = files.iter().map(|f| (f.to_string(), data(f))).collect();
    import(&inputs, &ImportOptions::default()).unwrap()
}

fn doc(files: &[&str]) -> Automerge {
    let mut doc = Automerge::new();
    for f in files {
        doc.load_incremental(&data(f)).unwrap();
    }
    doc
}

fn sorted(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by_key(|e| e.id());
    events
}

/// What each fixture is read with: a save, or a save plus an incremental save.
fn inputs_of(file: &str) -> Vec<&'static str> {
    match file {
        "todo.automerge" => vec!["todo.automerge"],
        "later.incremental" => vec!["base.automerge", "later.incremental"],
        "peers.automerge" => vec!["peers.automerge"],
        other => panic!("no fixture {other}"),
    }
}

#[test]
fn js_documents_agree_with_the_rust_crate_key_by_key() {
    let mut totals = agree::Agreement::default();
    for files in [
        vec!["todo.automerge"],
        vec!["todo.changes"],
        vec!["base.automerge", "later.incremental"],
        vec!["peers.automerge"],
    ] {
        let a = agree::check(&doc(&files), &run(&files));
        totals.keys += a.keys;
        totals.conflicted += a.conflicted;
        totals.delete_siblings += a.delete_siblings;
        totals.counters += a.counters;
        totals.seq_ops += a.seq_ops;
        totals.pred_differs += a.pred_differs;
    }
    // The fixtures exercise every part of the comparison.
    assert!(totals.conflicted >= 5, "{totals:?}");
    assert!(totals.delete_siblings >= 2, "{totals:?}");
    assert!(totals.counters >= 4, "{totals:?}");
    assert!(totals.seq_ops >= 50, "{totals:?}");
    // One key of peers.automerge has an op whose pred leaves out a value its author had seen
    // (JavaScript's `d.k0 = v` where k0 already showed v): counted, not compared.
    assert!(totals.pred_differs <= 1, "{totals:?}");
    assert!(totals.keys >= 30, "{totals:?}");
}

#[test]
fn a_js_save_and_its_changes_import_alike() {
    let saved = sorted(run(&["todo.automerge"]));
    assert_eq!(sorted(run(&["todo.changes"])), saved);
    // JavaScript records times in seconds: 2026-01-01 in ns, not 1970.
    let first = saved
        .iter()
        .find(|e| e.replica == "aa".repeat(16) && e.seq == 1)
        .unwrap();
    assert_eq!(first.wall_ns, Some(1_767_225_600 * 1_000_000_000));
    assert_eq!(first.attrs.as_ref().unwrap()["message"], "first todo");
    let both = sorted(run(&["later.incremental", "base.automerge"]));
    assert_eq!(both, sorted(run(&["base.automerge", "later.incremental"])));
    // One event per op, one for an op-less change.
    let ops: usize = doc(&["base.automerge", "later.incremental"])
        .get_changes(&[])
        .iter()
        .map(|c| c.len().max(1))
        .sum();
    assert_eq!(both.len(), ops);
    assert!(both.len() > saved.len());
}

#[test]
fn weft_shows_what_the_js_library_showed() {
    let expected: Value = serde_json::from_slice(&data("expected.json")).unwrap();
    let entries = expected["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 19);
    for entry in entries {
        let file = entry["file"].as_str().unwrap();
        let key = entry["key"].as_str().unwrap();
        let files = inputs_of(file);
        let events = run(&files);
        let ndjson: String = events
            .iter()
            .map(|e| serde_json::to_string(e).unwrap() + "\n")
            .collect();
        let trace = Trace::from_ndjson_str(file, &ndjson, &ReadOptions::default()).unwrap();
        let report = weft_analyzer::analyze(&trace);
        let event = |id: &weft_trace::EventId| {
            events
                .iter()
                .find(|e| *e.replica == *id.replica && e.seq == id.seq)
                .unwrap()
        };
        let op_id = |e: &Event| format!("{}@{}", e.lamport.unwrap(), e.replica);
        let is_delete = |e: &Event| e.attrs.as_ref().unwrap()["action"] == "delete";
        let siblings: Vec<&Event> = report
            .unresolved
            .iter()
            .find(|u| u.key == key)
            .map(|u| u.siblings.iter().map(event).collect())
            .unwrap_or_default();
        let values: BTreeSet<String> = siblings
            .iter()
            .filter(|e| !is_delete(e))
            .map(|e| op_id(e))
            .collect();
        match entry["conflicts"].as_array() {
            // getConflicts' op ids are weft's siblings, less deletes.
            Some(ids) => {
                let js: BTreeSet<String> = ids
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect();
                assert_eq!(values, js, "{file} {key}");
            }
            None => assert!(values.len() <= 1, "{file} {key}: {values:?}"),
        }
        // The value JS showed is the last write weft would pick: the largest (lamport, replica)
        // among the maximal non-delete writes of the key.
        let writes: Vec<&Event> = events
            .iter()
            .filter(|e| e.key.as_deref() == Some(key) && e.op == Some(weft_trace::Op::Set))
            .collect();
        let maximal: Vec<&Event> = if siblings.is_empty() {
            writes
                .iter()
                .copied()
                .filter(|w| !writes.iter().any(|o| o.parents_reach(w, &events)))
                .collect()
        } else {
            siblings.clone()
        };
        let winner = maximal
            .iter()
            .filter(|e| !is_delete(e))
            .max_by(|a, b| (a.lamport, &a.replica).cmp(&(b.lamport, &b.replica)));
        if entry.get("deleted").is_some() {
            assert!(
                winner.is_none(),
                "{file} {key}: deleted in JS, weft has {winner:?}"
            );
            continue;
        }
        let winner = winner.unwrap_or_else(|| panic!("{file} {key}: no value"));
        let doc = doc(&files);
        if let Some(n) = entry.get("counter") {
            assert!(winner.value.as_ref().unwrap()["counter"].is_i64());
            let exid = doc.import_obj("_root").unwrap();
            let (v, _) = doc.get(&exid, key).unwrap().unwrap();
            assert_eq!(v.to_i64(), n.as_i64(), "{file} {key}");
            continue;
        }
        let shown = &entry["shown"];
        match winner.value.as_ref().unwrap() {
            // JavaScript strings are text objects: the winner made the text JS shows.
            Value::Object(o) if o.get("make") == Some(&Value::from("text")) => {
                let id = doc.import_obj(&op_id(winner)).unwrap();
                assert_eq!(
                    doc.text(&id).unwrap(),
                    shown.as_str().unwrap(),
                    "{file} {key}"
                );
            }
            v => assert_eq!(v, shown, "{file} {key}"),
        }
    }
}

/// Happens-before over `parents` and program order, for the few keys without siblings.
trait Reach {
    fn parents_reach(&self, target: &Event, events: &[Event]) -> bool;
}

impl Reach for Event {
    /// Whether `target` happens before `self`.
    fn parents_reach(&self, target: &Event, events: &[Event]) -> bool {
        let mut stack = vec![self.id()];
        let mut seen = BTreeSet::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            let Some(e) = events.iter().find(|e| e.id() == id) else {
                continue;
            };
            if id != self.id() && id == target.id() {
                return true;
            }
            if e.seq > 1 {
                stack.push(weft_trace::EventId::new(e.replica.clone(), e.seq - 1));
            }
            stack.extend(e.parents.iter().flatten().cloned());
        }
        false
    }
}
