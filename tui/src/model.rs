//! What the TUI browses: a trace, its analysis, and the time-space layout of its events.
//!
//! A [`Model`] is immutable once built. A recorded trace gets one, from the analysis
//! ([`Model::build`]); a live source grows one batch by batch from the incremental engine
//! ([`crate::grow::Growing`]) and hands the UI snapshots of it, swapped in whole, so every view
//! of the state always agrees with itself.
//!
//! Nodes are numbered by arrival (node `n` is event `n` of the trace): numbers never change as
//! a trace grows, which is what lets a live model be extended instead of rebuilt. Lanes are
//! replicas in name order; each lane lists its nodes by seq. Per-node arrays are
//! [`PVec`](crate::pvec::PVec)s, so a snapshot shares everything a later update does not touch.
//!
//! This module holds the [`Model`] and what the UI asks of it; the rest is split by concern:
//! `events` (how events are stored), `graph` (lanes and cross edges), `build` (a model from an
//! analysis), `layout` (rows), `findings` (the report indexed by node), `skew` (clock offsets),
//! `replay` (replay orders) and `diff` (comparing two models).

mod build;
mod diff;
mod events;
mod findings;
mod graph;
mod layout;
mod replay;
mod skew;

use std::sync::Arc;

use serde_json::{Map, Value};
use weft_analyzer::Report;
use weft_trace::vcenc::VcIter;
use weft_trace::{EventId, EventRec, Kind, Sym, NONE};

pub(crate) use events::{Events, LiveEvents};
pub use graph::Graph;
pub(crate) use replay::CausalCache;
pub use replay::ReplayOrder;
pub(crate) use skew::{skew_of, Median};

use crate::pvec::PVec;

/// The event has a conflicting concurrent write.
pub const F_CONFLICT: u8 = 1;
/// The event has a violation of severity error.
pub const F_ERROR: u8 = 2;
/// The event has a violation of severity warning.
pub const F_WARNING: u8 = 4;
/// The event is one of the unresolved siblings of a register.
pub const F_SIBLING: u8 = 8;

/// A row not computed yet.
pub(crate) const UNSET: u32 = u32::MAX;

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
#[derive(Clone)]
pub struct Model {
    pub(crate) events: Events,
    /// Happens-before.
    pub graph: Graph,
    /// The findings.
    pub report: Arc<Report>,
    /// Row of each node: its depth in happens-before, so edges always point down and
    /// concurrent events share rows.
    pub row: PVec<u32>,
    /// Number of rows.
    pub rows: u32,
    /// Nodes of each row, in lane order.
    pub(crate) buckets: PVec<Vec<u32>, 8>,
    /// Rows strictly increase along every edge (happens-before has no cycle), so a walk between
    /// two rows never leaves them.
    pub monotone: bool,
    /// Finding bits of each node (`F_*`).
    pub flags: PVec<u8>,
    /// The node each violation is attached to (`None` for malformed lines).
    pub violation_node: Arc<Vec<Option<u32>>>,
    /// Violation indices grouped by code, then event: the order the violations pane lists.
    pub violations_by_code: Arc<Vec<u32>>,
    /// `(node, violation index)`, sorted.
    pub(crate) violations_at: Arc<Vec<(u32, u32)>>,
    /// `(node, conflict index)`, sorted: every conflict appears under both of its writes.
    pub(crate) conflict_of: Arc<Vec<(u32, u32)>>,
    /// Replica name of each lane.
    pub lane_names: Arc<Vec<String>>,
    /// Estimated wall-clock offset of each replica against its peers, ns, with the number of
    /// messages it is estimated from.
    pub skew: Arc<Vec<Option<(i64, u32)>>>,
    /// Causal replay order, computed on first use.
    pub(crate) causal: CausalCache,
    /// Which snapshot of a grown model this is (0: a model built whole).
    pub(crate) generation: u64,
    /// What changed since the snapshot before, when known.
    pub(crate) changes: Option<Arc<Changes>>,
}

/// The nodes of a grown model's snapshot that are new or on another row than in the snapshot
/// `base` before it (what a search's matches must look at again).
#[derive(Debug)]
pub(crate) struct Changes {
    pub(crate) base: u64,
    /// Sorted, distinct.
    pub(crate) nodes: Vec<u32>,
}

