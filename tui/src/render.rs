//! Drawing: `render(&App, &mut Frame)` reads the state and writes cells, nothing else.
//!
//! Only the rows and lanes in view are visited, so a frame costs the same for a thousand events
//! as for a million.

pub mod read_view;

use ratatui::buffer::{Buffer, CellWidth};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;
use weft_trace::Sym;

use crate::keys::HELP;
use crate::live::LinkState;
use crate::model::{Glyph, Model, ReplayOrder, F_CONFLICT, F_ERROR, F_SIBLING, F_WARNING};
use crate::state::{App, Area, Geometry, Order, Overlay, Pane, PromptKind, Relation, MIN_SIZE};

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let Some(g) = Geometry::new(area.width, area.height, &app.model) else {
        too_small(app, frame, area);
        return;
    };
    let t = Theme::new(app);
    diagram(app, &g, &t, frame.buffer_mut());
    details(app, &g, &t, frame);
    findings(app, &g, &t, frame);
    status(app, &g, &t, frame);
    if app.overlay == Overlay::Help {
        help(&t, frame, area);
    }
}

pub(crate) fn rect(a: Area) -> Rect {
    Rect::new(a.x, a.y, a.w, a.h)
}

/// Colours and glyphs, resolved once per frame from the options.
pub(crate) struct Theme {
    pub(crate) color: bool,
    pub(crate) ascii: bool,
}

impl Theme {
    fn new(app: &App) -> Theme {
        Theme {
            color: app.config.color,
            ascii: app.config.ascii,
        }
    }

    pub(crate) fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    fn glyph(&self, g: Glyph) -> char {
        match (g, self.ascii) {
            (Glyph::Write, false) => '●',
            (Glyph::Read, false) => '○',
            (Glyph::Send, false) => '▲',
            (Glyph::Recv, false) => '▼',
            (Glyph::Merge, false) => '◆',
            (Glyph::Local, false) => '·',
            (Glyph::Write, true) => 'W',
            (Glyph::Read, true) => 'R',
            (Glyph::Send, true) => 'S',
            (Glyph::Recv, true) => 'V',
            (Glyph::Merge, true) => 'M',
            (Glyph::Local, true) => '.',
        }
    }

