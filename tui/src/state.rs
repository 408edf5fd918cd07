//! The TUI's state: plain data, no ratatui types, changed only by [`App::apply`].
//!
//! Every key, mouse event, timer tick and message from a source becomes an [`Action`]; the state
//! moves from one value to the next, and rendering reads it. That makes every behaviour testable
//! without a terminal: feed actions, look at the fields.

pub mod witness;

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use weft_trace::{EventId, Kind, Op, Sym};

use crate::live::{CollectorStats, LinkState};
use crate::model::{Model, ReplayOrder};

/// Everything the user or a source can ask of the state.
#[derive(Clone, Debug)]
pub enum Action {
    /// Leave the program.
    Quit,
    /// Close the overlay, clear the search or filter, or go back to the diagram.
    Back,
    /// Move up: previous event of the lane, or previous list entry.
    Up,
    /// Move down.
    Down,
    /// Move to the lane on the left.
    Left,
    /// Move to the lane on the right.
    Right,
    /// A page up.
    PageUp,
    /// A page down.
    PageDown,
    /// The first row (or list entry).
    Top,
    /// The last row (or list entry).
    Bottom,
    /// The first event of the lane.
    Home,
    /// The last event of the lane.
    End,
    /// Focus the next pane.
    NextPane,
    /// Focus the previous pane.
    PrevPane,
    /// Jump: to a send's or receive's partner, or to the finding under the cursor.
    Enter,
    /// Open the search prompt.
    StartSearch,
    /// Open the filter prompt.
    StartFilter,
    /// Next search match.
    SearchNext,
    /// Previous search match.
    SearchPrev,
    /// Select the next conflicting write.
    NextConflict,
    /// Select the next event with a violation.
    NextViolation,
    /// Toggle the causal-past highlight.
    TogglePast,
    /// Toggle the causal-future highlight.
    ToggleFuture,
    /// Mark the selected event as A of a "does A happen before B?" query.
    Mark,
    /// Hide the selected event's lane.
    HideLane,
    /// Show every hidden lane.
    ShowAllLanes,
    /// Scroll the lanes left without moving the selection.
    ScrollLeft,
    /// Scroll the lanes right.
    ScrollRight,
    /// Scroll the rows up.
    ScrollUp,
    /// Scroll the rows down.
    ScrollDown,
    /// Pause or resume: live following, or replay playback.
    TogglePause,
    /// Replay faster.
    Faster,
    /// Replay slower.
    Slower,
    /// Replay one event forward.
    StepForward,
    /// Replay one event back.
    StepBack,
    /// Switch the replay between arrival and causal order.
    ToggleReplayOrder,
    /// Rewind the replay to before the first event.
    RestartReplay,
    /// Show or hide the help overlay.
    Help,
    /// A character typed into the prompt.
    PromptInput(char),
    /// Delete the prompt's last character.
    PromptBackspace,
    /// Run the prompt.
    PromptSubmit,
    /// A mouse click at a terminal cell.
    Click {
        /// Column.
        x: u16,
        /// Row.
        y: u16,
    },
    /// The terminal has a new size.
    Resize {
        /// Columns.
        w: u16,
        /// Rows.
        h: u16,
    },
    /// Time passed (drives replay and the live rate).
    Tick(Duration),
    /// A new model: the loaded trace, or the live trace re-analysed.
    Model(Arc<Model>),
    /// The live link changed.
    Link(LinkState),
    /// The collector's counters.
    Stats(CollectorStats),
    /// Lines arrived from the live stream.
    Received(u64),
    /// The live source skipped something (a line over the limit, over the event cap).
    Skipped(String),
    /// The live source dropped this many events (over `--max-events`).
    Dropped(u64),
    /// The live source started or finished re-analysing.
    Analyzing(bool),
}

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

