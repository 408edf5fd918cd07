//! The `tui` benchmark: how long `weft tui` takes to show a large trace, how long each frame
//! takes while the user moves around, and how much memory it needs.
//!
//! The trace is scenario b's of `check` (1,000,000 events, 16 replicas, 10,000 keys,
//! vc+lamport, seed 0xB, from [`crate::gen`]), so the figures compare with `weft check` on the
//! same file and `--keep` directories are shared with `check`. Other `--events`/`--replicas`
//! keep b's keys, clocks and seed.
//!
//! The measurement runs in a fresh child process (`weft-bench tui-measure FILE`, after the file
//! is read once into the page cache), which does exactly what `weft tui FILE` does before its
//! first frame, minus the real terminal. A file of at least `weft_tui::FIRST_LOOK_MIN_BYTES`
//! (32 MiB) opens with a first look:
//!
//! 1. the first look: `Trace::read_prefix` (the first 4 MiB of lines) and `Model::build` of
//!    it, while the loading thread (`weft_tui::spawn_loader`) starts reading the whole;
//! 2. `App::new` (selects the first event: its cones), `Action::Resize` to 200×50 and the
//!    first render into `weft_tui::headless::Screen` (diffed against the previous buffer and
//!    written to the in-memory backend, as with a real terminal): the **first frame**;
//! 3. on the loading thread: `Trace::read_inputs` of the whole and `Model::build`; the UI
//!    applies `Action::Loaded` and renders again: the **whole trace shown**.
//!
//! A smaller file is read and analysed whole before the first frame (then both times are one).
//!
//! Then two runs of frames, each frame one `app.apply(action)` plus one full `screen.draw`:
//! scrolling and moving the selection (Down, PageDown, Right, Down, PageDown, Left, PageUp,
//! repeated: it drifts down the trace), and jumps (Bottom, NextConflict, NextConflict, Top,
//! NextConflict, NextConflict, repeated). Every one of these actions that moves the selection
//! recomputes its causal cones, as in the real program.
//!
//! The child prints one JSON object; the parent reports the child's peak RSS from `wait4`.
//! Targets: first frame <= 1.5 s (issue 16); p99 of the frame time < 16 ms in both runs. The
//! whole trace's time is printed beside it, unjudged.

use crate::stats::{max, mean, percentile};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use weft_trace::{expand_inputs, ReadOptions, Trace};
use weft_tui::headless::Screen;
use weft_tui::model::Model;
use weft_tui::state::{Action, App, Config};
use weft_tui::{spawn_loader, FIRST_LOOK_BYTES, FIRST_LOOK_MIN_BYTES};

use crate::bench::{
    bytes, count, print_machine_only, render_table, secs, trace_file, warm, Shapes, Verdict,
    WorkDir,
};
use crate::gen::GenConfig;
use crate::sys::{self, ChildRun};

/// Terminal size the frames are rendered at.
pub const WIDTH: u16 = 200;
pub const HEIGHT: u16 = 50;
/// Target: file read, analysed, laid out and drawn once.
const FIRST_FRAME_MAX: Duration = Duration::from_millis(1500);
/// Target: p99 of one frame (action applied + whole screen drawn), 60 frames per second.
const FRAME_MAX: Duration = Duration::from_millis(16);

/// The scrolling run's actions, repeated.
const SCROLL: [Action; 7] = [
    Action::Down,
    Action::PageDown,
    Action::Right,
    Action::Down,
    Action::PageDown,
    Action::Left,
    Action::PageUp,
];
/// The jumping run's actions, repeated.
const JUMPS: [Action; 6] = [
    Action::Bottom,
    Action::NextConflict,
    Action::NextConflict,
    Action::Top,
    Action::NextConflict,
    Action::NextConflict,
];

/// Options of `tui`.
#[derive(Clone, Debug)]
pub struct TuiOptions {
    /// Events in the trace.
    pub events: u64,
    /// Replicas in the trace.
    pub replicas: u32,
    /// Frames in each run.
    pub frames: u32,
    /// Write (and reuse) the trace file here and keep it; else a temp dir removed at the end.
    pub keep: Option<PathBuf>,
}

/// The trace: scenario b's shape with the given size.
pub fn shape(events: u64, replicas: u32) -> GenConfig {
    GenConfig {
        events,
        replicas,
        ..Shapes::new(false).b
    }
}

