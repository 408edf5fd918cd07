//! What a report says about the nodes: the violations and conflicts indexed by node and the
//! finding bits (`F_*`) each node is drawn with. Separate because a grown model indexes every
//! new report again while its layout carries on.

use std::sync::Arc;

use weft_analyzer::{Report, Severity};

use super::{Model, F_CONFLICT, F_ERROR, F_SIBLING, F_WARNING};

/// What a report says about the nodes: indexes into it and the finding bits.
pub(crate) struct Findings {
    pub(crate) violation_node: Vec<Option<u32>>,
    pub(crate) violations_at: Vec<(u32, u32)>,
    pub(crate) violations_by_code: Vec<u32>,
    pub(crate) conflict_of: Vec<(u32, u32)>,
    /// `(node, F_* bits)`, one entry per node with bits.
    pub(crate) marks: Vec<(u32, u8)>,
}

impl Model {
    /// Indexes a report against this model's nodes.
    pub(crate) fn index_report(&self, report: &Report) -> Findings {
        let violation_node: Vec<Option<u32>> = report
            .violations
            .iter()
            .map(|v| v.event.as_ref().and_then(|id| self.find(id)))
            .collect();
        let mut marks: Vec<(u32, u8)> = Vec::new();
        let mut violations_at: Vec<(u32, u32)> = Vec::new();
        for (i, (v, node)) in report.violations.iter().zip(&violation_node).enumerate() {
            if let Some(node) = *node {
                violations_at.push((node, i as u32));
                marks.push((
                    node,
                    match v.severity {
                        Severity::Error => F_ERROR,
                        Severity::Warning => F_WARNING,
                    },
                ));
            }
        }
        violations_at.sort_unstable();
        let mut violations_by_code: Vec<u32> = (0..report.violations.len() as u32).collect();
        violations_by_code.sort_by_key(|&i| report.violations[i as usize].code.as_str());
        let mut conflict_of = Vec::with_capacity(report.conflicts.len() * 2);
        for (i, c) in report.conflicts.iter().enumerate() {
            for id in [&c.a, &c.b] {
                if let Some(node) = self.find(id) {
                    marks.push((node, F_CONFLICT));
                    conflict_of.push((node, i as u32));
                }
            }
        }
        conflict_of.sort_unstable();
        for u in &report.unresolved {
            for node in u.siblings.iter().filter_map(|id| self.find(id)) {
                marks.push((node, F_SIBLING));
            }
        }
        marks.sort_unstable_by_key(|m| m.0);
        marks.dedup_by(|b, a| {
            if a.0 == b.0 {
                a.1 |= b.1;
                true
            } else {
                false
            }
        });
        Findings {
            violation_node,
            violations_at,
            violations_by_code,
            conflict_of,
            marks,
        }
    }

    /// Takes a report's indexes: the bits of `unmark` nodes are cleared first.
    pub(crate) fn apply_findings(&mut self, f: Findings, unmark: &[(u32, u8)]) {
        for &(n, _) in unmark {
            self.flags.set(n as usize, 0);
        }
        for &(n, bits) in &f.marks {
            self.flags.set(n as usize, bits);
        }
        self.violation_node = Arc::new(f.violation_node);
        self.violations_at = Arc::new(f.violations_at);
        self.violations_by_code = Arc::new(f.violations_by_code);
        self.conflict_of = Arc::new(f.conflict_of);
    }
}
