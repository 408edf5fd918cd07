//! Hostile and messy clients, end to end over loopback: connections that send nothing or a byte
//! at a time, too many connections, shutdown with stragglers, gzip and garbage over gRPC, and
//! OTLP/JSON with ints out of range. Deadlines are shortened so each test takes about a second.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use common::{config, post, request, stored, TWO};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use weft_collector::{start, Collector, Config};

/// Deadlines short enough for tests.
fn fast(cfg: &mut Config) {
    cfg.timeouts.header = Duration::from_millis(300);
    cfg.timeouts.body = Duration::from_millis(300);
    cfg.timeouts.body_min_rate = 1000;
    cfg.timeouts.idle = Duration::from_millis(400);
    cfg.timeouts.grace = Duration::from_millis(300);
}

async fn collector(dir: &std::path::Path, tune: impl FnOnce(&mut Config)) -> Collector {
    let mut cfg = config(dir);
    tune(&mut cfg);
    start(cfg).await.unwrap()
}

/// Connects from a chosen loopback address (every 127.x.y.z is this host on Linux).
async fn connect_from(ip: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpSocket::new_v4()?;
    s.bind(SocketAddr::new(IpAddr::V4(ip), 0))?;
    s.connect(to).await
}

/// Reads until the peer closes (or resets); returns what came and how long it took, or `None`
/// if the connection was still open after `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> Option<(Vec<u8>, Duration)> {
    let t0 = Instant::now();
    let mut got = Vec::new();
    let r = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    r.ok().map(|()| (got, t0.elapsed()))
}

/// `GET /healthz` on a new connection; the status and how long the answer took.
async fn healthz(addr: SocketAddr) -> (u16, Duration) {
    let t0 = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(3),
        request(addr, "GET", "/healthz", &[], b""),
    )
    .await
    .expect("/healthz answered within 3 s");
    (r.status, t0.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_connections_cannot_starve_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    // The defaults: 1,024 connections, 256 per address, 10 s for a request head.
    let c = collector(dir.path(), |_| {}).await;
    let n: usize = std::env::var("WEFT_IDLE_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let mut idle = Vec::with_capacity(n);
    let t0 = Instant::now();
    for i in 0..n {
        // 250 from each of 127.0.1.1, 127.0.1.2, ... (under the per-address limit).
        let ip = Ipv4Addr::new(127, 0, 1, 1 + (i / 250) as u8);
        let s = tokio::time::timeout(Duration::from_secs(5), connect_from(ip, c.http_addr))
            .await
            .expect("connect in time")
            .unwrap();
        idle.push(s);
    }
    let opened = t0.elapsed();
    let (status, took) = healthz(c.http_addr).await;
    println!("{n} idle connections opened in {opened:?}; /healthz answered {status} in {took:?}");
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(1), "{took:?}");
    // The oldest idle connections were closed to make room.
    let (got, _) = closed_within(&mut idle[0], Duration::from_secs(2))
        .await
        .expect("the oldest idle connection was shed");
    assert!(got.is_empty());
    drop(idle);
    c.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let c = collector(dir.path(), fast).await;
    let mut s = TcpStream::connect(c.http_addr).await.unwrap();
    let (got, took) = closed_within(&mut s, Duration::from_secs(3))
        .await
        .expect("closed");
    assert!(got.is_empty());
    assert!(took >= Duration::from_millis(250), "{took:?}");
    c.shutdown().await.unwrap();
}

/// Writes `head` then one byte of `drip` every 50 ms until the peer closes; returns what the
/// server answered and when it closed, or `None` if it was still open after 3 s.
async fn drip(addr: SocketAddr, head: &str, drip: u8) -> Option<(String, Duration)> {
    let s = TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    wr.write_all(head.as_bytes()).await.unwrap();
    let writer = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if wr.write_all(&[drip]).await.is_err() {
                return;
            }
        }
    });
    let t0 = Instant::now();
    let mut got = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(3), async {
        let mut buf = [0u8; 4096];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    writer.abort();
    r.ok()
        .map(|()| (String::from_utf8_lossy(&got).into_owned(), t0.elapsed()))
}

