//! The `shiviz` fuzz target's seeds (`fuzz/seeds/shiviz/`, written by
//! `fuzz/seeds/make_shiviz_seeds.py`), replayed through the fuzz harness itself
//! (`fuzz/src/shiviz.rs`, included here) so that its invariants run in the ordinary test suite,
//! and each seed imports to what it was written for. `cargo fuzz` needs a nightly or
//! `RUSTC_BOOTSTRAP`; this needs neither (see fuzz/README.md).

use std::path::PathBuf;

use weft_interop::shiviz::ImportError;

#[path = "../../fuzz/src/shiviz.rs"]
mod harness;

fn seeds() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/shiviz")
}

/// What an import gave: `(executions, events, problems)` over all executions, or the error.
type Outcome<E> = Result<(usize, usize, usize), E>;

/// What a seed imports to, through the harness.
fn outcome(data: &[u8]) -> Outcome<String> {
    match harness::check(data) {
        Ok(i) => Ok((
            i.executions.len(),
            i.executions.iter().map(|x| x.events.len()).sum(),
            i.executions.iter().map(|x| x.problems.len()).sum(),
        )),
        Err(e @ ImportError::InvalidUtf8 { .. }) | Err(e @ ImportError::MalformedClock { .. }) => {
            Err(e.to_string())
        }
        Err(e) => panic!("a seed with an unusable regex: {e}"),
    }
}

/// Every seed, and what it imports to (an error by the start of its message).
const SEEDS: &[(&str, Outcome<&str>)] = &[
    ("broadcast-head-with-regex", Ok((1, 12, 0))),
    // Without its regex nothing matches: every line skipped, no execution.
    ("broadcast-head.log", Ok((0, 0, 0))),
    ("clock-forms.log", Ok((1, 4, 0))),
    ("counter-problems.log", Ok((1, 11, 8))),
    ("crlf-bom.log", Ok((1, 3, 0))),
    ("delimiter-option", Ok((2, 3, 0))),
    ("echo-head.log", Ok((1, 24, 0))),
    ("executions.log", Ok((2, 3, 0))),
    ("header-js.log", Ok((2, 3, 0))),
    (
        "latin1.log",
        Err("in0.log:4:6: not UTF-8 text: 0xE9 at byte 6 of line 4"),
    ),
    (
        "malformed.log",
        Err("in0.log:3: malformed clock `{\"b\":one}`"),
    ),
    ("noise.log", Ok((1, 2, 0))),
    ("two-inputs", Ok((1, 2, 0))),
];

#[test]
fn shiviz_fuzz_seeds_hold_the_harness_invariants() {
    let mut names: Vec<String> = std::fs::read_dir(seeds())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let listed: Vec<&str> = SEEDS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, listed, "every seed is listed with its outcome");
    for (name, want) in SEEDS {
        let data = std::fs::read(seeds().join(name)).unwrap();
        match (outcome(&data), want) {
            (Ok(got), Ok(want)) => assert_eq!(got, *want, "{name}"),
            (Err(got), Err(want)) => assert!(got.starts_with(want), "{name}: {got}"),
            (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }
}
