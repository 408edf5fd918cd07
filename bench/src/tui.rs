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
//! first frame, minus the real terminal:
//!
//! 1. read: `expand_inputs` + `Trace::read_inputs` with default options;
//! 2. analyze + layout: `Model::build` (`weft_analyzer::analyze_full`, layering, indexes);
//! 3. state: `App::new` (selects the first event: its cones) and `Action::Resize` to 200×50;
//! 4. first render: `weft_tui::headless::Screen::new(200, 50)` and `screen.draw(&app)`: the
//!    whole screen is rendered, diffed against the previous buffer and written to the in-memory
//!    backend, as with a real terminal.
//!
//! Then two runs of frames, each frame one `app.apply(action)` plus one full `screen.draw`:
//! scrolling and moving the selection (Down, PageDown, Right, Down, PageDown, Left, PageUp,
//! repeated: it drifts down the trace), and jumps (Bottom, NextConflict, NextConflict, Top,
//! NextConflict, NextConflict, repeated). Every one of these actions that moves the selection
//! recomputes its causal cones, as in the real program.
//!
//! The child prints one JSON object; the parent reports the child's peak RSS from `wait4`.
//! Targets: first frame <= 1.5 s (issue 16); p99 of the frame time < 16 ms in both runs.

use crate::stats::{max, mean, percentile};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use weft_trace::{expand_inputs, ReadOptions, Trace};
use weft_tui::headless::Screen;
use weft_tui::model::Model;
use weft_tui::state::{Action, App, Config};

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
    /// Seconds: read, `Model::build`, `App::new` + resize, first draw; `first_frame` is the
    /// whole, timed from one start.
    pub read: f64,
    pub build: f64,
    pub state: f64,
    pub first_render: f64,
    pub first_frame: f64,
    /// `VmHWM` right after the first frame.
    pub rss_first_frame: Option<u64>,
    pub scroll: Frames,
    pub jumps: Frames,
}

/// `weft-bench tui-measure`: the measurement itself, in this process.
pub fn measure(file: &Path, frames: u32) -> Result<Measured> {
    let label = file.display().to_string();
    let start = Instant::now();
    let inputs = expand_inputs(&[file])?;
    let trace = Trace::read_inputs(&inputs, &ReadOptions::default())?;
    let read = start.elapsed();

    let t = Instant::now();
    let model = Arc::new(Model::build(trace));
    let build = t.elapsed();

    let t = Instant::now();
    let mut app = App::new(model.clone(), label, Config::default());
    app.apply(Action::Resize {
        w: WIDTH,
        h: HEIGHT,
    });
    let state = t.elapsed();

    let t = Instant::now();
    let mut terminal = Screen::new(WIDTH, HEIGHT);
    terminal.draw(&app);
    let first_render = t.elapsed();
    let first_frame = start.elapsed();
    let rss_first_frame = sys::peak_rss();
    check_screen(&terminal)?;

    let scroll = run_frames(&mut app, &mut terminal, &SCROLL, frames)?;
    let jumps = run_frames(&mut app, &mut terminal, &JUMPS, frames)?;
    check_screen(&terminal)?;

    Ok(Measured {
        events: model.len() as u64,
        lanes: model.lanes(),
        rows: model.rows,
        conflicts: model.report.conflicts.len() as u64,
        violations: model.report.violations.len() as u64,
        read: read.as_secs_f64(),
        build: build.as_secs_f64(),
        state: state.as_secs_f64(),
        first_render: first_render.as_secs_f64(),
        first_frame: first_frame.as_secs_f64(),
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
    rows.push(part("read (Trace::read_inputs)", m.read));
    rows.push(part("analyze + layout (Model::build)", m.build));
    rows.push(part("state (App::new, resize: cones)", m.state));
    rows.push(part(
        &format!("first render ({WIDTH}×{HEIGHT})"),
        m.first_render,
    ));
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
        assert!(m.first_frame >= m.read);
    }
}
