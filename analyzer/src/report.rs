//! The report: what `weft check` prints, in the exact shape of the spec's section 6.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use weft_trace::{Crdt, EventId};

/// How bad a violation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The trace contradicts itself: `weft check` fails by default.
    Error,
    /// Suspicious but possible: fails only with `--fail-on warning`.
    Warning,
}

/// The violation codes of the spec, plus `malformed-line` for lines skipped with `--lenient`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// An id seen twice with different content.
    DuplicateEvent,
    /// A replica's seqs skip a number (or do not start at 1).
    SeqGap,
    /// A `parents` entry or vc-derived predecessor is not in the trace.
    MissingEvent,
    /// A `recv` whose message no `send` carries.
    UnmatchedRecv,
    /// A message id carried by more than one `send`.
    DuplicateMsg,
    /// Events that happen before each other.
    CausalityCycle,
    /// A reported vector clock that differs from the one the graph implies.
    VcMismatch,
    /// A Lamport timestamp not above a direct predecessor's.
    LamportViolation,
    /// A wall clock that runs backwards across a causal edge between two replicas.
    WallClockInversion,
    /// A line skipped by `--lenient`.
    MalformedLine,
    /// A key whose events declare different types, or a write whose op does not fit the
    /// declared type (spec section 8).
    CrdtTypeConflict,
    /// A read returned a value (or element) written only by writes outside its causal past.
    ReadOfUnseenWrite,
    /// A read returned a value (or element) its causal past had already overwritten.
    StaleRead,
    /// Any other wrong read: a counter sum that differs, a missing element or sibling, a value
    /// no write wrote, a non-array for `mv`/`set`, a repeated element.
    ReadMismatch,
}

impl Code {
    /// Every code, in the spec's table order.
    pub const ALL: [Code; 14] = [
        Code::DuplicateEvent,
        Code::SeqGap,
        Code::MissingEvent,
        Code::UnmatchedRecv,
        Code::DuplicateMsg,
        Code::CausalityCycle,
        Code::VcMismatch,
        Code::LamportViolation,
        Code::WallClockInversion,
        Code::MalformedLine,
        Code::CrdtTypeConflict,
        Code::ReadOfUnseenWrite,
        Code::StaleRead,
        Code::ReadMismatch,
    ];

    /// The codes of spec section 8 that attach to a read (a verdict on what it returned).
    pub const READS: [Code; 3] = [Code::ReadOfUnseenWrite, Code::StaleRead, Code::ReadMismatch];

    /// Whether this is one of the codes of spec section 8 (reads and key types).
    pub fn is_read_code(self) -> bool {
        self == Code::CrdtTypeConflict || Code::READS.contains(&self)
    }

    /// The code as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::DuplicateEvent => "duplicate-event",
            Code::SeqGap => "seq-gap",
            Code::MissingEvent => "missing-event",
            Code::UnmatchedRecv => "unmatched-recv",
            Code::DuplicateMsg => "duplicate-msg",
            Code::CausalityCycle => "causality-cycle",
            Code::VcMismatch => "vc-mismatch",
            Code::LamportViolation => "lamport-violation",
            Code::WallClockInversion => "wall-clock-inversion",
            Code::MalformedLine => "malformed-line",
            Code::CrdtTypeConflict => "crdt-type-conflict",
            Code::ReadOfUnseenWrite => "read-of-unseen-write",
            Code::StaleRead => "stale-read",
            Code::ReadMismatch => "read-mismatch",
        }
    }

    /// The spec's severity for the code.
    pub fn severity(self) -> Severity {
        match self {
            Code::SeqGap | Code::WallClockInversion | Code::MalformedLine => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One ordering violation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    /// What is wrong.
    pub code: Code,
    /// How bad it is.
    pub severity: Severity,
    /// The event it is attached to (`None` only for `malformed-line`).
    pub event: Option<EventId>,
    /// Other events involved, ascending.
    pub related: Vec<EventId>,
    /// A human explanation with the evidence.
    pub message: String,
    /// For the read codes: the read's evidence, structured (the message says the same in
    /// words). Not written for other codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<Box<ReadEvidence>>,
}

/// What a read returned against what its causal past implies (spec section 8), for a
/// `read-of-unseen-write`, `stale-read` or `read-mismatch`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReadEvidence {
    /// The key read.
    pub key: String,
    /// Its type, declared or inferred.
    pub crdt: Crdt,
    /// What the read returned.
    pub value: Value,
    /// What it should have returned: the sum (`counter`), the elements (`set`, `mv`: an array,
    /// sorted by JSON text), or, with `one_of`, the values any one of which is right (`lww`:
    /// the values of the maximal writes of its past; `[null]` when it has none).
    pub expected: Value,
    /// `expected` lists alternatives (`lww`), not one value.
    pub one_of: bool,
    /// The witness chain in happens-before order, ending with the read: for `stale-read` the
    /// overwritten write, the write that overwrote it, the read; for `read-of-unseen-write` the
    /// unseen write and the read; for `read-mismatch` just the read.
    pub chain: Vec<EventId>,
    /// How many writes of the key are in the read's causal past.
    pub seen_writes: u64,
}
/// How a conflict resolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Last-writer-wins by `(lamport, replica)`.
    Lamport,
    /// Last-writer-wins by `(wall_ns, replica)`.
    Wall,
    /// No winner: the writes lack comparable clocks.
    None,
    /// Set elements: the add wins over the remove.
    AddWins,
}

