//! The vector clocks the graph implies, counted in positions: entry `q` of event `e` is the
//! number of replica `q`'s events in the causal past of `e` (itself included).
//!
//! Because a replica's events are totally ordered by program order, the events of `q` in a past
//! are a prefix of `q`'s run, so the count is also the 1-based position of the latest of them.
//! That makes two things O(1): "is `u` in the past of `w`" is `clock(w)[rank(u)] ≥ pos(u)`,
//! and the ShiViz clock of an event is its row as it stands.

use weft_analyzer::{Analysis, CausalGraph};

use super::{ExportError, MAX_CLOCK_ENTRIES};

/// One dense row of `replicas` counters per node.
pub(crate) struct Clocks {
    width: usize,
    cells: Vec<u32>,
}

/// The 1-based position of node `n` in its replica's run.
pub(crate) fn pos(g: &CausalGraph, n: u32) -> u32 {
    n - g.replica_nodes(g.rank(n)).start + 1
}

impl Clocks {
    /// Computes every node's clock in one pass over `analysis.causal_order` (a linear extension
    /// of happens-before), each row the entrywise maximum of its direct predecessors' rows with
    /// its own entry set to its position.
    ///
    /// [`ExportError::Cycle`] when the trace has a cycle (the order then leaves nodes out, or
    /// a node would come before one of its predecessors).
    pub(crate) fn compute(analysis: &Analysis) -> Result<Clocks, ExportError> {
        let g = &analysis.graph;
        let n = g.len();
        if !analysis.report.summary.complete || analysis.causal_order.len() != n {
            return Err(ExportError::Cycle);
        }
        let width = g.replicas();
        let too_big = ExportError::ClocksTooBig {
            events: n,
            replicas: width,
            limit: MAX_CLOCK_ENTRIES,
        };
        let total = n.checked_mul(width).ok_or_else(|| too_big.clone())?;
        if total > MAX_CLOCK_ENTRIES {
            return Err(too_big);
        }
        let mut cells = vec![0u32; total];
        let mut done = vec![false; n];
        let mut row = vec![0u32; width];
        for &v in &analysis.causal_order {
            let vi = v as usize;
            if vi >= n || done[vi] {
                return Err(ExportError::Cycle);
            }
            row.fill(0);
            for p in g.preds(v) {
                if !done[p as usize] {
                    return Err(ExportError::Cycle);
                }
                let pr = &cells[p as usize * width..(p as usize + 1) * width];
                for (a, &b) in row.iter_mut().zip(pr) {
                    *a = (*a).max(b);
                }
            }
            row[g.rank(v) as usize] = pos(g, v);
            cells[vi * width..(vi + 1) * width].copy_from_slice(&row);
            done[vi] = true;
        }
        Ok(Clocks { width, cells })
    }

    /// The clock of node `n`, one entry per replica rank.
    pub(crate) fn row(&self, n: u32) -> &[u32] {
        &self.cells[n as usize * self.width..(n as usize + 1) * self.width]
    }

    /// Whether `u` is in the causal past of `w` (`u` happens before `w`, or is `w`).
    pub(crate) fn in_past(&self, g: &CausalGraph, u: u32, w: u32) -> bool {
        self.row(w)[g.rank(u) as usize] >= pos(g, u)
    }
}
