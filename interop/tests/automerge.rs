//! `weft import automerge` against the `automerge` crate: documents the library itself makes
//! (hand-picked merges, and random multi-peer histories) imported and checked key by key
//! against what the library shows (support/agree.rs), every input form (a saved document,
//! concatenated changes, several files in any order), and bad input.

#[path = "support/agree.rs"]
mod agree;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ObjType, ReadDoc, ScalarValue, ROOT};
use proptest::prelude::*;
use serde_json::json;
use weft_interop::automerge::{import, ImportError, ImportOptions};
use weft_trace::{Event, Kind, Op};

fn actor(bytes: &[u8]) -> ActorId {
    ActorId::from(bytes)
}

fn run(inputs: &[(&str, Vec<u8>)]) -> Result<Vec<Event>, ImportError> {
    let owned: Vec<(String, Vec<u8>)> = inputs
        .iter()
        .map(|(n, b)| (n.to_string(), b.clone()))
        .collect();
    import(&owned, &ImportOptions::default())
}

/// The changes of `doc` as `getChanges` would hand them out, concatenated into one file.
fn changes_file(doc: &mut AutoCommit) -> Vec<u8> {
    doc.get_changes(&[])
        .iter()
        .flat_map(|c| c.raw_bytes().to_vec())
        .collect()
}

fn sorted(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by_key(|e| e.id());
    events
}

fn find<'a>(events: &'a [Event], replica: &ActorId, lamport: u64) -> &'a Event {
    let r = replica.to_hex_string();
    events
        .iter()
        .find(|e| e.replica == r && e.lamport == Some(lamport))
        .unwrap()
}

/// Two peers edit a todo list, go offline, both set the same field, one deletes a field the
/// other sets, both bump a counter; then they merge.
fn todo_merge() -> AutoCommit {
    let mut a = AutoCommit::new().with_actor(actor(&[0xaa]));
    let todos = a.put_object(&ROOT, "todos", ObjType::List).unwrap();
    let item = a.insert_object(&todos, 0, ObjType::Map).unwrap();
    a.put(&item, "title", "milk").unwrap();
    a.put(&item, "done", false).unwrap();
    a.put(&ROOT, "likes", ScalarValue::counter(0)).unwrap();
    a.put(&ROOT, "note", "draft").unwrap();
    a.commit_with(
        CommitOptions::default()
            .with_message("first todo")
            .with_time(1_700_000_000_000),
    );
    let mut b = a.fork().with_actor(actor(&[0xbb, 0x01]));
    a.put(&item, "done", true).unwrap();
    a.increment(&ROOT, "likes", 2).unwrap();
    a.delete(&ROOT, "note").unwrap();
    a.commit();
    b.put(&item, "done", "maybe").unwrap();
    b.increment(&ROOT, "likes", 5).unwrap();
    b.put(&ROOT, "note", "final").unwrap();
    let text = b.put_object(&ROOT, "title", ObjType::Text).unwrap();
    b.splice_text(&text, 0, 0, "hi").unwrap();
    b.commit();
    a.merge(&mut b).unwrap();
    a
}

