//! The time-space layout: every node's row (its depth in happens-before, so edges point down and
//! concurrent events share rows) and the nodes of each row. Separate from the graph it reads
//! and from the incremental layout of a grown model, which only falls back on it.

use std::collections::VecDeque;

use super::graph::Graph;
use super::{CausalCache, Model, UNSET};
use crate::pvec::PVec;

impl Model {
    /// Longest-path layering of the whole graph, and the rows bucketed (see [`layer`]).
    pub(crate) fn lay_out_from_scratch(&mut self) {
        let (row, monotone) = layer(&self.graph);
        let rows = row.iter().map(|&r| r + 1).max().unwrap_or(0);
        let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); rows as usize];
        for l in 0..self.graph.lanes() {
            for v in self.graph.lane_nodes(l, 0..self.graph.lane_len(l)) {
                buckets[row[v as usize] as usize].push(v);
            }
        }
        self.row = PVec::from_vec(row);
        self.rows = rows;
        self.buckets = PVec::from_vec(buckets);
        self.monotone = monotone;
        self.causal = CausalCache::default();
    }
}

/// Longest-path layering: row(n) = 1 + the largest row of its direct predecessors, 0 without
/// any. Nodes are placed in a topological order (Kahn); nodes on or downstream of a cycle, which
/// it never reaches, follow in id order (lane by lane), ignoring predecessors not yet placed, so
/// each lane still runs strictly downwards. Returns the rows and whether every node was reached
/// (no cycle: rows strictly increase along every edge).
pub(crate) fn layer(g: &Graph) -> (Vec<u32>, bool) {
    let n = g.len();
    let mut indegree: Vec<u32> = (0..n as u32).map(|v| g.preds(v).count() as u32).collect();
    let mut row = vec![UNSET; n];
    let mut queue: VecDeque<u32> = (0..n as u32)
        .filter(|&v| indegree[v as usize] == 0)
        .collect();
    let mut placed = 0usize;
    while let Some(v) = queue.pop_front() {
        row[v as usize] = g.preds(v).map(|p| row[p as usize] + 1).max().unwrap_or(0);
        placed += 1;
        for s in g.succs(v) {
            indegree[s as usize] -= 1;
            if indegree[s as usize] == 0 {
                queue.push_back(s);
            }
        }
    }
    if placed < n {
        for l in 0..g.lanes() {
            for v in g.lane_nodes(l, 0..g.lane_len(l)) {
                if row[v as usize] == UNSET {
                    row[v as usize] = g
                        .preds(v)
                        .map(|p| row[p as usize])
                        .filter(|&r| r != UNSET)
                        .map(|r| r + 1)
                        .max()
                        .unwrap_or(0);
                }
            }
        }
    }
    (row, placed == n)
}
