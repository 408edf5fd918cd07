//! `weft tui`: read the trace (or connect), then hand the terminal to weft-tui.

use std::io::IsTerminal;

use std::sync::{Arc, Mutex};

use weft_trace::{Input, Trace};
use weft_tui::live::LiveConfig;
use weft_tui::state::Config;
use weft_tui::{Loader, Options, Source, TuiError, FIRST_LOOK_BYTES, FIRST_LOOK_MIN_BYTES};

use crate::cli::{InputFormat, TuiArgs};
use crate::error::{CliError, Verdict};

/// What this subcommand's messages start with.
const COMMAND: &str = "weft tui";

/// Longest line a live stream may carry (the collector's own default limit).
const MAX_LIVE_LINE: usize = 1 << 20;

pub fn run(args: &TuiArgs) -> Result<Verdict, CliError> {
    // Said once the terminal is given back: the screen is the TUI's while a first look loads.
    let notes: Notes = Arc::default();
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
            match first_look(args, &label, &notes) {
                Some(source) => source,
                None => {
                    if std::io::stderr().is_terminal() {
                        eprintln!("weft tui: reading {label}…");
                    }
                    let trace = crate::interop::load_trace(
                        &args.inputs,
                        args.input,
                        &args.shiviz,
                        args.lenient,
                    )
                    .map_err(CliError::bare)?;
                    Source::Trace {
                        trace: Box::new(trace),
                        label,
                    }
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
    let ran = weft_tui::run(opts);
    for note in notes.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        eprintln!("{note}");
    }
    ran.map_err(|e| match e {
        // The reader's own message, as when it fails before the screen is taken over.
        TuiError::Load(why) => CliError::bare(why),
        e => CliError::input(COMMAND, e),
    })?;
    Ok(Verdict::Pass)
}

/// Notes to say on stderr after the TUI ends.
type Notes = Arc<Mutex<Vec<String>>>;

/// A large weft-trace/1 input opened with a first look ([`Source::Loading`]): its first events
/// shown at once while the whole is read and analysed on another thread. `None` for other
/// formats, inputs under [`FIRST_LOOK_MIN_BYTES`] (the environment variable
/// `WEFT_FIRST_LOOK_MIN_BYTES` sets another size: 0 for always; the tests use small traces),
/// and where `Trace::read_prefix` gives no exact first look (then the whole is read first, and
/// a bad line is said before the screen is taken over).
fn first_look(args: &TuiArgs, label: &str, notes: &Notes) -> Option<Source> {
    if args.input != InputFormat::Weft {
        return None;
    }
    // A path that cannot be expanded is said by the whole read, as without a first look.
    let expanded = weft_trace::expand_paths(&args.inputs).ok()?;
    let stored: u64 = expanded
        .inputs
        .iter()
        .filter_map(|i| match i {
            Input::File(p) | Input::LastSegment(p) => std::fs::metadata(p).ok(),
            Input::Stdin => None,
        })
        .map(|m| m.len())
        .sum();
    let min = std::env::var("WEFT_FIRST_LOOK_MIN_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(FIRST_LOOK_MIN_BYTES);
    if stored < min {
        return None;
    }
    let opts = crate::interop::weft_options(args.lenient);
    let first = Trace::read_prefix(&expanded.inputs, &opts, FIRST_LOOK_BYTES)?;
    crate::interop::say_skipped(&expanded);
    let inputs = expanded.inputs;
    let notes = notes.clone();
    let rest: Loader = Box::new(move || {
        let trace = Trace::read_inputs(&inputs, &opts).map_err(|e| e.to_string())?;
        notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(crate::interop::in_flight_notes(&trace));
        Ok(trace)
    });
    Some(Source::Loading {
        first: Box::new(first),
        rest,
        label: label.to_string(),
    })
}
