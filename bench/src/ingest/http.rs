//! The collector's HTTP API through `ureq`: a keep-alive agent per client thread (one
//! connection, one request in flight), `GET /v1/status`, and the check of a POST's response.

use std::net::SocketAddr;

use anyhow::{bail, Context, Result};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use prost::Message;
use weft_api::http::{Ingested, Status};

use super::requests::{Api, Request};
use super::REQUEST_TIMEOUT;

/// An agent for one client thread: at most one idle connection, reused request after request.
fn agent(keep_alive: bool) -> ureq::Agent {
    ureq::Agent::config_builder()
        // Statuses are answers to check, not errors.
        .http_status_as_error(false)
        // Loopback: never through a proxy named in the environment.
        .proxy(None)
        .max_idle_connections(usize::from(keep_alive))
        .max_idle_connections_per_host(usize::from(keep_alive))
        .timeout_global(Some(REQUEST_TIMEOUT))
        .build()
        .new_agent()
}

/// The status and the whole body of a response (read to the end, so that the connection can
/// carry the next request).
fn read(mut resp: ureq::http::Response<ureq::Body>) -> Result<(u16, Vec<u8>)> {
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_vec().context("reading the body")?;
    Ok((status, body))
}

/// A keep-alive connection: one request at a time.
pub struct Conn {
    agent: ureq::Agent,
}

impl Conn {
    /// Opens the connection (with a `GET /healthz`), so that the first request does not pay
    /// for it.
    pub fn connect(addr: SocketAddr) -> Result<Conn> {
        let agent = agent(true);
        read(agent.get(format!("http://{addr}/healthz")).call()?)?;
        Ok(Conn { agent })
    }

    /// Posts a pre-built request and reads the response: (status, body).
    pub fn round_trip(&mut self, request: &Request) -> Result<(u16, Vec<u8>)> {
        let resp = self
            .agent
            .post(&request.url)
            .header("content-type", request.content_type)
            .send(request.body())?;
        read(resp)
    }
}

/// `GET path` on a fresh connection.
pub(super) fn get(addr: SocketAddr, path: &str) -> Result<(u16, Vec<u8>)> {
    read(agent(false).get(format!("http://{addr}{path}")).call()?)
}

/// `GET /v1/status`.
pub(super) fn status(addr: SocketAddr) -> Result<Status> {
    let (status, body) = get(addr, "/v1/status")?;
    if status != 200 {
        bail!(
            "GET /v1/status: {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    serde_json::from_slice(&body).context("GET /v1/status")
}

/// Events stored per `GET /v1/status`.
pub(super) fn stored_events(addr: SocketAddr) -> Result<u64> {
    Ok(status(addr)?.events)
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
            let r: Ingested = serde_json::from_slice(body)
                .map_err(|e| format!("response not JSON ({e}): {}", text()))?;
            if r.received == events && r.stored == events {
                Ok(r.stored)
            } else {
                Err(format!(
                    "sent {events} events, the response says {}",
                    text()
                ))
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
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// A server of canned answers, one connection at a time: to each request (head read with
    /// `httparse`, body by its `Content-Length`) the next of `answers`. Returns its address;
    /// the thread ends with the number of connections it served.
    fn canned(answers: Vec<&'static [u8]>) -> (SocketAddr, std::thread::JoinHandle<usize>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let mut answers = answers.into_iter();
            let mut conns = 0;
            while answers.len() > 0 {
                let (s, _) = l.accept().unwrap();
                conns += 1;
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut w = s;
                let mut head = Vec::new();
                while answers.len() > 0 {
                    if r.read_until(b'\n', &mut head).unwrap() == 0 {
                        break;
                    }
                    let mut h = [httparse::EMPTY_HEADER; 32];
                    let mut req = httparse::Request::new(&mut h);
                    if req.parse(&head).unwrap().is_partial() {
                        continue;
                    }
                    let len = req
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                        .map_or(0, |h| {
                            std::str::from_utf8(h.value).unwrap().parse().unwrap()
                        });
                    r.by_ref().take(len).read_to_end(&mut Vec::new()).unwrap();
                    head.clear();
                    w.write_all(answers.next().unwrap()).unwrap();
                }
            }
            conns
        });
        (addr, t)
    }

    #[test]
    fn one_connection_carries_every_request_and_chunked_bodies_are_decoded() {
        let (addr, server) = canned(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
            b"HTTP/1.1 503 Service Unavailable\r\ntransfer-encoding: chunked\r\n\r\n\
              3\r\nful\r\n1\r\nl\r\n0\r\n\r\n",
        ]);
        let mut c = Conn::connect(addr).unwrap();
        let req = Request::new(
            "/v1/events",
            "application/x-ndjson",
            &addr.to_string(),
            b"x\n",
            1,
        );
        assert_eq!(c.round_trip(&req).unwrap(), (200, b"{}".to_vec()));
        assert_eq!(c.round_trip(&req).unwrap(), (503, b"full".to_vec()));
        assert_eq!(server.join().unwrap(), 1, "one keep-alive connection");
    }

    #[test]
    fn checks_responses() {
        let ok = br#"{"received":1000,"stored":1000,"duplicates":0,"conflicting_duplicates":0}"#;
        assert_eq!(check_response(Api::Ndjson, 200, ok, 1000), Ok(1000));
        let dup = br#"{"received":1000,"stored":990,"duplicates":10,"conflicting_duplicates":0}"#;
        assert!(check_response(Api::Ndjson, 200, dup, 1000).is_err());
        assert!(check_response(Api::Ndjson, 200, b"{}", 1000).is_err());
        assert!(check_response(Api::Ndjson, 503, b"{}", 1000).is_err());
        let empty = ExportLogsServiceResponse::default().encode_to_vec();
        assert_eq!(check_response(Api::Otlp, 200, &empty, 1000), Ok(1000));
    }
}