impl Rule {
    /// The rule as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Lamport => "lamport",
            Rule::Wall => "wall",
            Rule::None => "none",
            Rule::AddWins => "add-wins",
        }
    }
}

/// Why two writes are concurrent: the evidence the text report shows. Not part of the JSON.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ConflictWhy {
    /// `VC(a)` at b's replica: how much of b's replica `a` had seen (`< b.seq`).
    pub a_saw_of_b: u64,
    /// `VC(b)` at a's replica (`< a.seq`).
    pub b_saw_of_a: u64,
    /// What the conflict repeats about `a`: one per write, shared by its conflicts (a write of
    /// a hot key is in thousands; a conflict holds two pointers instead of two copies).
    pub a: Arc<WriteFacts>,
    /// The same of `b`.
    pub b: Arc<WriteFacts>,
}

/// What the evidence of a conflict says about one of its writes.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct WriteFacts {
    /// The op and value, as text (`set 5`).
    pub does: String,
    /// Lamport and wall clocks, where present.
    pub clocks: (Option<u64>, Option<i64>),
}

/// Two concurrent writes that each are a latest concurrent write for the other.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Conflict {
    /// The key written: one string per key, shared by its conflicts.
    pub key: Arc<str>,
    /// The set element (`null` for registers): one per element, shared by its conflicts.
    pub element: Option<Arc<Value>>,
    /// The smaller id.
    pub a: EventId,
    /// The larger id.
    pub b: EventId,
    /// Who wins (`None` under rule `none`).
    pub winner: Option<EventId>,
    /// How it resolves.
    pub rule: Rule,
    /// Evidence for humans.
    #[serde(skip)]
    pub why: ConflictWhy,
}

/// A key whose register would still hold several sibling values once every replica has seen
/// everything.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unresolved {
    /// The key.
    pub key: String,
    /// The maximal register writes, ascending.
    pub siblings: Vec<EventId>,
}

/// Counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Distinct event ids.
    pub events: u64,
    /// Distinct replicas with events.
    pub replicas: u64,
    /// Identical copies dropped.
    pub duplicates: u64,
    /// Violations of severity error.
    pub errors: u64,
    /// Violations of severity warning.
    pub warnings: u64,
    /// Conflict entries.
    pub conflicts: u64,
    /// Unresolved entries (keys).
    pub unresolved: u64,
    /// Reads whose value was checked against their causal past (spec section 8).
    pub reads_checked: u64,
    /// False when a causality cycle stopped vc-mismatch and conflicts from being computed.
    pub complete: bool,
    /// Violations counted in `errors` and `warnings` but not listed in the report's
    /// `violations`, per code: beyond the first [`Report::MAX_PER_CODE`] of their code (for
    /// `malformed-line`, beyond what the trace kept, see `weft_trace::MAX_MALFORMED_KEPT`). Not
    /// written when nothing was left out.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub omitted: BTreeMap<Code, u64>,
}

/// One key's conflicts and unresolved siblings: the part of a [`Report`] that
/// [`crate::Engine::findings`] shares between reads instead of copying.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyFindings {
    /// The key.
    pub key: String,
    /// Its conflicts, in report order.
    pub conflicts: Vec<Conflict>,
    /// Its unresolved siblings, when a register.
    pub unresolved: Option<Unresolved>,
}