#[test]
fn a_merged_todo_list_maps_op_by_op() {
    let mut doc = todo_merge();
    let a = actor(&[0xaa]);
    let b = actor(&[0xbb, 0x01]);
    let events = run(&[("todo.automerge", doc.save())]).unwrap();

    // One event per op: a's first change has 6 ops, a's second 3, b's 5 (2 for "hi").
    assert_eq!(events.len(), 6 + 3 + 6);
    let first = find(&events, &a, 1);
    assert_eq!(
        (first.replica.as_str(), first.seq, first.kind),
        ("aa", 1, Kind::Write)
    );
    assert_eq!(first.key.as_deref(), Some("todos"));
    assert_eq!(first.value, Some(json!({"make": "list"})));
    assert_eq!(first.wall_ns, Some(1_700_000_000_000 * 1_000_000));
    let attrs = first.attrs.as_ref().unwrap();
    assert_eq!(attrs["message"], "first todo");
    assert_eq!(attrs["change"].as_str().unwrap().len(), 64);
    // The list element is a local event; the map inside it is named by its index.
    let insert = find(&events, &a, 2);
    assert_eq!(insert.kind, Kind::Local);
    let ia = insert.attrs.as_ref().unwrap();
    assert_eq!(
        (ia["action"].as_str(), ia["obj"].as_str()),
        (Some("insert"), Some("todos"))
    );
    assert_eq!(
        (ia["after"].as_str(), &ia["value"]),
        (Some("_head"), &json!({"make": "map"}))
    );
    assert_eq!(find(&events, &a, 4).key.as_deref(), Some("todos/0/done"));
    assert_eq!(find(&events, &a, 4).value, Some(json!(false)));
    let counter = find(&events, &a, 5);
    assert_eq!(
        (counter.op, counter.value.clone()),
        (Some(Op::Set), Some(json!({"counter": 0})))
    );

    // b forked after a's first change: its first op (counter 7) follows a's last op of it.
    let b1 = find(&events, &b, 7);
    assert_eq!(b1.seq, 1);
    assert_eq!(b1.parents, Some(vec![weft_trace::EventId::new("aa", 6)]));
    assert_eq!(b1.wall_ns, None, "no time given, none made up");
    let inc = find(&events, &b, 8);
    assert_eq!(
        (inc.op, inc.value.clone(), inc.key.as_deref()),
        (Some(Op::Inc), Some(json!(5)), Some("likes"))
    );
    let delete = find(&events, &a, 9);
    assert_eq!((delete.op, delete.value.clone()), (Some(Op::Set), None));
    assert_eq!(delete.attrs.as_ref().unwrap()["action"], "delete");
    let h = find(&events, &b, 11);
    let ha = h.attrs.as_ref().unwrap();
    assert_eq!(
        (
            ha["obj"].as_str(),
            ha["value"].as_str(),
            ha["after"].as_str()
        ),
        (Some("title"), Some("h"), Some("_head"))
    );
    assert_eq!(
        find(&events, &b, 12).attrs.as_ref().unwrap()["after"],
        "11@bb01"
    );

    let agreement = agree::check(doc.document(), &events);
    assert_eq!(agreement.conflicted, 1, "todos/0/done: true vs maybe");
    assert_eq!(
        agreement.delete_siblings, 1,
        "note: the delete beside b's put"
    );
    assert_eq!(agreement.counters, 1);
    assert_eq!(agreement.seq_ops, 3);
    assert_eq!(
        doc.get(&ROOT, "likes").unwrap().unwrap().0.to_i64(),
        Some(7)
    );
}

#[test]
fn a_save_and_its_changes_import_alike_in_any_order_and_split() {
    let mut doc = todo_merge();
    let whole = sorted(run(&[("doc.automerge", doc.save())]).unwrap());
    assert_eq!(
        sorted(run(&[("changes.bin", changes_file(&mut doc))]).unwrap()),
        whole
    );

    // A save, then an incremental save after more edits: given in either order.
    let mut later = doc.fork().with_actor(actor(&[0xcc]));
    let base = later.save();
    later.put(&ROOT, "note", "after").unwrap();
    later.commit();
    let incremental = later.save_incremental();
    let both = sorted(run(&[("base", base.clone()), ("inc", incremental.clone())]).unwrap());
    assert_eq!(both.len(), whole.len() + 1);
    assert_eq!(
        sorted(run(&[("inc", incremental.clone()), ("base", base)]).unwrap()),
        both
    );

    // The incremental save alone lacks its history: named, with the missing change.
    let err = run(&[("inc.automerge", incremental)]).unwrap_err();
    assert!(
        matches!(&err, ImportError::MissingDeps { source, missing } if source == "inc.automerge" && missing.len() == 2),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("inc.automerge: 2 changes that no input holds are needed"),
        "{err}"
    );
}

