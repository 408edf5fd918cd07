//! The live follower against a real collector (plain and TLS, with and without a token, and a
//! hand-made server for the wire details), all on loopback with OS-chosen ports. Every wait has a
//! deadline; nothing asserts on a sleep.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_collector::{start, Collector, Config, StartError};
use weft_tui::live::{Follower, LinkState, LiveConfig, LiveMsg};

/// How long any single expectation may take.
const WAIT: Duration = Duration::from_secs(5);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn collector(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    listen: SocketAddr,
    token: Option<&str>,
) -> Collector {
    collector_with_tls(rt, dir, listen, token, None)
}

/// A collector; with `tls` (certificate chain, private key) it serves HTTPS only.
fn collector_with_tls(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    listen: SocketAddr,
    token: Option<&str>,
    tls: Option<&Certificate>,
) -> Collector {
    let cfg = Config {
        listen,
        grpc: None,
        data: dir.to_path_buf(),
        token: token.map(str::to_string),
        segment_bytes: 4096,
        tls: tls.map(|c| (c.cert.clone(), c.key.clone())),
        ..Config::default()
    };
    // Rebinding a port just released can fail briefly: retry for a while.
    let deadline = Instant::now() + WAIT;
    loop {
        match rt.block_on(start(cfg.clone())) {
            Ok(c) => return c,
            Err(StartError::Bind { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("cannot start the collector: {e}"),
        }
    }
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Posts events `replica` `seqs` as NDJSON; panics unless all are stored.
fn post(c: &Collector, token: Option<&str>, seqs: std::ops::RangeInclusive<u64>) {
    let body: String = seqs
        .clone()
        .map(|i| format!("{{\"replica\":\"a\",\"seq\":{i},\"kind\":\"local\"}}\n"))
        .collect();
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let mut req = client
        .post(format!("http://{}/v1/events", c.http_addr))
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let v: serde_json::Value = serde_json::from_slice(&resp.bytes().unwrap()).unwrap();
    assert_eq!(v["stored"], (seqs.end() - seqs.start() + 1), "{v}");
}

fn follow(url: String, token: Option<&str>, max_line: usize) -> (Follower, Receiver<LiveMsg>) {
    follow_with(url, token, max_line, 4)
}

fn follow_with(
    url: String,
    token: Option<&str>,
    max_line: usize,
    depth: usize,
) -> (Follower, Receiver<LiveMsg>) {
    follow_cfg(
        LiveConfig {
            url,
            token: token.map(str::to_string),
            ca_cert: None,
            max_line,
        },
        depth,
    )
}

fn follow_cfg(cfg: LiveConfig, depth: usize) -> (Follower, Receiver<LiveMsg>) {
    let (tx, rx) = mpsc::sync_channel(depth);
    (Follower::spawn(cfg, tx), rx)
}

/// A self-signed certificate (it is its own CA) for `names`, written as PEM files in `dir`.
struct Certificate {
    /// The certificate: the collector's chain, and the client's CA file.
    cert: PathBuf,
    key: PathBuf,
    der: Vec<u8>,
}

fn self_signed(dir: &Path, stem: &str, names: &[&str]) -> Certificate {
    make_cert(dir, stem, names, rcgen::IsCa::NoCa)
}

fn make_cert(dir: &Path, stem: &str, names: &[&str], is_ca: rcgen::IsCa) -> Certificate {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(names).unwrap();
    params.is_ca = is_ca;
    let key_pair = rcgen::KeyPair::generate().unwrap();
    let c = params.self_signed(&key_pair).unwrap();
    let cert = dir.join(format!("{stem}.pem"));
    let key = dir.join(format!("{stem}-key.pem"));
    std::fs::write(&cert, c.pem()).unwrap();
    std::fs::write(&key, key_pair.serialize_pem()).unwrap();
    Certificate {
        cert,
        key,
        der: c.der().to_vec(),
    }
}

/// Posts events like [`post`], over TLS trusting `ca`.
fn post_tls(
    rt: &tokio::runtime::Runtime,
    c: &Collector,
    ca: &Certificate,
    token: &str,
    seqs: std::ops::RangeInclusive<u64>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;
    let body: String = seqs
        .clone()
        .map(|i| format!("{{\"replica\":\"a\",\"seq\":{i},\"kind\":\"local\"}}\n"))
        .collect();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der.clone().into()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let raw = rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(c.http_addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut s = connector.connect(name, tcp).await.expect("TLS handshake");
        let req = format!(
            "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
             Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw).await;
        raw
    });
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let stored = format!("\"stored\":{}", seqs.end() - seqs.start() + 1);
    assert!(text.contains(&stored), "{text}");
}

/// The reason of the first `Disconnected`, after checking the link never came up.
fn first_disconnect(rx: &Receiver<LiveMsg>) -> String {
    let msgs = wait_for(rx, "Disconnected", |m| {
        matches!(m, LiveMsg::Link(LinkState::Disconnected { .. }))
    });
    assert!(!msgs.iter().any(is_connected), "{msgs:#?}");
    let Some(LiveMsg::Link(LinkState::Disconnected { reason, .. })) = msgs.last() else {
        unreachable!()
    };
    reason.clone()
}

/// Receives until `want` matches; returns everything received, the match last.
fn wait_for(
    rx: &Receiver<LiveMsg>,
    what: &str,
    mut want: impl FnMut(&LiveMsg) -> bool,
) -> Vec<LiveMsg> {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(m) => {
                let done = want(&m);
                seen.push(m);
                if done {
                    return seen;
                }
            }
            Err(e) => panic!("no {what} within {WAIT:?} ({e:?}); received: {seen:#?}"),
        }
    }
}

