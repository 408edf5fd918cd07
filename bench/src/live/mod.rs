//! The `live` benchmark: how far `weft tui --connect` trails what it receives, how long its frames
//! take meanwhile, how much memory it needs, and what each received batch costs.
//!
//! The trace is the `tui` benchmark's (check's scenario b shape: 16 replicas, 10,000 keys,
//! vc+lamport; 1,000,000 events by default). This process serves it as a collector's
//! `GET /v1/stream` would: a chunked NDJSON response on loopback, paced at `--rate` events per
//! second from the moment the stream is opened (every 5 ms, the lines due by then); `/v1/status`
//! answers 404, which the TUI ignores. So what is measured is the TUI alone, not a collector.
//!
//! A child process (`weft-bench live-measure`) does what `weft tui --connect` does, minus the real
//! terminal: `weft_tui::run::LiveSource` (the follower, the parser thread, the model thread) posts
//! actions; a loop like the TUI's event loop applies them to an `App` every 33 ms, turns the
//! follower's arrival count into `Received`, ticks, selects the newest event once a second (`G`),
//! and draws the whole screen into a 200×50 in-memory `weft_tui::headless::Screen`. A third thread samples the arrival
//! count every millisecond. It stops when the model shown holds every event and its findings
//! cover them all, and prints one JSON object; the parent reads the child's peak RSS from `wait4`.
//!
//! * **view lag**: at any moment, the age of the oldest event received but not yet in the model
//!   shown (0 when everything received is shown), sampled at every frame; its maximum while
//!   streaming, and the catch-up time after the last event arrived. Target < 1 s.
//! * **findings lag**: the same for the findings (the report the model shows), information.
//! * **frames**: each loop iteration's applying of actions (model swaps included) plus the draw.
//!   Target p99 < 16 ms.
//! * **memory**: the child's peak RSS divided by the events. Target ≤ 250 bytes/event.
//!
//! Then, in this process, the per-batch cost: the same lines cut into the follower's batches
//! (1 MiB) go through `weft_tui::grow::LineParser` and `Growing::feed` (engine and model), with a
//! snapshot per batch and the report read every 10 batches; µs per event in the first and the
//! last tenth of the stream show whether a batch costs in proportion to itself or to the trace.
//! For comparison, one `Model::from_ndjson` of all the lines: what every update cost before the
//! model was grown incrementally.

mod batches;
mod measure;
mod server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use weft_tui::model::Model;

use crate::bench::{
    bytes, count, print_machine_only, render_table, trace_file, warm, Verdict, WorkDir,
};
use crate::stats::{max, mean, percentile};
use crate::sys::{self, ChildRun};
use crate::tui::shape;
use batches::{batches, us, us_per_event, Batch};
use server::{line_starts, StreamServer};

/// Seconds as milliseconds with one decimal (the live figures' precision).
fn ms(s: f64) -> String {
    crate::stats::ms(s, 1)
}

pub use measure::{measure, Measured};

/// Target: the view is at most this far behind what was received.
const LAG_MAX: Duration = Duration::from_secs(1);
/// Target: p99 of a frame.
const FRAME_MAX: Duration = Duration::from_millis(16);
/// Target: memory per event.
const BYTES_PER_EVENT_MAX: f64 = 250.0;
/// The TUI's frame period while live.
const FRAME_EVERY: Duration = Duration::from_millis(33);
/// The follower's batch size (a `LiveMsg::Lines` holds up to 1 MiB).
const BATCH_BYTES: usize = 1 << 20;
/// The child gives up when nothing new is shown for this long.
const STALL: Duration = Duration::from_secs(60);

/// Options of `live`.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Events in the trace.
    pub events: u64,
    /// Replicas in the trace.
    pub replicas: u32,
    /// Events per second the stream is paced at.
    pub rate: f64,
    /// Write (and reuse) the trace file here and keep it; else a temp dir removed at the end.
    pub keep: Option<PathBuf>,
}

