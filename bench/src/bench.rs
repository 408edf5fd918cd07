//! The `check` (and `prepare`) scenarios: generate traces, measure the parse floor, run
//! `weft check --format json` on them and judge the results against the targets.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::floor;
use crate::gen::{self, GenConfig};
use crate::sys::{self, Exit};

/// 1 GiB.
const GIB: u64 = 1 << 30;

/// Which scenarios to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Id {
    A,
    B,
    C,
    D,
}

impl Id {
    pub const ALL: [Id; 4] = [Id::A, Id::B, Id::C, Id::D];

    fn letter(self) -> char {
        match self {
            Id::A => 'a',
            Id::B => 'b',
            Id::C => 'c',
            Id::D => 'd',
        }
    }
}

/// Options of `check` / `prepare`.
#[derive(Clone, Debug)]
pub struct Options {
    /// Divide every event count by 10.
    pub quick: bool,
    /// Run only this scenario.
    pub only: Option<Id>,
    /// Write (and reuse) the trace files here and keep them; else a temp dir removed at the end.
    pub keep: Option<PathBuf>,
    /// Run each measurement this many times; report the fastest time and the largest RSS.
    pub repeat: u32,
    /// The `weft` binary; default: next to this executable.
    pub weft: Option<PathBuf>,
    /// `prepare`: only generate the files and measure the parse floors, without `weft`.
    pub prepare: bool,
}

/// Shapes of the scenarios (event counts already divided for `--quick`).
pub struct Shapes {
    pub a: GenConfig,
    pub b: GenConfig,
    pub c: GenConfig,
    pub d: GenConfig,
}

impl Shapes {
    pub fn new(quick: bool) -> Self {
        let div = if quick { 10 } else { 1 };
        let shape = |events: u64, replicas, clocks, seed| GenConfig {
            events: events / div,
            replicas,
            keys: 10_000,
            clocks,
            seed,
        };
        Shapes {
            a: shape(1_000_000, 64, true, 0xA),
            b: shape(1_000_000, 16, true, 0xB),
            c: shape(4_000_000, 16, true, 0xB),
            d: shape(500_000, 5_000, false, 0xD),
        }
    }
}

/// The `weft` binary next to the running executable (`target/release/weft` when this runs as
/// `target/release/weft-bench`).
/// The `weft` binary to measure: `given`, else the one next to this benchmark. `None` (after
/// saying so on stderr) when there is no such file.
pub(crate) fn find_weft(given: Option<&PathBuf>) -> Option<PathBuf> {
    match given.cloned().or_else(default_weft) {
        Some(p) if p.is_file() => Some(p),
        other => {
            let shown = other.map_or_else(|| "weft".to_owned(), |p| p.display().to_string());
            eprintln!(
                "weft-bench: no weft binary at {shown}: build it first with cargo build --release"
            );
            None
        }
    }
}

pub fn default_weft() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(
        exe.parent()?
            .join(format!("weft{}", std::env::consts::EXE_SUFFIX)),
    )
}

#[derive(Clone, Debug)]
pub(crate) enum Verdict {
    Pass,
    Miss,
    Fail(String),
    Info,
}

impl Verdict {
    pub(crate) fn judge(ok: bool) -> Self {
        if ok {
            Verdict::Pass
        } else {
            Verdict::Miss
        }
    }

    pub(crate) fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Miss => "MISS",
            Verdict::Fail(_) => "FAIL",
            Verdict::Info => "-",
        }
    }
}

/// One row of the result table.
struct Row {
    id: Id,
    cfg: GenConfig,
    weft: Option<Duration>,
    rss: Option<u64>,
    floor: Option<Duration>,
    parse_only: Option<Duration>,
    ratio: Option<f64>,
    target: String,
    verdict: Verdict,
}

impl Row {
    fn new(id: Id, cfg: &GenConfig, target: String) -> Self {
        Row {
            id,
            cfg: cfg.clone(),
            weft: None,
            rss: None,
            floor: None,
            parse_only: None,
            ratio: None,
            target,
            verdict: Verdict::Info,
        }
    }
}