fn is_connected(m: &LiveMsg) -> bool {
    *m == LiveMsg::Link(LinkState::Connected)
}

/// Receives lines until position `upto` (exclusive), checking each batch starts where the last
/// one ended (no duplicate, no gap); returns each line's `seq`. Link and stats messages are
/// allowed in between.
fn seqs_until(rx: &Receiver<LiveMsg>, next: &mut u64, upto: u64) -> Vec<u64> {
    let mut seqs = Vec::new();
    while *next < upto {
        let msgs = wait_for(rx, "lines", |m| matches!(m, LiveMsg::Lines { .. }));
        let Some(LiveMsg::Lines {
            bytes,
            count,
            first,
        }) = msgs.last()
        else {
            unreachable!()
        };
        assert_eq!(*first, *next, "batch position");
        let lines: Vec<&[u8]> = bytes
            .split_inclusive(|&b| b == b'\n')
            .inspect(|l| assert!(l.ends_with(b"\n")))
            .collect();
        assert_eq!(lines.len() as u64, *count);
        for l in lines {
            let v: serde_json::Value = serde_json::from_slice(l).unwrap();
            seqs.push(v["seq"].as_u64().unwrap());
        }
        *next += count;
    }
    assert_eq!(*next, upto, "no more lines than expected");
    seqs
}

#[test]
fn lines_arrive_in_order_with_their_positions() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let c = collector(&rt, dir.path(), any_port(), None);
    post(&c, None, 1..=3);
    // A trailing slash on the URL is tolerated.
    let (f, rx) = follow(format!("http://{}/", c.http_addr), None, 1 << 20);
    let first = wait_for(&rx, "Connected", is_connected);
    assert_eq!(first[0], LiveMsg::Link(LinkState::Connecting));
    let mut next = 0;
    assert_eq!(seqs_until(&rx, &mut next, 3), vec![1, 2, 3]);
    // Live: more events arrive on the open stream.
    post(&c, None, 4..=5);
    assert_eq!(seqs_until(&rx, &mut next, 5), vec![4, 5]);
    post(&c, None, 6..=6);
    assert_eq!(seqs_until(&rx, &mut next, 6), vec![6]);
    f.stop();
    rt.block_on(c.shutdown()).unwrap();
}

#[test]
fn a_restarted_collector_is_followed_without_duplicates() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let c = collector(&rt, dir.path(), any_port(), None);
    let addr = c.http_addr;
    post(&c, None, 1..=3);
    let (f, rx) = follow(format!("http://{addr}"), None, 1 << 20);
    wait_for(&rx, "Connected", is_connected);
    let mut next = 0;
    assert_eq!(seqs_until(&rx, &mut next, 3), vec![1, 2, 3]);

    rt.block_on(c.shutdown()).unwrap();
    let msgs = wait_for(&rx, "Disconnected", |m| {
        matches!(m, LiveMsg::Link(LinkState::Disconnected { .. }))
    });
    let Some(LiveMsg::Link(LinkState::Disconnected { reason, retry_in })) = msgs.last() else {
        unreachable!()
    };
    assert!(reason.contains("stream ended"), "{reason}");
    // The stream had been open, so the backoff starts from its shortest wait.
    assert_eq!(*retry_in, Duration::from_millis(250));

    // The same data directory on the same port: the follower finds it again by itself.
    let c = collector(&rt, dir.path(), addr, None);
    let msgs = wait_for(&rx, "Connected again", is_connected);
    assert!(
        !msgs.iter().any(|m| matches!(m, LiveMsg::Lines { .. })),
        "{msgs:#?}"
    );
    post(&c, None, 4..=5);
    assert_eq!(seqs_until(&rx, &mut next, 5), vec![4, 5]);
    f.stop();
    rt.block_on(c.shutdown()).unwrap();
}