#[test]
fn bad_input_names_the_file_and_what_is_wrong() {
    let mut doc = todo_merge();
    let saved = doc.save();
    let msg = |inputs: &[(&str, Vec<u8>)]| run(inputs).unwrap_err().to_string();

    assert_eq!(
        msg(&[("empty.am", vec![])]),
        "empty.am: empty file, not an Automerge document"
    );
    let json = msg(&[("doc.json", b"{\"todos\": []}".to_vec())]);
    assert!(
        json.starts_with("doc.json: not an Automerge document (it looks like JSON"),
        "{json}"
    );
    let gz = msg(&[("doc.gz", vec![0x1f, 0x8b, 8, 0])]);
    assert!(gz.contains("gzip"), "{gz}");

    // A checksum that does not match: the 4 bytes after the magic.
    let mut bad_sum = saved.clone();
    bad_sum[5] ^= 0xff;
    assert_eq!(
        run(&[("sum.am", bad_sum)]).unwrap_err(),
        ImportError::Checksum {
            source: "sum.am".into()
        }
    );
    // Truncated anywhere past the magic, a good file before it in the list: this file named.
    for cut in [4, 9, saved.len() / 2, saved.len() - 1] {
        let err = run(&[("ok.am", saved.clone()), ("cut.am", saved[..cut].to_vec())]).unwrap_err();
        assert_eq!(err.source_name(), "cut.am", "cut at {cut}: {err}");
        assert!(
            matches!(
                err,
                ImportError::Corrupt { .. } | ImportError::Checksum { .. }
            ),
            "cut at {cut}: {err}"
        );
    }
    // A flipped byte in the body of a change file: its checksum catches it.
    let mut changes = changes_file(&mut doc);
    let n = changes.len();
    changes[n - 3] ^= 0x55;
    let err = run(&[("changes.bin", changes)]).unwrap_err();
    assert_eq!(err.source_name(), "changes.bin");
}

/// One step of a random history: which peer does what.
#[derive(Clone, Debug)]
enum Step {
    Put(usize, usize, u8),
    PutMap(usize, usize),
    Nested(usize, usize, u8),
    PutCounter(usize, usize, i64),
    Inc(usize, usize, i64),
    Delete(usize, usize),
    ListInsert(usize, usize, bool),
    ListDelete(usize, usize),
    ListItemPut(usize, usize, u8),
    Text(usize, usize, usize, String),
    Commit(usize, bool),
    Merge(usize, usize),
}

const KEYS: [&str; 4] = ["a", "b", "c/d", "m"];
/// Actor ids of different lengths, one a prefix of another: weft's replica order must still be
/// Automerge's actor order.
const ACTORS: [&[u8]; 3] = [&[0x01], &[0x01, 0x00], &[0xab, 0xcd]];

fn scalar(v: u8) -> ScalarValue {
    match v % 6 {
        0 => ScalarValue::Int(i64::from(v)),
        1 => ScalarValue::Str(format!("s{v}").into()),
        2 => ScalarValue::Boolean(v.is_multiple_of(2)),
        3 => ScalarValue::Null,
        4 => ScalarValue::F64(f64::from(v) / 4.0),
        _ => ScalarValue::Uint(u64::from(v)),
    }
}

