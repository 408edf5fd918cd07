//! The TUI's state: plain data, no ratatui types, changed only by [`App::apply`].
//!
//! Every key, mouse event, timer tick and message from a source becomes an [`Action`]; the state
//! moves from one value to the next, and rendering reads it. That makes every behaviour testable
//! without a terminal: feed actions, look at the fields.

mod action;
mod cone;
mod dispatch;
mod filter;
mod geometry;
mod loading;
mod navigate;
mod playback;
mod prompt;
mod search;
pub mod witness;

use std::collections::BTreeSet;
use std::sync::Arc;

use weft_trace::Sym;

use crate::model::{Model, ReplayOrder};

pub use action::{Action, InputMode};
pub use cone::{chain, Cones, Order, Relation};
pub use filter::{Field, Filter, Term};
pub use geometry::{Area, Geometry, MIN_SIZE};
pub use playback::{Live, Replay, RATE_WINDOW};
pub use search::Search;

/// Display options fixed at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Colours (off with `NO_COLOR` or `--no-color`).
    pub color: bool,
    /// ASCII glyphs and lines only.
    pub ascii: bool,
    /// Mouse capture (`--mouse`).
    pub mouse: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            color: true,
            ascii: false,
            mouse: false,
        }
    }
}

/// The panes `Tab` cycles through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    /// The time-space diagram.
    Diagram,
    /// The conflicts list.
    Conflicts,
    /// The violations list.
    Violations,
}

/// What the prompt line is asking for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    /// `/` search.
    Search,
    /// `:` filter.
    Filter,
}

/// What is drawn over the screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overlay {
    /// Nothing.
    None,
    /// The key list.
    Help,
    /// A prompt being typed.
    Prompt {
        /// Search or filter.
        kind: PromptKind,
        /// The text so far.
        text: String,
    },
}

/// The whole TUI state.
pub struct App {
    /// What is shown.
    pub model: Arc<Model>,
    /// Where it comes from (a file list or a URL), for the status bar.
    pub source: String,
    /// The live source, if following a collector.
    pub live: Option<Live>,
    /// Display options.
    pub config: Config,
    /// Terminal size.
    pub size: (u16, u16),
    /// First row shown.
    pub top: u32,
    /// First lane shown, as an index into [`App::visible_lanes`].
    pub left: u32,
    /// Hidden replicas, by name (names survive live updates; lane numbers do not).
    pub hidden: BTreeSet<String>,
    /// The selected event.
    pub selected: Option<u32>,
    /// Its cones, exact for the rows in `cones_rows`.
    pub cones: Option<Cones>,
    /// The rows the cones are exact for.
    pub cones_rows: (u32, u32),
    /// The latest common past of the conflict in the details pane, one event per lane.
    pub fork: Option<Vec<u32>>,
    /// Highlight the causal past.
    pub show_past: bool,
    /// Highlight the causal future.
    pub show_future: bool,
    /// Event A of the happens-before query.
    pub mark: Option<u32>,
    /// A against the selection.
    pub order: Option<Order>,
    /// The focused pane.
    pub focus: Pane,
    /// The findings list shown (the last one focused).
    pub findings_list: Pane,
    /// Cursor in the conflicts list.
    pub conflict_cursor: usize,
    /// Cursor in the violations list (an index into [`Model::violations_by_code`]).
    pub violation_cursor: usize,
    /// The conflict shown side by side in the details pane.
    pub detail_conflict: Option<u32>,
    /// The read violation explained in the details pane, its witness chain in the diagram.
    pub detail_read: Option<witness::ReadDetail>,
    /// The last search.
    pub search: Option<Search>,
    /// The filter.
    pub filter: Option<Filter>,
    /// The replay, for recorded traces.
    pub replay: Option<Replay>,
    /// Overlay.
    pub overlay: Overlay,
    /// A one-line message for the status bar (errors, "no more matches").
    pub message: Option<String>,
    /// Set by [`Action::Quit`].
    pub quit: bool,
    /// While a trace opened with a first look is read whole: the events of the first look.
    pub loading: Option<u64>,
    /// Why the whole trace could not be read ([`Action::LoadFailed`]): the program ends with it.
    pub failed: Option<String>,
}

impl App {
    /// A state showing `model`.
    pub fn new(model: Arc<Model>, source: impl Into<String>, config: Config) -> App {
        let mut app = App {
            model,
            source: source.into(),
            live: None,
            config,
            size: (80, 24),
            top: 0,
            left: 0,
            hidden: BTreeSet::new(),
            selected: None,
            cones: None,
            cones_rows: (0, 0),
            fork: None,
            show_past: true,
            show_future: true,
            mark: None,
            order: None,
            focus: Pane::Diagram,
            findings_list: Pane::Conflicts,
            conflict_cursor: 0,
            violation_cursor: 0,
            detail_conflict: None,
            detail_read: None,
            search: None,
            filter: None,
            replay: None,
            overlay: Overlay::None,
            message: None,
            quit: false,
            loading: None,
            failed: None,
        };
        app.select(app.first_visible());
        app
    }

