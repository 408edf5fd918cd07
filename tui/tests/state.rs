//! The TUI's state, driven through actions and keys, checked without a terminal.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use weft_trace::{EventId, ReadOptions, Trace};
use weft_tui::keys;
use weft_tui::live::{CollectorStats, LinkState};
use weft_tui::model::{Model, ReplayOrder};
use weft_tui::state::{Action, App, Cones, Config, InputMode, Order, Overlay, Pane, Relation};

fn fixture(name: &str) -> Model {
    let path = format!("{}/../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    Model::build(Trace::from_ndjson_str(&path, &text, &ReadOptions::default()).unwrap())
}

fn sim_model(seed: u64, replicas: u32, ops: u64) -> Model {
    let cfg = weft_sim::Config {
        seed,
        replicas,
        ops,
        profile: weft_sim::config::Profile::Mixed,
        net: weft_sim::config::Profile::Mixed.net(),
        ..Default::default()
    };
    let mut out = Vec::new();
    weft_sim::simulate(&cfg, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    Model::build(Trace::from_ndjson_str("sim", &text, &ReadOptions::default()).unwrap())
}

fn app(m: Model) -> App {
    let mut a = App::new(Arc::new(m), "test", Config::default());
    a.apply(Action::Resize { w: 120, h: 40 });
    a
}

fn id(a: &App) -> String {
    a.model.id(a.selected.unwrap()).to_string()
}

fn select(a: &mut App, text: &str) {
    let n = a.model.find(&EventId::parse_text(text).unwrap()).unwrap();
    a.select(Some(n));
}

/// Every event reachable from `from` by direct edges, `from` excluded.
fn reach(m: &Model, from: u32, forward: bool) -> BTreeSet<u32> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([from]);
    while let Some(n) = queue.pop_front() {
        let next: Vec<u32> = if forward {
            m.graph.succs(n).collect()
        } else {
            m.graph.preds(n).collect()
        };
        for k in next {
            if seen.insert(k) {
                queue.push_back(k);
            }
        }
    }
    seen
}

#[test]
fn cones_agree_with_brute_force_reachability() {
    for m in [
        fixture("partition-heal.jsonl"),
        fixture("edges-parents.jsonl"),
        fixture("causality-cycle.jsonl"),
        sim_model(3, 4, 60),
    ] {
        for s in 0..m.len() as u32 {
            let cones = Cones::of(&m, s);
            let past = reach(&m, s, false);
            let future = reach(&m, s, true);
            // A window of rows around (or away from) the selection, as the screen shows.
            let row = m.row[s as usize];
            let (lo, hi) = match s % 3 {
                0 => (row.saturating_sub(2), row + 3),
                1 => (row + 1, row + 5),
                _ => (row.saturating_sub(6), row.saturating_sub(1)),
            };
            let window = Cones::window(&m, s, lo, hi);
            for n in 0..m.len() as u32 {
                let expect = if n == s {
                    Relation::Selected
                } else if past.contains(&n) {
                    Relation::Past
                } else if future.contains(&n) {
                    Relation::Future
                } else {
                    Relation::Concurrent
                };
                let at = format!("selected {}, event {}", m.id(s), m.id(n));
                assert_eq!(cones.relation(&m, n), expect, "{at}");
                let r = m.row[n as usize];
                if r >= lo && r < hi {
                    assert_eq!(window.relation(&m, n), expect, "window {lo}..{hi}: {at}");
                }
            }
            assert_eq!(Cones::past_of(&m, s), cones.past_end);
        }
    }
}

#[test]
fn happens_before_query_proves_with_a_chain_of_direct_edges() {
    let m = sim_model(5, 4, 40);
    let mut a = app(m);
    let n = a.model.len() as u32;
    let mut seen = (0, 0, 0);
    for x in (0..n).step_by(7) {
        for y in (0..n).step_by(5) {
            a.select(Some(x));
            a.apply(Action::Mark);
            a.select(Some(y));
            let order = a.order.clone().unwrap();
            let is_edge = |p: u32, q: u32| a.model.graph.succs(p).any(|s| s == q);
            match order {
                Order::Same => assert_eq!(x, y),
                Order::Before(chain) => {
                    seen.0 += 1;
                    assert_eq!((chain[0], *chain.last().unwrap()), (x, y));
                    assert!(chain.windows(2).all(|w| is_edge(w[0], w[1])));
                }
                Order::After(chain) => {
                    seen.1 += 1;
                    assert_eq!((chain[0], *chain.last().unwrap()), (y, x));
                    assert!(chain.windows(2).all(|w| is_edge(w[0], w[1])));
                }
                Order::Concurrent => {
                    seen.2 += 1;
                    assert!(!reach(&a.model, x, true).contains(&y));
                    assert!(!reach(&a.model, y, true).contains(&x));
                }
            }
            a.apply(Action::Back); // clears the mark
            assert!(a.mark.is_none());
        }
    }
    assert!(seen.0 > 0 && seen.1 > 0 && seen.2 > 0, "{seen:?}");
}

#[test]
fn moving_follows_lanes_and_program_order() {
    let mut a = app(fixture("partition-heal.jsonl"));
    assert_eq!(id(&a), "r1@1");
    a.apply(Action::Down);
    assert_eq!(id(&a), "r1@2");
    a.apply(Action::Up);
    a.apply(Action::Up);
    assert_eq!(id(&a), "r1@1", "nothing before the first event");
    a.apply(Action::End);
    assert_eq!(id(&a), "r1@9");
    a.apply(Action::Home);
    a.apply(Action::Right);
    assert_eq!(a.model.lane(a.selected.unwrap()), 1);
    a.apply(Action::Bottom);
    let last = a.selected.unwrap();
    assert_eq!(a.model.row[last as usize], a.model.rows - 1);
    a.apply(Action::Top);
    assert_eq!(a.model.row[a.selected.unwrap() as usize], 0);
}

#[test]
fn enter_jumps_between_send_and_receive() {
    let mut a = app(fixture("edges-msg.jsonl"));
    let sends: Vec<u32> = (0..a.model.len() as u32)
        .filter(|&n| !a.model.graph.cross_succs(n).is_empty())
        .collect();
    assert!(!sends.is_empty());
    for s in sends {
        a.select(Some(s));
        a.apply(Action::Enter);
        let r = a.selected.unwrap();
        assert!(
            a.model.graph.cross_preds(r).contains(&s) || a.model.graph.cross_succs(s).contains(&r)
        );
        a.apply(Action::Enter);
        assert!(a.model.graph.cross_succs(a.selected.unwrap()).contains(&r));
    }
}

#[test]
fn conflicts_and_violations_jump_into_the_diagram() {
    let mut a = app(fixture("partition-heal.jsonl"));
    a.apply(Action::NextConflict);
    let c0 = &a.model.report.conflicts[0];
    assert_eq!(id(&a), c0.a.to_string());
    assert_eq!(a.detail_conflict, Some(0));
    a.apply(Action::NextConflict);
    assert_eq!(a.detail_conflict, Some(1));
    a.apply(Action::Back);
    assert_eq!(a.detail_conflict, None);

    a.apply(Action::NextPane);
    assert_eq!(a.focus, Pane::Conflicts);
    a.apply(Action::Down);
    a.apply(Action::Down);
    a.apply(Action::Enter);
    assert_eq!(a.focus, Pane::Diagram);
    assert_eq!(id(&a), a.model.report.conflicts[2].a.to_string());

    let mut v = app(fixture("lamport-violation.jsonl"));
    let total = v.model.report.violations.len();
    assert!(total >= 2);
    let mut visited = BTreeSet::new();
    for _ in 0..total {
        v.apply(Action::NextViolation);
        visited.insert(v.violation_cursor);
        let vi = v.model.violations_by_code[v.violation_cursor] as usize;
        assert_eq!(
            Some(id(&v)),
            v.model.report.violations[vi]
                .event
                .as_ref()
                .map(|e| e.to_string())
        );
    }
    assert_eq!(
        visited.len(),
        total,
        "v visits every violation once per round"
    );
}

#[test]
fn search_and_next_match() {
    let mut a = app(fixture("partition-heal.jsonl"));
    a.apply(Action::StartSearch);
    assert_eq!(a.input_mode(), InputMode::Prompt);
    for c in "members".chars() {
        a.apply(Action::PromptInput(c));
    }
    a.apply(Action::PromptSubmit);
    let s = a.search.clone().unwrap();
    assert!(s.matches.len() >= 2);
    let first = a.selected.unwrap();
    assert_eq!(first, s.matches[0]);
    a.apply(Action::SearchNext);
    assert_eq!(a.selected.unwrap(), s.matches[1]);
    a.apply(Action::SearchPrev);
    assert_eq!(a.selected.unwrap(), first);
    // An id finds exactly that event.
    a.apply(Action::StartSearch);
    for c in "r3@2".chars() {
        a.apply(Action::PromptInput(c));
    }
    a.apply(Action::PromptSubmit);
    assert_eq!(id(&a), "r3@2");
    a.apply(Action::StartSearch);
    for c in "no-such-thing".chars() {
        a.apply(Action::PromptInput(c));
    }
    a.apply(Action::PromptSubmit);
    assert!(a.message.as_deref().unwrap().contains("no event matches"));
}

#[test]
fn filters_hide_events_and_report_bad_terms() {
    let mut a = app(fixture("partition-heal.jsonl"));
    let type_in = |a: &mut App, text: &str| {
        a.apply(Action::StartFilter);
        while let Overlay::Prompt { text, .. } = &a.overlay {
            if text.is_empty() {
                break;
            }
            a.apply(Action::PromptBackspace);
        }
        for c in text.chars() {
            a.apply(Action::PromptInput(c));
        }
        a.apply(Action::PromptSubmit);
    };
    type_in(&mut a, "kind=write");
    let writes = |a: &App| (0..a.model.len() as u32).filter(|&n| a.visible(n)).count();
    let shown = writes(&a);
    assert!(shown > 0 && shown < a.model.len());
    for _ in 0..40 {
        a.apply(Action::Down);
        a.apply(Action::Right);
        assert!(a.visible(a.selected.unwrap()));
    }
    type_in(&mut a, "kind=write !replica=r1");
    assert!((0..a.model.len() as u32)
        .filter(|&n| a.visible(n))
        .all(|n| a.model.lane_names[a.model.lane(n) as usize] != "r1"));
    type_in(&mut a, "colour=red");
    assert!(a
        .message
        .as_deref()
        .unwrap()
        .contains("unknown field `colour`"));
    assert_eq!(
        a.filter.as_ref().unwrap().text,
        "kind=write !replica=r1",
        "kept"
    );
    type_in(&mut a, "kind=wrote");
    assert!(a.message.as_deref().unwrap().contains("kind `wrote`"));
    type_in(&mut a, "");
    assert!(a.filter.is_none());
}

#[test]
fn hiding_lanes() {
    let mut a = app(fixture("partition-heal.jsonl"));
    a.apply(Action::HideLane);
    assert_eq!(a.visible_lanes().len(), 3);
    assert!(a.visible(a.selected.unwrap()));
    a.apply(Action::HideLane);
    a.apply(Action::HideLane);
    a.apply(Action::HideLane);
    assert_eq!(a.visible_lanes().len(), 1);
    assert!(a.message.as_deref().unwrap().contains("last shown lane"));
    a.apply(Action::ShowAllLanes);
    assert_eq!(a.visible_lanes().len(), 4);
}

#[test]
fn replay_steps_plays_and_switches_order() {
    let m = fixture("partition-heal.jsonl");
    let n = m.len() as u32;
    let mut a = App::new(Arc::new(m), "t", Config::default()).with_replay(true);
    a.apply(Action::Resize { w: 120, h: 40 });
    let r = a.replay.clone().unwrap();
    assert_eq!((r.pos, r.playing), (0, true));
    assert!((0..n).all(|k| !a.visible(k)));
    a.apply(Action::Tick(Duration::from_millis(350))); // 10/s → 3 events
    assert_eq!(a.replay.as_ref().unwrap().pos, 3);
    assert_eq!((0..n).filter(|&k| a.visible(k)).count(), 3);
    assert_eq!(a.selected, a.model.node_at(2, ReplayOrder::Arrival));
    a.apply(Action::TogglePause);
    a.apply(Action::Tick(Duration::from_secs(5)));
    assert_eq!(a.replay.as_ref().unwrap().pos, 3, "paused");
    a.apply(Action::StepForward);
    a.apply(Action::StepForward);
    a.apply(Action::StepBack);
    assert_eq!(a.replay.as_ref().unwrap().pos, 4);
    a.apply(Action::ToggleReplayOrder);
    let r = a.replay.clone().unwrap();
    assert_eq!(r.order, ReplayOrder::Causal);
    // In causal order, everything shown is closed under happens-before.
    for k in (0..n).filter(|&k| a.visible(k)) {
        for p in a.model.graph.preds(k) {
            assert!(
                a.visible(p),
                "{} shown without its cause {}",
                a.model.id(k),
                a.model.id(p)
            );
        }
    }
    a.apply(Action::Faster);
    assert_eq!(a.replay.as_ref().unwrap().speed, 20.0);
    a.apply(Action::Slower);
    a.apply(Action::Slower);
    assert_eq!(a.replay.as_ref().unwrap().speed, 5.0);
    a.apply(Action::TogglePause);
    a.apply(Action::Tick(Duration::from_secs(100)));
    let r = a.replay.clone().unwrap();
    assert_eq!((r.pos, r.playing), (n, false), "stops at the end");
    a.apply(Action::RestartReplay);
    assert_eq!(a.replay.as_ref().unwrap().pos, 0);
}

#[test]
fn live_updates_keep_the_selection_and_pause_holds_them() {
    let text = std::fs::read_to_string(format!(
        "{}/../fixtures/partition-heal.jsonl",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let half = lines[..lines.len() / 2].join("\n");
    let mut a = App::live("http://127.0.0.1:1", Config::default());
    a.apply(Action::Resize { w: 120, h: 40 });
    assert!(a.model.is_empty());
    a.apply(Action::Link(LinkState::Connected));
    a.apply(Action::Model(Arc::new(Model::from_ndjson("live", &half))));
    select(&mut a, "r2@1");
    a.apply(Action::Model(Arc::new(Model::from_ndjson("live", &text))));
    assert_eq!(id(&a), "r2@1", "same event after new ones arrived");
    assert_eq!(a.model.len(), 34);

    a.apply(Action::TogglePause);
    let more = format!("{text}\n{{\"replica\":\"r0\",\"seq\":1}}\n");
    a.apply(Action::Model(Arc::new(Model::from_ndjson("live", &more))));
    assert_eq!(a.model.len(), 34, "paused: held back");
    assert!(a.live.as_ref().unwrap().pending.is_some());
    a.apply(Action::TogglePause);
    assert_eq!(a.model.len(), 35);
    assert_eq!(id(&a), "r2@1");

    a.apply(Action::Received(50));
    a.apply(Action::Tick(Duration::from_millis(500)));
    a.apply(Action::Received(50));
    a.apply(Action::Tick(Duration::from_millis(500)));
    assert_eq!(a.live.as_ref().unwrap().rate, 100.0);
    a.apply(Action::Stats(CollectorStats {
        dropped_batches: 2,
        ..Default::default()
    }));
    assert_eq!(a.live.as_ref().unwrap().stats.dropped_batches, 2);
    a.apply(Action::Up);
    assert!(
        !a.live.as_ref().unwrap().following,
        "moving up stops following"
    );
    a.apply(Action::Bottom);
    assert!(a.live.as_ref().unwrap().following);
}

/// `G` while live: the selection stays on the newest event as events arrive (so its cones are
/// those of the rows in view), until the user goes somewhere else.
#[test]
fn following_keeps_the_selection_on_the_newest_event() {
    let text = std::fs::read_to_string(format!(
        "{}/../fixtures/partition-heal.jsonl",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let upto = |k: usize| Arc::new(Model::from_ndjson("live", &lines[..k].join("\n")));
    let mut a = App::live("http://127.0.0.1:1", Config::default());
    a.apply(Action::Resize { w: 120, h: 40 });
    a.apply(Action::Model(upto(12)));
    a.apply(Action::Bottom);
    let last = |m: &Model| {
        (0..m.rows)
            .rev()
            .find_map(|r| m.row_nodes(r).last().copied())
    };
    assert_eq!(a.selected, last(&a.model));
    for k in [20, 27, lines.len()] {
        a.apply(Action::Model(upto(k)));
        assert_eq!(a.selected, last(&a.model), "after {k} lines");
        assert!(a.live.as_ref().unwrap().following);
        let row = a.model.row[a.selected.unwrap() as usize];
        assert!(row >= a.top && row < a.top + a.page_rows(), "in view");
    }
    a.apply(Action::Up);
    assert!(!a.live.as_ref().unwrap().following);
    let browsing = a.selected;
    a.apply(Action::Model(upto(lines.len())));
    assert_eq!(a.selected, browsing, "browsing: the selection stays");
}

/// The live rate is the arrival rate: events that come in bursts (a collector's group commits,
/// a backlog handed over at once) read as a steady rate, never as zero between bursts, and zero
/// once nothing has arrived for a whole window.
#[test]
fn the_live_rate_is_the_arrival_rate_even_in_bursts() {
    let mut a = App::live("http://127.0.0.1:1", Config::default());
    let tick = Duration::from_millis(33);
    let rate = |a: &App| a.live.as_ref().unwrap().rate;
    // 12,000 events every 36 ticks (1.188 s): about 10,100 events/s, in bursts.
    for step in 0..400u32 {
        if step % 36 == 0 {
            a.apply(Action::Received(12_000));
        }
        a.apply(Action::Tick(tick));
        if step >= 90 {
            let r = rate(&a);
            assert!((5_000.0..=15_000.0).contains(&r), "step {step}: {r} ev/s");
        }
    }
    assert_eq!(a.live.as_ref().unwrap().received, 12 * 12_000);
    for _ in 0..61 {
        a.apply(Action::Tick(tick));
    }
    assert_eq!(rate(&a), 0.0, "nothing for {:?}", tick * 61);
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[test]
fn keys_map_to_actions_by_mode() {
    let normal = InputMode::Normal;
    let map = |ev: Event, mode| keys::action(&ev, mode).map(|a| format!("{a:?}"));
    assert_eq!(map(key(KeyCode::Char('j')), normal).unwrap(), "Down");
    assert_eq!(map(key(KeyCode::Char('q')), normal).unwrap(), "Quit");
    assert_eq!(
        map(key(KeyCode::Char('q')), InputMode::Prompt).unwrap(),
        "PromptInput('q')"
    );
    assert_eq!(
        map(key(KeyCode::Char('x')), InputMode::Help).unwrap(),
        "Back"
    );
    let ctrl_c = Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    for mode in [normal, InputMode::Prompt, InputMode::Help] {
        assert_eq!(map(ctrl_c.clone(), mode).unwrap(), "Quit");
    }
    assert_eq!(
        map(Event::Resize(90, 30), normal).unwrap(),
        "Resize { w: 90, h: 30 }"
    );
    // Every single-character key the help lists does something.
    for (keys, _) in keys::HELP {
        for k in keys.split_whitespace() {
            let mut chars = k.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                if c.is_ascii_graphic() {
                    assert!(
                        map(key(KeyCode::Char(c)), normal).is_some(),
                        "help lists `{c}`"
                    );
                }
            }
        }
    }
}

#[test]
fn keys_drive_the_state() {
    let mut a = app(fixture("partition-heal.jsonl"));
    for code in [
        KeyCode::Char('j'),
        KeyCode::Char('j'),
        KeyCode::Char('l'),
        KeyCode::Char('?'),
    ] {
        let act = keys::action(&key(code), a.input_mode()).unwrap();
        a.apply(act);
    }
    assert_eq!(a.overlay, Overlay::Help);
    let act = keys::action(&key(KeyCode::Esc), a.input_mode()).unwrap();
    a.apply(act);
    assert_eq!(a.overlay, Overlay::None);
    assert_eq!(a.model.lane(a.selected.unwrap()), 1);
    let act = keys::action(&key(KeyCode::Char('q')), a.input_mode()).unwrap();
    a.apply(act);
    assert!(a.quit);
}

#[test]
fn clicks_select_and_the_view_follows_the_selection() {
    let mut a = app(sim_model(9, 12, 400));
    a.apply(Action::Bottom);
    let g = a.geometry().unwrap();
    let n = a.selected.unwrap();
    let row = a.model.row[n as usize];
    assert!(row >= a.top && row < a.top + g.rows.h as u32, "in view");
    // Click on the glyph of some shown event.
    let target = a.model.row_nodes(a.top + 2).first().copied().unwrap();
    let lanes = a.visible_lanes();
    let slot = lanes
        .iter()
        .position(|&l| l == a.model.lane(target))
        .unwrap() as u32;
    if slot >= a.left && slot < a.left + g.lanes_fit() {
        let x = g.rows.x + g.glyph_x(slot - a.left);
        let y = g.rows.y + 2;
        a.apply(Action::Click { x, y });
        assert_eq!(a.selected, Some(target));
    }
    // Many lanes: moving right scrolls the lanes.
    a.apply(Action::Top);
    for _ in 0..11 {
        a.apply(Action::Right);
    }
    let lane = a.model.lane(a.selected.unwrap());
    let slot = a.visible_lanes().iter().position(|&l| l == lane).unwrap() as u32;
    assert!(slot >= a.left && slot < a.left + g.lanes_fit());
}

/// The fork point of a conflict is the latest common past, per lane; read off the vector clocks
/// when they are trustworthy, it must agree with the graph.
#[test]
fn fork_points_agree_with_the_graph() {
    let mut a = app(sim_model(21, 5, 300));
    let total = a.model.report.conflicts.len();
    assert!(total > 3, "the run has conflicts");
    for c in 0..total as u32 {
        a.set_detail_conflict(Some(c));
        let conf = &a.model.report.conflicts[c as usize];
        let (x, y) = (
            a.model.find(&conf.a).unwrap(),
            a.model.find(&conf.b).unwrap(),
        );
        let (px, py) = (Cones::past_of(&a.model, x), Cones::past_of(&a.model, y));
        let expect: Vec<u32> = (0..a.model.lanes())
            .filter_map(|l| {
                let seen = px[l as usize].min(py[l as usize]);
                (seen > 0).then(|| a.model.graph.lane_node(l, seen - 1))
            })
            .collect();
        assert_eq!(a.fork.clone().unwrap(), expect, "conflict {c}");
    }
}
