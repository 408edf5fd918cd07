//! The `shapes` benchmark: the memory of `weft check` on traces made of very many replicas with
//! one event each (issue 13, item 1).
//!
//! Three shapes, each written by [`write_shape`] (a header line, then one line per replica
//! `r0000000`, `r0000001`, …, each with `seq` 1):
//!
//! * `locals` (l): every replica has one `local` event. Run at 50 k, 100 k, 200 k and 400 k
//!   replicas (the sizes the issue measured; information) and at 1 M (the target);
//! * `broadcast` (m): replica `src` sends message `m1`, and every replica has one `recv` of it;
//! * `own-keys` (n): like `locals`, but every other replica writes a key of its own (`k0000000`,
//!   `k0000002`, …: 500 k keys with one write each at 1 M), so the conflict code runs over as many
//!   keys without any pair of writes to compare.
//!
//! Each trace is checked with `weft check --format json` as a child process (stdout read through a
//! pipe; only the summary is kept), timed and its peak RSS taken from `wait4`, as `check` does. The
//! report must count every event and find nothing (no error, warning or conflict): anything else is
//! a `FAIL`. Targets: the peak RSS of each 1 M trace at most 1.5 GB (1.5 × 10^9 bytes; `weft check`
//! once needed 14 GB and more for l and m).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::bench::{
    bytes, count, find_weft, first_line, print_machine, secs, warm, Verdict, WorkDir,
};
use crate::hotkeys::check_once;
use crate::sys::Exit;

/// The target for the 1 M traces: 1.5 GB.
pub const TARGET_RSS: u64 = 1_500_000_000;

/// Replicas of the judged traces.
const FULL: u64 = 1_000_000;

/// The sizes `locals` is also run at (information): those of the issue's figures.
const LADDER: [u64; 4] = [50_000, 100_000, 200_000, 400_000];

/// Options of `shapes`.
#[derive(Clone, Debug)]
pub struct ShapesOptions {
    /// Divide the replica counts by 10 (a smoke test).
    pub quick: bool,
    /// Run each measurement this many times; report the fastest time and the largest RSS.
    pub repeat: u32,
    /// Leave out the traces with more replicas than this (to run a binary that would run out of
    /// memory on them).
    pub max_replicas: Option<u64>,
    /// Write (and reuse) the trace files here and keep them; else a temp dir removed at the end.
    pub keep: Option<PathBuf>,
    /// The `weft` binary; default: next to this executable.
    pub weft: Option<PathBuf>,
}

/// Which shape a trace has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One `local` event on each replica.
    Locals,
    /// One `send` on `src`, one `recv` of it on each replica.
    Broadcast,
    /// One event on each replica: a `write` of a key of its own on even-numbered replicas, a
    /// `local` on the others.
    OwnKeys,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Locals => "locals",
            Shape::Broadcast => "broadcast",
            Shape::OwnKeys => "own-keys",
        }
    }

    fn letter(self) -> char {
        match self {
            Shape::Locals => 'l',
            Shape::Broadcast => 'm',
            Shape::OwnKeys => 'n',
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Shape::Locals => "one local event on each replica",
            Shape::Broadcast => "one send received by every replica",
            Shape::OwnKeys => "one event on each replica, every other one a write of its own key",
        }
    }

    /// Events in the trace of `replicas` replicas.
    pub fn events(self, replicas: u64) -> u64 {
        match self {
            Shape::Broadcast => replicas + 1,
            Shape::Locals | Shape::OwnKeys => replicas,
        }
    }

    /// The first line of the trace (without newline); a kept file is reused when it matches.
    pub fn header_line(self, replicas: u64) -> String {
        format!(
            "{{\"format\":\"weft-trace/1\",\"name\":\"weft-bench shapes: {}\",\"replicas\":{replicas},\"events\":{}}}",
            self.name(),
            self.events(replicas)
        )
    }

    fn file_name(self, replicas: u64) -> String {
        format!("weft-bench-shape-{}-{replicas}r.jsonl", self.name())
    }
}

