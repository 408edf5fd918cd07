//! # weft-analyzer: happens-before, ordering violations and conflicting writes
//!
//! Given a [`weft_trace::Trace`], [`analyze`] builds the happens-before graph of the spec's
//! section 3 (program order, `parents`, messages, and edges derived from vector clocks), checks
//! it for the nine violation codes of section 4, finds the conflicting concurrent writes of
//! section 5 and returns the [`Report`] of section 6. [`render`] turns a report into the text,
//! JSON and JUnit forms `weft check` prints.
//!
//! The analyzer is pure: it does no I/O, reads no clock and keeps no global state, so the same
//! trace always gives the same report, whatever order its lines came in.
//!
//! ```
//! use weft_trace::{ReadOptions, Trace};
//!
//! let text = r#"{"replica":"a","seq":1,"kind":"write","key":"k","value":1,"lamport":1}
//! {"replica":"b","seq":1,"kind":"write","key":"k","value":2,"lamport":1}
//! "#;
//! let trace = Trace::from_ndjson_str("t.jsonl", text, &ReadOptions::default()).unwrap();
//! let report = weft_analyzer::analyze(&trace);
//! assert_eq!(report.summary.conflicts, 1);
//! assert_eq!(report.conflicts[0].winner.as_ref().unwrap().to_string(), "b@1");
//! assert_eq!(report.unresolved[0].siblings.len(), 2);
//! ```

mod clock;
mod conflicts;
mod engine;
mod finding;
mod graph;
mod par;
mod reads;
pub mod render;
mod report;

pub use clock::Clock;
pub use conflicts::element_text;
pub use engine::{Engine, MAX_CYCLE_RELATED};
pub use graph::{human_ns, CausalGraph, EdgeKind};
pub use report::{
    Code, Conflict, ConflictWhy, FailOn, Findings, KeyFindings, ReadEvidence, Report, Rule,
    Severity, Summary, Unresolved, Violation, WriteFacts, REPORT_FORMAT,
};

use weft_trace::{EventId, Trace};

/// Everything the analysis computed: the report, and the graph for tools that browse it.
pub struct Analysis {
    /// The happens-before graph.
    pub graph: CausalGraph,
    /// Nodes in a linear extension of happens-before that prefers arrival order (all nodes when
    /// acyclic; otherwise those not downstream of a cycle).
    pub causal_order: Vec<u32>,
    /// The findings.
    pub report: Report,
}

/// Checks a trace: the report of the spec's section 6. This is the [`Engine`] fed the trace
/// as one batch (on a copy of it: [`Engine::check`] takes the trace over instead).
pub fn analyze(trace: &Trace) -> Report {
    Engine::check(trace.clone())
}

/// Checks a trace and keeps the graph (on a copy of the trace: [`analyze_owned`] takes it over
/// and gives it back).
pub fn analyze_full(trace: &Trace) -> Analysis {
    analyze_owned(trace.clone()).1
}

/// Checks a trace and keeps the graph, taking the trace over and giving it back afterwards.
pub fn analyze_owned(trace: Trace) -> (Trace, Analysis) {
    let mut engine = Engine::from_trace(trace);
    let report = engine.report();
    let graph = CausalGraph::from_engine(&engine);
    let causal_order = graph.causal_order();
    (
        engine.into_trace(),
        Analysis {
            graph,
            causal_order,
            report,
        },
    )
}

/// The report of the spec's section 6 from the findings (each with its event's id), the
/// conflicts and unresolved keys (sorted): malformed lines first, then the findings in id
/// order (then code, then related ids), and the summary counts.
pub(crate) fn assemble(
    trace: &Trace,
    mut findings: Vec<(EventId, finding::Finding)>,
    conflicts: Vec<Conflict>,
    unresolved: Vec<Unresolved>,
    replicas: u64,
    complete: bool,
    reads_checked: u64,
) -> Report {
    findings.sort_by(|(ia, a), (ib, b)| {
        (ia, a.code.as_str(), &a.related).cmp(&(ib, b.code.as_str(), &b.related))
    });
    // At most `Report::MAX_PER_CODE` violations of a code are listed, the first in report
    // order; the rest are only counted (`summary.omitted`). Errors and warnings stay exact.
    let cap = Report::MAX_PER_CODE;
    let mut omitted = std::collections::BTreeMap::new();
    let (mut errors, mut warnings) = (0u64, 0u64);
    let mut tally = |code: Code, n: u64| match code.severity() {
        Severity::Error => errors += n,
        Severity::Warning => warnings += n,
    };
    let malformed = trace.malformed();
    let shown = malformed.len().min(cap);
    let all_malformed = trace.malformed_count().max(malformed.len() as u64);
    tally(Code::MalformedLine, all_malformed);
    if all_malformed > shown as u64 {
        omitted.insert(Code::MalformedLine, all_malformed - shown as u64);
    }
    let mut violations: Vec<Violation> = malformed[..shown]
        .iter()
        .map(|m| Violation {
            code: Code::MalformedLine,
            severity: Code::MalformedLine.severity(),
            event: None,
            related: vec![],
            message: format!("{m} (line skipped)"),
            read: None,
        })
        .collect();
    let mut listed = std::collections::BTreeMap::<Code, usize>::new();
    for (id, f) in findings {
        tally(f.code, 1);
        let n = listed.entry(f.code).or_insert(0);
        if *n >= cap {
            *omitted.entry(f.code).or_insert(0) += 1;
            continue;
        }
        *n += 1;
        let mut related: Vec<EventId> = f.related;
        related.sort();
        violations.push(Violation {
            code: f.code,
            severity: f.code.severity(),
            event: Some(id),
            related,
            message: f.message,
            read: f.read,
        });
    }
    let summary = Summary {
        events: trace.len() as u64,
        replicas,
        duplicates: trace.duplicates(),
        errors,
        warnings,
        conflicts: conflicts.len() as u64,
        unresolved: unresolved.len() as u64,
        reads_checked,
        complete,
        omitted,
    };
    Report {
        format: REPORT_FORMAT,
        summary,
        violations,
        conflicts,
        unresolved,
    }
}