#[test]
fn an_unreachable_collector_is_retried_with_a_growing_backoff() {
    // A port that was just free: nothing listens there.
    let addr = TcpListener::bind(any_port()).unwrap().local_addr().unwrap();
    let (f, rx) = follow(format!("http://{addr}"), None, 1 << 20);
    let mut waits = Vec::new();
    while waits.len() < 2 {
        let msgs = wait_for(&rx, "Disconnected", |m| {
            matches!(m, LiveMsg::Link(LinkState::Disconnected { .. }))
        });
        if let Some(LiveMsg::Link(LinkState::Disconnected { reason, retry_in })) = msgs.last() {
            assert_eq!(reason, "connection refused");
            waits.push(*retry_in);
        }
    }
    assert_eq!(
        waits,
        vec![Duration::from_millis(250), Duration::from_millis(500)]
    );
    f.stop();
}

#[test]
fn a_wrong_token_is_reported_as_http_401() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let c = collector(&rt, dir.path(), any_port(), Some("s3cret"));
    let (f, rx) = follow(format!("http://{}", c.http_addr), Some("wrong"), 1 << 20);
    let msgs = wait_for(&rx, "Disconnected", |m| {
        matches!(m, LiveMsg::Link(LinkState::Disconnected { .. }))
    });
    let Some(LiveMsg::Link(LinkState::Disconnected { reason, .. })) = msgs.last() else {
        unreachable!()
    };
    assert_eq!(
        reason,
        "HTTP 401: missing or wrong bearer token (the collector refused the --token given)"
    );
    assert!(!msgs.iter().any(is_connected), "{msgs:#?}");
    assert!(
        !msgs.iter().any(|m| matches!(m, LiveMsg::Stats(_))),
        "{msgs:#?}"
    );
    f.stop();
    rt.block_on(c.shutdown()).unwrap();
}

#[test]
fn stats_arrive_with_the_event_count() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let c = collector(&rt, dir.path(), any_port(), Some("s3cret"));
    post(&c, Some("s3cret"), 1..=4);
    let (f, rx) = follow(format!("http://{}", c.http_addr), Some("s3cret"), 1 << 20);
    wait_for(
        &rx,
        "Stats with 4 events",
        |m| matches!(m, LiveMsg::Stats(s) if s.events == 4 && s.rejected == 0),
    );
    // Polled again: later events show up in the counters.
    post(&c, Some("s3cret"), 5..=5);
    wait_for(
        &rx,
        "Stats with 5 events",
        |m| matches!(m, LiveMsg::Stats(s) if s.events == 5),
    );
    f.stop();
    rt.block_on(c.shutdown()).unwrap();
}

/// Asserts `stop()` returns within 2 s and that both threads have ended (the channel's senders
/// are all gone).
fn stop_promptly(f: Follower, rx: Receiver<LiveMsg>) {
    let t = Instant::now();
    f.stop();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        t.elapsed()
    );
    let deadline = Instant::now() + WAIT;
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(_) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => panic!("the follower's threads did not end"),
        }
    }
}

#[test]
fn stop_returns_promptly_while_the_stream_is_idle() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let c = collector(&rt, dir.path(), any_port(), None);
    let (f, rx) = follow(format!("http://{}", c.http_addr), None, 1 << 20);
    wait_for(&rx, "Connected", is_connected);
    // Idle for longer than the read timeout: that is not a failure.
    let idle = wait_for(&rx, "two Stats", {
        let mut n = 0;
        move |m| {
            n += usize::from(matches!(m, LiveMsg::Stats(_)));
            n == 2
        }
    });
    assert!(
        !idle
            .iter()
            .any(|m| matches!(m, LiveMsg::Link(LinkState::Disconnected { .. }))),
        "{idle:#?}"
    );
    stop_promptly(f, rx);
    rt.block_on(c.shutdown()).unwrap();
}

