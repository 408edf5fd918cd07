//! Agreement between weft's reading of an imported Loro history and the Loro library's own
//! view of the same document, shared by the property tests and the JS-fixture tests.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use loro::{ContainerID, ContainerTrait, ContainerType, Frontiers, LoroDoc, ValueOrContainer, ID};
use serde_json::Value;
use weft_analyzer::{analyze, Code, Report};
use weft_interop::loro::{events::loro_json, replica_name};
use weft_trace::{Event, EventId, Kind, Op, ReadOptions, Trace};

/// What [`agree`] looked at, so a test can require that its documents exercise every check.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Map keys compared.
    pub keys: usize,
    /// Keys whose concurrent latest writes were two or more (a real LWW decision).
    pub contested: usize,
    /// Keys whose value Loro shows is "no value" (a delete won).
    pub deleted: usize,
    /// Counters compared.
    pub counters: usize,
    /// Map keys in containers that have no path (a lost concurrent container, named by id).
    pub unreachable: usize,
    /// Keys of containers the library no longer holds at all (a mergeable child of a map that
    /// lost a concurrent creation): Loro shows no value to compare; weft names them by id.
    pub orphaned: usize,
}

/// Whether the library still holds `cid`; if not, the importer must have named `key` by the
/// container's id (it has no path), and there is no value of Loro's to compare.
fn orphan(doc: &LoroDoc, cid: &ContainerID, key: &str) -> bool {
    if doc.get_container(cid.clone()).is_some() {
        return false;
    }
    assert!(
        key.starts_with(&format!("{cid}")),
        "{key}: orphaned {cid} has a path"
    );
    true
}

/// The events as one weft trace, checked by the analyzer.
pub fn report(events: &[Event]) -> Report {
    let mut text = String::from("{\"format\":\"weft-trace/1\"}\n");
    for e in events {
        text.push_str(&serde_json::to_string(e).unwrap());
        text.push('\n');
    }
    let trace = Trace::from_ndjson_str("loro.jsonl", &text, &ReadOptions::default()).unwrap();
    analyze(&trace)
}

fn loro_id(e: &Event) -> ID {
    let s = e.attrs.as_ref().unwrap()["loro_id"].as_str().unwrap();
    let (counter, peer) = s.split_once('@').unwrap();
    ID::new(peer.parse().unwrap(), counter.parse().unwrap())
}

fn container(e: &Event) -> ContainerID {
    let s = e.attrs.as_ref().unwrap()["container"].as_str().unwrap();
    ContainerID::try_from(s).unwrap()
}

/// What Loro's map shows for `key`, as the importer writes values (`null` for no value).
fn shown(doc: &LoroDoc, cid: &ContainerID, key: &str) -> Value {
    assert_eq!(cid.container_type(), ContainerType::Map, "{cid}");
    match doc.get_map(cid.clone()).get(key) {
        None => Value::Null,
        Some(ValueOrContainer::Value(v)) => loro_json(&v),
        Some(ValueOrContainer::Container(c)) => Value::from(format!("🦜:{}", c.id())),
    }
}

/// Loro's own concurrent latest writes among `writes`: those no other write of the set has in
/// its causal past, by Loro's version vectors (not weft's graph).
fn loro_maximal(doc: &LoroDoc, writes: &[ID]) -> BTreeSet<ID> {
    let vvs: Vec<_> = writes
        .iter()
        .map(|id| doc.frontiers_to_vv(&Frontiers::from_id(*id)).unwrap())
        .collect();
    writes
        .iter()
        .filter(|w| {
            !writes
                .iter()
                .zip(&vvs)
                .any(|(o, vv)| o != *w && vv.includes_id(**w))
        })
        .copied()
        .collect()
}

