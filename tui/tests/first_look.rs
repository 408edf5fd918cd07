//! A large trace opened with a first look (`Source::Loading`): the first events are shown at
//! once, the whole replaces them when read and analysed, and a whole that cannot be read ends
//! the program with the reader's message.

use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::Duration;

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use weft_trace::{EventId, ReadOptions, Trace};
use weft_tui::model::Model;
use weft_tui::state::{Action, App, Config};
use weft_tui::{spawn_loader, Loader};

/// A simulated trace's lines.
fn sim_text() -> String {
    let cfg = weft_sim::Config {
        seed: 7,
        replicas: 4,
        ops: 300,
        ..Default::default()
    };
    let mut out = Vec::new();
    weft_sim::simulate(&cfg, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn trace(text: &str) -> Trace {
    Trace::from_ndjson_str("sim.ndjson", text, &ReadOptions::default()).unwrap()
}

/// The first `n` lines, as `Trace::read_prefix` would give them.
fn first_lines(text: &str, n: usize) -> String {
    text.split_inclusive('\n').take(n).collect()
}

/// A first look at the first 60 lines of the simulated trace, and the whole.
fn looks() -> (App, Arc<Model>) {
    let text = sim_text();
    let first = Model::build(trace(&first_lines(&text, 60)));
    let whole = Arc::new(Model::build(trace(&text)));
    assert!(whole.len() > first.len() + 100);
    let mut app = App::new(Arc::new(first), "sim.ndjson", Config::default()).loading();
    app.apply(Action::Resize { w: 120, h: 30 });
    (app, whole)
}

fn draw(app: &App) -> String {
    let (w, h) = app.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| weft_tui::render::render(app, f)).unwrap();
    t.backend().to_string()
}

#[test]
fn the_status_bar_says_the_first_look_is_not_the_whole() {
    let (mut app, whole) = looks();
    let screen = draw(&app);
    assert!(
        screen.contains("LOADING first 59 events; reading the rest"),
        "{screen}"
    );
    insta::assert_snapshot!("first_look_loading", screen);
    app.apply(Action::Loaded(whole.clone()));
    let screen = draw(&app);
    assert!(!screen.contains("LOADING"), "{screen}");
    assert!(
        screen.contains(&format!("{} events", whole.len())),
        "{screen}"
    );
}

#[test]
fn the_whole_replaces_the_first_look_keeping_the_selection() {
    let (mut app, whole) = looks();
    app.apply(Action::Down);
    app.apply(Action::Down);
    app.apply(Action::Right);
    let chosen: EventId = app.model.id(app.selected.unwrap());
    app.apply(Action::Loaded(whole.clone()));
    assert_eq!(app.loading, None);
    assert_eq!(app.model.len(), whole.len());
    assert_eq!(app.model.id(app.selected.unwrap()), chosen);
    assert!(!app.quit);
}

#[test]
fn a_replay_not_started_stands_at_the_end_of_the_whole() {
    let (app, whole) = looks();
    let mut app = app.with_replay(false);
    app.apply(Action::Loaded(whole.clone()));
    assert_eq!(app.replay.as_ref().unwrap().pos, whole.len() as u32);
}

#[test]
fn a_playing_replay_plays_on_past_the_end_of_the_first_look() {
    let (app, whole) = looks();
    let shown = app.model.len() as u32;
    let mut app = app.with_replay(true);
    // Far past the end of the first look while the whole is read: it waits there, playing.
    app.apply(Action::Tick(Duration::from_secs(60)));
    let r = app.replay.as_ref().unwrap();
    assert_eq!((r.pos, r.playing), (shown, true));
    app.apply(Action::Loaded(whole.clone()));
    app.apply(Action::Tick(Duration::from_secs(2)));
    let r = app.replay.as_ref().unwrap();
    assert!(r.playing && r.pos > shown, "{} of {shown}", r.pos);
    // Without a first look, the end of the trace stops it.
    app.apply(Action::Tick(Duration::from_secs(600)));
    let r = app.replay.as_ref().unwrap();
    assert_eq!((r.pos, r.playing), (whole.len() as u32, false));
}

#[test]
fn a_whole_that_cannot_be_read_ends_the_program_with_the_readers_message() {
    let (mut app, _) = looks();
    app.apply(Action::LoadFailed(
        "t.ndjson:900:7: seq must be >= 1".into(),
    ));
    assert!(app.quit);
    assert_eq!(
        app.failed.as_deref(),
        Some("t.ndjson:900:7: seq must be >= 1")
    );
}

/// What the loading thread posts for `rest`.
fn posted(rest: Loader) -> Action {
    let (tx, rx) = sync_channel(1);
    spawn_loader(rest, tx).join().unwrap();
    rx.recv_timeout(Duration::from_secs(60)).unwrap()
}

#[test]
fn the_loading_thread_posts_the_whole_or_why_not() {
    let text = sim_text();
    let expected = trace(&text).len();
    match posted(Box::new(move || Ok(trace(&text)))) {
        Action::Loaded(m) => assert_eq!(m.len(), expected),
        other => panic!("{other:?}"),
    }
    match posted(Box::new(|| Err("t.ndjson:3: not JSON".into()))) {
        Action::LoadFailed(why) => assert_eq!(why, "t.ndjson:3: not JSON"),
        other => panic!("{other:?}"),
    }
    // A panic while loading is answered too: the view never waits for a load that won't come.
    match posted(Box::new(|| panic!("disk on fire"))) {
        Action::LoadFailed(why) => assert!(why.contains("disk on fire"), "{why}"),
        other => panic!("{other:?}"),
    }
}
