//! The child's side of `live` (`weft-bench live-measure`): `LiveSource` posting actions, a loop
//! like the TUI's applying them and drawing frames into an in-memory screen, a thread sampling
//! arrivals; then the view and findings lags computed from the samples and the frames.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::{Deserialize, Serialize};
use weft_tui::headless::Screen;
use weft_tui::live::LiveConfig;
use weft_tui::run::LiveSource;
use weft_tui::state::{Action, App, Config};

use super::{FRAME_EVERY, STALL};
use crate::stats::percentile;
use crate::tui::{HEIGHT, WIDTH};

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

/// Per frame, before its actions: (time, events shown, events the findings cover).
type Frame = (f64, u64, u64);

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
    let sampler = sample_arrivals(source.arrivals(), done.clone(), start);
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
    let frames = follow(&mut app, &mut terminal, &source, &rx, &mut m, start)?;
    done.store(true, Ordering::Relaxed);
    let samples = sampler.join().expect("the sampler thread");
    source.stop();
    m.lanes = app.model.lanes();
    m.rows = app.model.rows;
    m.conflicts = app.model.report.summary.conflicts;
    anyhow::ensure!(!samples.is_empty(), "nothing arrived");
    lags(&mut m, &samples, &frames, events);
    Ok(m)
}

/// A thread sampling `counter` every millisecond until `done`: (seconds since `start`, events
/// arrived) at each change.
fn sample_arrivals(
    counter: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    start: Instant,
) -> JoinHandle<Vec<(f64, u64)>> {
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
}

/// The TUI's event loop, every [`FRAME_EVERY`]: applies the queued actions, `Received`, a tick
/// and once a second `Bottom`, then draws; records each frame's times in `m`. Stops when every
/// event and its findings are shown (an error after [`STALL`] without progress). Returns the
/// frames' (time, shown, covered).
fn follow(
    app: &mut App,
    terminal: &mut Screen,
    source: &LiveSource,
    rx: &Receiver<Action>,
    m: &mut Measured,
    start: Instant,
) -> Result<Vec<Frame>> {
    let events = m.events;
    let mut frames: Vec<Frame> = Vec::new();
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
        terminal.draw(app);
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
    Ok(frames)
}

/// The view and findings lags (while streaming, and the catch-up after the last arrival) from
/// the arrival `samples` and the `frames`.
fn lags(m: &mut Measured, samples: &[(f64, u64)], frames: &[Frame], events: u64) {
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
    for &(t, shown, covered) in frames {
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
}

/// CPU time of the calling thread, in seconds.
fn thread_cpu() -> f64 {
    // SAFETY: an all-zero timespec is valid for clock_gettime to overwrite.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: a valid clock id and a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}
