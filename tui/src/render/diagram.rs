//! The time-space diagram: lane headers, row numbers, program-order lines, the cross edges into
//! each event in view, and the events themselves, decorated by where they stand relative to the
//! selection and what the analysis found.
//!
//! Separate because it is the one pane drawn cell by cell (lines cross, arrows give way), and
//! it visits only the rows and lanes in view.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};

use super::theme::{Deco, Line4, Theme};
use super::{block, read_view, rect};
use crate::model::{F_CONFLICT, F_ERROR, F_SIBLING, F_WARNING};
use crate::state::{App, Geometry, Order, Pane, Relation};

/// The lanes in view: `(slot, lane)`.
fn slots(app: &App, g: &Geometry) -> (Vec<u32>, Vec<Option<u16>>) {
    let lanes = app.visible_lanes();
    let fit = g.lanes_fit();
    let shown: Vec<u32> = lanes
        .iter()
        .copied()
        .skip(app.left as usize)
        .take(fit as usize)
        .collect();
    let mut slot_of = vec![None; app.model.lanes() as usize];
    for (i, &l) in shown.iter().enumerate() {
        slot_of[l as usize] = Some(i as u16);
    }
    (shown, slot_of)
}

/// Whether lane `lane` has a shown event before (or at and after) lane position `at`, looking at
/// most `LOOK` events away: beyond that, assume it does (only dense filters get there).
fn lane_has_shown(app: &App, lane: u32, at: u32, before: bool) -> bool {
    const LOOK: u32 = 4096;
    let g = &app.model.graph;
    let len = g.lane_len(lane);
    if before {
        g.lane_nodes(lane, 0..at)
            .rev()
            .take(LOOK as usize)
            .any(|k| app.visible(k))
            || at > LOOK
    } else {
        g.lane_nodes(lane, at..len)
            .take(LOOK as usize)
            .any(|k| app.visible(k))
            || len.saturating_sub(at) > LOOK
    }
}

/// What every part of the diagram draws against: the state, the layout, the theme, the rows
/// in view (`top..bottom`) and the lanes in view.
struct View<'a> {
    app: &'a App,
    g: &'a Geometry,
    t: &'a Theme,
    top: u32,
    bottom: u32,
    /// The lanes in view, left to right.
    shown: Vec<u32>,
    /// Per lane: its slot in view, if any.
    slot_of: Vec<Option<u16>>,
}

impl View<'_> {
    /// Column of the glyphs of lane slot `slot`.
    fn lane_x(&self, slot: u16) -> u16 {
        self.g.rows.x + self.g.glyph_x(slot as u32)
    }

    /// Terminal row of diagram row `r`.
    fn y(&self, r: u32) -> u16 {
        self.g.rows.y + (r - self.top) as u16
    }
}

/// The diagram pane.
pub(super) fn diagram(app: &App, g: &Geometry, t: &Theme, buf: &mut Buffer) {
    let m = &app.model;
    let rows_in_view = g.rows.h as u32;
    let top = app.top;
    let bottom = (top + rows_in_view).min(m.rows);
    let title = if m.is_empty() {
        " diagram · no events yet ".to_string()
    } else {
        format!(
            " diagram · rows {}–{} of {} ",
            top + 1,
            bottom.max(top + 1),
            m.rows
        )
    };
    let b = block(title, app.focus == Pane::Diagram, t);
    ratatui::widgets::Widget::render(b, rect(g.diagram), buf);

    let (shown, slot_of) = slots(app, g);
    let v = View {
        app,
        g,
        t,
        top,
        bottom,
        shown,
        slot_of,
    };
    lane_headers(&v, buf);
    gutter(&v, buf);
    program_order_lines(&v, buf);
    cross_edges(&v, buf);
    events(&v, buf);
}

