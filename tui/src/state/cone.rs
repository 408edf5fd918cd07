//! Happens-before as the TUI shows it: the selection's causal past and future ([`Cones`]),
//! where an event stands relative to them ([`Relation`]), and the shortest chain of direct
//! edges that answers "does A happen before B?" ([`Order`], [`chain`]).
//!
//! Separate because these are graph walks, bounded to the rows in view, with no UI state.

use crate::model::Model;

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