    fn line(&self, c: Line4) -> char {
        match (c, self.ascii) {
            (Line4::V, false) => '│',
            (Line4::H, false) => '─',
            (Line4::Cross, false) => '┼',
            (Line4::TeeRight, false) => '├',
            (Line4::TeeLeft, false) => '┤',
            (Line4::CornerRight, false) => '╰',
            (Line4::CornerLeft, false) => '╯',
            (Line4::ArrowRight, false) => '▸',
            (Line4::ArrowLeft, false) => '◂',
            (Line4::V, true) => '|',
            (Line4::H, true) => '-',
            (Line4::Cross, true) => '+',
            (Line4::TeeRight | Line4::TeeLeft | Line4::CornerRight | Line4::CornerLeft, true) => {
                '+'
            }
            (Line4::ArrowRight, true) => '>',
            (Line4::ArrowLeft, true) => '<',
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Line4 {
    V,
    H,
    Cross,
    TeeRight,
    TeeLeft,
    CornerRight,
    CornerLeft,
    ArrowRight,
    ArrowLeft,
}

pub(crate) fn block<'a>(title: String, focused: bool, t: &Theme) -> Block<'a> {
    let border = if focused {
        t.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        t.fg(Color::DarkGray)
    };
    Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(title, border))
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

fn diagram(app: &App, g: &Geometry, t: &Theme, buf: &mut Buffer) {
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
    let ox = g.rows.x;
    let oy = g.rows.y;
    let lane_x = |slot: u16| ox + g.glyph_x(slot as u32);

    // Lane headers, with counts of lanes scrolled out on either side.
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
        let x0 = lane_x(i as u16).saturating_sub(label.chars().count() as u16 / 2);
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

    // Gutter: row numbers.
    for r in top..bottom {
        let y = oy + (r - top) as u16;
        let label = format!("{:>w$}", r + 1, w = g.gutter as usize - 1);
        buf.set_string(ox, y, label, t.fg(Color::DarkGray));
    }

    // Program-order lines: from each lane's first shown event to its last.
    let dim = t.fg(Color::DarkGray);
    for (i, &l) in shown.iter().enumerate() {
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
                let y = oy + (r - top) as u16;
                buf.set_string(lane_x(i as u16), y, t.line(Line4::V).to_string(), dim);
            }
        }
    }

    // Cross edges into each shown event of the window, on the receiver's row.
    let edge = t.fg(Color::Blue);
    let edge_hot = t.fg(Color::Cyan).add_modifier(Modifier::BOLD);
    let mut used = vec![false; (g.rows.w as usize) * (rows_in_view as usize)];
    let mut occupied = vec![false; shown.len()];
    for r in top..bottom {
        let y = oy + (r - top) as u16;
        occupied.iter_mut().for_each(|o| *o = false);
        for &n in m.row_nodes(r) {
            if let Some(s) = slot_of[m.lane(n) as usize] {
                occupied[s as usize] |= app.visible(n);
            }
        }
        for &n in m.row_nodes(r) {
            let Some(sn) = slot_of[m.lane(n) as usize] else {
                continue;
            };
            if !app.visible(n) {
                continue;
            }
            let xn = lane_x(sn);
            for &p in m.graph.cross_preds(n) {
                if !app.visible(p) {
                    continue;
                }
                let hot = app.selected.is_some_and(|s| s == n || s == p)
                    || app.detail_read.as_ref().is_some_and(|d| d.on_path(p, n));
                let style = if hot { edge_hot } else { edge };
                let lp = m.lane(p);
                let sender_slot = slot_of[lp as usize];
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
                        let xp = lane_x(sp);
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
                let row_base = (r - top) as usize * g.rows.w as usize;
                // A line is drawn only when it is unambiguous: the sender's lane has no other
                // event on this row and no other line is in the way.
                let free = sender_slot.is_none_or(|sp| !occupied[sp as usize])
                    && (x_from..x_to).all(|x| !used[row_base + (x - ox) as usize]);
                if free {
                    for x in x_from..x_to {
                        used[row_base + (x - ox) as usize] = true;
                        let cell = &mut buf[(x, y)];
                        let c = match cell.symbol() {
                            "│" | "|" => t.line(Line4::Cross),
                            " " => t.line(Line4::H),
                            _ => continue,
                        };
                        cell.set_char(c).set_style(style);
                    }
                    if let Some(sp) = sender_slot {
                        let xp = lane_x(sp);
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
                used[row_base + (arrow_x - ox) as usize] = true;
            }
        }
    }

    // Events, last so they sit on top of lines.
    let chain: &[u32] = match &app.order {
        Some(Order::Before(c)) | Some(Order::After(c)) => c,
        _ => &[],
    };
    for r in top..bottom {
        let y = oy + (r - top) as u16;
        for &n in m.row_nodes(r) {
            let Some(sn) = slot_of[m.lane(n) as usize] else {
                continue;
            };
            if !app.visible(n) {
                continue;
            }
            let x = lane_x(sn);
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

pub(crate) type Deco = Option<(char, Style)>;

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

/// Nanoseconds since the epoch as UTC text, to the microsecond.
pub fn wall_text(ns: i64) -> String {
    // Every i64 of nanoseconds (years 1677 to 2262) is a date `time` represents.
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns))
        .expect("an i64 of nanoseconds is within time's range");
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// A duration in ns with its sign, in the analyzer's units (`+1.250 s`, `-40.000 ms`).
pub fn signed_duration(ns: i64) -> String {
    let sign = if ns < 0 { '-' } else { '+' };
    format!(
        "{sign}{}",
        weft_analyzer::human_ns(u128::from(ns.unsigned_abs()))
    )
}

/// Most vector-clock entries the details pane lists (the rest are counted).
const MAX_VC_SHOWN: usize = 64;

/// A reported clock's entries, by replica name.
fn sorted_vc(m: &Model, n: u32) -> Vec<(Sym, u64)> {
    let mut v: Vec<(Sym, u64)> = m.vc(n).collect();
    v.sort_by(|a, b| m.name(a.0).cmp(m.name(b.0)));
    v
}

fn details(app: &App, g: &Geometry, t: &Theme, frame: &mut Frame) {
    let m = &app.model;
    if let Some(c) = app.detail_conflict {
        conflict_detail(app, g, t, frame, c as usize);
        return;
    }
    if let Some(d) = &app.detail_read {
        read_view::read_detail(app, g, t, frame, d);
        return;
    }
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
    let kv = |lines: &mut Vec<Line>, k: &str, v: String| {
        lines.push(Line::from(vec![
            Span::styled(format!("{k:<8}"), key),
            Span::raw(v),
        ]));
    };
    if let Some(k) = e.key() {
        kv(&mut lines, "key", m.sym(k).to_string());
    }
    if e.kind == weft_trace::Kind::Write {
        kv(&mut lines, "op", e.op.as_str().to_string());
    }
    if let Some(v) = m.value(n) {
        kv(&mut lines, "value", v.to_string());
    }
    if let Some(msg) = e.msg() {
        kv(&mut lines, "msg", m.sym(msg).to_string());
    }
    if let Some(l) = e.lamport() {
        kv(&mut lines, "lamport", l.to_string());
    }
    if let Some(w) = e.wall_ns() {
        kv(&mut lines, "wall", wall_text(w));
        let lane = m.lane(n) as usize;
        let skew = match m.skew[lane] {
            Some((off, k)) => format!(
                "{} {} vs peers (from {k} messages)",
                m.lane_names[lane],
                signed_duration(off)
            ),
            None => "not estimable (no two-way messages)".to_string(),
        };
        kv(&mut lines, if t.ascii { "skew ~" } else { "skew ≈" }, skew);
    }
    if e.has_vc() {
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
        lines.push(Line::from(spans));
    }
    let parents = m.parents(n);
    if e.has_parents() {
        let text: Vec<String> = parents
            .iter()
            .map(|(s, q)| format!("{}@{q}", m.name(*s)))
            .collect();
        kv(
            &mut lines,
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
        kv(&mut lines, "edges", edges.join("  "));
    }
    if let Some(a) = m.attrs(n) {
        for (k, v) in a {
            kv(&mut lines, &format!(".{k}"), v.to_string());
        }
    }
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
    if let (Some(a), Some(order)) = (app.mark, &app.order) {
        lines.push(Line::raw(""));
        lines.push(order_line(m, a, n, order, t));
    }
    let p = Paragraph::new(lines).block(b).wrap(Wrap { trim: false });
    frame.render_widget(p, rect(g.details));
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

fn conflict_detail(app: &App, g: &Geometry, t: &Theme, frame: &mut Frame, c: usize) {
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
        &w.a_does,
        w.a_clocks,
        w.a_saw_of_b,
        &conf.b.replica,
    );
    let b_lines = side(
        &conf.b,
        &w.b_does,
        w.b_clocks,
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

/// First list entry shown so that `cursor` is in view of `h` rows.
fn list_offset(cursor: usize, h: usize) -> usize {
    cursor.saturating_sub(h.saturating_sub(1))
}

fn findings(app: &App, g: &Geometry, t: &Theme, frame: &mut Frame) {
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

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn status(app: &App, g: &Geometry, t: &Theme, frame: &mut Frame) {
    let m = &app.model;
    let s = &m.report.summary;
    let sep = Span::styled(" │ ", t.fg(Color::DarkGray));
    // Most important first, so a narrow terminal cuts the least useful part: the link, the
    // counts, the mode, and the source last.
    let mut spans: Vec<Span> = Vec::new();
    let mut mode: Vec<Span> = Vec::new();
    if let Some(live) = &app.live {
        {
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
        }
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
        spans.push(Span::styled(
            format!("replay {state} {}/{} {order} {}/s", r.pos, m.len(), r.speed),
            t.fg(Color::Cyan),
        ));
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
    let line2 = match &app.overlay {
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
    };
    frame.render_widget(Paragraph::new(vec![line1, line2]), rect(g.status));
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

#[cfg(test)]
mod wall_tests {
    use super::wall_text;

    #[test]
    fn wall_clocks_read_as_utc_dates_on_both_sides_of_the_epoch() {
        assert_eq!(wall_text(0), "1970-01-01 00:00:00.000000Z");
        assert_eq!(
            wall_text(1_700_000_000_123_456_789),
            "2023-11-14 22:13:20.123456Z"
        );
        assert_eq!(wall_text(-1), "1969-12-31 23:59:59.999999Z");
        assert_eq!(
            wall_text(951_782_400_000_000_000),
            "2000-02-29 00:00:00.000000Z"
        );
        assert_eq!(wall_text(i64::MIN), "1677-09-21 00:12:43.145224Z");
    }
}