#[tokio::test]
async fn a_slowloris_head_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let c = collector(dir.path(), fast).await;
    let (answer, took) = drip(
        c.http_addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        b'a',
    )
    .await
    .expect("a head dripping a byte every 50 ms is cut");
    assert!(!answer.contains("200"), "{answer}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    // The same after a first request on a keep-alive connection.
    let mut s = TcpStream::connect(c.http_addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let (got, took) = closed_within(&mut s, Duration::from_secs(3))
        .await
        .expect("a second head that stops is cut");
    assert!(got.is_empty());
    assert!(took < Duration::from_secs(2), "{took:?}");
    c.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_slowloris_body_gets_408() {
    let dir = tempfile::tempdir().unwrap();
    let c = collector(dir.path(), fast).await;
    for (path, ct) in [
        ("/v1/events", "application/x-ndjson"),
        ("/v1/logs", "application/json"),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ct}\r\nContent-Length: 100000\r\n\r\n"
        );
        let (answer, took) = drip(c.http_addr, &head, b' ')
            .await
            .expect("a body dripping a byte every 50 ms is cut");
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        assert!(
            answer.contains("did not arrive in time"),
            "{path}: {answer}"
        );
        assert!(took < Duration::from_secs(2), "{path}: {took:?}");
    }
    // A body sent at a steady pace above the minimum rate is taken, however long it takes: 2,400
    // bytes, 200 every 50 ms (each 200 bytes earn 200 ms more).
    let body = "{\"replica\":\"a\",\"seq\":1}\n".repeat(100);
    let s = TcpStream::connect(c.http_addr).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    wr.write_all(
        format!(
            "POST /v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    for chunk in body.as_bytes().chunks(200) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        wr.write_all(chunk).await.unwrap();
    }
    let mut answer = Vec::new();
    rd.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    c.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let c = collector(dir.path(), fast).await;
    let mut s = TcpStream::connect(c.http_addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let (got, took) = closed_within(&mut s, Duration::from_secs(3))
        .await
        .expect("closed once idle");
    assert!(got.is_empty());
    assert!(took >= Duration::from_millis(300), "{took:?}");
    c.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_tls_handshake_must_finish_within_the_header_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let c = collector(&dir.path().join("data"), |cfg| {
        fast(cfg);
        cfg.tls = Some((cert_path, key_path));
    })
    .await;
    // Half a ClientHello, then nothing.
    let mut s = TcpStream::connect(c.http_addr).await.unwrap();
    s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).await.unwrap();
    let (_, took) = closed_within(&mut s, Duration::from_secs(3))
        .await
        .expect("closed");
    assert!(took < Duration::from_secs(2), "{took:?}");
    c.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_cuts_stragglers_after_the_grace_period_and_keeps_what_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let c = collector(dir.path(), |cfg| {
        fast(cfg);
        // The slow upload below keeps the minimum rate: only the grace period ends it.
        cfg.timeouts.body = Duration::from_secs(30);
    })
    .await;
    let r = post(&c, TWO).await;
    assert_eq!(r.status, 200);
    let s = TcpStream::connect(c.http_addr).await.unwrap();
    let (_rd, mut wr) = s.into_split();
    wr.write_all(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        .await
        .unwrap();
    let writer = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if wr.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    tokio::time::timeout(Duration::from_secs(3), c.shutdown())
        .await
        .expect("shutdown within the grace period")
        .unwrap();
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(2), "{took:?}");
    writer.abort();
    assert_eq!(
        stored(dir.path()).len(),
        2,
        "what was acknowledged is stored"
    );
    let c = collector(dir.path(), |_| {}).await;
    assert_eq!(c.recovery.events, 2);
    c.shutdown().await.unwrap();
}

#[tokio::test]
async fn over_the_connection_limits_the_answer_is_503_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let c = collector(dir.path(), |cfg| cfg.max_connections_per_ip = 2).await;
    let ip = Ipv4Addr::new(127, 0, 2, 1);
    let _a = connect_from(ip, c.http_addr).await.unwrap();
    let _b = connect_from(ip, c.http_addr).await.unwrap();
    let mut third = connect_from(ip, c.http_addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (got, _) = closed_within(&mut third, Duration::from_secs(3))
        .await
        .expect("answered and closed");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("retry-after: 1"),
        "{text}"
    );
    assert!(
        text.contains("too many connections from 127.0.2.1"),
        "{text}"
    );
    // Another address is not affected.
    assert_eq!(healthz(c.http_addr).await.0, 200);
    c.shutdown().await.unwrap();

    // Every connection busy with a request (live streams): a new one gets 503 at once.
    let dir = tempfile::tempdir().unwrap();
    let c = collector(dir.path(), |cfg| cfg.max_connections = 2).await;
    let mut streams = Vec::new();
    for _ in 0..2 {
        let mut s = common::open_get(c.http_addr, "/v1/stream").await;
        let mut got = Vec::new();
        common::read_stream_until(&mut s, &mut got, "\r\n\r\n").await;
        streams.push(s);
    }
    let t0 = Instant::now();
    let r = request(c.http_addr, "GET", "/healthz", &[], b"").await;
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    assert!(t0.elapsed() < Duration::from_secs(1));
    assert!(r.json()["error"].as_str().unwrap().contains("busy"));
    drop(streams);
    c.shutdown().await.unwrap();
}

