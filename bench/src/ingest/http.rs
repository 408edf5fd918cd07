//! A minimal HTTP/1.1 client over `std::net::TcpStream`: keep-alive connections reading
//! `Content-Length` responses, `GET /v1/status`, and the check of a POST's response.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};

use anyhow::{bail, Context, Result};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use prost::Message;

use super::requests::Api;
use super::REQUEST_TIMEOUT;

/// A keep-alive connection: one request at a time, responses with `Content-Length`.
pub struct Conn {
    pub(super) w: TcpStream,
    pub(super) r: BufReader<TcpStream>,
    pub(super) line: String,
}

impl Conn {
    pub fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(REQUEST_TIMEOUT))?;
        s.set_write_timeout(Some(REQUEST_TIMEOUT))?;
        Ok(Conn {
            r: BufReader::with_capacity(1 << 16, s.try_clone()?),
            w: s,
            line: String::new(),
        })
    }

    /// Writes a complete request and reads the response: (status, body).
    pub fn round_trip(&mut self, request: &[u8]) -> Result<(u16, Vec<u8>)> {
        self.w.write_all(request).context("sending the request")?;
        read_response(&mut self.r, &mut self.line)
    }
}

/// Reads one HTTP/1.1 response: the status code and the body (`Content-Length` framing).
pub fn read_response(r: &mut impl BufRead, line: &mut String) -> Result<(u16, Vec<u8>)> {
    line.clear();
    if r.read_line(line).context("reading the status line")? == 0 {
        bail!("the connection closed before a response");
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .with_context(|| format!("not an HTTP status line: {:?}", line.trim_end()))?;
    let mut length: Option<usize> = None;
    loop {
        line.clear();
        if r.read_line(line).context("reading headers")? == 0 {
            bail!("the connection closed in the headers");
        }
        let h = line.trim_end();
        if h.is_empty() {
            break;
        }
        let Some((name, value)) = h.split_once(':') else {
            bail!("not a header: {h:?}");
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse()
                    .with_context(|| format!("Content-Length {value:?}"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            bail!("unsupported Transfer-Encoding {value:?} (this client reads Content-Length)");
        }
    }
    let length = length.context("a response without Content-Length")?;
    let mut body = vec![0; length];
    r.read_exact(&mut body).context("reading the body")?;
    Ok((status, body))
}

/// `GET path` on a fresh connection.
pub(super) fn get(addr: SocketAddr, path: &str) -> Result<(u16, Vec<u8>)> {
    let mut c = Conn::connect(addr)?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    c.round_trip(req.as_bytes())
}

/// Events stored per `GET /v1/status`.
pub(super) fn stored_events(addr: SocketAddr) -> Result<u64> {
    let (status, body) = get(addr, "/v1/status")?;
    if status != 200 {
        bail!(
            "GET /v1/status: {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&body).context("GET /v1/status")?;
    v["events"]
        .as_u64()
        .context("GET /v1/status: no \"events\"")
}

/// Checks a response; returns the events it acknowledged as stored.
pub(super) fn check_response(
    api: Api,
    status: u16,
    body: &[u8],
    events: u64,
) -> Result<u64, String> {
    let text = || {
        let t = String::from_utf8_lossy(body);
        let t = t.trim();
        if t.chars().count() > 300 {
            format!("{}…", t.chars().take(300).collect::<String>())
        } else {
            t.to_owned()
        }
    };
    if status != 200 {
        return Err(format!("HTTP {status}: {}", text()));
    }
    match api {
        Api::Ndjson => {
            let v: serde_json::Value = serde_json::from_slice(body)
                .map_err(|e| format!("response not JSON ({e}): {}", text()))?;
            let received = v["received"].as_u64();
            let stored = v["stored"].as_u64();
            match (received, stored) {
                (Some(r), Some(s)) if r == events && s == events => Ok(s),
                _ => Err(format!(
                    "sent {events} events, the response says {}",
                    text()
                )),
            }
        }
        Api::Otlp => {
            let r = ExportLogsServiceResponse::decode(body)
                .map_err(|e| format!("response not an ExportLogsServiceResponse: {e}"))?;
            match r.partial_success {
                Some(p) if p.rejected_log_records != 0 || !p.error_message.is_empty() => {
                    Err(format!(
                        "{} records rejected: {}",
                        p.rejected_log_records, p.error_message
                    ))
                }
                _ => Ok(events),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_content_length_responses() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\
                    date: x\r\n\r\n{}HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
        let mut r = &raw[..];
        let mut line = String::new();
        assert_eq!(
            read_response(&mut r, &mut line).unwrap(),
            (200, b"{}".to_vec())
        );
        assert_eq!(read_response(&mut r, &mut line).unwrap(), (503, Vec::new()));
        assert!(read_response(&mut r, &mut line).is_err());
        let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
        assert!(read_response(&mut &chunked[..], &mut line).is_err());
    }

    #[test]
    fn checks_responses() {
        let ok = br#"{"received":1000,"stored":1000,"duplicates":0,"conflicting_duplicates":0}"#;
        assert_eq!(check_response(Api::Ndjson, 200, ok, 1000), Ok(1000));
        let dup = br#"{"received":1000,"stored":990,"duplicates":10,"conflicting_duplicates":0}"#;
        assert!(check_response(Api::Ndjson, 200, dup, 1000).is_err());
        assert!(check_response(Api::Ndjson, 503, b"{}", 1000).is_err());
        let empty = ExportLogsServiceResponse::default().encode_to_vec();
        assert_eq!(check_response(Api::Otlp, 200, &empty, 1000), Ok(1000));
    }
}
