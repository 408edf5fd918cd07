//! The findings of the report, attached to the nodes they are about.

use std::collections::HashMap;

use weft_analyzer::{Analysis, Code, Severity};
use weft_trace::{EventId, Trace};

use super::select::find;

/// A conflict seen from one of its two writes.
pub(crate) struct ConflictMark {
    /// The key written.
    pub key: String,
    /// The other write.
    pub other: EventId,
    /// The winner, if any.
    pub winner: Option<EventId>,
    /// The rule (`lamport`, `wall`, `none`, `add-wins`).
    pub rule: &'static str,
}

/// A violation attached to a node.
pub(crate) struct ViolationMark {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
}

/// What the report says about one node.
#[derive(Default)]
pub(crate) struct Marks {
    pub conflicts: Vec<ConflictMark>,
    pub violations: Vec<ViolationMark>,
}

impl Marks {
    /// The worst severity of the node's violations.
    pub(crate) fn worst(&self) -> Option<Severity> {
        self.violations.iter().map(|v| v.severity).min()
    }
}

/// The marks of every node with something to mark.
pub(crate) fn collect(trace: &Trace, analysis: &Analysis) -> HashMap<u32, Marks> {
    let g = &analysis.graph;
    let mut marks: HashMap<u32, Marks> = HashMap::new();
    for c in &analysis.report.conflicts {
        for (this, other) in [(&c.a, &c.b), (&c.b, &c.a)] {
            if let Some(n) = find(trace, g, this) {
                marks.entry(n).or_default().conflicts.push(ConflictMark {
                    key: c.key.to_string(),
                    other: other.clone(),
                    winner: c.winner.clone(),
                    rule: c.rule.as_str(),
                });
            }
        }
    }
    for v in &analysis.report.violations {
        if let Some(n) = v.event.as_ref().and_then(|id| find(trace, g, id)) {
            marks.entry(n).or_default().violations.push(ViolationMark {
                code: v.code,
                severity: v.severity,
                message: v.message.clone(),
            });
        }
    }
    marks
}
