//! `weft tui`: read the trace (or connect), then hand the terminal to weft-tui.

use std::io::IsTerminal;
use std::process::ExitCode;

use weft_tui::live::LiveConfig;
use weft_tui::state::Config;
use weft_tui::{Options, Source};

use crate::cli::TuiArgs;
use crate::EXIT_INPUT;

/// Longest line a live stream may carry (the collector's own default limit).
const MAX_LIVE_LINE: usize = 1 << 20;

pub fn run(args: &TuiArgs) -> ExitCode {
    let source = match &args.connect {
        Some(url) => {
            // A bad CA file is refused now, not shown as a link that never comes up.
            if let Some(ca) = &args.ca_cert {
                if let Err(e) = weft_tui::live::check_ca_cert(ca) {
                    eprintln!("weft tui: --ca-cert {e}");
                    return ExitCode::from(EXIT_INPUT);
                }
            }
            Source::Live(LiveConfig {
                url: url.clone(),
                token: args.token.clone(),
                ca_cert: args.ca_cert.clone(),
                max_line: MAX_LIVE_LINE,
            })
        }
        None if args.inputs.is_empty() => {
            eprintln!(
                "weft tui: nothing to show: give trace files or directories, or --connect URL to follow a collector"
            );
            return ExitCode::from(EXIT_INPUT);
        }
        None if args.inputs.iter().any(|p| p.as_os_str() == "-") => {
            eprintln!(
                "weft tui: the keyboard is read from the terminal, so the trace cannot come from stdin; save it to a file first"
            );
            return ExitCode::from(EXIT_INPUT);
        }
        None => {
            let label = args
                .inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" ");
            if std::io::stderr().is_terminal() {
                eprintln!("weft tui: reading {label}…");
            }
            match crate::interop::load_trace(&args.inputs, args.input, &args.shiviz, args.lenient) {
                Ok(trace) => Source::Trace {
                    trace: Box::new(trace),
                    label,
                },
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(EXIT_INPUT);
                }
            }
        }
    };
    let config = Config {
        color: !args.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        ascii: args.ascii,
        mouse: args.mouse,
    };
    let opts = Options {
        source,
        config,
        replay: args.replay,
        max_events: args.max_events,
        on_quit: None,
    };
    match weft_tui::run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weft tui: {e}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}