/// A live source's state.
#[derive(Clone, Debug)]
pub struct Live {
    /// The collector's URL.
    pub url: String,
    /// The link.
    pub link: LinkState,
    /// The collector's counters.
    pub stats: CollectorStats,
    /// Events received from the stream.
    pub received: u64,
    /// Arrival rate: events per second received over the last [`RATE_WINDOW`] (over the time
    /// since the first arrival while that is shorter, but at least a second).
    pub rate: f64,
    /// Keep the newest rows in view as events arrive.
    pub following: bool,
    /// The display is frozen; new models wait in `pending`.
    pub paused: bool,
    /// The newest model, held back while paused.
    pub pending: Option<Arc<Model>>,
    /// The layout is being rebuilt from scratch (a causality cycle).
    pub analyzing: bool,
    /// What the live source skipped, counted.
    pub skipped: u64,
    /// Time since the source started, as told by ticks.
    clock: Duration,
    /// The tick time of the first arrival.
    first: Option<Duration>,
    /// Events received since the last tick.
    unticked: u64,
    /// Events received per tick within the window: (tick time, events).
    arrivals: VecDeque<(Duration, u64)>,
    /// Their sum.
    in_window: u64,
}

/// The span the live rate is measured over: a sliding window, so events that come in bursts
/// (a collector's group commits, a backlog handed over at once) give a steady reading rather
/// than one that drops to zero between bursts.
pub const RATE_WINDOW: Duration = Duration::from_secs(2);

impl Live {
    /// A live source that has not connected yet.
    pub fn new(url: impl Into<String>) -> Live {
        Live {
            url: url.into(),
            link: LinkState::Connecting,
            stats: CollectorStats::default(),
            received: 0,
            rate: 0.0,
            following: true,
            paused: false,
            pending: None,
            analyzing: false,
            skipped: 0,
            clock: Duration::ZERO,
            first: None,
            unticked: 0,
            arrivals: VecDeque::new(),
            in_window: 0,
        }
    }
}

/// A replay of a recorded trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    /// Arrival or causal order.
    pub order: ReplayOrder,
    /// Events replayed so far: those at positions `< pos` are shown.
    pub pos: u32,
    /// Advancing by itself.
    pub playing: bool,
    /// Events per second while playing.
    pub speed: f64,
    carry: f64,
}

/// The replay speeds `+` and `-` step through.
const SPEEDS: [f64; 12] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1_000.0, 10_000.0, 100_000.0,
];

/// One term of a `:` filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    /// What it looks at.
    pub field: Field,
    /// Accepted values (any of them).
    pub values: Vec<String>,
    /// `!` or `!=`: reject instead.
    pub negate: bool,
}

/// A filterable field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The replica name.
    Replica,
    /// The key written or read.
    Key,
    /// The event kind.
    Kind,
    /// The write op.
    Op,
}

/// A parsed `:` filter: every term must accept an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// As typed.
    pub text: String,
    /// The terms.
    pub terms: Vec<Term>,
    compiled: Vec<Compiled>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Compiled {
    Lanes(BTreeSet<u32>, bool),
    Keys(BTreeSet<String>, bool),
    Kinds(Vec<Kind>, bool),
    Ops(Vec<Op>, bool),
}

