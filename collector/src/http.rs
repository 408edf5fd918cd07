//! The HTTP side: native NDJSON ingest, OTLP/HTTP (protobuf and JSON), the live stream, status,
//! health and Prometheus metrics. Handlers decode and validate, then hand batches to the store's
//! one owner through [`Ingest`]; they never touch files except to read committed events.

mod findings;

use std::io::Read;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
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
    /// Largest OTLP request body, compressed or not.
    pub max_otlp_body: usize,
    /// The connection deadlines (for the words of a `408`).
    pub timeouts: crate::net::Timeouts,
    /// Flips to true when the collector shuts down (ends live streams).
    pub stopping: watch::Receiver<bool>,
}

/// The router.
pub fn router(state: AppState) -> Router {
    let max_body = state.max_body;
    let otlp_limit = DefaultBodyLimit::max(state.max_otlp_body);
    Router::new()
        .route("/v1/events", post(post_events))
        .route("/v1/logs", post(post_logs).layer(otlp_limit))
        .route("/v1/traces", post(post_traces).layer(otlp_limit))
        .route("/v1/stream", get(get_stream))
        .route("/v1/status", get(get_status))
        .route("/v1/report", get(findings::get_report))
        .route("/v1/findings", get(findings::get_findings))
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
            let message = "missing or wrong bearer token";
            let mut r = if matches!(req.uri().path(), "/v1/logs" | "/v1/traces") {
                otlp_error(
                    otlp_encoding(req.headers()).unwrap_or(Encoding::Json),
                    StatusCode::UNAUTHORIZED,
                    message,
                )
            } else {
                json_error(StatusCode::UNAUTHORIZED, message)
            };
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

/// Why a batch was refused, for every refusal but `Invalid`: status, message, `Retry-After`.
fn refusal(r: Refused) -> (StatusCode, String, Option<&'static str>) {
    match r {
        Refused::Invalid(lines) => (
            StatusCode::BAD_REQUEST,
            format!(
                "{} invalid record{}: nothing was stored",
                lines.len(),
                if lines.len() == 1 { "" } else { "s" }
            ),
            None,
        ),
        Refused::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the write queue is full: retry later".into(),
            Some("1"),
        ),
        Refused::Stopping => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the collector is shutting down".into(),
            None,
        ),
        Refused::Full(e) => (
            StatusCode::INSUFFICIENT_STORAGE,
            format!("the disk is full, writes are refused until space is freed: {e}"),
            Some("5"),
        ),
        Refused::Store(e) => (StatusCode::SERVICE_UNAVAILABLE, e, Some("1")),
    }
}

fn refused(r: Refused) -> Response {
    if let Refused::Invalid(lines) = r {
        let body = serde_json::json!({
            "error": format!("{} invalid line{}: nothing was stored", lines.len(), if lines.len() == 1 { "" } else { "s" }),
            "lines": lines,
        });
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
    }
    let (status, message, retry_after) = refusal(r);
    let mut r = json_error(status, &message);
    if let Some(after) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(after));
    }
    r
}

/// A body the client did not send whole: `408` when it was too slow (see
/// [`crate::net::Timeouts`]), else what axum says (`413` past the limit, `400`).
fn body_failed(
    s: &AppState,
    ext: &Extensions,
    rejection: BytesRejection,
    limit: usize,
) -> HttpError {
    if ext
        .get::<crate::net::BodyDeadline>()
        .is_some_and(|d| d.expired())
    {
        return HttpError::new(
            StatusCode::REQUEST_TIMEOUT,
            crate::net::body_too_slow(&s.timeouts),
        );
    }
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {limit} bytes"),
        );
    }
    HttpError::new(rejection.status(), rejection.body_text())
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

