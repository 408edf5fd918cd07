//! `weft_interop::loro`: Loro documents made by the `loro` crate itself (random multi-peer
//! histories with merges, every export mode) import to traces whose conflicts, winners and
//! counters agree with what the library shows; and the mapping's details on small documents.

mod loro_edits;
mod loro_support;

use loro::{ExportMode, IdSpan, LoroDoc, LoroMap, LoroValue, VersionVector};
use proptest::prelude::*;
use weft_interop::loro::{import, ImportOptions};

use loro_edits::{erase_at, push_todo, sync, type_at};
use loro_support::{agree, report, Checked};
use weft_interop::loro::replica_name;
use weft_trace::{EventId, Kind, Op};

/// One step of a random history.
#[derive(Clone, Debug)]
enum Step {
    /// Peer sets key `k` of the root map `m`.
    Set(usize, u8, Val),
    /// Peer deletes key `k` of `m`.
    Del(usize, u8),
    /// Peer sets a key of the map at `m/nested` (created by whichever peer gets there first;
    /// two peers creating it concurrently make two maps, one of which Loro drops).
    Nested(usize, u8, Val),
    /// Peer increments the root counter `clicks`.
    Inc(usize, i8),
    /// Peer increments the counter at `m/nested/likes`.
    NestedInc(usize, i8),
    /// Peer inserts text at a position (modulo the length) of the root text `t`.
    Type(usize, u8, String),
    /// Peer deletes up to 3 characters of `t`.
    Erase(usize, u8, u8),
    /// Peer appends a todo (a map in the root list `todos`) and ticks it.
    Todo(usize, bool),
    /// The second peer imports everything the first has that it lacks.
    Sync(usize, usize),
}

#[derive(Clone, Debug)]
enum Val {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
}

impl From<Val> for LoroValue {
    fn from(v: Val) -> LoroValue {
        match v {
            Val::Int(i) => i.into(),
            Val::Float(f) => f.into(),
            Val::Str(s) => s.into(),
            Val::Bool(b) => b.into(),
            Val::Null => LoroValue::Null,
        }
    }
}

fn val() -> impl Strategy<Value = Val> {
    prop_oneof![
        (-3i64..3).prop_map(Val::Int),
        prop_oneof![Just(1.0), Just(-0.5), Just(2.5)].prop_map(Val::Float),
        "[a-c]{0,2}".prop_map(Val::Str),
        any::<bool>().prop_map(Val::Bool),
        Just(Val::Null),
    ]
}

fn step(peers: usize) -> impl Strategy<Value = Step> {
    let p = 0..peers;
    let k = 0u8..3;
    prop_oneof![
        4 => (p.clone(), k.clone(), val()).prop_map(|(p, k, v)| Step::Set(p, k, v)),
        2 => (p.clone(), k.clone()).prop_map(|(p, k)| Step::Del(p, k)),
        2 => (p.clone(), k, val()).prop_map(|(p, k, v)| Step::Nested(p, k, v)),
        2 => (p.clone(), any::<i8>()).prop_map(|(p, n)| Step::Inc(p, n)),
        1 => (p.clone(), any::<i8>()).prop_map(|(p, n)| Step::NestedInc(p, n)),
        2 => (p.clone(), any::<u8>(), "[xyzé]{1,4}").prop_map(|(p, at, s)| Step::Type(p, at, s)),
        1 => (p.clone(), any::<u8>(), 1u8..4).prop_map(|(p, at, n)| Step::Erase(p, at, n)),
        1 => (p.clone(), any::<bool>()).prop_map(|(p, d)| Step::Todo(p, d)),
        4 => (p.clone(), p).prop_map(|(a, b)| Step::Sync(a, b)),
    ]
}

const KEYS: [&str; 3] = ["a", "b", "c"];

