//! The `check` (and `prepare`) scenarios: generate traces, measure the parse floor, run
//! `weft check --format json` on them and judge the results against the targets.

mod files;
mod runs;
mod scenarios;
mod text;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::gen::GenConfig;

pub use files::{file_name, first_line};
pub(crate) use files::{trace_file, warm, WorkDir};
pub use text::print_machine_only;
pub(crate) use text::{bytes, count, per_sec, print_machine, rate, render_table, secs};

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
    /// A scenario's exit status: 1 when a target was missed or a measurement failed.
    pub(crate) fn exit_code(verdicts: &[Verdict]) -> i32 {
        i32::from(
            verdicts
                .iter()
                .any(|v| matches!(v, Verdict::Miss | Verdict::Fail(_))),
        )
    }

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
    /// Records a run of weft on the scenario's file: its time and peak RSS, which it returns
    /// for the scenario to judge; a failed run is the row's failure (`None`).
    fn measured(
        &mut self,
        run: std::result::Result<(Duration, u64), String>,
    ) -> Option<(Duration, u64)> {
        match run {
            Ok((time, rss)) => {
                self.weft = Some(time);
                self.rss = Some(rss);
                Some((time, rss))
            }
            Err(why) => {
                self.verdict = Verdict::Fail(why);
                None
            }
        }
    }

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
