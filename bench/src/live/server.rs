//! The stream the `live` child follows: this process serving the trace's lines as a
//! collector's `GET /v1/stream` would (chunked NDJSON on loopback, paced), and 404 otherwise.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// The stream the child follows: the trace's lines, chunked, paced at `rate` per second.
pub(super) struct StreamServer {
    pub(super) addr: std::net::SocketAddr,
    pub(super) stop: Arc<AtomicBool>,
}

impl StreamServer {
    pub(super) fn start(
        text: Arc<String>,
        lines: Arc<Vec<usize>>,
        rate: f64,
    ) -> Result<StreamServer> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the stream server")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (text, lines, flag) = (text.clone(), lines.clone(), flag.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &text, &lines, rate, &flag);
                });
            }
        });
        Ok(StreamServer { addr, stop })
    }

    pub(super) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
    }
}

/// One connection: requests until it closes; `/v1/stream?from=N` streams forever (paced),
/// anything else is a 404.
pub(super) fn serve(
    conn: TcpStream,
    text: &str,
    lines: &[usize],
    rate: f64,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    conn.set_nodelay(true)?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    loop {
        let Some(target) = read_request(&mut reader)? else {
            return Ok(());
        };
        let Some(query) = target.strip_prefix("/v1/stream") else {
            out.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")?;
            continue;
        };
        let from: usize = query
            .trim_start_matches('?')
            .split('&')
            .find_map(|kv| kv.strip_prefix("from="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        out.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n",
        )?;
        let total = lines.len() - 1;
        let start = Instant::now();
        let mut sent = from.min(total);
        while !stop.load(Ordering::Relaxed) {
            let due = (from + (start.elapsed().as_secs_f64() * rate) as usize).min(total);
            if due > sent {
                let body = &text.as_bytes()[lines[sent]..lines[due]];
                write!(out, "{:x}\r\n", body.len())?;
                out.write_all(body)?;
                out.write_all(b"\r\n")?;
                sent = due;
            } else {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        return Ok(());
    }
}

/// Reads one request head (a GET: no body); its target, or `None` when the connection closed.
fn read_request(r: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut head = Vec::new();
    loop {
        // Line by line, so that nothing after the head is taken from the reader.
        if r.read_until(b'\n', &mut head)? == 0 {
            return Ok(None);
        }
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {
                return Ok(Some(req.path.unwrap_or_default().to_owned()))
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        }
    }
}

/// Byte offsets of the event lines of `text` (the header line left out), plus the end.
pub(super) fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if !line.starts_with("{\"format\"") {
            starts.push(at);
        }
        at += line.len();
    }
    starts.push(at);
    starts
}
