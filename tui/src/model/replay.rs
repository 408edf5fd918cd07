//! Replay orders: arrival order, and the causal order (row by row, each row in lane order),
//! computed on the first replay that asks for it and dropped by any copy of the model.

use std::sync::OnceLock;

use super::Model;

/// The order replay steps through events in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayOrder {
    /// As recorded: the order the events were read.
    Arrival,
    /// A linear extension of happens-before: row by row, each row in lane order.
    Causal,
}

/// Row order (then lane order): a linear extension of happens-before when rows are monotone.
struct Causal {
    seq: Vec<u32>,
    pos: Vec<u32>,
}

/// The causal replay order of one model, computed when a replay first asks for it. A copy of
/// the model (which may then change) starts without it.
#[derive(Default)]
pub(crate) struct CausalCache(OnceLock<Causal>);

impl Clone for CausalCache {
    fn clone(&self) -> Self {
        CausalCache::default()
    }
}

impl Model {
    fn causal(&self) -> &Causal {
        self.causal.0.get_or_init(|| {
            let mut seq = Vec::with_capacity(self.len());
            for r in 0..self.rows {
                seq.extend_from_slice(self.row_nodes(r));
            }
            let mut pos = vec![0u32; self.len()];
            for (i, &n) in seq.iter().enumerate() {
                pos[n as usize] = i as u32;
            }
            Causal { seq, pos }
        })
    }

    /// Position of node `n` in the given replay order.
    pub fn replay_pos(&self, n: u32, order: ReplayOrder) -> u32 {
        match order {
            ReplayOrder::Arrival => n,
            ReplayOrder::Causal => self.causal().pos[n as usize],
        }
    }

    /// The node at position `pos` of the given replay order.
    pub fn node_at(&self, pos: u32, order: ReplayOrder) -> Option<u32> {
        if pos as usize >= self.len() {
            return None;
        }
        Some(match order {
            ReplayOrder::Arrival => pos,
            ReplayOrder::Causal => self.causal().seq[pos as usize],
        })
    }
}
