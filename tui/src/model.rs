//! What the TUI browses: a trace, its analysis, and the time-space layout of its events.
//!
//! A [`Model`] is immutable once built. Live sources build a new one as events arrive and swap
//! it in whole, so every view of the state always agrees with itself.

use weft_analyzer::{Analysis, CausalGraph, EdgeKind, Report, Severity};
use weft_trace::{EventId, Kind, Trace};

/// The event has a conflicting concurrent write.
pub const F_CONFLICT: u8 = 1;
/// The event has a violation of severity error.
pub const F_ERROR: u8 = 2;
/// The event has a violation of severity warning.
pub const F_WARNING: u8 = 4;
/// The event is one of the unresolved siblings of a register.
pub const F_SIBLING: u8 = 8;

/// How an event is drawn: the trace's kinds, plus merges (local events with cross parents).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Glyph {
    /// A write.
    Write,
    /// A read.
    Read,
    /// A send.
    Send,
    /// A receive.
    Recv,
    /// A local event that names parents on other replicas.
    Merge,
    /// Any other local event.
    Local,
}

/// A trace with its analysis and layout.
pub struct Model {
    /// The events.
    pub trace: Trace,
    /// Happens-before.
    pub graph: CausalGraph,
    /// A linear extension of happens-before (see [`Analysis::causal_order`]).
    pub causal_order: Vec<u32>,
    /// The findings.
    pub report: Report,
    /// Row of each node: its depth in happens-before, so edges always point down and
    /// concurrent events share rows.
    pub row: Vec<u32>,
    /// Number of rows.
    pub rows: u32,
    row_start: Vec<u32>,
    row_nodes: Vec<u32>,
    /// Finding bits of each node (`F_*`).
    pub flags: Vec<u8>,
    /// Position of each node in causal replay order.
    pub causal_pos: Vec<u32>,
    /// Nodes in causal replay order.
    causal_seq: Vec<u32>,
    /// The node each violation is attached to (`None` for malformed lines).
    pub violation_node: Vec<Option<u32>>,
    /// Violation indices grouped by code, then event: the order the violations pane lists.
    pub violations_by_code: Vec<u32>,
    /// `(node, conflict index)`, sorted: every conflict appears under both of its writes.
    conflict_of: Vec<(u32, u32)>,
    /// Replica name of each lane (replica rank).
    pub lane_names: Vec<String>,
    /// Estimated wall-clock offset of each replica against its peers, ns, with the number of
    /// messages it is estimated from.
    pub skew: Vec<Option<(i64, u32)>>,
}

impl Model {
    /// Analyses `trace` and lays it out.
    pub fn build(trace: Trace) -> Model {
        let analysis = weft_analyzer::analyze_full(&trace);
        Model::from_analysis(trace, analysis)
    }

    /// Lays out an analysed trace.
    pub fn from_analysis(trace: Trace, analysis: Analysis) -> Model {
        let Analysis {
            graph,
            causal_order,
            report,
        } = analysis;
        let n = graph.len();
        let (row, rows) = layer(&graph, &causal_order);

        // Nodes bucketed by row; within a row, by lane (node order is lane order).
        let mut row_start = vec![0u32; rows as usize + 1];
        for &r in &row {
            row_start[r as usize + 1] += 1;
        }
        for i in 0..rows as usize {
            row_start[i + 1] += row_start[i];
        }
        let mut fill = row_start.clone();
        let mut row_nodes = vec![0u32; n];
        for (node, &r) in row.iter().enumerate() {
            row_nodes[fill[r as usize] as usize] = node as u32;
            fill[r as usize] += 1;
        }

        // Causal replay order: the linear extension, then nodes downstream of a cycle in node
        // order.
        let mut causal_seq = causal_order.clone();
        let mut placed = vec![false; n];
        for &node in &causal_order {
            placed[node as usize] = true;
        }
        causal_seq.extend((0..n as u32).filter(|&k| !placed[k as usize]));
        let mut causal_pos = vec![0u32; n];
        for (i, &node) in causal_seq.iter().enumerate() {
            causal_pos[node as usize] = i as u32;
        }

        let lane_names: Vec<String> = (0..graph.replicas() as u32)
            .map(|r| trace.names().resolve(graph.replica_sym(r)).to_string())
            .collect();
        let find = |id: &EventId| {
            trace
                .names()
                .get(&id.replica)
                .and_then(|sym| graph.find(sym, id.seq))
        };

        let mut flags = vec![0u8; n];
        let violation_node: Vec<Option<u32>> = report
            .violations
            .iter()
            .map(|v| v.event.as_ref().and_then(find))
            .collect();
        for (v, node) in report.violations.iter().zip(&violation_node) {
            if let Some(node) = node {
                flags[*node as usize] |= match v.severity {
                    Severity::Error => F_ERROR,
                    Severity::Warning => F_WARNING,
                };
            }
        }
        let mut violations_by_code: Vec<u32> = (0..report.violations.len() as u32).collect();
        violations_by_code.sort_by_key(|&i| report.violations[i as usize].code.as_str());

        let mut conflict_of = Vec::with_capacity(report.conflicts.len() * 2);
        for (i, c) in report.conflicts.iter().enumerate() {
            for id in [&c.a, &c.b] {
                if let Some(node) = find(id) {
                    flags[node as usize] |= F_CONFLICT;
                    conflict_of.push((node, i as u32));
                }
            }
        }
        conflict_of.sort_unstable();
        for u in &report.unresolved {
            for node in u.siblings.iter().filter_map(find) {
                flags[node as usize] |= F_SIBLING;
            }
        }
        let skew = estimate_skew(&trace, &graph);

        Model {
            trace,
            graph,
            causal_order,
            report,
            row,
            rows,
            row_start,
            row_nodes,
            flags,
            causal_pos,
            causal_seq,
            violation_node,
            violations_by_code,
            conflict_of,
            lane_names,
            skew,
        }
    }

