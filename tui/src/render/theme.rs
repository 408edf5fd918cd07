//! Colours and glyphs: the [`Theme`] resolved once per frame from the display options (colour or
//! not, Unicode or ASCII), the line pieces the diagram is drawn with, and the bordered block
//! every pane sits in.
//!
//! Separate so that every pane draws with the same choices, and the ASCII fallbacks sit next to
//! the characters they replace.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};

use crate::model::Glyph;
use crate::state::App;

/// Colours and glyphs, resolved once per frame from the options.
pub(crate) struct Theme {
    pub(crate) color: bool,
    pub(crate) ascii: bool,
}

impl Theme {
    pub(super) fn new(app: &App) -> Theme {
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

    pub(super) fn glyph(&self, g: Glyph) -> char {
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

    pub(super) fn line(&self, c: Line4) -> char {
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

/// The pieces lines and edges are drawn with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Line4 {
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

pub(crate) type Deco = Option<(char, Style)>;