/// Times of one run of frames, in seconds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Frames {
    /// `app.apply(action)` of each frame.
    pub apply: Vec<f64>,
    /// `screen.draw(..)` of each frame.
    pub draw: Vec<f64>,
    /// Each frame: apply and draw.
    pub total: Vec<f64>,
    /// Frames whose action selected another event.
    pub moved: u32,
    /// Row of the selection after the last frame.
    pub last_row: Option<u32>,
}

/// What the child measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Measured {
    pub events: u64,
    pub lanes: u32,
    pub rows: u32,
    pub conflicts: u64,
    pub violations: u64,
    /// The events of the first look, when the trace is large enough for one.
    pub first_look_events: Option<u64>,
    /// Seconds from the start: the first frame drawn (the first look's, when there is one), and
    /// the whole trace's first frame.
    pub first_frame: f64,
    pub whole_frame: f64,
    /// Seconds: the first look read (`Trace::read_prefix`) and analysed (`Model::build`); on
    /// the loading thread, the whole read (`Trace::read_inputs`), then analysed and laid out
    /// until the UI has it (`Model::build`).
    pub first_look: Option<f64>,
    pub read: f64,
    pub build: f64,
    /// `VmHWM` right after the first frame.
    pub rss_first_frame: Option<u64>,
    pub scroll: Frames,
    pub jumps: Frames,
}

/// `weft-bench tui-measure`: the measurement itself, in this process, as `weft tui FILE` does
/// it: a large file opens with a first look (`Trace::read_prefix` analysed on the UI thread)
/// while the loading thread (`weft_tui::spawn_loader`) reads and analyses the whole, which then
/// replaces it; a small one is read and analysed whole before the first frame.
pub fn measure(file: &Path, frames: u32) -> Result<Measured> {
    let label = file.display().to_string();
    let start = Instant::now();
    let inputs = expand_inputs(&[file])?;
    let opts = ReadOptions::default();
    let big = std::fs::metadata(file)?.len() >= FIRST_LOOK_MIN_BYTES;
    let first = big
        .then(|| Trace::read_prefix(&inputs, &opts, FIRST_LOOK_BYTES))
        .flatten();
    let read = Arc::new(Mutex::new((Duration::ZERO, start)));
    let (tx, rx) = sync_channel(1);
    let timed = read.clone();
    spawn_loader(
        Box::new(move || {
            let t = Instant::now();
            let trace = Trace::read_inputs(&inputs, &opts).map_err(|e| e.to_string());
            *timed.lock().unwrap() = (t.elapsed(), Instant::now());
            trace
        }),
        tx,
    );
    let whole = || -> Result<(Arc<Model>, Instant)> {
        match rx.recv()? {
            Action::Loaded(m) => Ok((m, Instant::now())),
            Action::LoadFailed(why) => anyhow::bail!("{why}"),
            other => anyhow::bail!("the loading thread posted {other:?}"),
        }
    };
    let mut terminal = Screen::new(WIDTH, HEIGHT);
    let size = Action::Resize {
        w: WIDTH,
        h: HEIGHT,
    };
    let (mut app, first_look, ready) = match first {
        Some(first) => {
            let model = Arc::new(Model::build(first));
            let app = App::new(model, label, Config::default()).loading();
            (app, Some(start.elapsed()), None)
        }
        None => {
            let (model, ready) = whole()?;
            (App::new(model, label, Config::default()), None, Some(ready))
        }
    };
    app.apply(size);
    terminal.draw(&app);
    let first_frame = start.elapsed();
    let first_look_events = first_look.map(|_| app.model.len() as u64);
    let (ready, whole_frame) = match ready {
        Some(ready) => (ready, first_frame),
        None => {
            let (model, ready) = whole()?;
            app.apply(Action::Loaded(model));
            terminal.draw(&app);
            (ready, start.elapsed())
        }
    };
    let rss_first_frame = sys::peak_rss();
    check_screen(&terminal)?;
    let (read, read_end) = *read.lock().unwrap();
    let model = app.model.clone();

    let scroll = run_frames(&mut app, &mut terminal, &SCROLL, frames)?;
    let jumps = run_frames(&mut app, &mut terminal, &JUMPS, frames)?;
    check_screen(&terminal)?;

    Ok(Measured {
        events: model.len() as u64,
        lanes: model.lanes(),
        rows: model.rows,
        conflicts: model.report.conflicts.len() as u64,
        violations: model.report.violations.len() as u64,
        first_look_events,
        first_frame: first_frame.as_secs_f64(),
        whole_frame: whole_frame.as_secs_f64(),
        first_look: first_look.map(|d| d.as_secs_f64()),
        read: read.as_secs_f64(),
        build: (ready - read_end).as_secs_f64(),
        rss_first_frame,
        scroll,
        jumps,
    })
}

