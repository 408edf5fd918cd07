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
    /// Wall time to open, read and parse every line into a `Vec<Event>` (dropping it not
    /// included).
    pub time: Duration,
    /// CPU time of this process during that: user and system (system time is mostly the
    /// kernel handing out fresh pages for the retained events).
    pub user: Duration,
    pub sys: Duration,
    /// Peak RSS of this process (meaningful in a fresh process: `weft-bench floor`).
    pub peak_rss: Option<u64>,
}

/// Calls `f` on every non-blank line of `path` except a leading header object.
fn for_each_line(path: &Path, mut f: impl FnMut(u64, &str) -> Result<()>) -> Result<()> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = String::new();
    let mut lineno = 0u64;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        lineno += 1;
        let text = line.trim_end();
        if text.is_empty() || (lineno == 1 && text.contains("\"format\"")) {
            continue;
        }
        f(lineno, text)?;
    }
}

fn parse(path: &Path, lineno: u64, text: &str) -> Result<Event> {
    match serde_json::from_str::<Event>(text) {
        Ok(e) => Ok(e),
        Err(e) => bail!("{}:{lineno}: {e}", path.display()),
    }
}

/// The floor: reads `path` line by line (a reused `String` buffer) and parses every event line
/// into an [`Event`], keeping them all in a `Vec`. Single-threaded.
pub fn measure(path: &Path) -> Result<Floor> {
    let (user0, sys0) = crate::sys::self_cpu();
    let start = Instant::now();
    let mut events: Vec<Event> = Vec::new();
    for_each_line(path, |lineno, text| {
        events.push(parse(path, lineno, text)?);
        Ok(())
    })?;
    let time = start.elapsed();
    let (user1, sys1) = crate::sys::self_cpu();
    let events = std::hint::black_box(events);
    let n = events.len();
    drop(events);
    Ok(Floor {
        events: n,
        time,
        user: user1.saturating_sub(user0),
        sys: sys1.saturating_sub(sys0),
        peak_rss: crate::sys::peak_rss(),
    })
}

/// For comparison: the same reading and parsing, but each event is dropped right away, so
/// this is the cost of `serde_json` itself without the memory of a retained `Vec<Event>`.
pub fn measure_parse_only(path: &Path) -> Result<Duration> {
    let start = Instant::now();
    for_each_line(path, |lineno, text| {
        std::hint::black_box(parse(path, lineno, text)?);
        Ok(())
    })?;
    Ok(start.elapsed())
}

/// The least any JSON reader of these lines can do: simd-json (the parser `weft check` uses)
/// only finding each line's structure and decoding its numbers and strings into a tape, on
/// one thread, with every buffer reused; no event is built. `weft check` on two cores is
/// bounded below by half of this plus its analysis.
pub fn measure_tape_only(path: &Path) -> Result<Duration> {
    let mut buf: Vec<u8> = Vec::new();
    let mut buffers = simd_json::Buffers::default();
    let mut tape = simd_json::Tape(Vec::new());
    let start = Instant::now();
    for_each_line(path, |lineno, text| {
        buf.clear();
        buf.extend_from_slice(text.as_bytes());
        buf.resize(text.len() + simd_json::INPUT_PADDING, 0);
        let mut t = std::mem::replace(&mut tape, simd_json::Tape(Vec::new())).reset();
        if let Err(e) = simd_json::fill_tape_padded(&mut buf, text.len(), &mut buffers, &mut t) {
            bail!("{}:{lineno}: {e}", path.display());
        }
        std::hint::black_box(&t);
        tape = t.reset();
        Ok(())
    })?;
    Ok(start.elapsed())
}

/// The measurements of one file, as `weft-bench floor` reports them.
#[derive(Clone, Debug)]
pub struct Measured {
    pub floor: Floor,
    /// [`measure_parse_only`]'s time.
    pub parse_only: Duration,
    /// [`measure_tape_only`]'s time.
    pub tape_only: Duration,
}

/// Measures the parse-only and tape-only times first (they need little memory), then the
/// floor.
pub fn measure_both(path: &Path) -> Result<Measured> {
    let parse_only = measure_parse_only(path)?;
    let tape_only = measure_tape_only(path)?;
    let floor = measure(path)?;
    Ok(Measured {
        floor,
        parse_only,
        tape_only,
    })
}

impl Measured {
    /// One JSON line, for `weft-bench floor --json` (how `check` gets the floor of each file
    /// from a fresh process, so the measurements don't depend on each other's heap).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "events": self.floor.events,
            "secs": self.floor.time.as_secs_f64(),
            "user_secs": self.floor.user.as_secs_f64(),
            "sys_secs": self.floor.sys.as_secs_f64(),
            "peak_rss": self.floor.peak_rss,
            "parse_only_secs": self.parse_only.as_secs_f64(),
            "tape_only_secs": self.tape_only.as_secs_f64(),
        })
        .to_string()
    }

    pub fn from_json(line: &str) -> Result<Self> {
        let v: serde_json::Value =
            serde_json::from_str(line.trim()).with_context(|| format!("floor output {line:?}"))?;
        let secs = |k: &str| {
            v[k].as_f64()
                .map(Duration::from_secs_f64)
                .with_context(|| format!("floor output lacks {k}: {line:?}"))
        };
        Ok(Measured {
            floor: Floor {
                events: v["events"].as_u64().context("floor output lacks events")? as usize,
                time: secs("secs")?,
                user: secs("user_secs")?,
                sys: secs("sys_secs")?,
                peak_rss: v["peak_rss"].as_u64(),
            },
            parse_only: secs("parse_only_secs")?,
            tape_only: secs("tape_only_secs")?,
        })
    }
}
