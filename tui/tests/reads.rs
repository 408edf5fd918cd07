//! Read violations (spec section 8) in the TUI: listed in the violations pane with their code,
//! opened into the details pane with the value read and the value expected, their witness chain
//! numbered in the diagram. State checked through actions, drawing against insta snapshots.

use std::sync::Arc;

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use weft_analyzer::Code;
use weft_trace::{EventId, ReadOptions, Trace};
use weft_tui::model::Model;
use weft_tui::read_view::{expected_text, witness_digit};
use weft_tui::state::{Action, App, Config, Pane};

/// r1 sets the price to 1 and tells r2; r2, having seen it, sets it to 2 and tells r3; r3 then
/// reads 1: a stale read, witnessed by r1@1 (overwritten) → r2@2 (overwrote it) → r3@2.
/// r4 writes another key, so the path has to be picked out of unrelated lanes.
const STALE: &str = r#"
{"replica":"r1","seq":1,"kind":"write","key":"sku-1/price","op":"set","value":1,"crdt":"lww","lamport":1}
{"replica":"r1","seq":2,"kind":"send","msg":"m1","lamport":2}
{"replica":"r2","seq":1,"kind":"recv","msg":"m1","lamport":3}
{"replica":"r2","seq":2,"kind":"write","key":"sku-1/price","op":"set","value":2,"crdt":"lww","lamport":4}
{"replica":"r2","seq":3,"kind":"send","msg":"m2","lamport":5}
{"replica":"r3","seq":1,"kind":"recv","msg":"m2","lamport":6}
{"replica":"r3","seq":2,"kind":"read","key":"sku-1/price","value":1,"crdt":"lww","lamport":7}
{"replica":"r4","seq":1,"kind":"write","key":"sku-2/price","op":"set","value":5,"lamport":1}
{"replica":"r4","seq":2,"kind":"write","key":"sku-2/price","op":"set","value":6,"lamport":2}
"#;

/// Two concurrent price writes both reach r3, which reads a value neither wrote: a
/// `read-mismatch` whose expectation is "one of" the two; and r4 reads r1's value without ever
/// having heard from r1: a `read-of-unseen-write`.
const MISMATCH_AND_UNSEEN: &str = r#"
{"replica":"r1","seq":1,"kind":"write","key":"p","value":1,"crdt":"lww"}
{"replica":"r1","seq":2,"kind":"send","msg":"a"}
{"replica":"r2","seq":1,"kind":"write","key":"p","value":2,"crdt":"lww"}
{"replica":"r2","seq":2,"kind":"send","msg":"b"}
{"replica":"r3","seq":1,"kind":"recv","msg":"a"}
{"replica":"r3","seq":2,"kind":"recv","msg":"b"}
{"replica":"r3","seq":3,"kind":"read","key":"p","value":3,"crdt":"lww"}
{"replica":"r4","seq":1,"kind":"read","key":"p","value":1,"crdt":"lww"}
"#;

fn model(text: &str) -> Model {
    Model::build(
        Trace::from_ndjson_str("reads.jsonl", text.trim(), &ReadOptions::default()).unwrap(),
    )
}

fn app(m: Model, config: Config, w: u16, h: u16) -> App {
    let mut a = App::new(Arc::new(m), "reads.jsonl", config);
    a.apply(Action::Resize { w, h });
    a
}

fn node(a: &App, id: &str) -> u32 {
    a.model.find(&EventId::parse_text(id).unwrap()).unwrap()
}

fn nodes(a: &App, ids: &[&str]) -> Vec<u32> {
    ids.iter().map(|id| node(a, id)).collect()
}

fn draw(app: &App) -> String {
    let (w, h) = app.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| weft_tui::render::render(app, f)).unwrap();
    t.backend().to_string()
}

