//! The status task: polls `GET /v1/status` about once a second on a kept-alive connection and
//! sends the collector's counters to the UI. Separate from the stream task: its failures are
//! silent and it never affects the link's state.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use tokio::time::timeout;

use super::connect::{open, request};
use super::endpoint::Endpoint;
use super::tls::TlsSetup;
use super::{
    CollectorStats, Link, LiveConfig, LiveMsg, MAX_ERROR_BODY, STATUS_EVERY, STATUS_TIMEOUT,
};

/// The status task: polls `/v1/status` about once a second and sends the counters when the
/// collector answers, on one kept-alive connection (opened again after a failure). Failures are
/// silent: the stream task reports the link's state.
pub(super) async fn poll_status(cfg: &LiveConfig, link: &Link) {
    let Ok(ep) = Endpoint::parse(&cfg.url) else {
        return;
    };
    let mut tls = TlsSetup::default();
    let mut conn: Option<SendRequest<Empty<Bytes>>> = None;
    loop {
        if link.stopped() {
            return;
        }
        let polled = link
            .or_stop(timeout(
                STATUS_TIMEOUT,
                fetch_status(&ep, cfg, &mut tls, &mut conn),
            ))
            .await;
        match polled {
            None => return,
            Some(Ok(Some(stats))) => {
                if !link.send(LiveMsg::Stats(stats)).await {
                    return;
                }
            }
            Some(Ok(None)) => {}
            // Timed out mid-request: that connection cannot be reused.
            Some(Err(_)) => conn = None,
        }
        if !link.sleep(STATUS_EVERY).await {
            return;
        }
    }
}

/// One poll; on any failure the connection is dropped, so the next poll opens a new one.
async fn fetch_status(
    ep: &Endpoint,
    cfg: &LiveConfig,
    tls: &mut TlsSetup,
    conn: &mut Option<SendRequest<Empty<Bytes>>>,
) -> Option<CollectorStats> {
    let sender = match conn.take() {
        Some(s) if !s.is_closed() => s,
        _ => {
            let config = if ep.tls {
                Some(tls.get(cfg).ok()?)
            } else {
                None
            };
            open(ep, config.as_ref(), cfg.ca_cert.as_deref())
                .await
                .ok()?
        }
    };
    let mut sender = sender;
    sender.ready().await.ok()?;
    let req = request(
        ep,
        &ep.status_target(),
        cfg.token.as_deref(),
        "application/json",
    )
    .ok()?;
    let resp = sender.send_request(req).await.ok()?;
    let ok = resp.status().is_success();
    let mut body = resp.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Some(d) = frame.ok()?.data_ref() {
            bytes.extend_from_slice(d);
        }
        if bytes.len() > MAX_ERROR_BODY {
            return None;
        }
    }
    // The whole answer was read: the connection can carry the next poll.
    *conn = Some(sender);
    if !ok {
        return None;
    }
    parse_stats(&bytes)
}

/// The counters of a `/v1/status` answer; None unless it is a JSON object with `events`. A
/// missing or non-integer counter reads as 0, so an older or newer collector still works.
fn parse_stats(body: &[u8]) -> Option<CollectorStats> {
    let s: weft_api::http::Status = serde_json::from_slice(body).ok()?;
    Some(CollectorStats {
        events: s.events,
        duplicates: s.duplicates,
        rejected: s.rejected,
        dropped_batches: s.dropped_batches,
        skipped_otlp_records: s.skipped_otlp_records,
        queue_depth: s.queue_depth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_tolerate_missing_fields() {
        let s = parse_stats(br#"{"events": 7, "queue_depth": 2, "replicas": ["a"]}"#).unwrap();
        assert_eq!(
            s,
            CollectorStats {
                events: 7,
                queue_depth: 2,
                ..CollectorStats::default()
            }
        );
        assert!(parse_stats(b"[]").is_none());
        assert!(parse_stats(b"{}").is_none());
    }
}