fn apply(docs: &[LoroDoc], s: &Step) {
    match s.clone() {
        Step::Set(p, k, v) => docs[p].get_map("m").insert(KEYS[k as usize], v).unwrap(),
        Step::Del(p, k) => docs[p].get_map("m").delete(KEYS[k as usize]).unwrap(),
        Step::Nested(p, k, v) => nested(&docs[p]).insert(KEYS[k as usize], v).unwrap(),
        Step::Inc(p, n) => docs[p].get_counter("clicks").increment(n as f64).unwrap(),
        Step::NestedInc(p, n) => nested(&docs[p])
            .ensure_mergeable_counter("likes")
            .unwrap()
            .increment(n as f64)
            .unwrap(),
        Step::Type(p, at, s) => type_at(&docs[p], at, &s),
        Step::Erase(p, at, n) => erase_at(&docs[p], at, n),
        Step::Todo(p, done) => push_todo(&docs[p], done),
        Step::Sync(a, b) => {
            if a != b {
                sync(&docs[a], &docs[b]);
            }
        }
    }
    for d in docs {
        d.commit();
    }
}

/// `m/nested`, made the way apps written before Loro 1.17's mergeable containers do (and many
/// stored documents are): two peers creating it concurrently make two maps, one dropped.
#[allow(deprecated)]
fn nested(doc: &LoroDoc) -> LoroMap {
    doc.get_map("m")
        .get_or_create_container("nested", LoroMap::new())
        .unwrap()
}

/// How the merged document is handed to the importer.
#[derive(Clone, Copy, Debug)]
enum Export {
    /// One snapshot.
    Snapshot,
    /// One file of all updates.
    AllUpdates,
    /// One file per peer holding only that peer's changes, in reverse peer order (each
    /// depends on others' files: the importer must apply them once all are in).
    PerPeer,
    /// A snapshot of the first half, then the updates since, listed updates first.
    SnapshotThenUpdates,
}

/// Runs a random history on peers with the given ids, merges everything, exports it as
/// `export` says and imports it: weft must agree with the library (see `agree`).
fn run(peer_ids: &[u64], steps: &[Step], export: Export) -> Checked {
    let docs: Vec<LoroDoc> = peer_ids
        .iter()
        .map(|&p| {
            let d = LoroDoc::new();
            d.set_peer_id(p).unwrap();
            d
        })
        .collect();
    for s in steps {
        apply(&docs, s);
    }
    for _ in 0..2 {
        for a in &docs {
            for b in &docs {
                sync(a, b);
            }
        }
    }
    let doc = &docs[0];
    let vv = doc.oplog_vv();
    let inputs: Vec<(String, Vec<u8>)> = match export {
        Export::Snapshot => vec![("doc.loro".into(), doc.export(ExportMode::Snapshot).unwrap())],
        Export::AllUpdates => vec![(
            "all.update".into(),
            doc.export(ExportMode::all_updates()).unwrap(),
        )],
        Export::PerPeer => peer_ids
            .iter()
            .rev()
            .filter(|p| vv.get(p).copied().unwrap_or(0) > 0)
            .map(|&p| {
                let span = IdSpan::new(p, 0, vv[&p]);
                let bytes = doc
                    .export(ExportMode::updates_in_range(vec![span]))
                    .unwrap();
                (format!("{p}.update"), bytes)
            })
            .collect(),
        Export::SnapshotThenUpdates => {
            let first = doc.fork_at(&earlier(doc)).unwrap();
            let since = first.oplog_vv();
            vec![
                (
                    "since.update".into(),
                    doc.export(ExportMode::updates(&since)).unwrap(),
                ),
                (
                    "old.loro".into(),
                    first.export(ExportMode::Snapshot).unwrap(),
                ),
            ]
        }
    };
    if doc.len_ops() == 0 {
        // Nothing any peer did made an op: per-peer exports are then no files at all.
        let err = import(&inputs, &ImportOptions::default()).unwrap_err();
        let want = if inputs.is_empty() {
            "no Loro document given"
        } else {
            "holds no history"
        };
        assert!(err.to_string().contains(want), "{err}");
        return Checked::default();
    }
    let events = import(&inputs, &ImportOptions::default()).unwrap();
    agree(doc, &events)
}

/// An earlier version of `doc`: the frontiers of about half of each peer's ops (with their
/// causal past), what a peer could have saved back then.
fn earlier(doc: &LoroDoc) -> loro::Frontiers {
    let vv = doc.oplog_vv();
    let mut partial = VersionVector::default();
    for (peer, end) in vv.iter() {
        partial.insert(*peer, end / 2);
    }
    doc.vv_to_frontiers(&partial)
}

/// Peer ids whose decimal strings sort differently from their values unless padded (9 < 10,
/// but "9" > "10"), small and huge.
fn peer_ids() -> impl Strategy<Value = Vec<u64>> {
    prop::sample::subsequence(vec![1, 9, 10, 255, 1 << 40, u64::MAX - 1], 2..=4).prop_shuffle()
}

