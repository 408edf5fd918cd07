//! `weft demo`: flags → demo configuration → start → TUI (or wait) → stop → `weft check`.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weft_analyzer::FailOn;
use weft_demo::{Demo, DemoConfig, DemoSummary};
use weft_sim::config::{parse_duration, parse_replica};
use weft_tui::live::LiveConfig;
use weft_tui::state::Config;
use weft_tui::{OnQuit, Options, Source};

use crate::cli::{CheckArgs, DemoArgs, Format};
use crate::error::{CliError, Verdict};

/// What this subcommand's messages start with.
const COMMAND: &str = "weft demo";

/// Where the demo's stop hands its result over (from the TUI's quit key, or after the wait).
type Stopped = Arc<Mutex<Option<Result<DemoSummary, String>>>>;

pub fn run(a: &DemoArgs) -> Result<Verdict, CliError> {
    let input = |e| CliError::input(COMMAND, e);
    let cfg = config(a).map_err(input)?;
    let duration = parse_duration("--duration", &a.duration)
        .map(Duration::from_nanos)
        .map_err(|e| input(e.to_string()))?;
    let tui = !a.no_tui && std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let replicas = cfg.sim.replicas;
    let demo = Demo::start(cfg).map_err(|e| input(e.to_string()))?;
    eprintln!(
        "weft demo: {replicas} simulated replicas → OpenTelemetry (OTLP/HTTP) → collector at {} (data in {})",
        demo.url(),
        demo.data_dir().display()
    );
    let stopped: Stopped = Arc::default();
    let tui_error = if tui {
        run_tui(a, demo, stopped.clone())
    } else {
        eprintln!(
            "weft demo: running for {:.1} s without the TUI (Ctrl-C stops early)",
            duration.as_secs_f64()
        );
        wait(duration);
        let r = demo.stop().map_err(|e| e.to_string());
        if let Ok(mut s) = stopped.lock() {
            *s = Some(r);
        }
        None
    };
    let outcome = stopped.lock().ok().and_then(|mut s| s.take());
    let summary = match outcome {
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err(input(e)),
        // The TUI could not start (e.g. the terminal refused raw mode): stop here.
        None => return Err(input(tui_error.unwrap_or_else(|| "stopped".to_string()))),
    };
    print_summary(&summary);
    if let Some(e) = tui_error {
        return Err(input(e));
    }
    if tui {
        return Ok(Verdict::Pass);
    }
    crate::check::run(&CheckArgs {
        inputs: vec![summary.data.clone()],
        format: Format::Text,
        fail_on: FailOn::Error,
        lenient: false,
        limit: 20,
        no_color: a.no_color,
        input: crate::cli::InputFormat::Weft,
        shiviz: Default::default(),
    })
}

/// Runs the live TUI on the demo's collector until q or Ctrl-C, which stop the replicas, then
/// the collector (flushing), and only then give the terminal back; the stop's result lands in
/// `stopped`. The TUI's own error, if any.
fn run_tui(a: &DemoArgs, demo: Demo, stopped: Stopped) -> Option<String> {
    let opts = Options {
        source: Source::Live(LiveConfig {
            url: demo.url(),
            token: None,
            ca_cert: None,
            max_line: 1 << 20,
        }),
        config: Config {
            color: !a.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            ascii: a.ascii,
            mouse: a.mouse,
        },
        replay: false,
        max_events: 2_000_000,
        on_quit: Some(OnQuit {
            message: "stopping: replicas, then the collector (flushing)…".to_string(),
            run: Box::new(move || {
                let r = demo.stop().map_err(|e| e.to_string());
                if let Ok(mut s) = stopped.lock() {
                    *s = Some(r);
                }
            }),
        }),
    };
    weft_tui::run(opts).err().map(|e| e.to_string())
}

fn config(a: &DemoArgs) -> Result<DemoConfig, String> {
    let mut sim = weft_demo::default_sim(a.replicas, a.rate, a.profile);
    sim.workload = a.workload;
    sim.sync = a.sync;
    sim.seed = a.seed;
    if let Some(b) = a.bug {
        let r = parse_replica("--bug-replica", &a.bug_replica, a.replicas)
            .map_err(|e| e.to_string())?;
        sim.bug = Some((b, r));
    }
    if !(a.rate > 0.0 && a.rate <= 100_000.0) {
        return Err(format!(
            "--rate {}: must be above 0 and at most 100000",
            a.rate
        ));
    }
    Ok(DemoConfig {
        sim,
        data: a.data.clone(),
        speed: 1.0,
    })
}

/// Sleeps for `d`, or until Ctrl-C / SIGTERM.
fn wait(d: Duration) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        std::thread::sleep(d);
        return;
    };
    rt.block_on(async {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        #[cfg(unix)]
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminated = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = tokio::signal::ctrl_c() => eprintln!("weft demo: interrupted; stopping"),
            _ = terminated => eprintln!("weft demo: terminated; stopping"),
        }
    });
}

fn print_summary(s: &DemoSummary) {
    let per: Vec<String> = s
        .per_replica
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    eprintln!(
        "weft demo: {} events emitted over OTLP ({}), {} stored by the collector, {:.1} s simulated",
        s.emitted,
        per.join(", "),
        s.stored,
        s.sim_time as f64 / 1e9
    );
    if s.clock_mismatches > 0 {
        eprintln!(
            "weft demo: warning: {} stamps from weft-clock differ from the simulator's",
            s.clock_mismatches
        );
    }
    eprintln!(
        "weft demo: data left in {dir}: weft check {dir} · weft tui {dir}",
        dir = s.data.display()
    );
}