/// Focuses the violations pane and puts its cursor on the violation with `code`.
fn cursor_on(a: &mut App, code: Code) {
    while a.focus != Pane::Violations {
        a.apply(Action::NextPane);
    }
    a.apply(Action::Top);
    let at = a
        .model
        .violations_by_code
        .iter()
        .position(|&v| a.model.report.violations[v as usize].code == code)
        .unwrap_or_else(|| panic!("no {code} in {:?}", a.model.report.violations));
    for _ in 0..at {
        a.apply(Action::Down);
    }
}

#[test]
fn the_analysis_finds_the_stale_read_the_tests_rely_on() {
    let m = model(STALE);
    let v = &m.report.violations;
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].code, Code::StaleRead);
    assert_eq!(v[0].event, Some(EventId::new("r3", 2)));
    let chain: Vec<String> = v[0]
        .read
        .as_ref()
        .unwrap()
        .chain
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(chain, ["r1@1", "r2@2", "r3@2"]);
}

#[test]
fn entering_a_stale_read_opens_its_evidence_and_its_witness_chain() {
    let mut a = app(model(STALE), Config::default(), 120, 30);
    assert_eq!(a.detail_read, None);
    cursor_on(&mut a, Code::StaleRead);
    a.apply(Action::Enter);
    assert_eq!(a.focus, Pane::Diagram);
    assert_eq!(a.selected, Some(node(&a, "r3@2")), "the read is selected");
    let d = a.detail_read.clone().expect("the read's detail is open");
    assert_eq!(d.violation, 0);
    let w = nodes(&a, &["r1@1", "r2@2", "r3@2"]);
    assert_eq!(d.witnesses, w.iter().map(|&n| Some(n)).collect::<Vec<_>>());
    // The path runs through the message edges that carried the write to the reader.
    assert_eq!(
        d.path,
        nodes(
            &a,
            &["r1@1", "r1@2", "r2@1", "r2@2", "r2@3", "r3@1", "r3@2"]
        )
    );
    assert_eq!(d.witness_position(w[1]), Some(1));
    assert!(d.on_path(node(&a, "r1@2"), node(&a, "r2@1")));
    assert!(
        !d.on_path(node(&a, "r2@1"), node(&a, "r1@2")),
        "edges are directed"
    );
    assert!(!d.path_contains(node(&a, "r4@1")));

    // Walking along the chain keeps it open; leaving it closes it.
    a.apply(Action::Up);
    assert_eq!(a.selected, Some(node(&a, "r3@1")));
    assert!(a.detail_read.is_some());
    a.select(Some(node(&a, "r1@1")));
    assert!(a.detail_read.is_some());
    a.select(Some(node(&a, "r4@2")));
    assert_eq!(a.detail_read, None);

    // `v` opens it too, and Esc closes it before anything else.
    a.apply(Action::NextViolation);
    assert_eq!(a.detail_read.as_ref().map(|d| d.violation), Some(0));
    a.apply(Action::Mark);
    a.apply(Action::Back);
    assert_eq!(a.detail_read, None);
    assert!(a.mark.is_some(), "the mark is the next thing Esc clears");
}

#[test]
fn one_finding_is_explained_at_a_time() {
    // A read violation and a conflict on the same trace: opening one closes the other.
    let text = format!(
        "{STALE}\n{}\n{}",
        r#"{"replica":"r5","seq":1,"kind":"write","key":"sku-2/price","value":7,"lamport":9}"#,
        r#"{"replica":"r6","seq":1,"kind":"write","key":"sku-2/price","value":8,"lamport":9}"#
    );
    let mut a = app(model(&text), Config::default(), 120, 30);
    assert!(!a.model.report.conflicts.is_empty());
    a.apply(Action::NextViolation);
    assert!(a.detail_read.is_some());
    a.apply(Action::NextConflict);
    assert!(a.detail_conflict.is_some());
    assert_eq!(a.detail_read, None);
    a.apply(Action::NextViolation);
    assert!(a.detail_read.is_some());
    assert_eq!(a.detail_conflict, None);
}

