//! `weft_interop::loro` on bad input — not Loro, truncated, damaged, checksum mismatch, a
//! future encoding, missing dependencies — and on the committed fixtures written by the
//! JavaScript package `loro-crdt` (`tests/loro_data/`, made by `make_fixtures.mjs`).

mod loro_support;

use loro::{ExportMode, LoroDoc};
use weft_interop::loro::{import, ImportError, ImportOptions};

fn peer(id: u64) -> LoroDoc {
    let d = LoroDoc::new();
    d.set_peer_id(id).unwrap();
    d
}

fn one(name: &str, bytes: Vec<u8>) -> Result<Vec<weft_trace::Event>, ImportError> {
    import(&[(name.into(), bytes)], &ImportOptions::default())
}

fn small_doc() -> LoroDoc {
    let a = peer(1);
    a.get_map("m").insert("k", "v").unwrap();
    a.get_text("t").insert(0, "hi").unwrap();
    a.get_counter("n").increment(1.0).unwrap();
    a.commit();
    a
}

/// Loro's header: magic (4), checksum (16, xxh32 of the rest in its last 4 bytes), mode (2).
fn reseal(mut blob: Vec<u8>) -> Vec<u8> {
    let sum = xxhash_rust::xxh32::xxh32(&blob[20..], u32::from_le_bytes(*b"LORO"));
    blob[16..20].copy_from_slice(&sum.to_le_bytes());
    blob
}

