//! Helpers shared by the collector's end-to-end tests: a minimal HTTP/1.1 client over real
//! loopback sockets, and readers of what the collector stored.
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
    pub headers: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

/// A minimal HTTP/1.1 client: one request per connection.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers: head,
        body,
    }
}

pub fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
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
