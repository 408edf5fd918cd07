//! Rendering, checked with ratatui's `TestBackend` against committed insta snapshots.
//!
//! Snapshots hold the characters only; colours are checked by the no-colour variants, which
//! must still tell kinds and findings apart by shape.

use std::sync::Arc;
use std::time::Duration;

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use weft_trace::{EventId, ReadOptions, Trace};
use weft_tui::live::{CollectorStats, LinkState};
use weft_tui::model::Model;
use weft_tui::state::{Action, App, Config, Overlay, PromptKind};

fn text(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn fixture(name: &str) -> Model {
    Model::build(
        Trace::from_ndjson_str(
            &format!("fixtures/{name}"),
            &text(name),
            &ReadOptions::default(),
        )
        .unwrap(),
    )
}

fn app_sized(m: Model, config: Config, w: u16, h: u16) -> App {
    let mut a = App::new(Arc::new(m), "fixtures/partition-heal.jsonl", config);
    a.apply(Action::Resize { w, h });
    a
}

fn draw(app: &App) -> String {
    let (w, h) = app.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| weft_tui::render::render(app, f)).unwrap();
    t.backend().to_string()
}

fn select(a: &mut App, id: &str) {
    let n = a.model.find(&EventId::parse_text(id).unwrap()).unwrap();
    a.select(Some(n));
}

#[test]
fn diagram_with_a_conflict_selected() {
    let mut a = app_sized(fixture("partition-heal.jsonl"), Config::default(), 120, 30);
    a.apply(Action::NextConflict);
    insta::assert_snapshot!(draw(&a));
}

#[test]
fn diagram_with_an_event_selected_and_a_mark() {
    let mut a = app_sized(fixture("partition-heal.jsonl"), Config::default(), 120, 30);
    select(&mut a, "r1@5");
    a.apply(Action::Mark);
    select(&mut a, "r4@9");
    insta::assert_snapshot!(draw(&a));
}

#[test]
fn ascii_without_colour() {
    let config = Config {
        color: false,
        ascii: true,
        mouse: false,
    };
    let mut a = app_sized(fixture("partition-heal.jsonl"), config, 100, 26);
    select(&mut a, "r3@3");
    insta::assert_snapshot!(draw(&a));
}

#[test]
fn help_overlay() {
    let mut a = app_sized(fixture("partition-heal.jsonl"), Config::default(), 100, 32);
    a.apply(Action::Help);
    insta::assert_snapshot!(draw(&a));
}

#[test]
fn findings_pane() {
    let mut a = app_sized(fixture("partition-heal.jsonl"), Config::default(), 120, 30);
    a.apply(Action::NextPane);
    a.apply(Action::Down);
    let conflicts = draw(&a);
    a.apply(Action::NextPane);
    let violations = draw(&a);
    insta::assert_snapshot!("findings_conflicts", conflicts);
    insta::assert_snapshot!("findings_violations", violations);
}

#[test]
fn tiny_terminal() {
    let a = app_sized(fixture("partition-heal.jsonl"), Config::default(), 40, 8);
    insta::assert_snapshot!(draw(&a));
}

#[test]
fn live_status() {
    let all = text("partition-heal.jsonl");
    let lines: Vec<&str> = all.lines().collect();
    let part = lines[..20].join("\n");
    let mut a = App::live("http://127.0.0.1:4318", Config::default());
    a.apply(Action::Resize { w: 140, h: 24 });
    a.apply(Action::Link(LinkState::Connected));
    a.apply(Action::Model(Arc::new(Model::from_ndjson("live", &part))));
    a.apply(Action::Received(20));
    a.apply(Action::Tick(Duration::from_secs(1)));
    a.apply(Action::Stats(CollectorStats {
        events: 20,
        dropped_batches: 1,
        rejected: 3,
        ..Default::default()
    }));
    let connected = draw(&a);
    a.apply(Action::Link(LinkState::Disconnected {
        reason: "connection refused".into(),
        retry_in: Duration::from_millis(500),
    }));
    a.apply(Action::TogglePause);
    a.apply(Action::Model(Arc::new(Model::from_ndjson("live", &all))));
    let paused = draw(&a);
    insta::assert_snapshot!("live_connected", connected);
    insta::assert_snapshot!("live_disconnected_paused", paused);
}