/// Writes the trace of `shape` with `replicas` replicas to `out`: the header, then one line per
/// event (the send first for [`Shape::Broadcast`]).
pub fn write_shape(shape: Shape, replicas: u64, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "{}", shape.header_line(replicas))?;
    if shape == Shape::Broadcast {
        writeln!(
            out,
            r#"{{"replica":"src","seq":1,"kind":"send","msg":"m1"}}"#
        )?;
    }
    for i in 0..replicas {
        match shape {
            Shape::Locals => writeln!(out, r#"{{"replica":"r{i:07}","seq":1,"kind":"local"}}"#)?,
            Shape::Broadcast => writeln!(
                out,
                r#"{{"replica":"r{i:07}","seq":1,"kind":"recv","msg":"m1"}}"#
            )?,
            Shape::OwnKeys if i % 2 == 0 => writeln!(
                out,
                r#"{{"replica":"r{i:07}","seq":1,"kind":"write","key":"k{i:07}","value":{i}}}"#
            )?,
            Shape::OwnKeys => writeln!(out, r#"{{"replica":"r{i:07}","seq":1,"kind":"local"}}"#)?,
        }
    }
    Ok(())
}

/// What one trace gave.
struct Measured {
    time: Duration,
    rss: u64,
}

/// One row of the table.
struct Row {
    shape: Shape,
    replicas: u64,
    judged: bool,
    result: std::result::Result<Measured, String>,
}

/// Runs the benchmark; returns the process exit code (0 all PASS, 1 some MISS/FAIL, 2 setup).
pub fn run(opts: &ShapesOptions) -> Result<i32> {
    let Some(weft) = find_weft(opts.weft.as_ref()) else {
        return Ok(2);
    };
    print_machine(
        "memory of `weft check` on many single-event replicas",
        Some(&weft),
    );
    let div = if opts.quick { 10 } else { 1 };
    if opts.quick {
        println!("--quick: replica counts divided by 10");
    }
    let mut runs: Vec<(Shape, u64, bool)> = LADDER
        .iter()
        .map(|&n| (Shape::Locals, n / div, false))
        .collect();
    for shape in [Shape::Locals, Shape::Broadcast, Shape::OwnKeys] {
        runs.push((shape, FULL / div, true));
    }
    if let Some(max) = opts.max_replicas {
        let before = runs.len();
        runs.retain(|&(_, n, _)| n <= max);
        if runs.len() < before {
            println!(
                "--max-replicas {}: {} of the {} traces left out",
                count(max),
                before - runs.len(),
                before
            );
        }
    }
    let work = WorkDir::new(opts.keep.as_deref())?;
    println!();

    let mut rows = Vec::new();
    for (shape, replicas, judged) in runs {
        println!(
            "[{}] {}: {} replicas, {} events",
            shape.letter(),
            shape.describe(),
            count(replicas),
            count(shape.events(replicas))
        );
        let file = trace_file(&work.path, shape, replicas)?;
        let result = check(
            &weft,
            &work.path,
            &file,
            shape.events(replicas),
            opts.repeat.max(1),
        )?;
        if let Err(why) = &result {
            println!("  FAIL: {why}");
        }
        rows.push(Row {
            shape,
            replicas,
            judged,
            result,
        });
        println!();
    }

    let mut bad = false;
    let mut cells: Vec<[String; 9]> = Vec::new();
    for r in &rows {
        let verdict = match (&r.result, r.judged) {
            (Err(why), _) => Verdict::Fail(why.clone()),
            (Ok(m), true) => Verdict::judge(m.rss <= TARGET_RSS),
            (Ok(_), false) => Verdict::Info,
        };
        bad |= matches!(verdict, Verdict::Miss | Verdict::Fail(_));
        let events = r.shape.events(r.replicas);
        let m = r.result.as_ref().ok();
        cells.push([
            r.shape.letter().to_string(),
            r.shape.name().to_owned(),
            count(r.replicas),
            count(events),
            m.map_or_else(|| "-".into(), |m| secs(m.time)),
            m.map_or_else(|| "-".into(), |m| bytes(m.rss)),
            m.map_or_else(|| "-".into(), |m| format!("{} B", m.rss / events)),
            if r.judged {
                "peak RSS ≤ 1.5 GB".to_owned()
            } else {
                "-".to_owned()
            },
            verdict.label().to_owned(),
        ]);
    }
    let header = [
        "scn",
        "shape",
        "replicas",
        "events",
        "weft check",
        "peak RSS",
        "RSS/event",
        "target",
        "result",
    ];
    print!(
        "{}",
        crate::bench::render_table(&header, &cells, &[0, 1, 7, 8])
    );
    println!("(1.5 GB = 1,500,000,000 bytes = {})", bytes(TARGET_RSS));
    if let Some(keep) = &opts.keep {
        println!("\ntrace files kept in {}", keep.display());
    }
    drop(work);
    Ok(i32::from(bad))
}

/// The trace of `shape` with `replicas` replicas in `dir`: reused when a file with the same
/// header is there (always complete: it is written as `*.partial` and renamed), else written.
fn trace_file(dir: &Path, shape: Shape, replicas: u64) -> Result<PathBuf> {
    let path = dir.join(shape.file_name(replicas));
    if first_line(&path).is_some_and(|l| l == shape.header_line(replicas)) {
        println!("  reusing {}", path.display());
        return Ok(path);
    }
    let partial = dir.join(format!("{}.partial", shape.file_name(replicas)));
    let start = Instant::now();
    let f = File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, f);
    write_shape(shape, replicas, &mut out)
        .and_then(|()| out.flush())
        .with_context(|| format!("writing {}", partial.display()))?;
    drop(out);
    std::fs::rename(&partial, &path).with_context(|| format!("renaming {}", partial.display()))?;
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    println!(
        "  wrote {} in {} ({})",
        path.display(),
        secs(start.elapsed()),
        bytes(size)
    );
    Ok(path)
}

