//! A replica instrumented with `weft-clock` records writes with their type and reads with the
//! value the app was shown; the real OpenTelemetry SDK and OTLP/HTTP exporter carry them to a
//! fresh collector, and what `weft check` reads back from its data directory convicts the stale
//! read, with the witness chain the records alone establish (spec sections 7 and 8).

use std::net::SocketAddr;
use std::time::Duration;

use opentelemetry::logs::LoggerProvider as _;
use opentelemetry_otlp::{LogExporter, Protocol, WithExportConfig};
use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLoggerProvider};
use serde_json::{json, Value};
use weft_analyzer::Code;
use weft_clock::{emit, Context, Crdt, ReplicaClock, WeftEvent};
use weft_collector::{start, Config};
use weft_trace::{expand_inputs, EventId, Kind, ReadOptions, Trace};

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_read_recorded_with_weft_clock_is_found_after_otlp() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data: dir.path().to_path_buf(),
        ..Config::default()
    })
    .await
    .unwrap();
    let exporter = LogExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("http://{}/v1/logs", c.http_addr))
        .with_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let provider = SdkLoggerProvider::builder()
        .with_log_processor(BatchLogProcessor::builder(exporter).build())
        .build();
    let logger = provider.logger("clock-reads");

    let (mut r1, mut r2, mut r3) = (
        ReplicaClock::new("r1"),
        ReplicaClock::new("r2"),
        ReplicaClock::new("r3"),
    );
    let price = |v: i64| WeftEvent::write("sku-1/price").crdt(Crdt::Lww).value(v);
    // r1 sets the price to 1 and tells r2.
    emit(&logger, &r1.tick(), &price(1), None);
    let s1 = r1.tick();
    emit(&logger, &s1, &WeftEvent::send("m1"), None);
    let h1 = s1.context().to_header();
    // r2 has seen it, sets 2, and tells r3.
    let got = r2.receive(&Context::from_header(&h1).unwrap());
    emit(&logger, &got, &WeftEvent::recv("m1"), None);
    emit(&logger, &r2.tick(), &price(2), None);
    let s2 = r2.tick();
    emit(&logger, &s2, &WeftEvent::send("m2"), None);
    let h2 = s2.context().to_header();
    // r3, having seen both writes, shows the old price: stale.
    let got = r3.receive(&Context::from_header(&h2).unwrap());
    emit(&logger, &got, &WeftEvent::recv("m2"), None);
    let read = WeftEvent::read("sku-1/price").crdt(Crdt::Lww);
    emit(&logger, &r3.tick(), &read.clone().value(1), None);
    // A read of nothing cannot travel as null (OpenTelemetry has none): it arrives unchecked,
    // never as a different value.
    emit(&logger, &r3.tick(), &read.value(Value::Null), None);

    let shut = tokio::task::spawn_blocking(move || {
        provider.force_flush()?;
        drop(logger);
        provider.shutdown()
    })
    .await
    .unwrap();
    shut.unwrap();
    c.shutdown().await.unwrap();

    let trace = Trace::read_inputs(
        &expand_inputs(&[dir.path()]).unwrap(),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(trace.len(), 8);
    let event = |id: &str| {
        let id = EventId::parse_text(id).unwrap();
        let i = (0..trace.len()).find(|&i| trace.id(i) == id).unwrap();
        trace.to_event(i)
    };
    let (w, stale, unchecked) = (event("r1@1"), event("r3@2"), event("r3@3"));
    assert_eq!(
        (w.kind, w.crdt, w.value),
        (Kind::Write, Some(Crdt::Lww), Some(json!(1)))
    );
    assert_eq!(
        (stale.kind, stale.crdt, stale.value),
        (Kind::Read, Some(Crdt::Lww), Some(json!(1)))
    );
    assert_eq!((unchecked.crdt, unchecked.value), (Some(Crdt::Lww), None));

    let report = weft_analyzer::analyze(&trace);
    assert_eq!(
        report.summary.reads_checked,
        1,
        "{}",
        report.to_json_string()
    );
    assert_eq!(report.violations.len(), 1, "{}", report.to_json_string());
    let v = &report.violations[0];
    assert_eq!(v.code, Code::StaleRead);
    assert_eq!(v.event, Some(EventId::new("r3", 2)));
    let chain: Vec<String> = v
        .read
        .as_ref()
        .unwrap()
        .chain
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(chain, ["r1@1", "r2@2", "r3@2"]);
}
