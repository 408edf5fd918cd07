//! Exports of a weft trace to other tools: a ShiViz log ([`shiviz`]), a Graphviz graph
//! ([`dot`]) and a Mermaid sequence diagram ([`mermaid`]).
//!
//! Every export reads the trace *and* its [`Analysis`] (from [`weft_analyzer::analyze_full`]):
//! the edges come from the analyzer's happens-before graph (so an export shows exactly the
//! graph `weft check` judged), and the findings (conflicting writes, violations) are marked on
//! the events they are attached to. The exports are pure functions returning a `String`; they
//! never panic, whatever the trace — an input they cannot express is an [`ExportError`].
//!
//! ```
//! use weft_interop::export::{self, ExportOptions};
//! use weft_trace::{ReadOptions, Trace};
//!
//! let text = r#"{"replica":"a","seq":1,"kind":"send","msg":"m1"}
//! {"replica":"b","seq":1,"kind":"recv","msg":"m1"}
//! {"replica":"b","seq":2,"kind":"write","key":"k","value":3}
//! "#;
//! let trace = Trace::from_ndjson_str("t.jsonl", text, &ReadOptions::default()).unwrap();
//! let analysis = weft_analyzer::analyze_full(&trace);
//! let opts = ExportOptions::default();
//!
//! let log = export::shiviz(&trace, &analysis, &opts).unwrap();
//! assert!(log.contains("b {\"b\":1,\"a\":1}\n"));
//!
//! let dot = export::dot(&trace, &analysis, &opts).unwrap();
//! assert!(dot.contains("\"a@1\" -> \"b@1\""));
//!
//! let mmd = export::mermaid(&trace, &analysis, &opts).unwrap();
//! assert!(mmd.contains("p0->>p1: m1"));
//! ```
//!
//! # Options
//!
//! [`ExportOptions::transitive_reduction`] draws only the edges no other path implies (the
//! "covering" edges of happens-before), which is what a reader needs to follow causality in a
//! large picture; it needs an acyclic trace. [`ExportOptions::around`] draws only the
//! neighbourhood of one event, for traces too large to read (or, for Mermaid, to draw) whole.
//!
//! # Coordinates in the ShiViz log
//!
//! ShiViz forces two renamings (see [`shiviz`]): hosts cannot contain whitespace, and a host's
//! clock entries count its events `1, 2, 3, …` whatever the seqs. The host line and the clock
//! are therefore in ShiViz's coordinates (host name, position), while the `weft` object of the
//! event text is in the trace's (original `replica` when renamed, original `seq` when it differs
//! from the position, `parents` as written). An importer that restores the original ids maps
//! each clock entry `host: k` to the seq of that host's `k`-th event in the log.

mod clocks;
mod marks;
mod select;
mod text;
mod to_dot;
mod to_mermaid;
mod to_shiviz;

use weft_analyzer::Analysis;
use weft_trace::{EventId, Trace};

pub use to_shiviz::SHIVIZ_REGEX;

/// The most events [`mermaid`] draws: a sequence diagram with more is unreadable, and the
/// Mermaid renderers of code hosts refuse large diagrams anyway. Pick a part with
/// [`ExportOptions::around`].
pub const MERMAID_MAX_EVENTS: usize = 300;

/// The most vector-clock entries (events × replicas) an export computes. The implied clocks are
/// kept densely (4 bytes an entry) so that "is `a` in the past of `b`" is one array read; this
/// bound (1 GiB of clocks) turns a pathological trace (say a million replicas with one event
/// each) into [`ExportError::ClocksTooBig`] instead of an allocation failure.
pub const MAX_CLOCK_ENTRIES: usize = 1 << 28;

/// The neighbourhood of one event: [`ExportOptions::around`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Around {
    /// The event in the middle. It must be in the trace ([`ExportError::UnknownEvent`]).
    pub event: EventId,
    /// How many edges away (in either direction, over every kind of edge drawn, program order
    /// included) an event may be and still be drawn. `0` draws the event alone.
    pub depth: u32,
}

