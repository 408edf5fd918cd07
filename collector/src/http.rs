//! The HTTP side: native NDJSON ingest, OTLP/HTTP (protobuf and JSON), the live stream, status,
//! health and Prometheus metrics. Handlers decode and validate, then hand batches to the store's
//! one owner through [`Ingest`]; they never touch files except to read committed events.

use std::io::Read;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;
use tokio::sync::watch;

use crate::ingest::{Ingest, Refused};
use crate::otlp;
use crate::store::Health;
use crate::writer::Shared;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The ingest path.
    pub ingest: Ingest,
    /// The store's shared view.
    pub shared: Arc<Shared>,
    /// The live analysis, unless it is off.
    pub analysis: Option<Arc<crate::analysis::Analysis>>,
    /// Required bearer token, if any.
    pub token: Option<Arc<str>>,
    /// Largest request body after decompression.
    pub max_body: usize,
    /// Flips to true when the collector shuts down (ends live streams).
    pub stopping: watch::Receiver<bool>,
}

/// The router.
pub fn router(state: AppState) -> Router {
    let max_body = state.max_body;
    Router::new()
        .route("/v1/events", post(post_events))
        .route("/v1/logs", post(post_logs))
        .route("/v1/traces", post(post_traces))
        .route("/v1/stream", get(get_stream))
        .route("/v1/status", get(get_status))
        .route("/v1/report", get(crate::findings_api::get_report))
        .route("/v1/findings", get(crate::findings_api::get_findings))
        .route("/metrics", get(get_metrics))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth))
        .route("/healthz", get(get_health))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn auth(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(token) = &s.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !constant_time_eq(given.as_bytes(), token.as_bytes()) {
            let mut r = json_error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return r;
        }
    }
    next.run(req).await
}

fn json_error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A refusal before the request reaches the ingest path: a status and a message, answered as
/// `{"error": message}`.
pub struct HttpError {
    status: StatusCode,
    message: String,
}

impl HttpError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        HttpError {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        json_error(self.status, &self.message)
    }
}

fn refused(r: Refused) -> Response {
    match r {
        Refused::Invalid(lines) => {
            let body = serde_json::json!({
                "error": format!("{} invalid line{}: nothing was stored", lines.len(), if lines.len() == 1 { "" } else { "s" }),
                "lines": lines,
            });
            (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        }
        Refused::Busy => {
            let mut r = json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the write queue is full: retry later",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
        Refused::Stopping => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the collector is shutting down",
        ),
        Refused::Full(e) => {
            let mut r = json_error(
                StatusCode::INSUFFICIENT_STORAGE,
                &format!("the disk is full, writes are refused until space is freed: {e}"),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            r
        }
        Refused::Store(e) => {
            let mut r = json_error(StatusCode::SERVICE_UNAVAILABLE, &e);
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
    }
}

/// The request body, gunzipped when `Content-Encoding: gzip`, at most `max` bytes either way.
fn decoded_body(headers: &HeaderMap, body: Bytes, max: usize) -> Result<Bytes, HttpError> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity");
    match encoding {
        "identity" | "" if body.len() > max => Err(HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {max} bytes"),
        )),
        "identity" | "" => Ok(body),
        "gzip" => {
            let mut out = Vec::new();
            let mut dec = flate2::read::MultiGzDecoder::new(&body[..]).take(max as u64 + 1);
            if let Err(e) = dec.read_to_end(&mut out) {
                return Err(HttpError::new(
                    StatusCode::BAD_REQUEST,
                    format!("invalid gzip body: {e}"),
                ));
            }
            if out.len() > max {
                return Err(HttpError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the decompressed body is larger than {max} bytes"),
                ));
            }
            Ok(out.into())
        }
        other => Err(HttpError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported Content-Encoding {other:?} (use gzip or none)"),
        )),
    }
}

