//! Drawing a read violation: the details pane explains it (what the read returned, what its
//! causal past implies, the witness chain with each event's part in it), and the diagram numbers
//! the witnesses `1 2 3` in happens-before order and draws the edges of the path between them
//! hot.
//!
//! The digits carry the meaning without colour; colour repeats it.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use serde_json::Value;
use weft_analyzer::Violation;
use weft_trace::Kind;

use super::{block, rect, Deco, Theme};
use crate::model::Model;
use crate::state::witness::{role, ReadDetail};
use crate::state::{App, Geometry};

/// The digit that marks witness `i` (from 0) in the diagram; chains are at most three long, a
/// longer one would show `+` from the tenth on.
pub fn witness_digit(i: usize) -> char {
    char::from_digit(i as u32 + 1, 10)
        .filter(|_| i < 9)
        .unwrap_or('+')
}

/// How a witness is marked in the diagram: its digit left of its glyph. `None` when `n` is not
/// a witness. (The events between witnesses need no mark of their own: the whole path is in the
/// read's causal past, which the selection already highlights; its edges, drawn hot, are what
/// pick the path out of that past.)
pub(crate) fn witness_look(app: &App, t: &Theme, n: u32) -> Deco {
    let i = app.detail_read.as_ref()?.witness_position(n)?;
    Some((
        witness_digit(i),
        t.fg(Color::Cyan).add_modifier(Modifier::BOLD),
    ))
}

/// JSON as the pane shows it: compact, strings quoted.
fn json(v: &Value) -> String {
    v.to_string()
}

/// What the read of violation `v` should have returned, in words: `one of 2, 3` for a
/// last-writer-wins register with several maximal writes, the value itself otherwise; `None`
/// for a violation without read evidence.
pub fn expected_text(v: &Violation) -> Option<String> {
    let r = v.read.as_deref()?;
    Some(match (&r.expected, r.one_of) {
        (Value::Array(alts), true) if alts.len() == 1 => json(&alts[0]),
        (Value::Array(alts), true) => {
            let alts: Vec<String> = alts.iter().map(json).collect();
            format!("one of {}", alts.join(", "))
        }
        (e, _) => json(e),
    })
}

/// What witness `n` did, from the trace: `set 1`, `inc 5`, `add "milk"`, `read 1`.
fn what(m: &Model, n: u32) -> String {
    let e = m.event(n);
    let verb = match e.kind {
        Kind::Write => e.op.as_str(),
        k => k.as_str(),
    };
    match m.value(n) {
        Some(v) => format!("{verb} {}", json(v)),
        None => verb.to_string(),
    }
}

/// The details pane for a read violation.
pub(crate) fn read_detail(app: &App, g: &Geometry, t: &Theme, frame: &mut Frame, d: &ReadDetail) {
    let m = &app.model;
    let Some(v) = m.report.violations.get(d.violation as usize) else {
        return;
    };
    let Some(r) = v.read.as_deref() else { return };
    let title = format!(" {} · {} ({}) ", v.code, r.key, r.crdt);
    let b = block(title, false, t);
    let key = t.fg(Color::DarkGray);
    let kv = |k: &str, val: String, style: Style| {
        Line::from(vec![
            Span::styled(format!("{k:<9}"), key),
            Span::styled(val, style),
        ])
    };
    let read_id = v.event.as_ref().map_or("-".to_string(), |e| e.to_string());
    let mut lines = vec![
        Line::from(vec![
            Span::styled(read_id, Style::default().add_modifier(Modifier::BOLD)),
            Span::raw(format!("  read {} ({})", r.key, r.crdt)),
        ]),
        kv(
            "returned",
            json(&r.value),
            t.fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        kv(
            "expected",
            expected_text(v).unwrap_or_default(),
            t.fg(Color::Green).add_modifier(Modifier::BOLD),
        ),
        kv(
            "its past",
            format!(
                "{} write{} of {}",
                r.seen_writes,
                if r.seen_writes == 1 { "" } else { "s" },
                r.key
            ),
            Style::default(),
        ),
        Line::raw(""),
        Line::styled("witness chain (numbered in the diagram)", key),
    ];
    let hot = t.fg(Color::Cyan).add_modifier(Modifier::BOLD);
    for (i, id) in r.chain.iter().enumerate() {
        let does = d.witnesses.get(i).copied().flatten().map(|n| what(m, n));
        let mut spans = vec![
            Span::styled(format!("{} ", witness_digit(i)), hot),
            Span::styled(
                format!("{id} "),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(does.unwrap_or_else(|| "(not in the trace shown)".to_string())),
        ];
        let part = role(v, i, r.chain.len());
        if !part.is_empty() {
            spans.push(Span::styled(format!(" · {part}"), key));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::raw(""));
    lines.push(Line::raw(v.message.clone()));
    lines.push(Line::styled("Esc back · v next violation", key));
    let p = Paragraph::new(lines).block(b).wrap(Wrap { trim: false });
    frame.render_widget(p, rect(g.details));
}