/// What to draw. The default draws the whole graph with every direct edge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// Draw only the edges that no other path implies: an edge `u → v` is dropped when `u`
    /// happens before another direct predecessor of `v`. Happens-before (the transitive
    /// closure) is unchanged, the picture is much lighter. Two edges between the same pair
    /// (say a program-order edge and a message to oneself) count as one, and the cross edge is
    /// the one kept, since it says more.
    ///
    /// The reduction of a graph with a cycle is not unique, so this needs an acyclic trace
    /// ([`ExportError::Cycle`]). [`shiviz`] accepts it and writes the same log either way:
    /// a ShiViz log has no edges, only clocks, and the clocks are the same.
    pub transitive_reduction: bool,
    /// Draw only the events within [`Around::depth`] edges of [`Around::event`], and the edges
    /// among them. The distance is measured over the edges that are drawn, so with
    /// [`ExportOptions::transitive_reduction`] it is measured in the reduced graph: every event
    /// drawn is then connected to the chosen one by drawn edges.
    ///
    /// Only [`dot`] and [`mermaid`] support it: a partial ShiViz log would break ShiViz's clock
    /// rules ([`ExportError::Unsupported`]).
    pub around: Option<Around>,
}

/// Why an export cannot be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The event of [`ExportOptions::around`] is not in the trace.
    #[error("event {0} is not in the trace")]
    UnknownEvent(EventId),
    /// The trace has a causality cycle (`report.summary.complete` is false), so happens-before
    /// is not a partial order: a ShiViz log needs vector clocks, which only a DAG has, and a
    /// transitive reduction is only unique for a DAG. `weft check` shows the cycle.
    #[error(
        "the trace has a causality cycle (see `weft check`): happens-before is not a partial order, so there are no vector clocks and no unique transitive reduction"
    )]
    Cycle,
    /// [`mermaid`] draws at most `limit` events ([`MERMAID_MAX_EVENTS`]); `events` were to be
    /// drawn.
    #[error(
        "{events} events are too many for a Mermaid diagram (at most {limit}); draw the part around one event (--around), or export DOT"
    )]
    TooBig {
        /// Events that would have been drawn.
        events: usize,
        /// The limit.
        limit: usize,
    },
    /// The implied vector clocks would have more than `limit` entries ([`MAX_CLOCK_ENTRIES`]).
    #[error(
        "implied vector clocks of {events} events over {replicas} replicas are too large (more than {limit} entries)"
    )]
    ClocksTooBig {
        /// Events in the trace.
        events: usize,
        /// Replicas with events.
        replicas: usize,
        /// The limit on events × replicas.
        limit: usize,
    },
    /// An option the format cannot honour (`option` is its name, `format` the export's).
    #[error("the {format} export does not support {option}")]
    Unsupported {
        /// The export: `"shiviz"`, `"dot"` or `"mermaid"`.
        format: &'static str,
        /// The option, as the command line spells it.
        option: &'static str,
    },
    /// The analysis passed is not the analysis of the trace passed (a programming error,
    /// reported instead of indexing out of bounds).
    #[error("the analysis has {analysis_events} events but the trace has {trace_events}: it is not this trace's analysis")]
    AnalysisMismatch {
        /// Events in the trace.
        trace_events: usize,
        /// Events in the analysis' graph (or an out-of-range node in its causal order).
        analysis_events: usize,
    },
}