/// Runs the benchmark; returns the process exit code (0 all PASS, 1 some MISS/FAIL).
pub fn run(opts: &LiveOptions) -> Result<i32> {
    print_machine_only(
        "weft tui --connect (LiveSource, App, frames into an in-memory screen, in a child \
         process following a paced in-process stream)",
    );
    let cfg = shape(opts.events, opts.replicas);
    println!();
    println!(
        "[live] {} events, {} replicas, {} keys, vc+lamport, streamed at {} events/s",
        count(cfg.events),
        cfg.replicas,
        count(u64::from(cfg.keys)),
        count(opts.rate as u64)
    );
    let work = WorkDir::new(opts.keep.as_deref())?;
    let file = trace_file(&work.path, &cfg)?;
    warm(&file)?;
    let text =
        Arc::new(std::fs::read_to_string(&file).with_context(|| format!("{}", file.display()))?);
    let starts = Arc::new(line_starts(&text));
    let events = (starts.len() - 1) as u64;
    let server = StreamServer::start(text.clone(), starts.clone(), opts.rate)?;

    let (child, m) = follow_in_child(&work.path, &server, events)?;
    print_child(&m, &child);

    // In process: what each batch costs as the trace grows.
    let body = &text[starts[0]..];
    let (b, reports) = batches(body)?;
    let tenth = (b.len() / 10).max(1);
    let (first, last) = (&b[..tenth], &b[b.len() - tenth..]);
    print_batches(&b, (first, last), events);
    print_frames(&m);
    println!(
        "  report read (every 10 batches): mean {} max {}",
        ms(mean(&reports)),
        ms(max(&reports))
    );
    print_rebuild(body, events)?;
    println!("  load average now: {}", sys::machine().loadavg);
    println!();

    let verdicts = print_verdicts(&m, &child, (first, last));
    if let Some(keep) = &opts.keep {
        println!("\ntrace file kept in {}", keep.display());
    }
    drop(work);
    Ok(Verdict::exit_code(&verdicts))
}

/// Runs `weft-bench live-measure` against `server` (stopped when the child ends), files in
/// `dir`: how the child ran and what it measured.
fn follow_in_child(dir: &Path, server: &StreamServer, events: u64) -> Result<(ChildRun, Measured)> {
    let exe = std::env::current_exe().context("locating weft-bench itself")?;
    let mut cmd = Command::new(&exe);
    cmd.args([
        "live-measure",
        "--url",
        &format!("http://{}", server.addr),
        "--events",
        &events.to_string(),
    ]);
    let measured = sys::measure_in_child(&mut cmd, dir, "weft-bench live-measure");
    server.stop();
    measured
}

/// What the child followed and what it cost.
fn print_child(m: &Measured, child: &ChildRun) {
    println!(
        "  followed {} events in {:.2} s of streaming ({} events/s arrived); {} models shown; \
         {} lanes, {} rows, {} conflicts",
        count(m.events),
        m.streaming,
        count((m.events as f64 / m.streaming.max(1e-9)) as u64),
        count(m.models),
        m.lanes,
        count(u64::from(m.rows)),
        count(m.conflicts)
    );
    println!(
        "  child process: {} wall (user {}, sys {}), peak RSS {} = {:.0} bytes/event",
        crate::bench::secs(child.time),
        crate::bench::secs(child.user),
        crate::bench::secs(child.sys),
        bytes(child.peak_rss),
        child.peak_rss as f64 / m.events as f64
    );
}

/// The per-batch costs: the whole stream, then µs per event in its `(first, last)` tenths.
fn print_batches(b: &[Batch], (first, last): (&[Batch], &[Batch]), events: u64) {
    let feeds: Vec<f64> = b.iter().map(|x| x.feed).collect();
    let per_batch: Vec<f64> = b.iter().map(|x| x.parse + x.feed + x.snapshot).collect();
    println!(
        "  per batch ({} batches of ~1 MiB, {} events each): parse + feed + snapshot mean {} \
         p99 {} max {}; feed alone p99 {} max {}",
        b.len(),
        count((events as usize / b.len().max(1)) as u64),
        ms(mean(&per_batch)),
        ms(percentile(&per_batch, 0.99)),
        ms(max(&per_batch)),
        ms(percentile(&feeds, 0.99)),
        ms(max(&feeds)),
    );
    println!("  µs per event, first tenth: {}", us(us_per_event(first)));
    println!("  µs per event, last tenth:  {}", us(us_per_event(last)));
}

/// The frames with and without a model swap: apply, draw and the UI thread's CPU time.
fn print_frames(m: &Measured) {
    let pick = |v: &[f64], swap: bool| -> Vec<f64> {
        v.iter()
            .zip(&m.swaps)
            .filter(|(_, &s)| s == swap)
            .map(|(&x, _)| x)
            .collect()
    };
    for (what, swap) in [("with a model swap", true), ("without", false)] {
        let (apply, draw, cpu) = (
            pick(&m.apply, swap),
            pick(&m.draw, swap),
            pick(&m.cpu, swap),
        );
        println!(
            "  frames {what}: {}; apply p50 {} p99 {} max {}; draw p50 {} p99 {} max {}; \
             UI thread CPU p99 {} max {}",
            apply.len(),
            ms(percentile(&apply, 0.5)),
            ms(percentile(&apply, 0.99)),
            ms(max(&apply)),
            ms(percentile(&draw, 0.5)),
            ms(percentile(&draw, 0.99)),
            ms(max(&draw)),
            ms(percentile(&cpu, 0.99)),
            ms(max(&cpu)),
        );
    }
}

