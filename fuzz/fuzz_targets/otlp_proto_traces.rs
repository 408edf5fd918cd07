//! Arbitrary bytes as an OTLP/protobuf `ExportTraceServiceRequest`, then `map_traces`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = ExportTraceServiceRequest::decode(data) {
        weft_fuzz::traces(&req);
    }
});
