//! The "parse floor": what it costs to merely read a trace file into plain structs with
//! `serde_json`, single-threaded, one `from_str` per line. `weft check` has to do at least this
//! much work (and then build and analyse the graph), so its time is judged against this.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// One event, as a straightforward program would model it.
#[derive(Deserialize)]
#[allow(dead_code)] // only parsed, never read: the point is the cost of parsing
pub struct Event {
    replica: String,
    seq: u64,
    kind: Option<String>,
    lamport: Option<u64>,
    vc: Option<HashMap<String, u64>>,
    wall_ns: Option<i64>,
    parents: Option<Vec<(String, u64)>>,
    msg: Option<String>,
    key: Option<String>,
    op: Option<String>,
    value: Option<serde_json::Value>,
}

/// Result of one floor measurement.
#[derive(Clone, Debug)]
pub struct Floor {
    pub events: usize,
    /// Time to open, read and parse every line into a `Vec<Event>` (dropping it not included).
    pub time: Duration,
    /// Peak RSS of this process during the parse, when the kernel lets us reset and read it.
    pub peak_rss: Option<u64>,
}

/// Reads `path` line by line (a reused `String` buffer) and parses every non-blank line except
/// a leading header object into [`Event`]s, keeping them all in memory.
pub fn measure(path: &Path) -> Result<Floor> {
    let rss_reset = crate::sys::reset_peak_rss();
    let start = Instant::now();
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = String::new();
    let mut events: Vec<Event> = Vec::new();
    let mut lineno = 0u64;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        lineno += 1;
        let text = line.trim_end();
        if text.is_empty() || (lineno == 1 && text.contains("\"format\"")) {
            continue;
        }
        match serde_json::from_str::<Event>(text) {
            Ok(e) => events.push(e),
            Err(e) => bail!("{}:{lineno}: {e}", path.display()),
        }
    }
    let time = start.elapsed();
    let events = std::hint::black_box(events);
    let peak_rss = if rss_reset {
        crate::sys::peak_rss()
    } else {
        None
    };
    let n = events.len();
    drop(events);
    Ok(Floor {
        events: n,
        time,
        peak_rss,
    })
}