#[test]
fn stop_returns_promptly_while_the_ui_is_not_reading() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let c = collector(&rt, dir.path(), any_port(), None);
    post(&c, None, 1..=50);
    // A one-message channel nobody reads: both threads soon wait on it.
    let (f, rx) = follow_with(format!("http://{}", c.http_addr), None, 1 << 20, 1);
    std::thread::sleep(Duration::from_millis(300));
    stop_promptly(f, rx);
    rt.block_on(c.shutdown()).unwrap();
}

/// A hand-made server: answers `/v1/status` with a fixed body, and each `/v1/stream` request
/// with the next of `replies` (raw bytes, written in the given pieces), reporting each stream
/// request line on the returned channel.
fn fake_server(replies: Vec<Vec<Vec<u8>>>) -> (SocketAddr, Receiver<String>) {
    let listener = TcpListener::bind(any_port()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut replies = replies.into_iter();
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { return };
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match s.read(&mut b) {
                    Ok(1) => head.push(b[0]),
                    _ => break,
                }
            }
            let head = String::from_utf8_lossy(&head).to_string();
            let request_line = head.lines().next().unwrap_or("").to_string();
            if request_line.contains("/v1/status") {
                let body = r#"{"events": 42, "duplicates": 1}"#;
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                continue;
            }
            if tx.send(request_line).is_err() {
                return;
            }
            let Some(pieces) = replies.next() else {
                return;
            };
            std::thread::spawn(move || {
                for p in pieces {
                    if s.write_all(&p).and_then(|()| s.flush()).is_err() {
                        return;
                    }
                    // Separate writes, so the follower sees them in separate reads.
                    std::thread::sleep(Duration::from_millis(2));
                }
            });
        }
    });
    (addr, rx)
}

#[test]
fn a_chunked_stream_split_anywhere_is_decoded_and_long_lines_are_skipped() {
    let payload: &[u8] = b"{\"seq\":1}\n\n{\"seq\":2}\n{\"seq\":3,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n{\"seq\":4}\n";
    // Chunks cut mid-line, written in pieces cut mid-chunk-header.
    let mut wire = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for part in [
        &payload[..4],
        &payload[4..11],
        &payload[11..40],
        &payload[40..],
    ] {
        wire.extend_from_slice(format!("{:X};x=y\r\n", part.len()).as_bytes());
        wire.extend_from_slice(part);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    let pieces: Vec<Vec<u8>> = wire.chunks(7).map(<[u8]>::to_vec).collect();
    let error = r#"{"error":"the collector is shutting down"}"#;
    let refused = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{error}",
        error.len()
    )
    .into_bytes();
    let (addr, requests) = fake_server(vec![pieces, vec![refused]]);

    let (f, rx) = follow(format!("http://{addr}"), None, 40);
    let msgs = wait_for(&rx, "the end of the stream", |m| {
        matches!(m, LiveMsg::Link(LinkState::Disconnected { .. }))
    });
    assert_eq!(
        requests.recv_timeout(WAIT).unwrap(),
        "GET /v1/stream?from=0 HTTP/1.1"
    );
    let mut lines = Vec::new();
    let mut skipped = Vec::new();
    let mut next = 0;
    for m in &msgs {
        match m {
            LiveMsg::Lines {
                bytes,
                count,
                first,
            } => {
                assert_eq!(*first, next);
                next += count;
                lines.extend_from_slice(bytes);
            }
            LiveMsg::Skipped { position, reason } => {
                assert_eq!(*position, next);
                assert!(reason.contains("longer than 40 bytes"), "{reason}");
                skipped.push(*position);
                next += 1;
            }
            _ => {}
        }
    }
    assert_eq!(lines, b"{\"seq\":1}\n{\"seq\":2}\n{\"seq\":4}\n");
    assert_eq!(skipped, vec![2]);
    assert_eq!(
        msgs.last(),
        Some(&LiveMsg::Link(LinkState::Disconnected {
            reason: "stream ended (collector stopped)".into(),
            retry_in: Duration::from_millis(250),
        }))
    );
    // The reconnection asks for what follows everything seen, the skipped line included.
    assert_eq!(
        requests.recv_timeout(WAIT).unwrap(),
        "GET /v1/stream?from=4 HTTP/1.1"
    );
    let msgs = wait_for(&rx, "the 503", |m| {
        matches!(m, LiveMsg::Link(LinkState::Disconnected { .. }))
    });
    assert!(
        msgs.contains(&LiveMsg::Link(LinkState::Disconnected {
            reason: "HTTP 503: the collector is shutting down".into(),
            retry_in: Duration::from_millis(500),
        })),
        "{msgs:#?}"
    );
    f.stop();
}