/// Runs the benchmark; returns the process exit code (0 all PASS, 1 some MISS/FAIL, 2 setup).
pub fn run(opts: &Options) -> Result<i32> {
    let weft = if opts.prepare {
        None
    } else {
        match find_weft(opts.weft.as_ref()) {
            Some(p) => Some(p),
            None => return Ok(2),
        }
    };

    print_machine("end-to-end `weft check` benchmark", weft.as_deref());

    let work = WorkDir::new(opts.keep.as_deref())?;
    let mut bench = Bench {
        opts,
        weft,
        dir: work.path.clone(),
        rows: Vec::new(),
        b_time: None,
        parquet: None,
    };
    let shapes = Shapes::new(opts.quick);
    if opts.quick {
        println!("--quick: event counts divided by 10");
    }
    println!();
    for id in Id::ALL {
        if opts.only.is_some_and(|o| o != id) {
            continue;
        }
        let row = match id {
            Id::A => bench.scenario_a(&shapes.a)?,
            Id::B => bench.scenario_b(&shapes.b)?,
            Id::C => bench.scenario_c(&shapes.b, &shapes.c)?,
            Id::D => bench.scenario_d(&shapes.d)?,
        };
        if let Verdict::Fail(why) = &row.verdict {
            println!("  FAIL: {why}");
        }
        bench.rows.push(row);
        println!();
    }
    print_table(&bench.rows);
    if let (Some(p), Some(b)) = (&bench.parquet, bench.rows.iter().find(|r| r.id == Id::B)) {
        println!(
            "b from Parquet (weft export --to parquet, then weft check): {} = {}/s, peak RSS {}, \
             file {}, report {}",
            secs(p.time()),
            per_sec(rate(b.cfg.events, p.time())),
            bytes(p.rss()),
            bytes(p.size),
            if p.identical {
                "identical to NDJSON's"
            } else {
                "DIFFERENT from NDJSON's"
            }
        );
    }
    if let Some(keep) = &opts.keep {
        println!("\ntrace files kept in {}", keep.display());
    }
    drop(work);

    let bad = bench
        .rows
        .iter()
        .any(|r| matches!(r.verdict, Verdict::Miss | Verdict::Fail(_)));
    Ok(i32::from(bad))
}

struct Bench<'o> {
    opts: &'o Options,
    weft: Option<PathBuf>,
    dir: PathBuf,
    rows: Vec<Row>,
    /// `weft` time on scenario b's file, reused as c's baseline.
    b_time: Option<Duration>,
    /// Scenario b read from its Parquet copy.
    parquet: Option<crate::parquet::Measured>,
}