/// Lane headers, with counts of lanes scrolled out on either side.
fn lane_headers(v: &View, buf: &mut Buffer) {
    let (app, g, t) = (v.app, v.g, v.t);
    let m = &app.model;
    let shown = &v.shown;
    let lanes_total = app.visible_lanes().len() as u32;
    let sel_lane = app.selected.map(|n| m.lane(n));
    for (i, &l) in shown.iter().enumerate() {
        let name = &m.lane_names[l as usize];
        let w = g.lane_width as usize - 1;
        let label: String = if name.chars().count() > w {
            let mut s: String = name.chars().take(w.saturating_sub(1)).collect();
            s.push('…');
            s
        } else {
            name.clone()
        };
        let x0 = v
            .lane_x(i as u16)
            .saturating_sub(label.chars().count() as u16 / 2);
        let mut style = t.fg(Color::White).add_modifier(Modifier::BOLD);
        if sel_lane == Some(l) {
            style = style.add_modifier(Modifier::REVERSED);
        }
        buf.set_stringn(x0, g.header.y, &label, w, style);
    }
    if app.left > 0 {
        let s = format!("{}{}", if t.ascii { "<" } else { "◀" }, app.left);
        buf.set_string(g.header.x, g.header.y, s, t.fg(Color::Yellow));
    }
    let right = lanes_total.saturating_sub(app.left + shown.len() as u32);
    if right > 0 {
        let s = format!("{}{}", right, if t.ascii { ">" } else { "▶" });
        let x = g.header.x + g.header.w - s.chars().count() as u16;
        buf.set_string(x, g.header.y, s, t.fg(Color::Yellow));
    }
}

/// Gutter: row numbers.
fn gutter(v: &View, buf: &mut Buffer) {
    let (g, t) = (v.g, v.t);
    for r in v.top..v.bottom {
        let label = format!("{:>w$}", r + 1, w = g.gutter as usize - 1);
        buf.set_string(g.rows.x, v.y(r), label, t.fg(Color::DarkGray));
    }
}

/// Program-order lines: from each lane's first shown event to its last.
fn program_order_lines(v: &View, buf: &mut Buffer) {
    let (app, t) = (v.app, v.t);
    let m = &app.model;
    let (top, bottom) = (v.top, v.bottom);
    let dim = t.fg(Color::DarkGray);
    for (i, &l) in v.shown.iter().enumerate() {
        if m.graph.lane_len(l) == 0 {
            continue;
        }
        let first_in = m.lane_at_row(l, top);
        let end_in = m.lane_at_row(l, bottom);
        let shown_rows: Vec<u32> = m
            .graph
            .lane_nodes(l, first_in..end_in)
            .filter(|&k| app.visible(k))
            .map(|k| m.row[k as usize])
            .collect();
        let above = lane_has_shown(app, l, first_in, true);
        let below = lane_has_shown(app, l, end_in, false);
        let from = if above {
            Some(top)
        } else {
            shown_rows.first().copied()
        };
        let to = if below {
            Some(bottom)
        } else {
            shown_rows.last().map(|&r| r + 1)
        };
        if let (Some(from), Some(to)) = (from, to) {
            for r in from..to {
                buf.set_string(
                    v.lane_x(i as u16),
                    v.y(r),
                    t.line(Line4::V).to_string(),
                    dim,
                );
            }
        }
    }
}

/// The cells the cross edges of the window have taken, and the styles they are drawn in.
struct Edges {
    /// Per row in view and column of the rows area: a line or arrowhead is there.
    used: Vec<bool>,
    /// Per lane slot: the lane has a shown event on the row being drawn.
    occupied: Vec<bool>,
    edge: Style,
    edge_hot: Style,
}