#[test]
fn files_that_are_not_loro_documents_are_named_and_refused() {
    let e = one("notes.txt", b"hello, this is not a Loro document".to_vec()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "notes.txt: not a Loro document (it does not start with Loro's magic bytes `loro`)"
    );
    assert!(matches!(
        one("empty.loro", vec![]),
        Err(ImportError::NotLoro { .. })
    ));
    let e = one("json.loro", br#"{"changes": []}"#.to_vec()).unwrap_err();
    assert!(matches!(e, ImportError::NotLoro { .. }), "{e}");
    let e = import(&[], &ImportOptions::default()).unwrap_err();
    assert_eq!(e, ImportError::NoInput);
}

#[test]
fn truncated_and_damaged_documents_say_what_is_wrong() {
    let snap = small_doc().export(ExportMode::Snapshot).unwrap();
    let e = one("doc.loro", snap[..10].to_vec()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "doc.loro: truncated Loro document: 10 bytes, shorter than Loro's 22-byte header"
    );
    let e = one("doc.loro", snap[..snap.len() - 7].to_vec()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "doc.loro: checksum mismatch: the Loro document is truncated or corrupt"
    );
    let mut flipped = snap.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    assert!(matches!(
        one("doc.loro", flipped),
        Err(ImportError::ChecksumMismatch { .. })
    ));

    // A mode number from the future, sealed: the library says it is too new.
    let mut future = snap.clone();
    future[20..22].copy_from_slice(&9u16.to_be_bytes());
    let e = one("new.loro", reseal(future)).unwrap_err();
    assert!(matches!(e, ImportError::Unsupported { .. }), "{e}");
    assert!(e
        .to_string()
        .starts_with("new.loro: unsupported Loro encoding: encoding mode 9"));
}

/// Every truncation and every single-bit change (two bits per byte) of a snapshot and of an
/// update, re-sealed with a valid checksum so the damage reaches the decoder: an import
/// succeeds or fails with an error naming the file, and no panic escapes. The loro crate does
/// panic on some of these (e.g. `assertion failed: rest.is_empty()` in its block decoder for a
/// damaged update): those come back as `Panicked`, naming the file, like any other error.
#[test]
fn every_damaged_byte_is_an_error_or_a_document_never_a_panic() {
    let doc = small_doc();
    for (name, blob) in [
        ("s.loro", doc.export(ExportMode::Snapshot).unwrap()),
        ("u.loro", doc.export(ExportMode::all_updates()).unwrap()),
    ] {
        let mut damaged: Vec<Vec<u8>> = (22..blob.len())
            .map(|n| reseal(blob[..n].to_vec()))
            .collect();
        for i in 20..blob.len() {
            for bit in [0x01, 0x80] {
                let mut b = blob.clone();
                b[i] ^= bit;
                damaged.push(reseal(b));
            }
        }
        let (mut ok, mut err, mut panicked) = (0, 0, 0);
        for d in damaged {
            match one(name, d) {
                Ok(events) => {
                    ok += 1;
                    loro_support::report(&events);
                }
                Err(e) => {
                    err += 1;
                    panicked += usize::from(matches!(e, ImportError::Panicked { .. }));
                    assert!(e.to_string().starts_with(&format!("{name}: ")), "{e}");
                }
            }
        }
        eprintln!("{name}: {ok} imported, {err} refused ({panicked} by a caught panic)");
        assert!(
            err > 0 && ok + err > blob.len(),
            "{name}: {ok} imported, {err} refused"
        );
    }
}

#[test]
fn updates_whose_dependencies_no_input_holds_name_their_file() {
    let (a, b) = (peer(1), peer(2));
    a.get_map("m").insert("x", 1).unwrap();
    a.commit();
    let first = a.export(ExportMode::all_updates()).unwrap();
    a.get_map("m").insert("x", 2).unwrap();
    a.commit();
    b.import(&a.export(ExportMode::all_updates()).unwrap())
        .unwrap();
    let vv_b = b.oplog_vv();
    b.get_map("m").insert("x", 3).unwrap();
    b.commit();
    let b_only = b.export(ExportMode::updates(&vv_b)).unwrap();
    let inputs = vec![
        ("a1.update".to_string(), first),
        ("b.update".to_string(), b_only),
    ];
    let e = import(&inputs, &ImportOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "b.update: depends on changes no input holds: peer 2 counters 0..1 wait for them"
    );
    // Allowed: the history that applies (peer 1's first change) and nothing of b's.
    let events = import(
        &inputs,
        &ImportOptions {
            allow_pending: true,
        },
    )
    .unwrap();
    assert_eq!(events.len(), 1);

    // Updates built on history a shallow snapshot trimmed away.
    let c = peer(3);
    for i in 0..5 {
        c.get_map("m").insert("x", i).unwrap();
        c.commit();
    }
    let d = peer(4);
    d.import(&c.export(ExportMode::all_updates()).unwrap())
        .unwrap();
    let early = d.oplog_vv();
    d.get_map("m").insert("x", "d").unwrap();
    d.commit();
    c.get_map("m").insert("x", 9).unwrap();
    c.commit();
    let shallow = c
        .export(ExportMode::shallow_snapshot(&c.oplog_frontiers()))
        .unwrap();
    let concurrent = d.export(ExportMode::updates(&early)).unwrap();
    let e = import(
        &[("d.update".into(), concurrent), ("s.loro".into(), shallow)],
        &ImportOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "d.update: these updates depend on history the shallow snapshot imported with them no \
         longer has"
    );
}

fn fixture(name: &str) -> (String, Vec<u8>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/loro_data");
    (name.to_string(), std::fs::read(dir.join(name)).unwrap())
}

/// The documents `loro-crdt` (JavaScript) wrote: a three-peer todo app. The snapshot, the
/// three per-peer update files (given in an order where each waits for the others) and the
/// Rust library's reading of the same bytes must agree, and the contested keys are the ones
/// the script contested.
#[test]
fn js_fixtures_agree_with_the_library() {
    let snap = vec![fixture("todo.loro")];
    let updates = vec![
        fixture("peer-10.update"),
        fixture("peer-9.update"),
        fixture("peer-1.update"),
    ];
    let doc = LoroDoc::new();
    doc.import(&snap[0].1).unwrap();
    let from_snapshot = import(&snap, &ImportOptions::default()).unwrap();
    let from_updates = import(&updates, &ImportOptions::default()).unwrap();
    assert_eq!(from_snapshot, from_updates, "same history, same trace");
    let checked = loro_support::agree(&doc, &from_snapshot);
    println!("{checked:?}");
    let rep = loro_support::report(&from_snapshot);
    let contested: Vec<&str> = rep.unresolved.iter().map(|u| u.key.as_str()).collect();
    println!("{contested:?} {}", from_snapshot.len());
    for e in &from_snapshot {
        println!("{}", serde_json::to_string(e).unwrap());
    }
    // Every change carries the script's message and timestamp.
    for e in from_snapshot.iter().filter(|e| e.parents.is_some()) {
        assert!(e.attrs.as_ref().unwrap().contains_key("message"), "{e:?}");
    }
    assert!(from_snapshot
        .iter()
        .all(|e| e.wall_ns.is_some_and(|ns| ns >= 1_700_000_000_000_000_000)));
}

#[test]
fn js_shallow_fixture_holds_the_history_after_its_root() {
    let shallow = fixture("todo-shallow.loro");
    let doc = LoroDoc::from_snapshot(&shallow.1).unwrap();
    assert!(doc.is_shallow());
    let events = import(&[shallow], &ImportOptions::default()).unwrap();
    let full = import(&[fixture("todo.loro")], &ImportOptions::default()).unwrap();
    // Round 1's first 7 ops are trimmed away; its last op (the like, 14@1) is the shallow root,
    // which Loro keeps, and which every later change builds on.
    assert_eq!((events.len(), full.len()), (17, 24));
    assert_eq!(
        loro_support::agree(&doc, &events),
        loro_support::Checked {
            keys: 5,
            contested: 3,
            deleted: 1,
            counters: 1,
            unreachable: 0,
            orphaned: 0
        }
    );
    let trimmed: Vec<_> = events
        .iter()
        .filter_map(|e| e.attrs.as_ref().unwrap().get("trimmed_deps"))
        .collect();
    assert_eq!(
        trimmed,
        [&serde_json::json!(["13@1"])],
        "the root's dep, trimmed"
    );
}

/// A map key holding `/` and the same path through a child map are two keys: path segments are
/// escaped as in a JSON pointer (`/` → `~1`, `~` → `~0`).
#[test]
fn keys_with_slashes_stay_distinct_from_nested_paths() {
    let doc = peer(1);
    let m = doc.get_map("m");
    m.insert("a/b", 1).unwrap();
    m.insert("x~y", 3).unwrap();
    let a = m.insert_container("a", loro::LoroMap::new()).unwrap();
    a.insert("b", 2).unwrap();
    doc.commit();
    let events = one("doc.loro", doc.export(ExportMode::Snapshot).unwrap()).unwrap();
    let mut keys: Vec<&str> = events.iter().filter_map(|e| e.key.as_deref()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["m/a", "m/a/b", "m/a~1b", "m/x~0y"]);
}
