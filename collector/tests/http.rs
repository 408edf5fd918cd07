//! End-to-end tests of the collector over real loopback sockets on OS-chosen ports.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use weft_collector::io::FaultyIo;
use weft_collector::{start, Config};

#[tokio::test]
async fn ndjson_batches_are_stored_durably_and_deduplicated() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(config(dir.path())).await.unwrap();
    let r = post(&c, TWO).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["stored"], 2);
    // A retry of the same batch is dropped; a different copy of an id is stored for the analyzer.
    let r = post(&c, TWO).await;
    assert_eq!(
        (r.json()["stored"].as_u64(), r.json()["duplicates"].as_u64()),
        (Some(0), Some(2))
    );
    let r = post(
        &c,
        "{\"replica\":\"a\",\"seq\":1,\"kind\":\"send\",\"msg\":\"m9\"}\n",
    )
    .await;
    assert_eq!(r.json()["conflicting_duplicates"], 1);
    let t = stored(dir.path());
    assert_eq!(t.len(), 2);
    assert_eq!(t.conflicting_duplicates().len(), 1);
    let status = request(c.http_addr, "GET", "/v1/status", &[], b"")
        .await
        .json();
    assert_eq!(status["events"], 3);
    assert_eq!(status["duplicates"], 2);
    assert_eq!(status["replicas"]["a"]["last_seq"], 1);
    c.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_malformed_batch_is_rejected_whole_with_each_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(config(dir.path())).await.unwrap();
    let body = "{\"replica\":\"a\",\"seq\":1}\n{\"replica\":\"a\",\"seq\":0}\nnot json\n{\"replica\":\"a\",\"seq\":3}\n";
    let r = post(&c, body).await;
    assert_eq!(r.status, 400);
    let j = r.json();
    assert_eq!(j["lines"][0]["line"], 2);
    assert_eq!(
        j["lines"][0]["reason"],
        "field `seq`: must be an integer ≥ 1, got 0"
    );
    assert_eq!(j["lines"][1]["line"], 3);
    assert!(j["lines"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("invalid JSON"));
    let status = request(c.http_addr, "GET", "/v1/status", &[], b"")
        .await
        .json();
    assert_eq!(status["events"], 0, "nothing of a rejected batch is stored");
    assert_eq!(status["rejected"], 2);
    c.shutdown().await.unwrap();
}

#[tokio::test]
async fn gzip_bodies_limits_and_tokens() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.max_body = 2000;
    cfg.token = Some("s3cret".into());
    let c = start(cfg).await.unwrap();
    let auth = ("Authorization", "Bearer s3cret");
    let r = request(c.http_addr, "POST", "/v1/events", &[], TWO.as_bytes()).await;
    assert_eq!(r.status, 401);
    let r = request(
        c.http_addr,
        "POST",
        "/v1/events",
        &[("Authorization", "Bearer s3cref")],
        TWO.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 401);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(TWO.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let r = request(
        c.http_addr,
        "POST",
        "/v1/events",
        &[auth, ("Content-Encoding", "gzip")],
        &gz,
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let big = "{\"replica\":\"a\",\"seq\":2}\n".repeat(200);
    let r = request(c.http_addr, "POST", "/v1/events", &[auth], big.as_bytes()).await;
    assert_eq!(r.status, 413);
    // A small body that inflates past the limit is refused too.
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    bomb.write_all(big.as_bytes()).unwrap();
    let bomb = bomb.finish().unwrap();
    assert!(bomb.len() < 2000);
    let r = request(
        c.http_addr,
        "POST",
        "/v1/events",
        &[auth, ("Content-Encoding", "gzip")],
        &bomb,
    )
    .await;
    assert_eq!(r.status, 413);
    assert_eq!(
        request(c.http_addr, "GET", "/healthz", &[], b"")
            .await
            .status,
        200,
        "health needs no token"
    );
    c.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_non_loopback_address_needs_a_token_or_insecure() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.listen = SocketAddr::from(([0, 0, 0, 0], 0));
    let e = start(cfg).await.err().expect("refused");
    assert!(e.to_string().contains("--token"), "{e}");
}

#[tokio::test]
async fn the_stream_replays_from_an_offset_and_follows_live() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(config(dir.path())).await.unwrap();
    let mut body = String::new();
    for i in 1..=300 {
        body.push_str(&format!(
            "{{\"replica\":\"r\",\"seq\":{i},\"attrs\":{{\"pad\":\"{}\"}}}}\n",
            "x".repeat(40)
        ));
    }
    assert_eq!(post(&c, &body).await.status, 200);
    // From an offset in the middle (segments roll every 4 KiB here).
    let mut s = open_get(c.http_addr, "/v1/stream?from=250").await;
    let mut got = Vec::new();
    read_stream_until(&mut s, &mut got, "\"seq\":300,").await;
    let text = String::from_utf8_lossy(&got).to_string();
    assert!(text.contains("{\"replica\":\"r\",\"seq\":251"), "{text}");
    assert!(!text.contains("\"seq\":250,"));
    // Live: a new event arrives on the open stream.
    assert_eq!(
        post(&c, "{\"replica\":\"r\",\"seq\":301}\n").await.status,
        200
    );
    read_stream_until(&mut s, &mut got, "\"seq\":301}").await;
    // Shutdown ends open streams instead of waiting for them.
    tokio::time::timeout(Duration::from_secs(10), c.shutdown())
        .await
        .expect("shutdown in time")
        .unwrap();
    let segments = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("segment-")
        })
        .count();
    assert!(segments > 1, "segments rolled");
}