impl Filter {
    /// Parses `field=value[,value...]` terms separated by spaces; `!field=v` or `field!=v`
    /// negates. Fields: replica (r), key (k), kind, op.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let mut terms = Vec::new();
        for word in text.split_whitespace() {
            let (mut negate, body) = match word.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, word),
            };
            let (name, values) = if let Some((n, v)) = body.split_once("!=") {
                negate = !negate;
                (n, v)
            } else if let Some((n, v)) = body.split_once('=') {
                (n, v)
            } else {
                return Err(format!(
                    "filter term `{word}`: expected field=value (fields: replica, key, kind, op)"
                ));
            };
            let field = match name {
                "replica" | "r" => Field::Replica,
                "key" | "k" => Field::Key,
                "kind" => Field::Kind,
                "op" => Field::Op,
                other => {
                    return Err(format!(
                        "filter term `{word}`: unknown field `{other}` (fields: replica, key, kind, op)"
                    ))
                }
            };
            let values: Vec<String> = values
                .split(',')
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect();
            if values.is_empty() {
                return Err(format!("filter term `{word}`: no value after `=`"));
            }
            for v in &values {
                match field {
                    Field::Kind if Kind::parse(v).is_none() => {
                        return Err(format!(
                            "filter term `{word}`: kind `{v}` is not one of write, read, send, recv, local"
                        ))
                    }
                    Field::Op if Op::parse(v).is_none() => {
                        return Err(format!(
                            "filter term `{word}`: op `{v}` is not one of set, inc, add, remove"
                        ))
                    }
                    _ => {}
                }
            }
            terms.push(Term {
                field,
                values,
                negate,
            });
        }
        Ok(Filter {
            text: text.trim().to_string(),
            terms,
            compiled: Vec::new(),
        })
    }

    /// Resolves names against a model (again after each live update).
    fn compile(&mut self, m: &Model) {
        self.compiled = self
            .terms
            .iter()
            .map(|t| match t.field {
                Field::Replica => Compiled::Lanes(
                    (0..m.lanes())
                        .filter(|&l| t.values.iter().any(|v| *v == m.lane_names[l as usize]))
                        .collect(),
                    t.negate,
                ),
                Field::Key => Compiled::Keys(t.values.iter().cloned().collect(), t.negate),
                Field::Kind => Compiled::Kinds(
                    t.values.iter().filter_map(|v| Kind::parse(v)).collect(),
                    t.negate,
                ),
                Field::Op => Compiled::Ops(
                    t.values.iter().filter_map(|v| Op::parse(v)).collect(),
                    t.negate,
                ),
            })
            .collect();
    }

    fn accepts(&self, m: &Model, n: u32) -> bool {
        let e = m.event(n);
        self.compiled.iter().all(|c| match c {
            Compiled::Lanes(set, neg) => set.contains(&m.lane(n)) != *neg,
            Compiled::Keys(set, neg) => e.key().is_some_and(|k| set.contains(m.sym(k))) != *neg,
            Compiled::Kinds(kinds, neg) => kinds.contains(&e.kind) != *neg,
            Compiled::Ops(ops, neg) => (e.kind == Kind::Write && ops.contains(&e.op)) != *neg,
        })
    }
}

/// A `/` search and its matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Search {
    /// As typed.
    pub query: String,
    /// Matching nodes in diagram order (row, then lane).
    pub matches: Vec<u32>,
}

/// A search's text, prepared: what [`App`] matches each event against.
struct SearchQuery {
    fold: bool,
    text: String,
    id: Option<EventId>,
}

impl SearchQuery {
    fn new(query: &str) -> SearchQuery {
        let fold = !query.chars().any(char::is_uppercase);
        let mut q = SearchQuery {
            fold,
            text: String::new(),
            id: EventId::parse_text(query),
        };
        q.text = q.norm(query);
        q
    }

    fn norm(&self, s: &str) -> String {
        if self.fold {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    }

    /// Whether node `n` matches: the replica name or id, or the key, value or attrs containing
    /// the text.
    fn hits(&self, m: &Model, n: u32) -> bool {
        let e = m.event(n);
        let name = &m.lane_names[m.lane(n) as usize];
        let q = &self.text;
        self.id
            .as_ref()
            .is_some_and(|id| id.replica == *name && id.seq == e.seq)
            || self.norm(name) == *q
            || e.key().is_some_and(|k| self.norm(m.sym(k)).contains(q))
            || m.value(n)
                .is_some_and(|v| self.norm(&v.to_string()).contains(q))
            || m.attrs(n).is_some_and(|a| {
                self.norm(&serde_json::Value::Object(a.clone()).to_string())
                    .contains(q)
            })
    }
}

/// The causal past and future of the selected event, one boundary per lane.
///
/// The past of an event meets each lane in a prefix and its future in a suffix (program order
/// is part of happens-before), so two offsets per lane describe both cones exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cones {
    /// The event.
    pub node: u32,
    /// Per lane: events at offsets below this are in the past.
    pub past_end: Vec<u32>,
    /// Per lane: events at offsets from this on are in the future.
    pub future_start: Vec<u32>,
}