#[test]
fn replay_mid_way() {
    let m = fixture("partition-heal.jsonl");
    let mut a = App::new(
        Arc::new(m),
        "fixtures/partition-heal.jsonl",
        Config::default(),
    )
    .with_replay(true);
    a.apply(Action::Resize { w: 120, h: 30 });
    a.apply(Action::Tick(Duration::from_millis(1500)));
    a.apply(Action::TogglePause);
    insta::assert_snapshot!(draw(&a));
}

#[test]
fn many_lanes_scroll_with_indicators() {
    let mut src = String::new();
    for r in 0..30 {
        src.push_str(&format!(
            "{{\"replica\":\"node-{r:02}\",\"seq\":1,\"kind\":\"send\",\"msg\":\"m{r}\"}}\n"
        ));
        let to = (r + 1) % 30;
        src.push_str(&format!(
            "{{\"replica\":\"node-{to:02}\",\"seq\":2,\"kind\":\"recv\",\"msg\":\"m{r}\"}}\n"
        ));
    }
    // Every replica's seq 2 receives from its left neighbour; seq numbering needs seq 1 first.
    let m = Model::build(Trace::from_ndjson_str("ring", &src, &ReadOptions::default()).unwrap());
    let mut a = App::new(Arc::new(m), "ring", Config::default());
    a.apply(Action::Resize { w: 100, h: 16 });
    for _ in 0..12 {
        a.apply(Action::Right);
    }
    insta::assert_snapshot!(draw(&a));
}

/// The status bar's last row, where the prompt is.
fn prompt_row(screen: &str) -> &str {
    let row = screen.lines().last().unwrap();
    // `TestBackend` quotes each row, then lists the cells wide characters cover.
    let row = row
        .split("\" Hidden by multi-width symbols")
        .next()
        .unwrap();
    row.trim_matches('"')
}

/// A query longer than the terminal is wide scrolls like readline's: the window follows the
/// cursor, which is at the end, so the tail and the cursor are in view, and a mark says the
/// text goes on to the left.
#[test]
fn long_search_prompt_shows_its_tail_and_the_cursor() {
    let mut a = app_sized(fixture("partition-heal.jsonl"), Config::default(), 80, 24);
    a.apply(Action::StartSearch);
    // 300 characters, `w00. w01. ... w59. ` (typing stops at 256 bytes: the prompt is drawn
    // from whatever it holds).
    let query: String = (0..60).map(|i| format!("w{i:02}. ")).collect();
    assert_eq!(query.len(), 300);
    a.overlay = Overlay::Prompt {
        kind: PromptKind::Search,
        text: query.clone(),
    };
    let screen = draw(&a);
    let row = prompt_row(&screen);
    assert_eq!(row, format!("/…{}█", &query[300 - 77..]), "{screen}");
    insta::assert_snapshot!(screen);

    // Typed, and in ASCII: the same window, marked `<`.
    let config = Config {
        color: false,
        ascii: true,
        mouse: false,
    };
    let mut a = app_sized(fixture("partition-heal.jsonl"), config, 80, 24);
    a.apply(Action::StartSearch);
    for c in query[..200].chars() {
        a.apply(Action::PromptInput(c));
    }
    assert_eq!(
        prompt_row(&draw(&a)),
        format!("/<{}█", &query[200 - 77..200])
    );
    // Short again after backspacing: all of it, no mark.
    for _ in 0..130 {
        a.apply(Action::PromptBackspace);
    }
    assert_eq!(
        prompt_row(&draw(&a)).trim_end(),
        format!("/{}█", &query[..70])
    );
}

