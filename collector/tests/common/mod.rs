//! Helpers shared by the collector's end-to-end tests: requests over real loopback sockets (a
//! `ureq` client, or raw bytes for streams), and readers of what the collector stored.
#![allow(dead_code)] // each test binary uses its own subset

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use weft_collector::{Collector, Config};
use weft_trace::{expand_inputs, ReadOptions, Trace};

pub fn config(dir: &Path) -> Config {
    Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        grpc: None,
        data: dir.to_path_buf(),
        segment_bytes: 4096,
        ..Config::default()
    }
}

pub struct Reply {
    pub status: u16,
    /// The response headers, one `name: value` line each (names in lower case).
    pub headers: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

/// A request through `ureq`, on a connection of its own (`Connection: close`). The blocking
/// client runs on tokio's blocking pool, so the collector under test keeps running on the
/// test's runtime, whatever its flavour.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("connection", "close");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(body.to_vec()).unwrap();
    tokio::task::spawn_blocking(move || {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_idle_connections(0)
            .build()
            .new_agent();
        let mut resp = agent.run(req).unwrap();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| format!("{k}: {}\r\n", String::from_utf8_lossy(v.as_bytes())))
            .collect();
        Reply {
            status: resp.status().as_u16(),
            headers,
            body: resp.body_mut().read_to_vec().unwrap(),
        }
    })
    .await
    .unwrap()
}

pub fn stored(dir: &Path) -> Trace {
    Trace::read_inputs(&expand_inputs(&[dir]).unwrap(), &ReadOptions::default()).unwrap()
}

pub const TWO: &str = "{\"replica\":\"a\",\"seq\":1,\"kind\":\"send\",\"msg\":\"m1\"}\n{\"replica\":\"b\",\"seq\":1,\"kind\":\"recv\",\"msg\":\"m1\"}\n";

pub async fn post(c: &Collector, body: &str) -> Reply {
    request(
        c.http_addr,
        "POST",
        "/v1/events",
        &[("Content-Type", "application/x-ndjson")],
        body.as_bytes(),
    )
    .await
}

/// Reads an open stream until `want` shows up (10 s at most).
pub async fn read_stream_until(s: &mut TcpStream, got: &mut Vec<u8>, want: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(got).contains(want) {
        let mut buf = [0u8; 8192];
        let n = tokio::time::timeout_at(deadline, s.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("{want} in time: {}", String::from_utf8_lossy(got)))
            .unwrap();
        assert!(n > 0, "the stream ended");
        got.extend_from_slice(&buf[..n]);
    }
}

/// Sends `GET path` on a new connection and leaves it open, for streamed answers.
pub async fn open_get(addr: SocketAddr, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    s
}