/// Cross edges into each shown event of the window, on the receiver's row.
fn cross_edges(v: &View, buf: &mut Buffer) {
    let (app, g, t) = (v.app, v.g, v.t);
    let m = &app.model;
    let rows_in_view = g.rows.h as u32;
    let mut e = Edges {
        used: vec![false; (g.rows.w as usize) * (rows_in_view as usize)],
        occupied: vec![false; v.shown.len()],
        edge: t.fg(Color::Blue),
        edge_hot: t.fg(Color::Cyan).add_modifier(Modifier::BOLD),
    };
    for r in v.top..v.bottom {
        e.occupied.iter_mut().for_each(|o| *o = false);
        for &n in m.row_nodes(r) {
            if let Some(s) = v.slot_of[m.lane(n) as usize] {
                e.occupied[s as usize] |= app.visible(n);
            }
        }
        for &n in m.row_nodes(r) {
            let Some(sn) = v.slot_of[m.lane(n) as usize] else {
                continue;
            };
            if !app.visible(n) {
                continue;
            }
            let xn = v.lane_x(sn);
            for &p in m.graph.cross_preds(n) {
                if !app.visible(p) {
                    continue;
                }
                cross_edge(v, buf, &mut e, r, (p, n), xn);
            }
        }
    }
}

/// The edge from `p` into `n` (drawn at column `xn`) on row `r`: its arrowhead always, the line
/// to the sender when it is unambiguous.
fn cross_edge(v: &View, buf: &mut Buffer, e: &mut Edges, r: u32, (p, n): (u32, u32), xn: u16) {
    let (app, g, t) = (v.app, v.g, v.t);
    let m = &app.model;
    let ox = g.rows.x;
    let y = v.y(r);
    let hot = app.selected.is_some_and(|s| s == n || s == p)
        || app.detail_read.as_ref().is_some_and(|d| d.on_path(p, n));
    let style = if hot { e.edge_hot } else { e.edge };
    let lp = m.lane(p);
    let sender_slot = v.slot_of[lp as usize];
    // Lanes are shown in rank order, so the sender is to the left exactly when its
    // rank is smaller (also when its lane is scrolled out or hidden).
    let rightward = lp < m.lane(n);
    let arrow_x = if rightward { xn - 2 } else { xn + 2 };
    let arrow = if rightward {
        Line4::ArrowRight
    } else {
        Line4::ArrowLeft
    };
    let (x_from, x_to) = match sender_slot {
        Some(sp) => {
            let xp = v.lane_x(sp);
            if rightward {
                (xp + 1, arrow_x)
            } else {
                (arrow_x + 1, xp)
            }
        }
        // Sender scrolled out: the line runs from the edge of the lanes.
        None if rightward => (ox + g.gutter, arrow_x),
        None => (arrow_x + 1, ox + g.rows.w),
    };
    let row_base = (r - v.top) as usize * g.rows.w as usize;
    // A line is drawn only when it is unambiguous: the sender's lane has no other
    // event on this row and no other line is in the way.
    let free = sender_slot.is_none_or(|sp| !e.occupied[sp as usize])
        && (x_from..x_to).all(|x| !e.used[row_base + (x - ox) as usize]);
    if free {
        for x in x_from..x_to {
            e.used[row_base + (x - ox) as usize] = true;
            let cell = &mut buf[(x, y)];
            let c = match cell.symbol() {
                "│" | "|" => t.line(Line4::Cross),
                " " => t.line(Line4::H),
                _ => continue,
            };
            cell.set_char(c).set_style(style);
        }
        if let Some(sp) = sender_slot {
            let xp = v.lane_x(sp);
            let cell = &mut buf[(xp, y)];
            let c = match (cell.symbol(), rightward) {
                ("│" | "|", true) => Some(t.line(Line4::TeeRight)),
                ("│" | "|", false) => Some(t.line(Line4::TeeLeft)),
                (" ", true) => Some(t.line(Line4::CornerRight)),
                (" ", false) => Some(t.line(Line4::CornerLeft)),
                _ => None,
            };
            if let Some(c) = c {
                cell.set_char(c).set_style(style);
            }
        }
    }
    // The arrowhead alone is the compact marker when the line would overlap another.
    let cell = &mut buf[(arrow_x, y)];
    cell.set_char(t.line(arrow)).set_style(style);
    e.used[row_base + (arrow_x - ox) as usize] = true;
}

