//! The collector analyses what it stores, live: `GET /v1/report` is what `weft check DATA_DIR`
//! reports, `GET /v1/findings` streams findings as they are added and retracted, and
//! `/metrics` has gauges an alert rule can fire on.

mod common;

use std::path::Path;

use common::*;
use weft_collector::{start, Collector, Config};

/// What `weft check DIR --format json` prints for the directory.
fn check_json(dir: &Path) -> String {
    weft_analyzer::render::json(&weft_analyzer::analyze(&stored(dir)))
}

async fn fresh_report(c: &Collector) -> String {
    let r = request(c.http_addr, "GET", "/v1/report?fresh=true", &[], b"").await;
    assert_eq!(r.status, 200);
    String::from_utf8(r.body).unwrap()
}

#[tokio::test]
async fn a_late_event_retracts_the_finding_it_resolves_and_alerts_see_it() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(config(dir.path())).await.unwrap();
    // b@1 names a@1 as a parent before a@1 arrived: missing-event.
    let first = "{\"replica\":\"b\",\"seq\":1,\"parents\":[[\"a\",1]],\"kind\":\"write\",\"key\":\"k\",\"value\":2,\"lamport\":2}\n";
    assert_eq!(post(&c, first).await.status, 200);
    let report = fresh_report(&c).await;
    assert_eq!(report, check_json(dir.path()));
    assert!(report.contains("\"missing-event\""), "{report}");
    let metrics = request(c.http_addr, "GET", "/metrics", &[], b"").await;
    let metrics = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(
        metrics.contains("weft_violations{code=\"missing-event\"} 1\n"),
        "{metrics}"
    );

    let mut findings = open_get(c.http_addr, "/v1/findings?from=0").await;
    let mut got = Vec::new();
    read_stream_until(
        &mut findings,
        &mut got,
        "\"change\":\"added\",\"violation\":{\"code\":\"missing-event\"",
    )
    .await;

    // a@1 arrives: the missing event is there, and b@1 no longer conflicts with anything.
    let second = "{\"replica\":\"a\",\"seq\":1,\"kind\":\"write\",\"key\":\"k\",\"value\":1,\"lamport\":1}\n";
    assert_eq!(post(&c, second).await.status, 200);
    read_stream_until(
        &mut findings,
        &mut got,
        "\"change\":\"retracted\",\"violation\":{\"code\":\"missing-event\"",
    )
    .await;
    let report = fresh_report(&c).await;
    assert_eq!(report, check_json(dir.path()));
    assert!(!report.contains("missing-event"), "{report}");

    // A concurrent write by a third replica: a conflict is added.
    let third = "{\"replica\":\"c\",\"seq\":1,\"kind\":\"write\",\"key\":\"k\",\"value\":3,\"lamport\":1}\n";
    assert_eq!(post(&c, third).await.status, 200);
    read_stream_until(
        &mut findings,
        &mut got,
        "\"change\":\"added\",\"conflict\":{",
    )
    .await;
    let status = request(c.http_addr, "GET", "/v1/status", &[], b"")
        .await
        .json();
    assert_eq!(status["analysis"]["events_analysed"], 3, "{status}");
    assert_eq!(status["analysis"]["conflicts"], 1, "{status}");
    let metrics = request(c.http_addr, "GET", "/metrics", &[], b"").await;
    let metrics = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(
        metrics.contains("weft_violations{code=\"missing-event\"} 0\n")
            && metrics.contains("weft_conflicts 1\n"),
        "{metrics}"
    );
    // Changes are numbered: a reader resuming from 1 gets the retraction first.
    let text = String::from_utf8_lossy(&got).to_string();
    assert!(text.contains("{\"seq\":0,\"change\":\"added\""), "{text}");
    c.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_stale_read_is_alerted_on_and_a_late_write_changes_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(config(dir.path())).await.unwrap();
    // b@2 reads 1 after b@1 overwrote a@1's 1 with 2: stale, once both writes are in its past.
    let lines = concat!(
        r#"{"replica":"b","seq":1,"kind":"write","key":"k","value":2,"parents":[["a",1]],"crdt":"lww"}"#,
        "\n",
        r#"{"replica":"b","seq":2,"kind":"read","key":"k","value":1}"#,
        "\n",
    );
    assert_eq!(post(&c, lines).await.status, 200);
    // a@1 is not there yet: 1 is a value no write of k wrote.
    let report = fresh_report(&c).await;
    assert_eq!(report, check_json(dir.path()));
    assert!(report.contains("\"read-mismatch\""), "{report}");
    let late = r#"{"replica":"a","seq":1,"kind":"write","key":"k","value":1}"#;
    assert_eq!(post(&c, &format!("{late}\n")).await.status, 200);
    let report = fresh_report(&c).await;
    assert_eq!(report, check_json(dir.path()));
    assert!(
        report.contains("\"stale-read\"") && !report.contains("read-mismatch"),
        "{report}"
    );
    let metrics = request(c.http_addr, "GET", "/metrics", &[], b"").await;
    let metrics = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(
        metrics.contains("weft_violations{code=\"stale-read\"} 1\n")
            && metrics.contains("weft_violations{code=\"read-mismatch\"} 0\n")
            && metrics.contains("weft_reads_checked 1\n"),
        "{metrics}"
    );
    let status = request(c.http_addr, "GET", "/v1/status", &[], b"")
        .await
        .json();
    assert_eq!(status["analysis"]["reads_checked"], 1, "{status}");
    c.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_live_report_of_shuffled_batches_is_what_weft_check_reports() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    for name in [
        "inventory",
        "partition-heal",
        "edges-vc",
        "wall-clock-inversion",
        "reads-lww",
        "reads-set",
    ] {
        let text = std::fs::read_to_string(root.join(format!("{name}.jsonl"))).unwrap();
        let mut lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.contains("\"format\""))
            .collect();
        // A fixed shuffle: reverse every third block, interleave halves.
        let half = lines.len() / 2;
        let (a, b) = lines.split_at(half);
        let mut mixed: Vec<&str> = Vec::new();
        for i in 0..a.len().max(b.len()) {
            if let Some(l) = b.get(i) {
                mixed.push(l);
            }
            if let Some(l) = a.get(a.len().saturating_sub(i + 1)) {
                mixed.push(l);
            }
        }
        lines = mixed;
        let dir = tempfile::tempdir().unwrap();
        let c = start(config(dir.path())).await.unwrap();
        for chunk in lines.chunks(7) {
            let body = chunk.join("\n") + "\n";
            let r = post(&c, &body).await;
            assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
            assert_eq!(fresh_report(&c).await, check_json(dir.path()), "{name}");
        }
        c.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn without_analysis_the_report_endpoints_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(Config {
        analysis: false,
        ..config(dir.path())
    })
    .await
    .unwrap();
    let r = request(c.http_addr, "GET", "/v1/report", &[], b"").await;
    assert_eq!(r.status, 404);
    assert!(String::from_utf8_lossy(&r.body).contains("--no-analysis"));
    let status = request(c.http_addr, "GET", "/v1/status", &[], b"")
        .await
        .json();
    assert_eq!(status["analysis"]["on"], false);
    c.shutdown().await.unwrap();
}

/// A metric counts every finding of its code, also those the report counts but does not list
/// (beyond `Report::MAX_PER_CODE`): an alert threshold above the listing cap still fires.
#[tokio::test]
async fn violation_gauges_are_exact_beyond_the_listing_cap() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(config(dir.path())).await.unwrap();
    let gaps = weft_analyzer::Report::MAX_PER_CODE + 200;
    // One replica with every other seq: each event after the first follows a gap.
    let body: String = (0..=gaps)
        .map(|i| {
            format!(
                "{{\"replica\":\"a\",\"seq\":{},\"kind\":\"local\"}}\n",
                2 * i + 1
            )
        })
        .collect();
    assert_eq!(post(&c, &body).await.status, 200);
    let report = fresh_report(&c).await;
    assert!(
        report.contains("\"omitted\""),
        "the report caps the listing"
    );
    let metrics = request(c.http_addr, "GET", "/metrics", &[], b"").await;
    let metrics = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(
        metrics.contains(&format!("weft_violations{{code=\"seq-gap\"}} {gaps}\n")),
        "{metrics}"
    );
    c.shutdown().await.unwrap();
}
