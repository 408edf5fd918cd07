//! `weft tui`: read the trace (or connect), then hand the terminal to weft-tui.

use std::io::IsTerminal;

use weft_tui::live::LiveConfig;
use weft_tui::state::Config;
use weft_tui::{Options, Source};

use crate::cli::TuiArgs;
use crate::error::{CliError, Verdict};

/// What this subcommand's messages start with.
const COMMAND: &str = "weft tui";

/// Longest line a live stream may carry (the collector's own default limit).
const MAX_LIVE_LINE: usize = 1 << 20;

pub fn run(args: &TuiArgs) -> Result<Verdict, CliError> {
    let source = match &args.connect {
        Some(url) => {
            // A bad CA file is refused now, not shown as a link that never comes up.
            if let Some(ca) = &args.ca_cert {
                weft_tui::live::check_ca_cert(ca)
                    .map_err(|e| CliError::input(COMMAND, format_args!("--ca-cert {e}")))?;
            }
            Source::Live(LiveConfig {
                url: url.clone(),
                token: args.token.clone(),
                ca_cert: args.ca_cert.clone(),
                max_line: MAX_LIVE_LINE,
            })
        }
        None if args.inputs.is_empty() => {
            return Err(CliError::input(
                COMMAND,
                "nothing to show: give trace files or directories, or --connect URL to follow a collector",
            ));
        }
        None if args.inputs.iter().any(|p| p.as_os_str() == "-") => {
            return Err(CliError::input(
                COMMAND,
                "the keyboard is read from the terminal, so the trace cannot come from stdin; save it to a file first",
            ));
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
            let trace =
                crate::interop::load_trace(&args.inputs, args.input, &args.shiviz, args.lenient)
                    .map_err(CliError::bare)?;
            Source::Trace {
                trace: Box::new(trace),
                label,
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
    weft_tui::run(opts).map_err(|e| CliError::input(COMMAND, e))?;
    Ok(Verdict::Pass)
}