/// Events, last so they sit on top of lines.
fn events(v: &View, buf: &mut Buffer) {
    let (app, t) = (v.app, v.t);
    let m = &app.model;
    let chain: &[u32] = match &app.order {
        Some(Order::Before(c)) | Some(Order::After(c)) => c,
        _ => &[],
    };
    for r in v.top..v.bottom {
        let y = v.y(r);
        for &n in m.row_nodes(r) {
            let Some(sn) = v.slot_of[m.lane(n) as usize] else {
                continue;
            };
            if !app.visible(n) {
                continue;
            }
            let x = v.lane_x(sn);
            let (left, glyph_style, right) = event_look(app, t, n, chain.contains(&n));
            buf.set_string(x, y, t.glyph(m.glyph(n)).to_string(), glyph_style);
            if let Some((c, s)) = left {
                buf.set_string(x - 1, y, c.to_string(), s);
            }
            if let Some((c, s)) = right {
                buf.set_string(x + 1, y, c.to_string(), s);
            }
        }
    }
}

/// How one event looks: the decoration left of the glyph, the glyph's style, the decoration
/// right of it. Shapes carry the meaning; colour repeats it.
fn event_look(app: &App, t: &Theme, n: u32, in_chain: bool) -> (Deco, Style, Deco) {
    let m = &app.model;
    let flags = m.flags[n as usize];
    let mut style = Style::default();
    if flags & F_ERROR != 0 {
        style = t.fg(Color::Red);
    } else if flags & F_CONFLICT != 0 {
        style = t.fg(Color::Magenta);
    } else if flags & F_WARNING != 0 {
        style = t.fg(Color::Yellow);
    }
    let mut left: Deco = None;
    if let Some(c) = &app.cones {
        match c.relation(m, n) {
            Relation::Selected => {
                style = style.add_modifier(Modifier::REVERSED | Modifier::BOLD);
            }
            Relation::Past if app.show_past => {
                style = if t.color {
                    style.fg(Color::Blue).add_modifier(Modifier::BOLD)
                } else {
                    style.add_modifier(Modifier::BOLD)
                };
            }
            Relation::Future if app.show_future => {
                style = if t.color {
                    style.fg(Color::Green).add_modifier(Modifier::BOLD)
                } else {
                    style.add_modifier(Modifier::UNDERLINED)
                };
            }
            Relation::Concurrent => {
                left = Some((if t.ascii { '~' } else { '∥' }, t.fg(Color::Yellow)));
            }
            _ => {}
        }
    }
    if in_chain {
        style = style.add_modifier(Modifier::BOLD);
        left = Some(('*', t.fg(Color::Cyan).add_modifier(Modifier::BOLD)));
    }
    if let Some(digit) = read_view::witness_look(app, t, n) {
        style = style.add_modifier(Modifier::BOLD);
        left = Some(digit);
    }
    if app.mark == Some(n) {
        left = Some(('A', t.fg(Color::Cyan).add_modifier(Modifier::BOLD)));
    }
    if app.search.as_ref().is_some_and(|s| {
        s.matches
            .binary_search_by(|&k| {
                (m.row[k as usize], m.lane(k)).cmp(&(m.row[n as usize], m.lane(n)))
            })
            .is_ok()
    }) {
        style = style.add_modifier(Modifier::UNDERLINED);
    }
    let right: Deco = if flags & F_ERROR != 0 {
        Some(('!', t.fg(Color::Red).add_modifier(Modifier::BOLD)))
    } else if flags & F_CONFLICT != 0 {
        Some((
            if t.ascii { 'x' } else { '×' },
            t.fg(Color::Magenta).add_modifier(Modifier::BOLD),
        ))
    } else if flags & F_WARNING != 0 {
        Some(('?', t.fg(Color::Yellow)))
    } else if flags & F_SIBLING != 0 {
        Some((if t.ascii { '#' } else { '≠' }, t.fg(Color::Magenta)))
    } else {
        None
    };
    (left, style, right)
}