#[test]
fn a_violation_without_read_evidence_opens_no_read_detail() {
    let text = format!(
        "{STALE}\n{}",
        r#"{"replica":"r1","seq":3,"kind":"local","lamport":1}"#
    );
    let mut a = app(model(&text), Config::default(), 120, 30);
    cursor_on(&mut a, Code::LamportViolation);
    a.apply(Action::Enter);
    assert_eq!(a.selected, Some(node(&a, "r1@3")));
    assert_eq!(a.detail_read, None);
}

#[test]
fn a_live_update_keeps_the_open_read_on_the_new_model() {
    let mut a = app(model(STALE), Config::default(), 120, 30);
    a.apply(Action::NextViolation);
    let more = format!(
        "{}\n{}",
        r#"{"replica":"r0","seq":1,"kind":"local"}"#,
        STALE.trim()
    );
    a.apply(Action::Model(Arc::new(model(&more))));
    let d = a.detail_read.clone().expect("still open");
    assert_eq!(
        d.witnesses,
        nodes(&a, &["r1@1", "r2@2", "r3@2"])
            .into_iter()
            .map(Some)
            .collect::<Vec<_>>(),
        "resolved against the new nodes"
    );
    // An update in which the read is fine again closes it.
    let fixed = STALE.replace(
        r#""kind":"read","key":"sku-1/price","value":1"#,
        r#""kind":"read","key":"sku-1/price","value":2"#,
    );
    a.apply(Action::Model(Arc::new(model(&fixed))));
    assert_eq!(a.model.report.violations.len(), 0);
    assert_eq!(a.detail_read, None);
}

#[test]
fn expectations_and_roles_are_spelled_per_code() {
    let mut a = app(model(MISMATCH_AND_UNSEEN), Config::default(), 120, 30);
    let find = |a: &App, code| {
        a.model
            .report
            .violations
            .iter()
            .find(|v| v.code == code)
            .unwrap_or_else(|| panic!("no {code}: {:?}", a.model.report.violations))
            .clone()
    };
    let mismatch = find(&a, Code::ReadMismatch);
    assert_eq!(expected_text(&mismatch).as_deref(), Some("one of 1, 2"));
    let unseen = find(&a, Code::ReadOfUnseenWrite);
    assert_eq!(
        expected_text(&unseen).as_deref(),
        Some("null"),
        "nothing seen"
    );

    cursor_on(&mut a, Code::ReadOfUnseenWrite);
    a.apply(Action::Enter);
    let screen = draw(&a);
    assert!(
        screen.contains("read-of-unseen-write · p (lww)"),
        "{screen}"
    );
    assert!(
        screen.contains("1 r1@1 set 1 · not in the read's causal past"),
        "{screen}"
    );
    assert!(screen.contains("2 r4@1 read 1 · the read"), "{screen}");
    cursor_on(&mut a, Code::ReadMismatch);
    a.apply(Action::Enter);
    let screen = draw(&a);
    assert!(screen.contains("expected one of 1, 2"), "{screen}");
    assert!(screen.contains("returned 3"), "{screen}");
}

/// The snapshots hold characters only: the path's colours are checked here, on the cells
/// themselves, with the detail open and then closed (the selection staying on the read).
#[test]
fn the_path_between_the_witnesses_is_drawn_hot() {
    use ratatui::style::{Color, Modifier};
    let mut a = app(model(STALE), Config::default(), 120, 30);
    a.apply(Action::NextViolation);
    let cells = |a: &App| {
        let mut t = Terminal::new(TestBackend::new(120, 30)).unwrap();
        t.draw(|f| weft_tui::render::render(a, f)).unwrap();
        let buf = t.backend().buffer().clone();
        // Row 3 of the diagram (screen line 4): r1@2's message arrives at r2@1.
        let y = 4;
        let arrow = (0..70)
            .find(|&x| buf[(x, y)].symbol() == "▸")
            .expect("the arrowhead");
        // Row 4: r2@2, the second witness, with its digit.
        let digit = (0..70)
            .find(|&x| buf[(x, 5)].symbol() == "2")
            .expect("digit 2");
        (buf[(arrow, y)].style(), buf[(digit, 5)].style())
    };
    let (arrow, digit) = cells(&a);
    assert_eq!(arrow.fg, Some(Color::Cyan));
    assert!(arrow.add_modifier.contains(Modifier::BOLD));
    assert_eq!(digit.fg, Some(Color::Cyan));
    a.apply(Action::Back);
    assert_eq!(a.selected, Some(node(&a, "r3@2")));
    let mut t = Terminal::new(TestBackend::new(120, 30)).unwrap();
    t.draw(|f| weft_tui::render::render(&a, f)).unwrap();
    let buf = t.backend().buffer().clone();
    let arrow = (0..70).find(|&x| buf[(x, 4)].symbol() == "▸").unwrap();
    assert_eq!(
        buf[(arrow, 4)].style().fg,
        Some(Color::Blue),
        "an ordinary edge again"
    );
    assert!(
        (0..70).all(|x| buf[(x, 5)].symbol() != "2"),
        "no digits once closed"
    );
}

