//! The `sim` scenarios: run `weft sim` as a child process and judge its throughput (e) and
//! whether its memory stays flat while the event count grows with many replicas (f).
//!
//! Wall time and peak RSS come from [`sys::run_child`] (`wait4`); the event count and the
//! simulated time come from the summary line `weft sim` prints on stderr:
//!
//! ```text
//! weft sim: converged — 16 replicas, 1000000 ops, 1048600 events, simulated 10.212 s in 1.26s real
//! ```

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Result;

use crate::bench::{bytes, count, find_weft, per_sec, print_machine, rate, secs, Verdict, WorkDir};
use crate::sys::{self, Exit};

/// Target of scenario e: simulated events per second of wall time.
const E_MIN_EVENTS_PER_SEC: f64 = 1e6;
/// Target of scenario f: peak RSS of the larger run / peak RSS of the smaller run.
const F_MAX_RSS_RATIO: f64 = 1.25;

/// Options of `sim`.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Divide every op count by 10.
    pub quick: bool,
    /// Run each measurement this many times; report the fastest time and the largest RSS.
    pub repeat: u32,
    /// The `weft` binary; default: next to this executable.
    pub weft: Option<PathBuf>,
}

/// Where a `weft sim` run writes its trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// A file in the work dir: its size is reported, then it is deleted.
    File,
    /// `-o /dev/null`.
    Null,
}

/// One `weft sim` invocation (op count already divided for `--quick`).
#[derive(Clone, Debug)]
pub struct SimShape {
    pub ops: u64,
    pub replicas: u32,
    /// Every other flag, in order (without `--ops`, `--replicas` and the output).
    pub flags: &'static [&'static str],
    pub output: Output,
}

impl SimShape {
    /// The arguments after `weft`, writing a file trace to `file`.
    pub fn args(&self, file: &Path) -> Vec<OsString> {
        let mut a: Vec<OsString> = vec![
            "sim".into(),
            "--ops".into(),
            self.ops.to_string().into(),
            "--replicas".into(),
            self.replicas.to_string().into(),
        ];
        a.extend(self.flags.iter().map(OsString::from));
        match self.output {
            Output::File => {
                a.push("--out".into());
                a.push(file.into());
            }
            Output::Null => {
                a.push("-o".into());
                a.push("/dev/null".into());
            }
        }
        a
    }
}

/// Shapes of the scenarios.
pub struct SimShapes {
    /// e: throughput, 16 replicas, mixed workload, trace written to a file.
    pub e: SimShape,
    /// f: 10,000 replicas, no clocks, state sync, at the smaller op count.
    pub f_small: SimShape,
    /// f at 4x the op count.
    pub f_large: SimShape,
}

impl SimShapes {
    pub fn new(quick: bool) -> Self {
        let div = if quick { 10 } else { 1 };
        const F_FLAGS: &[&str] = &[
            "--clocks",
            "none",
            "--sync",
            "state",
            "--workload",
            "lww",
            "--keys",
            "10",
            "--rate",
            "10000",
            "--sync-interval",
            "1s",
        ];
        let f = |ops: u64| SimShape {
            ops: ops / div,
            replicas: 10_000,
            flags: F_FLAGS,
            output: Output::Null,
        };
        SimShapes {
            e: SimShape {
                ops: 1_000_000 / div,
                replicas: 16,
                flags: &["--workload", "mixed", "--rate", "100000"],
                output: Output::File,
            },
            f_small: f(100_000),
            f_large: f(400_000),
        }
    }
}

/// What the summary line of `weft sim` says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// `converged` (else `DIVERGED`).
    pub converged: bool,
    pub events: u64,
    /// Simulated time in seconds.
    pub simulated: f64,
}

/// Finds and parses the summary line in `weft sim`'s stderr:
/// `weft sim: converged — 16 replicas, 1000000 ops, 1048600 events, simulated 10.212 s in …`.
pub fn parse_summary(stderr: &str) -> Option<Summary> {
    stderr.lines().find_map(parse_summary_line)
}

