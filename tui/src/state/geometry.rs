//! Where each part of the screen goes, from the terminal size alone: the [`Geometry`] both the
//! renderer and mouse clicks use, in plain numbers ([`Area`]) rather than ratatui's types.
//!
//! Separate so the layout can be computed (and tested) without a terminal.

use crate::model::Model;

/// A screen rectangle (plain numbers; the renderer turns it into ratatui's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Area {
    /// Left column.
    pub x: u16,
    /// Top row.
    pub y: u16,
    /// Width.
    pub w: u16,
    /// Height.
    pub h: u16,
}

impl Area {
    /// Whether the cell is inside.
    pub fn contains(&self, x: u16, y: u16) -> bool {
        x >= self.x && x < self.x + self.w && y >= self.y && y < self.y + self.h
    }
}

/// Smallest usable terminal.
pub const MIN_SIZE: (u16, u16) = (60, 14);

/// Where each part of the screen goes, from the terminal size alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// The diagram's block (with border).
    pub diagram: Area,
    /// Inside the border: the lane header row.
    pub header: Area,
    /// Inside the border: the event rows, gutter included.
    pub rows: Area,
    /// Row-number gutter width.
    pub gutter: u16,
    /// Columns per lane.
    pub lane_width: u16,
    /// The details block.
    pub details: Area,
    /// The findings block.
    pub findings: Area,
    /// The status bar (two lines: counts, then prompt or message).
    pub status: Area,
}

impl Geometry {
    /// Lays out a `w`×`h` terminal for `m`; `None` when it is too small.
    pub fn new(w: u16, h: u16, m: &Model) -> Option<Geometry> {
        if w < MIN_SIZE.0 || h < MIN_SIZE.1 {
            return None;
        }
        let status = Area {
            x: 0,
            y: h - 2,
            w,
            h: 2,
        };
        let body_h = h - 2;
        let side_w = (w * 2 / 5).clamp(30, 64);
        let diagram = Area {
            x: 0,
            y: 0,
            w: w - side_w,
            h: body_h,
        };
        let details_h = body_h * 3 / 5;
        let details = Area {
            x: diagram.w,
            y: 0,
            w: side_w,
            h: details_h,
        };
        let findings = Area {
            x: diagram.w,
            y: details_h,
            w: side_w,
            h: body_h - details_h,
        };
        let digits = m.rows.max(1).ilog10() as u16 + 1;
        let gutter = digits + 1;
        let longest = m
            .lane_names
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(1) as u16;
        let lane_width = (longest + 2).clamp(5, 12);
        let header = Area {
            x: 1,
            y: 1,
            w: diagram.w - 2,
            h: 1,
        };
        let rows = Area {
            x: 1,
            y: 2,
            w: diagram.w - 2,
            h: diagram.h.saturating_sub(3),
        };
        Some(Geometry {
            diagram,
            header,
            rows,
            gutter,
            lane_width,
            details,
            findings,
            status,
        })
    }

    /// How many lanes fit.
    pub fn lanes_fit(&self) -> u32 {
        // Four columns stay free on the right for the "N▶" count of lanes scrolled out.
        (self.rows.w.saturating_sub(self.gutter + 5) / self.lane_width).max(1) as u32
    }

    /// Column of lane slot `i`'s glyph, relative to the rows area.
    pub fn glyph_x(&self, i: u32) -> u16 {
        self.gutter + 1 + i as u16 * self.lane_width + self.lane_width / 2
    }
}
