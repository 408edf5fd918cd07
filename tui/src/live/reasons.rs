//! Why a request or an open stream failed, in a short sentence for the status bar: an HTTP
//! error's message, a connection lost, a plain-HTTP request sent to a TLS port. Pure functions
//! of an error, kept apart from the tasks so they can be tested without a collector.

use std::io;

use hyper::StatusCode;

use super::endpoint::Endpoint;

/// "HTTP 401: missing or wrong bearer token (...)": the collector's `{"error": ...}` message
/// when it sent one, else the first line of the body, else the status's reason phrase; for a 401,
/// what to do about the token.
pub(super) fn http_reason(status: StatusCode, body: &[u8], token_given: bool) -> String {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .or_else(|| {
            let text = String::from_utf8_lossy(body);
            let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
            Some(truncate(first, 200).to_string())
        })
        .filter(|m| !m.trim().is_empty())
        .or_else(|| status.canonical_reason().map(str::to_string))
        .unwrap_or_default();
    let mut reason = if message.is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        format!("HTTP {}: {}", status.as_u16(), message)
    };
    if status == StatusCode::UNAUTHORIZED {
        reason.push_str(if token_given {
            " (the collector refused the --token given)"
        } else {
            " (the collector requires a token: pass --token)"
        });
    }
    reason
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// An error and its sources, "a: b: c", each said once.
pub(super) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

/// Whether an I/O error of `kind` is among `e`'s sources.
fn has_io_kind(e: &(dyn std::error::Error + 'static), kind: io::ErrorKind) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == kind)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Why a request got no response.
pub(super) fn response_reason(e: &hyper::Error, ep: &Endpoint) -> String {
    // The usual cause: a collector serving TLS (it drops a plain-text request).
    let hint = if ep.tls {
        ""
    } else {
        " (if the collector was started with --tls-cert, connect with https://)"
    };
    if e.is_incomplete_message() || has_io_kind(e, io::ErrorKind::UnexpectedEof) {
        format!("the collector closed the connection without answering{hint}")
    } else if e.is_parse() {
        format!("the answer is not plain HTTP{hint}")
    } else {
        format!("connection lost: {}", chain(e))
    }
}

/// Why an open stream failed.
pub(super) fn body_reason(e: &hyper::Error) -> String {
    if e.is_incomplete_message() || has_io_kind(e, io::ErrorKind::UnexpectedEof) {
        "connection closed mid-stream (collector stopped?)".to_string()
    } else {
        format!("connection lost: {}", chain(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_reasons() {
        let body = br#"{"error":"missing or wrong bearer token"}"#;
        assert_eq!(
            http_reason(StatusCode::UNAUTHORIZED, body, true),
            "HTTP 401: missing or wrong bearer token (the collector refused the --token given)"
        );
        assert_eq!(
            http_reason(StatusCode::UNAUTHORIZED, b"", false),
            "HTTP 401: Unauthorized (the collector requires a token: pass --token)"
        );
        assert_eq!(
            http_reason(StatusCode::NOT_FOUND, b"\n  no such page\nmore", false),
            "HTTP 404: no such page"
        );
        assert_eq!(
            http_reason(StatusCode::from_u16(599).unwrap(), b"", false),
            "HTTP 599"
        );
    }
}