fn parse_summary_line(line: &str) -> Option<Summary> {
    let rest = line.trim().strip_prefix("weft sim:")?;
    let toks: Vec<&str> = rest
        .split_whitespace()
        .map(|t| t.trim_end_matches(','))
        .collect();
    let events_at = toks.iter().position(|&t| t == "events")?;
    let events: u64 = toks.get(events_at.checked_sub(1)?)?.parse().ok()?;
    let sim_at = toks.iter().position(|&t| t == "simulated")?;
    let simulated = parse_secs(toks.get(sim_at + 1)?, toks.get(sim_at + 2).copied())?;
    Some(Summary {
        converged: toks.first() == Some(&"converged"),
        events,
        simulated,
    })
}

/// `10.212` + `s`, `10.212s`, `512ms`, … in seconds. A bare number with no unit after it is
/// taken as seconds.
fn parse_secs(num: &str, next: Option<&str>) -> Option<f64> {
    let split = num
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(num.len());
    let (n, unit) = num.split_at(split);
    let unit = if unit.is_empty() {
        next.filter(|u| unit_scale(u).is_some()).unwrap_or("s")
    } else {
        unit
    };
    let v: f64 = n.parse().ok()?;
    Some(v * unit_scale(unit)?)
}

fn unit_scale(unit: &str) -> Option<f64> {
    Some(match unit {
        "s" => 1.0,
        "ms" => 1e-3,
        "µs" | "us" => 1e-6,
        "ns" => 1e-9,
        _ => return None,
    })
}

/// The result of `repeat` runs of one shape.
#[derive(Clone, Debug)]
struct Measured {
    /// Fastest wall time, with the CPU times of that run.
    time: Duration,
    user: Duration,
    sys: Duration,
    /// Largest peak RSS.
    peak_rss: u64,
    events: u64,
    simulated: f64,
    /// Size of the trace file (`Output::File` only).
    trace: Option<u64>,
}

impl Measured {
    fn events_per_sec(&self) -> f64 {
        rate(self.events, self.time)
    }

    fn sim_ratio(&self) -> f64 {
        self.simulated / self.time.as_secs_f64().max(1e-9)
    }
}

/// One row of the result table.
struct Row {
    id: &'static str,
    shape: SimShape,
    m: Option<Measured>,
    ratio: Option<f64>,
    target: String,
    verdict: Verdict,
}

/// Runs the `sim` benchmark; returns the exit code (0 all PASS, 1 some MISS/FAIL, 2 setup).
pub fn run(opts: &SimOptions) -> Result<i32> {
    let Some(weft) = find_weft(opts.weft.as_ref()) else {
        return Ok(2);
    };
    print_machine("`weft sim` benchmark", Some(&weft));
    let work = WorkDir::new(None)?;
    let bench = SimBench {
        repeat: opts.repeat.max(1),
        weft,
        dir: work.path.clone(),
    };
    let shapes = SimShapes::new(opts.quick);
    if opts.quick {
        println!("--quick: op counts divided by 10");
    }
    println!();

    let mut rows = Vec::new();

    // e: throughput.
    let e = &shapes.e;
    println!(
        "[e] throughput: {} ops, {} replicas, mixed workload, trace to a file",
        count(e.ops),
        e.replicas
    );
    let mut row = Row {
        id: "e",
        shape: e.clone(),
        m: None,
        ratio: None,
        target: ">= 1,000,000 events/s".to_owned(),
        verdict: Verdict::Info,
    };
    match bench.measure(e)? {
        Ok(m) => {
            row.verdict = Verdict::judge(m.events_per_sec() >= E_MIN_EVENTS_PER_SEC);
            row.m = Some(m);
        }
        Err(why) => row.verdict = Verdict::Fail(why),
    }
    report_fail(&row);
    rows.push(row);
    println!();

    // f: memory flat in replicas × events.
    let (small, large) = (&shapes.f_small, &shapes.f_large);
    println!(
        "[f] memory: {} replicas, no clocks, state sync, lww on 10 keys; {} vs {} ops",
        count(u64::from(small.replicas)),
        count(small.ops),
        count(large.ops)
    );
    let mut base = Row {
        id: "f",
        shape: small.clone(),
        m: None,
        ratio: None,
        target: "(baseline)".to_owned(),
        verdict: Verdict::Info,
    };
    match bench.measure(small)? {
        Ok(m) => base.m = Some(m),
        Err(why) => base.verdict = Verdict::Fail(why),
    }
    report_fail(&base);
    let mut row = Row {
        id: "f",
        shape: large.clone(),
        m: None,
        ratio: None,
        target: format!(
            "RSS <= {F_MAX_RSS_RATIO:.2}x the {} ops run's",
            count(small.ops)
        ),
        verdict: Verdict::Info,
    };
    match bench.measure(large)? {
        Ok(m) => {
            match &base.m {
                Some(b) => {
                    let ratio = m.peak_rss as f64 / b.peak_rss.max(1) as f64;
                    row.ratio = Some(ratio);
                    row.verdict = Verdict::judge(ratio <= F_MAX_RSS_RATIO);
                    println!(
                        "  peak RSS {} vs {} = {ratio:.2}x, with {:.2}x the events",
                        bytes(m.peak_rss),
                        bytes(b.peak_rss),
                        m.events as f64 / b.events.max(1) as f64
                    );
                }
                None => {
                    row.verdict =
                        Verdict::Fail(format!("no baseline: the {} ops run failed", small.ops));
                }
            }
            row.m = Some(m);
        }
        Err(why) => row.verdict = Verdict::Fail(why),
    }
    report_fail(&row);
    rows.push(base);
    rows.push(row);
    println!();

    print_table(&rows);
    drop(work);
    let bad = rows
        .iter()
        .any(|r| matches!(r.verdict, Verdict::Miss | Verdict::Fail(_)));
    Ok(i32::from(bad))
}

