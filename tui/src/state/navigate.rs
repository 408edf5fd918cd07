//! Moving around: the selection along lanes and rows, the cursors of the findings lists, jumps
//! to partners, conflicts and violations, hiding lanes, and mouse clicks.
//!
//! Separate from the reducer, which only routes actions here.

use super::{App, Pane};

impl App {
    /// Up/down: program order in the diagram, the cursor in a list.
    pub(super) fn vertical(&mut self, by: i64) {
        if self.focus != Pane::Diagram {
            self.list_move(by);
            return;
        }
        let Some(n) = self.selected else {
            self.select(self.first_visible());
            return;
        };
        let m = self.model.clone();
        if by.abs() == 1 {
            let step = |n: u32| {
                if by > 0 {
                    m.graph.next(n)
                } else {
                    m.graph.prev(n)
                }
            };
            let mut at = step(n);
            while let Some(k) = at {
                if self.visible(k) {
                    self.select(Some(k));
                    return;
                }
                at = step(k);
            }
            return;
        }
        // A page: the event of this lane nearest a page away, and the view moves a page too.
        let row = m.row[n as usize] as i64;
        let target = (row + by).clamp(0, m.rows.saturating_sub(1) as i64) as u32;
        let pick = m.nearest_in_lane(m.lane(n), target, |k| self.visible(k));
        self.top = (self.top as i64 + by).max(0) as u32;
        self.clamp_view();
        if pick.is_some() {
            self.select(pick);
        }
    }

    /// Home/End: the first (or last) shown event of the selection's lane.
    pub(super) fn lane_end(&mut self, home: bool) {
        if let Some(n) = self.selected {
            let pick = {
                let g = &self.model.graph;
                let lane = g.lane(n);
                let mut run = g.lane_nodes(lane, 0..g.lane_len(lane));
                if home {
                    run.find(|&m| self.visible(m))
                } else {
                    run.rev().find(|&m| self.visible(m))
                }
            };
            if pick.is_some() {
                self.select(pick);
            }
        }
    }

    /// Tab and Shift-Tab: the next (or previous) pane; a findings list focused stays the one
    /// shown.
    pub(super) fn cycle_pane(&mut self, forward: bool) {
        self.focus = match (self.focus, forward) {
            (Pane::Diagram, true) | (Pane::Violations, false) => Pane::Conflicts,
            (Pane::Conflicts, true) | (Pane::Diagram, false) => Pane::Violations,
            (Pane::Violations, true) | (Pane::Conflicts, false) => Pane::Diagram,
        };
        if self.focus != Pane::Diagram {
            self.findings_list = self.focus;
        }
    }

    /// Left/right: the nearest event in the next shown lane that has one.
    pub(super) fn horizontal(&mut self, by: i64) {
        if self.focus != Pane::Diagram {
            return;
        }
        let Some(n) = self.selected else {
            self.select(self.first_visible());
            return;
        };
        let m = self.model.clone();
        let lanes = self.visible_lanes();
        let row = m.row[n as usize];
        let Some(mut i) = lanes.iter().position(|&l| l == m.lane(n)) else {
            return;
        };
        loop {
            let next = i as i64 + by;
            if next < 0 || next >= lanes.len() as i64 {
                return;
            }
            i = next as usize;
            if let Some(k) = m.nearest_in_lane(lanes[i], row, |k| self.visible(k)) {
                self.select(Some(k));
                return;
            }
        }
    }

    fn list_len(&self) -> usize {
        match self.focus {
            Pane::Conflicts => self.model.report.conflicts.len(),
            Pane::Violations => self.model.report.violations.len(),
            Pane::Diagram => 0,
        }
    }

    pub(super) fn list_move(&mut self, by: i64) {
        let len = self.list_len() as i64;
        if len == 0 {
            return;
        }
        let cursor = match self.focus {
            Pane::Conflicts => &mut self.conflict_cursor,
            Pane::Violations => &mut self.violation_cursor,
            Pane::Diagram => return,
        };
        *cursor = (*cursor as i64 + by).clamp(0, len - 1) as usize;
    }

    pub(super) fn enter(&mut self) {
        match self.focus {
            Pane::Diagram => self.jump_partner(),
            Pane::Conflicts => {
                if let Some(c) = self.model.report.conflicts.get(self.conflict_cursor) {
                    let node = self.model.find(&c.a);
                    self.reveal(node);
                    self.set_detail_conflict(Some(self.conflict_cursor as u32));
                    self.focus = Pane::Diagram;
                }
            }
            Pane::Violations => {
                let Some(&v) = self.model.violations_by_code.get(self.violation_cursor) else {
                    return;
                };
                match self.model.violation_node[v as usize] {
                    Some(node) => {
                        self.reveal(Some(node));
                        self.set_detail_read(Some(v));
                        self.focus = Pane::Diagram;
                    }
                    None => {
                        self.message = Some("a malformed line has no event to show".to_string())
                    }
                }
            }
        }
    }

