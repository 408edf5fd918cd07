//! Comparing two models field by field: what the tests of a grown model use to check it against
//! one built whole from the same events, naming the first difference.

use weft_trace::{Sym, NONE};

use super::{Model, ReplayOrder};

/// Returns the difference from the enclosing function, if there is one.
macro_rules! check {
    ($diff:expr) => {
        if let Some(d) = $diff {
            return Some(d);
        }
    };
}

impl Model {
    /// The first difference between this model and `other` in anything the UI reads (events,
    /// lanes, edges, rows, replay orders, skew, the findings and their indexes), or `None`.
    pub fn differs_from(&self, other: &Model) -> Option<String> {
        self.layout_differs_from(other)
            .or_else(|| self.findings_differ_from(other))
    }

    /// [`Model::differs_from`] without the findings: the parts a batch changes before the
    /// report is read again.
    pub fn layout_differs_from(&self, other: &Model) -> Option<String> {
        check!(same("events", self.len(), other.len()));
        check!(same("lanes", &self.lane_names, &other.lane_names));
        check!(same("rows", self.rows, other.rows));
        check!(same("monotone", self.monotone, other.monotone));
        for n in 0..self.len() as u32 {
            let at = |what: &str| format!("{what} of node {n}");
            check!(same(&at("id"), self.id(n), other.id(n)));
            let fields = |m: &Model| {
                let e = m.event(n);
                let sym = |s: Sym| (s != NONE).then(|| m.sym(s).to_string());
                (
                    e.kind,
                    e.op,
                    e.flags,
                    e.lamport(),
                    e.wall_ns(),
                    sym(e.msg),
                    sym(e.key),
                )
            };
            check!(same(&at("fields"), fields(self), fields(other)));
            let vc = |m: &Model| m.vc(n).collect::<Vec<_>>();
            check!(same(&at("vc"), vc(self), vc(other)));
            check!(same(&at("parents"), self.parents(n), other.parents(n)));
            check!(same(&at("value"), self.value(n), other.value(n)));
            check!(same(&at("attrs"), self.attrs(n), other.attrs(n)));
            check!(same(&at("lane"), self.lane(n), other.lane(n)));
            check!(same(
                &at("lane position"),
                self.graph.pos(n),
                other.graph.pos(n)
            ));
            check!(same(
                &at("row"),
                self.row[n as usize],
                other.row[n as usize]
            ));
            check!(same(
                &at("cross predecessors"),
                self.graph.cross_preds(n),
                other.graph.cross_preds(n),
            ));
            check!(same(
                &at("cross successors"),
                self.graph.cross_succs(n),
                other.graph.cross_succs(n),
            ));
            check!(same(&at("glyph"), self.glyph(n), other.glyph(n)));
            check!(same(
                &at("causal position"),
                self.replay_pos(n, ReplayOrder::Causal),
                other.replay_pos(n, ReplayOrder::Causal),
            ));
        }
        for l in 0..self.lanes() {
            let nodes = |m: &Model| {
                m.graph
                    .lane_nodes(l, 0..m.graph.lane_len(l))
                    .collect::<Vec<_>>()
            };
            check!(same(
                &format!("nodes of lane {l}"),
                nodes(self),
                nodes(other)
            ));
        }
        for r in 0..self.rows {
            check!(same(
                &format!("nodes of row {r}"),
                self.row_nodes(r),
                other.row_nodes(r),
            ));
        }
        check!(same("skew", &self.skew, &other.skew));
        None
    }

    /// [`Model::differs_from`] for the findings only: the report and what indexes it.
    pub fn findings_differ_from(&self, other: &Model) -> Option<String> {
        check!(same(
            "report",
            self.report.to_json(),
            other.report.to_json()
        ));
        check!(same(
            "violation nodes",
            &self.violation_node,
            &other.violation_node
        ));
        check!(same(
            "violations by code",
            &self.violations_by_code,
            &other.violations_by_code,
        ));
        for n in 0..self.len() as u32 {
            let at = |what: &str| format!("{what} of node {n}");
            check!(same(
                &at("flags"),
                self.flags[n as usize],
                other.flags[n as usize]
            ));
            check!(same(
                &at("conflicts"),
                self.conflicts_of(n).collect::<Vec<_>>(),
                other.conflicts_of(n).collect::<Vec<_>>(),
            ));
            check!(same(
                &at("violations"),
                self.violations_of(n).collect::<Vec<_>>(),
                other.violations_of(n).collect::<Vec<_>>(),
            ));
        }
        None
    }
}

/// The difference between `a` and `b`, named `what`, if they differ.
fn same<T: PartialEq + std::fmt::Debug>(what: &str, a: T, b: T) -> Option<String> {
    (a != b).then(|| format!("{what}: {a:?} != {b:?}"))
}
