//! `causality-cycle`: when happens-before is not a partial order, the strongly connected
//! components of the nodes a topological pass could not reach (the cycles and what lies
//! downstream of them), plus the events that name themselves as a parent.

use petgraph::graph::{DiGraph, NodeIndex};
use weft_trace::{EventId, NONE};

use super::Engine;
use crate::finding::Finding;
use crate::report::Code;

/// The most `related` ids a causality-cycle lists.
pub const MAX_CYCLE_RELATED: usize = 50;

impl Engine {
    /// One finding per cycle among `residue` (petgraph's Kosaraju SCC, which is iterative, so
    /// a cycle through a million events does not exhaust the stack), and one per self-parent
    /// not already on a larger cycle. Each names its smallest id and lists the others in id
    /// order.
    pub(super) fn cycle_findings(&self, residue: &[u32]) -> Vec<Finding> {
        let mut index = vec![NONE; self.trace.len()];
        let mut pg: DiGraph<u32, ()> = DiGraph::with_capacity(residue.len(), residue.len() * 2);
        for &v in residue {
            index[v as usize] = pg.add_node(v).index() as u32;
        }
        for &v in residue {
            let prev = self.around(v).0;
            for p in prev.into_iter().chain(self.preds.get(v).iter().copied()) {
                if index[p as usize] != NONE {
                    pg.add_edge(
                        NodeIndex::new(index[p as usize] as usize),
                        NodeIndex::new(index[v as usize] as usize),
                        (),
                    );
                }
            }
        }
        let mut comps: Vec<Vec<u32>> = petgraph::algo::kosaraju_scc(&pg)
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| c.into_iter().map(|i| pg[i]).collect())
            .collect();
        let on_cycle: rustc_hash::FxHashSet<u32> = comps.iter().flatten().copied().collect();
        let mut selfish: Vec<u32> = self.self_parent.iter().copied().collect();
        selfish.sort_unstable();
        comps.extend(
            selfish
                .into_iter()
                .filter(|v| !on_cycle.contains(v))
                .map(|v| vec![v]),
        );
        comps
            .into_iter()
            .map(|c| {
                let mut ids: Vec<(EventId, u32)> = c.iter().map(|&v| (self.id(v), v)).collect();
                ids.sort();
                ids.dedup();
                self.cycle_finding(&ids)
            })
            .collect()
    }

    fn cycle_finding(&self, ids: &[(EventId, u32)]) -> Finding {
        let (head_id, head) = &ids[0];
        let others = &ids[1..];
        let message = if others.is_empty() {
            format!(
                "{head_id} names itself as a parent: happens-before is not a partial order, so vc-mismatch and conflicts were not computed"
            )
        } else {
            let shown: Vec<String> = ids.iter().take(6).map(|(id, _)| id.to_string()).collect();
            let more = if ids.len() > 6 {
                format!(" and {} more", ids.len() - 6)
            } else {
                String::new()
            };
            format!(
                "{} events happen before each other ({}{more}): happens-before is not a partial order, so vc-mismatch and conflicts were not computed",
                ids.len(),
                shown.join(", ")
            )
        };
        Finding {
            node: *head,
            code: Code::CausalityCycle,
            related: others
                .iter()
                .take(MAX_CYCLE_RELATED)
                .map(|(id, _)| id.clone())
                .collect(),
            message,
            read: None,
        }
    }
}