    /// Selects `node`, first making it visible (the replay moves on, its lane is shown).
    fn reveal(&mut self, node: Option<u32>) {
        let Some(n) = node else { return };
        self.hidden
            .remove(&self.model.lane_names[self.model.lane(n) as usize]);
        if let Some(r) = &mut self.replay {
            let pos = self.model.replay_pos(n, r.order);
            if pos >= r.pos {
                r.pos = pos + 1;
                r.playing = false;
            }
        }
        if self
            .filter
            .as_ref()
            .is_some_and(|f| !f.accepts(&self.model, n))
        {
            self.message = Some("the filter hides this event; Esc clears the filter".to_string());
        }
        self.select(Some(n));
    }

    /// From a send to its first receive and from a receive (or merge) to its first cross
    /// predecessor; repeated presses cycle through all partners.
    fn jump_partner(&mut self) {
        let Some(n) = self.selected else { return };
        let m = self.model.clone();
        let mut partners: Vec<u32> = m.graph.cross_preds(n).to_vec();
        partners.extend_from_slice(m.graph.cross_succs(n));
        if partners.is_empty() {
            self.message = Some(format!("{} has no partner on another replica", m.id(n)));
            return;
        }
        self.reveal(Some(partners[0]));
    }

    pub(super) fn next_conflict(&mut self) {
        let total = self.model.report.conflicts.len();
        if total == 0 {
            self.message = Some("no conflicts".to_string());
            return;
        }
        let next = match self.detail_conflict {
            Some(c) => (c as usize + 1) % total,
            None => self.conflict_cursor.min(total - 1),
        };
        self.conflict_cursor = next;
        let node = self.model.find(&self.model.report.conflicts[next].a);
        self.reveal(node);
        self.set_detail_conflict(Some(next as u32));
    }

    pub(super) fn next_violation(&mut self) {
        let order = &self.model.violations_by_code;
        let total = order.len();
        if total == 0 {
            self.message = Some("no violations".to_string());
            return;
        }
        // The next violation (in the pane's order) attached to an event.
        let current = self.selected.and_then(|n| {
            let at = order
                .iter()
                .position(|&v| self.model.violation_node[v as usize] == Some(n))?;
            (at == self.violation_cursor).then_some(at)
        });
        let start = current.map_or(self.violation_cursor, |c| c + 1);
        for k in 0..total {
            let i = (start + k) % total;
            if let Some(node) = self.model.violation_node[order[i] as usize] {
                let v = order[i];
                self.violation_cursor = i;
                self.reveal(Some(node));
                self.set_detail_read(Some(v));
                return;
            }
        }
        self.message = Some("only malformed lines: no event to show".to_string());
    }

    pub(super) fn hide_lane(&mut self) {
        let Some(n) = self.selected else { return };
        let lane = self.model.lane(n);
        if self.visible_lanes().len() <= 1 {
            self.message = Some("the last shown lane cannot be hidden".to_string());
            return;
        }
        let name = self.model.lane_names[lane as usize].clone();
        self.message = Some(format!("lane {name} hidden; X shows every lane"));
        self.hidden.insert(name);
        let row = self.model.row[n as usize];
        let lanes = self.visible_lanes();
        let pick = lanes
            .iter()
            .filter_map(|&l| self.model.nearest_in_lane(l, row, |k| self.visible(k)))
            .min_by_key(|&k| self.model.row[k as usize].abs_diff(row));
        self.clamp_view();
        self.select(pick);
    }

    pub(super) fn click(&mut self, x: u16, y: u16) {
        let Some(g) = self.geometry() else { return };
        if g.details.contains(x, y) || g.status.contains(x, y) {
            return;
        }
        if g.findings.contains(x, y) {
            return;
        }
        if !g.rows.contains(x, y) {
            return;
        }
        self.focus = Pane::Diagram;
        let row = self.top + (y - g.rows.y) as u32;
        let rel = x - g.rows.x;
        if rel < g.gutter + 1 {
            return;
        }
        let slot = ((rel - g.gutter - 1) / g.lane_width) as u32;
        let lanes = self.visible_lanes();
        let Some(&lane) = lanes.get((self.left + slot) as usize) else {
            return;
        };
        let pick = self
            .model
            .row_nodes(row)
            .iter()
            .copied()
            .find(|&k| self.model.lane(k) == lane && self.visible(k));
        if pick.is_some() {
            self.select(pick);
        }
    }
}
