//! `weft check DIR` on a data directory a running collector is writing to: every run reads a
//! consistent prefix — never an input error (exit 2), never fewer events than the run before,
//! never fewer than were acknowledged before it started — while batches are ingested and
//! segments roll over. An unfinished tail of the last segment is left out and noted on stderr.
//!
//! A torn tail left by a killed collector is made deterministically as well, to check the note
//! word for word and that the restarted collector cuts it.
//!
//! Loopback only; every wait has a deadline; the collector is killed if the test fails.

use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Replicas the client writes as, round-robin within each batch.
const REPLICAS: u64 = 3;
/// Events per batch (~200 bytes each: a write of several pages per group commit).
const BATCH: u64 = 120;
/// Segment size limit: small, so segments roll over between and during the checks.
const SEGMENT_BYTES: u64 = 64 << 10;
/// At most this many `weft check` runs…
const RUNS: usize = 30;
/// …started within this long.
const RUN_FOR: Duration = Duration::from_secs(10);
/// Any single wait gives up (and fails the test) after this.
const WAIT: Duration = Duration::from_secs(60);

/// A running `weft collect`, killed when dropped; its stderr is collected for messages.
struct Collector {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Collector {
    fn start(data: &Path) -> Collector {
        let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
            .arg("collect")
            .args(["--listen", "127.0.0.1:0", "--no-grpc"])
            .args(["--segment-bytes", &SEGMENT_BYTES.to_string()])
            .arg("--data")
            .arg(data)
            .env_remove("WEFT_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start weft collect");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&log);
        // Reads stderr to its end (so the collector never blocks on it), handing over the
        // address it announces.
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line
                    .split("listening on http://")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|a| a.parse::<SocketAddr>().ok())
                {
                    let _ = tx.send(addr);
                }
                let mut log = sink.lock().unwrap_or_else(|p| p.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr = match rx.recv_timeout(WAIT) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "weft collect announced no address\n{}",
                    log.lock().unwrap_or_else(|p| p.into_inner())
                );
            }
        };
        Collector { child, addr, log }
    }

    fn log(&self) -> String {
        format!(
            "--- weft collect stderr ---\n{}",
            self.log.lock().unwrap_or_else(|p| p.into_inner())
        )
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs `body` to `/v1/events` through `ureq` (one request per connection) and returns the
/// status and body.
fn post(addr: SocketAddr, body: &[u8]) -> io::Result<(u16, String)> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .max_idle_connections(0)
        .timeout_connect(Some(Duration::from_secs(5)))
        .timeout_per_read(Some(WAIT))
        .timeout_per_write(Some(WAIT))
        .build()
        .new_agent();
    let mut resp = agent
        .post(format!("http://{addr}/v1/events"))
        .header("connection", "close")
        .header("content-type", "application/x-ndjson")
        .send(body)
        .map_err(ureq::Error::into_io)?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .read_to_vec()
        .map_err(ureq::Error::into_io)?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Batch number `batch` (from 1): `BATCH` events, round-robin over the replicas, continuing
/// their seqs in `seq`.
fn batch_body(batch: u64, seq: &mut [u64]) -> String {
    let pad = "x".repeat(120);
    let mut body = String::new();
    for i in 0..BATCH {
        let r = (i % REPLICAS) as usize;
        seq[r] += 1;
        body.push_str(&format!(
            "{{\"replica\":\"r{r}\",\"seq\":{},\"kind\":\"local\",\"attrs\":{{\"batch\":{batch},\"pad\":\"{pad}\"}}}}\n",
            seq[r]
        ));
    }
    body
}

/// POSTs a batch until it is acknowledged (a full queue's 503 is retried).
fn send(addr: SocketAddr, batch: u64, body: &str) -> Result<(), String> {
    let by = Instant::now() + WAIT;
    loop {
        match post(addr, body.as_bytes()) {
            Ok((200, answer)) if answer.contains(&format!("\"stored\":{BATCH}")) => return Ok(()),
            Ok((503, _)) if Instant::now() < by => thread::sleep(Duration::from_millis(5)),
            Ok((status, answer)) => {
                return Err(format!("batch {batch}: status {status}: {answer}"))
            }
            Err(e) => return Err(format!("batch {batch}: {e}")),
        }
    }
}

/// Sends batches until `stop`; counts acknowledged events.
fn client(addr: SocketAddr, stop: &AtomicBool, acked: &AtomicU64) -> Result<(), String> {
    let mut seq = vec![0u64; REPLICAS as usize];
    let mut batch = 0u64;
    while !stop.load(Ordering::SeqCst) {
        batch += 1;
        send(addr, batch, &batch_body(batch, &mut seq))?;
        acked.fetch_add(BATCH, Ordering::SeqCst);
    }
    Ok(())
}

fn check(data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("check")
        .arg(data)
        .args(["--format", "json"])
        .stdin(Stdio::null())
        .output()
        .expect("run weft check")
}

/// The summary's event count of a `weft check` that exited 0 or 1.
fn events_of(out: &Output, what: &str, collector: &Collector) -> u64 {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{what}: weft check exited {} (2 is an input error):\n{stderr}\n{}",
        out.status,
        collector.log()
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: the report is not JSON: {e}\n{stderr}"));
    report["summary"]["events"]
        .as_u64()
        .unwrap_or_else(|| panic!("{what}: no summary.events in {report}"))
}

#[test]
fn weft_check_reads_a_consistent_prefix_of_a_directory_a_collector_is_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let collector = Collector::start(&data);
    let addr = collector.addr;

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let sender = {
        let (stop, acked) = (Arc::clone(&stop), Arc::clone(&acked));
        thread::spawn(move || client(addr, &stop, &acked))
    };
    // Stops the client however the test ends.
    struct StopOnDrop(Arc<AtomicBool>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let _stop_guard = StopOnDrop(Arc::clone(&stop));

    let by = Instant::now() + WAIT;
    while acked.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < by && !sender.is_finished(),
            "no batch acknowledged\n{}",
            collector.log()
        );
        thread::sleep(Duration::from_millis(5));
    }

    let started = Instant::now();
    let (mut runs, mut noted, mut last) = (0, 0, 0u64);
    while runs < RUNS && started.elapsed() < RUN_FOR {
        let acked_before = acked.load(Ordering::SeqCst);
        let out = check(&data);
        runs += 1;
        let what = format!("run {runs}");
        let events = events_of(&out, &what, &collector);
        assert!(
            events >= last,
            "{what}: {events} events, fewer than the {last} of the run before"
        );
        assert!(
            events >= acked_before,
            "{what}: {events} events, fewer than the {acked_before} acknowledged before it started"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        for line in stderr.lines() {
            assert!(
                line.starts_with("weft: note: ")
                    && line.contains("/segment-")
                    && line.ends_with(
                        "at the end ignored as in flight (not yet committed by the collector)"
                    ),
                "{what}: unexpected stderr line: {line}"
            );
            noted += 1;
        }
        last = events;
    }

    stop.store(true, Ordering::SeqCst);
    sender
        .join()
        .expect("the client panicked")
        .unwrap_or_else(|e| panic!("{e}\n{}", collector.log()));
    let total = acked.load(Ordering::SeqCst);
    let segments = std::fs::read_dir(&data)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("segment-"))
        })
        .count();

    // Once the client has stopped, everything acknowledged is read, and nothing is in flight.
    let out = check(&data);
    let events = events_of(&out, "after the client stopped", &collector);
    assert_eq!(events, total, "{}", collector.log());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(segments > 1, "segments never rolled over: {segments}");
    println!(
        "check_while_collecting: {runs} runs of weft check, {noted} in-flight notes, \
         {total} events acknowledged in {segments} segments"
    );
}

