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

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use weft_tui::grow::{Growing, LineParser};
use weft_tui::headless::Screen;
use weft_tui::live::LiveConfig;
use weft_tui::model::Model;
use weft_tui::run::LiveSource;
use weft_tui::state::{Action, App, Config};

use crate::bench::{
    bytes, count, print_machine_only, render_table, trace_file, warm, Verdict, WorkDir,
};
use crate::sys::{self, Exit};
use crate::tui::{shape, HEIGHT, WIDTH};

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

/// What the child measured (times in seconds).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Measured {
    pub events: u64,
    /// From the stream's first arrival to its last.
    pub streaming: f64,
    /// Largest view lag while events were arriving, and its percentiles over frames.
    pub lag_max: f64,
    pub lag_p50: f64,
    pub lag_p99: f64,
    /// From the last arrival to a model with every event shown.
    pub catch_up: f64,
    /// Largest findings lag while streaming; from the last arrival to complete findings.
    pub findings_lag_max: f64,
    pub findings_catch_up: f64,
    /// Models applied.
    pub models: u64,
    /// Per frame: applying the queued actions, drawing, both; the UI thread's CPU time in it
    /// (the rest of a frame's wall time is waiting for a core).
    pub apply: Vec<f64>,
    pub draw: Vec<f64>,
    pub total: Vec<f64>,
    pub cpu: Vec<f64>,
    /// Frames that swapped in a new model.
    pub swaps: Vec<bool>,
    /// Lanes and rows of the last model; conflicts in its report.
    pub lanes: u32,
    pub rows: u32,
    pub conflicts: u64,
}

/// The stream the child follows: the trace's lines, chunked, paced at `rate` per second.
struct StreamServer {
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
}

impl StreamServer {
    fn start(text: Arc<String>, lines: Arc<Vec<usize>>, rate: f64) -> Result<StreamServer> {
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

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
    }
}

/// One connection: requests until it closes; `/v1/stream?from=N` streams forever (paced),
/// anything else is a 404.
fn serve(
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
        let mut first = String::new();
        if reader.read_line(&mut first)? == 0 {
            return Ok(());
        }
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
                break;
            }
        }
        let target = first.split_whitespace().nth(1).unwrap_or("");
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

