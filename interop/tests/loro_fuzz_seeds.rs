//! The `loro` fuzz target's seeds (`fuzz/seeds/loro/`, written by
//! `fuzz/seeds/make_loro_seeds.sh`), replayed through the fuzz harness itself
//! (`fuzz/src/loro.rs`, included here) so that its invariants run in the ordinary test suite,
//! and each seed imports to what it was written for (see fuzz/README.md).

use std::path::PathBuf;

#[path = "../../fuzz/src/loro.rs"]
mod harness;

fn seeds() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/loro")
}

/// Every seed, and what it imports to: a number of events, or the start of the error.
const SEEDS: &[(&str, Result<usize, &str>)] = &[
    // Each peer's round-2 and round-3 changes build on the others', which its file alone lacks
    // (peer 1's round 1 does not, but alone it is not the whole file).
    (
        "peer-1.update",
        Err("in0.loro: depends on changes no input holds: peer 1 counters 17..19 wait"),
    ),
    (
        "peer-9.update",
        Err("in0.loro: depends on changes no input holds: peer 9 counters 0.."),
    ),
    ("text.txt", Err("in0.loro: not a Loro document")),
    ("todo-shallow.loro", Ok(17)),
    ("todo-truncated.loro", Err("in0.loro: checksum mismatch")),
    ("todo.loro", Ok(24)),
];

#[test]
fn loro_fuzz_seeds_hold_the_harness_invariants() {
    let mut names: Vec<String> = std::fs::read_dir(seeds())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let listed: Vec<&str> = SEEDS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, listed, "every seed is listed with its outcome");
    for (name, want) in SEEDS {
        let data = std::fs::read(seeds().join(name)).unwrap();
        match (harness::check(&data), want) {
            (Ok(events), Ok(n)) => assert_eq!(events.len(), *n, "{name}"),
            (Err(e), Err(start)) => assert!(e.to_string().starts_with(start), "{name}: {e}"),
            (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }
}
