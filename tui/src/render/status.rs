//! The status bar: the live link and rate or the replay's position, the counts, the filter, the
//! source; below them the prompt being typed, a message, or the key hints.
//!
//! Separate because it gathers a little of everything, and the prompt's scrolling is subtle.

use ratatui::buffer::CellWidth;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::format::thousands;
use super::{rect, Theme};
use crate::live::LinkState;
use crate::model::{Model, ReplayOrder};
use crate::state::{App, Geometry, Live, Overlay, PromptKind, Replay};

/// The two status lines.
pub(super) fn status(app: &App, g: &Geometry, t: &Theme, frame: &mut Frame) {
    let m = &app.model;
    let s = &m.report.summary;
    let sep = Span::styled(" │ ", t.fg(Color::DarkGray));
    // Most important first, so a narrow terminal cuts the least useful part: the link, the
    // counts, the mode, and the source last.
    let (mut spans, mode) = match &app.live {
        Some(live) => live_spans(live, m, t, &sep),
        None => (Vec::new(), Vec::new()),
    };
    // A first look: the counts and findings below are the first events', not the trace's.
    if let Some(shown) = app.loading {
        spans.push(Span::styled(
            "LOADING ",
            t.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::styled(
            format!("first {} events; reading the rest…", thousands(shown)),
            t.fg(Color::Yellow),
        ));
        spans.push(sep.clone());
    }
    spans.push(Span::raw(format!(
        "{} events · {} replicas · ",
        thousands(m.len() as u64),
        s.replicas
    )));
    spans.push(Span::styled(
        format!("{} conflicts", s.conflicts),
        t.fg(Color::Magenta),
    ));
    spans.push(Span::raw(" · "));
    spans.push(Span::styled(
        format!("{} errors", s.errors),
        t.fg(Color::Red),
    ));
    spans.push(Span::raw(" · "));
    spans.push(Span::styled(
        format!("{} warnings", s.warnings),
        t.fg(Color::Yellow),
    ));
    spans.extend(mode);
    if let Some(r) = &app.replay {
        spans.push(sep.clone());
        spans.push(replay_span(r, m.len(), t));
    }
    if let Some(f) = &app.filter {
        spans.push(sep.clone());
        spans.push(Span::styled(
            format!("filter: {}", f.text),
            t.fg(Color::Yellow),
        ));
    }
    if !app.hidden.is_empty() {
        spans.push(sep.clone());
        spans.push(Span::raw(format!("{} lanes hidden", app.hidden.len())));
    }
    spans.push(sep.clone());
    let source = app
        .live
        .as_ref()
        .map_or(app.source.clone(), |l| l.url.clone());
    spans.push(Span::styled(
        source,
        Style::default().add_modifier(Modifier::BOLD),
    ));
    let line1 = Line::from(spans);
    let line2 = second_line(app, g, t);
    frame.render_widget(Paragraph::new(vec![line1, line2]), rect(g.status));
}

/// A live source's parts of the first line: the link (first), and the rate and mode (after
/// the counts).
fn live_spans(
    live: &Live,
    m: &Model,
    t: &Theme,
    sep: &Span<'static>,
) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
    let s = &m.report.summary;
    let mut spans: Vec<Span> = Vec::new();
    let mut mode: Vec<Span> = Vec::new();
    let (dot, text, color) = match &live.link {
        LinkState::Connected => ("●", "connected".to_string(), Color::Green),
        LinkState::Connecting => ("○", "connecting…".to_string(), Color::Yellow),
        LinkState::Disconnected { reason, retry_in } => (
            "✕",
            format!(
                "disconnected: {reason}; retry in {:.1} s",
                retry_in.as_secs_f64()
            ),
            Color::Red,
        ),
    };
    spans.push(Span::styled(
        "LIVE ",
        t.fg(Color::Cyan).add_modifier(Modifier::BOLD),
    ));
    spans.push(Span::styled(format!("{dot} {text}"), t.fg(color)));
    spans.push(sep.clone());
    mode.push(sep.clone());
    mode.push(Span::raw(format!("{:.0} ev/s", live.rate)));
    mode.push(sep.clone());
    if live.paused {
        let waiting = live
            .pending
            .as_ref()
            .map_or(0, |p| p.len().saturating_sub(m.len()));
        mode.push(Span::styled(
            format!("PAUSED ({waiting} new)"),
            t.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
    } else if live.following {
        mode.push(Span::raw("following"));
    } else {
        mode.push(Span::raw("browsing (G follows)"));
    }
    // The findings trail the events while the engine's report is read (a live model
    // grows with every batch; its findings are refreshed a few times a second).
    if live.analyzing || s.events < m.len() as u64 {
        mode.push(Span::styled(" · analysing…", t.fg(Color::DarkGray)));
    }
    (spans, mode)
}

/// The replay's position, state, order and speed.
fn replay_span(r: &Replay, len: usize, t: &Theme) -> Span<'static> {
    let state = if r.playing { "▶" } else { "⏸" };
    let state = if t.ascii {
        if r.playing {
            ">"
        } else {
            "||"
        }
    } else {
        state
    };
    let order = match r.order {
        ReplayOrder::Arrival => "arrival",
        ReplayOrder::Causal => "causal",
    };
    Span::styled(
        format!("replay {state} {}/{} {order} {}/s", r.pos, len, r.speed),
        t.fg(Color::Cyan),
    )
}

/// The second line: the prompt being typed, else a message, else the live counters or the key
/// hints.
fn second_line(app: &App, g: &Geometry, t: &Theme) -> Line<'static> {
    match &app.overlay {
        Overlay::Prompt { kind, text } => {
            let p = match kind {
                PromptKind::Search => "/",
                PromptKind::Filter => ":",
            };
            prompt_line(p, text, usize::from(g.status.w), t)
        }
        _ => match &app.message {
            Some(msg) => Line::styled(msg.clone(), t.fg(Color::Yellow)),
            None if app.live.is_some() => {
                let live = app
                    .live
                    .as_ref()
                    .map(|l| (l.stats.clone(), l.skipped, l.received));
                let (st, skipped, received) = live.unwrap_or_default();
                Line::from(vec![
                    Span::styled(
                        format!(
                            "received {} · collector: stored {} · dropped batches {} · rejected {} · skipped {}",
                            thousands(received),
                            thousands(st.events),
                            st.dropped_batches,
                            st.rejected,
                            st.skipped_otlp_records + skipped
                        ),
                        if st.dropped_batches + st.rejected + skipped > 0 {
                            t.fg(Color::Yellow)
                        } else {
                            t.fg(Color::DarkGray)
                        },
                    ),
                    Span::styled(" │ ? help · q quit", t.fg(Color::DarkGray)),
                ])
            }
            None => {
                let mut hint =
                    "? help · q quit · Tab panes · / search · : filter · m mark".to_string();
                if let Some(s) = &app.search {
                    hint = format!(
                        "search `{}`: {} matches (n/N) · {hint}",
                        s.query,
                        s.matches.len()
                    );
                }
                Line::styled(hint, t.fg(Color::DarkGray))
            }
        },
    }
}