async fn post_events(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let body = match decoded_body(&headers, body, s.max_body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let lines = match s.ingest.check_ndjson(&body) {
        Ok(l) => l,
        Err(bad) => return refused(Refused::Invalid(bad)),
    };
    let received = lines.len();
    match s.ingest.commit(lines).await {
        Ok(a) => {
            let body = serde_json::json!({
                "received": received,
                "stored": a.stored,
                "duplicates": a.duplicates,
                "conflicting_duplicates": a.conflicting,
            });
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        }
        Err(r) => refused(r),
    }
}

/// The largest OTLP body, after inflation: a quarter of `--max-body`, because protobuf decoding
/// amplifies memory about a hundredfold (an empty log record is 2 bytes on the wire and about
/// 184 bytes decoded), so a 4 MiB body can already cost hundreds of MiB.
fn otlp_max(max_body: usize) -> usize {
    (max_body / 4).max(64 << 10)
}

/// How an OTLP/HTTP request is encoded (the response uses the same).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

fn otlp_encoding(headers: &HeaderMap) -> Result<Encoding, HttpError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ct = ct.split(';').next().unwrap_or("").trim();
    match ct {
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        "application/json" => Ok(Encoding::Json),
        other => Err(HttpError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported Content-Type {other:?} (OTLP/HTTP takes application/x-protobuf or application/json)"),
        )),
    }
}

fn decode<T: Message + Default + serde::de::DeserializeOwned>(
    enc: Encoding,
    body: &[u8],
) -> Result<T, HttpError> {
    match enc {
        Encoding::Protobuf => T::decode(body).map_err(|e| {
            HttpError::new(
                StatusCode::BAD_REQUEST,
                format!("invalid OTLP protobuf: {e}"),
            )
        }),
        Encoding::Json => serde_json::from_slice(body).map_err(|e| {
            HttpError::new(StatusCode::BAD_REQUEST, format!("invalid OTLP JSON: {e}"))
        }),
    }
}

fn encode<T: Message + serde::Serialize>(enc: Encoding, msg: &T) -> Response {
    match enc {
        Encoding::Protobuf => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            msg.encode_to_vec(),
        )
            .into_response(),
        Encoding::Json => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::to_vec(msg).expect("responses serialize"),
        )
            .into_response(),
    }
}

/// Stores what an OTLP mapping produced; returns (rejected count, message) for partial_success.
pub async fn ingest_mapped(
    ingest: &Ingest,
    mapped: otlp::Mapped,
) -> Result<(i64, String), Refused> {
    ingest
        .counters
        .skipped
        .fetch_add(mapped.skipped, Ordering::Relaxed);
    ingest
        .counters
        .rejected
        .fetch_add(mapped.rejected.len() as u64, Ordering::Relaxed);
    let message = if mapped.rejected.is_empty() {
        String::new()
    } else {
        otlp::partial_success_message(&mapped)
    };
    let rejected = mapped.rejected.len() as i64;
    // The mapping already validated each record exactly as an NDJSON line is validated.
    ingest.commit(mapped.lines).await?;
    Ok((rejected, message))
}

/// The OTLP/HTTP path shared by logs and traces: decode in the request's encoding, map, store,
/// answer in the same encoding with what was rejected.
async fn post_otlp<Req, Resp>(
    s: &AppState,
    headers: &HeaderMap,
    body: Bytes,
    map: fn(&Req) -> otlp::Mapped,
    respond: fn(i64, String) -> Resp,
) -> Response
where
    Req: Message + Default + serde::de::DeserializeOwned,
    Resp: Message + serde::Serialize,
{
    let (enc, body) = match otlp_encoding(headers)
        .and_then(|e| decoded_body(headers, body, otlp_max(s.max_body)).map(|b| (e, b)))
    {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let req: Req = match decode(enc, &body) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    match ingest_mapped(&s.ingest, map(&req)).await {
        Ok((rejected, message)) => encode(enc, &respond(rejected, message)),
        Err(r) => refused(r),
    }
}

async fn post_logs(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    post_otlp(&s, &headers, body, otlp::map_logs, |rejected, message| {
        ExportLogsServiceResponse {
            partial_success: (rejected > 0).then_some(ExportLogsPartialSuccess {
                rejected_log_records: rejected,
                error_message: message,
            }),
        }
    })
    .await
}

async fn post_traces(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    post_otlp(&s, &headers, body, otlp::map_traces, |rejected, message| {
        ExportTraceServiceResponse {
            partial_success: (rejected > 0).then_some(ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: message,
            }),
        }
    })
    .await
}