/// Where an event stands relative to the selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// It is the selection.
    Selected,
    /// It happens before the selection.
    Past,
    /// It happens after.
    Future,
    /// Neither: concurrent.
    Concurrent,
}

impl Cones {
    /// Computes both cones of `node`, visiting each event of the cones once.
    pub fn of(m: &Model, node: u32) -> Cones {
        Cones::window(m, node, 0, u32::MAX)
    }

    /// Both cones of `node`, exact for every event whose row is in `lo..hi` (and for events of
    /// `node`'s own lane); elsewhere they may be incomplete.
    ///
    /// Rows strictly increase along every edge of an acyclic graph, so a path between the
    /// selection and an event in the window never leaves the rows between them: the walk stops
    /// at the window's edge and costs only the events in view, whatever the trace's size. Traces
    /// with a causality cycle get the whole walk (their rows are not monotone).
    pub fn window(m: &Model, node: u32, lo: u32, hi: u32) -> Cones {
        let (lo, hi) = if m.monotone { (lo, hi) } else { (0, u32::MAX) };
        let g = &m.graph;
        let lanes = m.lanes() as usize;
        let row = |n: u32| m.row[n as usize];

        let mut past_end = vec![0u32; lanes];
        let mut work: Vec<(u32, u32)> = vec![(g.lane(node), g.pos(node))];
        let preds_in = |n: u32, work: &mut Vec<(u32, u32)>| {
            work.extend(
                g.cross_preds(n)
                    .iter()
                    .filter(|&&p| row(p) >= lo)
                    .map(|&p| (g.lane(p), g.pos(p) + 1)),
            )
        };
        preds_in(node, &mut work);
        while let Some((l, upto)) = work.pop() {
            let have = past_end[l as usize];
            if upto <= have {
                continue;
            }
            past_end[l as usize] = upto;
            let from = if lo == 0 {
                have
            } else {
                have.max(m.lane_at_row(l, lo))
            };
            for k in g.lane_nodes(l, from..upto) {
                preds_in(k, &mut work);
            }
        }

        let mut future_start: Vec<u32> = (0..lanes as u32).map(|l| g.lane_len(l)).collect();
        let mut work: Vec<(u32, u32)> = vec![(g.lane(node), g.pos(node) + 1)];
        let succs_in = |n: u32, work: &mut Vec<(u32, u32)>| {
            work.extend(
                g.cross_succs(n)
                    .iter()
                    .filter(|&&s| row(s) < hi)
                    .map(|&s| (g.lane(s), g.pos(s))),
            )
        };
        succs_in(node, &mut work);
        while let Some((l, from)) = work.pop() {
            let have = future_start[l as usize];
            if from >= have {
                continue;
            }
            future_start[l as usize] = from;
            let upto = if hi == u32::MAX {
                have
            } else {
                have.min(m.lane_at_row(l, hi))
            };
            for k in g.lane_nodes(l, from..upto) {
                succs_in(k, &mut work);
            }
        }
        Cones {
            node,
            past_end,
            future_start,
        }
    }

    /// Per lane, how many events are in the causal past of `node` (the future is not walked):
    /// a vector clock read off the graph.
    pub fn past_of(m: &Model, node: u32) -> Vec<u32> {
        // The future walk of a window that starts past the last row costs nothing.
        Cones::window(m, node, 0, 0).past_end
    }

    /// Where `n` stands relative to the cones' event.
    pub fn relation(&self, m: &Model, n: u32) -> Relation {
        if n == self.node {
            return Relation::Selected;
        }
        let l = m.lane(n);
        let o = m.graph.pos(n);
        if o < self.past_end[l as usize] {
            Relation::Past
        } else if o >= self.future_start[l as usize] {
            Relation::Future
        } else {
            Relation::Concurrent
        }
    }
}

/// The answer to "does A (the mark) happen before B (the selection)?".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Order {
    /// The same event.
    Same,
    /// A happens before B; the chain of direct edges proves it, A first.
    Before(Vec<u32>),
    /// B happens before A; the chain, B first.
    After(Vec<u32>),
    /// Neither.
    Concurrent,
}