/// `frames` frames, each applying the next of `actions` (cycling) and drawing the whole screen.
fn run_frames(
    app: &mut App,
    terminal: &mut Screen,
    actions: &[Action],
    frames: u32,
) -> Result<Frames> {
    let mut out = Frames::default();
    for action in actions.iter().cycle().take(frames as usize) {
        let before = app.selected;
        let t = Instant::now();
        app.apply(action.clone());
        let applied = t.elapsed();
        terminal.draw(app);
        let total = t.elapsed();
        out.apply.push(applied.as_secs_f64());
        out.draw.push((total - applied).as_secs_f64());
        out.total.push(total.as_secs_f64());
        out.moved += u32::from(app.selected != before);
    }
    out.last_row = app.selected.map(|n| app.model.row[n as usize]);
    Ok(out)
}

/// The screen shows the diagram (the frames really drew something).
fn check_screen(terminal: &Screen) -> Result<()> {
    let text = terminal.symbols();
    anyhow::ensure!(
        text.contains("diagram · rows"),
        "the rendered screen shows no diagram"
    );
    Ok(())
}

/// Runs the benchmark; returns the process exit code (0 all PASS, 1 some MISS/FAIL).
pub fn run(opts: &TuiOptions) -> Result<i32> {
    print_machine_only(&format!(
        "weft-tui benchmark (read, Model::build, frames rendered into a {WIDTH}×{HEIGHT} \
         in-memory screen, in a child process)"
    ));
    let cfg = shape(opts.events, opts.replicas);
    println!();
    println!(
        "[tui] {} events, {} replicas, {} keys, vc+lamport (check's scenario b shape, seed {:#x})",
        count(cfg.events),
        cfg.replicas,
        count(u64::from(cfg.keys)),
        cfg.seed
    );
    let work = WorkDir::new(opts.keep.as_deref())?;
    let file = trace_file(&work.path, &cfg)?;
    warm(&file)?;

    let (child, m) = measure_in_child(&work.path, &file, opts.frames)?;
    print_child(&m, &child);
    println!("  load average now: {}", sys::machine().loadavg);
    println!();

    let verdicts = print_verdicts(&m, &child);
    if let Some(keep) = &opts.keep {
        println!("\ntrace file kept in {}", keep.display());
    }
    drop(work);
    Ok(Verdict::exit_code(&verdicts))
}

/// Runs `weft-bench tui-measure` on `file` (its files in `dir`): how the child ran and what it
/// measured.
fn measure_in_child(dir: &Path, file: &Path, frames: u32) -> Result<(ChildRun, Measured)> {
    let exe = std::env::current_exe().context("locating weft-bench itself")?;
    let mut cmd = Command::new(&exe);
    cmd.args(["tui-measure", "--frames", &frames.to_string()])
        .arg(file);
    sys::measure_in_child(
        &mut cmd,
        dir,
        &format!("weft-bench tui-measure {}", file.display()),
    )
}

/// What the child's model holds, what the child cost, and the two runs of frames.
fn print_child(m: &Measured, child: &ChildRun) {
    println!(
        "  model: {} events, {} lanes, {} rows, {} conflicts, {} violations",
        count(m.events),
        m.lanes,
        count(u64::from(m.rows)),
        count(m.conflicts),
        count(m.violations)
    );
    println!(
        "  child process: {} wall (user {}, sys {}), peak RSS {} ({} at the first frame)",
        secs(child.time),
        secs(child.user),
        secs(child.sys),
        bytes(child.peak_rss),
        m.rss_first_frame.map_or_else(|| "?".to_owned(), bytes)
    );
    for (name, f) in [("scroll", &m.scroll), ("jumps", &m.jumps)] {
        println!(
            "  {name}: {} frames, selection moved in {}, last row {}; mean apply {} + draw {}; \
             max apply {}, max draw {}",
            f.total.len(),
            f.moved,
            f.last_row
                .map_or_else(|| "-".to_owned(), |r| count(u64::from(r) + 1)),
            ms(mean(&f.apply)),
            ms(mean(&f.draw)),
            ms(max(&f.apply)),
            ms(max(&f.draw))
        );
    }
}

