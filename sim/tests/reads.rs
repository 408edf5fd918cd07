//! Spec section 8 on simulated runs: a correct replica's reads return what its causal past
//! implies, under every workload, sync strategy and network, and each read bug is found as
//! exactly what it is. Every verdict of `weft check` here is also recomputed by a naive,
//! independent reading of the spec (`support::oracle`), so neither the simulator nor the
//! analyzer is trusted alone.

mod support;

use std::collections::BTreeSet;

use weft_analyzer::{Code, Report};
use weft_sim::config::{Bug, Config, Profile, SyncKind, Workload};
use weft_sim::Outcome;

use support::oracle::Trace;
use support::{check, run};

const WORKLOADS: [Workload; 6] = [
    Workload::Counter,
    Workload::Register,
    Workload::Lww,
    Workload::Set,
    Workload::Mixed,
    Workload::Inventory,
];
const SYNCS: [SyncKind; 3] = [SyncKind::Op, SyncKind::State, SyncKind::Delta];
const PROFILES: [Profile; 4] = [
    Profile::Lan,
    Profile::Tokyo,
    Profile::Himalaya,
    Profile::Mixed,
];

fn small(sync: SyncKind, workload: Workload, profile: Profile, seed: u64) -> Config {
    Config {
        seed,
        replicas: 4,
        ops: 120,
        keys: 4,
        rate: 40.0,
        read_ratio: 0.3,
        workload,
        sync,
        profile,
        net: profile.net(),
        ..Config::default()
    }
}

/// The reads `weft check` convicts, by id.
fn convicted(r: &Report) -> BTreeSet<(String, u64)> {
    r.violations
        .iter()
        .filter(|v| Code::READS.contains(&v.code))
        .map(|v| {
            let e = v.event.as_ref().expect("a read verdict names its read");
            (e.replica.to_string(), e.seq)
        })
        .collect()
}

/// The codes of the read verdicts; and no error that is not one (the bugs touch reads only).
fn read_codes(r: &Report) -> BTreeSet<Code> {
    let reads: BTreeSet<Code> = r
        .violations
        .iter()
        .map(|v| v.code)
        .filter(|c| c.is_read_code())
        .collect();
    let read_errors = r
        .violations
        .iter()
        .filter(|v| v.code.is_read_code())
        .count() as u64;
    assert_eq!(r.summary.errors, read_errors, "{:#?}", r.violations);
    reads
}

/// A run with no bug: every read checked, none wrong — by the analyzer and by the oracle.
fn assert_read_consistent(cfg: &Config) -> (Outcome, Report) {
    let (o, text) = run(cfg);
    let report = check(&text);
    let oracle = Trace::parse(&text);
    let what = cfg.command_line();
    assert!(o.converged, "{what}: {o:?}");
    let read_codes: Vec<_> = report
        .violations
        .iter()
        .filter(|v| v.code.is_read_code())
        .map(|v| &v.message)
        .collect();
    assert!(read_codes.is_empty(), "{what}: {read_codes:#?}");
    assert_eq!(oracle.wrong_reads(), BTreeSet::new(), "{what}");
    let reads = oracle.reads().count() as u64;
    assert!(reads > 0, "{what}: the run reads");
    assert_eq!(
        report.summary.reads_checked, reads,
        "{what}: every read is checked"
    );
    (o, report)
}

/// Every workload × sync strategy × network profile: zero read violations, every read checked.
#[test]
fn every_correct_run_is_read_consistent() {
    for (i, (workload, sync, profile)) in WORKLOADS
        .iter()
        .flat_map(|&w| SYNCS.iter().flat_map(move |&s| PROFILES.map(|p| (w, s, p))))
        .enumerate()
    {
        assert_read_consistent(&small(sync, workload, profile, 100 + i as u64));
    }
}