    /// A state following a live collector.
    pub fn live(url: &str, config: Config) -> App {
        let mut app = App::new(Arc::new(Model::empty()), url.to_string(), config);
        app.live = Some(Live::new(url));
        app
    }

    /// Starts the replay (recorded traces): at the end, or at the start and playing.
    pub fn with_replay(mut self, from_start: bool) -> App {
        let n = self.model.len() as u32;
        self.replay = Some(Replay {
            order: ReplayOrder::Arrival,
            pos: if from_start { 0 } else { n },
            playing: from_start,
            speed: 10.0,
            carry: 0.0,
        });
        if from_start {
            self.select(None);
        }
        self
    }

    /// The layout for the current size.
    pub fn geometry(&self) -> Option<Geometry> {
        Geometry::new(self.size.0, self.size.1, &self.model)
    }

    /// Lanes not hidden, in order.
    pub fn visible_lanes(&self) -> Vec<u32> {
        (0..self.model.lanes())
            .filter(|&l| !self.hidden.contains(&self.model.lane_names[l as usize]))
            .collect()
    }

    /// Whether the replay has reached node `n`.
    pub fn replayed(&self, n: u32) -> bool {
        match &self.replay {
            Some(r) => self.model.replay_pos(n, r.order) < r.pos,
            None => true,
        }
    }

    /// Whether `n` is drawn: replayed, passing the filter, on a shown lane.
    pub fn visible(&self, n: u32) -> bool {
        self.replayed(n)
            && self
                .filter
                .as_ref()
                .is_none_or(|f| f.accepts(&self.model, n))
            && !self
                .hidden
                .contains(&self.model.lane_names[self.model.lane(n) as usize])
    }

    /// Rows of events the diagram shows at once.
    pub fn page_rows(&self) -> u32 {
        self.geometry().map_or(10, |g| g.rows.h as u32).max(1)
    }

    fn first_visible(&self) -> Option<u32> {
        (0..self.model.rows)
            .flat_map(|r| self.model.row_nodes(r).iter().copied())
            .find(|&n| self.visible(n))
    }

    fn last_visible(&self) -> Option<u32> {
        (0..self.model.rows)
            .rev()
            .flat_map(|r| self.model.row_nodes(r).iter().rev().copied())
            .find(|&n| self.visible(n))
    }

    /// Selects `n`, scrolls it into view, and recomputes the cones and the query.
    pub fn select(&mut self, n: Option<u32>) {
        self.selected = n;
        if let (Some(c), Some(n)) = (self.detail_conflict, n) {
            if !self.model.conflicts_of(n).any(|k| k == c) {
                self.set_detail_conflict(None);
            }
        }
        self.keep_detail_read(n);
        if let Some(n) = n {
            self.scroll_to(n);
        }
        self.cones = None;
        self.refresh_cones();
        self.update_order();
    }

    /// Recomputes the selection's cones when the rows in view are not all inside the window
    /// they were computed for (a page of margin on each side, so scrolling rarely needs it).
    pub fn refresh_cones(&mut self) {
        let Some(n) = self.selected else {
            self.cones = None;
            return;
        };
        let h = self.page_rows();
        let (top, bottom) = (self.top, self.top + h);
        let fresh = self.cones.as_ref().is_some_and(|c| c.node == n)
            && self.cones_rows.0 <= top
            && bottom <= self.cones_rows.1;
        if !fresh {
            let lo = top.saturating_sub(h);
            let hi = bottom.saturating_add(h);
            self.cones = Some(Cones::window(&self.model, n, lo, hi));
            self.cones_rows = (lo, hi);
        }
    }

    /// Shows conflict `c` side by side in the details pane (and computes its fork point once).
    pub fn set_detail_conflict(&mut self, c: Option<u32>) {
        self.detail_conflict = c;
        if c.is_some() {
            self.detail_read = None;
        }
        self.fork = c.and_then(|c| {
            let conf = self.model.report.conflicts.get(c as usize)?;
            let (a, b) = (self.model.find(&conf.a)?, self.model.find(&conf.b)?);
            if let Some(fork) = self.fork_from_clocks(a, b) {
                return Some(fork);
            }
            let (pa, pb) = (
                Cones::past_of(&self.model, a),
                Cones::past_of(&self.model, b),
            );
            Some(
                (0..self.model.lanes())
                    .filter_map(|l| {
                        let seen = pa[l as usize].min(pb[l as usize]);
                        (seen > 0).then(|| self.model.graph.lane_node(l, seen - 1))
                    })
                    .collect(),
            )
        });
    }