#[test]
fn a_connection_cut_mid_line_resumes_after_the_last_complete_line() {
    let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let first = [
        head.clone(),
        b"14\r\n{\"seq\":1}\n{\"seq\":2}\n\r\n".to_vec(),
        b"5\r\n{\"seq".to_vec(),
    ];
    let second = [head, b"A\r\n{\"seq\":3}\n\r\n".to_vec()];
    let (addr, requests) = fake_server(vec![first.to_vec(), second.to_vec()]);
    let (f, rx) = follow(format!("http://{addr}"), None, 1 << 20);
    let msgs = wait_for(&rx, "the cut", |m| {
        matches!(m, LiveMsg::Link(LinkState::Disconnected { .. }))
    });
    assert!(
        msgs.contains(&LiveMsg::Lines {
            bytes: b"{\"seq\":1}\n{\"seq\":2}\n".to_vec(),
            count: 2,
            first: 0
        }),
        "{msgs:#?}"
    );
    let Some(LiveMsg::Link(LinkState::Disconnected { reason, .. })) = msgs.last() else {
        unreachable!()
    };
    assert!(reason.contains("mid-stream"), "{reason}");
    assert_eq!(
        requests.recv_timeout(WAIT).unwrap(),
        "GET /v1/stream?from=0 HTTP/1.1"
    );
    assert_eq!(
        requests.recv_timeout(WAIT).unwrap(),
        "GET /v1/stream?from=2 HTTP/1.1"
    );
    let msgs = wait_for(&rx, "the line after the cut", |m| {
        matches!(m, LiveMsg::Lines { .. })
    });
    assert_eq!(
        msgs.last(),
        Some(&LiveMsg::Lines {
            bytes: b"{\"seq\":3}\n".to_vec(),
            count: 1,
            first: 2
        })
    );
    f.stop();
}

#[test]
fn a_tls_collector_with_a_token_is_followed_with_its_ca_cert() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let cert = self_signed(dir.path(), "cert", &["localhost", "127.0.0.1"]);
    let data = dir.path().join("data");
    let c = collector_with_tls(&rt, &data, any_port(), Some("s3cret"), Some(&cert));
    let addr = c.http_addr;
    post_tls(&rt, &c, &cert, "s3cret", 1..=3);
    let cfg = LiveConfig {
        url: format!("https://localhost:{}/", addr.port()),
        token: Some("s3cret".into()),
        ca_cert: Some(cert.cert.clone()),
        max_line: 1 << 20,
    };
    let (f, rx) = follow_cfg(cfg, 4);
    wait_for(&rx, "Connected", is_connected);
    let mut next = 0;
    assert_eq!(seqs_until(&rx, &mut next, 3), vec![1, 2, 3]);
    post_tls(&rt, &c, &cert, "s3cret", 4..=5);
    assert_eq!(seqs_until(&rx, &mut next, 5), vec![4, 5]);
    // The counters come over TLS with the token too.
    wait_for(
        &rx,
        "Stats with 5 events",
        |m| matches!(m, LiveMsg::Stats(s) if s.events == 5),
    );

    // A restart on the same port: the follower resumes after the last line it delivered.
    rt.block_on(c.shutdown()).unwrap();
    wait_for(&rx, "Disconnected", |m| {
        matches!(m, LiveMsg::Link(LinkState::Disconnected { .. }))
    });
    let c = collector_with_tls(&rt, &data, addr, Some("s3cret"), Some(&cert));
    let msgs = wait_for(&rx, "Connected again", is_connected);
    assert!(
        !msgs.iter().any(|m| matches!(m, LiveMsg::Lines { .. })),
        "{msgs:#?}"
    );
    post_tls(&rt, &c, &cert, "s3cret", 6..=6);
    assert_eq!(seqs_until(&rx, &mut next, 6), vec![6]);
    stop_promptly(f, rx);
    rt.block_on(c.shutdown()).unwrap();
}

