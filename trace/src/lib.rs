//! # weft-trace: the weft-trace/1 event model and its NDJSON reader and writer
//!
//! Every part of weft speaks one format: newline-delimited JSON, one event per line, an optional
//! `{"format": "weft-trace/1"}` header, lines in any order. This crate owns that format and
//! nothing else — it does no analysis.
//!
//! * [`Event`], [`EventId`], [`Kind`], [`Op`], [`Crdt`]: the owned model, for programs that write traces.
//! * [`Trace`]: the compact, columnar form a reader builds (interned strings, varint clocks), for
//!   programs that analyse millions of events.
//! * [`TraceBuilder`] / [`Trace::read_inputs`]: streaming, line-numbered reading with the spec's
//!   duplicate rule (first copy kept; identical copies counted; differing copies flagged), gzip
//!   input (by name or by its magic bytes), and a lenient mode that turns malformed lines into
//!   [`Malformed`] records (the first [`MAX_MALFORMED_KEPT`] kept, all counted). A
//!   collector's data directory can be read while it is written: the unfinished end of its last
//!   segment is left out and counted ([`InFlight`]).
//! * [`Trace::append`]: a trace grows by batches read separately ([`Trace::batch_from_ndjson`],
//!   [`TraceBuilder::finish_batch`]), with the same result as one read of all their lines;
//!   [`Trace::find`] looks an id up.
//! * [`NdjsonWriter`] writes traces.
//!
//! ```
//! use weft_trace::{ReadOptions, Trace};
//!
//! let text = r#"{"format":"weft-trace/1"}
//! {"replica":"a","seq":1,"kind":"send","msg":"m1","vc":{"a":1}}
//! {"replica":"b","seq":1,"kind":"recv","msg":"m1","vc":{"a":1,"b":1}}
//! {"replica":"a","seq":1,"kind":"send","msg":"m1","vc":{"a":1}}
//! "#;
//! let trace = Trace::from_ndjson_str("example.jsonl", text, &ReadOptions::default()).unwrap();
//! assert_eq!(trace.len(), 2);
//! assert_eq!(trace.duplicates(), 1);
//! assert_eq!(trace.id(1).to_string(), "b@1");
//!
//! let err = Trace::from_ndjson_str("bad.jsonl", r#"{"replica":"a","seq":0}"#, &ReadOptions::default())
//!     .unwrap_err();
//! assert_eq!(err.to_string(), "bad.jsonl:1: field `seq`: must be an integer ≥ 1, got 0");
//! ```

pub mod collector_dir;
pub mod hash;
mod ids;
pub mod intern;
pub mod parquet;
mod parse;
pub mod read;
pub mod store;
pub mod vcenc;
pub mod write;

pub use intern::{Interner, Sym};
pub use model::{Crdt, Event, EventId, Header, Kind, Op, FORMAT};
pub use parse::{json_type, LineError, MAX_REPLICA_BYTES};
pub use read::{
    expand_inputs, expand_paths, split_lines, CheckedLine, Expanded, Input, LineChecker, LinePos,
    ReadError, ReadOptions, Skipped, TraceBuilder,
};
pub use store::{Appended, EventRec, InFlight, Malformed, Place, Trace, MAX_MALFORMED_KEPT, NONE};
/// The owned event model lives in the wire-contract crate, `weft-api`; re-exported here so a
/// program that reads traces needs one dependency.
pub use weft_api::model;
pub use write::NdjsonWriter;