#[tokio::test]
async fn a_full_disk_is_a_state_reads_go_on_and_writing_resumes_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let io = FaultyIo::new();
    let c = start(Config {
        io: Some(Arc::new(io.clone())),
        ..config(dir.path())
    })
    .await
    .unwrap();
    assert_eq!(post(&c, TWO).await.status, 200);
    io.set_space(Some(10));
    let third = "{\"replica\":\"c\",\"seq\":1,\"attrs\":{\"note\":\"after the disk filled\"}}\n";
    let r = post(&c, third).await;
    assert_eq!(r.status, 507, "{}", String::from_utf8_lossy(&r.body));
    assert!(
        r.headers.to_ascii_lowercase().contains("retry-after: 5"),
        "{}",
        r.headers
    );
    let error = r.json()["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("disk is full") && error.contains("No space left on device"),
        "{error}"
    );
    // Refused at once while full, and every status surface says why.
    assert_eq!(post(&c, third).await.status, 507);
    let status = request(c.http_addr, "GET", "/v1/status", &[], b"")
        .await
        .json();
    assert_eq!(status["events"], 2);
    assert_eq!(status["store"]["writable"], false);
    assert_eq!(status["store"]["health"]["state"], "full");
    let message = status["store"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("refusing writes: the disk is full"),
        "{message}"
    );
    let health = request(c.http_addr, "GET", "/healthz", &[], b"").await;
    assert_eq!(health.status, 503);
    assert!(String::from_utf8_lossy(&health.body).contains("disk is full"));
    let metrics = request(c.http_addr, "GET", "/metrics", &[], b"").await;
    let metrics = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(
        metrics.contains("weft_store_disk_full 1\n") && metrics.contains("weft_store_writable 0\n"),
        "{metrics}"
    );
    // Reads and the live stream keep working.
    let mut s = open_get(c.http_addr, "/v1/stream?from=0").await;
    let mut got = Vec::new();
    read_stream_until(&mut s, &mut got, "\"replica\":\"b\"").await;
    // Space comes back: the store notices by itself, the retried batch is stored (not taken
    // for a duplicate) and reaches the open stream.
    io.set_space(None);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while request(c.http_addr, "GET", "/healthz", &[], b"")
        .await
        .status
        != 200
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "writing did not resume"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = post(&c, third).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["stored"], 1);
    read_stream_until(&mut s, &mut got, "after the disk filled").await;
    let status = request(c.http_addr, "GET", "/v1/status", &[], b"")
        .await
        .json();
    assert_eq!(status["store"]["writable"], true);
    assert_eq!(status["store"]["write_errors"], 1);
    c.shutdown().await.unwrap();
    assert_eq!(stored(dir.path()).len(), 3);
}

#[tokio::test]
async fn a_second_collector_on_the_same_directory_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(config(dir.path())).await.unwrap();
    let Err(e) = start(config(dir.path())).await else {
        panic!("two collectors on one directory");
    };
    let msg = e.to_string();
    assert!(
        msg.contains("in use by another weft collector (pid"),
        "{msg}"
    );
    c.shutdown().await.unwrap();
    start(config(dir.path()))
        .await
        .unwrap()
        .shutdown()
        .await
        .unwrap();
}