fn step() -> impl Strategy<Value = Step> {
    let p = 0..ACTORS.len();
    let k = 0..KEYS.len();
    prop_oneof![
        4 => (p.clone(), k.clone(), any::<u8>()).prop_map(|(p, k, v)| Step::Put(p, k, v)),
        1 => (p.clone(), k.clone()).prop_map(|(p, k)| Step::PutMap(p, k)),
        2 => (p.clone(), k.clone(), any::<u8>()).prop_map(|(p, k, v)| Step::Nested(p, k, v)),
        1 => (p.clone(), k.clone(), -3i64..4).prop_map(|(p, k, v)| Step::PutCounter(p, k, v)),
        2 => (p.clone(), k.clone(), -5i64..6).prop_map(|(p, k, v)| Step::Inc(p, k, v)),
        2 => (p.clone(), k.clone()).prop_map(|(p, k)| Step::Delete(p, k)),
        1 => (p.clone(), 0..4usize, any::<bool>()).prop_map(|(p, i, m)| Step::ListInsert(p, i, m)),
        1 => (p.clone(), 0..4usize).prop_map(|(p, i)| Step::ListDelete(p, i)),
        1 => (p.clone(), 0..4usize, any::<u8>()).prop_map(|(p, i, v)| Step::ListItemPut(p, i, v)),
        1 => (p.clone(), 0..6usize, 0..3usize, "[a-z]{0,3}").prop_map(|(p, i, d, t)| Step::Text(p, i, d, t)),
        2 => (p.clone(), any::<bool>()).prop_map(|(p, m)| Step::Commit(p, m)),
        3 => (p.clone(), p).prop_map(|(a, b)| Step::Merge(a, b)),
    ]
}

/// Applies the steps to one document per peer (ops the library refuses, such as incrementing
/// what is not a counter, are skipped as an app would), then merges every peer into one.
fn history(steps: &[Step]) -> AutoCommit {
    let mut peers: Vec<AutoCommit> = ACTORS
        .iter()
        .map(|a| AutoCommit::new().with_actor(actor(a)))
        .collect();
    for s in steps {
        match s {
            Step::Put(p, k, v) => drop(peers[*p].put(&ROOT, KEYS[*k], scalar(*v))),
            Step::PutMap(p, k) => {
                if let Ok(m) = peers[*p].put_object(&ROOT, KEYS[*k], ObjType::Map) {
                    peers[*p].put(&m, "x", 1).unwrap();
                }
            }
            Step::Nested(p, k, v) => {
                let d = &mut peers[*p];
                if let Ok(Some((automerge::Value::Object(ObjType::Map), m))) = d.get(&ROOT, "m") {
                    drop(d.put(&m, KEYS[*k], scalar(*v)));
                }
            }
            Step::PutCounter(p, k, v) => {
                drop(peers[*p].put(&ROOT, KEYS[*k], ScalarValue::counter(*v)))
            }
            Step::Inc(p, k, v) => drop(peers[*p].increment(&ROOT, KEYS[*k], *v)),
            Step::Delete(p, k) => drop(peers[*p].delete(&ROOT, KEYS[*k])),
            Step::ListInsert(p, i, make_map) => {
                let d = &mut peers[*p];
                let list = match d.get(&ROOT, "l") {
                    Ok(Some((automerge::Value::Object(ObjType::List), l))) => l,
                    _ => d.put_object(&ROOT, "l", ObjType::List).unwrap(),
                };
                let at = i % (d.length(&list) + 1);
                if *make_map {
                    let m = d.insert_object(&list, at, ObjType::Map).unwrap();
                    d.put(&m, "done", false).unwrap();
                } else {
                    d.insert(&list, at, *i as i64).unwrap();
                }
            }
            Step::ListDelete(p, i) | Step::ListItemPut(p, i, _) => {
                let d = &mut peers[*p];
                if let Ok(Some((automerge::Value::Object(ObjType::List), l))) = d.get(&ROOT, "l") {
                    let n = d.length(&l);
                    if n > 0 {
                        match s {
                            Step::ListDelete(..) => d.delete(&l, i % n).unwrap(),
                            Step::ListItemPut(_, _, v) => match d.get(&l, i % n) {
                                Ok(Some((automerge::Value::Object(ObjType::Map), m))) => {
                                    d.put(&m, "done", scalar(*v)).unwrap()
                                }
                                _ => d.put(&l, i % n, scalar(*v)).unwrap(),
                            },
                            _ => unreachable!(),
                        }
                    }
                }
            }
            Step::Text(p, i, del, t) => {
                let d = &mut peers[*p];
                let text = match d.get(&ROOT, "t") {
                    Ok(Some((automerge::Value::Object(ObjType::Text), t))) => t,
                    _ => d.put_object(&ROOT, "t", ObjType::Text).unwrap(),
                };
                let n = d.length(&text);
                let at = i % (n + 1);
                let del = (*del).min(n - at) as isize;
                d.splice_text(&text, at, del, t).unwrap();
            }
            Step::Commit(p, message) => {
                let opts = CommitOptions::default();
                peers[*p].commit_with(if *message {
                    opts.with_message("step")
                } else {
                    opts
                });
            }
            Step::Merge(into, from) if into != from => {
                // A peer syncs what it committed (a clone would commit the open transaction a
                // second time, as a different change with the same seq).
                peers[*from].commit();
                let mut other = peers[*from].clone();
                peers[*into].merge(&mut other).unwrap();
            }
            Step::Merge(..) => {}
        }
    }
    let mut all = AutoCommit::new().with_actor(actor(&[0xff]));
    for p in &mut peers {
        all.merge(p).unwrap();
    }
    all
}

