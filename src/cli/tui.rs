//! The flags of `weft tui`: a recorded trace or a live collector, and the terminal's options.

use std::path::PathBuf;

use clap::Args;

use super::input::{InputFormat, ShivizOptions};

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// Trace files or directories (a collector's data directory included), or logs and
    /// documents with --input. A trace of 32 MiB or more shows its first events at once while
    /// the whole is read and analysed (WEFT_FIRST_LOOK_MIN_BYTES sets the size).
    #[arg(value_name = "FILE|DIR", conflicts_with = "connect")]
    pub inputs: Vec<PathBuf>,

    /// Follow a collector live, e.g. --connect http://127.0.0.1:4318 (https:// for a collector
    /// started with --tls-cert).
    #[arg(long, value_name = "URL")]
    pub connect: Option<String>,

    /// Bearer token for --connect (or set WEFT_TOKEN).
    #[arg(long, env = "WEFT_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// For an https:// --connect: trust only the CA certificates of this PEM file (for a
    /// self-signed collector, its certificate), instead of the system's, e.g. --ca-cert cert.pem.
    #[arg(long, value_name = "FILE", requires = "connect")]
    pub ca_cert: Option<PathBuf>,

    /// Start a recorded trace's replay at the first event, playing.
    #[arg(long)]
    pub replay: bool,

    /// Skip malformed lines (listed as malformed-line warnings) instead of refusing the input.
    #[arg(long)]
    pub lenient: bool,

    /// Live: keep at most N events; later ones are counted as dropped, e.g. --max-events 500000.
    #[arg(long, value_name = "N", default_value_t = 2_000_000)]
    pub max_events: u64,

    /// Click to select, wheel to scroll.
    #[arg(long)]
    pub mouse: bool,

    /// No colours (also when NO_COLOR is set); shapes still tell kinds and findings apart.
    #[arg(long)]
    pub no_color: bool,

    /// ASCII glyphs and lines, for terminals without Unicode line drawing.
    #[arg(long)]
    pub ascii: bool,

    /// How the inputs are read, e.g. --input shiviz for a GoVector log, --input automerge for
    /// an Automerge document.
    #[arg(long, value_enum, default_value_t = InputFormat::Weft)]
    pub input: InputFormat,

    #[command(flatten)]
    pub shiviz: ShivizOptions,
}
