//! # weft-api: weft's wire contract
//!
//! The types that cross a process boundary, and nothing else: no reader, no compression, no
//! analysis. A service that only writes events (with `weft-clock`) or only talks to a collector
//! depends on this crate and serde alone.
//!
//! * [`model`]: one line of a weft-trace/1 file — [`Event`], [`EventId`], [`Kind`], [`Op`],
//!   [`Crdt`], the [`Header`] and the limits a reader enforces ([`MAX_REPLICA_BYTES`]). The
//!   normative text is the spec, `trace-format.md`; `weft-trace` reads and writes files of these.
//! * [`http`]: the collector's HTTP API — [`http::Status`] (`GET /v1/status`),
//!   [`http::Ingested`] (`POST /v1/events`), [`http::FindingChange`] (a line of
//!   `GET /v1/findings`), [`http::ApiError`] (every refusal's body). The collector serializes
//!   them; the TUI, the demo and the benchmarks read them.
//!
//! ```
//! use weft_api::{http::Status, Event, Kind};
//!
//! let e: Event = serde_json::from_str(r#"{"replica":"a","seq":1,"kind":"send","msg":"m1"}"#).unwrap();
//! assert_eq!(e.kind, Kind::Send);
//! assert_eq!(e.id().to_string(), "a@1");
//!
//! let s: Status = serde_json::from_str(r#"{"events": 42, "analysis": {"on": false}}"#).unwrap();
//! assert_eq!(s.events, 42);
//! assert!(!s.analysis.on);
//! ```

pub mod http;
pub mod model;

pub use model::{Crdt, Event, EventId, Header, Kind, Op, FORMAT, MAX_REPLICA_BYTES};
