//! The demo's parts together: the clock library agrees with the simulator under every sync
//! strategy and clock bug, and the live TUI shows the events as they arrive.

use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use weft_demo::{default_sim, Demo, DemoConfig};
use weft_sim::config::{Bug, Profile, SyncKind};
use weft_tui::headless::Screen;
use weft_tui::live::LiveConfig;
use weft_tui::model::Model;
use weft_tui::run::LiveSource;
use weft_tui::state::{Action, App, Config};

fn config(dir: &std::path::Path, f: impl FnOnce(&mut weft_sim::Config)) -> DemoConfig {
    let mut sim = default_sim(4, 200.0, Profile::Tokyo);
    f(&mut sim);
    DemoConfig {
        sim,
        data: Some(dir.to_path_buf()),
        // Ten simulated seconds per second: partitions, heals and skew within the test.
        speed: 10.0,
    }
}

#[test]
fn the_clock_library_computes_the_simulators_stamps() {
    let cases: [(SyncKind, Option<Bug>); 5] = [
        (SyncKind::Delta, None),
        (SyncKind::Op, None),
        (SyncKind::State, None),
        (SyncKind::Delta, Some(Bug::VcNoMerge)),
        (SyncKind::Op, Some(Bug::LamportNoMax)),
    ];
    for (sync, bug) in cases {
        let dir = tempfile::tempdir().unwrap();
        let demo = Demo::start(config(dir.path(), |s| {
            s.sync = sync;
            s.bug = bug.map(|b| (b, 1));
        }))
        .unwrap();
        std::thread::sleep(Duration::from_millis(800));
        let s = demo.stop().unwrap();
        assert!(s.emitted > 100, "{sync:?} {bug:?}: {s:?}");
        assert_eq!(s.clock_mismatches, 0, "{sync:?} {bug:?}: {s:?}");
        assert_eq!(s.stored, s.emitted, "{sync:?} {bug:?}: every record stored");
        assert_eq!(s.per_replica.len(), 4);

        let inputs = weft_trace::expand_inputs(&[dir.path()]).unwrap();
        let trace = weft_trace::Trace::read_inputs(&inputs, &Default::default()).unwrap();
        let report = weft_analyzer::analyze(&trace);
        let vc_errors = report
            .violations
            .iter()
            .filter(|v| v.code == weft_analyzer::Code::VcMismatch)
            .count();
        let lamport_errors = report
            .violations
            .iter()
            .filter(|v| v.code == weft_analyzer::Code::LamportViolation)
            .count();
        match bug {
            None => assert_eq!(
                report.summary.errors, 0,
                "{sync:?}: {:?}",
                report.violations
            ),
            Some(Bug::VcNoMerge) => assert!(vc_errors > 0, "{sync:?}"),
            Some(_) => assert!(lamport_errors > 0, "{sync:?}"),
        }
    }
}

#[test]
fn the_live_tui_shows_events_arriving() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start(config(dir.path(), |_| {})).unwrap();
    let (tx, rx) = sync_channel(256);
    let live = LiveSource::spawn(
        LiveConfig {
            url: demo.url(),
            token: None,
            ca_cert: None,
            max_line: 1 << 20,
        },
        1_000_000,
        tx,
    );
    let mut app = App::live(&demo.url(), Config::default());
    app.apply(Action::Resize { w: 140, h: 30 });
    let mut term = Screen::new(140, 30);
    let draw = |app: &App, term: &mut Screen| {
        term.draw(app);
        term.text()
    };
    let first = draw(&app, &mut term);
    assert!(first.contains("no events yet"), "{first}");

    // Events arrive and the screen grows with them.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while Instant::now() < deadline && seen.len() < 3 {
        if let Ok(a) = rx.recv_timeout(Duration::from_millis(100)) {
            let is_model = matches!(a, Action::Model(_));
            app.apply(a);
            if is_model && app.model.len() > seen.last().copied().unwrap_or(0) {
                seen.push(app.model.len());
            }
        }
    }
    assert!(seen.len() >= 3, "three growing models: {seen:?}");
    app.apply(Action::Tick(Duration::from_secs(1)));
    let screen = draw(&app, &mut term);
    assert!(screen.contains("LIVE"), "{screen}");
    assert!(screen.contains("● connected"), "{screen}");
    let n = app.model.len();
    let events = if n >= 1000 {
        format!("{},{:03} events", n / 1000, n % 1000)
    } else {
        format!("{n} events")
    };
    assert!(screen.contains(&events), "{events}: {screen}");
    assert!(screen.contains("r1") && screen.contains("r4"), "{screen}");
    assert!(
        screen.contains('▲') || screen.contains('●'),
        "glyphs drawn: {screen}"
    );
    live.stop();
    let summary = demo.stop().unwrap();
    assert!(summary.emitted as usize >= app.model.len());
    // Everything the TUI showed is what the collector stored.
    let stored = Model::build(
        weft_trace::Trace::read_inputs(
            &weft_trace::expand_inputs(&[dir.path()]).unwrap(),
            &Default::default(),
        )
        .unwrap(),
    );
    assert!(stored.len() >= app.model.len());
    for n in 0..app.model.len() as u32 {
        assert!(
            stored.find(&app.model.id(n)).is_some(),
            "{}",
            app.model.id(n)
        );
    }
}

/// `--bug stale-read` in the demo: the replicas read as they run, and the collector's live
/// analysis convicts the buggy replica's stale answers while it still runs. The store, checked
/// whole afterwards, holds read verdicts only on that replica's reads and only of the codes an
/// older snapshot explains (its values were all in the read's past: `stale-read` for an
/// overwritten value or removed element, `read-mismatch` for an older counter sum or a missing
/// element), and no other error.
#[test]
fn a_stale_read_is_found_live_while_the_replicas_run() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start(config(dir.path(), |s| s.bug = Some((Bug::StaleRead, 1)))).unwrap();
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let report_url = format!("{}/v1/report", demo.url());
    let stale_live = |report: &serde_json::Value| {
        report["violations"]
            .as_array()
            .is_some_and(|v| v.iter().any(|v| v["code"] == "stale-read"))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut live = serde_json::Value::Null;
    while Instant::now() < deadline && !stale_live(&live) {
        std::thread::sleep(Duration::from_millis(200));
        if let Ok(text) = client.get(&report_url).send().and_then(|r| r.text()) {
            live = serde_json::from_str(&text).unwrap_or_default();
        }
    }
    assert!(stale_live(&live), "{live:#}");
    let s = demo.stop().unwrap();
    assert_eq!(s.clock_mismatches, 0, "{s:?}");

    let inputs = weft_trace::expand_inputs(&[dir.path()]).unwrap();
    let trace = weft_trace::Trace::read_inputs(&inputs, &Default::default()).unwrap();
    let report = weft_analyzer::analyze(&trace);
    assert!(report.summary.reads_checked > 0);
    let reads: Vec<_> = report
        .violations
        .iter()
        .filter(|v| v.code.is_read_code())
        .collect();
    assert_eq!(report.summary.errors, reads.len() as u64, "{reads:#?}");
    assert!(reads
        .iter()
        .any(|v| v.code == weft_analyzer::Code::StaleRead));
    for v in reads {
        assert!(
            matches!(
                v.code,
                weft_analyzer::Code::StaleRead | weft_analyzer::Code::ReadMismatch
            ),
            "{v:?}"
        );
        assert_eq!(&*v.event.as_ref().unwrap().replica, "r2", "{v:?}");
    }
}
