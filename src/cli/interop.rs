//! The flags of `weft import` (one subcommand per format) and `weft export`: converting from and
//! to other tools' formats.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::input::{InputFormat, ShivizOptions};

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub format: ImportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ImportFormat {
    /// ShiViz / GoVector vector-clock logs (GoVector, CVector, JVector, DinvVector, the
    /// DistributedClocks tracing server, TLA+ traces written for ShiViz).
    ///
    /// One weft event per log event: replica = host, seq = the host's own clock entry, vc = the
    /// clock, the event text and every other named group in attrs. Lines that match nothing are
    /// skipped and counted; events whose clocks break the host's own counter are reported with
    /// their line numbers on stderr.
    ///
    /// Examples:
    ///   weft import shiviz fixtures/shiviz/trace_log_shiviz.txt -o echo.jsonl
    ///   weft import shiviz multi.log --split traces/
    #[command(verbatim_doc_comment)]
    Shiviz(ShivizImportArgs),

    /// Automerge documents: the output of save() / Automerge.save(), and files of changes from
    /// saveIncremental() / getChanges(). Several files are one document, in any order.
    ///
    /// One weft event per operation: replica = the actor id (hex), seq = the op's place in its
    /// actor's history, lamport = the op counter (so weft's LWW winner is Automerge's), parents
    /// = the change's deps, wall_ns = the change's time, the change hash and message in attrs.
    /// Map puts, deletes (value null, attrs.action delete) and counter increments are writes
    /// keyed by the object's path (todos/3/done); list and text operations are local events
    /// with their object, element and value in attrs. A file that is not Automerge data, is
    /// truncated or corrupt, fails its checksum, or needs changes no file holds: exit 2.
    ///
    /// Examples:
    ///   weft import automerge doc.automerge -o trace.jsonl && weft check trace.jsonl
    ///   weft import automerge snapshot.automerge incremental-*.bin -o trace.jsonl
    ///   weft tui --input automerge doc.automerge        # then press c for the conflicts
    #[command(verbatim_doc_comment)]
    Automerge(CrdtImportArgs),

    /// Loro documents: snapshots and update exports. Several files are one document, in any
    /// order.
    ///
    /// One weft event per operation: replica = the peer (named so that weft's replica order is
    /// Loro's peer order), lamport = Loro's Lamport timestamp, parents = the change's deps. A
    /// file that is not a Loro document, is truncated or corrupt, or fails its checksum: exit 2.
    ///
    /// Examples:
    ///   weft import loro doc.loro -o trace.jsonl && weft check trace.jsonl
    ///   weft tui --input loro snapshot.loro updates.bin
    #[command(verbatim_doc_comment)]
    Loro(LoroImportArgs),
}

#[derive(Debug, Args)]
pub struct LoroImportArgs {
    #[command(flatten)]
    pub common: CrdtImportArgs,

    /// Leave out the changes whose dependencies no input holds (what Loro keeps "pending")
    /// instead of failing with status 2: for looking at a partial set of update files. The
    /// trace then shows only the history that can be applied.
    #[arg(long)]
    pub allow_pending: bool,
}

#[derive(Debug, Args)]
pub struct CrdtImportArgs {
    /// Document files (several are one document, in any order), or - for stdin.
    #[arg(value_name = "FILE|-", required = true)]
    pub inputs: Vec<PathBuf>,

    /// Where to write the trace (default stdout), e.g. -o trace.jsonl.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ShivizImportArgs {
    /// Log files (several are one log, in order), or - for stdin.
    #[arg(value_name = "FILE|-", required = true)]
    pub inputs: Vec<PathBuf>,

    #[command(flatten)]
    pub shiviz: ShivizOptions,

    /// Write one trace per execution into this directory (named after the execution).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["execution", "out"])]
    pub split: Option<PathBuf>,

    /// Where to write the trace (default stdout), e.g. -o trace.jsonl.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Skip events with malformed clocks (reported) instead of failing with status 2.
    #[arg(long)]
    pub lenient: bool,
}

/// Export targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A ShiViz log (GoVector format with its header), with implied vector clocks.
    Shiviz,
    /// Graphviz DOT: a cluster per replica, program-order and cross edges, findings coloured.
    Dot,
    /// A Mermaid sequence diagram (small traces).
    Mermaid,
    /// Apache Parquet, one row per event (columns in the README), for archives and query
    /// engines such as DuckDB; needs -o FILE or a redirected stdout. `weft check`, `weft tui`
    /// and `weft export` read .parquet files back.
    Parquet,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Trace files or directories (or logs and documents with --input), - for stdin.
    #[arg(value_name = "FILE|DIR|-", required = true)]
    pub inputs: Vec<PathBuf>,

    /// What to write, e.g. --to dot.
    #[arg(long, value_enum)]
    pub to: ExportFormat,

    /// Where to write (default stdout), e.g. -o trace.dot.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// DOT: drop edges implied by other paths.
    #[arg(long)]
    pub transitive_reduction: bool,

    /// Only the causal neighbourhood of this event, e.g. --around r2@17 (with --depth).
    #[arg(long, value_name = "REPLICA@SEQ")]
    pub around: Option<String>,

    /// With --around: how many edges away, either direction.
    #[arg(long, value_name = "N", default_value_t = 2, requires = "around")]
    pub depth: u32,

    /// How the inputs are read, e.g. --input automerge for an Automerge document.
    #[arg(long, value_enum, default_value_t = InputFormat::Weft)]
    pub input: InputFormat,

    #[command(flatten)]
    pub shiviz: ShivizOptions,

    /// Skip malformed lines instead of failing.
    #[arg(long)]
    pub lenient: bool,
}
