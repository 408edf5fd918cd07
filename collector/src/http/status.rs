//! What the collector says about itself: `GET /v1/status` (JSON), `GET /healthz` and
//! `GET /metrics` (Prometheus text).

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{findings, AppState};
use weft_api::http::{Status, StoreStatus};

use crate::store::Health;
use crate::writer::StoreStats;

/// The writer's counters as of now (a copy: the lock is not held while answering).
fn store_stats(s: &AppState) -> StoreStats {
    s.shared
        .stats
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

/// `GET /v1/status` as the wire contract's type.
fn status(s: &AppState) -> Status {
    let stats = store_stats(s);
    let c = &s.ingest.counters;
    Status {
        events: stats.events,
        bytes_stored: stats.bytes,
        replicas: stats.replicas,
        duplicates: stats.duplicates,
        conflicting_duplicates: stats.conflicting_duplicates,
        rejected: c.rejected.load(Ordering::Relaxed),
        dropped_batches: c.dropped.load(Ordering::Relaxed),
        skipped_otlp_records: c.skipped.load(Ordering::Relaxed),
        queue_depth: s.ingest.queue_depth() as u64,
        analysis: findings::status(s),
        store: StoreStatus {
            writable: stats.health == Health::Ok,
            message: stats.health.describe(),
            health: stats.health,
            write_errors: stats.write_errors,
            last_write_error: stats.last_write_error,
        },
    }
}

/// `200 ok` while the store takes writes; `503` with the reason while it refuses them (disk
/// full, a failed repair): reads and streams still work then, but a load balancer should send
/// writes elsewhere.
pub(super) async fn get_health(State(s): State<AppState>) -> Response {
    let health = s
        .shared
        .stats
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .health
        .clone();
    match health {
        Health::Ok => (StatusCode::OK, "ok\n").into_response(),
        h => (StatusCode::SERVICE_UNAVAILABLE, h.describe() + "\n").into_response(),
    }
}

pub(super) async fn get_status(State(s): State<AppState>) -> Response {
    let body = serde_json::to_string_pretty(&status(&s)).expect("status serializes");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body + "\n",
    )
        .into_response()
}

pub(super) async fn get_metrics(State(s): State<AppState>) -> Response {
    let stats = store_stats(&s);
    let c = &s.ingest.counters;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    };
    metric(
        "weft_events_stored_total",
        "counter",
        "Events durably stored.",
        stats.events,
    );
    metric(
        "weft_bytes_stored_total",
        "counter",
        "Bytes of event lines stored.",
        stats.bytes,
    );
    metric(
        "weft_duplicates_dropped_total",
        "counter",
        "Exact duplicate events dropped.",
        stats.duplicates,
    );
    metric(
        "weft_conflicting_duplicates_total",
        "counter",
        "Different copies of stored ids, stored for the analyzer to flag.",
        stats.conflicting_duplicates,
    );
    metric(
        "weft_rejected_total",
        "counter",
        "Invalid lines and OTLP records rejected.",
        c.rejected.load(Ordering::Relaxed),
    );
    metric(
        "weft_dropped_batches_total",
        "counter",
        "Batches refused with 503 because the write queue was full.",
        c.dropped.load(Ordering::Relaxed),
    );
    metric(
        "weft_skipped_otlp_records_total",
        "counter",
        "OTLP records without weft.seq, skipped.",
        c.skipped.load(Ordering::Relaxed),
    );
    metric(
        "weft_replicas",
        "gauge",
        "Replicas with stored events.",
        stats.replicas.len() as u64,
    );
    metric(
        "weft_store_writable",
        "gauge",
        "1 while the store takes writes, 0 while it refuses them (see weft_store_disk_full).",
        u64::from(stats.health == Health::Ok),
    );
    metric(
        "weft_store_disk_full",
        "gauge",
        "1 while writes are refused because the disk is full.",
        u64::from(matches!(stats.health, Health::Full(_))),
    );
    metric(
        "weft_store_write_errors_total",
        "counter",
        "Failed writes, syncs and repairs (each returned the store to its last durable state).",
        stats.write_errors,
    );
    metric(
        "weft_queue_depth",
        "gauge",
        "Batches waiting for the store.",
        s.ingest.queue_depth() as u64,
    );
    findings::metrics(&s, &mut out);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        out,
    )
        .into_response()
}
