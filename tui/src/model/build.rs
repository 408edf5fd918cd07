//! Building a model: from a trace and its analysis (lanes and cross edges from the analyzer's
//! causal graph, then layout, skew and findings), or empty for a live model to grow.

use std::sync::Arc;

use weft_analyzer::{CausalGraph, Report};
use weft_trace::{Sym, Trace, NONE};

use super::events::Events;
use super::graph::Graph;
use super::{CausalCache, Model, UNSET};
use crate::pvec::{Adj, PVec};

impl Model {
    /// Analyses `trace` and lays it out. The engine directly, not `analyze_owned`: the model
    /// needs the graph and the report, not the linear extension exports draw from (a heap
    /// pass over every node, about a tenth of a second at 1 M events, before the first frame).
    pub fn build(trace: Trace) -> Model {
        let engine = weft_analyzer::Engine::from_trace(trace);
        let graph = CausalGraph::from_engine(&engine);
        // The report moved out, not copied: a hot key's millions of conflicts held twice
        // doubled the TUI's peak (4.8 GB for 18 M conflicts).
        let (report, trace) = engine.into_report_and_trace();
        Model::from_graph(trace, graph, report)
    }

    /// Lays out a trace with its happens-before graph and report.
    fn from_graph(trace: Trace, g: CausalGraph, report: Report) -> Model {
        let n = g.len();
        // Arrival numbering: node a is event a; lanes and edges from the `CausalGraph`, whose
        // node order is id order.
        let mut rank_of_sym = vec![NONE; trace.names().len()];
        let mut sym_of_rank = Vec::with_capacity(g.replicas());
        let mut sym = vec![0 as Sym; n];
        let mut pos = vec![0u32; n];
        let mut lanes = Vec::with_capacity(g.replicas());
        for r in 0..g.replicas() as u32 {
            let s = g.replica_sym(r);
            rank_of_sym[s as usize] = r;
            sym_of_rank.push(s);
            let nodes: Vec<u32> = g.replica_nodes(r).map(|k| g.event(k) as u32).collect();
            for (i, &a) in nodes.iter().enumerate() {
                sym[a as usize] = s;
                pos[a as usize] = i as u32;
            }
            lanes.push(PVec::from_vec(nodes));
        }
        let mut preds = Adj::default();
        let mut succs = Adj::default();
        let mut scratch: Vec<u32> = Vec::new();
        for a in 0..n {
            let k = g.node(a);
            scratch.clear();
            scratch.extend(g.cross_preds(k).iter().map(|&p| g.event(p) as u32));
            preds.push(&scratch);
            scratch.clear();
            scratch.extend(g.cross_succs(k).iter().map(|&s| g.event(s) as u32));
            succs.push(&scratch);
        }
        drop(g);
        let graph = Graph {
            sym: PVec::from_vec(sym),
            pos: PVec::from_vec(pos),
            lanes,
            rank_of_sym: Arc::new(rank_of_sym),
            sym_of_rank: Arc::new(sym_of_rank),
            preds,
            succs,
        };
        let mut m = Model::bare(Events::Whole(Arc::new(trace)), graph, report);
        m.lay_out_from_scratch();
        m.skew = Arc::new(m.skew_from_scratch());
        let f = m.index_report(&m.report);
        m.apply_findings(f, &[]);
        m
    }

    /// A model of `events` and `graph` without layout, findings or skew yet.
    pub(crate) fn bare(events: Events, graph: Graph, report: Report) -> Model {
        let n = graph.len();
        let lane_names = (0..graph.lanes())
            .map(|l| events.name(graph.lane_sym(l)).to_string())
            .collect();
        Model {
            events,
            report: Arc::new(report),
            row: PVec::filled(UNSET, n),
            rows: 0,
            buckets: PVec::new(),
            monotone: true,
            flags: PVec::filled(0, n),
            violation_node: Arc::default(),
            violations_by_code: Arc::default(),
            violations_at: Arc::default(),
            conflict_of: Arc::default(),
            lane_names: Arc::new(lane_names),
            skew: Arc::new(vec![None; graph.lanes() as usize]),
            graph,
            causal: CausalCache::default(),
            generation: 0,
            changes: None,
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
}
