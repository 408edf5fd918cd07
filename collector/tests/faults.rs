//! Storage faults injected deterministically through `weft_collector::io::FaultyIo`: failed and
//! short writes, failed `fdatasync`s, a full disk, a failed repair. For every fault at every
//! point, what was acknowledged is exactly what a fresh reader finds in the directory, refused
//! batches are stored when retried, and nothing torn is ever left behind.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use weft_collector::io::{eio, enospc, Fault, FaultyIo};
use weft_collector::store::{Health, Line, Refusal, Store, StoreError};
use weft_trace::{expand_inputs, CheckedLine, LineChecker, ReadError, ReadOptions, Trace};

/// A valid event line of about 80 bytes, built as the collector's ingest path builds it.
fn line(replica: &str, seq: u64) -> Line {
    let bytes = format!(
        "{{\"replica\":\"{replica}\",\"seq\":{seq},\"kind\":\"local\",\"attrs\":{{\"pad\":\"{}\"}}}}",
        "p".repeat(30 + (seq % 7) as usize)
    )
    .into_bytes();
    match LineChecker::new().check(&bytes).unwrap() {
        CheckedLine::Event {
            replica,
            seq,
            fingerprint,
        } => Line {
            bytes: bytes.into(),
            replica,
            seq,
            fingerprint,
        },
        other => panic!("not an event: {other:?}"),
    }
}

fn batch(n: u64, size: u64) -> Vec<Line> {
    (0..size)
        .map(|i| line(&format!("r{}", (n + i) % 3), n * 100 + i + 1))
        .collect()
}

type Ids = BTreeSet<(String, u64)>;

/// What a fresh strict reader (the one `weft check DIR` uses) finds: every line must parse.
fn on_disk(dir: &Path) -> Ids {
    let trace = match Trace::read_inputs(&expand_inputs(&[dir]).unwrap(), &ReadOptions::default()) {
        Ok(t) => t,
        Err(ReadError::Empty { .. }) => return Ids::new(),
        Err(e) => panic!("the directory must read cleanly: {e}"),
    };
    let ids: Vec<(String, u64)> = (0..trace.len())
        .map(|i| {
            let id = trace.id(i);
            (id.replica.to_string(), id.seq)
        })
        .collect();
    let set: Ids = ids.iter().cloned().collect();
    assert_eq!(set.len(), ids.len(), "an event is stored twice");
    set
}

/// Commits one batch alone.
fn one(store: &mut Store, lines: &[Line]) -> Result<weft_collector::store::Appended, Refusal> {
    store.commit_group(&[lines]).remove(0)
}

fn ids(lines: &[Line]) -> Ids {
    lines.iter().map(|l| (l.replica.clone(), l.seq)).collect()
}

/// Runs 40 batches (in groups of 1–3, with small segments so rotation happens) against `io`
/// with the given faults, retrying refused batches, and checks the acknowledged set against the
/// directory after every group and at the end.
fn scenario(faults: &[Fault], space: Option<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let io = FaultyIo::new();
    let (mut store, _) = Store::open_with(dir.path(), 4096, Arc::new(io.clone())).unwrap();
    // Call numbers count from here: opening has its own writes and syncs.
    io.restart_counts();
    for f in faults {
        io.inject(f.clone());
    }
    io.set_space(space);
    let mut acked = Ids::new();
    let mut refused: Vec<Vec<Line>> = Vec::new();
    let mut next = 0u64;
    let mut round = 0;
    while next < 40 || !refused.is_empty() {
        round += 1;
        assert!(round < 500, "refused batches are never stored: {faults:?}");
        if round == 60 {
            // Space comes back and the device heals.
            io.set_space(None);
        }
        let mut group: Vec<Vec<Line>> = std::mem::take(&mut refused);
        for _ in 0..(1 + round % 3) {
            if next < 40 {
                group.push(batch(next, 5 + next % 4));
                next += 1;
            }
        }
        let refs: Vec<&[Line]> = group.iter().map(|b| &b[..]).collect();
        let results = store.commit_group(&refs);
        for (b, r) in group.into_iter().zip(results) {
            match r {
                Ok(a) => {
                    assert_eq!(a.stored as usize + a.duplicates as usize, b.len());
                    acked.extend(ids(&b));
                }
                Err(_) => refused.push(b),
            }
        }
        if store.health() != &Health::Ok {
            store.probe();
        }
        if !matches!(store.health(), Health::Failed(_)) {
            assert_eq!(
                on_disk(dir.path()),
                acked,
                "after round {round} with {faults:?}"
            );
        }
        assert_eq!(
            store.events as usize,
            acked.len(),
            "counters count durable events only"
        );
    }
    assert_eq!(
        acked.len(),
        40 * 5 + (0..40u64).map(|n| n % 4).sum::<u64>() as usize
    );
    assert!(
        store.write_errors > 0,
        "the fault was never hit: {faults:?} {space:?}"
    );
    drop(store);
    assert_eq!(on_disk(dir.path()), acked);
    let (store, recovery) = Store::open(dir.path(), 4096).unwrap();
    assert_eq!(
        recovery.truncated_bytes, 0,
        "nothing torn was left: {faults:?}"
    );
    assert_eq!(recovery.events as usize, acked.len());
    drop(store);
}

