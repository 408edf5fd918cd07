//! Whole-run tests: determinism, convergence, every correct run passing `weft check`, and each
//! injected bug showing exactly as documented.

use proptest::prelude::*;
use weft_analyzer::{analyze, Code, Report};
use weft_sim::config::{
    parse_partition, Bug, Clocks, Config, Intermittent, Profile, SyncKind, Workload, SEC,
};
use weft_sim::{simulate, Outcome};
use weft_trace::{ReadOptions, Trace};

fn run(cfg: &Config) -> (Outcome, String) {
    let mut buf = Vec::new();
    let outcome = simulate(cfg, &mut buf).expect("simulate");
    (outcome, String::from_utf8(buf).expect("utf-8 trace"))
}

fn check(trace: &str) -> Report {
    let t = Trace::from_ndjson_str("sim.jsonl", trace, &ReadOptions::default())
        .expect("the simulator writes valid traces");
    analyze(&t)
}

fn codes(r: &Report) -> Vec<Code> {
    let mut c: Vec<Code> = r.violations.iter().map(|v| v.code).collect();
    c.dedup();
    c
}

fn small(sync: SyncKind, workload: Workload, profile: Profile, seed: u64) -> Config {
    Config {
        seed,
        replicas: 4,
        ops: 150,
        keys: 6,
        rate: 50.0,
        workload,
        sync,
        profile,
        net: profile.net(),
        ..Config::default()
    }
}

#[test]
fn same_seed_gives_a_byte_identical_trace_and_another_seed_does_not() {
    let cfg = Config {
        net: Profile::Tokyo.net(),
        profile: Profile::Tokyo,
        ..Config::default()
    };
    let (a, ta) = run(&cfg);
    let (b, tb) = run(&cfg);
    assert_eq!(ta, tb);
    assert_eq!(a, b);
    let (_, tc) = run(&Config { seed: 2, ..cfg });
    assert_ne!(ta, tc);
}

#[test]
fn the_header_carries_the_command_that_reproduces_the_run() {
    let cfg = small(SyncKind::Op, Workload::Inventory, Profile::Mixed, 9);
    let (_, trace) = run(&cfg);
    let header: serde_json::Value = serde_json::from_str(trace.lines().next().unwrap()).unwrap();
    assert_eq!(header["format"], "weft-trace/1");
    assert_eq!(header["seed"], 9);
    let cmd = header["command"].as_str().unwrap();
    assert!(
        cmd.starts_with("weft sim --seed 9 --replicas 4 --workload inventory"),
        "{cmd}"
    );
}

