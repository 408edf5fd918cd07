//! # weft-interop: ShiViz / GoVector logs in; ShiViz, Graphviz DOT and Mermaid out
//!
//! Most teams that already track causality log vector clocks the GoVector way (GoVector,
//! CVector, JVector, DinvVector, the DistributedClocks tracing server, TLA+ traces written for
//! ShiViz). [`shiviz::import`] reads those logs as they are — ShiViz's regex semantics, headers,
//! several executions, clocks as found in the wild — into weft events, reporting what it skipped
//! and every clock that breaks a host's own counter. [`export`] hands a weft trace to the tools
//! people already use: a ShiViz log (with implied vector clocks, so importing it back gives the
//! same happens-before), Graphviz DOT and Mermaid.
//!
//! The crate reads and writes text only: callers read files and write output.
//!
//! ## CRDT document importers: one shape for every library
//!
//! Local-first libraries already record the causality weft needs (actors, sequence numbers,
//! change dependencies, op counters), so their documents are imported as they are stored, with
//! no instrumentation. Every such importer (`automerge`, `loro`) is a module with the same API,
//! so that `weft import FORMAT`, `--input FORMAT` and the tests call them alike:
//!
//! ```text
//! pub struct ImportOptions { .. }            // Default = what the CLI does without flags
//! pub fn import(
//!     inputs: &[(String, Vec<u8>)],          // (name as given on the command line, bytes)
//!     opts: &ImportOptions,
//! ) -> Result<Vec<weft_trace::Event>, ImportError>;
//! pub enum ImportError { .. }                // the module's own typed error
//! ```
//!
//! * Several inputs are one document (a snapshot plus the incremental saves made after it, or
//!   the exports of several peers), in any order.
//! * The events are a complete weft-trace/1 history (seq 1, 2, … per replica, `parents` only
//!   to events in the result), in an order fixed by the document, so the same bytes give the
//!   same trace.
//! * `ImportError`'s `Display` is `FILE: reason` — the input's name as given and what is wrong
//!   with it (not a document of this kind, truncated, corrupt, checksum mismatch, depends on
//!   changes no input holds) — and importing never panics, whatever the bytes: the CLI prints it
//!   and exits 2.
//! * The mapping from the library's history to events is documented in the module and in the
//!   README's table for that library.
//!
//! ```
//! use weft_interop::export::{self, ExportOptions};
//! use weft_interop::shiviz::{self, ImportOptions};
//! use weft_trace::{ReadOptions, Trace};
//!
//! // A GoVector log: the header line is the regex, the second the (empty) delimiter.
//! let log = "(?<host>\\S*) (?<clock>{.*})\\n(?<event>.*)\n\n\
//!            a {\"a\":1}\nsend hello\n\
//!            b {\"a\":1, \"b\":1}\nreceive hello\n";
//! let imported = shiviz::import(&[("app.log".into(), log.into())], &ImportOptions::default())
//!     .unwrap();
//! assert_eq!(imported.executions[0].events.len(), 2);
//! let ndjson = shiviz::to_ndjson(&imported.executions[0], &Default::default());
//!
//! // Checked like any weft trace, and drawn for Graphviz.
//! let trace = Trace::from_ndjson_str("app.jsonl", &ndjson, &ReadOptions::default()).unwrap();
//! let analysis = weft_analyzer::analyze_full(&trace);
//! assert_eq!(analysis.report.summary.errors, 0);
//! let dot = export::dot(&trace, &analysis, &ExportOptions::default()).unwrap();
//! assert!(dot.contains("\"a@1\" -> \"b@1\""));
//! ```

pub mod automerge;
pub mod export;
pub mod loro;
pub mod path;
pub mod shiviz;
