//! `weft-bench`: end-to-end benchmarks of `weft check`, `weft sim` and `weft collect`, and a
//! synthetic trace generator.
//!
//! ```text
//! cargo build --release                                    # builds weft and weft-bench
//! cargo run --release -p weft-bench -- check [--quick] [--only a|b|c|d] [--keep DIR]
//! cargo run --release -p weft-bench -- prepare [--quick] [--only ..] [--keep DIR]
//! cargo run --release -p weft-bench -- sim [--quick] [--repeat N] [--weft PATH]
//! cargo run --release -p weft-bench -- ingest [--quick] [--seconds N] [--weft PATH]
//! cargo run --release -p weft-bench -- hotkeys [--quick] [--repeat N] [--keep DIR] [--weft PATH]
//! cargo run --release -p weft-bench -- shapes [--quick] [--repeat N] [--max-replicas N] [--keep DIR]
//! cargo run --release -p weft-bench -- tui [--events 1000000] [--replicas 16] [--keep DIR]
//! cargo run --release -p weft-bench -- live [--events 1000000] [--rate 50000] [--keep DIR]
//! cargo run --release -p weft-bench -- automerge [--ops 1000000] [--peers 4] [--repeat 3]
//! cargo run --release -p weft-bench -- gen --events 100000 --replicas 8 --keys 100 -o t.ndjson
//! cargo run --release -p weft-bench -- floor t.ndjson
//! ```
//!
//! `check` runs scenarios a–d on generated traces (see `weft_bench::bench`). `sim` runs
//! `weft sim` as a child process (see `weft_bench::sim`): (e) 1M ops over 16 replicas with the
//! trace written to a temp file, at least 1,000,000 simulated events per second of wall time;
//! (f) 10,000 replicas with state sync at 100k and at 400k ops, the larger run's peak RSS at
//! most 1.25x the smaller one's. `ingest` starts `weft collect --no-grpc` on a free port with a
//! temp data dir (see `weft_bench::ingest`) and loads it from 8 keep-alive HTTP/1.1 connections
//! with pre-generated batches of 1,000 events for N seconds (default 10, `--quick` 2): (g)
//! NDJSON `POST /v1/events`, at least 800,000 acknowledged events/s; (h) OTLP/HTTP protobuf
//! `POST /v1/logs`, at least 300,000 records/s; (i) the floor: the same NDJSON bytes appended to
//! a file in process with fdatasync every batch and every 8 batches (information). Then
//! `GET /v1/status` and, after SIGTERM, the segment files must hold exactly the acknowledged
//! events. `tui` measures weft-tui in a child process on check's scenario-b trace (see
//! `weft_bench::tui`): the first frame (read, `Model::build`, first render into a 200×50
//! in-memory screen) within 1.5 s, and frames while scrolling and jumping at p99 under 16 ms, with the
//! peak RSS. `shapes` checks traces of very many replicas with one event each (see
//! `weft_bench::shapes`): (l) 1M replicas with one local event each, (m) one send received by 1M
//! replicas, (n) 1M replicas, every other one writing a key of its own: peak RSS at most 1.5 GB
//! each; l also at 50k–400k replicas for information. All print the machine first and end with
//! a PASS/MISS/FAIL table; exit status 0 all PASS, 1 some MISS or FAIL, 2 no weft binary, the
//! collector did not start, or another error.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use weft_bench::bench::{self, Id, Options};
use weft_bench::floor;
use weft_bench::gen::{self, GenConfig};
use weft_bench::ingest::{self, IngestOptions};
use weft_bench::sim::{self, SimOptions};
use weft_bench::tui::{self, TuiOptions};