/// Followed live, the read's verdict changes with the batch that completes its past: until r2's
/// events arrive, r3's read returns a value written outside its (known) past, a
/// `read-of-unseen-write`; once they do, it is the stale read, and the grown model (the
/// incremental engine's findings) carries the same evidence and chain as the one built whole.
#[test]
fn a_live_model_opens_the_read_once_its_witnesses_arrive() {
    use weft_tui::grow::{Growing, LineParser};
    let lines: Vec<&str> = STALE.trim().lines().collect();
    let (r2, rest): (Vec<&str>, Vec<&str>) = lines.iter().partition(|l| l.contains(r#""r2""#));
    let mut parser = LineParser::new("live");
    let mut grown = Growing::new();
    let mut a = App::live("http://127.0.0.1:4318", Config::default());
    a.apply(Action::Resize { w: 120, h: 30 });
    for batch in [rest, r2] {
        let text = batch.join("\n") + "\n";
        grown.feed(parser.parse(text.as_bytes()).unwrap());
        grown.refresh_report();
        a.apply(Action::Model(grown.snapshot()));
        a.apply(Action::NextViolation);
        let open = a.detail_read.as_ref().expect("a read violation is open");
        let code = a.model.report.violations[open.violation as usize].code;
        if a.model.len() < 9 {
            assert_eq!(code, Code::ReadOfUnseenWrite);
            assert_eq!(
                open.witnesses,
                vec![Some(node(&a, "r1@1")), Some(node(&a, "r3@2"))]
            );
        } else {
            assert_eq!(code, Code::StaleRead);
        }
    }
    let d = a.detail_read.clone().expect("opened on the complete model");
    assert_eq!(
        d.witnesses,
        nodes(&a, &["r1@1", "r2@2", "r3@2"])
            .into_iter()
            .map(Some)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        a.model.report.violations,
        model(STALE).report.violations,
        "the same evidence as the model built whole"
    );
}

#[test]
fn witness_digits() {
    assert_eq!(witness_digit(0), '1');
    assert_eq!(witness_digit(2), '3');
    assert_eq!(witness_digit(8), '9');
    assert_eq!(witness_digit(9), '+');
}

#[test]
fn stale_read_in_the_violations_pane() {
    let mut a = app(model(STALE), Config::default(), 120, 30);
    cursor_on(&mut a, Code::StaleRead);
    insta::assert_snapshot!(draw(&a));
}

#[test]
fn stale_read_selected() {
    let mut a = app(model(STALE), Config::default(), 120, 30);
    cursor_on(&mut a, Code::StaleRead);
    a.apply(Action::Enter);
    insta::assert_snapshot!(draw(&a));
}

#[test]
fn stale_read_selected_ascii_without_colour() {
    let config = Config {
        color: false,
        ascii: true,
        mouse: false,
    };
    let mut a = app(model(STALE), config, 100, 26);
    a.apply(Action::NextViolation);
    insta::assert_snapshot!(draw(&a));
}
