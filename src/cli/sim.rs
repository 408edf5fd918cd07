//! The flags of `weft sim`: workload, sync, network, clocks and injected bugs. The flag values
//! are the simulator's own enums (`weft_sim::config`, with its `clap` feature).

use std::path::PathBuf;

use clap::Args;
use weft_sim::config::{Bug, Clocks, Profile, SyncKind, Workload};

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Write the trace here (- for stdout), e.g. --out run.jsonl. Without it no trace is written.
    #[arg(long, short = 'o', value_name = "FILE|-")]
    pub out: Option<PathBuf>,

    /// Seed of the one random generator, e.g. --seed 7. Same arguments + seed = same trace.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Number of replicas, e.g. --replicas 16.
    #[arg(long, default_value_t = 5)]
    pub replicas: u32,

    /// What the replicas do, e.g. --workload inventory.
    #[arg(long, value_enum, default_value_t = Workload::Mixed)]
    pub workload: Workload,

    /// Total operations (reads and writes), e.g. --ops 100000.
    #[arg(long, default_value_t = 1_000)]
    pub ops: u64,

    /// Number of keys (SKUs for the inventory workload), e.g. --keys 50.
    #[arg(long, default_value_t = 20)]
    pub keys: u32,

    /// Fraction of operations that are reads, e.g. --read-ratio 0.5.
    #[arg(long, default_value_t = 0.2)]
    pub read_ratio: f64,

    /// Operations per simulated second across all replicas, e.g. --rate 1000.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,

    /// Stop issuing operations after this much simulated time, e.g. --duration 30s.
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,

    /// Sync strategy, e.g. --sync op.
    #[arg(long, value_enum, default_value_t = SyncKind::Delta)]
    pub sync: SyncKind,

    /// How often each replica syncs, e.g. --sync-interval 250ms.
    #[arg(long, default_value = "100ms", value_name = "DURATION")]
    pub sync_interval: String,

    /// Run the workload under all three sync strategies and print a comparison table.
    #[arg(long)]
    pub compare_sync: bool,

    /// Network profile; the flags below override parts of it, e.g. --profile himalaya.
    #[arg(long, value_enum, default_value_t = Profile::Lan)]
    pub profile: Profile,

    /// Per-message latency: const:D, uniform:D-D or exp:D, e.g. --latency exp:50ms.
    #[arg(long, value_name = "SPEC")]
    pub latency: Option<String>,

    /// Probability a message is lost, e.g. --loss 0.05.
    #[arg(long, value_name = "P")]
    pub loss: Option<f64>,

    /// Probability a message is delivered twice, e.g. --dup 0.01.
    #[arg(long, value_name = "P")]
    pub dup: Option<f64>,

    /// Probability a message is held back so later ones overtake it, e.g. --reorder 0.1.
    #[arg(long, value_name = "P")]
    pub reorder: Option<f64>,

    /// Link bandwidth in bytes/s (0 = unlimited), e.g. --bandwidth 250000.
    #[arg(long, value_name = "BYTES")]
    pub bandwidth: Option<u64>,

    /// A partition: FROM-TO:GROUP/GROUP (repeatable), e.g. --partition 10s-40s:r1,r2/r3,r4,r5.
    #[arg(long, value_name = "SPEC")]
    pub partition: Vec<String>,

    /// Intermittent links: mean ONLINE/OFFLINE window (or none), e.g. --intermittent 5s/20s.
    #[arg(long, value_name = "ON/OFF")]
    pub intermittent: Option<String>,

    /// Make r1 a well-connected hub (never offline, 5× faster links).
    #[arg(long, overrides_with = "no_hub")]
    pub hub: bool,

    /// No hub (overrides a profile's hub).
    #[arg(long, overrides_with = "hub")]
    pub no_hub: bool,

    /// Maximum wall-clock offset per replica in ms (±), e.g. --skew-ms 500.
    #[arg(long, default_value_t = 200)]
    pub skew_ms: u64,

    /// Maximum wall-clock drift per replica in ppm (±), e.g. --drift-ppm 50.
    #[arg(long, default_value_t = 100)]
    pub drift_ppm: u64,

    /// What events carry, e.g. --clocks none for thousands of replicas.
    #[arg(long, value_enum, default_value_t = Clocks::Full)]
    pub clocks: Clocks,

    /// Inject a bug into one replica, e.g. --bug vc-no-merge.
    #[arg(long, value_enum)]
    pub bug: Option<Bug>,

    /// The replica with the bug, e.g. --bug-replica r3.
    #[arg(long, default_value = "r1", value_name = "REPLICA")]
    pub bug_replica: String,

    /// Simulated time allowed to converge after the operations, e.g. --settle-limit 60s.
    #[arg(long, default_value = "600s", value_name = "DURATION")]
    pub settle_limit: String,

    /// Stop with an error after this many events (0: no limit), e.g. --max-events 50000000.
    /// Delta and op sync among hundreds of replicas write millions of events for a few
    /// thousand operations.
    #[arg(long, default_value_t = weft_sim::MAX_EVENTS, value_name = "N")]
    pub max_events: u64,

    /// Stop with an error once the trace written holds this many bytes (0: no limit), e.g.
    /// --max-trace-bytes 0. Each event carries a clock with an entry per replica it knows of.
    #[arg(long, default_value_t = weft_sim::MAX_TRACE_BYTES, value_name = "N")]
    pub max_trace_bytes: u64,

    /// Run twice and check that both traces are byte-identical.
    #[arg(long)]
    pub check_determinism: bool,
}
