//! Command-line definitions (clap). Every flag explains itself with an example.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// weft — causality-graph observability for local-first and CRDT-based systems.
///
/// weft reads traces of replica events (weft-trace/1: newline-delimited JSON with vector clocks,
/// Lamport timestamps, messages and merges), builds their happens-before graph, and reports
/// ordering violations and concurrent conflicting writes.
#[derive(Debug, Parser)]
#[command(
    name = "weft",
    version,
    about,
    long_about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check traces for ordering violations and conflicting writes (a CI gate).
    ///
    /// Reads every input as one trace, builds its happens-before graph and prints a report.
    /// Exit status: 0 when nothing reaches the --fail-on level, 1 when something does, 2 for a
    /// usage or input error (printed as FILE:LINE: reason on stderr).
    ///
    /// Examples:
    ///   weft check trace.jsonl
    ///   weft check weft-data/ --format json > report.json
    ///   weft check a.jsonl b.jsonl.gz --format junit --fail-on conflict > junit.xml
    ///   cat trace.jsonl | weft check -
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
}

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

/// The level at which `weft check` fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail on errors.
    Error,
    /// Fail on errors and warnings.
    Warning,
    /// Fail on errors and conflicts.
    Conflict,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Trace files (.jsonl, .ndjson, .jsonl.gz), directories (every trace file inside, sorted),
    /// or - for stdin. No path reads stdin. Several inputs are one trace.
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
}