/// Asserts that weft's analysis of `events` agrees with `doc` (the library's view of the same
/// history): a complete trace without errors; for every map key, weft's unresolved siblings
/// (or its single latest write) are exactly Loro's concurrent latest writes, the LWW winner
/// weft names wrote the value Loro's map shows and was made by the peer Loro names as the
/// key's last editor; every counter's value is the sum of its imported increments; and the
/// events cover every op Loro counts (`len_ops`) unless the document is shallow.
pub fn agree(doc: &LoroDoc, events: &[Event]) -> Checked {
    let report = report(events);
    assert!(report.summary.complete, "{:?}", report.violations);
    let bad: Vec<_> = report
        .violations
        .iter()
        .filter(|v| v.code != Code::WallClockInversion)
        .collect();
    assert!(bad.is_empty(), "weft check found {bad:?}");
    let by_id: HashMap<EventId, &Event> = events.iter().map(|e| (e.id(), e)).collect();

    let mut sets: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    let mut incs: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == Kind::Write) {
        let key = e.key.as_deref().unwrap();
        match e.op {
            Some(Op::Set) => sets.entry(key).or_default().push(e),
            Some(Op::Inc) => incs.entry(key).or_default().push(e),
            other => panic!("unexpected write op {other:?}"),
        }
    }
    let mut checked = Checked::default();
    for (key, writes) in &sets {
        checked.keys += 1;
        let cid = container(writes[0]);
        assert!(
            writes.iter().all(|w| container(w) == cid),
            "{key}: containers differ"
        );
        let map_key = key.rsplit_once('/').unwrap().1;
        if orphan(doc, &cid, key) {
            checked.orphaned += 1;
            continue;
        }
        if key.starts_with("cid:") {
            checked.unreachable += 1;
        }
        let ids: Vec<ID> = writes.iter().map(|w| loro_id(w)).collect();
        let want = loro_maximal(doc, &ids);
        let siblings: Vec<EventId> = match report.unresolved.iter().find(|u| u.key == *key) {
            Some(u) => u.siblings.clone(),
            None => {
                // No siblings: weft holds a single latest write, the one Loro must name too.
                assert_eq!(
                    want.len(),
                    1,
                    "{key}: Loro has concurrent writes {want:?}, weft none"
                );
                vec![by_id
                    .values()
                    .find(|e| loro_id(e) == *want.first().unwrap())
                    .unwrap()
                    .id()]
            }
        };
        let got: BTreeSet<ID> = siblings.iter().map(|s| loro_id(by_id[s])).collect();
        assert_eq!(
            got, want,
            "{key}: weft's siblings vs Loro's concurrent writes"
        );
        let winner = if siblings.len() == 1 {
            siblings[0].clone()
        } else {
            checked.contested += 1;
            // The sibling that wins every conflict it is in (spec section 5, rule lamport).
            let wins = |s: &EventId| {
                report
                    .conflicts
                    .iter()
                    .filter(|c| &*c.key == *key && (c.a == *s || c.b == *s))
                    .all(|c| c.winner.as_ref() == Some(s))
            };
            let w: Vec<_> = siblings.iter().filter(|s| wins(s)).collect();
            assert_eq!(w.len(), 1, "{key}: no single LWW winner among {siblings:?}");
            w[0].clone()
        };
        let value = by_id[&winner].value.clone().unwrap();
        let loro_value = shown(doc, &cid, map_key);
        assert_eq!(
            value, loro_value,
            "{key}: weft's winner {winner} vs Loro's value"
        );
        if loro_value.is_null() {
            checked.deleted += 1;
        }
        if let Some(peer) = doc.get_map(cid.clone()).get_last_editor(map_key) {
            assert_eq!(&*winner.replica, replica_name(peer), "{key}: last editor");
        }
    }
    for (key, writes) in &incs {
        checked.counters += 1;
        let cid = container(writes[0]);
        if orphan(doc, &cid, key) {
            checked.orphaned += 1;
            continue;
        }
        assert_eq!(cid.container_type(), ContainerType::Counter, "{key}");
        let counter = doc.get_counter(cid.clone());
        let sum: f64 = writes
            .iter()
            .map(|w| w.value.as_ref().unwrap().as_f64().unwrap())
            .sum();
        assert_eq!(sum, counter.get_value(), "{key}: sum of increments");
    }
    if !doc.is_shallow() {
        let atoms: usize = events.iter().map(atoms).sum();
        assert_eq!(atoms, doc.len_ops(), "events cover every op");
    }
    checked
}

/// How many Loro op ids (counters) an event's op covers.
fn atoms(e: &Event) -> usize {
    let a = e.attrs.as_ref().unwrap();
    match (
        a.get("action").and_then(Value::as_str),
        a.get("text"),
        a.get("values"),
    ) {
        (Some("insert"), Some(Value::String(t)), _) => t.chars().count(),
        (Some("insert"), _, Some(Value::Array(v))) => v.len(),
        (Some("delete"), _, _) if a.contains_key("len") => {
            a["len"].as_i64().unwrap().unsigned_abs() as usize
        }
        _ => 1,
    }
}