/// The engine's findings as a live reader takes them often: the report without its conflicts
/// and unresolved keys (its summary counts them all), and those per key, shared with the
/// engine (see [`crate::Engine::findings`]).
#[derive(Clone, Debug)]
pub struct Findings {
    /// The report, with `conflicts` and `unresolved` empty; `summary` is the whole report's.
    pub report: Report,
    /// The keys with conflicts or unresolved siblings, in report order (key bytewise).
    pub keys: Vec<std::sync::Arc<KeyFindings>>,
}

impl Findings {
    /// The whole report (copies the conflicts).
    pub fn to_report(&self) -> Report {
        let mut report = self.report.clone();
        for k in &self.keys {
            report.conflicts.extend(k.conflicts.iter().cloned());
            report.unresolved.extend(k.unresolved.iter().cloned());
        }
        report
    }
}

/// The whole result of checking a trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Always `weft-report/1`.
    pub format: &'static str,
    /// Counts.
    pub summary: Summary,
    /// Sorted by (event, code); `event: null` ones first, in input order.
    pub violations: Vec<Violation>,
    /// Sorted by (key, element as JSON text, a, b).
    pub conflicts: Vec<Conflict>,
    /// Sorted by key.
    pub unresolved: Vec<Unresolved>,
}

/// The report format name.
pub const REPORT_FORMAT: &str = "weft-report/1";

impl Report {
    /// At most this many violations of one code are listed in [`Report::violations`]: the first
    /// ones in the report's order. The others are counted in [`Summary::omitted`] (and in the
    /// exact `errors` and `warnings`), so a trace with millions of findings gives a report of
    /// bounded size.
    pub const MAX_PER_CODE: usize = 1000;

    /// How many violations of `code` are counted but not listed (see [`Summary::omitted`]).
    pub fn omitted(&self, code: Code) -> u64 {
        self.summary.omitted.get(&code).copied().unwrap_or(0)
    }

    /// The report as a JSON value (object keys sorted).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("reports serialize")
    }

    /// The report as pretty JSON text, fields in the spec's order.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialize")
    }

    /// Whether anything reaches `level`.
    pub fn fails(&self, level: FailOn) -> bool {
        match level {
            FailOn::Error => self.summary.errors > 0,
            FailOn::Warning => self.summary.errors + self.summary.warnings > 0,
            FailOn::Conflict => self.summary.errors + self.summary.conflicts > 0,
        }
    }
}

/// The `--fail-on` levels of `weft check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum FailOn {
    /// Fail on errors (the default).
    #[cfg_attr(feature = "clap", value(help = "Fail on errors"))]
    Error,
    /// Fail on errors and warnings.
    Warning,
    /// Fail on errors and conflicts.
    Conflict,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hot key's report holds millions of conflicts among a few thousand writes (18 million
    /// for 6,000 replicas writing one key): a conflict is small, and what it repeats about a
    /// write (the replica's name, the op text, the clocks) is shared with that write's other
    /// conflicts, not copied.
    #[test]
    fn conflicts_stay_small_and_share_what_they_repeat() {
        assert!(std::mem::size_of::<Conflict>() <= 136);
        let lines: String = (1..=4)
            .map(|r| {
                format!(
                    r#"{{"replica":"r{r}","seq":1,"kind":"write","key":"k","op":"set","value":{r},"lamport":1}}"#
                ) + "\n"
            })
            .collect();
        let trace = weft_trace::Trace::batch_from_ndjson("t", &lines, &Default::default()).unwrap();
        let report = crate::analyze(&trace);
        assert_eq!(report.conflicts.len(), 6);
        let of_r1: Vec<&Conflict> = report
            .conflicts
            .iter()
            .filter(|c| &*c.a.replica == "r1")
            .collect();
        assert_eq!(of_r1.len(), 3);
        for c in &of_r1 {
            assert!(Arc::ptr_eq(&c.a.replica, &of_r1[0].a.replica));
            assert!(Arc::ptr_eq(&c.why.a, &of_r1[0].why.a));
            assert!(Arc::ptr_eq(&c.key, &of_r1[0].key));
            assert_eq!(c.why.a.does, "set 1");
        }
    }
}
