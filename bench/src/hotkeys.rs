//! The `hotkeys` benchmark: conflict detection when many replicas write the same few keys.
//!
//! Three traces are made with the binary's own simulator (`weft sim --seed 1 --clocks none
//! --rate 10000 --sync state --workload lww --sync-interval 1s`, gossip of whole states to one
//! random peer a second): 400 replicas writing 10 keys (hot) and the same run over 100,000 keys
//! (cold: about one writer per key), both with 100,000 operations, and 2,000 replicas writing 10
//! keys with 200,000 operations. Each is checked with `weft check --format json` as a child
//! process (stdout read through a pipe, only the summary line kept); the time, the peak RSS,
//! the size of the report and its conflict counts are printed. Targets: the hot R=400 trace
//! within 10× the time of its cold twin measured in the same run (j), and the R=2000 trace
//! within 2 minutes (k).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::bench::{bytes, count, find_weft, print_machine, secs, warm, Verdict, WorkDir};
use crate::sys::{self, Exit};

/// Options of `hotkeys`.
#[derive(Clone, Debug)]
pub struct HotkeysOptions {
    /// Divide the operation counts by 10 (a smoke test).
    pub quick: bool,
    /// Runs of each R=400 measurement (the fastest is kept); the R=2000 trace is checked once.
    pub repeat: u32,
    /// Write (and reuse) the trace files here and keep them; else a temp dir removed at the end.
    pub keep: Option<PathBuf>,
    /// The `weft` binary; default: next to this executable.
    pub weft: Option<PathBuf>,
}

/// One simulated trace.
#[derive(Clone, Copy, Debug)]
struct Shape {
    replicas: u32,
    ops: u64,
    keys: u64,
}

