//! The event loop: terminal set-up and restore, input, sources, drawing.
//!
//! The loop owns the [`App`]. Keys become actions through [`crate::keys`]; a live source runs in
//! threads and posts actions on a bounded channel; a timer tick drives replay and rates. The
//! terminal is restored on every way out: normal exit, error, panic, and Ctrl-C (which arrives as
//! a key in raw mode).

use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use weft_trace::Trace;

use crate::grow::{Growing, LineParser};
use crate::live::{Follower, LiveConfig, LiveMsg};
use crate::model::Model;
use crate::state::{Action, App, Config};

/// What to browse.
pub enum Source {
    /// A trace already read (files, a directory, an imported log); `label` names it.
    Trace {
        /// The events.
        trace: Box<Trace>,
        /// Shown in the status bar.
        label: String,
    },
    /// A large trace opened with a first look: `first` (its first events, from
    /// `Trace::read_prefix`) is shown at once while `rest` reads the whole on another thread;
    /// the whole, analysed, then replaces it ([`Action::Loaded`]). If `rest` fails, the program
    /// ends with its message ([`TuiError::Load`]), as a failed read before the screen would.
    Loading {
        /// The first events.
        first: Box<Trace>,
        /// Reads the whole trace; its error is the message to end with.
        rest: Loader,
        /// Shown in the status bar.
        label: String,
    },
    /// A collector followed live.
    Live(LiveConfig),
}

/// Inputs at least this large (in bytes, as stored) open with a first look
/// ([`Source::Loading`]); smaller ones are read and analysed whole before the first frame in
/// well under a second.
pub const FIRST_LOOK_MIN_BYTES: u64 = 32 << 20;

/// The first look's share of the first input: some 13,000 events of 300 bytes, more than any
/// screen shows, read and analysed in tens of milliseconds.
pub const FIRST_LOOK_BYTES: usize = 4 << 20;

/// Reads a whole trace on the loading thread of [`Source::Loading`].
pub type Loader = Box<dyn FnOnce() -> Result<Trace, String> + Send>;

/// Everything `weft tui` was asked for.
pub struct Options {
    /// What to browse.
    pub source: Source,
    /// Display options.
    pub config: Config,
    /// Start a recorded trace's replay from the first event, playing.
    pub replay: bool,
    /// Most events a live source keeps; later ones are counted as dropped.
    pub max_events: u64,
    /// Work to finish before the terminal is given back, when the user quits (e.g. `weft demo`
    /// stopping its replicas and collector): the screen says what is happening meanwhile.
    pub on_quit: Option<OnQuit>,
}

/// A hook run on quit, with a line of text to show while it runs.
pub struct OnQuit {
    /// What the status line says meanwhile.
    pub message: String,
    /// The work.
    pub run: Box<dyn FnOnce()>,
}

/// Why the TUI could not run.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    /// Standard input or output is not a terminal.
    #[error("weft tui needs an interactive terminal (stdin and stdout are not both terminals)")]
    NotATerminal,
    /// Setting up, drawing to or reading the terminal failed.
    #[error("terminal: {0}")]
    Terminal(#[from] io::Error),
    /// The whole of a trace opened with a first look could not be read: the loader's message,
    /// which names its own place (`FILE:LINE:COL: reason`).
    #[error("{0}")]
    Load(String),
}

