//! The `automerge` fuzz target's seeds (`fuzz/seeds/automerge/`: the files Automerge's
//! JavaScript package wrote in `fixtures/automerge`, and a save with its incremental save
//! appended), replayed through the fuzz harness itself (`fuzz/src/automerge.rs`, included here)
//! so that its invariants run in the ordinary test suite, with what each seed imports to.

use std::path::PathBuf;

#[path = "../../fuzz/src/automerge.rs"]
mod harness;

/// Every seed and what it imports to: a number of events (one per op: the todo list's 61, and
/// the 8 of carol's change after it), or an error by its start.
const SEEDS: &[(&str, Result<usize, &str>)] = &[
    ("base-then-incremental", Ok(69)),
    ("base.automerge", Ok(61)),
    // Carol's changes alone: their history is in base.automerge.
    (
        "later.incremental",
        Err("doc: 2 changes that no input holds are needed"),
    ),
    ("peers.automerge", Ok(434)),
    ("todo.automerge", Ok(61)),
    ("todo.changes", Ok(61)),
];

#[test]
fn seeds_replay_through_the_harness() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/automerge");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let listed: Vec<&str> = SEEDS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, listed, "every seed is listed");
    for (name, want) in SEEDS {
        let data = std::fs::read(dir.join(name)).unwrap();
        match (harness::check(&data), want) {
            (Ok(got), Ok(n)) => assert_eq!(got.len(), *n, "{name}"),
            (Err(e), Err(start)) => assert!(e.to_string().starts_with(start), "{name}: {e}"),
            (got, _) => panic!("{name}: {:?}", got.map(|e| e.len())),
        }
    }
}

/// Bytes around the seeds: every prefix and a flipped byte at every position of a small
/// document import or fail naming the file, never panic.
#[test]
fn every_cut_and_flip_of_a_document_is_handled() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/automerge");
    let data = std::fs::read(dir.join("todo.changes")).unwrap();
    for cut in 0..data.len() {
        let _ = harness::check(&data[..cut]);
    }
    for i in 0..data.len() {
        let mut d = data.clone();
        d[i] ^= 0xa5;
        let _ = harness::check(&d);
    }
}
