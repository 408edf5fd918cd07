//! The flags of `weft check`: inputs, output form and the level that fails.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use weft_analyzer::FailOn;

use super::input::{InputFormat, ShivizOptions};

/// Output forms of `weft check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A verdict line, then findings grouped by kind, with evidence.
    Text,
    /// The weft-report/1 JSON object, exactly as the spec defines it.
    Json,
    /// JUnit XML: one test case per violation code and per key with conflicts.
    Junit,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Trace files (.jsonl, .ndjson, .jsonl.gz, .parquet; gzip data is recognised under any name),
    /// directories, or - for stdin. No path reads stdin. Several inputs are one trace. A
    /// directory is every trace file in it and in its subdirectories, in path order; symbolic
    /// links to files and directories are followed (each file and directory is read once, so
    /// a link loop ends), hidden directories are not entered, and every entry not read is named
    /// on stderr ("weft: skipped DIR/notes.txt: not a trace file ...").
    #[arg(value_name = "FILE|DIR|-")]
    pub inputs: Vec<PathBuf>,

    /// Output form, e.g. --format json.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// What makes the exit status 1, e.g. --fail-on conflict.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,

    /// Skip malformed lines (each becomes a malformed-line warning) instead of failing with
    /// status 2.
    #[arg(long)]
    pub lenient: bool,

    /// Text form: show at most N findings per group, e.g. --limit 50 (0 = all).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,

    /// Never colour the text form (colour is used only on a terminal, and never when NO_COLOR
    /// is set).
    #[arg(long)]
    pub no_color: bool,

    /// How the inputs are read, e.g. --input shiviz for a GoVector log, --input automerge for
    /// an Automerge document.
    #[arg(long, value_enum, default_value_t = InputFormat::Weft)]
    pub input: InputFormat,

    #[command(flatten)]
    pub shiviz: ShivizOptions,
}