fn kv(key: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

fn logs(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn record(replica: &str, seq: i64, pad: usize) -> LogRecord {
    LogRecord {
        attributes: vec![
            kv(
                "weft.replica",
                any_value::Value::StringValue(replica.into()),
            ),
            kv("weft.seq", any_value::Value::IntValue(seq)),
        ],
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue("x".repeat(pad))),
        }),
        ..Default::default()
    }
}

fn grpc_config(dir: &std::path::Path) -> Config {
    Config {
        grpc: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        max_otlp_body: 10_000,
        ..config(dir)
    }
}

#[tokio::test]
async fn grpc_takes_gzip_within_the_otlp_limit() {
    use tonic::codec::CompressionEncoding;
    let dir = tempfile::tempdir().unwrap();
    let c = start(grpc_config(dir.path())).await.unwrap();
    let url = format!("http://{}", c.grpc_addr.unwrap());
    let mut client = LogsServiceClient::connect(url)
        .await
        .unwrap()
        .send_compressed(CompressionEncoding::Gzip);
    let r = client
        .export(logs(vec![record("a", 1, 10), record("a", 2, 10)]))
        .await
        .expect("a gzip request is taken");
    assert_eq!(r.into_inner().partial_success, None);
    // Inflating past the limit (the compressed message is far under it).
    let bomb = logs(vec![record("a", 3, 50_000)]);
    let e = client.export(bomb).await.expect_err("past the limit");
    assert_eq!(e.code(), tonic::Code::ResourceExhausted, "{e:?}");
    // Uncompressed past the limit.
    let mut plain = LogsServiceClient::connect(format!("http://{}", c.grpc_addr.unwrap()))
        .await
        .unwrap();
    let e = plain
        .export(logs(vec![record("a", 4, 20_000)]))
        .await
        .expect_err("past the limit");
    assert_eq!(e.code(), tonic::Code::ResourceExhausted, "{e:?}");
    let r = plain
        .export(logs(vec![record("a", 5, 5_000)]))
        .await
        .expect("under the limit");
    assert_eq!(r.into_inner().partial_success, None);
    c.shutdown().await.unwrap();
    assert_eq!(stored(dir.path()).len(), 3);
}

/// A gRPC codec that sends bytes as they are.
#[derive(Clone, Copy, Default)]
struct Raw;

impl tonic::codec::Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl tonic::codec::Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use bytes::Buf;
        let v = src.chunk().to_vec();
        src.advance(v.len());
        Ok(Some(v))
    }
}

#[tokio::test]
async fn grpc_garbage_is_invalid_argument() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(grpc_config(dir.path())).await.unwrap();
    let channel =
        tonic::transport::Channel::from_shared(format!("http://{}", c.grpc_addr.unwrap()))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    // Field 1, length-delimited, with a length past the end.
    let garbage = vec![0x0a, 0xff, 0xff, 0x03, 0x01];
    let path = axum::http::uri::PathAndQuery::from_static(
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    );
    let e = grpc
        .unary(tonic::Request::new(garbage), path, Raw)
        .await
        .expect_err("garbage is refused");
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
    c.shutdown().await.unwrap();
}

const HUGE: &str = "18446744073709551616"; // 2^64

