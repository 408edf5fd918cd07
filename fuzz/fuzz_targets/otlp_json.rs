//! Arbitrary bytes as an OTLP/JSON body, decoded as both request types (as `/v1/logs` and
//! `/v1/traces` do), then mapped. A decoded request must also map the same after a JSON round
//! trip (serialize, decode again); with doubles in it only the ids, skips and rejections are
//! compared, unless WEFT_FUZZ_STRICT is set (serde_json without `float_roundtrip` may move a
//! double by 1 ULP, a known finding, see collector/tests/decoders.rs).
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
        weft_fuzz::same_mapping(&map_logs(&again), &m, &text);
    }
    if let Ok(req) = serde_json::from_slice::<ExportTraceServiceRequest>(data) {
        let m = weft_fuzz::traces(&req);
        let text = serde_json::to_vec(&req).expect("requests serialize");
        let again: ExportTraceServiceRequest =
            serde_json::from_slice(&text).expect("serialized request decodes");
        weft_fuzz::same_mapping(&map_traces(&again), &m, &text);
    }
});
