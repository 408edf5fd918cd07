//! End-to-end tests with a real OpenTelemetry client: the opentelemetry-otlp exporter, driven by
//! the SDK's `SdkLoggerProvider` and `BatchLogProcessor`, sends log records to a fresh collector
//! over OTLP/HTTP protobuf, OTLP/HTTP JSON and OTLP/gRPC; the test then reads the data directory
//! as `weft check` does and analyzes it.
//!
//! The HTTP exporter uses the blocking reqwest client, the combination the SDK documents for the
//! thread-based `BatchLogProcessor` (async HTTP clients are not supported by it); the gRPC
//! exporter (tonic) needs the provider to be built inside a tokio runtime, which it is. The
//! blocking calls (force flush, shutdown) run on `spawn_blocking` threads.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry_otlp::{LogExporter, Protocol, WithExportConfig};
use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLoggerProvider};
use opentelemetry_sdk::Resource;
use serde_json::{json, Value};
use weft_analyzer::Rule;
use weft_api::http::Status;
use weft_collector::{start, Collector, Config};
use weft_trace::{expand_inputs, Event, EventId, ReadOptions, Trace};

/// Wall clock of the first event: 2023-11-14, in ns since the Unix epoch.
const T0: i64 = 1_700_000_000_000_000_000;

#[derive(Clone, Copy, Debug)]
enum Mode {
    HttpProtobuf,
    HttpJson,
    Grpc,
}

fn config(dir: &Path) -> Config {
    Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        grpc: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        data: dir.to_path_buf(),
        ..Config::default()
    }
}

/// Three replicas, in weft's own NDJSON. `a` bumps a counter and tells `b`; `b` sets `title` and
/// tells `c`, who had set `title` concurrently (the conflict: b@2 ∥ c@1, b@2 wins on lamport
/// 4 > 1), then overwrites it after the merge (so nothing stays unresolved). The lines are in a
/// causal order and get increasing wall clocks, so there is no violation and no warning.
const STORY: &str = r#"
{"replica":"a","seq":1,"kind":"write","key":"views","op":"inc","value":1,"lamport":1,"vc":{"a":1}}
{"replica":"a","seq":2,"kind":"send","msg":"m1","lamport":2,"vc":{"a":2}}
{"replica":"c","seq":1,"kind":"write","key":"title","op":"set","value":"from c","lamport":1,"vc":{"c":1}}
{"replica":"b","seq":1,"kind":"recv","msg":"m1","lamport":3,"vc":{"a":2,"b":1}}
{"replica":"b","seq":2,"kind":"write","key":"title","op":"set","value":"from b","lamport":4,"vc":{"a":2,"b":2}}
{"replica":"b","seq":3,"kind":"send","msg":"m2","lamport":5,"vc":{"a":2,"b":3}}
{"replica":"c","seq":2,"kind":"recv","msg":"m2","lamport":6,"vc":{"a":2,"b":3,"c":2}}
{"replica":"c","seq":3,"kind":"write","key":"title","op":"set","value":"merged","lamport":7,"vc":{"a":2,"b":3,"c":3}}
"#;

/// The story's events as the store should hold them: line `i` gets the wall clock `T0 + i` ms
/// (the record's timestamp) and `attrs.body` (the record's body).
fn story() -> Vec<Event> {
    STORY
        .trim()
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut e: Event = serde_json::from_str(line).unwrap();
            e.wall_ns = Some(T0 + i as i64 * 1_000_000);
            let body = format!("{}@{} {}", e.replica, e.seq, e.kind.as_str());
            e.attrs = Some(serde_json::Map::from_iter([("body".into(), json!(body))]));
            e
        })
        .collect()
}

fn any(v: &Value) -> AnyValue {
    match v {
        Value::String(s) => AnyValue::from(s.clone()),
        Value::Number(n) => AnyValue::Int(n.as_i64().expect("story values are i64")),
        other => panic!("no story value is {other}"),
    }
}

fn at(wall_ns: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(u64::try_from(wall_ns).unwrap())
}

fn emit(logger: &impl opentelemetry::logs::Logger, e: &Event) {
    let mut r = logger.create_log_record();
    r.set_timestamp(at(e.wall_ns.unwrap()));
    let body = e.attrs.as_ref().unwrap()["body"]
        .as_str()
        .unwrap()
        .to_string();
    r.set_body(AnyValue::from(body));
    r.add_attribute("weft.replica", e.replica.clone());
    r.add_attribute("weft.seq", i64::try_from(e.seq).unwrap());
    r.add_attribute("weft.kind", e.kind.as_str());
    r.add_attribute("weft.lamport", i64::try_from(e.lamport.unwrap()).unwrap());
    let vc = serde_json::to_string(e.vc.as_ref().unwrap()).unwrap();
    r.add_attribute("weft.vc", vc);
    if let Some(m) = &e.msg {
        r.add_attribute("weft.msg", m.clone());
    }
    if let Some(k) = &e.key {
        r.add_attribute("weft.key", k.clone());
    }
    if let Some(op) = e.op {
        r.add_attribute("weft.op", op.as_str());
    }
    if let Some(v) = &e.value {
        r.add_attribute("weft.value", any(v));
    }
    logger.emit(r);
}