impl Shape {
    fn args(&self) -> Vec<String> {
        [
            "sim",
            "--seed",
            "1",
            "--replicas",
            &self.replicas.to_string(),
            "--clocks",
            "none",
            "--ops",
            &self.ops.to_string(),
            "--rate",
            "10000",
            "--sync",
            "state",
            "--workload",
            "lww",
            "--keys",
            &self.keys.to_string(),
            "--sync-interval",
            "1s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn file_name(&self) -> String {
        format!(
            "weft-bench-hotkeys-{}r-{}k-{}ops-s1.jsonl",
            self.replicas, self.keys, self.ops
        )
    }
}

/// What one `weft check` of a trace gave.
struct Checked {
    time: Duration,
    user: Duration,
    sys: Duration,
    rss: u64,
    events: u64,
    conflicts: u64,
    unresolved: u64,
    report_bytes: u64,
}

/// Runs the benchmark; returns the process exit code (0 all PASS, 1 some MISS/FAIL, 2 setup).
pub fn run(opts: &HotkeysOptions) -> Result<i32> {
    let Some(weft) = find_weft(opts.weft.as_ref()) else {
        return Ok(2);
    };
    print_machine(
        "conflicts on hot keys (`weft sim` traces, `weft check`)",
        Some(&weft),
    );
    let div = if opts.quick { 10 } else { 1 };
    if opts.quick {
        println!("--quick: operation counts divided by 10");
    }
    let hot = Shape {
        replicas: 400,
        ops: 100_000 / div,
        keys: 10,
    };
    let cold = Shape {
        keys: 100_000,
        ..hot
    };
    let big = Shape {
        replicas: 2000,
        ops: 200_000 / div,
        keys: 10,
    };
    let work = WorkDir::new(opts.keep.as_deref())?;
    let dir = work.path.clone();
    println!();

    let mut measured: Vec<(Shape, std::result::Result<Checked, String>)> = Vec::new();
    for (shape, repeat) in [(hot, opts.repeat), (cold, opts.repeat), (big, 1)] {
        println!(
            "[{} replicas, {} keys, {} ops] weft {}",
            count(u64::from(shape.replicas)),
            count(shape.keys),
            count(shape.ops),
            shape.args().join(" ")
        );
        let file = simulate(&weft, &dir, &shape)?;
        let checked = check(&weft, &dir, &file, repeat.max(1))?;
        if let Err(why) = &checked {
            println!("  FAIL: {why}");
        }
        measured.push((shape, checked));
        println!();
    }

    let time = |i: usize| measured[i].1.as_ref().ok().map(|c| c.time);
    let mut rows: Vec<[String; 9]> = Vec::new();
    let mut bad = false;
    for (i, (shape, checked)) in measured.iter().enumerate() {
        let (target, verdict) = match i {
            0 => {
                let v = match (time(0), time(1)) {
                    (Some(h), Some(c)) => Verdict::judge(h.as_secs_f64() <= 10.0 * c.as_secs_f64()),
                    _ => Verdict::Fail("a check failed".into()),
                };
                ("j: ≤ 10× the cold twin's time", v)
            }
            1 => ("baseline of j", Verdict::Info),
            _ => (
                "k: ≤ 2 min",
                match time(2) {
                    Some(t) => Verdict::judge(t <= Duration::from_secs(120)),
                    None => Verdict::Fail("the check failed".into()),
                },
            ),
        };
        bad |= matches!(verdict, Verdict::Miss | Verdict::Fail(_));
        let ratio = match (i, time(0), time(1)) {
            (0, Some(h), Some(c)) => format!("{:.2}× cold", h.as_secs_f64() / c.as_secs_f64()),
            _ => "-".to_owned(),
        };
        let c = checked.as_ref().ok();
        rows.push([
            format!(
                "{} r, {} keys, {} ops",
                count(u64::from(shape.replicas)),
                count(shape.keys),
                count(shape.ops)
            ),
            c.map_or_else(|| "-".into(), |c| count(c.events)),
            c.map_or_else(|| "-".into(), |c| count(c.conflicts)),
            c.map_or_else(|| "-".into(), |c| bytes(c.report_bytes)),
            c.map_or_else(|| "-".into(), |c| secs(c.time)),
            ratio,
            c.map_or_else(|| "-".into(), |c| bytes(c.rss)),
            target.to_owned(),
            verdict.label().to_owned(),
        ]);
    }
    let header = [
        "trace",
        "events",
        "conflicts",
        "report",
        "weft check",
        "ratio",
        "peak RSS",
        "target",
        "result",
    ];
    print!("{}", crate::bench::render_table(&header, &rows, &[0, 7, 8]));
    if let Some(keep) = &opts.keep {
        println!("\ntrace files kept in {}", keep.display());
    }
    drop(work);
    Ok(i32::from(bad))
}

/// The trace of `shape` in `dir`: reused when a complete one is there (its header names the
/// same run), else written by `weft sim` (to a `.partial` file renamed when complete).
fn simulate(weft: &Path, dir: &Path, shape: &Shape) -> Result<PathBuf> {
    let path = dir.join(shape.file_name());
    if header_matches(&path, shape) {
        println!("  reusing {}", path.display());
        return Ok(path);
    }
    let partial = dir.join(format!("{}.partial", shape.file_name()));
    let start = Instant::now();
    let out = Command::new(weft)
        .args(shape.args())
        .arg("-o")
        .arg(&partial)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("starting {}", weft.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "weft sim exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    std::fs::rename(&partial, &path).with_context(|| format!("renaming {}", partial.display()))?;
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    println!(
        "  simulated {} in {} ({})",
        path.display(),
        secs(start.elapsed()),
        bytes(size)
    );
    Ok(path)
}

fn header_matches(path: &Path, shape: &Shape) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut line = String::new();
    if BufReader::new(f).read_line(&mut line).is_err() {
        return false;
    }
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
        return false;
    };
    v["replicas"] == u64::from(shape.replicas)
        && v["ops"] == shape.ops
        && v["keys"] == shape.keys
        && v["seed"] == 1
        && v["workload"] == "lww"
        && v["sync"] == "state"
}

/// A report's summary object and its size in bytes, or why it could not be read.
pub(crate) type Scanned = Result<(serde_json::Value, u64)>;

/// One `weft check --format json file` as a child process: how it ran, the report's summary and
/// size (read from its stdout as it streams), and the last lines of its stderr (`|`-joined).
pub(crate) fn check_once(
    weft: &Path,
    file: &Path,
    stderr_path: &Path,
) -> Result<(sys::ChildRun, Scanned, String)> {
    let (reader, writer) = std::io::pipe().context("making a pipe")?;
    let scan = std::thread::spawn(move || summary_of(reader));
    let mut cmd = Command::new(weft);
    cmd.args(["check", "--format", "json"]).arg(file);
    let run = sys::run_child(&mut cmd, Stdio::from(writer), stderr_path)?;
    drop(cmd); // our copy of the pipe's write end: the scanner sees the end of the report
    let scanned = scan.join().expect("the report scanner does not panic");
    let stderr = std::fs::read_to_string(stderr_path).unwrap_or_default();
    let _ = std::fs::remove_file(stderr_path);
    let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Ok((run, scanned, tail.join(" | ")))
}