fn json_logs(seqs: &[&str]) -> String {
    let records: Vec<String> = seqs
        .iter()
        .map(|seq| {
            format!(
                r#"{{"attributes":[{{"key":"weft.replica","value":{{"stringValue":"a"}}}},{{"key":"weft.seq","value":{{"intValue":"{seq}"}}}}]}}"#
            )
        })
        .collect();
    format!(
        r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{}]}}]}}]}}"#,
        records.join(",")
    )
}

#[tokio::test]
async fn otlp_json_an_int_out_of_range_costs_only_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let c = collector(dir.path(), |_| {}).await;
    let json = [("Content-Type", "application/json")];
    let r = request(
        c.http_addr,
        "POST",
        "/v1/logs",
        &json,
        json_logs(&["1", HUGE, "2"]).as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let j = r.json();
    // (an int64: a number or, as proto3 JSON has it, a string)
    let count = |v: &serde_json::Value| v.to_string().trim_matches('"').to_string();
    assert_eq!(
        count(&j["partialSuccess"]["rejectedLogRecords"]),
        "1",
        "{j}"
    );
    let message = j["partialSuccess"]["errorMessage"].as_str().unwrap();
    assert_eq!(
        message,
        format!("1 record rejected: record 1: attribute `weft.seq`: {HUGE} does not fit an OTLP int (a signed 64-bit integer)")
    );
    // Spans likewise.
    let spans = json_logs(&["3", HUGE])
        .replace("resourceLogs", "resourceSpans")
        .replace("scopeLogs", "scopeSpans")
        .replace("logRecords", "spans");
    let r = request(c.http_addr, "POST", "/v1/traces", &json, spans.as_bytes()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(count(&r.json()["partialSuccess"]["rejectedSpans"]), "1");
    // A record without weft.seq that cannot be read is skipped, as any other such record.
    let other = json_logs(&["4"]).replace(
        "]}]}]}",
        r#"]},{"attributes":[{"key":"n","value":{"intValue":"1.5"}}]}]}]}"#,
    );
    let r = request(c.http_addr, "POST", "/v1/logs", &json, other.as_bytes()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["partialSuccess"], serde_json::Value::Null);
    let status = request(c.http_addr, "GET", "/v1/status", &[], b"")
        .await
        .json();
    assert_eq!(status["events"], 4, "{status}");
    assert_eq!(status["rejected"], 2, "{status}");
    assert_eq!(status["skipped_otlp_records"], 1, "{status}");
    c.shutdown().await.unwrap();
}

/// `google.rpc.Status`, as OTLP/HTTP clients decode an error body.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

#[tokio::test]
async fn otlp_http_errors_are_status_messages_in_the_request_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let c = collector(dir.path(), |cfg| cfg.max_otlp_body = 10_000).await;
    let proto = [("Content-Type", "application/x-protobuf")];
    let r = request(c.http_addr, "POST", "/v1/logs", &proto, &[0x0a, 0xff, 0x01]).await;
    assert_eq!(r.status, 400);
    assert!(
        r.headers.contains("application/x-protobuf"),
        "{}",
        r.headers
    );
    let s = RpcStatus::decode(&r.body[..]).expect("a google.rpc.Status");
    assert_eq!(s.code, tonic::Code::InvalidArgument as i32);
    assert!(s.message.contains("invalid OTLP protobuf"), "{}", s.message);
    // Past the OTLP limit.
    let big = logs(vec![record("a", 1, 20_000)]).encode_to_vec();
    let r = request(c.http_addr, "POST", "/v1/logs", &proto, &big).await;
    assert_eq!(r.status, 413);
    let s = RpcStatus::decode(&r.body[..]).expect("a google.rpc.Status");
    assert!(s.message.contains("10000"), "{}", s.message);
    // JSON in, JSON out; the decoder's internal names stay inside.
    let json = [("Content-Type", "application/json")];
    let r = request(
        c.http_addr,
        "POST",
        "/v1/traces",
        &json,
        b"{\"resourceSpans\": 7}",
    )
    .await;
    assert_eq!(r.status, 400);
    let j = r.json();
    assert_eq!(j["code"], tonic::Code::InvalidArgument as i32, "{j}");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid OTLP JSON"),
        "{j}"
    );
    c.shutdown().await.unwrap();
}