impl Model {
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
        self.graph.lanes()
    }

    /// The nodes on row `r`, in lane order.
    pub fn row_nodes(&self, r: u32) -> &[u32] {
        if r >= self.rows {
            return &[];
        }
        &self.buckets[r as usize]
    }

    /// The lane of a node.
    pub fn lane(&self, node: u32) -> u32 {
        self.graph.lane(node)
    }

    /// The event of node `n`.
    pub fn event(&self, n: u32) -> &EventRec {
        self.events.rec(n)
    }

    /// The reported vector clock entries of node `n`, sorted by name id, without zero entries.
    pub fn vc(&self, n: u32) -> VcIter<'_> {
        self.events.vc(n)
    }

    /// The `parents` entries of node `n`, as written.
    pub fn parents(&self, n: u32) -> &[(Sym, u64)] {
        self.events.parents(n)
    }

    /// The `value` of node `n`.
    pub fn value(&self, n: u32) -> Option<&Value> {
        self.events.value(n)
    }

    /// The `attrs` of node `n`.
    pub fn attrs(&self, n: u32) -> Option<&Map<String, Value>> {
        self.events.attrs(n)
    }

    /// A replica name, by its id.
    pub fn name(&self, q: Sym) -> &str {
        self.events.name(q)
    }

    /// A message id or key, by its id.
    pub fn sym(&self, m: Sym) -> &str {
        self.events.sym(m)
    }

    /// The first position in lane `l` whose node's row is at least `row`.
    pub fn lane_at_row(&self, l: u32, row: u32) -> u32 {
        let lane = &self.graph.lanes[l as usize];
        lane.partition_point(0, lane.len(), |&n| self.row[n as usize] < row) as u32
    }

    /// The node of lane `lane` whose row is nearest to `row` (ties: the earlier one), among
    /// nodes `keep` accepts.
    pub fn nearest_in_lane(&self, lane: u32, row: u32, keep: impl Fn(u32) -> bool) -> Option<u32> {
        let len = self.graph.lane_len(lane);
        let at = self.lane_at_row(lane, row);
        let node = |i: u32| self.graph.lane_node(lane, i);
        // Walk outwards from the insertion point until an accepted node turns up.
        let (mut down, mut up) = (at, at);
        loop {
            let below = (down < len).then_some(down);
            let above = (up > 0).then(|| up - 1);
            let dist = |i: u32| self.row[node(i) as usize].abs_diff(row);
            match (above, below) {
                (None, None) => return None,
                (Some(a), Some(b)) if dist(a) <= dist(b) => {
                    if keep(node(a)) {
                        return Some(node(a));
                    }
                    up -= 1;
                }
                (_, Some(b)) => {
                    if keep(node(b)) {
                        return Some(node(b));
                    }
                    down += 1;
                }
                (Some(a), None) => {
                    if keep(node(a)) {
                        return Some(node(a));
                    }
                    up -= 1;
                }
            }
        }
    }

    /// How node `n` is drawn.
    pub fn glyph(&self, n: u32) -> Glyph {
        let e = self.event(n);
        match e.kind {
            Kind::Write => Glyph::Write,
            Kind::Read => Glyph::Read,
            Kind::Send => Glyph::Send,
            Kind::Recv => Glyph::Recv,
            // A local event's cross edges are its parents when it names any (they switch clock
            // edges off), else clock edges.
            Kind::Local if e.has_parents() && !self.graph.cross_preds(n).is_empty() => Glyph::Merge,
            Kind::Local => Glyph::Local,
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

    /// The violations attached to node `n`, as indices into the report, in report order.
    pub fn violations_of(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        let at = self.violations_at.partition_point(|&(m, _)| m < n);
        self.violations_at[at..]
            .iter()
            .take_while(move |&&(m, _)| m == n)
            .map(|&(_, v)| v)
    }

    /// The node of an event id.
    pub fn find(&self, id: &EventId) -> Option<u32> {
        self.find_at(self.events.name_id(&id.replica)?, id.seq)
    }

    /// The node of `(replica, seq)`, `replica` a name id.
    pub fn find_at(&self, replica: Sym, seq: u64) -> Option<u32> {
        let l = *self.graph.rank_of_sym.get(replica as usize)?;
        if l == NONE {
            return None;
        }
        let lane = &self.graph.lanes[l as usize];
        let i = lane.partition_point(0, lane.len(), |&n| self.event(n).seq < seq);
        lane.get(i).copied().filter(|&n| self.event(n).seq == seq)
    }

    /// The id of node `n` (`replica@seq`).
    pub fn id(&self, n: u32) -> EventId {
        let e = self.event(n);
        EventId::new(self.name(e.replica), e.seq)
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
