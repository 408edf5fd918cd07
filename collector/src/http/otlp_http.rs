//! OTLP/HTTP: `POST /v1/logs` and `POST /v1/traces` in protobuf or JSON, answered in the
//! request's encoding, failures as `google.rpc.Status`; and the storing of a mapped OTLP request
//! that the gRPC server shares.

use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;

use super::{body_failed, decoded_body, refusal, AppState, HttpError};
use crate::ingest::{Ingest, Refused};
use crate::otlp;

/// How an OTLP/HTTP request is encoded (the response uses the same).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    Protobuf,
    Json,
}

pub(super) fn otlp_encoding(headers: &HeaderMap) -> Result<Encoding, HttpError> {
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
pub(super) fn otlp_error(enc: Encoding, status: StatusCode, message: &str) -> Response {
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

pub(super) async fn post_logs(
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

pub(super) async fn post_traces(
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