/// Byte offsets of the event lines of `text` (the header line left out), plus the end.
fn line_starts(text: &str) -> Vec<usize> {
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

/// `weft-bench live-measure`: follows `url` until `events` events and their findings are shown.
pub fn measure(url: &str, events: u64) -> Result<Measured> {
    let (tx, rx) = sync_channel::<Action>(256);
    let source = LiveSource::spawn(
        LiveConfig {
            url: url.to_string(),
            token: None,
            ca_cert: None,
            max_line: 16 << 20,
        },
        events.max(2_000_000),
        tx,
    );
    let start = Instant::now();
    // Arrival times, sampled every millisecond: (seconds since start, events arrived).
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (counter, done) = (source.arrivals(), done.clone());
        std::thread::spawn(move || {
            let mut samples: Vec<(f64, u64)> = Vec::new();
            let mut last = 0;
            while !done.load(Ordering::Relaxed) {
                let now = counter.load(Ordering::Relaxed);
                if now != last {
                    samples.push((start.elapsed().as_secs_f64(), now));
                    last = now;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            samples
        })
    };
    let mut app = App::live(url, Config::default());
    app.apply(Action::Resize {
        w: WIDTH,
        h: HEIGHT,
    });
    let mut terminal = Screen::new(WIDTH, HEIGHT);
    let mut m = Measured {
        events,
        ..Measured::default()
    };
    // Per frame, before its actions: (time, events shown, events the findings cover).
    let mut frames: Vec<(f64, u64, u64)> = Vec::new();
    let mut arrived = 0u64;
    let mut last_tick = Instant::now();
    let mut last_select = Instant::now();
    let mut progress = Instant::now();
    loop {
        let t = Instant::now();
        let cpu = thread_cpu();
        let mut swapped = false;
        let shown = app.model.len() as u64;
        let covered = app.model.report.summary.events;
        frames.push((start.elapsed().as_secs_f64(), shown, covered));
        while let Ok(a) = rx.try_recv() {
            if let Action::Model(model) = &a {
                m.models += 1;
                swapped = true;
                // The moment just before the swap is the view's worst.
                frames.push((
                    start.elapsed().as_secs_f64(),
                    app.model.len() as u64,
                    app.model.report.summary.events,
                ));
                if model.len() as u64 > shown {
                    progress = Instant::now();
                }
            }
            app.apply(a);
        }
        let now_arrived = source.arrived();
        if now_arrived > arrived {
            app.apply(Action::Received(now_arrived - arrived));
            arrived = now_arrived;
        }
        app.apply(Action::Tick(last_tick.elapsed()));
        last_tick = Instant::now();
        if last_select.elapsed() >= Duration::from_secs(1) {
            app.apply(Action::Bottom);
            last_select = Instant::now();
        }
        let applied = t.elapsed();
        terminal.draw(&app);
        let total = t.elapsed();
        m.apply.push(applied.as_secs_f64());
        m.draw.push((total - applied).as_secs_f64());
        m.total.push(total.as_secs_f64());
        m.cpu.push(thread_cpu() - cpu);
        m.swaps.push(swapped);
        let model = &app.model;
        if model.len() as u64 >= events && model.report.summary.events >= events {
            frames.push((
                start.elapsed().as_secs_f64(),
                model.len() as u64,
                model.report.summary.events,
            ));
            break;
        }
        anyhow::ensure!(
            progress.elapsed() < STALL,
            "nothing new shown for {STALL:?}: {} of {events} shown, {} arrived",
            model.len(),
            source.arrived()
        );
        if let Some(left) = FRAME_EVERY.checked_sub(t.elapsed()) {
            std::thread::sleep(left);
        }
    }
    done.store(true, Ordering::Relaxed);
    let samples = sampler.join().expect("the sampler thread");
    source.stop();
    m.lanes = app.model.lanes();
    m.rows = app.model.rows;
    m.conflicts = app.model.report.summary.conflicts;
    anyhow::ensure!(!samples.is_empty(), "nothing arrived");
    let (first_at, last_at) = (samples[0].0, samples[samples.len() - 1].0);
    m.streaming = last_at - first_at;
    // When the k-th event (k from 1) arrived.
    let arrival = |k: u64| {
        let i = samples.partition_point(|&(_, a)| a < k);
        samples.get(i).map(|s| s.0)
    };
    let arrived_by = |t: f64| {
        let i = samples.partition_point(|&(s, _)| s <= t);
        if i == 0 {
            0
        } else {
            samples[i - 1].1
        }
    };
    let lag = |t: f64, shown: u64| {
        if arrived_by(t) > shown {
            arrival(shown + 1).map_or(0.0, |a| (t - a).max(0.0))
        } else {
            0.0
        }
    };
    let mut lags: Vec<f64> = Vec::new();
    for &(t, shown, covered) in &frames {
        if t <= last_at {
            let l = lag(t, shown);
            lags.push(l);
            m.lag_max = m.lag_max.max(l);
            m.findings_lag_max = m.findings_lag_max.max(lag(t, covered));
        }
    }
    m.lag_p50 = percentile(&lags, 0.50);
    m.lag_p99 = percentile(&lags, 0.99);
    let all_shown = frames
        .iter()
        .find(|f| f.1 >= events)
        .map_or(f64::NAN, |f| f.0);
    let all_covered = frames
        .iter()
        .find(|f| f.2 >= events)
        .map_or(f64::NAN, |f| f.0);
    m.catch_up = (all_shown - last_at).max(0.0);
    m.findings_catch_up = (all_covered - last_at).max(0.0);
    Ok(m)
}

/// CPU time of the calling thread, in seconds.
fn thread_cpu() -> f64 {
    // SAFETY: an all-zero timespec is valid for clock_gettime to overwrite.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: a valid clock id and a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// What one batch cost, in process.
#[derive(Clone, Debug, Default)]
struct Batch {
    events: usize,
    parse: f64,
    /// `Growing::feed`: the engine, then the model.
    engine: f64,
    feed: f64,
    snapshot: f64,
}

/// The per-batch costs on `text` cut like the follower cuts it, and one report read every 10
/// batches (their times).
fn batches(text: &str) -> Result<(Vec<Batch>, Vec<f64>)> {
    let mut parser = LineParser::new("bench");
    let mut grown = Growing::new();
    let mut out = Vec::new();
    let mut reports = Vec::new();
    let mut keep = None;
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let mut end = (at + BATCH_BYTES).min(bytes.len());
        while end < bytes.len() && bytes[end - 1] != b'\n' {
            end += 1;
        }
        let t = Instant::now();
        let batch = parser.parse(&bytes[at..end])?;
        let parse = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let fed = grown.feed(batch);
        let feed = t.elapsed().as_secs_f64();
        let t = Instant::now();
        keep = Some(grown.snapshot());
        let snapshot = t.elapsed().as_secs_f64();
        out.push(Batch {
            events: fed.events,
            parse,
            engine: fed.engine.as_secs_f64(),
            feed,
            snapshot,
        });
        if out.len() % 10 == 0 {
            let t = Instant::now();
            grown.refresh_report();
            reports.push(t.elapsed().as_secs_f64());
        }
        at = end;
    }
    drop(keep);
    Ok((out, reports))
}

/// µs per event over `b`: (parse, engine, model, snapshot, all).
fn us_per_event(b: &[Batch]) -> [f64; 5] {
    let events = b.iter().map(|x| x.events).sum::<usize>().max(1) as f64;
    let sum = |f: &dyn Fn(&Batch) -> f64| b.iter().map(f).sum::<f64>() / events * 1e6;
    [
        sum(&|x| x.parse),
        sum(&|x| x.engine),
        sum(&|x| x.feed - x.engine),
        sum(&|x| x.snapshot),
        sum(&|x| x.parse + x.feed + x.snapshot),
    ]
}

fn us(v: [f64; 5]) -> String {
    format!(
        "{:.2} (parse {:.2} + engine {:.2} + model {:.2} + snapshot {:.2})",
        v[4], v[0], v[1], v[2], v[3]
    )
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

    let exe = std::env::current_exe().context("locating weft-bench itself")?;
    let out_path = work.path.join("live-stdout.json");
    let err_path = work.path.join("live-stderr.txt");
    let out = std::fs::File::create(&out_path)
        .with_context(|| format!("creating {}", out_path.display()))?;
    let mut cmd = Command::new(&exe);
    cmd.args([
        "live-measure",
        "--url",
        &format!("http://{}", server.addr),
        "--events",
        &events.to_string(),
    ]);
    let child = sys::run_child(&mut cmd, out.into(), &err_path)?;
    server.stop();
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    if child.exit != Exit::Code(0) {
        anyhow::bail!("weft-bench live-measure: {}: {}", child.exit, stderr.trim());
    }
    let m: Measured = serde_json::from_str(stdout.trim())
        .with_context(|| format!("live-measure output {stdout:?}"))?;

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

    // In process: what each batch costs as the trace grows.
    let body = &text[starts[0]..];
    let (b, reports) = batches(body)?;
    let tenth = (b.len() / 10).max(1);
    let (first, last) = (&b[..tenth], &b[b.len() - tenth..]);
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
    println!(
        "  report read (every 10 batches): mean {} max {}",
        ms(mean(&reports)),
        ms(max(&reports))
    );
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
    println!("  load average now: {}", sys::machine().loadavg);
    println!();

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
    if let Some(keep) = &opts.keep {
        println!("\ntrace file kept in {}", keep.display());
    }
    drop(work);
    Ok(i32::from(
        verdicts
            .iter()
            .any(|v| matches!(v, Verdict::Miss | Verdict::Fail(_))),
    ))
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.iter().sum::<f64>() / v.len() as f64
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

/// Nearest-rank percentile (`p` in 0..=1).
fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = (p * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

/// Seconds as milliseconds with one decimal.
fn ms(s: f64) -> String {
    format!("{:.1} ms", s * 1e3)
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
