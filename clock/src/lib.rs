//! # weft-clock: logical clocks for your replicas, emitted as weft events over OpenTelemetry
//!
//! weft draws the causality graph of a distributed system from events that carry logical
//! clocks. This crate is the part that runs inside your own replicas — phones, edge nodes,
//! services already instrumented with the OpenTelemetry SDK. It keeps each replica's clocks and
//! writes them onto OpenTelemetry log records with the `weft.*` attributes of the weft trace
//! format (section 7), so that `weft collect`, an OTLP endpoint, turns every record into a
//! weft-trace/1 event that `weft check` and `weft tui` understand.
//!
//! - A [`ReplicaClock`] per replica holds its event counter (`seq`), Lamport time and vector
//!   clock. Each event takes one call: [`tick`](ReplicaClock::tick) for local steps, writes,
//!   reads and sends, [`receive`](ReplicaClock::receive) for a message, and
//!   [`merge`](ReplicaClock::merge) for absorbing several remote states at once (it names them
//!   as the event's `parents`). Each call returns the event's [`Stamp`].
//! - A sender puts its send's [`Context`] on the message (as text: [`Context::to_header`]); the
//!   receiver reads it back with [`Context::from_header`], which refuses malformed or oversized
//!   input with a [`ClockError`] and never panics.
//! - A [`WeftEvent`] says what happened (kind, key or message, operation, value, the key's
//!   replicated type [`Crdt`]; for a read, the value it returned). [`emit`] sends
//!   it with its stamp through any OpenTelemetry [`Logger`](opentelemetry::logs::Logger);
//!   [`attach`] writes the attributes onto a record you emit yourself.
//!
//! The crate depends on the OpenTelemetry API only; the SDK and the exporter are yours to choose
//! (the OTLP exporter with its default endpoint reaches a local `weft collect`). It reads no clock
//! and keeps no global state: wall-clock time is an argument, so a simulation or a test that
//! passes its own time gets identical records on every run.
//!
//! ## Example
//!
//! A phone writes and sends the change to an edge node, which had written concurrently, then
//! receives it and reads the key:
//!
//! ```
//! use std::time::{Duration, SystemTime};
//!
//! use opentelemetry::logs::LoggerProvider as _;
//! use opentelemetry_sdk::logs::SdkLoggerProvider;
//! use weft_clock::{emit, Context, Crdt, Op, ReplicaClock, WeftEvent};
//! # use opentelemetry::logs::AnyValue;
//! # use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLogRecord};
//! # use std::sync::{Arc, Mutex};
//! # /// Keeps exported records in memory (the SDK's own in-memory exporter needs its
//! # /// `testing` feature).
//! # #[derive(Clone, Debug, Default)]
//! # struct Collect(Arc<Mutex<Vec<SdkLogRecord>>>);
//! # impl LogExporter for Collect {
//! #     async fn export(&self, batch: LogBatch<'_>) -> opentelemetry_sdk::error::OTelSdkResult {
//! #         let mut v = self.0.lock().unwrap();
//! #         v.extend(batch.iter().map(|(r, _)| r.clone()));
//! #         Ok(())
//! #     }
//! # }
//! # impl Collect {
//! #     fn records(&self) -> Vec<SdkLogRecord> { self.0.lock().unwrap().clone() }
//! # }
//!
//! // In a service this is `opentelemetry_otlp::LogExporter::builder().with_http().build()?`,
//! // behind a batch processor; here the records stay in memory so we can look at them.
//! let exporter = Collect::default();
//! let provider = SdkLoggerProvider::builder()
//!     .with_simple_exporter(exporter.clone())
//!     .build();
//! let logger = provider.logger("inventory");
//! let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let at = |ms: u64| Some(t0 + Duration::from_millis(ms));
//!
//! let mut phone = ReplicaClock::new("phone");
//! let mut edge = ReplicaClock::new("edge");
//!
//! // The phone sells one item (the stock is a counter), then sends the change to the edge node.
//! let sold = phone.tick();
//! let sale = WeftEvent::write("sku-1/stock").op(Op::Inc).value(-1).crdt(Crdt::Counter);
//! emit(&logger, &sold, &sale, at(0));
//! let send = phone.tick();
//! let msg = send.id().to_string(); // "phone@2": the send's own id is a unique message id
//! emit(&logger, &send, &WeftEvent::send(&msg), at(1));
//! let header = send.context().to_header(); // travels with the message
//! assert_eq!(header, r#"{"replica":"phone","seq":2,"lamport":2,"vc":{"phone":2}}"#);
//!
//! // Meanwhile the edge node restocks, knowing nothing of the sale.
//! let restock = edge.tick();
//! let delivery = WeftEvent::write("sku-1/stock").op(Op::Inc).value(10).crdt(Crdt::Counter);
//! emit(&logger, &restock, &delivery, at(1));
//! assert!(restock.concurrent_with(&sold));
//!
//! // The message arrives: the edge node's clocks now cover everything the phone had done.
//! let recv = edge.receive(&Context::from_header(&header)?);
//! emit(&logger, &recv, &WeftEvent::recv(&msg), at(5));
//! assert_eq!((recv.seq, recv.lamport), (2, 3)); // lamport = max(1, 2) + 1
//! assert_eq!(recv.vc["phone"], 2);
//! assert!(sold.happened_before(&recv) && restock.happened_before(&recv));
//!
//! // The edge node shows the stock: both increments are in its past, so it must read 9
//! // (`weft check` reports a read that does not: spec section 8).
//! let shown = edge.tick();
//! emit(&logger, &shown, &WeftEvent::read("sku-1/stock").crdt(Crdt::Counter).value(9), at(6));
//!
//! provider.force_flush()?;
//! let records = exporter.records();
//! assert_eq!(records.len(), 5);
//! let attr = |r: &SdkLogRecord, k: &str| {
//!     r.attributes_iter().find(|(key, _)| key.as_str() == k).map(|(_, v)| v.clone())
//! };
//! assert_eq!(attr(&records[3], "weft.kind"), Some(AnyValue::from("recv")));
//! assert_eq!(attr(&records[3], "weft.lamport"), Some(AnyValue::Int(3)));
//! assert_eq!(attr(&records[3], "weft.msg"), Some(AnyValue::from("phone@2")));
//! assert_eq!(records[3].body(), Some(&AnyValue::from("recv phone@2")));
//! assert_eq!(records[3].timestamp(), at(5));
//! assert_eq!(attr(&records[4], "weft.kind"), Some(AnyValue::from("read")));
//! assert_eq!(attr(&records[4], "weft.value"), Some(AnyValue::Int(9)));
//! assert_eq!(attr(&records[4], "weft.crdt"), Some(AnyValue::from("counter")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Getting it right
//!
//! - Stamp every event the replica records, in the order it happens, and record every stamp:
//!   a stamp that is never emitted is a gap in the history (`seq-gap`).
//! - The context a receiver merges must be the one of the `send` event whose `msg` the `recv`
//!   names; otherwise the vector clock and the message edge disagree (`vc-mismatch`).
//! - Replica names must be unique and stable. Seqs must never repeat, also across restarts:
//!   persist the latest stamp's context and [`ReplicaClock::resume`] from it.

mod clock;
mod context;
mod error;
mod otel;

pub use clock::{ReplicaClock, Stamp};
pub use context::Context;
pub use error::ClockError;
pub use otel::{attach, emit, WeftEvent, EVENT_NAME};
pub use weft_api::{Crdt, EventId, Kind, Op, MAX_REPLICA_BYTES};

/// The longest header text [`Context::from_header`] reads (64 KiB): enough for thousands of
/// replicas, small enough that a hostile peer cannot make a receiver parse much.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The most vector-clock entries a [`Context`] may have.
pub const MAX_VC_ENTRIES: usize = 100_000;

/// The largest clock value (`seq`, `lamport`, a vector-clock entry) a [`Context`] may hold:
/// OpenTelemetry ints are signed 64-bit.
pub const MAX_CLOCK: u64 = i64::MAX as u64;

/// Checks the spec's rule for replica names: 1 to [`MAX_REPLICA_BYTES`] bytes.
fn check_replica(name: &str) -> Result<(), ClockError> {
    if name.is_empty() || name.len() > MAX_REPLICA_BYTES {
        return Err(ClockError::InvalidReplica { len: name.len() });
    }
    Ok(())
}

/// The project README's code blocks, compiled as doc tests so its example cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