    /// Reads an NDJSON text (the live source's buffer) into a model.
    pub fn from_ndjson(name: &str, text: &str) -> Model {
        let opts = weft_trace::ReadOptions {
            lenient: true,
            ..Default::default()
        };
        // Lenient reading only fails on an input without events.
        Model::build(Trace::from_ndjson_str(name, text, &opts).unwrap_or_default())
    }

    /// A model without events (a live source before anything arrived).
    pub fn empty() -> Model {
        Model::build(Trace::default())
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.graph.len()
    }

    /// True without events.
    pub fn is_empty(&self) -> bool {
        self.graph.is_empty()
    }

    /// Number of lanes (replicas).
    pub fn lanes(&self) -> u32 {
        self.lane_names.len() as u32
    }

    /// The nodes on row `r`, in lane order.
    pub fn row_nodes(&self, r: u32) -> &[u32] {
        if r >= self.rows {
            return &[];
        }
        &self.row_nodes
            [self.row_start[r as usize] as usize..self.row_start[r as usize + 1] as usize]
    }

    /// The lane of a node.
    pub fn lane(&self, node: u32) -> u32 {
        self.graph.rank(node)
    }

    /// The node of lane `lane` whose row is nearest to `row` (ties: the earlier one), among
    /// nodes `keep` accepts.
    pub fn nearest_in_lane(&self, lane: u32, row: u32, keep: impl Fn(u32) -> bool) -> Option<u32> {
        let run = self.graph.replica_nodes(lane);
        let rows = &self.row[run.start as usize..run.end as usize];
        let at = rows.partition_point(|&r| r < row) as u32 + run.start;
        // Walk outwards from the insertion point until an accepted node turns up.
        let (mut down, mut up) = (at, at);
        loop {
            let below = (down < run.end).then_some(down);
            let above = (up > run.start).then(|| up - 1);
            if below.is_none() && above.is_none() {
                return None;
            }
            let dist = |n: u32| self.row[n as usize].abs_diff(row);
            match (above, below) {
                (Some(a), Some(b)) if dist(a) <= dist(b) => {
                    if keep(a) {
                        return Some(a);
                    }
                    up -= 1;
                }
                (_, Some(b)) => {
                    if keep(b) {
                        return Some(b);
                    }
                    down += 1;
                }
                (Some(a), None) => {
                    if keep(a) {
                        return Some(a);
                    }
                    up -= 1;
                }
                (None, None) => return None,
            }
        }
    }

    /// How node `n` is drawn.
    pub fn glyph(&self, n: u32) -> Glyph {
        let e = &self.trace.events()[self.graph.event(n)];
        match e.kind {
            Kind::Write => Glyph::Write,
            Kind::Read => Glyph::Read,
            Kind::Send => Glyph::Send,
            Kind::Recv => Glyph::Recv,
            Kind::Local => {
                if self.graph.cross_pred_kinds(n).contains(&EdgeKind::Parent) {
                    Glyph::Merge
                } else {
                    Glyph::Local
                }
            }
        }
    }

    /// The conflicts node `n` takes part in.
    pub fn conflicts_of(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        let at = self.conflict_of.partition_point(|&(m, _)| m < n);
        self.conflict_of[at..]
            .iter()
            .take_while(move |&&(m, _)| m == n)
            .map(|&(_, c)| c)
    }