/// The prompt line, `width` cells wide: its sign, the text, and the cursor after it. Text too
/// long to fit scrolls as in readline, the window following the cursor: the cursor is always at
/// the end of the text (the prompt is edited by typing and backspace), so the window shows the
/// tail, with `…` (`<` in ASCII) where the text is cut off on the left. Widths are terminal
/// cells per grapheme, so a wide character (CJK, most emoji) is never cut in half and a
/// combining mark stays on its letter.
fn prompt_line(sign: &'static str, text: &str, width: usize, t: &Theme) -> Line<'static> {
    let sign = Span::styled(sign, t.fg(Color::Cyan).add_modifier(Modifier::BOLD));
    let cursor = Span::styled("█", t.fg(Color::Cyan));
    // What the terminal will show: ratatui drops control characters.
    let raw = Span::raw(text);
    let graphemes: Vec<(&str, usize)> = raw
        .styled_graphemes(Style::default())
        .map(|g| (g.symbol, usize::from(g.symbol.cell_width())))
        .collect();
    let room = width.saturating_sub(2); // the sign and the cursor
    if graphemes.iter().map(|&(_, w)| w).sum::<usize>() <= room {
        return Line::from(vec![sign, Span::raw(text.to_string()), cursor]);
    }
    let room = room.saturating_sub(1); // the mark
    let mut used = 0;
    let mut from = graphemes.len();
    while from > 0 && used + graphemes[from - 1].1 <= room {
        from -= 1;
        used += graphemes[from].1;
    }
    let tail: String = graphemes[from..].iter().map(|&(g, _)| g).collect();
    let mark = if t.ascii { "<" } else { "…" };
    // A wide character that would straddle the left edge leaves a blank instead.
    let pad = " ".repeat(room - used);
    Line::from(vec![
        sign,
        Span::styled(format!("{mark}{pad}"), t.fg(Color::DarkGray)),
        Span::raw(tail),
        cursor,
    ])
}