async fn post_events(
    State(s): State<AppState>,
    ext: Extensions,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body
        .map_err(|r| body_failed(&s, &ext, r, s.max_body))
        .and_then(|b| decoded_body(&headers, b, s.max_body))
    {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let lines = match s.ingest.check_body(&body) {
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

/// `google.rpc.Status`: the body of every OTLP/HTTP failure, in the request's encoding (OTLP/HTTP
/// spec, "Failures"). `code` is the gRPC code closest to the HTTP status; `details` is never set.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize)]
pub struct RpcStatus {
    /// The gRPC status code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// What went wrong.
    #[prost(string, tag = "2")]
    pub message: String,
}

fn grpc_code(status: StatusCode) -> tonic::Code {
    match status {
        StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            tonic::Code::InvalidArgument
        }
        StatusCode::UNAUTHORIZED => tonic::Code::Unauthenticated,
        StatusCode::REQUEST_TIMEOUT => tonic::Code::DeadlineExceeded,
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::INSUFFICIENT_STORAGE => {
            tonic::Code::ResourceExhausted
        }
        StatusCode::SERVICE_UNAVAILABLE => tonic::Code::Unavailable,
        _ => tonic::Code::Unknown,
    }
}

/// An OTLP/HTTP failure: `status` with a `google.rpc.Status` body in `enc`.
fn otlp_error(enc: Encoding, status: StatusCode, message: &str) -> Response {
    let body = RpcStatus {
        code: grpc_code(status) as i32,
        message: message.to_string(),
    };
    let mut r = encode(enc, &body);
    *r.status_mut() = status;
    r
}

fn otlp_refused(enc: Encoding, r: Refused) -> Response {
    let (status, message, retry_after) = refusal(r);
    let mut r = otlp_error(enc, status, &message);
    if let Some(after) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(after));
    }
    r
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

/// A request decoded from OTLP/JSON, with the records that could not be read.
type FromJson<Req> = Result<(Req, Vec<otlp::Unreadable>), String>;

/// What the OTLP/HTTP path needs to know of a signal (logs or traces).
struct Signal<Req, Resp> {
    json: fn(&[u8]) -> FromJson<Req>,
    map: fn(&Req) -> otlp::Mapped,
    respond: fn(i64, String) -> Resp,
}

/// The OTLP/HTTP path shared by logs and traces: decode in the request's encoding, map, store,
/// answer in the same encoding with what was rejected; failures are `google.rpc.Status` in the
/// same encoding too (JSON when the encoding is not one OTLP has).
async fn post_otlp<Req, Resp>(
    s: &AppState,
    ext: &Extensions,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    signal: Signal<Req, Resp>,
) -> Response
where
    Req: Message + Default,
    Resp: Message + serde::Serialize,
{
    let enc = match otlp_encoding(headers) {
        Ok(e) => e,
        Err(e) => return otlp_error(Encoding::Json, e.status, &e.message),
    };
    let body = match body
        .map_err(|r| body_failed(s, ext, r, s.max_otlp_body))
        .and_then(|b| decoded_body(headers, b, s.max_otlp_body))
    {
        Ok(b) => b,
        Err(e) => return otlp_error(enc, e.status, &e.message),
    };
    let decoded = match enc {
        Encoding::Protobuf => Req::decode(&body[..])
            .map(|r| (r, Vec::new()))
            .map_err(|e| format!("invalid OTLP protobuf: {e}")),
        Encoding::Json => (signal.json)(&body),
    };
    let (req, unreadable) = match decoded {
        Ok(x) => x,
        Err(message) => return otlp_error(enc, StatusCode::BAD_REQUEST, &message),
    };
    let mut mapped = (signal.map)(&req);
    otlp::add_unreadable(&mut mapped, unreadable);
    match ingest_mapped(&s.ingest, mapped).await {
        Ok((rejected, message)) => encode(enc, &(signal.respond)(rejected, message)),
        Err(r) => otlp_refused(enc, r),
    }
}

async fn post_logs(
    State(s): State<AppState>,
    ext: Extensions,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let signal = Signal {
        json: otlp::logs_from_json,
        map: otlp::map_logs,
        respond: |rejected, message| ExportLogsServiceResponse {
            partial_success: (rejected > 0).then_some(ExportLogsPartialSuccess {
                rejected_log_records: rejected,
                error_message: message,
            }),
        },
    };
    post_otlp(&s, &ext, &headers, body, signal).await
}

async fn post_traces(
    State(s): State<AppState>,
    ext: Extensions,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let signal = Signal {
        json: otlp::traces_from_json,
        map: otlp::map_traces,
        respond: |rejected, message| ExportTraceServiceResponse {
            partial_success: (rejected > 0).then_some(ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: message,
            }),
        },
    };
    post_otlp(&s, &ext, &headers, body, signal).await
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
        "analysis": findings::status(s),
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
    findings::metrics(&s, &mut out);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        out,
    )
        .into_response()
}
