//! The collector's HTTP API as types: what `POST /v1/events` answers, what `GET /v1/status`
//! reports, what a line of `GET /v1/findings` says, and the error body of every refusal.
//!
//! The collector serializes these; the TUI, the demo, the benchmarks and anyone else's client
//! deserialize them. Reading is forgiving where a newer or older collector may differ: a counter
//! that is missing or not an unsigned integer reads as 0 (and unknown fields are ignored), so a
//! dashboard keeps working across versions instead of failing on one renamed field. Only
//! `events` is required of a status: without it the body is not a collector's status at all.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Reads any JSON value as a counter: an unsigned integer is itself, anything else 0.
fn counter<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(Value::deserialize(d)?.as_u64().unwrap_or(0))
}

/// Reads a part that has a shape of its own (an object, a string): as that shape when it has
/// it, else as the default — one odd part does not make the whole answer unreadable.
fn or_default<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(T::deserialize(Value::deserialize(d)?).unwrap_or_default())
}

/// Reads any JSON value as a flag: `true` is true, anything else false.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Value::deserialize(d)?.as_bool().unwrap_or(false))
}

/// `200` to `POST /v1/events`: the batch is durable (fsynced) before this is sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ingested {
    /// Lines in the request.
    #[serde(default, deserialize_with = "counter")]
    pub received: u64,
    /// New events stored.
    #[serde(default, deserialize_with = "counter")]
    pub stored: u64,
    /// Exact copies of events already stored (dropped, spec section 3).
    #[serde(default, deserialize_with = "counter")]
    pub duplicates: u64,
    /// Same id, different content as an event already stored (the first copy is kept).
    #[serde(default, deserialize_with = "counter")]
    pub conflicting_duplicates: u64,
}

/// One rejected line of an NDJSON batch (in [`ApiError::lines`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadLine {
    /// 1-based line number in the request body.
    pub line: u64,
    /// Why it is invalid.
    pub reason: String,
}

/// The body of every 4xx/5xx answer: what went wrong, and for a batch with invalid lines every
/// such line (nothing of that batch was stored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// One sentence for people.
    pub error: String,
    /// The invalid lines, when the refusal is about them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<BadLine>>,
}

impl ApiError {
    /// A refusal that is not about lines of a batch.
    pub fn message(error: impl Into<String>) -> Self {
        ApiError {
            error: error.into(),
            lines: None,
        }
    }

    /// The body as sent: compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// `GET /v1/status`: the collector's counters, its live analysis and its store's health.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Events durably stored.
    #[serde(deserialize_with = "counter")]
    pub events: u64,
    /// Bytes of stored lines.
    #[serde(default, deserialize_with = "counter")]
    pub bytes_stored: u64,
    /// Per replica with at least one stored event, by name.
    #[serde(default, deserialize_with = "or_default")]
    pub replicas: BTreeMap<String, ReplicaStatus>,
    /// Exact duplicate events dropped.
    #[serde(default, deserialize_with = "counter")]
    pub duplicates: u64,
    /// Events whose id was stored before with different content (first copy kept).
    #[serde(default, deserialize_with = "counter")]
    pub conflicting_duplicates: u64,
    /// Invalid lines and OTLP records rejected.
    #[serde(default, deserialize_with = "counter")]
    pub rejected: u64,
    /// Batches refused because the write queue was full.
    #[serde(default, deserialize_with = "counter")]
    pub dropped_batches: u64,
    /// OTLP records skipped because they had no weft sequence number.
    #[serde(default, deserialize_with = "counter")]
    pub skipped_otlp_records: u64,
    /// Batches waiting for the store.
    #[serde(default, deserialize_with = "counter")]
    pub queue_depth: u64,
    /// The live analysis.
    #[serde(default, deserialize_with = "or_default")]
    pub analysis: AnalysisStatus,
    /// The store.
    #[serde(default, deserialize_with = "or_default")]
    pub store: StoreStatus,
}

/// One replica's counters in [`Status::replicas`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaStatus {
    /// Events stored.
    #[serde(default, deserialize_with = "counter")]
    pub events: u64,
    /// Largest seq stored.
    #[serde(default, deserialize_with = "counter")]
    pub last_seq: u64,
}

/// The `analysis` object of [`Status`]: `{"on": false}` when the collector runs without
/// analysis, else the live report's counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisStatus {
    /// Whether the collector analyses what it stores.
    #[serde(default, deserialize_with = "flag")]
    pub on: bool,
    /// The counts, when on.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveAnalysis>,
}

/// The live report's counts (see the JSON report's `summary`, spec section 9).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAnalysis {
    /// Events the analysis has taken in.
    #[serde(deserialize_with = "counter")]
    pub events_analysed: u64,
    /// Events stored but not analysed yet.
    #[serde(default, deserialize_with = "counter")]
    pub lag_events: u64,
    /// Violations of error severity.
    #[serde(default, deserialize_with = "counter")]
    pub errors: u64,
    /// Violations of warning severity.
    #[serde(default, deserialize_with = "counter")]
    pub warnings: u64,
    /// Conflicting pairs of concurrent writes.
    #[serde(default, deserialize_with = "counter")]
    pub conflicts: u64,
    /// Keys whose concurrent latest writes stay siblings.
    #[serde(default, deserialize_with = "counter")]
    pub unresolved: u64,
    /// Reads checked against their causal past.
    #[serde(default, deserialize_with = "counter")]
    pub reads_checked: u64,
    /// Whether every event's causal past is in the trace.
    #[serde(default, deserialize_with = "flag")]
    pub complete: bool,
    /// Changes published on `GET /v1/findings` so far (the next change's number).
    #[serde(default, deserialize_with = "counter")]
    pub findings_changes: u64,
}