#[test]
fn tls_failures_say_what_is_wrong_and_suggest_the_fix() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    // Issued for localhost only.
    let cert = self_signed(dir.path(), "cert", &["localhost"]);
    let other = self_signed(dir.path(), "other", &["localhost"]);
    let c = collector_with_tls(
        &rt,
        &dir.path().join("data"),
        any_port(),
        Some("s3cret"),
        Some(&cert),
    );
    let port = c.http_addr.port();
    let follow_tls = |url: String, ca: Option<&Certificate>, token: &str| {
        follow_cfg(
            LiveConfig {
                url,
                token: Some(token.into()),
                ca_cert: ca.map(|c| c.cert.clone()),
                max_line: 1 << 20,
            },
            16,
        )
    };

    // No --ca-cert: the system's CAs do not know a self-signed certificate (a system without
    // any CA certificate says so instead); either way the reason points to --ca-cert.
    let (f, rx) = follow_tls(format!("https://localhost:{port}"), None, "s3cret");
    let reason = first_disconnect(&rx);
    assert!(
        reason.contains("--ca-cert FILE")
            && (reason.starts_with("TLS: the collector's certificate is not signed by a CA")
                || reason.starts_with("no CA certificates found on this system")),
        "{reason}"
    );
    f.stop();

    // The wrong CA file.
    let (f, rx) = follow_tls(format!("https://localhost:{port}"), Some(&other), "s3cret");
    let reason = first_disconnect(&rx);
    assert_eq!(
        reason,
        format!(
            "TLS: the collector's certificate is not signed by a CA of --ca-cert {}",
            other.cert.display()
        )
    );
    f.stop();

    // The right CA, the wrong host name.
    let (f, rx) = follow_tls(format!("https://127.0.0.1:{port}"), Some(&cert), "s3cret");
    let reason = first_disconnect(&rx);
    assert_eq!(
        reason,
        "TLS: the collector's certificate is not valid for 127.0.0.1 (only for localhost): \
         connect with one of those names"
    );
    f.stop();

    // Plain HTTP to the TLS port.
    let (f, rx) = follow_tls(format!("http://127.0.0.1:{port}"), None, "s3cret");
    let reason = first_disconnect(&rx);
    assert!(
        reason.contains("if the collector was started with --tls-cert, connect with https://"),
        "{reason}"
    );
    f.stop();

    // TLS all right, the token wrong: nothing is delivered, counters included.
    let (f, rx) = follow_tls(format!("https://localhost:{port}"), Some(&cert), "wrong");
    let msgs = wait_for(&rx, "Disconnected", |m| {
        matches!(m, LiveMsg::Link(LinkState::Disconnected { .. }))
    });
    assert_eq!(
        msgs.last(),
        Some(&LiveMsg::Link(LinkState::Disconnected {
            reason:
                "HTTP 401: missing or wrong bearer token (the collector refused the --token given)"
                    .into(),
            retry_in: Duration::from_millis(250),
        })),
        "{msgs:#?}"
    );
    assert!(
        !msgs
            .iter()
            .any(|m| matches!(m, LiveMsg::Stats(_) | LiveMsg::Lines { .. })),
        "{msgs:#?}"
    );
    f.stop();
    rt.block_on(c.shutdown()).unwrap();

    // https:// to a plain collector.
    let plain = collector(&rt, &dir.path().join("plain"), any_port(), None);
    let (f, rx) = follow_tls(
        format!("https://localhost:{}", plain.http_addr.port()),
        Some(&cert),
        "s3cret",
    );
    let reason = first_disconnect(&rx);
    assert!(
        reason.contains("if it serves plain HTTP, use http://"),
        "{reason}"
    );
    f.stop();
    rt.block_on(plain.shutdown()).unwrap();
}

