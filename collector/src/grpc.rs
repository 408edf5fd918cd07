//! OTLP/gRPC: the LogsService and TraceService of opentelemetry-proto's tonic stubs, on the same
//! ingest path as OTLP/HTTP. Requests may be gzip-compressed (`grpc-encoding: gzip`, what the
//! OpenTelemetry SDKs send with `OTEL_EXPORTER_OTLP_COMPRESSION=gzip`); a message is at most
//! `max_otlp_body` bytes, compressed and after inflation. They are served by [`crate::net`],
//! which also turns tonic's answers to undecodable input into `INVALID_ARGUMENT`.

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::LogsService;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::LogsServiceServer;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceService;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use crate::http::{constant_time_eq, ingest_mapped};
use crate::ingest::{Ingest, Refused};
use crate::otlp;

/// Both OTLP services.
#[derive(Clone)]
pub struct Otlp {
    /// The ingest path.
    pub ingest: Ingest,
    /// Required bearer token, if any.
    pub token: Option<std::sync::Arc<str>>,
}

/// Both services as one router, taking gzip and at most `max` bytes a message (compressed, and
/// again after inflation).
pub fn routes(svc: Otlp, max: usize) -> axum::Router {
    let logs = LogsServiceServer::new(svc.clone())
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max);
    let traces = TraceServiceServer::new(svc)
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max);
    tonic::service::Routes::new(logs)
        .add_service(traces)
        .prepare()
        .into_axum_router()
}

impl Otlp {
    fn authorize<T>(&self, req: &Request<T>) -> Result<(), Status> {
        let Some(token) = &self.token else {
            return Ok(());
        };
        let given = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if constant_time_eq(given.as_bytes(), token.as_bytes()) {
            Ok(())
        } else {
            Err(Status::unauthenticated("missing or wrong bearer token"))
        }
    }
}

fn status(r: Refused) -> Status {
    match r {
        Refused::Invalid(lines) => {
            let first: Vec<String> = lines
                .iter()
                .take(5)
                .map(|l| format!("record {}: {}", l.line, l.reason))
                .collect();
            Status::invalid_argument(first.join("; "))
        }
        Refused::Busy => Status::unavailable("the write queue is full: retry later"),
        Refused::Stopping => Status::unavailable("the collector is shutting down"),
        Refused::Full(e) => Status::resource_exhausted(format!(
            "the disk is full, writes are refused until space is freed: {e}"
        )),
        Refused::Store(e) => Status::unavailable(e),
    }
}

#[tonic::async_trait]
impl LogsService for Otlp {
    async fn export(
        &self,
        req: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        self.authorize(&req)?;
        let mapped = otlp::map_logs(req.get_ref());
        let (rejected, message) = ingest_mapped(&self.ingest, mapped).await.map_err(status)?;
        let partial_success = (rejected > 0).then_some(ExportLogsPartialSuccess {
            rejected_log_records: rejected,
            error_message: message,
        });
        Ok(Response::new(ExportLogsServiceResponse { partial_success }))
    }
}

#[tonic::async_trait]
impl TraceService for Otlp {
    async fn export(
        &self,
        req: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.authorize(&req)?;
        let mapped = otlp::map_traces(req.get_ref());
        let (rejected, message) = ingest_mapped(&self.ingest, mapped).await.map_err(status)?;
        let partial_success = (rejected > 0).then_some(ExportTracePartialSuccess {
            rejected_spans: rejected,
            error_message: message,
        });
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_the_grpc_codes_clients_retry_on() {
        let full = status(Refused::Full("segment-000001.jsonl: No space left".into()));
        assert_eq!(full.code(), tonic::Code::ResourceExhausted);
        assert!(
            full.message().contains("disk is full"),
            "{}",
            full.message()
        );
        assert_eq!(
            status(Refused::Store("EIO".into())).code(),
            tonic::Code::Unavailable
        );
        assert_eq!(status(Refused::Busy).code(), tonic::Code::Unavailable);
    }
}