/// Wide characters take two cells and are never cut in half (a blank stands for one that does
/// not fit on the left); a combining mark stays with its letter.
#[test]
fn long_search_prompt_with_wide_characters() {
    let mut a = app_sized(fixture("partition-heal.jsonl"), Config::default(), 80, 24);
    a.apply(Action::StartSearch);
    // 20 + 80 + 1 + 2 + 5 = 108 cells; the last 77 are `end!`, the crab, the é (e + U+0301),
    // and 34½ of the 40 wide characters: the half is a blank.
    let query = format!("{}{}e\u{301}🦀 end!", "a".repeat(20), "検索".repeat(20));
    assert!(query.len() < 256);
    for c in query.chars() {
        a.apply(Action::PromptInput(c));
    }
    let screen = draw(&a);
    let row = prompt_row(&screen);
    let tail = format!("{}e\u{301}🦀 end!", "検索".repeat(17));
    assert!(row.ends_with(&format!("/… {tail}█")), "{row}");
    insta::assert_snapshot!(screen);
}

/// At any width, however long the query: the prompt's row shows the sign, then the query's end
/// and the cursor, and nothing falls off the right edge.
#[test]
fn prompt_fits_every_width() {
    let mut a = app_sized(fixture("partition-heal.jsonl"), Config::default(), 80, 24);
    a.apply(Action::StartSearch);
    let query: String = "ab検c\u{301}d🦀".chars().cycle().take(180).collect();
    for (i, c) in query.chars().enumerate() {
        a.apply(Action::PromptInput(c));
        if i % 13 != 0 {
            continue;
        }
        let Overlay::Prompt { text, .. } = &a.overlay else {
            unreachable!()
        };
        let text = text.clone();
        for w in [60, 61, 80, 97, 160] {
            a.apply(Action::Resize { w, h: 20 });
            let screen = draw(&a);
            let row = prompt_row(&screen).trim_end();
            let shown = row.strip_prefix('/').unwrap().strip_suffix('█').unwrap();
            let shown = shown.strip_prefix('…').map_or(shown, str::trim_start);
            assert!(text.ends_with(shown), "{w}: {row:?} for {text:?}");
            assert!(!shown.is_empty(), "{w}: {row:?}");
        }
    }
}

/// Any size, any selection: drawing never panics, and small sizes say so.
#[test]
fn every_size_draws() {
    let mut a = app_sized(fixture("partition-heal.jsonl"), Config::default(), 80, 24);
    a.apply(Action::NextConflict);
    for w in (1..=160).step_by(7) {
        for h in (1..=50).step_by(3) {
            a.apply(Action::Resize { w, h });
            let out = draw(&a);
            if w < 60 || h < 14 {
                assert!(out.contains("too small") || w < 20 || h < 2, "{w}x{h}");
            }
        }
    }
}

/// Every fixture (cycles, duplicates, malformed-free edge cases) survives a tour of the keys.
#[test]
fn every_fixture_survives_a_tour() {
    let dir = format!("{}/../fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    assert!(files.len() > 10);
    let tour = [
        Action::Bottom,
        Action::Mark,
        Action::Top,
        Action::NextConflict,
        Action::NextViolation,
        Action::Enter,
        Action::Right,
        Action::Down,
        Action::HideLane,
        Action::NextPane,
        Action::Enter,
        Action::NextPane,
        Action::Enter,
        Action::ToggleReplayOrder,
        Action::StepBack,
        Action::StepBack,
        Action::ShowAllLanes,
        Action::PageDown,
        Action::Help,
    ];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for ascii in [false, true] {
            let config = Config {
                color: !ascii,
                ascii,
                mouse: false,
            };
            let trace = Trace::from_ndjson_str("f", &text, &ReadOptions::default()).unwrap();
            let mut a = App::new(Arc::new(Model::build(trace)), "f", config).with_replay(false);
            a.apply(Action::Resize { w: 90, h: 24 });
            for act in tour.clone() {
                a.apply(act);
                let out = draw(&a);
                assert!(out.contains("diagram"), "{}: {out}", f.display());
            }
        }
    }
}
