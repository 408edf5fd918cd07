//! Arbitrary bytes as an OTLP/protobuf `ExportLogsServiceRequest`, then `map_logs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = ExportLogsServiceRequest::decode(data) {
        weft_fuzz::logs(&req);
    }
});
