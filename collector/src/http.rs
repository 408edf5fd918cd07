//! The HTTP side: native NDJSON ingest, OTLP/HTTP (protobuf and JSON), the live stream, status,
//! health and Prometheus metrics. Handlers decode and validate, then hand batches to the store's
//! one owner through [`Ingest`]; they never touch files except to read committed events.

mod findings;
mod otlp_http;
mod status;
mod stream;

use std::io::Read;
use std::sync::Arc;
use weft_api::http::{ApiError, Ingested};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::watch;

use crate::ingest::{Ingest, Refused};
use crate::writer::Shared;

pub use otlp_http::{ingest_mapped, RpcStatus};
pub(crate) use stream::ndjson_stream;

use otlp_http::{otlp_encoding, otlp_error, post_logs, post_traces, Encoding};
use status::{get_health, get_metrics, get_status};
use stream::get_stream;

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

/// Compares two byte strings in time independent of where they differ (the `subtle` crate's
/// comparison; only the lengths, which a token's holder knows anyway, end it early).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.ct_eq(b).into()
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

/// A JSON answer of the wire contract's type.
fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    let body = serde_json::to_string(body).expect("the contract's types serialize");
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        ApiError::message(message).to_json(),
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
        let plural = if lines.len() == 1 { "" } else { "s" };
        let body = ApiError {
            error: format!("{} invalid line{plural}: nothing was stored", lines.len()),
            lines: Some(lines),
        };
        return json_response(StatusCode::BAD_REQUEST, &body);
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
            let body = Ingested {
                received: received as u64,
                stored: a.stored,
                duplicates: a.duplicates,
                conflicting_duplicates: a.conflicting,
            };
            json_response(StatusCode::OK, &body)
        }
        Err(r) => refused(r),
    }
}