/// Shortest chain of direct edges from `a` to `b`, if `a` happens before `b`.
///
/// The search walks back from `b` and never below `a`'s row: rows strictly increase along
/// edges, so no path from `a` goes there. Traces with a cycle are searched whole.
pub fn chain(m: &Model, a: u32, b: u32) -> Option<Vec<u32>> {
    use std::collections::HashMap;
    let floor = if m.monotone { m.row[a as usize] } else { 0 };
    if a == b || m.row[b as usize] < floor {
        return None;
    }
    let mut came_from: HashMap<u32, u32> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([b]);
    came_from.insert(b, b);
    while let Some(n) = queue.pop_front() {
        if n == a {
            let mut path = vec![a];
            let mut at = a;
            while at != b {
                at = came_from[&at];
                path.push(at);
            }
            return Some(path);
        }
        for p in m.graph.preds(n) {
            if m.row[p as usize] >= floor && !came_from.contains_key(&p) {
                came_from.insert(p, n);
                queue.push_back(p);
            }
        }
    }
    None
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
}

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

    /// Applies one action.
    pub fn apply(&mut self, action: Action) {
        let from_user = !matches!(
            action,
            Action::Tick(_)
                | Action::Received(_)
                | Action::Stats(_)
                | Action::Model(_)
                | Action::Analyzing(_)
                | Action::Dropped(_)
                | Action::Link(_)
                | Action::Skipped(_)
                | Action::Resize { .. }
        );
        if from_user {
            self.message = None;
        }
        let before = (self.selected, self.top);
        let in_diagram = self.focus == Pane::Diagram;
        let to_bottom = matches!(action, Action::Bottom) && in_diagram;
        // Towards older events: browsing history, even where the view cannot move further.
        let back = in_diagram
            && matches!(
                action,
                Action::Up | Action::PageUp | Action::Top | Action::Home | Action::ScrollUp
            );
        self.dispatch(action);
        // Live: the view follows new events until the user goes somewhere else; G follows again.
        if let Some(live) = &mut self.live {
            if to_bottom {
                live.following = true;
            } else if back || (from_user && (self.selected, self.top) != before) {
                live.following = false;
            }
        }
        self.refresh_cones();
    }

    fn dispatch(&mut self, action: Action) {
        match action {
            Action::Quit => self.quit = true,
            Action::Back => self.back(),
            Action::Help => {
                self.overlay = if self.overlay == Overlay::Help {
                    Overlay::None
                } else {
                    Overlay::Help
                }
            }
            Action::Up => self.vertical(-1),
            Action::Down => self.vertical(1),
            Action::PageUp => self.vertical(-(self.page_rows() as i64)),
            Action::PageDown => self.vertical(self.page_rows() as i64),
            Action::Left => self.horizontal(-1),
            Action::Right => self.horizontal(1),
            Action::Top => match self.focus {
                Pane::Diagram => self.select(self.first_visible()),
                _ => self.list_move(i64::MIN / 2),
            },
            Action::Bottom => match self.focus {
                Pane::Diagram => self.select(self.last_visible()),
                _ => self.list_move(i64::MAX / 2),
            },
            Action::Home | Action::End => {
                if let Some(n) = self.selected {
                    let pick = {
                        let g = &self.model.graph;
                        let lane = g.lane(n);
                        let mut run = g.lane_nodes(lane, 0..g.lane_len(lane));
                        if matches!(action, Action::Home) {
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
            Action::NextPane | Action::PrevPane => {
                let forward = matches!(action, Action::NextPane);
                self.focus = match (self.focus, forward) {
                    (Pane::Diagram, true) | (Pane::Violations, false) => Pane::Conflicts,
                    (Pane::Conflicts, true) | (Pane::Diagram, false) => Pane::Violations,
                    (Pane::Violations, true) | (Pane::Conflicts, false) => Pane::Diagram,
                };
                if self.focus != Pane::Diagram {
                    self.findings_list = self.focus;
                }
            }
            Action::Enter => self.enter(),
            Action::StartSearch => {
                self.overlay = Overlay::Prompt {
                    kind: PromptKind::Search,
                    text: String::new(),
                }
            }
            Action::StartFilter => {
                self.overlay = Overlay::Prompt {
                    kind: PromptKind::Filter,
                    text: self
                        .filter
                        .as_ref()
                        .map(|f| f.text.clone())
                        .unwrap_or_default(),
                }
            }
            Action::PromptInput(c) => {
                if let Overlay::Prompt { text, .. } = &mut self.overlay {
                    if text.len() < 256 {
                        text.push(c);
                    }
                }
            }
            Action::PromptBackspace => {
                if let Overlay::Prompt { text, .. } = &mut self.overlay {
                    text.pop();
                }
            }
            Action::PromptSubmit => self.submit(),
            Action::SearchNext => self.search_step(true),
            Action::SearchPrev => self.search_step(false),
            Action::NextConflict => self.next_conflict(),
            Action::NextViolation => self.next_violation(),
            Action::TogglePast => self.show_past = !self.show_past,
            Action::ToggleFuture => self.show_future = !self.show_future,
            Action::Mark => {
                self.mark = if self.mark == self.selected {
                    None
                } else {
                    self.selected
                };
                self.update_order();
            }
            Action::HideLane => self.hide_lane(),
            Action::ShowAllLanes => {
                self.hidden.clear();
                self.clamp_view();
            }
            Action::ScrollLeft => self.left = self.left.saturating_sub(1),
            Action::ScrollRight => {
                self.left += 1;
                self.clamp_view();
            }
            Action::ScrollUp => self.top = self.top.saturating_sub(3),
            Action::ScrollDown => {
                self.top += 3;
                self.clamp_view();
            }
            Action::TogglePause => self.toggle_pause(),
            Action::Faster | Action::Slower => self.change_speed(matches!(action, Action::Faster)),
            Action::StepForward => self.step(1),
            Action::StepBack => self.step(-1),
            Action::ToggleReplayOrder => self.toggle_order(),
            Action::RestartReplay => {
                if let Some(r) = &mut self.replay {
                    r.pos = 0;
                    r.playing = false;
                    r.carry = 0.0;
                    self.select(None);
                }
            }
            Action::Click { x, y } => self.click(x, y),
            Action::Resize { w, h } => {
                self.size = (w, h);
                self.clamp_view();
                if let Some(n) = self.selected {
                    self.scroll_to(n);
                }
            }
            Action::Tick(dt) => self.tick(dt),
            Action::Model(m) => self.set_model(m),
            Action::Link(link) => {
                if let Some(live) = &mut self.live {
                    live.link = link;
                }
            }
            Action::Stats(stats) => {
                if let Some(live) = &mut self.live {
                    live.stats = stats;
                }
            }
            Action::Received(k) => {
                if let Some(live) = &mut self.live {
                    live.received += k;
                    live.unticked += k;
                    live.first.get_or_insert(live.clock);
                }
            }
            Action::Skipped(why) => {
                if let Some(live) = &mut self.live {
                    live.skipped += 1;
                }
                self.message = Some(why);
            }
            Action::Dropped(k) => {
                if let Some(live) = &mut self.live {
                    live.skipped += k;
                }
            }
            Action::Analyzing(on) => {
                if let Some(live) = &mut self.live {
                    live.analyzing = on;
                }
            }
        }
    }

    fn back(&mut self) {
        if self.overlay != Overlay::None {
            self.overlay = Overlay::None;
        } else if self.focus != Pane::Diagram {
            self.focus = Pane::Diagram;
        } else if self.detail_conflict.is_some() {
            self.set_detail_conflict(None);
        } else if self.detail_read.is_some() {
            self.detail_read = None;
        } else if self.mark.is_some() {
            self.mark = None;
            self.order = None;
        } else if self.search.is_some() {
            self.search = None;
        } else if self.filter.is_some() {
            self.filter = None;
        }
    }

    /// Up/down: program order in the diagram, the cursor in a list.
    fn vertical(&mut self, by: i64) {
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

    /// Left/right: the nearest event in the next shown lane that has one.
    fn horizontal(&mut self, by: i64) {
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

    fn list_move(&mut self, by: i64) {
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

    fn enter(&mut self) {
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

    fn submit(&mut self) {
        let Overlay::Prompt { kind, text } = std::mem::replace(&mut self.overlay, Overlay::None)
        else {
            return;
        };
        match kind {
            PromptKind::Search => {
                if text.is_empty() {
                    self.search = None;
                    return;
                }
                let matches = self.search_matches(&text);
                let count = matches.len();
                self.search = Some(Search {
                    query: text.clone(),
                    matches,
                });
                if count == 0 {
                    self.message = Some(format!("no event matches `{text}`"));
                } else {
                    self.search_step(true);
                    self.message = Some(format!("{count} events match `{text}`"));
                }
            }
            PromptKind::Filter => {
                if text.trim().is_empty() {
                    self.filter = None;
                    return;
                }
                match Filter::parse(&text) {
                    Ok(mut f) => {
                        f.compile(&self.model);
                        self.filter = Some(f);
                        if let Some(n) = self.selected.filter(|&n| !self.visible(n)) {
                            let near = self.model.nearest_in_lane(
                                self.model.lane(n),
                                self.model.row[n as usize],
                                |k| self.visible(k),
                            );
                            self.select(near.or_else(|| self.first_visible()));
                        }
                    }
                    Err(e) => self.message = Some(e),
                }
            }
        }
    }

    /// Events matching a search: the replica name or id, or the key, value or attrs containing
    /// the text (case-insensitive unless the query has capitals), in diagram order.
    fn search_matches(&self, query: &str) -> Vec<u32> {
        let m = &self.model;
        let q = SearchQuery::new(query);
        let mut out = Vec::new();
        for r in 0..m.rows {
            out.extend(m.row_nodes(r).iter().copied().filter(|&n| q.hits(m, n)));
        }
        out
    }

    /// The matches of `query` in the model, from its `matches` in the model before, when the
    /// model grew from it: only the nodes added or moved to another row since are looked at.
    fn grown_matches(&self, query: &str, matches: &[u32], changed: &[u32]) -> Vec<u32> {
        let m = &self.model;
        let q = SearchQuery::new(query);
        let key = |n: u32| (m.row[n as usize], m.lane(n));
        let mut added: Vec<u32> = changed.iter().copied().filter(|&n| q.hits(m, n)).collect();
        added.sort_unstable_by_key(|&n| key(n));
        // The others kept their rows, so their order.
        let kept = matches
            .iter()
            .copied()
            .filter(|n| changed.binary_search(n).is_err());
        let mut out = Vec::with_capacity(matches.len() + added.len());
        let mut added = added.into_iter().peekable();
        for n in kept {
            while let Some(a) = added.next_if(|&a| key(a) < key(n)) {
                out.push(a);
            }
            out.push(n);
        }
        out.extend(added);
        out
    }

    /// The diagram position (row, lane) of a node, for "next in reading order".
    fn pos_of(&self, n: u32) -> (u32, u32) {
        (self.model.row[n as usize], self.model.lane(n))
    }

    fn search_step(&mut self, forward: bool) {
        let Some(s) = &self.search else {
            self.message = Some("no search yet: press / to search".to_string());
            return;
        };
        let here = self.selected.map(|n| self.pos_of(n));
        let visible: Vec<u32> = s
            .matches
            .iter()
            .copied()
            .filter(|&n| self.visible(n))
            .collect();
        if visible.is_empty() {
            self.message = Some(format!("no shown event matches `{}`", s.query));
            return;
        }
        let pick = if forward {
            visible
                .iter()
                .copied()
                .find(|&n| here.is_none_or(|h| self.pos_of(n) > h))
                .or_else(|| {
                    self.message = Some("search wrapped to the top".to_string());
                    visible.first().copied()
                })
        } else {
            visible
                .iter()
                .rev()
                .copied()
                .find(|&n| here.is_none_or(|h| self.pos_of(n) < h))
                .or_else(|| {
                    self.message = Some("search wrapped to the bottom".to_string());
                    visible.last().copied()
                })
        };
        self.select(pick);
    }

    fn next_conflict(&mut self) {
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

    fn next_violation(&mut self) {
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

    fn hide_lane(&mut self) {
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

    fn toggle_pause(&mut self) {
        if let Some(live) = &mut self.live {
            live.paused = !live.paused;
            if !live.paused {
                if let Some(m) = live.pending.take() {
                    self.set_model(m);
                }
            }
            return;
        }
        let n = self.model.len() as u32;
        if let Some(r) = &mut self.replay {
            if r.playing {
                r.playing = false;
            } else {
                if r.pos >= n {
                    r.pos = 0;
                }
                r.playing = true;
                r.carry = 0.0;
            }
        }
    }

    fn change_speed(&mut self, faster: bool) {
        let Some(r) = &mut self.replay else {
            self.message = Some("speed applies to replays".to_string());
            return;
        };
        let i = SPEEDS
            .iter()
            .position(|&s| s >= r.speed)
            .unwrap_or(SPEEDS.len() - 1);
        let i = if faster {
            (i + 1).min(SPEEDS.len() - 1)
        } else {
            i.saturating_sub(1)
        };
        r.speed = SPEEDS[i];
    }

    fn step(&mut self, by: i32) {
        let n = self.model.len() as u32;
        let Some(r) = &mut self.replay else {
            self.message = Some("stepping applies to replays".to_string());
            return;
        };
        r.playing = false;
        r.pos = (r.pos as i64 + by as i64).clamp(0, n as i64) as u32;
        self.follow_replay();
    }

    /// Selects the newest replayed event.
    fn follow_replay(&mut self) {
        let Some(r) = &self.replay else { return };
        let node = r
            .pos
            .checked_sub(1)
            .and_then(|p| self.model.node_at(p, r.order));
        self.select(node);
    }

    fn toggle_order(&mut self) {
        let Some(r) = &mut self.replay else {
            self.message = Some("replay order applies to recorded traces".to_string());
            return;
        };
        // Keep the same events shown if possible: the new position is that of the newest one.
        let newest = r
            .pos
            .checked_sub(1)
            .and_then(|p| self.model.node_at(p, r.order));
        r.order = match r.order {
            ReplayOrder::Arrival => ReplayOrder::Causal,
            ReplayOrder::Causal => ReplayOrder::Arrival,
        };
        if let Some(n) = newest {
            r.pos = self.model.replay_pos(n, r.order) + 1;
        }
        self.follow_replay();
    }

    fn tick(&mut self, dt: Duration) {
        if let Some(live) = &mut self.live {
            live.clock += dt;
            if live.unticked > 0 {
                live.arrivals.push_back((live.clock, live.unticked));
                live.in_window += live.unticked;
                live.unticked = 0;
            }
            while let Some(&(t, k)) = live.arrivals.front() {
                if t + RATE_WINDOW > live.clock {
                    break;
                }
                live.arrivals.pop_front();
                live.in_window -= k;
            }
            live.rate = match live.first {
                Some(first) => {
                    let span = (live.clock - first).clamp(Duration::from_secs(1), RATE_WINDOW);
                    live.in_window as f64 / span.as_secs_f64()
                }
                None => 0.0,
            };
        }
        let n = self.model.len() as u32;
        let Some(r) = &mut self.replay else { return };
        if !r.playing {
            return;
        }
        r.carry += r.speed * dt.as_secs_f64();
        let steps = r.carry.floor();
        if steps >= 1.0 {
            r.carry -= steps;
            r.pos = (r.pos as f64 + steps).min(n as f64) as u32;
            if r.pos >= n {
                r.playing = false;
            }
            self.follow_replay();
        }
    }

    fn click(&mut self, x: u16, y: u16) {
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

/// How keys are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputMode {
    /// Commands.
    Normal,
    /// The help overlay is open: most keys close it.
    Help,
    /// Typing into the prompt.
    Prompt,
}
