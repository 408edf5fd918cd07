//! The HTTP side of the live analysis: `GET /v1/report`, `GET /v1/findings?from=N`, and what the
//! status page and `/metrics` say about findings.

use std::sync::Arc;
use std::time::Duration;
use weft_api::http::{AnalysisStatus, LiveAnalysis};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::analysis::Analysis;

fn no_analysis() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        "{\"error\":\"live analysis is off (weft collect --no-analysis)\"}",
    )
        .into_response()
}

#[derive(serde::Deserialize)]
pub(crate) struct ReportParams {
    /// Wait until everything committed when the request arrived is analysed (10 s at most).
    fresh: Option<bool>,
}

/// The `weft-report/1` JSON of everything analysed: what `weft check DATA_DIR --format json`
/// prints for the same events. `X-Weft-Events-Analysed` says how many that is.
pub(crate) async fn get_report(
    State(s): State<AppState>,
    Query(p): Query<ReportParams>,
) -> Response {
    let Some(a) = s.analysis.clone() else {
        return no_analysis();
    };
    if p.fresh.unwrap_or(false) {
        let target = *s.shared.committed.borrow();
        let mut analysed = a.analysed.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(10), analysed.wait_for(|&n| n >= target))
            .await;
    }
    let (snapshot, events) = {
        let v = a.view();
        (Arc::clone(&v.report), v.counts.events)
    };
    // Rendered on the first request for this publication, off the async workers.
    let report = match tokio::task::spawn_blocking(move || snapshot.json()).await {
        Ok(json) => json,
        Err(_) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "{\"error\":\"rendering the report failed\"}",
            )
                .into_response()
        }
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::HeaderName::from_static("x-weft-events-analysed"),
                events.to_string(),
            ),
        ],
        report.to_string(),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
pub(crate) struct FindingsParams {
    from: Option<u64>,
}

/// What a findings stream sends next after change `pos`: the changes from `pos` on, or (when
/// they are no longer kept) every current finding marked `resync` — the state after the last
/// change —, then the next position.
fn changes_after(a: &Analysis, pos: u64) -> (Vec<u8>, u64) {
    let mut out = Vec::new();
    let (snapshot, next) = {
        let v = a.view();
        let oldest = v.changes.front().map_or(v.next_change, |c| c.seq);
        if pos >= oldest {
            for c in v.changes.iter().skip((pos - oldest) as usize) {
                out.extend_from_slice(c.line.as_bytes());
                out.push(b'\n');
            }
            return (out, v.next_change);
        }
        (Arc::clone(&v.report), v.next_change)
    };
    // Rendered without holding the lock (the analysis publishes meanwhile).
    for line in snapshot.finding_lines() {
        out.extend_from_slice(b"{\"seq\":null,\"change\":\"resync\",");
        out.extend_from_slice(&line.as_bytes()[1..]);
        out.push(b'\n');
    }
    (out, next)
}

/// NDJSON: each change of the findings from change number `from` on (`added`, `retracted`), then
/// live. A finding is `{"violation": ...}`, `{"conflict": ...}` or `{"unresolved": ...}` as in
/// the report.
pub(crate) async fn get_findings(
    State(s): State<AppState>,
    Query(p): Query<FindingsParams>,
) -> Response {
    let Some(a) = s.analysis.clone() else {
        return no_analysis();
    };
    let from = p.from.unwrap_or(0);
    let analysed = a.analysed.subscribe();
    let state = (from, analysed, s.stopping.clone(), a);
    let stream =
        futures_util::stream::unfold(state, |(pos, mut analysed, mut stopping, a)| async move {
            loop {
                if *stopping.borrow() {
                    return None;
                }
                let (out, next) = changes_after(&a, pos);
                if !out.is_empty() {
                    return Some((
                        Ok::<Bytes, std::io::Error>(Bytes::from(out)),
                        (next, analysed, stopping, a),
                    ));
                }
                tokio::select! {
                    changed = analysed.changed() => if changed.is_err() { return None; },
                    _ = stopping.changed() => return None,
                }
            }
        });
    super::ndjson_stream(stream)
}

/// The `analysis` object of `/v1/status`.
pub(crate) fn status(s: &AppState) -> AnalysisStatus {
    let Some(a) = &s.analysis else {
        return AnalysisStatus::default();
    };
    let v = a.view();
    let c = &v.counts;
    let committed = *s.shared.committed.borrow();
    AnalysisStatus {
        on: true,
        live: Some(LiveAnalysis {
            events_analysed: c.events,
            lag_events: committed.saturating_sub(c.events),
            errors: c.errors,
            warnings: c.warnings,
            conflicts: c.conflicts,
            unresolved: c.unresolved,
            reads_checked: c.reads_checked,
            complete: c.complete,
            findings_changes: v.next_change,
        }),
    }
}

/// The findings gauges of `/metrics`.
pub(crate) fn metrics(s: &AppState, out: &mut String) {
    let Some(a) = &s.analysis else {
        return;
    };
    let v = a.view();
    let c = &v.counts;
    let committed = *s.shared.committed.borrow();
    out.push_str("# HELP weft_violations Violations in the live report, by code.\n# TYPE weft_violations gauge\n");
    for (code, n) in &c.by_code {
        out.push_str(&format!("weft_violations{{code=\"{code}\"}} {n}\n"));
    }
    let mut gauge = |name: &str, help: &str, value: u64| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        ));
    };
    gauge(
        "weft_conflicts",
        "Conflicting concurrent writes in the live report.",
        c.conflicts,
    );
    gauge(
        "weft_unresolved_keys",
        "Keys whose concurrent writes stay unresolved.",
        c.unresolved,
    );
    gauge(
        "weft_reads_checked",
        "Reads checked against their causal past in the live report (wrong ones: weft_violations of the read codes).",
        c.reads_checked,
    );
    gauge(
        "weft_events_analysed",
        "Events the live analysis has taken in.",
        c.events,
    );
    gauge(
        "weft_analysis_lag_events",
        "Stored events the live analysis has not taken in yet.",
        committed.saturating_sub(c.events),
    );
    gauge(
        "weft_happens_before_complete",
        "1 while happens-before is a partial order (0: a causality cycle).",
        u64::from(c.complete),
    );
}
