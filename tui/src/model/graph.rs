//! Happens-before as the TUI walks it: the lanes, program order and cross edges of a model,
//! read from an analysis and never decided here.

use std::sync::Arc;

use weft_trace::Sym;

use crate::pvec::{Adj, PVec};

/// Happens-before as the TUI walks it: lanes, program order, and the cross edges (message,
/// parent and clock edges) of the analysis it was built from: the
/// [`weft_analyzer::CausalGraph`] for a recorded trace, the incremental
/// [`weft_analyzer::Engine`]'s edges for a live one. Nothing here decides an edge.
#[derive(Clone, Default)]
pub struct Graph {
    /// Replica name id of each node.
    pub(crate) sym: PVec<Sym>,
    /// Position of each node in its lane.
    pub(crate) pos: PVec<u32>,
    /// Nodes of each lane (replicas with events, in name order), by seq.
    pub(crate) lanes: Vec<PVec<u32>>,
    /// Lane of each replica name id (`NONE` for names without events).
    pub(crate) rank_of_sym: Arc<Vec<u32>>,
    /// Replica name id of each lane.
    pub(crate) sym_of_rank: Arc<Vec<Sym>>,
    /// Cross predecessors of each node, in id order.
    pub(crate) preds: Adj,
    /// Cross successors of each node, in id order.
    pub(crate) succs: Adj,
}

impl Graph {
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.sym.len()
    }

    /// True without nodes.
    pub fn is_empty(&self) -> bool {
        self.sym.is_empty()
    }

    /// Number of lanes.
    pub fn lanes(&self) -> u32 {
        self.lanes.len() as u32
    }

    /// The lane of node `n`.
    #[inline]
    pub fn lane(&self, n: u32) -> u32 {
        self.rank_of_sym[self.sym[n as usize] as usize]
    }

    /// The position of node `n` in its lane (its program-order index among present events).
    #[inline]
    pub fn pos(&self, n: u32) -> u32 {
        self.pos[n as usize]
    }

    /// Number of nodes in lane `l`.
    #[inline]
    pub fn lane_len(&self, l: u32) -> u32 {
        self.lanes[l as usize].len() as u32
    }

    /// The node at position `i` of lane `l`.
    #[inline]
    pub fn lane_node(&self, l: u32, i: u32) -> u32 {
        self.lanes[l as usize][i as usize]
    }

    /// The nodes of lane `l` at positions `range`, in order.
    pub fn lane_nodes(
        &self,
        l: u32,
        range: std::ops::Range<u32>,
    ) -> impl DoubleEndedIterator<Item = u32> + '_ {
        self.lanes[l as usize]
            .range(range.start as usize..range.end as usize)
            .copied()
    }

    /// The replica name id of lane `l`.
    pub fn lane_sym(&self, l: u32) -> Sym {
        self.sym_of_rank[l as usize]
    }

    /// The program-order predecessor of `n` (previous present event of its replica).
    #[inline]
    pub fn prev(&self, n: u32) -> Option<u32> {
        let p = self.pos(n);
        (p > 0).then(|| self.lane_node(self.lane(n), p - 1))
    }

    /// The program-order successor of `n`.
    #[inline]
    pub fn next(&self, n: u32) -> Option<u32> {
        let l = self.lane(n);
        let p = self.pos(n) + 1;
        (p < self.lane_len(l)).then(|| self.lane_node(l, p))
    }

    /// Cross-edge predecessors of `n` (message, parent and clock edges), in id order, distinct.
    #[inline]
    pub fn cross_preds(&self, n: u32) -> &[u32] {
        self.preds.get(n)
    }

    /// Cross-edge successors of `n`, in id order.
    #[inline]
    pub fn cross_succs(&self, n: u32) -> &[u32] {
        self.succs.get(n)
    }

    /// All direct predecessors of `n`: program order first, then cross edges.
    pub fn preds(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        self.prev(n)
            .into_iter()
            .chain(self.cross_preds(n).iter().copied())
    }

    /// All direct successors of `n`.
    pub fn succs(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        self.next(n)
            .into_iter()
            .chain(self.cross_succs(n).iter().copied())
    }
}