    /// The fork point read off the two writes' vector clocks: exact, and O(replicas), when the
    /// analysis found every reported clock equal to the implied one (no `vc-mismatch`) and the
    /// trace is acyclic.
    fn fork_from_clocks(&self, a: u32, b: u32) -> Option<Vec<u32>> {
        let m = &self.model;
        let trusted = m.report.summary.complete
            && !m
                .report
                .violations
                .iter()
                .any(|v| v.code == weft_analyzer::Code::VcMismatch);
        if !trusted || !m.event(a).has_vc() || !m.event(b).has_vc() {
            return None;
        }
        let vb: std::collections::HashMap<Sym, u64> = m.vc(b).collect();
        let mut fork: Vec<u32> = m
            .vc(a)
            .filter_map(|(r, seq)| {
                let common = seq.min(*vb.get(&r)?);
                m.find_at(r, common)
            })
            .collect();
        fork.sort_unstable_by_key(|&n| m.lane(n));
        Some(fork)
    }

    fn update_order(&mut self) {
        self.order = match (self.mark, self.selected) {
            (Some(a), Some(b)) if a == b => Some(Order::Same),
            (Some(a), Some(b)) => Some(if let Some(c) = chain(&self.model, a, b) {
                Order::Before(c)
            } else if let Some(c) = chain(&self.model, b, a) {
                Order::After(c)
            } else {
                Order::Concurrent
            }),
            _ => None,
        };
    }

    /// Scrolls so that `n` is in view, with a little context around it.
    pub fn scroll_to(&mut self, n: u32) {
        let Some(g) = self.geometry() else { return };
        let h = g.rows.h as u32;
        let row = self.model.row[n as usize];
        let margin = (h / 5).min(3);
        if row < self.top + margin {
            self.top = row.saturating_sub(margin);
        } else if row + margin >= self.top + h {
            self.top = (row + margin + 1).saturating_sub(h);
        }
        let lanes = self.visible_lanes();
        if let Some(i) = lanes.iter().position(|&l| l == self.model.lane(n)) {
            let i = i as u32;
            let fit = g.lanes_fit();
            if i < self.left {
                self.left = i;
            } else if i >= self.left + fit {
                self.left = i + 1 - fit;
            }
        }
    }

    fn clamp_view(&mut self) {
        let h = self.page_rows();
        self.top = self
            .top
            .min(self.model.rows.saturating_sub(h.min(self.model.rows)));
        let lanes = self.visible_lanes().len() as u32;
        let fit = self.geometry().map_or(1, |g| g.lanes_fit());
        self.left = self.left.min(lanes.saturating_sub(fit));
    }

    /// Swaps in a new model (a live update or the first load), keeping the selection, the mark
    /// and the view on the same events; while following, a selection on the newest event (where
    /// `G` puts it) moves on to the new newest one.
    fn set_model(&mut self, m: Arc<Model>) {
        if let Some(live) = &mut self.live {
            if live.paused {
                live.pending = Some(m);
                return;
            }
        }
        let following = self.live.as_ref().is_some_and(|l| l.following);
        let at_newest =
            following && self.selected.is_some() && self.selected == self.last_visible();
        let old = std::mem::replace(&mut self.model, m);
        let remap = |n: Option<u32>, new: &Model| n.and_then(|n| new.find(&old.id(n)));
        let selected = remap(self.selected, &self.model);
        self.mark = remap(self.mark, &self.model);
        // The conflict shown stays shown if the new report still has it.
        let shown = self.detail_conflict.and_then(|c| {
            let c = old.report.conflicts.get(c as usize)?;
            let same = |d: &weft_analyzer::Conflict| d.key == c.key && d.a == c.a && d.b == c.b;
            self.model.report.conflicts.iter().position(same)
        });
        self.set_detail_conflict(shown.map(|c| c as u32));
        self.remap_detail_read(&old);
        self.conflict_cursor = self
            .conflict_cursor
            .min(self.model.report.conflicts.len().saturating_sub(1));
        self.violation_cursor = self
            .violation_cursor
            .min(self.model.report.violations.len().saturating_sub(1));
        if let Some(f) = &mut self.filter {
            f.compile(&self.model);
        }
        if let Some(s) = &self.search {
            let q = s.query.clone();
            let matches = match &self.model.changes {
                Some(c) if c.base == old.generation => self.grown_matches(&q, &s.matches, &c.nodes),
                _ => self.search_matches(&q),
            };
            self.search = Some(Search { query: q, matches });
        }
        if let Some(r) = &mut self.replay {
            r.pos = r.pos.min(self.model.len() as u32);
        }
        let keep_top = self.top;
        if at_newest {
            self.select(self.last_visible());
        } else {
            self.select(selected.or_else(|| {
                if following {
                    None
                } else {
                    self.first_visible()
                }
            }));
        }
        if following {
            let h = self.page_rows();
            self.top = self.model.rows.saturating_sub(h);
        } else if selected.is_none() {
            self.top = keep_top;
        }
        self.clamp_view();
    }

    /// The findings list to show: the one focused, else the last one focused.
    pub fn findings_tab(&self) -> Pane {
        match self.focus {
            Pane::Diagram => self.findings_list,
            p => p,
        }
    }

    /// What the keyboard is typing into.
    pub fn input_mode(&self) -> InputMode {
        match self.overlay {
            Overlay::None => InputMode::Normal,
            Overlay::Help => InputMode::Help,
            Overlay::Prompt { .. } => InputMode::Prompt,
        }
    }
}