/// `GET /v1/status` as the wire contract's type.
async fn status(addr: SocketAddr) -> Status {
    let reply = common::request(addr, "GET", "/v1/status", &[], b"").await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    serde_json::from_slice(&reply.body).unwrap()
}

fn exporter(mode: Mode, c: &Collector) -> LogExporter {
    let timeout = Duration::from_secs(5);
    let http = |protocol| {
        LogExporter::builder()
            .with_http()
            .with_protocol(protocol)
            .with_endpoint(format!("http://{}/v1/logs", c.http_addr))
            .with_timeout(timeout)
            .build()
    };
    match mode {
        Mode::HttpProtobuf => http(Protocol::HttpBinary),
        Mode::HttpJson => http(Protocol::HttpJson),
        Mode::Grpc => LogExporter::builder()
            .with_tonic()
            .with_endpoint(format!("http://{}", c.grpc_addr.unwrap()))
            .with_timeout(timeout)
            .build(),
    }
    .unwrap()
}

async fn send_story_and_check(mode: Mode) {
    let dir = tempfile::tempdir().unwrap();
    let c = start(config(dir.path())).await.unwrap();

    let provider = SdkLoggerProvider::builder()
        .with_resource(
            Resource::builder_empty()
                .with_service_name("weft-otel-e2e")
                .build(),
        )
        .with_log_processor(BatchLogProcessor::builder(exporter(mode, &c)).build())
        .build();
    let logger = provider.logger("weft-otel-e2e");
    let story = story();
    for e in &story {
        emit(&logger, e);
    }
    // Not a weft event: no weft.seq (other weft.* attributes do not make it one).
    let mut r = logger.create_log_record();
    r.set_timestamp(at(T0 + 8_000_000));
    r.set_body(AnyValue::from("GET /health 200"));
    r.add_attribute("weft.replica", "a");
    r.add_attribute("http.route", "/health");
    logger.emit(r);
    // A weft event that breaks trace-format §2 (seq must be ≥ 1): rejected, the rest is kept.
    let mut r = logger.create_log_record();
    r.set_timestamp(at(T0 + 9_000_000));
    r.add_attribute("weft.replica", "a");
    r.add_attribute("weft.seq", 0i64);
    r.add_attribute("weft.kind", "local");
    logger.emit(r);

    let (flushed, shut) = tokio::task::spawn_blocking(move || {
        let flushed = provider.force_flush();
        drop(logger);
        (flushed, provider.shutdown())
    })
    .await
    .unwrap();
    flushed.unwrap_or_else(|e| panic!("{mode:?}: force_flush: {e}"));
    shut.unwrap_or_else(|e| panic!("{mode:?}: shutdown: {e}"));

    let status = status(c.http_addr).await;
    assert_eq!(status.events, 8, "{mode:?}: {status:?}");
    assert_eq!(status.skipped_otlp_records, 1, "{mode:?}: {status:?}");
    assert_eq!(status.rejected, 1, "{mode:?}: {status:?}");
    let replicas: Vec<&String> = status.replicas.keys().collect();
    assert_eq!(replicas, ["a", "b", "c"], "{mode:?}: {status:?}");
    c.shutdown().await.unwrap();

    // What `weft check DIR` reads.
    let trace = Trace::read_inputs(
        &expand_inputs(&[dir.path()]).unwrap(),
        &ReadOptions::default(),
    )
    .unwrap();
    let mut got: Vec<Event> = (0..trace.len()).map(|i| trace.to_event(i)).collect();
    got.sort_by_key(Event::id);
    let mut want = story;
    want.sort_by_key(Event::id);
    assert_eq!(got, want, "{mode:?}");

    let report = weft_analyzer::analyze(&trace);
    let s = &report.summary;
    assert_eq!(
        (s.events, s.replicas, s.errors, s.warnings, s.complete),
        (8, 3, 0, 0, true),
        "{mode:?}: {}",
        report.to_json_string()
    );
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!(report.conflicts.len(), 1, "{}", report.to_json_string());
    let conflict = &report.conflicts[0];
    assert_eq!(&*conflict.key, "title");
    assert_eq!(
        (&conflict.a, &conflict.b),
        (&EventId::new("b", 2), &EventId::new("c", 1))
    );
    assert_eq!(conflict.winner, Some(EventId::new("b", 2)));
    assert_eq!(conflict.rule, Rule::Lamport);
    assert!(report.unresolved.is_empty(), "{:?}", report.unresolved);
}

#[tokio::test(flavor = "multi_thread")]
async fn otlp_http_protobuf_exporter() {
    send_story_and_check(Mode::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn otlp_http_json_exporter() {
    send_story_and_check(Mode::HttpJson).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn otlp_grpc_exporter() {
    send_story_and_check(Mode::Grpc).await;
}