fn report_fail(row: &Row) {
    if let Verdict::Fail(why) = &row.verdict {
        println!("  FAIL: {why}");
    }
}

struct SimBench {
    repeat: u32,
    weft: PathBuf,
    dir: PathBuf,
}

impl SimBench {
    /// Runs `weft sim` for `shape` `repeat` times: the fastest time and the largest peak RSS,
    /// or why a run failed (exit status not 0, or no summary line).
    fn measure(&self, shape: &SimShape) -> Result<std::result::Result<Measured, String>> {
        let stderr_path = self.dir.join("weft-sim-stderr.txt");
        let trace_path = self.dir.join("weft-sim-trace.jsonl");
        let args = shape.args(&trace_path);
        println!(
            "  $ weft {}",
            args.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let mut best: Option<Measured> = None;
        for _ in 0..self.repeat {
            let mut cmd = Command::new(&self.weft);
            cmd.args(&args);
            let run = sys::run_child(&mut cmd, Stdio::null(), &stderr_path);
            let trace = match shape.output {
                Output::File => std::fs::metadata(&trace_path).ok().map(|m| m.len()),
                Output::Null => None,
            };
            let _ = std::fs::remove_file(&trace_path);
            let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            let _ = std::fs::remove_file(&stderr_path);
            let run = run?;
            let summary = parse_summary(&stderr);
            let summary = match (&run.exit, summary) {
                (Exit::Code(0), Some(s)) => s,
                (exit, summary) => {
                    let what = match (exit, summary) {
                        (Exit::Code(0), None) => "no summary line on stderr".to_owned(),
                        (Exit::Code(1), Some(s)) if !s.converged => "replicas diverged".to_owned(),
                        (exit, _) => exit.to_string(),
                    };
                    return Ok(Err(format!(
                        "weft sim: {what} after {}: {}",
                        secs(run.time),
                        stderr_tail(&stderr)
                    )));
                }
            };
            let m = Measured {
                time: run.time,
                user: run.user,
                sys: run.sys,
                peak_rss: run.peak_rss,
                events: summary.events,
                simulated: summary.simulated,
                trace,
            };
            println!(
                "  weft sim: {} for {} events = {}/s, simulated {:.3} s = {:.2}x real \
                 (user {}, sys {}), peak RSS {}{}",
                secs(m.time),
                count(m.events),
                per_sec(m.events_per_sec()),
                m.simulated,
                m.sim_ratio(),
                secs(m.user),
                secs(m.sys),
                bytes(m.peak_rss),
                m.trace
                    .map(|t| format!(", trace {}", bytes(t)))
                    .unwrap_or_default()
            );
            best = Some(match best {
                None => m,
                Some(b) => {
                    let peak_rss = b.peak_rss.max(m.peak_rss);
                    let mut keep = if m.time < b.time { m } else { b };
                    keep.peak_rss = peak_rss;
                    keep
                }
            });
        }
        Ok(Ok(best.expect("at least one run")))
    }
}

/// The last lines of a child's stderr on one line (the summary's digest line left out).
fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim_start().starts_with("state digests:"))
        .collect();
    let tail = &lines[lines.len().saturating_sub(8)..];
    if tail.is_empty() {
        "(no stderr)".to_owned()
    } else {
        tail.join(" | ")
    }
}