impl Bench<'_> {
    fn scenario_a(&mut self, cfg: &GenConfig) -> Result<Row> {
        println!(
            "[a] {} events, {} replicas, {} keys, vc+lamport",
            cfg.events, cfg.replicas, cfg.keys
        );
        let mut row = Row::new(Id::A, cfg, "time <= 2x floor, RSS <= 1 GiB".to_owned());
        let file = self.trace(cfg)?;
        let m = self.floor(&file)?;
        let fl = m.floor.time;
        row.floor = Some(fl);
        row.parse_only = Some(m.parse_only);
        let Some(w) = self.weft(&file)? else {
            return Ok(row);
        };
        match w {
            Ok((time, rss)) => {
                let ratio = time.as_secs_f64() / fl.as_secs_f64();
                row.weft = Some(time);
                row.rss = Some(rss);
                row.ratio = Some(ratio);
                row.verdict = Verdict::judge(ratio <= 2.0 && rss <= GIB);
            }
            Err(why) => row.verdict = Verdict::Fail(why),
        }
        Ok(row)
    }

    fn scenario_b(&mut self, cfg: &GenConfig) -> Result<Row> {
        println!(
            "[b] {} events, {} replicas, {} keys, vc+lamport; then read from Parquet",
            cfg.events, cfg.replicas, cfg.keys
        );
        let mut row = Row::new(Id::B, cfg, ">= 1,000,000 events/s".to_owned());
        let file = self.trace(cfg)?;
        let m = self.floor(&file)?;
        row.floor = Some(m.floor.time);
        row.parse_only = Some(m.parse_only);
        let Some(w) = self.weft(&file)? else {
            return Ok(row);
        };
        match w {
            Ok((time, rss)) => {
                row.weft = Some(time);
                row.rss = Some(rss);
                row.ratio = row.floor.map(|f| time.as_secs_f64() / f.as_secs_f64());
                self.b_time = Some(time);
                row.verdict = Verdict::judge(rate(cfg.events, time) >= 1e6);
                let weft = self.weft.as_deref().expect("weft ran");
                let p = crate::parquet::measure(weft, &self.dir, &file, self.opts.repeat)?;
                print_parquet(&p, cfg.events);
                if !p.identical {
                    row.verdict = Verdict::Fail(
                        "the report from the Parquet copy differs from the NDJSON one".to_owned(),
                    );
                }
                self.parquet = Some(p);
            }
            Err(why) => row.verdict = Verdict::Fail(why),
        }
        Ok(row)
    }

    fn scenario_c(&mut self, base: &GenConfig, cfg: &GenConfig) -> Result<Row> {
        println!(
            "[c] linearity: {} vs {} events, {} replicas, vc+lamport",
            cfg.events, base.events, cfg.replicas
        );
        let mut row = Row::new(
            Id::C,
            cfg,
            format!(
                "time <= {:.1}x the {} time",
                linear_limit(base, cfg),
                count(base.events)
            ),
        );
        let base_file = self.trace(base)?;
        let file = self.trace(cfg)?;
        if self.weft.is_none() {
            return Ok(row);
        }
        let base_time = match self.b_time {
            Some(t) => {
                println!("  {} time from scenario b: {}", count(base.events), secs(t));
                t
            }
            None => {
                println!("  baseline: the {} events file", count(base.events));
                match self.weft(&base_file)?.expect("weft present") {
                    Ok((t, _)) => t,
                    Err(why) => {
                        row.verdict = Verdict::Fail(format!("on the {} file: {why}", base.events));
                        return Ok(row);
                    }
                }
            }
        };
        match self.weft(&file)?.expect("weft present") {
            Ok((time, rss)) => {
                let ratio = time.as_secs_f64() / base_time.as_secs_f64();
                let limit = linear_limit(base, cfg);
                row.weft = Some(time);
                row.rss = Some(rss);
                row.ratio = Some(ratio);
                row.verdict = Verdict::judge(ratio <= limit);
            }
            Err(why) => row.verdict = Verdict::Fail(why),
        }
        Ok(row)
    }

    fn scenario_d(&mut self, cfg: &GenConfig) -> Result<Row> {
        println!(
            "[d] {} events, {} replicas, {} keys, message edges only (no vc/lamport)",
            cfg.events, cfg.replicas, cfg.keys
        );
        let mut row = Row::new(Id::D, cfg, "time <= 10 s, RSS <= 2 GiB".to_owned());
        let file = self.trace(cfg)?;
        let Some(w) = self.weft(&file)? else {
            return Ok(row);
        };
        match w {
            Ok((time, rss)) => {
                row.weft = Some(time);
                row.rss = Some(rss);
                row.verdict = Verdict::judge(time <= Duration::from_secs(10) && rss <= 2 * GIB);
            }
            Err(why) => row.verdict = Verdict::Fail(why),
        }
        Ok(row)
    }

    /// The trace file for `cfg` (see [`trace_file`]).
    fn trace(&self, cfg: &GenConfig) -> Result<PathBuf> {
        trace_file(&self.dir, cfg)
    }

    /// Parse floor of `file` (see [`floor`]), each run in a fresh `weft-bench floor --json`
    /// process after warming the page cache: the fastest of `repeat` runs.
    fn floor(&self, file: &Path) -> Result<floor::Measured> {
        warm(file)?;
        let exe = std::env::current_exe().context("locating weft-bench itself")?;
        let out_path = self.dir.join("floor-stdout.json");
        let err_path = self.dir.join("floor-stderr.txt");
        let mut best: Option<floor::Measured> = None;
        for _ in 0..self.opts.repeat.max(1) {
            let out = File::create(&out_path)
                .with_context(|| format!("creating {}", out_path.display()))?;
            let mut cmd = Command::new(&exe);
            cmd.args(["floor", "--json"]).arg(file);
            let run = sys::run_child(&mut cmd, out.into(), &err_path)?;
            let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
            let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
            let _ = std::fs::remove_file(&out_path);
            let _ = std::fs::remove_file(&err_path);
            if run.exit != Exit::Code(0) {
                anyhow::bail!(
                    "parse floor of {}: {}: {}",
                    file.display(),
                    run.exit,
                    stderr.trim()
                );
            }
            let mut m = floor::Measured::from_json(&stdout)?;
            m.floor.peak_rss = Some(run.peak_rss);
            best = Some(match best {
                None => m,
                // Fastest floor; fastest parse-only, independently.
                Some(b) => {
                    let parse_only = b.parse_only.min(m.parse_only);
                    let mut keep = if m.floor.time < b.floor.time { m } else { b };
                    keep.parse_only = parse_only;
                    keep
                }
            });
        }
        let m = best.expect("at least one run");
        let f = &m.floor;
        println!(
            "  parse floor (serde_json into Vec<Event>, 1 thread): {} = {}/s \
             (user {}, sys {}), peak RSS {}",
            secs(f.time),
            per_sec(rate(f.events as u64, f.time)),
            secs(f.user),
            secs(f.sys),
            f.peak_rss.map_or_else(|| "?".to_owned(), bytes)
        );
        println!(
            "  parse only (events dropped as parsed): {} = {}/s",
            secs(m.parse_only),
            per_sec(rate(f.events as u64, m.parse_only))
        );
        Ok(m)
    }

    /// Runs `weft check --format json file` `repeat` times: `None` without a weft binary
    /// (`prepare`), else the fastest time and the largest peak RSS, or why it failed.
    #[allow(clippy::type_complexity)]
    fn weft(&self, file: &Path) -> Result<Option<std::result::Result<(Duration, u64), String>>> {
        let Some(weft) = &self.weft else {
            return Ok(None);
        };
        warm(file)?;
        let stderr_path = self.dir.join("weft-stderr.txt");
        let mut best: Option<Duration> = None;
        let mut max_rss = 0;
        for _ in 0..self.opts.repeat.max(1) {
            let mut cmd = Command::new(weft);
            cmd.args(["check", "--format", "json"]).arg(file);
            let run = sys::run_child(&mut cmd, Stdio::null(), &stderr_path)?;
            let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            let _ = std::fs::remove_file(&stderr_path);
            match run.exit {
                Exit::Code(0 | 1) => {}
                other => {
                    let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
                    let tail: Vec<&str> = tail.into_iter().rev().collect();
                    return Ok(Some(Err(format!(
                        "weft check {} after {}: {}",
                        other,
                        secs(run.time),
                        if tail.is_empty() {
                            "(no stderr)".to_owned()
                        } else {
                            tail.join(" | ")
                        }
                    ))));
                }
            }
            let Exit::Code(code) = run.exit else {
                unreachable!()
            };
            println!(
                "  weft check: {} = {}/s (user {}, sys {}), peak RSS {}, exit {}",
                secs(run.time),
                per_sec(rate(events_in(file), run.time)),
                secs(run.user),
                secs(run.sys),
                bytes(run.peak_rss),
                code
            );
            best = Some(best.map_or(run.time, |b| b.min(run.time)));
            max_rss = max_rss.max(run.peak_rss);
        }
        Ok(Some(Ok((best.expect("at least one run"), max_rss))))
    }
}