#[test]
fn a_self_signed_certificate_marked_as_a_ca_is_trusted_as_given_with_ca_cert() {
    // `openssl req -x509` marks its self-signed certificates CA:TRUE, which webpki refuses as a
    // server's own certificate; given with --ca-cert, that very certificate is trusted.
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = make_cert(dir.path(), "cert", &["localhost"], ca);
    let other = make_cert(dir.path(), "other", &["localhost"], ca);
    let c = collector_with_tls(&rt, &dir.path().join("data"), any_port(), None, Some(&cert));
    let port = c.http_addr.port();
    let follow_tls = |url: String, ca: Option<&Certificate>| {
        follow_cfg(
            LiveConfig {
                url,
                token: None,
                ca_cert: ca.map(|c| c.cert.clone()),
                max_line: 1 << 20,
            },
            16,
        )
    };

    let (f, rx) = follow_tls(format!("https://localhost:{port}"), Some(&cert));
    wait_for(&rx, "Connected", is_connected);
    wait_for(
        &rx,
        "Stats",
        |m| matches!(m, LiveMsg::Stats(s) if s.events == 0),
    );
    f.stop();

    // Still only for the names it holds.
    let (f, rx) = follow_tls(format!("https://127.0.0.1:{port}"), Some(&cert));
    let reason = first_disconnect(&rx);
    assert!(
        reason.starts_with("TLS: the collector's certificate is not valid for 127.0.0.1"),
        "{reason}"
    );
    f.stop();

    // Another certificate of the same kind is not that certificate.
    let (f, rx) = follow_tls(format!("https://localhost:{port}"), Some(&other));
    let reason = first_disconnect(&rx);
    assert_eq!(
        reason,
        format!(
            "TLS: the collector's certificate is marked as a CA (CA:TRUE) and is not one of \
             --ca-cert {}: pass that very certificate",
            other.cert.display()
        )
    );
    f.stop();

    // Without --ca-cert, the reason points to it.
    let (f, rx) = follow_tls(format!("https://localhost:{port}"), None);
    let reason = first_disconnect(&rx);
    assert!(reason.contains("--ca-cert FILE"), "{reason}");
    f.stop();
    rt.block_on(c.shutdown()).unwrap();
}

/// The whole live pipeline against a collector: the follower counts the lines as they arrive,
/// the parser and model threads grow a model batch by batch, and once everything is in, the
/// model posted to the UI is the one built from scratch on the same lines, findings included.
/// Half the events are held back and posted after the rest (a late cause under what arrived).
#[test]
fn a_live_source_grows_the_model_of_what_the_collector_streams() {
    use weft_trace::{ReadOptions, Trace};
    use weft_tui::model::Model;
    use weft_tui::run::LiveSource;
    use weft_tui::state::Action;

    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let c = collector(&rt, dir.path(), any_port(), None);
    let cfg = weft_sim::Config {
        seed: 11,
        replicas: 4,
        ops: 300,
        ..Default::default()
    };
    let mut out = Vec::new();
    weft_sim::simulate(&cfg, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    // The events without the header line; every other line held back to the end.
    let lines: Vec<&str> = text
        .split_inclusive('\n')
        .filter(|l| l.contains("\"replica\""))
        .collect();
    let early = lines.iter().step_by(2);
    let late = lines.iter().skip(1).step_by(2);
    let order: Vec<&str> = early.chain(late).copied().collect();
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let url = format!("http://{}", c.http_addr);
    let (tx, rx) = mpsc::sync_channel::<Action>(256);
    let source = LiveSource::spawn(
        LiveConfig {
            url: url.clone(),
            token: None,
            ca_cert: None,
            max_line: 1 << 20,
        },
        1_000_000,
        tx,
    );
    for chunk in order.chunks(97) {
        let resp = client
            .post(format!("{url}/v1/events"))
            .body(chunk.concat())
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
    }
    let total = order.len();
    let deadline = Instant::now() + WAIT * 4;
    let mut last: Option<Arc<Model>> = None;
    let mut models = 0;
    while last
        .as_ref()
        .is_none_or(|m| m.len() < total || m.report.summary.events < total as u64)
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Action::Model(m)) => {
                models += 1;
                last = Some(m);
            }
            Ok(Action::Received(_)) => panic!("arrivals are counted by the follower only"),
            Ok(_) => {}
            Err(e) => panic!(
                "no complete model within the deadline ({e:?}): {:?}, {} arrived",
                last.as_deref(),
                source.arrived()
            ),
        }
    }
    assert_eq!(
        source.arrived(),
        total as u64,
        "every line counted on arrival"
    );
    let reference = Model::build(
        Trace::batch_from_ndjson(
            &url,
            &order.concat(),
            &ReadOptions {
                lenient: true,
                ..Default::default()
            },
        )
        .unwrap(),
    );
    let grown = last.unwrap();
    if let Some(d) = grown.differs_from(&reference) {
        panic!("after {models} models: {d}");
    }
    assert!(grown.report.summary.conflicts > 0, "a run with findings");
    source.stop();
    rt.block_on(c.shutdown()).unwrap();
}
