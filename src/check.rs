//! `weft check`: read → analyze → render → exit status.

use std::io::{IsTerminal, Write};

use weft_analyzer::render::{self, TextOptions};

use crate::cli::{CheckArgs, Format};
use crate::error::{CliError, Verdict};

pub fn run(args: &CheckArgs) -> Result<Verdict, CliError> {
    let t0 = std::time::Instant::now();
    let timing = std::env::var_os("WEFT_TIMING").is_some();
    let trace = crate::interop::load_trace(&args.inputs, args.input, &args.shiviz, args.lenient)
        .map_err(CliError::bare)?;
    if timing {
        eprintln!("read: {:?}", t0.elapsed());
    }
    // The incremental engine fed everything as one batch (it takes the trace over).
    let report = weft_analyzer::Engine::check(trace);
    if timing {
        eprintln!("read+analyze: {:?}", t0.elapsed());
    }
    let fail_on = args.fail_on;
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
    // A closed pipe (`weft check | head`) is not an error, any other write failure is. The
    // verdict is the report's either way: a CI gate that pipes the report into `head` must
    // still fail on findings (the spec's exit status 1).
    let verdict = Verdict::fail_if(report.fails(fail_on));
    // The process exits next: freeing a report of millions of conflicts one allocation at a
    // time took half a second (13.5 M conflicts), for memory the exit returns at once.
    std::mem::forget(report);
    match written.map_err(|e| CliError::stdout("writing the report", &e).within("weft")) {
        Ok(()) | Err(CliError::BrokenPipe) => Ok(verdict),
        Err(e) => Err(e),
    }
}