#[test]
fn a_failed_or_short_write_anywhere_returns_to_the_durable_state() {
    for at in 1..=14 {
        for written in [0, 1, 37, 200] {
            for errno in [enospc(), eio()] {
                scenario(&[Fault::Write { at, written, errno }], None);
            }
        }
    }
}

#[test]
fn a_failed_fdatasync_anywhere_returns_to_the_durable_state() {
    for at in 1..=16 {
        scenario(&[Fault::Sync { at, errno: eio() }], None);
        // Two in a row: the repair's own sync fails too, the store refuses until a probe heals it.
        scenario(
            &[
                Fault::Sync { at, errno: eio() },
                Fault::Sync {
                    at: at + 1,
                    errno: eio(),
                },
            ],
            None,
        );
    }
}

#[test]
fn a_failed_repair_refuses_writes_until_a_probe_succeeds() {
    for at in [2, 5, 9] {
        scenario(
            &[
                Fault::Sync { at, errno: eio() },
                Fault::SetLen {
                    at: 1,
                    errno: eio(),
                },
                Fault::Open {
                    at: 3,
                    errno: eio(),
                },
            ],
            None,
        );
    }
}

#[test]
fn a_disk_that_fills_up_anywhere_refuses_then_resumes() {
    for space in [0, 50, 700, 3000, 9000] {
        scenario(&[], Some(space));
    }
}

#[test]
fn while_full_writes_are_refused_without_touching_the_disk_and_resume_with_space() {
    let dir = tempfile::tempdir().unwrap();
    let io = FaultyIo::new();
    let (mut store, _) = Store::open_with(dir.path(), 1 << 20, Arc::new(io.clone())).unwrap();
    assert_eq!(one(&mut store, &batch(0, 5)).unwrap().stored, 5);
    io.set_space(Some(100));
    let r = store.commit_group(&[&batch(1, 5)]);
    let Err(Refusal::Full(reason)) = &r[0] else {
        panic!("expected a full disk, got {r:?}")
    };
    assert!(reason.contains("No space left on device"), "{reason}");
    assert!(matches!(store.health(), Health::Full(_)));
    let calls = io.calls();
    assert!(matches!(
        store.commit_group(&[&batch(1, 5)])[0],
        Err(Refusal::Full(_))
    ));
    assert_eq!(io.calls(), calls, "no write or sync while the disk is full");
    assert!(!store.probe(), "still full");
    io.set_space(None);
    assert!(store.probe(), "space is back");
    assert_eq!(store.health(), &Health::Ok);
    let a = one(&mut store, &batch(1, 5)).unwrap();
    assert_eq!(
        (a.stored, a.duplicates),
        (5, 0),
        "the retry is stored, not deduplicated"
    );
    assert_eq!(store.write_errors, 1);
    drop(store);
    assert_eq!(on_disk(dir.path()).len(), 10);
}