fn export() -> impl Strategy<Value = Export> {
    prop_oneof![
        Just(Export::Snapshot),
        Just(Export::AllUpdates),
        Just(Export::PerPeer),
        Just(Export::SnapshotThenUpdates),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_histories_agree_with_loro(
        (ids, steps) in peer_ids().prop_flat_map(|ids| {
            let n = ids.len();
            (Just(ids), prop::collection::vec(step(n), 1..60))
        }),
        export in export(),
    ) {
        run(&ids, &steps, export);
    }
}

fn peer(id: u64) -> LoroDoc {
    let d = LoroDoc::new();
    d.set_peer_id(id).unwrap();
    d
}

fn snapshot(doc: &LoroDoc) -> Vec<(String, Vec<u8>)> {
    vec![("doc.loro".into(), doc.export(ExportMode::Snapshot).unwrap())]
}

/// Peers 9 and 10 write the same keys at the same Lamport time: Loro picks peer 10 (numeric
/// order), which unpadded names would get wrong ("9" > "10"); a concurrent delete wins over a
/// set; two peers create `m/nested` concurrently and one map is dropped; counters add up.
#[test]
fn ties_deletes_and_dropped_containers_agree_with_loro() {
    let (nine, ten) = (peer(9), peer(10));
    nine.get_map("m").insert("a", "nine").unwrap();
    ten.get_map("m").insert("a", "ten").unwrap();
    nine.get_map("m").insert("c", 1).unwrap();
    ten.get_map("m").delete("c").unwrap();
    nested(&nine).insert("k", 9).unwrap();
    nested(&ten).insert("k", 10).unwrap();
    nine.get_counter("clicks").increment(2.0).unwrap();
    ten.get_counter("clicks").increment(-0.5).unwrap();
    nine.commit();
    ten.commit();
    sync(&nine, &ten);
    sync(&ten, &nine);
    assert_eq!(
        ten.get_map("m").get("a").unwrap().into_value().unwrap(),
        "ten".into()
    );

    let events = import(&snapshot(&ten), &ImportOptions::default()).unwrap();
    let checked = agree(&ten, &events);
    assert_eq!(
        checked,
        Checked {
            keys: 5,
            contested: 3,
            deleted: 1,
            counters: 1,
            unreachable: 1,
            orphaned: 0
        },
        "m/a, m/c, m/nested contested; the kept nested map's k and the dropped one's k not"
    );
    let rep = loro_support::report(&events);
    let a = rep.conflicts.iter().find(|c| &*c.key == "m/a").unwrap();
    assert_eq!(&*a.winner.as_ref().unwrap().replica, replica_name(10));
    assert_eq!(replica_name(9), "00000000000000000009");
}

/// The fields of each event, on a document whose every detail is known.
#[test]
fn events_carry_peer_seq_lamport_deps_time_message_and_paths() {
    let (a, b) = (peer(1), peer(2));
    a.set_record_timestamp(true);
    a.set_next_commit_message("add todo");
    let todo = a.get_list("todos").push_container(LoroMap::new()).unwrap();
    todo.insert("done", false).unwrap();
    a.get_text("title").insert(0, "héllo").unwrap();
    a.commit();
    sync(&a, &b);
    b.get_map(todo_id(&b)).insert("done", true).unwrap();
    b.get_text("title").delete(0, 2).unwrap();
    b.get_tree("tree").create(None).unwrap();
    b.commit();

    let events = import(&snapshot(&b), &ImportOptions::default()).unwrap();
    let ids: Vec<String> = events.iter().map(|e| e.id().to_string()).collect();
    let (r1, r2) = (replica_name(1), replica_name(2));
    assert_eq!(
        ids,
        [
            format!("{r1}@1"),
            format!("{r1}@2"),
            format!("{r1}@3"),
            format!("{r2}@1"),
            format!("{r2}@2"),
            format!("{r2}@3"),
        ]
    );
    // Peer 1's ops: the list insert (counter 0), the map set (1), the 5-character insert (2..7).
    let lamports: Vec<u64> = events.iter().map(|e| e.lamport.unwrap()).collect();
    assert_eq!(lamports, [0, 1, 2, 7, 8, 10]);
    let attr = |i: usize, k: &str| events[i].attrs.as_ref().unwrap().get(k).cloned();
    assert_eq!(attr(0, "message"), Some("add todo".into()));
    assert_eq!(
        attr(1, "message"),
        None,
        "the message is on the change's first op"
    );
    assert_eq!(attr(2, "loro_id"), Some("2@1".into()));
    assert!(events[..3]
        .iter()
        .all(|e| e.wall_ns.is_some_and(|ns| ns % 1_000_000_000 == 0)));
    // Peer 2 records no time of its own, but Loro never lets a change's timestamp fall below
    // its deps' (it carries peer 1's forward).
    assert!(events[3..].iter().all(|e| e.wall_ns >= events[2].wall_ns));
    // Peer 2's change depends on peer 1's last op (the text insert, seq 3).
    assert_eq!(events[3].parents, Some(vec![EventId::new(r1.clone(), 3)]));
    assert_eq!(events[4].parents, None);

    assert_eq!(events[0].kind, Kind::Local);
    assert_eq!(events[0].key.as_deref(), Some("todos"));
    assert_eq!(attr(0, "action"), Some("insert".into()));
    assert_eq!(attr(0, "pos"), Some(0.into()));
    assert_eq!((events[1].kind, events[1].op), (Kind::Write, Some(Op::Set)));
    assert_eq!(events[1].key.as_deref(), Some("todos/0/done"));
    assert_eq!(events[3].key.as_deref(), Some("todos/0/done"));
    assert_eq!(events[3].value, Some(true.into()));
    assert_eq!(attr(2, "text"), Some("héllo".into()));
    assert_eq!(
        (attr(4, "action"), attr(4, "len")),
        (Some("delete".into()), Some(2.into()))
    );
    assert_eq!(attr(5, "action"), Some("create".into()));
    assert_eq!(events[5].key.as_deref(), Some("tree"));

    let rep = report(&events);
    assert_eq!(
        (rep.summary.errors, rep.summary.warnings),
        (0, 0),
        "{:?}",
        rep.violations
    );
    assert!(rep.conflicts.is_empty(), "b's set saw a's");
}

fn todo_id(doc: &LoroDoc) -> loro::ContainerID {
    use loro::ContainerTrait;
    match doc.get_list("todos").get(0).unwrap() {
        loro::ValueOrContainer::Container(c) => c.id(),
        v => panic!("{v:?}"),
    }
}

/// A shallow snapshot holds the history after its root only: deps on trimmed history are left
/// out of `parents` (listed in `trimmed_deps`) and the trace is complete without them.
#[test]
fn shallow_snapshots_import_the_history_they_keep() {
    let a = peer(1);
    for i in 0..10 {
        a.get_map("m").insert("k", i).unwrap();
        a.commit();
    }
    let root = a.oplog_frontiers();
    a.get_map("m").insert("k", "after").unwrap();
    a.get_counter("n").increment(3.0).unwrap();
    a.commit();
    let bytes = a.export(ExportMode::shallow_snapshot(&root)).unwrap();
    let shallow = LoroDoc::from_snapshot(&bytes).unwrap();
    assert!(shallow.is_shallow());

    let events = import(&[("s.loro".into(), bytes)], &ImportOptions::default()).unwrap();
    assert!(events.len() < 12, "trimmed: {}", events.len());
    assert!(events.iter().all(|e| e.seq <= events.len() as u64));
    let trimmed: Vec<_> = events
        .iter()
        .filter_map(|e| e.attrs.as_ref().unwrap().get("trimmed_deps"))
        .collect();
    assert!(!trimmed.is_empty());
    agree(&shallow, &events);

    // State only: a shallow snapshot whose root is the latest version keeps just the op at
    // the root; what it keeps still agrees with the library.
    let state = a.export(ExportMode::state_only(None)).unwrap();
    let kept = LoroDoc::from_snapshot(&state).unwrap();
    let events = import(&[("state.loro".into(), state)], &ImportOptions::default()).unwrap();
    assert_eq!(events.len(), 1);
    agree(&kept, &events);

    // An empty document has nothing to show, and says so.
    let empty = LoroDoc::new().export(ExportMode::Snapshot).unwrap();
    let err = import(&[("empty.loro".into(), empty)], &ImportOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "empty.loro: the Loro document holds no history (no change)"
    );
}