/// `weft check --format json file`, `repeat` times: the fastest time and the largest peak RSS,
/// or why it failed (including a report that does not count `events` events or finds anything).
fn check(
    weft: &Path,
    dir: &Path,
    file: &Path,
    events: u64,
    repeat: u32,
) -> Result<std::result::Result<Measured, String>> {
    warm(file)?;
    let stderr_path = dir.join("weft-stderr.txt");
    let mut best: Option<Measured> = None;
    for _ in 0..repeat {
        let (run, scanned, tail) = check_once(weft, file, &stderr_path)?;
        if run.exit != Exit::Code(0) {
            return Ok(Err(format!(
                "weft check {} after {}, peak RSS {}: {}",
                run.exit,
                secs(run.time),
                bytes(run.peak_rss),
                if tail.is_empty() {
                    "(no stderr)"
                } else {
                    &tail
                }
            )));
        }
        let (summary, _) = match scanned {
            Ok(s) => s,
            Err(e) => return Ok(Err(format!("{e:#}"))),
        };
        let field = |name: &str| summary[name].as_u64();
        let expected = [
            ("events", events),
            ("replicas", events),
            ("errors", 0),
            ("warnings", 0),
            ("conflicts", 0),
            ("unresolved", 0),
        ];
        if let Some((name, want)) = expected.iter().find(|(n, v)| field(n) != Some(*v)) {
            return Ok(Err(format!(
                "the report's summary has {name} {}, not {want}: {summary}",
                summary[*name]
            )));
        }
        println!(
            "  weft check: {} (user {}, sys {}), peak RSS {} = {} bytes per event",
            secs(run.time),
            secs(run.user),
            secs(run.sys),
            bytes(run.peak_rss),
            run.peak_rss / events
        );
        let m = Measured {
            time: run.time,
            rss: run.peak_rss,
        };
        best = Some(match best {
            Some(b) if b.time <= m.time => Measured {
                rss: b.rss.max(m.rss),
                ..b
            },
            Some(b) => Measured {
                rss: b.rss.max(m.rss),
                ..m
            },
            None => m,
        });
    }
    Ok(Ok(best.expect("at least one run")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shapes_are_valid_traces_with_one_event_per_replica() {
        for shape in [Shape::Locals, Shape::Broadcast, Shape::OwnKeys] {
            let mut out = Vec::new();
            write_shape(shape, 20, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert_eq!(text.lines().next().unwrap(), shape.header_line(20));
            let trace = weft_trace::Trace::from_ndjson_str(
                "shape.jsonl",
                &text,
                &weft_trace::ReadOptions::default(),
            )
            .unwrap();
            assert_eq!(trace.len() as u64, shape.events(20));
            let report = weft_analyzer::analyze(&trace);
            let s = &report.summary;
            assert_eq!(s.events, shape.events(20));
            assert_eq!(s.replicas, shape.events(20));
            assert_eq!((s.errors, s.warnings, s.conflicts), (0, 0, 0), "{shape:?}");
            assert_eq!(s.unresolved, 0);
        }
    }
}
