//! How inputs are read (`--input` and the ShiViz parser options): shared by `weft check`,
//! `weft tui` and `weft export`, so kept apart from any one subcommand's flags.

use clap::{Args, ValueEnum};

/// How inputs are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// weft-trace/1 NDJSON (files, .gz, directories) or weft's Parquet files.
    Weft,
    /// ShiViz / GoVector logs (see `weft import shiviz --help` for the options).
    Shiviz,
    /// Automerge documents: save() output or concatenated changes (as `weft import automerge`).
    Automerge,
    /// Loro snapshots and updates (as `weft import loro`).
    Loro,
}

/// How a ShiViz / GoVector log is parsed (ShiViz's own semantics).
#[derive(Clone, Debug, Default, Args)]
pub struct ShivizOptions {
    /// The parser regex with named groups host, clock, event (others become attrs). Default: the
    /// file's own header line if it has one, else GoVector's `(?<host>\S*) (?<clock>{.*})\n(?<event>.*)`.
    /// JavaScript habits are accepted (a bare `{` is escaped).
    #[arg(long, value_name = "REGEX")]
    pub regex: Option<String>,

    /// The regex that separates executions (a (?<trace>...) group names them). Default: the
    /// file's header, else none.
    #[arg(long, value_name = "REGEX")]
    pub delimiter: Option<String>,

    /// Which execution to take (1 = the first, the default; the others are counted on stderr).
    #[arg(long, value_name = "N")]
    pub execution: Option<usize>,
}
