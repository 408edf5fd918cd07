//! `weft_interop::loro` streams: [`emit`] after [`plan`], which read the history in chunks,
//! makes exactly the events that mapping the whole history at once makes
//! ([`whole_history_events`], how the import worked before it streamed), whatever the chunk
//! size: on the JavaScript fixtures and on random multi-peer documents with multi-op changes,
//! long text ops, counters in map slots and shallow snapshots. Errors are the same too.

mod loro_edits;

use loro::{ExportMode, LoroDoc, VersionVector};
use proptest::prelude::*;
use weft_interop::loro::{
    emit, import, load, plan, plan_in_chunks, prepare, whole_history_events, ImportOptions,
};
use weft_trace::Event;

use loro_edits::{erase_at, push_todo, sync, type_at};

/// Chunk sizes that cut changes and ops in every place, and the default.
const CHUNKS: [i32; 6] = [1, 2, 3, 5, 64, i32::MAX];

/// Imports `inputs` every way and checks they agree; returns the events.
fn same_events(inputs: &[(String, Vec<u8>)]) -> Vec<Event> {
    let opts = ImportOptions::default();
    let (doc, names) = load(inputs, &opts).unwrap();
    let reference = whole_history_events(&doc, &names);
    let Ok(reference) = reference else {
        let want = reference.unwrap_err();
        assert_eq!(plan(&doc, &names).unwrap_err(), want);
        assert_eq!(import(inputs, &opts).unwrap_err(), want);
        return Vec::new();
    };
    assert_eq!(import(inputs, &opts).unwrap(), reference, "import");
    for chunk in CHUNKS {
        let p = plan_in_chunks(&doc, &names, chunk).unwrap();
        assert_eq!(p.len(), reference.len() as u64);
        let mut got = Vec::new();
        let n = emit(&doc, &p, |e| got.push(e));
        assert_eq!(n, reference.len() as u64);
        assert_eq!(got, reference, "chunks of {chunk}");
    }
    let prepared = prepare(inputs, &opts).unwrap();
    let mut lines = Vec::new();
    emit(&prepared.doc, &prepared.plan, |e| {
        serde_json::to_writer(&mut lines, &e).unwrap();
        lines.push(b'\n');
    });
    let mut want = Vec::new();
    for e in &reference {
        serde_json::to_writer(&mut want, e).unwrap();
        want.push(b'\n');
    }
    assert_eq!(lines, want, "NDJSON bytes");
    reference
}

fn fixture(name: &str) -> (String, Vec<u8>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/loro_data");
    (name.into(), std::fs::read(dir.join(name)).unwrap())
}

#[test]
fn fixtures_stream_the_whole_history_events() {
    for inputs in [
        vec![fixture("todo.loro")],
        vec![fixture("todo-shallow.loro")],
        vec![
            fixture("peer-10.update"),
            fixture("peer-1.update"),
            fixture("peer-9.update"),
        ],
    ] {
        assert!(!same_events(&inputs).is_empty());
    }
}

/// One step of a random history.
#[derive(Clone, Debug)]
enum Step {
    /// Peer sets key `a` or `b` of `m`, or deletes it.
    Set(usize, u8, Option<i64>),
    /// Peer increments the root counter, or the counter in map slot `m/likes` (its slot's
    /// writes and its increments share a key).
    Inc(usize, bool, i8),
    /// Peer inserts a string (several counters in one op) into the text `t`.
    Type(usize, u8, String),
    /// Peer deletes a range of `t` (one op of several counters).
    Erase(usize, u8, u8),
    /// Peer pushes a map into the list `todos` and sets a key of it.
    Todo(usize, bool),
    /// The peer commits (a change holds every op since its last commit).
    Commit(usize),
    /// The second peer imports what the first has.
    Sync(usize, usize),
}

fn step(peers: usize) -> impl Strategy<Value = Step> {
    let p = 0..peers;
    prop_oneof![
        3 => (p.clone(), 0u8..2, prop::option::of(-3i64..3)).prop_map(|(p, k, v)| Step::Set(p, k, v)),
        2 => (p.clone(), any::<bool>(), any::<i8>()).prop_map(|(p, n, x)| Step::Inc(p, n, x)),
        3 => (p.clone(), any::<u8>(), "[xyzé]{1,9}").prop_map(|(p, at, s)| Step::Type(p, at, s)),
        1 => (p.clone(), any::<u8>(), 1u8..6).prop_map(|(p, at, n)| Step::Erase(p, at, n)),
        1 => (p.clone(), any::<bool>()).prop_map(|(p, d)| Step::Todo(p, d)),
        3 => p.clone().prop_map(Step::Commit),
        2 => (p.clone(), p).prop_map(|(a, b)| Step::Sync(a, b)),
    ]
}

fn apply(docs: &[LoroDoc], s: &Step) {
    match s.clone() {
        Step::Set(p, k, v) => {
            let m = docs[p].get_map("m");
            let k = ["a", "b"][k as usize];
            match v {
                Some(v) => m.insert(k, v).unwrap(),
                None => m.delete(k).unwrap(),
            }
        }
        Step::Inc(p, nested, x) => {
            let c = if nested {
                docs[p]
                    .get_map("m")
                    .ensure_mergeable_counter("likes")
                    .unwrap()
            } else {
                docs[p].get_counter("n")
            };
            c.increment(x as f64).unwrap();
        }
        Step::Type(p, at, s) => type_at(&docs[p], at, &s),
        Step::Erase(p, at, n) => erase_at(&docs[p], at, n),
        Step::Todo(p, done) => push_todo(&docs[p], done),
        Step::Commit(p) => docs[p].commit(),
        Step::Sync(a, b) => {
            docs[a].commit();
            docs[b].commit();
            sync(&docs[a], &docs[b]);
        }
    }
}

/// How the merged document is handed to the importer.
#[derive(Clone, Copy, Debug)]
enum Export {
    Snapshot,
    AllUpdates,
    /// A shallow snapshot rooted at about half of each peer's history.
    Shallow,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_documents_stream_the_whole_history_events(
        (ids, steps) in prop::sample::subsequence(vec![1u64, 9, 10, 1 << 40, u64::MAX - 1], 1..=4)
            .prop_shuffle()
            .prop_flat_map(|ids| {
                let n = ids.len();
                (Just(ids), prop::collection::vec(step(n), 1..50))
            }),
        export in prop_oneof![Just(Export::Snapshot), Just(Export::AllUpdates), Just(Export::Shallow)],
    ) {
        let docs: Vec<LoroDoc> = ids
            .iter()
            .map(|&p| {
                let d = LoroDoc::new();
                d.set_peer_id(p).unwrap();
                d
            })
            .collect();
        for s in &steps {
            apply(&docs, s);
        }
        for d in &docs {
            d.commit();
        }
        let doc = &docs[0];
        for d in &docs[1..] {
            doc.import(&d.export(ExportMode::updates(&doc.oplog_vv())).unwrap()).unwrap();
        }
        let bytes = match export {
            Export::Snapshot => doc.export(ExportMode::Snapshot).unwrap(),
            Export::AllUpdates => doc.export(ExportMode::all_updates()).unwrap(),
            Export::Shallow => {
                let mut half = VersionVector::default();
                for (peer, end) in doc.oplog_vv().iter() {
                    half.insert(*peer, end / 2);
                }
                let root = doc.vv_to_frontiers(&half);
                doc.export(ExportMode::shallow_snapshot(&root)).unwrap()
            }
        };
        same_events(&[("doc.loro".into(), bytes)]);
    }
}