/// What the Parquet read of scenario b measured, as the other runs are shown.
fn print_parquet(p: &crate::parquet::Measured, events: u64) {
    if let Some(e) = &p.export {
        println!(
            "  weft export --to parquet: {} (user {}), peak RSS {}",
            secs(e.time),
            secs(e.user),
            bytes(e.peak_rss)
        );
    }
    println!(
        "  Parquet file: {} ({:.1}% of the NDJSON file's {})",
        bytes(p.size),
        100.0 * p.size as f64 / p.ndjson_size as f64,
        bytes(p.ndjson_size)
    );
    for r in &p.runs {
        println!(
            "  weft check (Parquet): {} = {}/s (user {}, sys {}), peak RSS {}",
            secs(r.time),
            per_sec(rate(events, r.time)),
            secs(r.user),
            secs(r.sys),
            bytes(r.peak_rss)
        );
    }
    let same = if p.identical { "is" } else { "is NOT" };
    println!("  the report from Parquet {same} byte for byte the report from NDJSON");
}

/// Allowed time ratio for `cfg` against `base`: proportional to size, plus 10% (4.4x for 4x).
fn linear_limit(base: &GenConfig, cfg: &GenConfig) -> f64 {
    1.1 * cfg.events as f64 / base.events as f64
}

/// Event count recorded in a generated file's header (0 if unreadable).
fn events_in(path: &Path) -> u64 {
    first_line(path)
        .and_then(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
        .and_then(|v| v["events"].as_u64())
        .unwrap_or(0)
}

/// The first line of a file, without its line ending.
pub fn first_line(path: &Path) -> Option<String> {
    let mut line = String::new();
    BufReader::new(File::open(path).ok()?)
        .read_line(&mut line)
        .ok()?;
    Some(line.trim_end().to_owned())
}

fn header_matches(path: &Path, cfg: &GenConfig) -> bool {
    first_line(path).is_some_and(|l| l == cfg.header_line())
}

/// Canonical file name of a scenario trace, so `--keep` directories can be reused.
pub fn file_name(cfg: &GenConfig) -> String {
    format!(
        "weft-bench-{}ev-{}r-{}k-{}-s{}.ndjson",
        cfg.events,
        cfg.replicas,
        cfg.keys,
        if cfg.clocks { "clocks" } else { "noclocks" },
        cfg.seed
    )
}

/// The trace file for `cfg` in `dir`: reused when a complete one with the same header exists
/// (always complete: generation writes a temp file and renames it), else generated.
pub(crate) fn trace_file(dir: &Path, cfg: &GenConfig) -> Result<PathBuf> {
    let path = dir.join(file_name(cfg));
    if header_matches(&path, cfg) {
        println!("  reusing {}", path.display());
        return Ok(path);
    }
    let start = Instant::now();
    let stats =
        gen::generate_file(cfg, &path).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "  generated {} in {} ({}, {} sends, max {} in flight)",
        path.display(),
        secs(start.elapsed()),
        bytes(stats.bytes),
        stats.sends,
        stats.max_in_flight
    );
    Ok(path)
}