/// The table of measurements against their targets; the verdicts of the judged ones.
fn print_verdicts(m: &Measured, child: &ChildRun) -> Vec<Verdict> {
    let first = Duration::from_secs_f64(m.first_frame);
    let mut rows: Vec<[String; 8]> = Vec::new();
    let part = |name: &str, s: f64| {
        [
            format!("  {name}"),
            fine(s),
            "-".to_owned(),
            "-".to_owned(),
            "-".to_owned(),
            "-".to_owned(),
            String::new(),
            Verdict::Info.label().to_owned(),
        ]
    };
    let first_verdict = Verdict::judge(first <= FIRST_FRAME_MAX);
    rows.push([
        "first frame".to_owned(),
        fine(m.first_frame),
        "-".to_owned(),
        "-".to_owned(),
        "-".to_owned(),
        "-".to_owned(),
        format!("<= {}", secs(FIRST_FRAME_MAX)),
        first_verdict.label().to_owned(),
    ]);
    if let (Some(s), Some(n)) = (m.first_look, m.first_look_events) {
        rows.push(part(
            &format!("first look: {} events read + analysed", count(n)),
            s,
        ));
    }
    rows.push(part("whole trace shown", m.whole_frame));
    rows.push(part("  read (Trace::read_inputs)", m.read));
    rows.push(part("  analyze + layout (Model::build)", m.build));
    let mut verdicts = vec![first_verdict];
    for (name, f) in [
        ("frame: scroll/move (Down,PgDn,Right,Left,PgUp)", &m.scroll),
        ("frame: jump (Bottom,Top,NextConflict)", &m.jumps),
    ] {
        let p99 = percentile(&f.total, 0.99);
        let v = Verdict::judge(p99 < FRAME_MAX.as_secs_f64());
        rows.push([
            name.to_owned(),
            "-".to_owned(),
            ms(mean(&f.total)),
            ms(percentile(&f.total, 0.50)),
            ms(p99),
            ms(max(&f.total)),
            format!("p99 < {}", secs(FRAME_MAX)),
            v.label().to_owned(),
        ]);
        verdicts.push(v);
    }
    rows.push([
        "peak RSS (wait4)".to_owned(),
        bytes(child.peak_rss),
        "-".to_owned(),
        "-".to_owned(),
        "-".to_owned(),
        "-".to_owned(),
        String::new(),
        Verdict::Info.label().to_owned(),
    ]);
    let header = [
        "measurement",
        "time",
        "mean",
        "p50",
        "p99",
        "max",
        "target",
        "result",
    ];
    print!("{}", render_table(&header, &rows, &[0, 6, 7]));
    verdicts
}

/// Seconds: milliseconds with one decimal below a second, else seconds with two.
fn fine(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// Seconds as milliseconds with two decimals (the TUI figures' precision).
fn ms(s: f64) -> String {
    crate::stats::ms(s, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_on_a_small_trace() {
        let dir = std::env::temp_dir().join(format!("weft-bench-tui-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = GenConfig {
            events: 2_000,
            replicas: 4,
            keys: 10,
            clocks: true,
            seed: 7,
        };
        let file = dir.join("t.ndjson");
        crate::gen::generate_file(&cfg, &file).unwrap();
        let m = measure(&file, 20).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(m.events, 2_000);
        assert_eq!(m.lanes, 4);
        assert_eq!(m.scroll.total.len(), 20);
        assert_eq!(m.jumps.total.len(), 20);
        assert!(m.scroll.moved > 0);
        // Small: read and analysed whole before the first frame, no first look.
        assert_eq!(m.first_look_events, None);
        assert!(m.first_frame >= m.read);
        assert_eq!(m.first_frame, m.whole_frame);
    }
}
