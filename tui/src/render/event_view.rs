//! The details pane for the selected event: its fields, clocks, parents, edges, attributes,
//! findings, and the answer to the happens-before query against the mark.
//!
//! Separate from the other details views (a conflict side by side, a read violation's
//! evidence), which replace it when opened.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use weft_trace::Sym;

use super::format::{signed_duration, sorted_vc, wall_text, MAX_VC_SHOWN};
use super::{block, rect, Theme};
use crate::model::Model;
use crate::state::{App, Geometry, Order};

/// The selected event's details (or how to select one).
pub(super) fn event_detail(app: &App, g: &Geometry, t: &Theme, frame: &mut Frame) {
    let m = &app.model;
    let b = block(" details ".to_string(), false, t);
    let Some(n) = app.selected else {
        let p = Paragraph::new("no event selected: g selects the first, G the last").block(b);
        frame.render_widget(p, rect(g.details));
        return;
    };
    let key = t.fg(Color::DarkGray);
    let e = m.event(n);
    let mut lines: Vec<Line> = Vec::new();
    lines.push(Line::from(vec![
        Span::styled(
            m.id(n).to_string(),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("  {}  ", e.kind.as_str())),
        Span::styled(format!("row {}", m.row[n as usize] + 1), key),
    ]));
    fields(m, t, n, &mut lines);
    if e.has_vc() {
        lines.push(vc_line(m, t, n));
    }
    links(m, t, n, &mut lines);
    findings_of(m, t, n, &mut lines);
    if let (Some(a), Some(order)) = (app.mark, &app.order) {
        lines.push(Line::raw(""));
        lines.push(order_line(m, a, n, order, t));
    }
    let p = Paragraph::new(lines).block(b).wrap(Wrap { trim: false });
    frame.render_widget(p, rect(g.details));
}

/// One `key     value` line.
fn kv(lines: &mut Vec<Line>, key: Style, k: &str, v: String) {
    lines.push(Line::from(vec![
        Span::styled(format!("{k:<8}"), key),
        Span::raw(v),
    ]));
}

/// The event's own fields: key, op, value, message, Lamport clock, wall clock and skew.
fn fields(m: &Model, t: &Theme, n: u32, lines: &mut Vec<Line>) {
    let key = t.fg(Color::DarkGray);
    let e = m.event(n);
    if let Some(k) = e.key() {
        kv(lines, key, "key", m.sym(k).to_string());
    }
    if e.kind == weft_trace::Kind::Write {
        kv(lines, key, "op", e.op.as_str().to_string());
    }
    if let Some(v) = m.value(n) {
        kv(lines, key, "value", v.to_string());
    }
    if let Some(msg) = e.msg() {
        kv(lines, key, "msg", m.sym(msg).to_string());
    }
    if let Some(l) = e.lamport() {
        kv(lines, key, "lamport", l.to_string());
    }
    if let Some(w) = e.wall_ns() {
        kv(lines, key, "wall", wall_text(w));
        let lane = m.lane(n) as usize;
        let skew = match m.skew[lane] {
            Some((off, k)) => format!(
                "{} {} vs peers (from {k} messages)",
                m.lane_names[lane],
                signed_duration(off)
            ),
            None => "not estimable (no two-way messages)".to_string(),
        };
        kv(lines, key, if t.ascii { "skew ~" } else { "skew ≈" }, skew);
    }
}

/// The event's vector clock, entries changed since the replica's previous event highlighted.
fn vc_line(m: &Model, t: &Theme, n: u32) -> Line<'static> {
    let key = t.fg(Color::DarkGray);
    // Entries that changed since the replica's previous event are highlighted; with many
    // replicas only the first few fit, so the line says how many more there are.
    let prev: Option<std::collections::HashMap<Sym, u64>> =
        m.graph.prev(n).map(|p| m.vc(p).collect());
    let entries = sorted_vc(m, n);
    let changed = |s: Sym, c: u64| prev.as_ref().is_none_or(|p| p.get(&s) != Some(&c));
    let mut spans = vec![Span::styled(format!("{:<8}", "vc"), key)];
    for &(s, c) in entries.iter().take(MAX_VC_SHOWN) {
        let style = if changed(s, c) {
            t.fg(Color::Yellow).add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        spans.push(Span::styled(format!("{}:{c}", m.name(s)), style));
        spans.push(Span::raw(" "));
    }
    if entries.len() > MAX_VC_SHOWN {
        let rest = &entries[MAX_VC_SHOWN..];
        let more_changed = rest.iter().filter(|&&(s, c)| changed(s, c)).count();
        spans.push(Span::styled(
            format!("… {} more ({more_changed} changed)", rest.len()),
            key,
        ));
    }
    Line::from(spans)
}

