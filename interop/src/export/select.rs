//! What a drawing export draws: which events and which edges, after
//! [`ExportOptions::transitive_reduction`] and [`ExportOptions::around`].

use std::collections::VecDeque;

use weft_analyzer::{Analysis, CausalGraph, EdgeKind};
use weft_trace::Trace;

use super::clocks::Clocks;
use super::{ExportError, ExportOptions};

/// Why an edge is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Link {
    /// The previous event of the same replica.
    Program,
    /// A cross edge of the analyzer's graph.
    Cross(EdgeKind),
}

/// A direct edge `from → to`, as node numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Edge {
    pub from: u32,
    pub to: u32,
    pub link: Link,
}

/// The events and edges to draw.
pub(crate) struct Selection {
    /// Per node: drawn or not.
    pub keep: Vec<bool>,
    /// How many nodes are drawn.
    pub count: usize,
    /// The edges to draw, grouped by target node ascending (program order first within a
    /// target), both ends drawn.
    pub edges: Vec<Edge>,
}

/// Every direct edge of the graph, grouped by target: program order, then the cross edges.
fn all_edges(g: &CausalGraph) -> Vec<Edge> {
    let mut edges = Vec::with_capacity(g.len() * 2);
    for v in 0..g.len() as u32 {
        if let Some(p) = g.prev(v) {
            edges.push(Edge {
                from: p,
                to: v,
                link: Link::Program,
            });
        }
        for (&u, &k) in g.cross_preds(v).iter().zip(g.cross_pred_kinds(v)) {
            edges.push(Edge {
                from: u,
                to: v,
                link: Link::Cross(k),
            });
        }
    }
    edges
}

/// The transitive reduction of an acyclic graph: `u → v` is kept unless `u` is in the past of
/// another direct predecessor `w` of `v` (then `u → w ⇝ v` is another path). Parallel edges
/// count as one; the cross edge is kept.
fn reduced_edges(g: &CausalGraph, clocks: &Clocks) -> Vec<Edge> {
    let mut edges = Vec::with_capacity(g.len() * 2);
    let mut preds: Vec<(u32, Link)> = Vec::new();
    for v in 0..g.len() as u32 {
        preds.clear();
        let cross = g.cross_preds(v);
        if let Some(p) = g.prev(v) {
            // cross_preds is ascending and distinct: the program-order edge is a duplicate
            // exactly when the same node is also a cross predecessor.
            if cross.binary_search(&p).is_err() {
                preds.push((p, Link::Program));
            }
        }
        preds.extend(
            cross
                .iter()
                .zip(g.cross_pred_kinds(v))
                .map(|(&u, &k)| (u, Link::Cross(k))),
        );
        for &(u, link) in &preds {
            let implied = preds
                .iter()
                .any(|&(w, _)| w != u && clocks.in_past(g, u, w));
            if !implied {
                edges.push(Edge {
                    from: u,
                    to: v,
                    link,
                });
            }
        }
    }
    edges
}

/// Applies the options: reduction first, then the neighbourhood, measured over the edges kept.
pub(crate) fn select(
    trace: &Trace,
    analysis: &Analysis,
    opts: &ExportOptions,
) -> Result<Selection, ExportError> {
    let g = &analysis.graph;
    let n = g.len();
    // Find the centre first: a wrong id is the cheapest error to report.
    let centre = match &opts.around {
        Some(a) => Some((
            find(trace, g, &a.event).ok_or_else(|| ExportError::UnknownEvent(a.event.clone()))?,
            a.depth,
        )),
        None => None,
    };
    let mut edges = if opts.transitive_reduction {
        let clocks = Clocks::compute(analysis)?;
        reduced_edges(g, &clocks)
    } else {
        all_edges(g)
    };
    let Some((centre, depth)) = centre else {
        return Ok(Selection {
            keep: vec![true; n],
            count: n,
            edges,
        });
    };

    // Undirected adjacency of the edges kept, in compressed rows.
    let mut start = vec![0u32; n + 1];
    for e in &edges {
        start[e.from as usize + 1] += 1;
        start[e.to as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut adj = vec![0u32; edges.len() * 2];
    for e in &edges {
        adj[fill[e.from as usize] as usize] = e.to;
        fill[e.from as usize] += 1;
        adj[fill[e.to as usize] as usize] = e.from;
        fill[e.to as usize] += 1;
    }

    // Breadth-first search up to `depth`.
    let mut dist = vec![u32::MAX; n];
    let mut queue = VecDeque::new();
    dist[centre as usize] = 0;
    queue.push_back(centre);
    while let Some(u) = queue.pop_front() {
        let d = dist[u as usize];
        if d >= depth {
            continue;
        }
        for &w in &adj[start[u as usize] as usize..start[u as usize + 1] as usize] {
            if dist[w as usize] == u32::MAX {
                dist[w as usize] = d + 1;
                queue.push_back(w);
            }
        }
    }
    let keep: Vec<bool> = dist.iter().map(|&d| d != u32::MAX).collect();
    let count = keep.iter().filter(|&&k| k).count();
    edges.retain(|e| keep[e.from as usize] && keep[e.to as usize]);
    Ok(Selection { keep, count, edges })
}

/// The node of an event id, if the event is in the trace.
pub(crate) fn find(trace: &Trace, g: &CausalGraph, id: &weft_trace::EventId) -> Option<u32> {
    let sym = trace.names().get(&id.replica)?;
    g.find(sym, id.seq)
}