/// Issue 14's runs: under lossy profiles op and delta sync used to send only the sender's own
/// writes, while the receive merged the sender's whole clock — so a replica's clock claimed
/// writes it had heard of only through a third replica and its state lacked (`r4@35` read
/// `pncount-1` = 2; the five increments in its past sum to 11).
#[test]
fn the_reads_issue_14_found_are_consistent() {
    let issue = |sync, profile: Profile| Config {
        seed: 5,
        replicas: 4,
        ops: 300,
        sync,
        profile,
        net: profile.net(),
        ..Config::default()
    };
    let cfg = issue(SyncKind::Op, Profile::Himalaya);
    assert_read_consistent(&cfg);
    let (_, text) = run(&cfg);
    let oracle = Trace::parse(&text);
    let r = oracle.event(&("r4".to_string(), 35));
    assert_eq!(
        (r.kind.as_str(), r.key.as_deref()),
        ("read", Some("pncount-1")),
        "the read the issue names"
    );
    let expected = oracle.expected("pncount-1", r);
    assert!(expected.accepts(r.value.as_ref().unwrap()), "{expected:?}");
    // Its past holds increments from r2, yet r4 had received nothing from r2 itself: they
    // came relayed through another replica.
    assert!(oracle.events.iter().any(|w| w.replica == "r2"
        && w.key.as_deref() == Some("pncount-1")
        && Trace::before(w, r)));
    let from_r2 = oracle.events.iter().filter(|e| {
        e.replica == "r4"
            && e.seq < 35
            && e.kind == "recv"
            && e.attrs.as_ref().is_some_and(|a| a["from"] == "r2")
    });
    assert_eq!(from_r2.count(), 0);

    assert_read_consistent(&issue(SyncKind::Delta, Profile::Mixed));
}

/// `--bug stale-read`: the replica mostly answers from a copy of its state taken at an earlier
/// sync tick. A snapshot holds only writes of an earlier causal past, all still in the
/// read's past, so it can never show an unseen write: the verdicts are `stale-read` (an
/// overwritten register value or removed element) and `read-mismatch` (a counter's older sum, an
/// element or sibling the snapshot did not have yet) — all on that replica's reads, exactly the
/// wrong ones, each the value of an older snapshot.
#[test]
fn the_stale_read_bug_is_found_as_stale_reads_of_that_replica() {
    for sync in SYNCS {
        let mut cfg = small(sync, Workload::Mixed, Profile::Tokyo, 7);
        cfg.ops = 400;
        assert_read_consistent(&cfg);
        cfg.bug = Some((Bug::StaleRead, 1));
        let (o, text) = run(&cfg);
        assert!(o.converged, "reads do not change the state");
        let report = check(&text);
        let oracle = Trace::parse(&text);
        let found = read_codes(&report);
        assert!(found.contains(&Code::StaleRead), "{sync:?}: {found:?}");
        assert!(
            found.is_subset(&[Code::StaleRead, Code::ReadMismatch].into()),
            "{sync:?}: {found:?}"
        );
        let wrong = oracle.wrong_reads();
        assert_eq!(convicted(&report), wrong, "{sync:?}");
        for id in &wrong {
            assert_eq!(id.0, "r2", "only the buggy replica reads wrong");
            let read = oracle.event(id);
            assert!(oracle.an_older_snapshot(read), "{sync:?}: {read:?}");
        }
    }
}

/// `--bug unrecorded-merge`: before a read the replica sometimes merges its peers' state of the
/// key (read repair) without a receive. Its state then holds writes outside its causal past, and what it sends passes them
/// on. On LWW
/// registers (state ⊇ past, and along recorded edges hybrid stamps grow, so the largest stamp of
/// the past is a maximal write) a wrong read can only return a value written outside the past:
/// `read-of-unseen-write` — or `stale-read` if an overwritten write of the past happened to
/// write the same value too. Every wrong read is convicted, and each returned a value written
/// earlier, outside its past.
#[test]
fn the_unrecorded_merge_bug_is_found_as_reads_of_unseen_writes() {
    for sync in SYNCS {
        let mut cfg = small(sync, Workload::Lww, Profile::Tokyo, 8);
        cfg.ops = 400;
        assert_read_consistent(&cfg);
        cfg.bug = Some((Bug::UnrecordedMerge, 0));
        let (o, text) = run(&cfg);
        assert!(o.converged, "{sync:?}: merging more never diverges");
        let report = check(&text);
        let oracle = Trace::parse(&text);
        let found = read_codes(&report);
        assert!(
            found.contains(&Code::ReadOfUnseenWrite),
            "{sync:?}: {found:?}"
        );
        assert!(
            found.is_subset(&[Code::ReadOfUnseenWrite, Code::StaleRead].into()),
            "{sync:?}: {found:?}"
        );
        let wrong = oracle.wrong_reads();
        assert_eq!(convicted(&report), wrong, "{sync:?}");
        for id in &wrong {
            let read = oracle.event(id);
            assert!(oracle.written_outside_the_past(read), "{sync:?}: {read:?}");
        }
    }
}