/// The `store` object of [`Status`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStatus {
    /// Whether writes are taken now.
    #[serde(default, deserialize_with = "flag")]
    pub writable: bool,
    /// The store's state.
    #[serde(default, deserialize_with = "or_default")]
    pub health: Health,
    /// [`Health::describe`], for people.
    #[serde(default, deserialize_with = "or_default")]
    pub message: String,
    /// Writes that failed since the start.
    #[serde(default, deserialize_with = "counter")]
    pub write_errors: u64,
    /// The last failure's message.
    #[serde(default, deserialize_with = "or_default")]
    pub last_write_error: Option<String>,
}

/// Whether the store is taking writes. On the wire `{"state": "ok"}`, `{"state": "full",
/// "reason": "..."}` or `{"state": "failed", "reason": "..."}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum Health {
    /// Writing.
    #[default]
    Ok,
    /// Refusing writes until the file system has space again.
    Full(String),
    /// Refusing writes: the last segment could not be brought back to its durable state; the
    /// repair is retried.
    Failed(String),
}

impl Health {
    /// A one-line description for people: "ok", or why writes are refused.
    pub fn describe(&self) -> String {
        match self {
            Health::Ok => "ok".into(),
            Health::Full(r) => format!("refusing writes: the disk is full ({r})"),
            Health::Failed(r) => format!("refusing writes: the store failed ({r})"),
        }
    }
}

/// What happened to a finding, in a line of `GET /v1/findings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The finding is new in the live report.
    Added,
    /// The finding left the live report (new events resolved or superseded it).
    Retracted,
    /// The reader fell behind the changes the collector keeps: this is one of the current
    /// findings, sent whole, after which changes follow again.
    Resync,
}

/// A finding as the JSON report holds it (spec section 9): the object is the report's own
/// item, kept as JSON so this crate does not depend on the analyzer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// An item of the report's `violations`.
    Violation(Value),
    /// An item of the report's `conflicts`.
    Conflict(Value),
    /// An item of the report's `unresolved`.
    Unresolved(Value),
}

/// One line of `GET /v1/findings`: `{"seq": 7, "change": "added", "conflict": {...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingChange {
    /// The change's number (`from` resumes after it); `null` for a [`ChangeKind::Resync`] line.
    pub seq: Option<u64>,
    /// What happened.
    pub change: ChangeKind,
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_reads_forgivingly_and_needs_events() {
        let s: Status = serde_json::from_str(
            r#"{"events": 5, "rejected": "x", "new_field": [1], "analysis": 3, "store": {"health": 1}}"#,
        )
        .unwrap();
        assert_eq!(s.events, 5);
        assert_eq!(s.rejected, 0);
        assert!(s.replicas.is_empty());
        assert!(!s.analysis.on);
        assert_eq!(s.store.health, Health::Ok);
        assert!(serde_json::from_str::<Status>(r#"{"rejected": 1}"#).is_err());
    }

    #[test]
    fn analysis_off_is_one_field_and_on_is_flat() {
        let off = AnalysisStatus::default();
        assert_eq!(serde_json::to_string(&off).unwrap(), r#"{"on":false}"#);
        let on = AnalysisStatus {
            on: true,
            live: Some(LiveAnalysis {
                events_analysed: 3,
                complete: true,
                ..LiveAnalysis::default()
            }),
        };
        let text = serde_json::to_string(&on).unwrap();
        assert!(
            text.starts_with(r#"{"on":true,"events_analysed":3,"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<AnalysisStatus>(&text).unwrap(), on);
    }

    #[test]
    fn health_is_tagged() {
        let h = Health::Full("ENOSPC".into());
        let text = serde_json::to_string(&h).unwrap();
        assert_eq!(text, r#"{"state":"full","reason":"ENOSPC"}"#);
        assert_eq!(serde_json::from_str::<Health>(&text).unwrap(), h);
        assert_eq!(
            serde_json::to_string(&Health::Ok).unwrap(),
            r#"{"state":"ok"}"#
        );
    }

    #[test]
    fn a_finding_change_is_flat() {
        let line = r#"{"seq":null,"change":"resync","conflict":{"key":"k"}}"#;
        let c: FindingChange = serde_json::from_str(line).unwrap();
        assert_eq!(c.seq, None);
        assert_eq!(c.change, ChangeKind::Resync);
        assert_eq!(
            c.finding,
            Finding::Conflict(serde_json::json!({"key": "k"}))
        );
        assert_eq!(serde_json::to_string(&c).unwrap(), line);
    }
}