/// The trace as a ShiViz log: GoVector's header (the parsing regex [`SHIVIZ_REGEX`], then an
/// empty line: one execution), then two lines per event, `HOST {clock}` and the event text.
///
/// * **Clocks.** ShiViz insists that each host's own clock entry starts at 1 and rises by
///   exactly 1, and that a clock names only hosts in the log; it then derives the
///   communication edges from the clocks. So every event is written with the vector clock
///   *implied by the graph*, not the one the trace reported: per replica, the number of that
///   replica's events in the causal past (the event's own entry is its 1-based position in its
///   replica). Zero entries are left out; the own entry comes first, then the others in
///   replica order. A replica whose seqs have gaps is thus **renumbered**: its events get
///   positions `1, 2, 3, …` in the clocks, and the original seq is kept in the event text
///   (below). A reported `vc` that contradicts the graph is not written (`weft check` reports
///   it as `vc-mismatch`).
/// * **Order.** Events are written in the analysis' causal order (a linear extension of
///   happens-before), which keeps each host's events in program order as ShiViz requires.
/// * **Hosts.** A ShiViz host is `\S*`: whitespace in a replica name (Unicode whitespace, and
///   U+FEFF, which JavaScript's `\s` also matches) is replaced by `_`. If that makes two names
///   equal, the later replica (in name order) gets `~2` (`~3`, …) appended. A renamed host's
///   original name is kept in the event text.
/// * **Event text.** One JSON object on one line:
///   `{"text":"write cart set 3","weft":{...}}`. `text` is for people reading the log in
///   ShiViz. `weft` holds what an importer needs to restore the event: `kind`, `key`, `op`
///   (when the trace gave one), `value`, `lamport`, `wall_ns`, `msg`, `parents` (as
///   `[[replica, seq], …]`, original names and seqs) and `attrs`, in that order, absent ones
///   left out; plus `replica` (the original name) when the host was renamed and `seq` (the
///   original seq) when it differs from the position. U+2028 and U+2029 are written as JSON
///   escapes, since JavaScript's `.` stops at them.
///
/// Reading the log back (restoring the original ids as the module docs describe) gives the same
/// happens-before and, for a trace whose vector clocks agree with its graph, the same report.
/// Not carried: the reported `vc` fields (replaced by the implied clocks, so `vc-mismatch` and
/// a vector-clock `missing-event` are gone), the trace's header lines, identical duplicates,
/// differing duplicates (the copy analysed is written) and skipped lines. An importer that keeps
/// the positions as seqs instead gets the same graph with renumbered ids and loses `seq-gap`;
/// a `parents` entry naming an event of a renumbered or renamed replica then points elsewhere.
///
/// Errors: [`ExportError::Cycle`] (no vector clocks without a partial order),
/// [`ExportError::Unsupported`] for [`ExportOptions::around`], [`ExportError::ClocksTooBig`],
/// [`ExportError::AnalysisMismatch`].
pub fn shiviz(
    trace: &Trace,
    analysis: &Analysis,
    opts: &ExportOptions,
) -> Result<String, ExportError> {
    check_analysis(trace, analysis)?;
    if opts.around.is_some() {
        return Err(ExportError::Unsupported {
            format: "shiviz",
            option: "--around",
        });
    }
    to_shiviz::write(trace, analysis)
}

/// The trace as a Graphviz graph: `digraph weft { … }`.
///
/// * One `subgraph cluster_<rank>` per replica (rank = position in name order), labelled with
///   the replica name, holding its events and the program-order edges between them (plain
///   edges).
/// * One node per event, with id `"replica@seq"` and a label of the id, the kind and a short
///   text of its message / key / op / value.
/// * Cross edges, after the clusters, styled by why they exist: a message `style=solid` (blue,
///   labelled with the message id), a `parents` entry `style=dashed` (green), a vector-clock
///   derived edge `style=dotted` (grey).
/// * Both writes of every conflict are filled magenta; an event with violations gets a red
///   (an error) or orange (only warnings) outline and text. The tooltip lists the codes with
///   their messages and the conflicts.
///
/// Ids and labels are quoted and escaped for Graphviz: in an id, `"` is written `\"`, a
/// backslash `\\`, newline and carriage return `\n` and `\r`, and any other control character
/// `\xHH` — so distinct ids stay distinct and no backslash-newline is ever written (DOT would
/// drop it). In labels and tooltips, control characters are shown as Rust escapes (`\n`, `\u{1}`)
/// and backslashes are doubled, so nothing a replica writes is read as a Graphviz escape (`\N`,
/// `\l`, …).
///
/// Errors: [`ExportError::UnknownEvent`] for [`ExportOptions::around`]; [`ExportError::Cycle`]
/// and [`ExportError::ClocksTooBig`] for [`ExportOptions::transitive_reduction`];
/// [`ExportError::AnalysisMismatch`]. A graph with a cycle is drawn as it is.
pub fn dot(
    trace: &Trace,
    analysis: &Analysis,
    opts: &ExportOptions,
) -> Result<String, ExportError> {
    check_analysis(trace, analysis)?;
    let sel = select::select(trace, analysis, opts)?;
    Ok(to_dot::write(trace, analysis, &sel))
}