#[tokio::test]
async fn restart_recovers_and_cuts_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(config(dir.path())).await.unwrap();
    assert_eq!(post(&c, TWO).await.status, 200);
    c.shutdown().await.unwrap();
    // Simulate a crash mid-write: a partial line at the end of the last segment.
    let mut segs: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    segs.sort();
    let last = segs.last().unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(last).unwrap();
    std::io::Write::write_all(&mut f, b"{\"replica\":\"c\",\"se").unwrap();
    drop(f);
    let c = start(config(dir.path())).await.unwrap();
    assert_eq!(c.recovery.events, 2);
    assert!(c.recovery.truncated_bytes > 0);
    assert_eq!(
        post(&c, "{\"replica\":\"c\",\"seq\":1}\n").await.status,
        200
    );
    let status = request(c.http_addr, "GET", "/v1/status", &[], b"")
        .await
        .json();
    assert_eq!(status["events"], 3);
    c.shutdown().await.unwrap();
    assert_eq!(stored(dir.path()).len(), 3);
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(config(dir.path())).await.unwrap();
    assert_eq!(post(&c, TWO).await.status, 200);
    let r = request(c.http_addr, "GET", "/metrics", &[], b"").await;
    assert_eq!(r.status, 200);
    assert!(r.headers.contains("text/plain"));
    let text = String::from_utf8(r.body).unwrap();
    assert!(
        text.contains("# TYPE weft_events_stored_total counter\nweft_events_stored_total 2\n"),
        "{text}"
    );
    c.shutdown().await.unwrap();
}

#[tokio::test]
async fn tls_serves_https_with_the_given_certificate() {
    use std::sync::Arc;
    use tokio_rustls::rustls;
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let mut cfg = config(&dir.path().join("data"));
    cfg.tls = Some((cert_path.clone(), key_path.clone()));
    let c = start(cfg).await.unwrap();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = TcpStream::connect(c.http_addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut s = connector.connect(name, tcp).await.expect("TLS handshake");
    let req = format!(
        "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{TWO}",
        TWO.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    // Plain HTTP on the TLS port gets nowhere.
    let r = tokio::time::timeout(Duration::from_secs(5), async {
        let mut s = TcpStream::connect(c.http_addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw).await;
        raw
    })
    .await
    .unwrap();
    assert!(!String::from_utf8_lossy(&r).contains("200 OK"));
    c.shutdown().await.unwrap();
    // A key that does not match is refused at start, naming the file.
    let other = rcgen::generate_simple_self_signed(vec!["x".to_string()]).unwrap();
    std::fs::write(&key_path, other.signing_key.serialize_pem()).unwrap();
    let mut cfg = config(&dir.path().join("data"));
    cfg.tls = Some((cert_path, key_path));
    let e = start(cfg).await.err().expect("refused");
    assert!(e.to_string().contains("key.pem"), "{e}");
}

/// A size-limited tmpfs mounted for one test; unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts one, or says why it cannot be done here (not root, no mount namespace rights).
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { dir })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn numbered_batch(n: u64) -> String {
    (0..100)
        .map(|i| {
            format!(
                "{{\"replica\":\"r{}\",\"seq\":{},\"attrs\":{{\"pad\":\"{}\"}}}}\n",
                i % 4,
                n * 100 + i + 1,
                "x".repeat(60)
            )
        })
        .collect()
}

#[tokio::test]
async fn a_real_full_disk_refuses_loses_nothing_acknowledged_and_resumes() {
    let fs = match Tmpfs::mount("2m") {
        Ok(fs) => fs,
        Err(why) => {
            println!("skipped: a real ENOSPC needs a tmpfs mount: {why}");
            return;
        }
    };
    let data = fs.dir.path().join("data");
    let filler = fs.dir.path().join("filler");
    // Leave about 300 KiB for the collector.
    std::fs::write(&filler, vec![0u8; (2 << 20) - (300 << 10)]).unwrap();
    let c = start(Config {
        segment_bytes: 64 << 10,
        ..config(&data)
    })
    .await
    .unwrap();
    let mut acked = 0u64;
    let mut refused = None;
    for n in 0..400 {
        let r = post(&c, &numbered_batch(n)).await;
        match r.status {
            200 => acked += r.json()["stored"].as_u64().unwrap(),
            507 => {
                refused = Some(n);
                break;
            }
            other => panic!("{other}: {}", String::from_utf8_lossy(&r.body)),
        }
    }
    let refused = refused.expect("the disk filled up");
    assert!(acked > 0);
    let status = request(c.http_addr, "GET", "/v1/status", &[], b"")
        .await
        .json();
    assert_eq!(status["store"]["health"]["state"], "full", "{status}");
    assert_eq!(status["events"], acked);
    // What a reader finds while the disk is full is exactly what was acknowledged.
    assert_eq!(stored(&data).len() as u64, acked);
    // Space comes back; the refused batch, retried, is stored.
    std::fs::remove_file(&filler).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while request(c.http_addr, "GET", "/healthz", &[], b"")
        .await
        .status
        != 200
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "writing did not resume"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = post(&c, &numbered_batch(refused)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["stored"], 100);
    c.shutdown().await.unwrap();
    assert_eq!(stored(&data).len() as u64, acked + 100);
    let c = start(config(&data)).await.unwrap();
    assert_eq!(c.recovery.truncated_bytes, 0, "nothing torn was left");
    assert_eq!(c.recovery.events, acked + 100);
    c.shutdown().await.unwrap();
}