#[test]
fn each_batch_of_a_group_is_wholly_stored_or_wholly_refused() {
    let dir = tempfile::tempdir().unwrap();
    let io = FaultyIo::new();
    // Segments of 4 KiB: a group of 24 batches of ~8 lines spans several, each closed by its own
    // sync; the 3rd sync fails.
    let (mut store, _) = Store::open_with(dir.path(), 4096, Arc::new(io.clone())).unwrap();
    let syncs = io.calls().1;
    io.inject(Fault::Sync {
        at: syncs + 3,
        errno: eio(),
    });
    let group: Vec<Vec<Line>> = (0..24).map(|n| batch(n, 8)).collect();
    let refs: Vec<&[Line]> = group.iter().map(|b| &b[..]).collect();
    let results = store.commit_group(&refs);
    let mut acked = Ids::new();
    let mut refused = 0;
    for (b, r) in group.iter().zip(&results) {
        match r {
            Ok(a) => {
                assert_eq!(a.stored, 8);
                acked.extend(ids(b));
            }
            Err(Refusal::Failed(reason)) => {
                assert!(reason.contains("Input/output error"), "{reason}");
                refused += 1;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(refused > 0 && refused < 24, "{results:?}");
    assert_eq!(on_disk(dir.path()), acked);
    assert_eq!(store.events as usize, acked.len());
}

#[test]
fn a_second_store_on_the_same_directory_is_refused_and_names_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = Store::open(dir.path(), 1 << 20).unwrap();
    let Err(e) = Store::open(dir.path(), 1 << 20) else {
        panic!("two stores on one directory")
    };
    assert!(matches!(e, StoreError::Locked { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains(&dir.path().display().to_string())
            && msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    drop(first);
    Store::open(dir.path(), 1 << 20).expect("the lock dies with its holder");
}

fn write_segment(dir: &Path, n: u32, body: &[u8]) {
    let mut bytes =
        format!("{{\"format\":\"weft-trace/1\",\"name\":\"weft collector\",\"segment\":{n}}}\n")
            .into_bytes();
    bytes.extend_from_slice(body);
    std::fs::write(dir.join(format!("segment-{n:06}.jsonl")), bytes).unwrap();
}

fn lines_text(lines: &[Line]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(&l.bytes);
        out.push(b'\n');
    }
    out
}

#[test]
fn a_huge_garbage_tail_is_cut_and_the_store_continues() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = lines_text(&batch(0, 10));
    // 40 MB without a newline (more than any line may be), then zeros with newlines.
    body.extend(std::iter::repeat_n(b'x', 40 << 20));
    body.extend_from_slice(b"\n\0\0\0\n\0\0");
    write_segment(dir.path(), 1, &body);
    let (mut store, recovery) = Store::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(recovery.events, 10);
    assert_eq!(recovery.truncated_lines, 3);
    assert_eq!(recovery.truncated_bytes, (40 << 20) + 7);
    assert_eq!(one(&mut store, &batch(1, 3)).unwrap().stored, 3);
    drop(store);
    assert_eq!(on_disk(dir.path()).len(), 13);
}

#[test]
fn corruption_before_the_tail_stops_recovery_with_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = lines_text(&batch(0, 3));
    body.extend_from_slice(b"{\"replica\":\"a\",\"se\xffq\":1}\n");
    body.extend_from_slice(&lines_text(&batch(1, 2)));
    write_segment(dir.path(), 1, &body);
    let err = Store::open(dir.path(), 1 << 20).err().expect("corruption");
    let msg = err.to_string();
    assert!(
        msg.contains("segment-000001.jsonl:5:") && msg.contains("valid events follow on line 6"),
        "{msg}"
    );
    // The same in a segment that is not the last, even at its end.
    let dir = tempfile::tempdir().unwrap();
    let mut body = lines_text(&batch(0, 3));
    body.extend_from_slice(b"{\"replica\":\"a\",\"se");
    write_segment(dir.path(), 1, &body);
    write_segment(dir.path(), 2, &lines_text(&batch(1, 2)));
    let msg = Store::open(dir.path(), 1 << 20).err().unwrap().to_string();
    assert!(msg.contains("segment-000001.jsonl:5:"), "{msg}");
}

#[test]
fn a_segment_created_without_its_header_gets_one_before_any_event() {
    let dir = tempfile::tempdir().unwrap();
    write_segment(dir.path(), 1, &lines_text(&batch(0, 2)));
    // A crash right after creating segment 2, and one mid-header in segment 3's place.
    std::fs::write(dir.path().join("segment-000002.jsonl"), b"{\"format\":\"we").unwrap();
    let (mut store, recovery) = Store::open(dir.path(), 1 << 20).unwrap();
    assert_eq!((recovery.events, recovery.truncated_lines), (2, 1));
    assert_eq!(one(&mut store, &batch(1, 2)).unwrap().stored, 2);
    drop(store);
    let text = std::fs::read_to_string(dir.path().join("segment-000002.jsonl")).unwrap();
    assert!(text.starts_with("{\"format\":\"weft-trace/1\""), "{text}");
    assert_eq!(on_disk(dir.path()).len(), 4);
}

#[test]
fn readers_are_told_how_far_the_last_segment_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    let io = FaultyIo::new();
    let (mut store, _) = Store::open_with(dir.path(), 1 << 20, Arc::new(io.clone())).unwrap();
    let seg = dir.path().join("segment-000001.jsonl");
    let durable = |seg: &Path| weft_trace::collector_dir::committed_length(seg);
    let len = |seg: &Path| std::fs::metadata(seg).unwrap().len();
    assert_eq!(durable(&seg), Some(len(&seg)), "the header, at open");
    one(&mut store, &batch(0, 5)).unwrap();
    let after_first = len(&seg);
    assert_eq!(durable(&seg), Some(after_first));
    // A failed sync: the marker never moves past what is durable.
    let syncs = io.calls().1;
    io.inject(Fault::Sync {
        at: syncs + 1,
        errno: eio(),
    });
    assert!(one(&mut store, &batch(1, 5)).is_err());
    assert_eq!(durable(&seg), Some(after_first));
    assert_eq!(len(&seg), after_first);
    one(&mut store, &batch(1, 5)).unwrap();
    assert_eq!(durable(&seg), Some(len(&seg)));
}