/// Found by the property test below: a counter and a scalar put concurrently, then an increment
/// made where both showed. The increment succeeds both; Automerge 0.10 then hides the scalar when
/// it sorts before the counter in the key (the second history) and shows both when it sorts after
/// (the first). weft keeps the scalar a sibling either way, and the increment names what it
/// succeeded in `attrs.pred`.
#[test]
fn an_increment_succeeds_the_scalar_next_to_the_counter() {
    for steps in [
        vec![
            Step::Put(2, 0, 0),
            Step::PutCounter(0, 0, 0),
            Step::Merge(0, 2),
            Step::Inc(0, 0, 0),
        ],
        vec![
            Step::Put(0, 0, 0),
            Step::PutCounter(1, 0, 0),
            Step::Merge(1, 0),
            Step::Inc(1, 0, 0),
        ],
    ] {
        let mut doc = history(&steps);
        let events = run(&[("doc.automerge", doc.save())]).unwrap();
        agree::check(doc.document(), &events);
        let inc = events.iter().find(|e| e.op == Some(Op::Inc)).unwrap();
        let pred = inc.attrs.as_ref().unwrap()["pred"].as_array().unwrap();
        assert_eq!(pred.len(), 2, "{inc:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// For every map key of a random multi-peer history: weft's siblings less deletes are
    /// get_all, weft's winner is get, counters sum; the same events from the saved document,
    /// from its changes, and from the changes split in two files given in reverse order.
    #[test]
    fn random_histories_agree_with_the_library(steps in prop::collection::vec(step(), 1..60)) {
        let mut doc = history(&steps);
        let events = run(&[("doc.automerge", doc.save())]).unwrap();
        agree::check(doc.document(), &events);
        let all = sorted(events);
        let changes = doc.get_changes(&[]);
        let mid = changes.len() / 2;
        let half = |cs: &[automerge::Change]| cs.iter().flat_map(|c| c.raw_bytes().to_vec()).collect::<Vec<u8>>();
        if changes.is_empty() {
            // Nothing any peer did was accepted: no changes, an empty file, which is refused.
            let refused = run(&[("changes", vec![])]);
            let empty = matches!(refused, Err(ImportError::Empty { .. }));
            prop_assert!(empty, "an empty changes file is refused as empty");
            return Ok(());
        }
        if agree::has_increment_of_a_value(doc.document()) {
            // The library's own state differs between the save and the changes (see
            // has_increment_of_a_value): each form is checked against its own reading.
            let from_changes = run(&[("changes", half(&changes))]).unwrap();
            let mut applied = automerge::Automerge::new();
            applied.apply_changes(changes.iter().cloned()).unwrap();
            agree::check(&applied, &from_changes);
            return Ok(());
        }
        prop_assert_eq!(&sorted(run(&[("changes", half(&changes))]).unwrap()), &all);
        if mid > 0 {
            let split = run(&[("late", half(&changes[mid..])), ("early", half(&changes[..mid]))]);
            prop_assert_eq!(&sorted(split.unwrap()), &all);
        }
    }
}
