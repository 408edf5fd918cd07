//! The findings pane: the conflicts list and the violations list (one shown at a time), with
//! the cursor, and findings the replay has not reached yet dimmed as "later".
//!
//! Separate because it is the one pane that lists the report rather than the graph.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{block, rect, Theme};
use crate::state::{App, Geometry, Pane};

/// First list entry shown so that `cursor` is in view of `h` rows.
fn list_offset(cursor: usize, h: usize) -> usize {
    cursor.saturating_sub(h.saturating_sub(1))
}

/// The findings pane: the list focused, or the last one focused.
pub(super) fn findings(app: &App, g: &Geometry, t: &Theme, frame: &mut Frame) {
    let m = &app.model;
    let tab = app.findings_tab();
    let nc = m.report.conflicts.len();
    let nv = m.report.violations.len();
    let title = match tab {
        Pane::Violations => format!(" conflicts {nc} │ [violations {nv}] "),
        _ => format!(" [conflicts {nc}] │ violations {nv} "),
    };
    let focused = app.focus != Pane::Diagram;
    let b = block(title, focused, t);
    let inner = b.inner(rect(g.findings));
    frame.render_widget(b, rect(g.findings));
    let h = inner.height as usize;
    let mut lines: Vec<Line> = Vec::new();
    let cursor_style = if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default().add_modifier(Modifier::BOLD)
    };
    match tab {
        Pane::Violations => {
            if nv == 0 {
                lines.push(Line::raw("no violations"));
            }
            let off = list_offset(app.violation_cursor, h);
            for (i, &vi) in m.violations_by_code.iter().enumerate().skip(off).take(h) {
                let v = &m.report.violations[vi as usize];
                let later = m.violation_node[vi as usize].is_some_and(|n| !app.replayed(n));
                let sev = match v.severity {
                    weft_analyzer::Severity::Error => t.fg(Color::Red),
                    weft_analyzer::Severity::Warning => t.fg(Color::Yellow),
                };
                let at = v.event.as_ref().map_or("-".to_string(), |e| e.to_string());
                let mut line = Line::from(vec![
                    Span::styled(format!("{:<21}", v.code.as_str()), sev),
                    Span::raw(format!("{at:<10} ")),
                    Span::styled(v.message.clone(), t.fg(Color::DarkGray)),
                ]);
                if later {
                    line = line.style(t.fg(Color::DarkGray).add_modifier(Modifier::DIM));
                    line.spans.insert(0, Span::raw("later "));
                }
                if i == app.violation_cursor {
                    line = line.style(cursor_style);
                }
                lines.push(line);
            }
        }
        _ => {
            if nc == 0 {
                lines.push(Line::raw("no conflicts"));
            }
            let off = list_offset(app.conflict_cursor, h);
            for (i, c) in m.report.conflicts.iter().enumerate().skip(off).take(h) {
                let el = c
                    .element
                    .as_ref()
                    .map(|e| format!("[{e}]"))
                    .unwrap_or_default();
                let winner = c.winner.as_ref().map_or("-".to_string(), |w| w.to_string());
                let later = [&c.a, &c.b]
                    .iter()
                    .any(|id| m.find(id).is_some_and(|n| !app.replayed(n)));
                let mut line = Line::from(vec![
                    Span::styled(format!("{}{el} ", c.key), t.fg(Color::Magenta)),
                    Span::raw(format!(
                        "{} {} {} ",
                        c.a,
                        if t.ascii { "||" } else { "∥" },
                        c.b
                    )),
                    Span::styled(
                        format!(
                            "{} {winner} ({})",
                            if t.ascii { "->" } else { "→" },
                            c.rule.as_str()
                        ),
                        t.fg(Color::DarkGray),
                    ),
                ]);
                if later {
                    line = line.style(t.fg(Color::DarkGray).add_modifier(Modifier::DIM));
                    line.spans.insert(0, Span::raw("later "));
                }
                if i == app.conflict_cursor {
                    line = line.style(cursor_style);
                }
                lines.push(line);
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