/// How the event is tied to others: its parents, its cross edges, and its attributes.
fn links(m: &Model, t: &Theme, n: u32, lines: &mut Vec<Line>) {
    let key = t.fg(Color::DarkGray);
    let e = m.event(n);
    let parents = m.parents(n);
    if e.has_parents() {
        let text: Vec<String> = parents
            .iter()
            .map(|(s, q)| format!("{}@{q}", m.name(*s)))
            .collect();
        kv(
            lines,
            key,
            "parents",
            if text.is_empty() {
                "[]".into()
            } else {
                text.join(" ")
            },
        );
    }
    let edges: Vec<String> = m
        .graph
        .cross_preds(n)
        .iter()
        .map(|&p| format!("← {}", m.id(p)))
        .chain(
            m.graph
                .cross_succs(n)
                .iter()
                .map(|&s| format!("→ {}", m.id(s))),
        )
        .collect();
    if !edges.is_empty() {
        kv(lines, key, "edges", edges.join("  "));
    }
    if let Some(a) = m.attrs(n) {
        for (k, v) in a {
            kv(lines, key, &format!(".{k}"), v.to_string());
        }
    }
}

/// The violations and conflicts the analysis found at the event.
fn findings_of(m: &Model, t: &Theme, n: u32, lines: &mut Vec<Line>) {
    for v in m.violations_of(n) {
        let v = &m.report.violations[v as usize];
        let style = match v.severity {
            weft_analyzer::Severity::Error => t.fg(Color::Red),
            weft_analyzer::Severity::Warning => t.fg(Color::Yellow),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", v.code), style.add_modifier(Modifier::BOLD)),
            Span::raw(v.message.clone()),
        ]));
    }
    for c in m.conflicts_of(n) {
        let c = &m.report.conflicts[c as usize];
        let other = if m.id(n) == c.a { &c.b } else { &c.a };
        let winner = c
            .winner
            .as_ref()
            .map_or("no winner".to_string(), |w| format!("winner {w}"));
        lines.push(Line::from(vec![
            Span::styled(
                "conflict ",
                t.fg(Color::Magenta).add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(
                "on {} with {other}: {winner} by {}",
                c.key,
                c.rule.as_str()
            )),
        ]));
    }
}

/// "A → B" with the chain that proves it, consecutive program-order steps folded.
fn order_line<'a>(m: &Model, a: u32, b: u32, order: &Order, t: &Theme) -> Line<'a> {
    let hot = t.fg(Color::Cyan).add_modifier(Modifier::BOLD);
    let (head, chain) = match order {
        Order::Same => return Line::styled(format!("A = {} is the selection", m.id(a)), hot),
        Order::Concurrent => {
            return Line::styled(
                format!("A = {} and B = {} are concurrent", m.id(a), m.id(b)),
                hot,
            )
        }
        Order::Before(c) => (
            format!("A = {} happens before B = {}: ", m.id(a), m.id(b)),
            c,
        ),
        Order::After(c) => (
            format!("B = {} happens before A = {}: ", m.id(b), m.id(a)),
            c,
        ),
    };
    let mut steps: Vec<String> = Vec::new();
    for (i, &n) in chain.iter().enumerate() {
        let same_lane_run = i > 0
            && i + 1 < chain.len()
            && m.lane(chain[i - 1]) == m.lane(n)
            && m.lane(chain[i + 1]) == m.lane(n);
        if same_lane_run {
            if steps.last().map(String::as_str) != Some("…") {
                steps.push("…".to_string());
            }
            continue;
        }
        steps.push(m.id(n).to_string());
    }
    Line::from(vec![Span::styled(head, hot), Span::raw(steps.join(" → "))])
}
