//! `weft demo`: flags → demo configuration → start → TUI (or wait) → stop → `weft check`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weft_demo::{Demo, DemoConfig, DemoSummary};
use weft_sim::config::{parse_duration, parse_replica};
use weft_tui::live::LiveConfig;
use weft_tui::state::Config;
use weft_tui::{OnQuit, Options, Source};

use crate::cli::{CheckArgs, DemoArgs, FailOn, Format};
use crate::EXIT_INPUT;

pub fn run(a: &DemoArgs) -> ExitCode {
    let cfg = match config(a) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("weft demo: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let duration = match parse_duration("--duration", &a.duration) {
        Ok(ns) => Duration::from_nanos(ns),
        Err(e) => {
            eprintln!("weft demo: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let tui = !a.no_tui && std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let replicas = cfg.sim.replicas;
    let demo = match Demo::start(cfg) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("weft demo: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    eprintln!(
        "weft demo: {replicas} simulated replicas → OpenTelemetry (OTLP/HTTP) → collector at {} (data in {})",
        demo.url(),
        demo.data_dir().display()
    );
    let mut tui_error = None;
    let stopped: Arc<Mutex<Option<Result<DemoSummary, String>>>> = Arc::default();
    if tui {
        // q or Ctrl-C: the replicas stop, then the collector flushes and stops, and only then
        // is the terminal given back.
        let slot = stopped.clone();
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
                    if let Ok(mut s) = slot.lock() {
                        *s = Some(r);
                    }
                }),
            }),
        };
        tui_error = weft_tui::run(opts).err();
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
    }
    let outcome = stopped.lock().ok().and_then(|mut s| s.take());
    let summary = match outcome {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            eprintln!("weft demo: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
        None => {
            // The TUI could not start (e.g. the terminal refused raw mode): stop here.
            eprintln!(
                "weft demo: {}",
                tui_error.map_or("stopped".to_string(), |e| e.to_string())
            );
            return ExitCode::from(EXIT_INPUT);
        }
    };
    print_summary(&summary);
    if let Some(e) = tui_error {
        eprintln!("weft demo: {e}");
        return ExitCode::from(EXIT_INPUT);
    }
    if tui {
        return ExitCode::SUCCESS;
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

fn config(a: &DemoArgs) -> Result<DemoConfig, String> {
    let mut sim = weft_demo::default_sim(a.replicas, a.rate, crate::sim::profile(a.profile));
    sim.workload = crate::sim::workload(a.workload);
    sim.sync = crate::sim::sync(a.sync);
    sim.seed = a.seed;
    if let Some(b) = a.bug {
        let r = parse_replica("--bug-replica", &a.bug_replica, a.replicas)
            .map_err(|e| e.to_string())?;
        sim.bug = Some((crate::sim::bug(b), r));
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
