//! `weft check`: read → analyze → render → exit status.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use weft_analyzer::render::{self, TextOptions};
use weft_analyzer::FailOn;

use crate::cli::{self, CheckArgs, Format};
use crate::EXIT_INPUT;

pub fn run(args: &CheckArgs) -> ExitCode {
    let t0 = std::time::Instant::now();
    let timing = std::env::var_os("WEFT_TIMING").is_some();
    let trace =
        match crate::interop::load_trace(&args.inputs, args.input, &args.shiviz, args.lenient) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(EXIT_INPUT);
            }
        };
    if timing {
        eprintln!("read: {:?}", t0.elapsed());
    }
    // The incremental engine fed everything as one batch (it takes the trace over).
    let report = weft_analyzer::Engine::check(trace);
    if timing {
        eprintln!("read+analyze: {:?}", t0.elapsed());
    }
    let fail_on = match args.fail_on {
        cli::FailOn::Error => FailOn::Error,
        cli::FailOn::Warning => FailOn::Warning,
        cli::FailOn::Conflict => FailOn::Conflict,
    };
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = match args.format {
        Format::Json => render::write_json(&report, &mut stdout),
        Format::Junit => stdout.write_all(render::junit(&report, fail_on).as_bytes()),
        Format::Text => {
            let color = !args.no_color
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal();
            let text = render::text(
                &report,
                &TextOptions {
                    color,
                    limit: args.limit,
                    fail_on,
                },
            );
            stdout.write_all(text.as_bytes())
        }
    };
    let written = written.and_then(|()| stdout.flush());
    if timing {
        eprintln!("written: {:?}", t0.elapsed());
    }
    finish(written, report.fails(fail_on))
}

/// The exit status once the report is written: a closed pipe (`weft check | head`) is not an
/// error, any other write failure is.
fn finish(written: std::io::Result<()>, fails: bool) -> ExitCode {
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("weft: writing the report: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    }
    ExitCode::from(u8::from(fails))
}