/// The trace as a Mermaid `sequenceDiagram`, one participant per replica (`p<rank>`, shown with
/// the replica name).
///
/// Events are drawn in causal order (when there is a cycle, the events it leaves out follow in
/// id order). At each event: its incoming cross edges as arrows — a message `A->>B: msg`,
/// a `parents` entry `A-->>B: parent`, a vector-clock edge `A--)B: vc` — then a note
/// `Note over A: r1@4 write doc set "v4"`. A `send` or `recv` whose message arrow is drawn gets
/// no note unless it has something to mark. Conflicting writes are marked `⚠ conflict with …`,
/// violations `⛔ code` (errors) or `⚠ code` (warnings).
///
/// Text from the trace is escaped with Mermaid's entity codes (`#59;` for `;`, also `#`, `:`,
/// `%`, `<`, `>`, `&`, `"`), control characters are shown as Rust escapes (`\n`), and long
/// values are cut.
///
/// Errors: [`ExportError::TooBig`] when more than [`MERMAID_MAX_EVENTS`] events would be drawn
/// (use [`ExportOptions::around`]); [`ExportError::UnknownEvent`]; [`ExportError::Cycle`] and
/// [`ExportError::ClocksTooBig`] for [`ExportOptions::transitive_reduction`];
/// [`ExportError::AnalysisMismatch`].
pub fn mermaid(
    trace: &Trace,
    analysis: &Analysis,
    opts: &ExportOptions,
) -> Result<String, ExportError> {
    check_analysis(trace, analysis)?;
    if opts.around.is_none() && trace.len() > MERMAID_MAX_EVENTS {
        return Err(ExportError::TooBig {
            events: trace.len(),
            limit: MERMAID_MAX_EVENTS,
        });
    }
    let sel = select::select(trace, analysis, opts)?;
    if sel.count > MERMAID_MAX_EVENTS {
        return Err(ExportError::TooBig {
            events: sel.count,
            limit: MERMAID_MAX_EVENTS,
        });
    }
    Ok(to_mermaid::write(trace, analysis, &sel))
}

/// The exports index the trace through the analysis' graph: make sure they belong together.
fn check_analysis(trace: &Trace, analysis: &Analysis) -> Result<(), ExportError> {
    let n = trace.len();
    let g = &analysis.graph;
    let bad = |analysis_events| {
        Err(ExportError::AnalysisMismatch {
            trace_events: n,
            analysis_events,
        })
    };
    if g.len() != n {
        return bad(g.len());
    }
    if let Some(&v) = analysis.causal_order.iter().find(|&&v| v as usize >= n) {
        return bad(v as usize + 1);
    }
    let names = trace.names();
    for v in 0..n as u32 {
        let i = g.event(v);
        let r = g.rank(v);
        let Some(e) = trace.events().get(i) else {
            return bad(n);
        };
        let sym = (r as usize) < g.replicas();
        if !sym
            || e.seq != g.seq(v)
            || (g.replica_sym(r) as usize) >= names.len()
            || names.resolve(e.replica) != names.resolve(g.replica_sym(r))
        {
            return bad(n);
        }
    }
    Ok(())
}