#[test]
fn an_unfinished_line_at_the_end_of_the_last_segment_is_noted_not_an_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut seq = vec![0u64; REPLICAS as usize];
    let collector = Collector::start(&data);
    for batch in 1..=2 {
        send(collector.addr, batch, &batch_body(batch, &mut seq))
            .unwrap_or_else(|e| panic!("{e}\n{}", collector.log()));
    }
    // Killed in the middle of a write: the last segment ends in part of a line.
    drop(collector);
    let mut segments: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".jsonl"))
        .collect();
    segments.sort();
    let last = segments.last().expect("a segment").clone();
    let torn = "{\"replica\":\"r0\",\"seq\":";
    std::fs::OpenOptions::new()
        .append(true)
        .open(&last)
        .unwrap()
        .write_all(torn.as_bytes())
        .unwrap();

    let out = check(&data);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "weft: note: {}: {} bytes at the end ignored as in flight (not yet committed by the \
             collector)\n",
            last.display(),
            torn.len()
        )
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["events"], 2 * BATCH);

    // The text report too: the note is on stderr, the report unchanged on stdout.
    let text = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("check")
        .arg(&data)
        .arg("--no-color")
        .output()
        .unwrap();
    assert_eq!(text.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&text.stderr).starts_with("weft: note: "));

    // A restarted collector cuts the tail; what it stores next is read whole.
    let collector = Collector::start(&data);
    send(collector.addr, 3, &batch_body(3, &mut seq))
        .unwrap_or_else(|e| panic!("{e}\n{}", collector.log()));
    let out = check(&data);
    assert_eq!(events_of(&out, "after the restart", &collector), 3 * BATCH);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
