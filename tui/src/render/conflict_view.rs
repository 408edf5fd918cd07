//! The details pane for a conflict: its two writes side by side (what each did, its clocks,
//! what it had seen of the other), the fork point, and how the conflict was resolved.
//!
//! Separate because it replaces the event details with a two-column layout of its own.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::format::{sorted_vc, wall_text, MAX_VC_SHOWN};
use super::{block, rect, Theme};
use weft_analyzer::Conflict;

use crate::state::{App, Geometry};

/// Conflict `c` side by side in the details pane.
pub(super) fn conflict_detail(app: &App, g: &Geometry, t: &Theme, frame: &mut Frame, c: usize) {
    let m = &app.model;
    let Some(conf) = m.report.conflicts.get(c) else {
        return;
    };
    let title = format!(
        " conflict {}/{} on {} ",
        c + 1,
        m.report.conflicts.len(),
        conf.key
    );
    let b = block(title, false, t);
    let inner = b.inner(rect(g.details));
    frame.render_widget(b, rect(g.details));
    let half = inner.width / 2;
    let key = t.fg(Color::DarkGray);
    let side = |id: &weft_trace::EventId,
                does: &str,
                clocks: (Option<u64>, Option<i64>),
                saw: u64,
                other: &str| {
        let mut lines = vec![Line::styled(
            format!(
                "{id}{}",
                if conf.winner.as_ref() == Some(id) {
                    "  wins"
                } else {
                    ""
                }
            ),
            t.fg(Color::Magenta).add_modifier(Modifier::BOLD),
        )];
        lines.push(Line::raw(does.to_string()));
        if let Some(l) = clocks.0 {
            lines.push(Line::from(vec![
                Span::styled("lamport ", key),
                Span::raw(l.to_string()),
            ]));
        }
        if let Some(w) = clocks.1 {
            lines.push(Line::from(vec![
                Span::styled("wall ", key),
                Span::raw(wall_text(w)),
            ]));
        }
        lines.push(Line::from(vec![
            Span::styled("saw ", key),
            Span::raw(format!("{other} only up to {saw}")),
        ]));
        if let Some(n) = m.find(id) {
            lines.push(Line::styled("vc", key));
            let entries = sorted_vc(m, n);
            for &(s, v) in entries.iter().take(MAX_VC_SHOWN) {
                lines.push(Line::raw(format!(" {}:{v}", m.name(s))));
            }
            if entries.len() > MAX_VC_SHOWN {
                lines.push(Line::styled(
                    format!(" … {} more", entries.len() - MAX_VC_SHOWN),
                    key,
                ));
            }
        }
        lines
    };
    let w = &conf.why;
    let a = side(
        &conf.a,
        &w.a.does,
        w.a.clocks,
        w.a_saw_of_b,
        &conf.b.replica,
    );
    let b_lines = side(
        &conf.b,
        &w.b.does,
        w.b.clocks,
        w.b_saw_of_a,
        &conf.a.replica,
    );
    let foot_h = 3u16;
    let body_h = inner.height.saturating_sub(foot_h);
    frame.render_widget(
        Paragraph::new(a).wrap(Wrap { trim: false }),
        Rect::new(inner.x, inner.y, half.saturating_sub(1), body_h),
    );
    frame.render_widget(
        Paragraph::new(b_lines).wrap(Wrap { trim: false }),
        Rect::new(inner.x + half, inner.y, inner.width - half, body_h),
    );
    footer(app, conf, t, frame, inner, body_h);
}

/// Below the two sides: the fork point, the resolution, and the keys.
fn footer(app: &App, conf: &Conflict, t: &Theme, frame: &mut Frame, inner: Rect, body_h: u16) {
    let m = &app.model;
    let key = t.fg(Color::DarkGray);
    let foot_h = 3u16;
    let fork: Vec<String> = app
        .fork
        .iter()
        .flatten()
        .map(|&n| m.id(n).to_string())
        .collect();
    let fork = if fork.is_empty() {
        "fork point: none (no common past)".to_string()
    } else {
        format!("fork point (latest common past): {}", fork.join(" "))
    };
    let resolution = match &conf.winner {
        Some(wn) => format!("{wn} wins by {}", conf.rule.as_str()),
        None => "no winner (rule none)".to_string(),
    };
    let foot = Paragraph::new(vec![
        Line::raw(fork),
        Line::styled(resolution, t.fg(Color::Magenta)),
        Line::styled("Esc back · c next conflict", key),
    ])
    .wrap(Wrap { trim: false });
    frame.render_widget(
        foot,
        Rect::new(
            inner.x,
            inner.y + body_h,
            inner.width,
            foot_h.min(inner.height),
        ),
    );
}