#[test]
fn a_partition_that_heals_still_converges_and_shows_conflicts() {
    let mut cfg = small(SyncKind::Delta, Workload::Register, Profile::Lan, 3);
    cfg.ops = 400;
    cfg.rate = 40.0;
    cfg.net
        .partitions
        .push(parse_partition("1s-6s:r1,r2/r3,r4", 4).unwrap());
    let (o, trace) = run(&cfg);
    assert!(o.converged, "{o:?}");
    assert!(o.lost > 0, "the partition cut messages");
    let report = check(&trace);
    assert_eq!(report.summary.errors, 0, "{:?}", report.violations);
    assert!(report.summary.conflicts > 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// A correct run converges and passes `weft check` with zero errors, for every workload,
    /// sync strategy and network profile.
    #[test]
    fn correct_runs_converge_and_pass_weft_check(
        sync in prop_oneof![Just(SyncKind::Op), Just(SyncKind::State), Just(SyncKind::Delta)],
        workload in prop_oneof![Just(Workload::Counter), Just(Workload::Register), Just(Workload::Set), Just(Workload::Mixed), Just(Workload::Inventory)],
        profile in prop_oneof![Just(Profile::Lan), Just(Profile::Tokyo), Just(Profile::Himalaya), Just(Profile::Mixed)],
        clocks in prop_oneof![Just(Clocks::Full), Just(Clocks::Lamport), Just(Clocks::None)],
        seed in 0u64..1_000_000,
    ) {
        let cfg = Config { clocks, ..small(sync, workload, profile, seed) };
        let (o, trace) = run(&cfg);
        prop_assert!(o.converged, "did not converge: {:?}", o);
        let report = check(&trace);
        prop_assert_eq!(report.summary.errors, 0, "{}", weft_analyzer::render::json(&report));
        prop_assert_eq!(report.summary.events, o.events);
    }
}

#[test]
fn the_same_counter_workload_ends_in_the_same_state_under_every_sync_strategy() {
    let cfg = Config {
        net: Profile::Tokyo.net(),
        profile: Profile::Tokyo,
        ..small(SyncKind::Op, Workload::Counter, Profile::Tokyo, 5)
    };
    let rows = weft_sim::compare_sync(&cfg).unwrap();
    assert_eq!(rows.len(), 3);
    let d: Vec<u64> = rows
        .iter()
        .map(|r| {
            assert!(r.outcome.converged, "{:?} did not converge", r.sync);
            r.outcome.digests[0]
        })
        .collect();
    assert!(d.iter().all(|&x| x == d[0]), "{d:x?}");
}

fn with_bug(bug: Bug, cfg: Config) -> (Outcome, String) {
    run(&Config {
        bug: Some((bug, 0)),
        ..cfg
    })
}

#[test]
fn bug_vc_no_merge_shows_as_vc_mismatch() {
    let (_, trace) = with_bug(
        Bug::VcNoMerge,
        small(SyncKind::Delta, Workload::Mixed, Profile::Lan, 1),
    );
    let r = check(&trace);
    assert!(codes(&r).contains(&Code::VcMismatch), "{:?}", codes(&r));
    assert!(r
        .violations
        .iter()
        .filter(|v| v.code == Code::VcMismatch)
        .all(|v| &*v.event.as_ref().unwrap().replica == "r1"));
}

#[test]
fn bug_lamport_no_max_shows_as_lamport_violation() {
    let (_, trace) = with_bug(
        Bug::LamportNoMax,
        small(SyncKind::State, Workload::Mixed, Profile::Lan, 1),
    );
    let r = check(&trace);
    assert!(
        codes(&r).contains(&Code::LamportViolation),
        "{:?}",
        codes(&r)
    );
    assert!(!codes(&r).contains(&Code::VcMismatch));
}

#[test]
fn bug_lww_by_wall_clock_converges_but_newer_writes_lose() {
    let mut cfg = small(SyncKind::Delta, Workload::Register, Profile::Lan, 4);
    cfg.skew_ms = 0;
    cfg.ops = 400;
    cfg.rate = 400.0;
    let (clean, _) = run(&cfg);
    assert_eq!(clean.lost_newer_writes, 0);
    // r1's wall clock runs 2 s behind: its writes carry old stamps.
    let mut buggy = cfg.clone();
    buggy.skew_ms = 2_000;
    buggy.seed = 11;
    let (o, trace) = with_bug(Bug::LwwByWallClock, buggy);
    assert!(o.converged);
    assert!(o.lost_newer_writes > 0, "{o:?}");
    assert!(check(&trace).summary.conflicts > 0);
}

#[test]
fn bug_non_idempotent_merge_diverges_under_duplicates() {
    let mut cfg = small(SyncKind::Op, Workload::Counter, Profile::Lan, 2);
    cfg.net.dup = 0.2;
    cfg.settle_limit = 20 * SEC;
    let (clean, _) = run(&cfg);
    assert!(clean.converged);
    let (o, _) = with_bug(Bug::NonIdempotentMerge, cfg);
    assert!(!o.converged);
}

/// Peers relay the deltas they receive, so a delta is gone for good only when it is lost on
/// every link at once: while its replica is offline.
#[test]
fn bug_drop_delta_diverges_when_offline() {
    let mut cfg = small(SyncKind::Delta, Workload::Mixed, Profile::Lan, 2);
    cfg.net.loss = 0.2;
    cfg.net.intermittent = Some(Intermittent {
        online: SEC,
        offline: SEC,
    });
    cfg.settle_limit = 20 * SEC;
    let (clean, _) = run(&cfg);
    assert!(clean.converged);
    let (o, _) = with_bug(Bug::DropDelta, cfg);
    assert!(!o.converged);
}

#[test]
fn thousands_of_replicas_without_clocks() {
    let cfg = Config {
        replicas: 3_000,
        clocks: Clocks::None,
        sync: SyncKind::State,
        workload: Workload::Lww,
        keys: 4,
        ops: 2_000,
        rate: 2_000.0,
        sync_interval: SEC,
        ..Config::default()
    };
    let o = weft_sim::simulate_quietly(&cfg).unwrap();
    assert!(o.converged, "{o:?}");
}

/// Pacing changes when lines come out, never what they are: stepping a run in uneven slices of
/// simulated time gives the same bytes as running it in one go.
#[test]
fn a_paced_run_writes_the_same_trace_as_a_whole_run() {
    let cfg = weft_sim::Config {
        seed: 11,
        ops: 400,
        ..Default::default()
    };
    let mut whole = Vec::new();
    let outcome = weft_sim::simulate(&cfg, &mut whole).unwrap();

    let mut run = weft_sim::PacedRun::start(&cfg).unwrap();
    let mut paced = Vec::new();
    let mut t = 0u64;
    let mut step = 1_000_000u64;
    loop {
        let (bytes, done) = run.advance_to(t).unwrap();
        assert!(
            bytes.is_empty() || bytes.ends_with(b"\n"),
            "whole lines only"
        );
        paced.extend_from_slice(&bytes);
        if done {
            break;
        }
        t += step;
        step = (step * 7) % 90_000_000 + 1;
    }
    let (rest, paced_outcome) = run.stop().unwrap();
    paced.extend_from_slice(&rest);
    assert_eq!(
        String::from_utf8(paced).unwrap(),
        String::from_utf8(whole).unwrap()
    );
    assert_eq!(paced_outcome, outcome);

    // Stopping early keeps what was written and says how far it got.
    let mut run = weft_sim::PacedRun::start(&cfg).unwrap();
    let (bytes, done) = run.advance_to(500_000_000).unwrap();
    assert!(!done);
    let (rest, early) = run.stop().unwrap();
    let lines = bytes.iter().chain(&rest).filter(|&&b| b == b'\n').count() as u64;
    assert_eq!(lines, early.events + 1, "header + events");
    assert!(early.events > 0 && early.events < outcome.events);
}

/// The same 12-replica run unlimited and under `limits`: the whole trace, the cut one, and the
/// error the limited run stopped with (which must be a limit, not a write error).
fn whole_and_cut(limits: weft_sim::Limits) -> (Vec<u8>, Vec<u8>, std::io::Error) {
    let cfg = Config {
        replicas: 12,
        ops: 400,
        ..Config::default()
    };
    let mut whole = Vec::new();
    weft_sim::simulate(&cfg, &mut whole).unwrap();
    let mut cut = Vec::new();
    let err = weft_sim::simulate(&Config { limits, ..cfg }, &mut cut).unwrap_err();
    (whole, cut, err)
}

#[test]
fn a_run_stops_at_its_event_limit_with_every_event_before_it_written() {
    let (whole, cut, err) = whole_and_cut(weft_sim::Limits {
        max_events: 1_000,
        ..Default::default()
    });
    let lines = whole
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert!(
        lines > 1_001,
        "the unlimited run has more events than the limit: {lines}"
    );
    let limit = weft_sim::RunLimit::of(&err).expect("the limit, not a write error");
    assert_eq!(limit.limit, weft_sim::Limit::Events(1_000));
    // The header and exactly the first 1,000 events of the same run, whole lines.
    assert!(cut.ends_with(b"\n"));
    assert_eq!(
        cut.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count(),
        1_001
    );
    assert!(whole.starts_with(&cut));
    assert!(
        err.to_string()
            .starts_with("the run reached 1000 events at "),
        "{err}"
    );
}

#[test]
fn a_run_stops_at_its_trace_bytes_limit_with_whole_lines_written() {
    let (whole, cut, err) = whole_and_cut(weft_sim::Limits {
        max_trace_bytes: 50_000,
        ..Default::default()
    });
    assert!(whole.len() > 60_000, "{} bytes", whole.len());
    let limit = weft_sim::RunLimit::of(&err).expect("the limit, not a write error");
    assert_eq!(limit.limit, weft_sim::Limit::Bytes(50_000));
    // Whole lines of the same run, up to the first that reached the limit.
    assert!(whole.starts_with(&cut));
    assert!(cut.ends_with(b"\n"));
    let last = cut[..cut.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    assert!(last < 50_000 && cut.len() >= 50_000, "{last} {}", cut.len());
    assert!(
        err.to_string()
            .starts_with("the trace reached 50000 bytes at "),
        "{err}"
    );
}
