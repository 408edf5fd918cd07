//! Drawing: `render(&App, &mut Frame)` reads the state and writes cells, nothing else.
//!
//! Only the rows and lanes in view are visited, so a frame costs the same for a thousand events
//! as for a million.

mod conflict_view;
mod diagram;
mod event_view;
mod findings;
mod format;
pub mod read_view;
mod status;
mod theme;

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::keys::HELP;
use crate::state::{App, Area, Geometry, Overlay, MIN_SIZE};

pub use format::{signed_duration, wall_text};
pub(crate) use theme::{block, Deco, Theme};

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let Some(g) = Geometry::new(area.width, area.height, &app.model) else {
        too_small(app, frame, area);
        return;
    };
    let t = Theme::new(app);
    diagram::diagram(app, &g, &t, frame.buffer_mut());
    details(app, &g, &t, frame);
    findings::findings(app, &g, &t, frame);
    status::status(app, &g, &t, frame);
    if app.overlay == Overlay::Help {
        help(&t, frame, area);
    }
}

pub(crate) fn rect(a: Area) -> Rect {
    Rect::new(a.x, a.y, a.w, a.h)
}

/// The details pane: the conflict or read violation opened there, else the selected event.
fn details(app: &App, g: &Geometry, t: &Theme, frame: &mut Frame) {
    if let Some(c) = app.detail_conflict {
        conflict_view::conflict_detail(app, g, t, frame, c as usize);
        return;
    }
    if let Some(d) = &app.detail_read {
        read_view::read_detail(app, g, t, frame, d);
        return;
    }
    event_view::event_detail(app, g, t, frame);
}

fn too_small(app: &App, frame: &mut Frame, area: Rect) {
    let text = format!(
        "terminal too small: {}×{}; weft needs at least {}×{} (q quits)",
        app.size.0.min(area.width),
        area.height,
        MIN_SIZE.0,
        MIN_SIZE.1
    );
    let p = Paragraph::new(text).wrap(Wrap { trim: true });
    frame.render_widget(p, area);
}

fn help(t: &Theme, frame: &mut Frame, area: Rect) {
    let w = 84.min(area.width);
    let h = (HELP.len() as u16 + 4).min(area.height);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    frame.render_widget(Clear, r);
    let key = t.fg(Color::Cyan).add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("{k:<16}"), key),
                Span::raw(*what),
            ])
        })
        .collect();
    let legend = if t.ascii {
        [
            "glyphs  W write  R read  S send  V recv  M merge  . local",
            "marks   ! error  x conflict  ? warning  # sibling  ~ concurrent  A mark  * chain",
        ]
    } else {
        [
            "glyphs  ● write  ○ read  ▲ send  ▼ recv  ◆ merge  · local",
            "marks   ! error  × conflict  ? warning  ≠ sibling  ∥ concurrent  A mark  * chain",
        ]
    };
    for l in legend {
        lines.push(Line::styled(l, t.fg(Color::DarkGray)));
    }
    let b = block(" keys (any key closes) ".to_string(), true, t);
    frame.render_widget(Paragraph::new(lines).block(b).wrap(Wrap { trim: false }), r);
}
