//! The stream task: opens `GET /v1/stream?from=N`, hands its lines to the UI, and reconnects
//! after a failure (with a doubling backoff) from the position it has reached, so no line is
//! delivered twice or skipped.

use std::sync::atomic::Ordering;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::StatusCode;
use tokio::time::timeout;

use super::connect::{open, request};
use super::endpoint::Endpoint;
use super::lines::LineSplitter;
use super::reasons::{body_reason, http_reason, response_reason};
use super::tls::TlsSetup;
use super::{
    Link, LinkState, LiveConfig, LiveMsg, ERROR_BODY_TIMEOUT, FIRST_RETRY, HEAD_TIMEOUT,
    MAX_ERROR_BODY, MAX_RETRY,
};

/// How one connection to the stream ended.
enum End {
    /// Asked to stop, or the UI is gone: the task ends.
    Stop,
    /// A failure: reconnect after a wait. `connected` tells whether the stream had opened (which
    /// resets the backoff).
    Failed { reason: String, connected: bool },
}

fn failed(reason: impl Into<String>, connected: bool) -> End {
    End::Failed {
        reason: reason.into(),
        connected,
    }
}

/// The stream task: connect, read until failure, wait, reconnect from where it left off.
pub(super) async fn follow_stream(cfg: &LiveConfig, link: &Link) {
    let mut next = 0u64;
    let mut backoff = FIRST_RETRY;
    let mut tls = TlsSetup::default();
    loop {
        if link.stopped() || !link.send(LiveMsg::Link(LinkState::Connecting)).await {
            return;
        }
        let (reason, connected) = match session(cfg, link, &mut tls, &mut next).await {
            End::Stop => return,
            End::Failed { reason, connected } => (reason, connected),
        };
        if connected {
            backoff = FIRST_RETRY;
        }
        let retry_in = backoff;
        backoff = (backoff * 2).min(MAX_RETRY);
        if !link
            .send(LiveMsg::Link(LinkState::Disconnected { reason, retry_in }))
            .await
            || !link.sleep(retry_in).await
        {
            return;
        }
    }
}

/// One connection: request the stream from position `*next`, deliver its lines, advance `*next`.
async fn session(cfg: &LiveConfig, link: &Link, tls: &mut TlsSetup, next: &mut u64) -> End {
    let ep = match Endpoint::parse(&cfg.url) {
        Ok(ep) => ep,
        Err(reason) => return failed(reason, false),
    };
    let req = match request(
        &ep,
        &ep.stream_target(*next),
        cfg.token.as_deref(),
        "application/x-ndjson",
    ) {
        Ok(r) => r,
        Err(reason) => return failed(reason, false),
    };
    let config = if ep.tls {
        match tls.get(cfg) {
            Ok(c) => Some(c),
            Err(reason) => return failed(reason, false),
        }
    } else {
        None
    };
    let mut sender = match link
        .or_stop(open(&ep, config.as_ref(), cfg.ca_cert.as_deref()))
        .await
    {
        None => return End::Stop,
        Some(Err(reason)) => return failed(reason, false),
        Some(Ok(s)) => s,
    };
    let resp = match link
        .or_stop(timeout(HEAD_TIMEOUT, sender.send_request(req)))
        .await
    {
        None => return End::Stop,
        Some(Err(_)) => {
            return failed(
                format!(
                    "no answer from the collector within {} s",
                    HEAD_TIMEOUT.as_secs()
                ),
                false,
            )
        }
        Some(Ok(Err(e))) => return failed(response_reason(&e, &ep), false),
        Some(Ok(Ok(r))) => r,
    };
    let status = resp.status();
    let mut body = resp.into_body();
    if status != StatusCode::OK {
        let text = read_error_body(&mut body, link).await;
        return failed(http_reason(status, &text, cfg.token.is_some()), false);
    }
    if !link.send(LiveMsg::Link(LinkState::Connected)).await {
        return End::Stop;
    }

    let mut lines = LineSplitter::new(cfg.max_line);
    let mut pending = Vec::new();
    loop {
        // No read timeout: an idle stream is a frame still pending, and only a stop ends it.
        let frame = match link.or_stop(body.frame()).await {
            None => return End::Stop,
            Some(None) => return failed("stream ended (collector stopped)", true),
            Some(Some(Err(e))) => return failed(body_reason(&e), true),
            Some(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        pending.extend_from_slice(&data);
        let msgs = lines.split(&mut pending, next);
        let count: u64 = msgs
            .iter()
            .map(|m| match m {
                LiveMsg::Lines { count, .. } => *count,
                _ => 0,
            })
            .sum();
        link.arrived.fetch_add(count, Ordering::Relaxed);
        for msg in msgs {
            if !link.send(msg).await {
                return End::Stop;
            }
        }
    }
}

/// Reads an error response's body, within a deadline and a size limit, for its message. What
/// cannot be read is simply left out: the status code alone is still a reason.
async fn read_error_body(body: &mut Incoming, link: &Link) -> Vec<u8> {
    let mut out = Vec::new();
    let read = async {
        while out.len() < MAX_ERROR_BODY {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(d) = frame.data_ref() {
                        out.extend_from_slice(d);
                    }
                }
                _ => break,
            }
        }
    };
    let _ = link.or_stop(timeout(ERROR_BODY_TIMEOUT, read)).await;
    out.truncate(MAX_ERROR_BODY);
    out
}