    /// The violations attached to node `n`, as indices into the report.
    pub fn violations_of(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        // Violations are sorted by event id, which is node order; malformed lines come first.
        let at = self
            .violation_node
            .partition_point(|v| v.is_none_or(|m| m < n));
        self.violation_node[at..]
            .iter()
            .take_while(move |v| **v == Some(n))
            .enumerate()
            .map(move |(k, _)| (at + k) as u32)
    }

    /// The node of an event id.
    pub fn find(&self, id: &EventId) -> Option<u32> {
        let sym = self.trace.names().get(&id.replica)?;
        self.graph.find(sym, id.seq)
    }

    /// The id of node `n` as text (`replica@seq`).
    pub fn id(&self, n: u32) -> EventId {
        self.graph.id(&self.trace, n)
    }

    /// Position of node `n` in the given replay order.
    pub fn replay_pos(&self, n: u32, order: ReplayOrder) -> u32 {
        match order {
            ReplayOrder::Arrival => self.graph.event(n) as u32,
            ReplayOrder::Causal => self.causal_pos[n as usize],
        }
    }

    /// The node at position `pos` of the given replay order.
    pub fn node_at(&self, pos: u32, order: ReplayOrder) -> Option<u32> {
        if pos as usize >= self.len() {
            return None;
        }
        Some(match order {
            ReplayOrder::Arrival => self.graph.node(pos as usize),
            ReplayOrder::Causal => self.causal_seq[pos as usize],
        })
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("events", &self.len())
            .field("lanes", &self.lanes())
            .field("rows", &self.rows)
            .field("summary", &self.report.summary)
            .finish()
    }
}

/// The order replay steps through events in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayOrder {
    /// As recorded: the order the events were read.
    Arrival,
    /// A linear extension of happens-before.
    Causal,
}

/// Longest-path layering in a linear extension: row(n) = 1 + the largest row of its direct
/// predecessors. Nodes downstream of a cycle (absent from the causal order) follow in node order,
/// ignoring predecessors not yet placed, so each lane still runs strictly downwards.
fn layer(g: &CausalGraph, order: &[u32]) -> (Vec<u32>, u32) {
    const UNSET: u32 = u32::MAX;
    let n = g.len();
    let mut row = vec![UNSET; n];
    let place = |node: u32, row: &mut Vec<u32>| {
        let r = g
            .preds(node)
            .map(|p| row[p as usize])
            .filter(|&r| r != UNSET)
            .map(|r| r + 1)
            .max()
            .unwrap_or(0);
        row[node as usize] = r;
    };
    for &node in order {
        place(node, &mut row);
    }
    if order.len() < n {
        for node in 0..n as u32 {
            if row[node as usize] == UNSET {
                place(node, &mut row);
            }
        }
    }
    let rows = row.iter().map(|&r| r + 1).max().unwrap_or(0);
    (row, rows)
}

/// NTP-style offset estimate per replica: half the difference between the median wall-clock
/// delay of messages it receives and of messages it sends. With symmetric latency this is its
/// clock's offset from its peers'.
fn estimate_skew(trace: &Trace, g: &CausalGraph) -> Vec<Option<(i64, u32)>> {
    let events = trace.events();
    let wall = |n: u32| events[g.event(n)].wall_ns();
    let mut incoming: Vec<Vec<i64>> = vec![Vec::new(); g.replicas()];
    let mut outgoing: Vec<Vec<i64>> = vec![Vec::new(); g.replicas()];
    for n in 0..g.len() as u32 {
        let Some(w) = wall(n) else { continue };
        for (&p, &kind) in g.cross_preds(n).iter().zip(g.cross_pred_kinds(n)) {
            if kind != EdgeKind::Message {
                continue;
            }
            if let Some(wp) = wall(p) {
                let d = w.saturating_sub(wp);
                incoming[g.rank(n) as usize].push(d);
                outgoing[g.rank(p) as usize].push(d);
            }
        }
    }
    incoming
        .iter_mut()
        .zip(outgoing.iter_mut())
        .map(|(i, o)| {
            if i.is_empty() || o.is_empty() {
                return None;
            }
            let med = |v: &mut Vec<i64>| {
                let k = v.len() / 2;
                *v.select_nth_unstable(k).1
            };
            let samples = (i.len() + o.len()) as u32;
            Some(((med(i) / 2).saturating_sub(med(o) / 2), samples))
        })
        .collect()
}