/// Runs the TUI until the user quits.
pub fn run(opts: Options) -> Result<(), TuiError> {
    use std::io::IsTerminal;
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        if let Some(hook) = opts.on_quit {
            (hook.run)();
        }
        return Err(TuiError::NotATerminal);
    }
    let (tx, rx) = sync_channel::<Action>(256);
    let (mut app, live) = match opts.source {
        Source::Trace { trace, label } => {
            // Big traces take seconds to analyse: say so before the screen is taken over.
            if trace.len() >= 100_000 && io::stderr().is_terminal() {
                eprintln!("weft tui: analysing {} events…", trace.len());
            }
            let model = Arc::new(Model::build(*trace));
            (
                App::new(model, label, opts.config).with_replay(opts.replay),
                None,
            )
        }
        Source::Loading { first, rest, label } => {
            // The whole is read while the first look is analysed and shown.
            spawn_loader(rest, tx.clone());
            let model = Arc::new(Model::build(*first));
            let app = App::new(model, label, opts.config)
                .loading()
                .with_replay(opts.replay);
            (app, None)
        }
        Source::Live(cfg) => {
            let app = App::live(&cfg.url, opts.config);
            (app, Some(LiveSource::spawn(cfg, opts.max_events, tx)))
        }
    };
    let mut on_quit = opts.on_quit;
    let result = (|| {
        let _guard = TerminalGuard::enter(opts.config.mouse)?;
        let mut terminal: Terminal<CrosstermBackend<Stdout>> =
            Terminal::new(CrosstermBackend::new(io::stdout()))?;
        let result = event_loop(&mut terminal, &mut app, &rx, live.as_ref());
        if let Some(hook) = on_quit.take() {
            app.message = Some(hook.message);
            let _ = terminal.draw(|f| crate::render::render(&app, f));
            (hook.run)();
        }
        result
    })();
    // The hook runs even when the terminal could not be set up.
    if let Some(hook) = on_quit.take() {
        (hook.run)();
    }
    if let Some(live) = live {
        live.stop();
    }
    match app.failed.take() {
        Some(why) if result.is_ok() => Err(TuiError::Load(why)),
        _ => result,
    }
}

/// Starts the loading thread of [`Source::Loading`]: the whole trace read by `rest` and
/// analysed, posted as [`Action::Loaded`], or [`Action::LoadFailed`] with the reason, also when
/// reading or analysing panics (the view never waits for a load that will not come).
pub fn spawn_loader(rest: Loader, ui: SyncSender<Action>) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("weft-tui-load".into())
        .spawn(move || {
            let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                rest().map(|trace| Arc::new(Model::build(trace)))
            }));
            let action = match loaded {
                Ok(Ok(model)) => Action::Loaded(model),
                Ok(Err(why)) => Action::LoadFailed(why),
                Err(payload) => {
                    let what = payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".to_string());
                    Action::LoadFailed(format!("weft tui: loading the trace failed: {what}"))
                }
            };
            // The UI may be gone (the user quit): nothing is waiting then.
            let _ = ui.send(action);
        })
        .expect("spawning a thread")
}

/// Raw mode and the alternate screen for as long as it lives; a panic hook restores them too.
struct TerminalGuard {
    mouse: bool,
}

impl TerminalGuard {
    fn enter(mouse: bool) -> io::Result<TerminalGuard> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore(true);
            previous(info);
        }));
        enable_raw_mode()?;
        let guard = TerminalGuard { mouse };
        execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)?;
        if mouse {
            execute!(io::stdout(), EnableMouseCapture)?;
        }
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore(self.mouse);
        let _ = std::panic::take_hook();
    }
}

fn restore(mouse: bool) {
    if mouse {
        let _ = execute!(io::stdout(), DisableMouseCapture);
    }
    let _ = execute!(io::stdout(), LeaveAlternateScreen, cursor::Show);
    let _ = disable_raw_mode();
}

fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    app: &mut App,
    rx: &Receiver<Action>,
    live: Option<&LiveSource>,
) -> Result<(), TuiError> {
    let size = terminal.size()?;
    app.apply(Action::Resize {
        w: size.width,
        h: size.height,
    });
    // SIGTERM, SIGHUP (the terminal went away) and SIGINT sent from outside end the loop like
    // `q`, so the terminal is restored and any on-quit work runs. (Ctrl-C typed in the terminal
    // arrives as a key in raw mode.)
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    #[cfg(unix)]
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
    ] {
        let _ = signal_hook::flag::register(sig, stop.clone());
    }
    let mut last = Instant::now();
    let mut arrived = 0u64;
    loop {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            app.apply(Action::Quit);
        }
        terminal.draw(|f| crate::render::render(app, f))?;
        let busy = app.live.is_some()
            || app.loading.is_some()
            || app.replay.as_ref().is_some_and(|r| r.playing);
        let wait = if busy {
            Duration::from_millis(33)
        } else {
            Duration::from_millis(250)
        };
        if crossterm::event::poll(wait)? {
            // Take everything already queued, so a held key does not lag behind the screen.
            loop {
                let ev = crossterm::event::read()?;
                if let Some(a) = crate::keys::action(&ev, app.input_mode()) {
                    app.apply(a);
                }
                if app.quit || !crossterm::event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
        while let Ok(a) = rx.try_recv() {
            app.apply(a);
        }
        // Arrivals are counted by the follower as lines come off the network, so the rate is
        // the arrival rate whatever the workers are busy with.
        if let Some(live) = live {
            let now = live.arrived();
            if now > arrived {
                app.apply(Action::Received(now - arrived));
                arrived = now;
            }
        }
        let now = Instant::now();
        app.apply(Action::Tick(now - last));
        last = now;
        if app.quit {
            return Ok(());
        }
    }
}