#[derive(Parser)]
#[command(name = "weft-bench", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Benchmark `weft check --format json` end to end against the targets.
    ///
    /// Scenarios: (a) 1M events, 64 replicas, 10k keys, vc+lamport: weft time <= 0.75x the
    /// serde_json parse floor and peak RSS <= 1 GiB; (b) the same with 16 replicas: >= 1M
    /// events/s; (c) 4M events in b's shape: time <= 4.4x b's; (d) 500k events over 5,000
    /// replicas with message edges and no clocks: <= 10 s and peak RSS <= 2 GiB.
    /// Uses the `weft` binary next to this executable (build it with `cargo build --release`).
    /// Exit status: 0 all PASS, 1 some MISS or FAIL, 2 no weft binary or another error.
    Check(CheckArgs),
    /// Generate the scenario traces and measure their parse floors, without running weft.
    Prepare(CheckArgs),
    /// Benchmark the simulator `weft sim` as a child process against the targets.
    ///
    /// Scenarios: (e) `--ops 1000000 --replicas 16 --workload mixed --rate 100000 --out FILE`
    /// (a temp file, deleted): >= 1M simulated events per second of wall time; (f) 10,000
    /// replicas, `--clocks none --sync state --workload lww --keys 10 --rate 10000
    /// --sync-interval 1s -o /dev/null` at 100k and 400k ops: the larger run's peak RSS <=
    /// 1.25x the smaller one's. Reports events/s, simulated/real time, peak RSS (wait4) and
    /// the trace size. Exit status: 0 all PASS, 1 some MISS or FAIL, 2 no weft binary or
    /// another error.
    Sim(SimCliArgs),
    /// Benchmark the collector `weft collect` over HTTP against the targets.
    ///
    /// Starts `weft collect --listen 127.0.0.1:PORT --no-grpc --data TMPDIR` (a free port, a
    /// temp dir removed at the end) and loads it from 8 keep-alive HTTP/1.1 connections, each
    /// posting pre-generated batches of 1,000 events (16 replicas of its own, vc+lamport, about
    /// 200 bytes a line) back to back for N seconds: (g) NDJSON `POST /v1/events`: >= 800,000
    /// acknowledged events/s; (h) OTLP/HTTP protobuf `POST /v1/logs`: >= 300,000 records/s;
    /// (i) the floor: the NDJSON bytes g got acknowledged, appended to a file in process with
    /// fdatasync every batch and every 8 batches. Reports events/s, MiB/s, p50/p99 latency per
    /// request and the collector's CPU; `GET /v1/status` and, after SIGTERM, the segment files
    /// must hold exactly the acknowledged events. Exit status: 0 all PASS, 1 some MISS or FAIL,
    /// 2 no weft binary, the collector did not start, or another error.
    Ingest(IngestCliArgs),
    /// Benchmark conflict detection on hot keys: many replicas writing the same few keys.
    ///
    /// Makes three traces with `weft sim --seed 1 --clocks none --rate 10000 --sync state
    /// --workload lww --sync-interval 1s`: 400 replicas and 100,000 ops over 10 keys (hot) and
    /// over 100,000 keys (cold), and 2,000 replicas and 200,000 ops over 10 keys. Times
    /// `weft check --format json` on each (the R=400 pair best of --repeat, the R=2000 trace
    /// once) and prints the conflict counts and report sizes. Targets: (j) hot R=400 within 10x
    /// the cold twin's time; (k) R=2000 within 2 minutes. Exit status: 0 all PASS, 1 some MISS
    /// or FAIL, 2 no weft binary or another error.
    Hotkeys(HotkeysCliArgs),
    /// Benchmark the memory of `weft check` on very many replicas with one event each.
    ///
    /// Writes three traces (a header, then one line per replica r0000000, r0000001, ...) and
    /// runs `weft check --format json` on each as a child process: (l) 1M replicas with one
    /// `local` event each, also at 50k, 100k, 200k and 400k replicas (information); (m) one
    /// `send` on replica src received by 1M replicas (one `recv` each); (n) 1M replicas, every
    /// other one writing a key of its own (500k keys), the others a `local`. The report must
    /// count every event and find nothing. Target: peak RSS (wait4) <= 1.5 GB for each 1M
    /// trace. Exit status: 0 all PASS, 1 some MISS or FAIL, 2 no weft binary or another error.
    Shapes(ShapesCliArgs),
    /// Benchmark the TUI (weft-tui) on a large trace, in a child process.
    ///
    /// The trace is check's scenario b (1M events, 16 replicas, 10k keys, vc+lamport) unless
    /// --events/--replicas say otherwise. Measures the first frame: reading the file, analysis
    /// and layout (`Model::build`), the state (`App::new`, resize) and the first full render into
    /// a 200×50 in-memory screen: <= 1.5 s. Then frames (one action + a full draw): scrolling and
    /// moving the selection (Down, PageDown, Right, Left, PageUp) and jumping (Bottom, Top,
    /// NextConflict): p99 < 16 ms each; mean, p50, p99 and max reported. Peak RSS from wait4.
    /// Exit status: 0 all PASS, 1 some MISS, 2 an error.
    Tui(TuiCliArgs),
    /// Benchmark `weft tui --connect` following a paced stream, in a child process.
    ///
    /// The tui benchmark's trace (1M events, 16 replicas, 10k keys, vc+lamport unless --events /
    /// --replicas say otherwise) is served as a collector's /v1/stream at --rate events/s; the
    /// child runs the live source (follower, parser and model threads) and an event loop drawing
    /// into a 200×50 in-memory screen every 33 ms. Measures the view's lag behind what was received
    /// (target < 1 s, while streaming and catching up after the last event), the findings' lag,
    /// frames (target p99 < 16 ms), peak RSS per event (target ≤ 250 B), then in process the
    /// cost of each 1 MiB batch (parse, engine and model, snapshot) as the trace grows and one
    /// whole rebuild for comparison. Exit status: 0 all PASS, 1 some MISS, 2 an error.
    Live(LiveCliArgs),
    /// The `live` measurement itself (run by `live`; prints one JSON object).
    #[command(hide = true)]
    LiveMeasure {
        #[arg(long)]
        url: String,
        #[arg(long)]
        events: u64,
    },
    /// The `tui` measurement itself, in this process (run by `tui`; prints one JSON object).
    #[command(hide = true)]
    TuiMeasure {
        file: PathBuf,
        /// Frames in each run.
        #[arg(long, default_value_t = 500)]
        frames: u32,
    },
    /// The incremental analysis engine against the batch analysis, in process.
    ///
    /// On a generated trace (default: 1M events, 16 replicas, 10k keys, clocks on every event):
    /// the batch `analyze`, the engine fed everything at once, and the engine fed batches of
    /// --batch events (parsed beforehand, so only the engine is timed); the three reports must be
    /// identical. Prints events/s of each and the batches/once ratio. Exit status 0, or 2 on
    /// an error (including reports that differ).
    Engine {
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        #[arg(long, default_value_t = 16)]
        replicas: u32,
        #[arg(long, default_value_t = 10_000)]
        keys: u32,
        /// Events per batch for the incremental run.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// Runs of each measurement; the best is kept.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// Benchmark importing a Loro document (`weft import loro`) against Loro loading it.
    ///
    /// Builds a deterministic --ops-op document (1M by default) of --peers peers: map sets and
    /// deletes over --keys keys, counter increments and one-character text inserts, committed
    /// every 10 ops, with syncs. Times (best of --repeat) the library importing its snapshot
    /// and its update export, the library reading the snapshot's whole history back, weft's
    /// import of the snapshot, and that import plus NDJSON serialization. Prints the times and
    /// their ratio to the library loading the updates; no target. Exit status: 0, or 2 on error.
    Loro {
        /// Ops in the document.
        #[arg(long, default_value_t = 1_000_000)]
        ops: usize,
        /// Peers editing it.
        #[arg(long, default_value_t = 4)]
        peers: usize,
        /// Map keys.
        #[arg(long, default_value_t = 10_000)]
        keys: usize,
        /// Runs of each measurement; the best is kept.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// Benchmark importing an Automerge document (`weft import automerge`) against the
    /// automerge crate loading it.
    ///
    /// Builds a deterministic --ops-op document (1M by default) of --peers peers: map puts and
    /// deletes over --keys keys, counter increments and one-character text inserts, committed
    /// every 10 ops, with syncs. Times (best of --repeat) the library loading its save and its
    /// changes, the library decoding the save's whole history, weft's import of the save, and
    /// that import plus NDJSON serialization. Prints the times and their ratio to the library
    /// loading the save; no target. Exit status: 0, or 2 on error.
    Automerge {
        /// Ops in the document.
        #[arg(long, default_value_t = 1_000_000)]
        ops: usize,
        /// Peers editing it.
        #[arg(long, default_value_t = 4)]
        peers: usize,
        /// Map keys.
        #[arg(long, default_value_t = 10_000)]
        keys: usize,
        /// Runs of each measurement; the best is kept.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// Write one synthetic weft-trace/1 file.
    Gen(GenArgs),
    /// Measure the serde_json parse floor of a trace file.
    ///
    /// Reads the file with a BufReader and parses each line with serde_json::from_str into a
    /// plain struct: once dropping each event (parse only), then keeping all in a Vec (the
    /// floor `check` compares weft against).
    Floor {
        file: PathBuf,
        /// Measure this many times (in this process) and report each.
        #[arg(long, default_value_t = 1)]
        repeat: u32,
        /// Print one JSON object per measurement.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct CheckArgs {
    /// Divide every scenario's event count by 10 (smoke test).
    #[arg(long)]
    quick: bool,
    /// Run only one scenario.
    #[arg(long, value_enum)]
    only: Option<Scenario>,
    /// Write the trace files to DIR and keep them; existing complete files there are reused.
    /// Default: a temp dir (weft-bench-<pid>) removed at the end.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Run each measurement N times; report the fastest time and the largest peak RSS.
    #[arg(long, value_name = "N", default_value_t = 1)]
    repeat: u32,
    /// The weft binary to run (default: `weft` next to this executable).
    #[arg(long, value_name = "PATH")]
    weft: Option<PathBuf>,
}

#[derive(Args)]
struct SimCliArgs {
    /// Divide every op count by 10 (smoke test).
    #[arg(long)]
    quick: bool,
    /// Run each measurement N times; report the fastest time and the largest peak RSS.
    #[arg(long, value_name = "N", default_value_t = 1)]
    repeat: u32,
    /// The weft binary to run (default: `weft` next to this executable).
    #[arg(long, value_name = "PATH")]
    weft: Option<PathBuf>,
}

#[derive(Args)]
struct IngestCliArgs {
    /// 2 seconds per phase instead of 10 (smoke test).
    #[arg(long)]
    quick: bool,
    /// Seconds of load per phase (default 10; 2 with --quick).
    #[arg(long, value_name = "N")]
    seconds: Option<f64>,
    /// The weft binary to run (default: `weft` next to this executable).
    #[arg(long, value_name = "PATH")]
    weft: Option<PathBuf>,
    /// Run the collector with --no-analysis (live analysis off), to compare.
    #[arg(long)]
    no_analysis: bool,
}

#[derive(Args)]
struct HotkeysCliArgs {
    /// Divide the operation counts by 10 (smoke test).
    #[arg(long)]
    quick: bool,
    /// Run each R=400 measurement N times; report the fastest time and the largest peak RSS.
    #[arg(long, value_name = "N", default_value_t = 3)]
    repeat: u32,
    /// Write the trace files to DIR and keep them; existing complete files there are reused.
    /// Default: a temp dir (weft-bench-<pid>) removed at the end.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// The weft binary to run (default: `weft` next to this executable).
    #[arg(long, value_name = "PATH")]
    weft: Option<PathBuf>,
}

#[derive(Args)]
struct ShapesCliArgs {
    /// Divide the replica counts by 10 (smoke test).
    #[arg(long)]
    quick: bool,
    /// Run each measurement N times; report the fastest time and the largest peak RSS.
    #[arg(long, value_name = "N", default_value_t = 1)]
    repeat: u32,
    /// Leave out the traces with more than N replicas (underscores and k/M suffixes allowed),
    /// e.g. to measure an older weft that would run out of memory on them.
    #[arg(long, value_name = "N", value_parser = parse_count)]
    max_replicas: Option<u64>,
    /// Write the trace files to DIR and keep them; existing complete files there are reused.
    /// Default: a temp dir (weft-bench-<pid>) removed at the end.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// The weft binary to run (default: `weft` next to this executable).
    #[arg(long, value_name = "PATH")]
    weft: Option<PathBuf>,
}

#[derive(Args)]
struct TuiCliArgs {
    /// Number of events (underscores and k/M suffixes allowed).
    #[arg(long, value_parser = parse_count, default_value = "1000000")]
    events: u64,
    /// Number of replicas.
    #[arg(long, value_parser = parse_count, default_value = "16")]
    replicas: u64,
    /// Frames in each run (scrolling, jumping).
    #[arg(long, default_value_t = 500)]
    frames: u32,
    /// Write the trace file to DIR and keep it; an existing complete file there is reused
    /// (the same file as `check --keep DIR` scenario b). Default: a temp dir removed at the end.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

#[derive(Args)]
struct LiveCliArgs {
    /// Number of events (underscores and k/M suffixes allowed).
    #[arg(long, value_parser = parse_count, default_value = "1000000")]
    events: u64,
    /// Number of replicas.
    #[arg(long, value_parser = parse_count, default_value = "16")]
    replicas: u64,
    /// Events per second the stream is paced at.
    #[arg(long, value_parser = parse_count, default_value = "50000")]
    rate: u64,
    /// Write the trace file to DIR and keep it (shared with `tui --keep DIR`).
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Scenario {
    A,
    B,
    C,
    D,
}

#[derive(Args)]
struct GenArgs {
    /// Number of events (underscores and k/M suffixes allowed: 1_000_000, 500k, 4M).
    #[arg(long, value_parser = parse_count)]
    events: u64,
    /// Number of replicas.
    #[arg(long, value_parser = parse_count)]
    replicas: u64,
    /// Number of distinct keys.
    #[arg(long, value_parser = parse_count)]
    keys: u64,
    /// Leave out lamport, vc and wall_ns (causality from program order and messages only).
    #[arg(long)]
    no_clocks: bool,
    /// PRNG seed (the same seed and shape always give the same bytes).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file (`-` for stdout).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

fn parse_count(s: &str) -> Result<u64, String> {
    let t = s.replace('_', "");
    let (num, mul) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1_000),
        Some('m' | 'M') => (&t[..t.len() - 1], 1_000_000),
        _ => (&t[..], 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mul))
        .ok_or_else(|| format!("not a count: {s:?}"))
}

fn bench_options(a: CheckArgs, prepare: bool) -> Options {
    Options {
        quick: a.quick,
        only: a.only.map(|s| match s {
            Scenario::A => Id::A,
            Scenario::B => Id::B,
            Scenario::C => Id::C,
            Scenario::D => Id::D,
        }),
        keep: a.keep,
        repeat: a.repeat,
        weft: a.weft,
        prepare,
    }
}

fn gen_cmd(a: GenArgs) -> Result<()> {
    let cfg = GenConfig {
        events: a.events,
        replicas: u32::try_from(a.replicas.max(1)).context("--replicas too large")?,
        keys: u32::try_from(a.keys.max(1)).context("--keys too large")?,
        clocks: !a.no_clocks,
        seed: a.seed,
    };
    let start = Instant::now();
    let stats = if a.output.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
        let stats = gen::generate(&cfg, &mut out)?;
        out.flush()?;
        stats
    } else {
        gen::generate_file(&cfg, &a.output)
            .with_context(|| format!("writing {}", a.output.display()))?
    };
    eprintln!(
        "wrote {} events ({} writes, {} reads, {} sends, {} recvs; max {} in flight), {} bytes in {:.2} s",
        stats.events,
        stats.writes,
        stats.reads,
        stats.sends,
        stats.recvs,
        stats.max_in_flight,
        stats.bytes,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn floor_cmd(file: PathBuf, repeat: u32, json: bool) -> Result<()> {
    for _ in 0..repeat.max(1) {
        let m = floor::measure_both(&file)?;
        if json {
            println!("{}", m.to_json());
            continue;
        }
        let f = &m.floor;
        println!(
            "{}: {} events; simd-json tape only {:.3} s; parse only {:.3} s; parse into \
             Vec<Event> {:.3} s = {:.0} events/s (user {:.2} s, sys {:.2} s){}",
            file.display(),
            f.events,
            m.tape_only.as_secs_f64(),
            m.parse_only.as_secs_f64(),
            f.time.as_secs_f64(),
            f.events as f64 / f.time.as_secs_f64().max(1e-9),
            f.user.as_secs_f64(),
            f.sys.as_secs_f64(),
            f.peak_rss
                .map(|r| format!(", peak RSS {} MiB", r >> 20))
                .unwrap_or_default()
        );
    }
    Ok(())
}

fn engine_cmd(o: &weft_bench::engine::EngineOptions) -> Result<i32> {
    weft_bench::bench::print_machine_only("the incremental analysis engine");
    let f = weft_bench::engine::run(o)?;
    let rate = |d: std::time::Duration| f.events as f64 / d.as_secs_f64();
    println!(
        "engine: {} events, {} replicas, {} keys (best of {})",
        f.events, o.replicas, o.keys, o.repeat
    );
    println!(
        "  batch analyze                 {:>8.3} s  {:>10.0} events/s",
        f.batch_analysis.as_secs_f64(),
        rate(f.batch_analysis)
    );
    println!(
        "  engine, one batch             {:>8.3} s  {:>10.0} events/s",
        f.engine_once.as_secs_f64(),
        rate(f.engine_once)
    );
    println!(
        "  engine, batches of {:<6}     {:>8.3} s  {:>10.0} events/s  (parsing them: {:.3} s)",
        o.batch,
        f.engine_batches.as_secs_f64(),
        rate(f.engine_batches),
        f.parse_batches.as_secs_f64()
    );
    println!(
        "  batches / one batch: {:.2}x; engine once / batch analyze: {:.2}x; reports identical",
        f.engine_batches.as_secs_f64() / f.engine_once.as_secs_f64(),
        f.engine_once.as_secs_f64() / f.batch_analysis.as_secs_f64()
    );
    Ok(0)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Check(a) => bench::run(&bench_options(a, false)),
        Cmd::Prepare(a) => bench::run(&bench_options(a, true)),
        Cmd::Sim(a) => sim::run(&SimOptions {
            quick: a.quick,
            repeat: a.repeat,
            weft: a.weft,
        }),
        Cmd::Ingest(a) => ingest::run(&IngestOptions {
            quick: a.quick,
            weft: a.weft,
            seconds: a.seconds,
            no_analysis: a.no_analysis,
        }),
        Cmd::Tui(a) => match u32::try_from(a.replicas.max(1)) {
            Ok(replicas) => tui::run(&TuiOptions {
                events: a.events.max(1),
                replicas,
                frames: a.frames.max(1),
                keep: a.keep,
            }),
            Err(_) => Err(anyhow::anyhow!("--replicas too large")),
        },
        Cmd::Hotkeys(a) => weft_bench::hotkeys::run(&weft_bench::hotkeys::HotkeysOptions {
            quick: a.quick,
            repeat: a.repeat,
            keep: a.keep,
            weft: a.weft,
        }),
        Cmd::Shapes(a) => weft_bench::shapes::run(&weft_bench::shapes::ShapesOptions {
            quick: a.quick,
            repeat: a.repeat,
            max_replicas: a.max_replicas,
            keep: a.keep,
            weft: a.weft,
        }),
        Cmd::Live(a) => match u32::try_from(a.replicas.max(1)) {
            Ok(replicas) => weft_bench::live::run(&weft_bench::live::LiveOptions {
                events: a.events.max(1),
                replicas,
                rate: a.rate.max(1) as f64,
                keep: a.keep,
            }),
            Err(_) => Err(anyhow::anyhow!("--replicas too large")),
        },
        Cmd::LiveMeasure { url, events } => weft_bench::live::measure(&url, events).and_then(|m| {
            println!("{}", serde_json::to_string(&m)?);
            Ok(0)
        }),
        Cmd::TuiMeasure { file, frames } => tui::measure(&file, frames.max(1)).and_then(|m| {
            println!("{}", serde_json::to_string(&m)?);
            Ok(0)
        }),
        Cmd::Engine {
            events,
            replicas,
            keys,
            batch,
            repeat,
        } => engine_cmd(&weft_bench::engine::EngineOptions {
            events,
            replicas,
            keys,
            batch,
            repeat,
        }),
        Cmd::Loro {
            ops,
            peers,
            keys,
            repeat,
        } => weft_bench::loro::run(&weft_bench::loro::LoroOptions {
            ops,
            peers,
            keys,
            repeat,
        }),
        Cmd::Automerge {
            ops,
            peers,
            keys,
            repeat,
        } => weft_bench::automerge::run(&weft_bench::automerge::AutomergeOptions {
            ops,
            peers,
            keys,
            repeat,
        }),
        Cmd::Gen(a) => gen_cmd(a).map(|()| 0),
        Cmd::Floor { file, repeat, json } => floor_cmd(file, repeat, json).map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("weft-bench: {e:#}");
            ExitCode::from(2)
        }
    }
}
