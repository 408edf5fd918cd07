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

pub mod export;
pub mod shiviz;