/// A live source: the follower's thread, a parser thread that parses each batch of received
/// lines once, and a model thread that feeds the batches to the incremental engine and extends
/// the model ([`Growing`]), posting snapshots to the UI.
pub struct LiveSource {
    follower: Follower,
    arrived: Arc<AtomicU64>,
    threads: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl LiveSource {
    /// Starts following `cfg.url`, posting actions to `ui`.
    pub fn spawn(cfg: LiveConfig, max_events: u64, ui: SyncSender<Action>) -> LiveSource {
        let (ltx, lrx) = sync_channel::<LiveMsg>(64);
        let label = cfg.url.clone();
        let follower = Follower::spawn(cfg, ltx);
        let arrived = follower.arrived();
        let stop = Arc::new(AtomicBool::new(false));
        let (btx, brx) = sync_channel::<Trace>(BATCHES_QUEUED);
        let (flag, to_ui) = (stop.clone(), ui.clone());
        let parser = std::thread::Builder::new()
            .name("weft-tui-parse".into())
            .spawn(move || parse_worker(&label, &lrx, &btx, &to_ui, max_events, &flag))
            .expect("spawning a thread");
        let flag = stop.clone();
        let modeler = std::thread::Builder::new()
            .name("weft-tui-model".into())
            .spawn(move || model_worker(&brx, &ui, &flag))
            .expect("spawning a thread");
        LiveSource {
            follower,
            arrived,
            threads: vec![parser, modeler],
            stop,
        }
    }

    /// Events read off the stream so far (counted on arrival, before any parsing).
    pub fn arrived(&self) -> u64 {
        self.arrived.load(Ordering::Relaxed)
    }

    /// The counter behind [`LiveSource::arrived`], for another thread to watch.
    pub fn arrivals(&self) -> Arc<AtomicU64> {
        self.arrived.clone()
    }

    /// Stops the follower and the workers.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.follower.stop();
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Parsed batches waiting for the model thread: when it falls behind, the parser waits, then the
/// follower, then the collector's stream (nothing is dropped).
const BATCHES_QUEUED: usize = 16;
/// Most bytes of received lines parsed as one batch.
const PARSE_BYTES: usize = 4 << 20;
/// A new model is posted at most this often while batches keep coming, and as soon as the
/// model thread has caught up.
const PUBLISH_EVERY: Duration = Duration::from_millis(100);
/// The findings are read from the engine at most this often while batches keep coming (and
/// never more often than every four times what the last read took), and once batches stop for
/// [`IDLE`].
const REPORT_EVERY: Duration = Duration::from_millis(250);
/// No batch for this long: the stream is idle.
const IDLE: Duration = Duration::from_millis(100);

/// The parser thread: received lines, capped at `max_events`, parsed once into batches for the
/// model thread; the follower's other messages go straight to the UI.
fn parse_worker(
    label: &str,
    rx: &Receiver<LiveMsg>,
    batches: &SyncSender<Trace>,
    ui: &SyncSender<Action>,
    max_events: u64,
    stop: &AtomicBool,
) {
    let mut parser = LineParser::new(label);
    let mut kept = 0u64;
    let mut over_cap_reported = false;
    let mut lines: Vec<u8> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let mut msg = match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        // Everything already queued is parsed as one batch (up to PARSE_BYTES).
        while let Some(m) = msg.take() {
            let action = match m {
                LiveMsg::Lines { bytes, count, .. } => {
                    let room = max_events.saturating_sub(kept);
                    if count <= room {
                        lines.extend_from_slice(&bytes);
                        kept += count;
                    } else {
                        // Keep the lines that fit; the rest are counted, not silently lost.
                        let mut taken = 0;
                        for line in bytes.split_inclusive(|&b| b == b'\n') {
                            if taken == room {
                                break;
                            }
                            lines.extend_from_slice(line);
                            taken += 1;
                        }
                        kept += taken;
                        if !over_cap_reported {
                            over_cap_reported = true;
                            let _ = ui.send(Action::Skipped(format!(
                                "live trace reached --max-events {max_events}: later events are counted, not shown"
                            )));
                        }
                        let _ = ui.send(Action::Dropped(count - taken));
                    }
                    None
                }
                LiveMsg::Skipped { position, reason } => Some(Action::Skipped(format!(
                    "stream position {position} skipped: {reason}"
                ))),
                LiveMsg::Link(l) => Some(Action::Link(l)),
                LiveMsg::Stats(s) => Some(Action::Stats(s)),
            };
            if let Some(a) = action {
                if ui.send(a).is_err() {
                    return;
                }
            }
            if lines.len() < PARSE_BYTES {
                msg = rx.try_recv().ok();
            }
        }
        if lines.is_empty() {
            continue;
        }
        match parser.parse(&lines) {
            Ok(batch) => {
                if batches.send(batch).is_err() {
                    return;
                }
            }
            Err(e) => {
                if ui
                    .send(Action::Skipped(format!("received lines not read: {e}")))
                    .is_err()
                {
                    return;
                }
            }
        }
        lines.clear();
    }
}

/// The model thread: every batch fed to the engine and grown into the model; snapshots posted
/// to the UI (see [`PUBLISH_EVERY`], [`REPORT_EVERY`]).
fn model_worker(rx: &Receiver<Trace>, ui: &SyncSender<Action>, stop: &AtomicBool) {
    let mut grown = Growing::new();
    let mut published = Instant::now();
    let mut dirty = false;
    let mut reported = Instant::now();
    let mut report_cost = Duration::ZERO;
    let feed = |grown: &mut Growing, batch: Trace| {
        if grown.feed(batch).rebuilt {
            // Laid out from scratch (a causality cycle): say why the view lags.
            let _ = ui.send(Action::Analyzing(true));
        }
    };
    while !stop.load(Ordering::Relaxed) {
        let (idle, caught_up) = match rx.recv_timeout(IDLE) {
            Ok(batch) => {
                feed(&mut grown, batch);
                dirty = true;
                // What is already queued too, for at most a publishing period.
                let caught_up = loop {
                    if published.elapsed() >= PUBLISH_EVERY {
                        break false;
                    }
                    match rx.try_recv() {
                        Ok(batch) => feed(&mut grown, batch),
                        Err(TryRecvError::Empty) => break true,
                        Err(TryRecvError::Disconnected) => return,
                    }
                };
                (false, caught_up)
            }
            Err(RecvTimeoutError::Timeout) => (true, true),
            Err(RecvTimeoutError::Disconnected) => return,
        };
        // The events first: the view never waits for the findings.
        if dirty && (caught_up || published.elapsed() >= PUBLISH_EVERY) {
            if ui.send(Action::Model(grown.snapshot())).is_err() {
                return;
            }
            published = Instant::now();
            dirty = false;
        }
        // The engine's report costs in proportion to the findings and the keys written since
        // the last read: it is read at most every REPORT_EVERY and every four times its cost.
        let report_due = grown.report_stale()
            && (idle || reported.elapsed() >= REPORT_EVERY.max(report_cost * 4));
        if report_due {
            let t = Instant::now();
            grown.refresh_report();
            report_cost = t.elapsed();
            reported = Instant::now();
            if ui.send(Action::Model(grown.snapshot())).is_err() {
                return;
            }
            let _ = ui.send(Action::Analyzing(false));
            published = Instant::now();
            dirty = false;
        }
    }
}