/// `weft check --format json file`, `repeat` times: the fastest time, the largest peak RSS and
/// the report's counts, or why it failed.
fn check(
    weft: &Path,
    dir: &Path,
    file: &Path,
    repeat: u32,
) -> Result<std::result::Result<Checked, String>> {
    warm(file)?;
    let stderr_path = dir.join("weft-stderr.txt");
    let mut best: Option<Checked> = None;
    for _ in 0..repeat {
        let (run, scanned, tail) = check_once(weft, file, &stderr_path)?;
        match run.exit {
            Exit::Code(0 | 1) => {}
            other => {
                return Ok(Err(format!(
                    "weft check {other} after {}: {tail}",
                    secs(run.time)
                )));
            }
        }
        let (summary, report_bytes) = scanned?;
        let field = |name: &str| summary[name].as_u64().unwrap_or(0);
        let c = Checked {
            time: run.time,
            user: run.user,
            sys: run.sys,
            rss: run.peak_rss,
            events: field("events"),
            conflicts: field("conflicts"),
            unresolved: field("unresolved"),
            report_bytes,
        };
        println!(
            "  weft check: {} (user {}, sys {}), peak RSS {}; {} events, {} conflicts, {} unresolved keys, report {}",
            secs(c.time),
            secs(c.user),
            secs(c.sys),
            bytes(c.rss),
            count(c.events),
            count(c.conflicts),
            count(c.unresolved),
            bytes(c.report_bytes)
        );
        best = Some(match best {
            Some(b) if b.time <= c.time => Checked {
                rss: b.rss.max(c.rss),
                ..b
            },
            Some(b) => Checked {
                rss: b.rss.max(c.rss),
                ..c
            },
            None => c,
        });
    }
    Ok(Ok(best.expect("at least one run")))
}

/// Reads a JSON report to its end: its `"summary"` object and its size in bytes.
pub(crate) fn summary_of(reader: impl Read) -> Result<(serde_json::Value, u64)> {
    let mut r = BufReader::with_capacity(1 << 20, reader);
    let mut line = String::new();
    let mut total = 0u64;
    let mut summary = None;
    loop {
        line.clear();
        let n = r.read_line(&mut line).context("reading the report")?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if summary.is_none() {
            if let Some(rest) = line.trim().strip_prefix("\"summary\":") {
                let v: serde_json::Value = serde_json::from_str(rest.trim_end_matches(','))
                    .context("the report's summary line")?;
                summary = Some(v);
            }
        }
    }
    Ok((summary.context("no summary in the report")?, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_read_from_a_streamed_report() {
        let report = concat!(
            "{\n",
            "  \"format\": \"weft-report/1\",\n",
            "  \"summary\": {\"events\":4,\"replicas\":2,\"duplicates\":0,\"errors\":0,",
            "\"warnings\":0,\"conflicts\":1,\"unresolved\":1,\"complete\":true},\n",
            "  \"violations\": [],\n",
            "  \"conflicts\": [\n",
            "    {\"key\":\"k\",\"element\":null,\"a\":[\"a\",1],\"b\":[\"b\",1],\"winner\":null,\"rule\":\"none\"}\n",
            "  ],\n",
            "  \"unresolved\": [\n",
            "    {\"key\":\"k\",\"siblings\":[[\"a\",1],[\"b\",1]]}\n",
            "  ]\n",
            "}\n"
        );
        let (summary, size) = summary_of(report.as_bytes()).unwrap();
        assert_eq!(summary["conflicts"], 1);
        assert_eq!(summary["events"], 4);
        assert_eq!(size, report.len() as u64);
        assert!(summary_of("{\n}\n".as_bytes()).is_err());
    }

    #[test]
    fn a_kept_trace_is_reused_only_for_the_same_run() {
        let dir =
            std::env::temp_dir().join(format!("weft-bench-hotkeys-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let shape = Shape {
            replicas: 400,
            ops: 100_000,
            keys: 10,
        };
        let path = dir.join(shape.file_name());
        std::fs::write(
            &path,
            "{\"format\":\"weft-trace/1\",\"seed\":1,\"replicas\":400,\"workload\":\"lww\",\"ops\":100000,\"keys\":10,\"sync\":\"state\"}\n",
        )
        .unwrap();
        assert!(header_matches(&path, &shape));
        assert!(!header_matches(
            &path,
            &Shape {
                keys: 100_000,
                ..shape
            }
        ));
        assert!(!header_matches(&dir.join("absent.jsonl"), &shape));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
