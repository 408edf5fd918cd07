//! `weft check`: read → analyze → render → exit status.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use weft_analyzer::render::{self, TextOptions};
use weft_analyzer::FailOn;
use weft_trace::{expand_inputs, ReadOptions, Trace};

use crate::cli::{self, CheckArgs, Format};

/// Exit status for usage and input errors.
pub const EXIT_INPUT: u8 = 2;

pub fn run(args: &CheckArgs) -> ExitCode {
    let opts = ReadOptions { lenient: args.lenient, ..ReadOptions::default() };
    let trace = match expand_inputs(&args.inputs).and_then(|inputs| Trace::read_inputs(&inputs, &opts)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let report = weft_analyzer::analyze(&trace);
    drop(trace);
    let fail_on = match args.fail_on {
        cli::FailOn::Error => FailOn::Error,
        cli::FailOn::Warning => FailOn::Warning,
        cli::FailOn::Conflict => FailOn::Conflict,
    };
    let out = match args.format {
        Format::Json => render::json(&report),
        Format::Junit => render::junit(&report, fail_on),
        Format::Text => {
            let color = !args.no_color
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal();
            render::text(&report, &TextOptions { color, limit: args.limit, fail_on })
        }
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("weft: writing the report: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    }
    ExitCode::from(u8::from(report.fails(fail_on)))
}
