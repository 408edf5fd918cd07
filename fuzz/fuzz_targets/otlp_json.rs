//! Arbitrary bytes as an OTLP/JSON body, decoded as both request types (as `/v1/logs` and
//! `/v1/traces` do), then mapped. A decoded request must also map the same after a JSON round
//! trip (serialize, decode again).
#![no_main]

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use weft_collector::otlp::{map_logs, map_traces};

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = serde_json::from_slice::<ExportLogsServiceRequest>(data) {
        let m = weft_fuzz::logs(&req);
        let text = serde_json::to_vec(&req).expect("requests serialize");
        let again: ExportLogsServiceRequest =
            serde_json::from_slice(&text).expect("serialized request decodes");
        assert_eq!(map_logs(&again), m, "JSON round trip changed the mapping");
    }
    if let Ok(req) = serde_json::from_slice::<ExportTraceServiceRequest>(data) {
        let m = weft_fuzz::traces(&req);
        let text = serde_json::to_vec(&req).expect("requests serialize");
        let again: ExportTraceServiceRequest =
            serde_json::from_slice(&text).expect("serialized request decodes");
        assert_eq!(map_traces(&again), m, "JSON round trip changed the mapping");
    }
});