/// One whole rebuild of the model from `body` (its `events` lines), timed.
fn print_rebuild(body: &str, events: u64) -> Result<()> {
    let t = Instant::now();
    let rebuilt = Model::from_ndjson("bench", body);
    let rebuild = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        rebuilt.len() as u64 == events,
        "the rebuild read every event"
    );
    drop(rebuilt);
    println!(
        "  one whole rebuild at {} events (Model::from_ndjson, what each update cost before): {}",
        count(events),
        ms(rebuild)
    );
    Ok(())
}

/// The table of measurements against their targets; the verdicts of the judged ones.
fn print_verdicts(
    m: &Measured,
    child: &ChildRun,
    (first, last): (&[Batch], &[Batch]),
) -> [Verdict; 4] {
    let per_event = child.peak_rss as f64 / m.events as f64;
    let lag_ok = m.lag_max < LAG_MAX.as_secs_f64();
    let catch_ok = m.catch_up < LAG_MAX.as_secs_f64();
    let frame_p99 = percentile(&m.total, 0.99);
    let verdicts = [
        Verdict::judge(lag_ok),
        Verdict::judge(catch_ok),
        Verdict::judge(frame_p99 < FRAME_MAX.as_secs_f64()),
        Verdict::judge(per_event <= BYTES_PER_EVENT_MAX),
    ];
    let rows: Vec<[String; 4]> = vec![
        [
            "view lag while streaming: max (p50, p99 of frames)".to_owned(),
            format!("{} ({}, {})", ms(m.lag_max), ms(m.lag_p50), ms(m.lag_p99)),
            format!("< {} s", LAG_MAX.as_secs()),
            verdicts[0].label().to_owned(),
        ],
        [
            "catch-up after the last event".to_owned(),
            ms(m.catch_up),
            format!("< {} s", LAG_MAX.as_secs()),
            verdicts[1].label().to_owned(),
        ],
        [
            "findings lag: max while streaming; catch-up".to_owned(),
            format!("{}; {}", ms(m.findings_lag_max), ms(m.findings_catch_up)),
            String::new(),
            Verdict::Info.label().to_owned(),
        ],
        [
            "frame (actions + full draw): mean / p99 / max".to_owned(),
            format!(
                "{} / {} / {}",
                ms(mean(&m.total)),
                ms(frame_p99),
                ms(max(&m.total))
            ),
            format!("p99 < {} ms", FRAME_MAX.as_millis()),
            verdicts[2].label().to_owned(),
        ],
        [
            "memory: peak RSS per event".to_owned(),
            format!("{per_event:.0} B ({})", bytes(child.peak_rss)),
            format!("≤ {BYTES_PER_EVENT_MAX:.0} B"),
            verdicts[3].label().to_owned(),
        ],
        [
            "per batch: µs/event, first tenth → last tenth".to_owned(),
            format!(
                "{:.2} → {:.2}",
                us_per_event(first)[4],
                us_per_event(last)[4]
            ),
            String::new(),
            Verdict::Info.label().to_owned(),
        ],
    ];
    print!(
        "{}",
        render_table(
            &["measurement", "figure", "target", "result"],
            &rows,
            &[0, 2, 3]
        )
    );
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small trace followed end to end through the real pipeline: the child's measurement
    /// runs here, against the paced server.
    #[test]
    fn a_small_stream_is_followed_to_the_end() {
        let dir = std::env::temp_dir().join(format!("weft-bench-live-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = crate::gen::GenConfig {
            events: 3_000,
            replicas: 4,
            keys: 20,
            clocks: true,
            seed: 5,
        };
        let file = dir.join("t.ndjson");
        crate::gen::generate_file(&cfg, &file).unwrap();
        let text = Arc::new(std::fs::read_to_string(&file).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
        let starts = Arc::new(line_starts(&text));
        assert_eq!(starts.len(), 3_001, "the header is left out");
        let server = StreamServer::start(text.clone(), starts, 20_000.0).unwrap();
        let m = measure(&format!("http://{}", server.addr), 3_000).unwrap();
        server.stop();
        assert_eq!(m.events, 3_000);
        assert_eq!(m.lanes, 4);
        assert!(m.models > 0 && !m.total.is_empty());
        assert!(m.streaming > 0.0);
        let (b, _) = batches(&text).unwrap();
        assert_eq!(b.iter().map(|x| x.events).sum::<usize>(), 3_000);
    }
}