fn print_table(rows: &[Row]) {
    let header = [
        "scn",
        "ops",
        "replicas",
        "events",
        "simulated",
        "wall",
        "events/s",
        "sim/real",
        "peak RSS",
        "trace",
        "ratio",
        "target",
        "result",
    ];
    let dash = || "-".to_owned();
    let cells: Vec<[String; 13]> = rows
        .iter()
        .map(|r| {
            let m = r.m.as_ref();
            [
                r.id.to_owned(),
                count(r.shape.ops),
                count(u64::from(r.shape.replicas)),
                m.map_or_else(dash, |m| count(m.events)),
                m.map_or_else(dash, |m| format!("{:.3} s", m.simulated)),
                m.map_or_else(dash, |m| secs(m.time)),
                m.map_or_else(dash, |m| per_sec(m.events_per_sec())),
                m.map_or_else(dash, |m| format!("{:.2}x", m.sim_ratio())),
                m.map_or_else(dash, |m| bytes(m.peak_rss)),
                m.and_then(|m| m.trace).map_or_else(dash, bytes),
                r.ratio.map_or_else(dash, |x| format!("{x:.2}x")),
                r.target.clone(),
                r.verdict.label().to_owned(),
            ]
        })
        .collect();
    print!(
        "{}",
        crate::bench::render_table(&header, &cells, &[0, 11, 12])
    );
    println!(
        "(events/s = simulated events / wall time of weft sim; sim/real = simulated / wall time)"
    );
    if let [.., base, large] = rows {
        if let (Some(b), Some(l), Some(_)) = (&base.m, &large.m, large.ratio) {
            println!(
                "(f: ratio = peak RSS at {} ops / peak RSS at {} ops, with {:.2}x the events)",
                count(large.shape.ops),
                count(base.shape.ops),
                l.events as f64 / b.events.max(1) as f64
            );
        }
    }
    for r in rows {
        if let Verdict::Fail(why) = &r.verdict {
            println!("({} at {} ops: {why})", r.id, count(r.shape.ops));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_summary_line() {
        let stderr = "weft sim: converged — 16 replicas, 1000000 ops, 1048600 events, \
                      simulated 10.212 s in 1.26s real\n  messages: 2640 sent\n";
        let s = parse_summary(stderr).unwrap();
        assert!(s.converged);
        assert_eq!(s.events, 1_048_600);
        assert!((s.simulated - 10.212).abs() < 1e-9);
    }

    #[test]
    fn parses_diverged_and_attached_units() {
        let s = parse_summary(
            "weft sim: DIVERGED — 5 replicas, 10 ops, 42 events, simulated 512ms in 3ms real",
        )
        .unwrap();
        assert!(!s.converged);
        assert_eq!(s.events, 42);
        assert!((s.simulated - 0.512).abs() < 1e-9);
    }

    #[test]
    fn ignores_other_lines() {
        assert_eq!(parse_summary("weft sim: --ops: not a number\n"), None);
        assert_eq!(parse_summary(""), None);
    }

    #[test]
    fn quick_divides_ops() {
        let full = SimShapes::new(false);
        let quick = SimShapes::new(true);
        assert_eq!(full.e.ops, 1_000_000);
        assert_eq!(quick.e.ops, 100_000);
        assert_eq!(quick.f_small.ops, 10_000);
        assert_eq!(quick.f_large.ops, 40_000);
        let args = full.f_large.args(Path::new("unused"));
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args.join(" "),
            "sim --ops 400000 --replicas 10000 --clocks none --sync state --workload lww \
             --keys 10 --rate 10000 --sync-interval 1s -o /dev/null"
        );
    }
}