#[derive(serde::Deserialize)]
struct StreamParams {
    from: Option<u64>,
}

/// Most events read from disk per chunk of a stream.
const STREAM_CHUNK: u64 = 4096;

async fn get_stream(State(s): State<AppState>, Query(p): Query<StreamParams>) -> Response {
    let from = p.from.unwrap_or(0);
    let committed = s.shared.committed.subscribe();
    let state = (from, committed, s.stopping.clone(), s.shared.clone());
    let stream = futures_util::stream::unfold(
        state,
        |(pos, mut committed, mut stopping, shared)| async move {
            loop {
                if *stopping.borrow() {
                    return None;
                }
                let upto = *committed.borrow_and_update();
                if pos < upto {
                    let index = shared
                        .index
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .clone();
                    let until = upto.min(pos + STREAM_CHUNK);
                    let read = tokio::task::spawn_blocking(move || {
                        let mut out = Vec::new();
                        let end = crate::store::read_range(&index, pos, until, |line| {
                            out.extend_from_slice(line);
                            out.push(b'\n');
                            true
                        });
                        end.map(|end| (end, out))
                    })
                    .await;
                    return match read {
                        Ok(Ok((end, out))) if end > pos => Some((
                            Ok::<Bytes, std::io::Error>(Bytes::from(out)),
                            (end, committed, stopping, shared),
                        )),
                        Ok(Ok(_)) => None,
                        Ok(Err(e)) => Some((Err(e), (u64::MAX, committed, stopping, shared))),
                        Err(e) => Some((
                            Err(std::io::Error::other(e.to_string())),
                            (u64::MAX, committed, stopping, shared),
                        )),
                    };
                }
                tokio::select! {
                    changed = committed.changed() => if changed.is_err() { return None; },
                    _ = stopping.changed() => return None,
                }
            }
        },
    );
    ndjson_stream(stream)
}

/// A never-ending NDJSON answer (a live stream), uncached.
pub(crate) fn ndjson_stream<S>(stream: S) -> Response
where
    S: futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .expect("a valid response")
}

fn status_json(s: &AppState) -> serde_json::Value {
    let stats = s
        .shared
        .stats
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let c = &s.ingest.counters;
    serde_json::json!({
        "events": stats.events,
        "bytes_stored": stats.bytes,
        "replicas": stats.replicas,
        "duplicates": stats.duplicates,
        "conflicting_duplicates": stats.conflicting_duplicates,
        "rejected": c.rejected.load(Ordering::Relaxed),
        "dropped_batches": c.dropped.load(Ordering::Relaxed),
        "skipped_otlp_records": c.skipped.load(Ordering::Relaxed),
        "queue_depth": s.ingest.queue_depth(),
        "analysis": crate::findings_api::status(s),
        "store": {
            "writable": stats.health == Health::Ok,
            "health": stats.health,
            "message": stats.health.describe(),
            "write_errors": stats.write_errors,
            "last_write_error": stats.last_write_error,
        },
    })
}

/// `200 ok` while the store takes writes; `503` with the reason while it refuses them (disk
/// full, a failed repair): reads and streams still work then, but a load balancer should send
/// writes elsewhere.
async fn get_health(State(s): State<AppState>) -> Response {
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

async fn get_status(State(s): State<AppState>) -> Response {
    let body = serde_json::to_string_pretty(&status_json(&s)).expect("status serializes");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body + "\n",
    )
        .into_response()
}

async fn get_metrics(State(s): State<AppState>) -> Response {
    let stats = s
        .shared
        .stats
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
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
    crate::findings_api::metrics(&s, &mut out);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        out,
    )
        .into_response()
}