/// Reads the whole file once so that both the floor and `weft` read it from the page cache.
pub(crate) fn warm(path: &Path) -> Result<()> {
    let mut f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    while f.read(&mut buf)? > 0 {}
    Ok(())
}

/// The directory for trace files: `--keep DIR` (created, kept) or a fresh temp dir that is
/// removed when this is dropped.
pub(crate) struct WorkDir {
    pub(crate) path: PathBuf,
    remove: bool,
}

impl WorkDir {
    pub(crate) fn new(keep: Option<&Path>) -> Result<Self> {
        let (path, remove) = match keep {
            Some(p) => (p.to_path_buf(), false),
            None => (
                std::env::temp_dir().join(format!("weft-bench-{}", std::process::id())),
                true,
            ),
        };
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(WorkDir { path, remove })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The first lines of a report: what this is, the machine, and which `weft` runs.
pub(crate) fn print_machine(title: &str, weft: Option<&Path>) {
    print_machine_only(title);
    match weft {
        Some(w) => println!("weft:    {}", w.display()),
        None => println!("weft:    not run (prepare: generate traces and measure parse floors)"),
    }
}

/// The first lines of a report without the `weft` line: what this is and the machine.
pub fn print_machine_only(title: &str) {
    let m = sys::machine();
    println!("weft-bench — {title}");
    println!(
        "machine: {} CPUs ({}), {} RAM, load average {}",
        m.nproc,
        m.cpu_model,
        m.mem_total.map_or_else(|| "?".to_owned(), bytes),
        m.loadavg
    );
}

fn print_table(rows: &[Row]) {
    let header = [
        "scn",
        "events",
        "replicas",
        "clocks",
        "weft",
        "events/s",
        "floor",
        "parse-only",
        "ratio",
        "peak RSS",
        "target",
        "result",
    ];
    let cells: Vec<[String; 12]> = rows
        .iter()
        .map(|r| {
            [
                r.id.letter().to_string(),
                count(r.cfg.events),
                count(u64::from(r.cfg.replicas)),
                if r.cfg.clocks { "vc+lamport" } else { "none" }.to_owned(),
                r.weft.map_or_else(|| "-".to_owned(), secs),
                r.weft
                    .map_or_else(|| "-".to_owned(), |t| per_sec(rate(r.cfg.events, t))),
                r.floor.map_or_else(|| "-".to_owned(), secs),
                r.parse_only.map_or_else(|| "-".to_owned(), secs),
                r.ratio
                    .map_or_else(|| "-".to_owned(), |x| format!("{x:.2}x")),
                r.rss.map_or_else(|| "-".to_owned(), bytes),
                r.target.clone(),
                r.verdict.label().to_owned(),
            ]
        })
        .collect();
    print!(
        "{}",
        crate::bench::render_table(&header, &cells, &[0, 3, 10, 11])
    );
    for r in rows {
        if r.id == Id::C && r.ratio.is_some() {
            println!(
                "(c: ratio = weft time on {} events / weft time on scenario b's {} events)",
                count(r.cfg.events),
                count(r.cfg.events / 4)
            );
        }
        if let Verdict::Fail(why) = &r.verdict {
            println!("({}: {why})", r.id.letter());
        }
    }
}

pub(crate) fn rate(events: u64, t: Duration) -> f64 {
    events as f64 / t.as_secs_f64().max(1e-9)
}

pub(crate) fn secs(t: Duration) -> String {
    let s = t.as_secs_f64();
    if s < 1.0 {
        format!("{:.0} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

pub(crate) fn per_sec(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2} M", r / 1e6)
    } else {
        format!("{:.0} k", r / 1e3)
    }
}

pub(crate) fn bytes(b: u64) -> String {
    let b = b as f64;
    if b >= GIB as f64 {
        format!("{:.2} GiB", b / GIB as f64)
    } else {
        format!("{:.0} MiB", b / (1 << 20) as f64)
    }
}

/// `1000000` → `1,000,000`.
pub(crate) fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A text table: a header, a rule, then the rows; the `left` columns left-aligned (text), the
/// others right-aligned (numbers).
pub(crate) fn render_table<R: AsRef<[String]>>(
    header: &[&str],
    cells: &[R],
    left: &[usize],
) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in cells {
        for (w, c) in widths.iter_mut().zip(row.as_ref()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |row: &[&str]| {
        for (i, (c, &w)) in row.iter().zip(&widths).enumerate() {
            if left.contains(&i) {
                let _ = write!(out, "{c:<w$}");
            } else {
                let _ = write!(out, "{c:>w$}");
            }
            out.push_str("  ");
        }
        out.truncate(out.trim_end_matches(' ').len());
        out.push('\n');
    };
    line(header);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule.iter().map(String::as_str).collect::<Vec<_>>());
    for row in cells {
        line(&row.as_ref().iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}
