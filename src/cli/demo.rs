//! The flags of `weft demo`: the simulated replicas, the embedded collector's data and the TUI.

use std::path::PathBuf;

use clap::Args;
use weft_sim::config::{Bug, Profile, SyncKind, Workload};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of simulated replicas, e.g. --replicas 8.
    #[arg(long, default_value_t = 5)]
    pub replicas: u32,

    /// What the replicas do, e.g. --workload mixed.
    #[arg(long, value_enum, default_value_t = Workload::Inventory)]
    pub workload: Workload,

    /// How replicas sync, e.g. --sync op.
    #[arg(long, value_enum, default_value_t = SyncKind::Delta)]
    pub sync: SyncKind,

    /// Network profile, e.g. --profile himalaya. The default profile also gets a partition from
    /// 2 s to 6 s that splits the replicas in two halves, then heals.
    #[arg(long, value_enum, default_value_t = Profile::Mixed)]
    pub profile: Profile,

    /// Inject a bug into one replica, e.g. --bug vc-no-merge (weft check then exits 1).
    #[arg(long, value_enum)]
    pub bug: Option<Bug>,

    /// The replica with the bug, e.g. --bug-replica r3.
    #[arg(long, default_value = "r1", value_name = "REPLICA")]
    pub bug_replica: String,

    /// Seed of the simulator's random generator, e.g. --seed 7.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Workload operations per second across all replicas (sync traffic adds sends and
    /// receives on top), e.g. --rate 100.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,

    /// The collector's data directory (default: a new directory under the system temp dir,
    /// kept afterwards), e.g. --data demo-data.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Run without the TUI (also when stdout is not a terminal).
    #[arg(long)]
    pub no_tui: bool,

    /// Without the TUI: how long to run, e.g. --duration 30s.
    #[arg(long, default_value = "10s")]
    pub duration: String,

    /// TUI: no colours (also when NO_COLOR is set).
    #[arg(long)]
    pub no_color: bool,

    /// TUI: ASCII glyphs and lines.
    #[arg(long)]
    pub ascii: bool,

    /// TUI: click to select, wheel to scroll.
    #[arg(long)]
    pub mouse: bool,
}
