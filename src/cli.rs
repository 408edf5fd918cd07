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
    /// usage or input error (printed as FILE:LINE: reason on stderr). A report lists at most
    /// 1000 findings of each code and counts the others (summary.omitted in JSON).
    ///
    /// Examples:
    ///   weft check trace.jsonl
    ///   weft check weft-data/ --format json > report.json
    ///   weft check a.jsonl b.jsonl.gz --format junit --fail-on conflict > junit.xml
    ///   cat trace.jsonl | weft check -
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),

    /// Simulate CRDT replicas on a bad network and write their trace.
    ///
    /// Replicas write and read CRDTs and sync over a simulated network with latency, loss,
    /// duplication, reordering, partitions and skewed clocks; every read records its value,
    /// which weft check verifies against the read's causal past. At the end the network
    /// heals, sync runs until quiescent and the replicas' states are compared. Deterministic:
    /// the same arguments and --seed give a byte-identical trace. A summary goes to stderr.
    /// Exit status: 0 converged, 1 diverged, 2 usage error.
    ///
    /// Examples:
    ///   weft sim --out run.jsonl && weft check run.jsonl
    ///   weft sim --replicas 8 --workload inventory --profile mixed --partition 5s-20s:r1,r2/r3,r4 -o -
    ///   weft sim --bug vc-no-merge --out buggy.jsonl
    ///   weft sim --bug stale-read -o - | weft check -
    ///   weft sim --compare-sync --profile himalaya --ops 5000
    #[command(verbatim_doc_comment)]
    Sim(Box<SimArgs>),

    /// Collect events from replicas over NDJSON/HTTP and OpenTelemetry (OTLP) into a store.
    ///
    /// Serves POST /v1/events (NDJSON), POST /v1/logs and /v1/traces (OTLP/HTTP, protobuf or
    /// JSON), GET /v1/stream?from=N (live NDJSON), GET /v1/report (the live weft check report of
    /// everything stored), GET /v1/findings?from=N (findings added and retracted, live),
    /// GET /v1/status, /healthz and /metrics, and OTLP/gRPC (gzip accepted). A request is
    /// acknowledged only once its events are on disk. Slow or idle clients are cut (the
    /// --*-timeout flags). Ctrl-C or SIGTERM stops accepting, finishes in-flight requests (for
    /// --shutdown-grace at most: nothing cut was acknowledged) and exits 0.
    ///
    /// Examples:
    ///   weft collect --data weft-data
    ///   curl --data-binary @trace.jsonl http://127.0.0.1:4318/v1/events
    ///   curl -N http://127.0.0.1:4318/v1/stream
    ///   weft check weft-data
    #[command(verbatim_doc_comment)]
    Collect(Box<CollectArgs>),

    /// Browse the causality graph in the terminal: a recorded trace, or a collector live.
    ///
    /// One lane per replica, logical time flowing down; select an event to see its causal past,
    /// future and the events concurrent with it; conflicts and violations jump into the graph;
    /// replay a recording in arrival or causal order. Press ? inside for every key.
    ///
    /// Examples:
    ///   weft tui fixtures/partition-heal.jsonl
    ///   weft tui weft-data/ --replay
    ///   weft tui --connect http://127.0.0.1:4318
    ///   weft tui --connect https://localhost:4318 --ca-cert cert.pem --token "$WEFT_TOKEN"
    #[command(verbatim_doc_comment)]
    Tui(Box<TuiArgs>),

    /// See everything work together: simulated replicas → OpenTelemetry → collector → live TUI.
    ///
    /// Starts an embedded collector on free loopback ports, simulated replicas in real time that
    /// emit their events through the OpenTelemetry SDK (OTLP/HTTP, weft.* attributes), and the
    /// live TUI connected to the collector. q or Ctrl-C stops the replicas, then the collector
    /// (flushing), then restores the terminal; the data directory stays readable. Without a
    /// terminal (or with --no-tui) it runs for --duration, prints the `weft check` report of
    /// what the collector stored and exits with its status (1 with --bug vc-no-merge, or
    /// --bug stale-read: the replicas read too, and weft check judges every read).
    ///
    /// Examples:
    ///   weft demo
    ///   weft demo --replicas 8 --profile himalaya --sync op
    ///   weft demo --no-tui --duration 5s --bug vc-no-merge
    ///   weft demo --bug stale-read --rate 100
    #[command(verbatim_doc_comment)]
    Demo(Box<DemoArgs>),

    /// Convert other tools' logs and CRDT documents to weft-trace/1.
    ///
    /// Examples:
    ///   weft import shiviz govector.log -o trace.jsonl
    ///   weft import shiviz app.log --regex '(?<host>\S+) (?<clock>\{.*\}) (?<event>.*)' --split traces/
    ///   weft import automerge doc.automerge -o trace.jsonl
    ///   weft import loro doc.loro -o trace.jsonl
    #[command(verbatim_doc_comment)]
    Import(ImportArgs),

    /// Export a trace for other tools: ShiViz, Graphviz DOT, Mermaid.
    ///
    /// Examples:
    ///   weft export trace.jsonl --to shiviz -o trace.log       # open in ShiViz
    ///   weft export trace.jsonl --to dot --transitive-reduction | dot -Tsvg > trace.svg
    ///   weft export trace.jsonl --to dot --around r2@17 --depth 3 -o around.dot
    ///   weft export small.jsonl --to mermaid                   # for docs and issue reports
    #[command(verbatim_doc_comment)]
    Export(Box<ExportArgs>),
}

/// How inputs are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// weft-trace/1 NDJSON (files, .gz, directories).
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
    Loro(CrdtImportArgs),
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
    /// Trace files (.jsonl, .ndjson, .jsonl.gz; gzip data is recognised under any name),
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

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// Trace files or directories (a collector's data directory included), or logs and
    /// documents with --input.
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

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of simulated replicas, e.g. --replicas 8.
    #[arg(long, default_value_t = 5)]
    pub replicas: u32,

    /// What the replicas do, e.g. --workload mixed.
    #[arg(long, value_enum, default_value_t = SimWorkload::Inventory)]
    pub workload: SimWorkload,

    /// How replicas sync, e.g. --sync op.
    #[arg(long, value_enum, default_value_t = SimSync::Delta)]
    pub sync: SimSync,

    /// Network profile, e.g. --profile himalaya. The default profile also gets a partition from
    /// 2 s to 6 s that splits the replicas in two halves, then heals.
    #[arg(long, value_enum, default_value_t = SimProfile::Mixed)]
    pub profile: SimProfile,

    /// Inject a bug into one replica, e.g. --bug vc-no-merge (weft check then exits 1).
    #[arg(long, value_enum)]
    pub bug: Option<SimBug>,

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

/// Workloads of `weft sim`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SimWorkload {
    /// G-counters and PN-counters.
    Counter,
    /// LWW and multi-value registers.
    Register,
    /// LWW registers only (small state with thousands of replicas).
    Lww,
    /// Add-wins OR-sets.
    Set,
    /// All five CRDT types.
    Mixed,
    /// A stock app: per SKU a PN-counter stock, LWW price and bin, an OR-set of tags.
    Inventory,
}

/// Sync strategies of `weft sim`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SimSync {
    /// Operation-based causal broadcast (exactly once, in causal order, retransmitted).
    Op,
    /// Full-state anti-entropy with a random peer.
    State,
    /// Delta-state: ship each peer what it has not acknowledged.
    Delta,
}

/// Network profiles of `weft sim`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SimProfile {
    /// 1 ms, nothing lost.
    Lan,
    /// Dense city network: 2–8 ms, a little loss, duplication and reordering.
    Tokyo,
    /// RTT of hundreds of ms, 5 % loss, long disconnections, short high-bandwidth windows.
    Himalaya,
    /// A well-connected hub (r1) and intermittent edge replicas.
    Mixed,
}

/// What events carry in `weft sim` traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SimClocks {
    /// Vector clock and Lamport timestamp.
    Full,
    /// Lamport timestamp only.
    Lamport,
    /// Neither: causality only through messages (for thousands of replicas).
    None,
}

/// Bugs `weft sim` can inject into one replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SimBug {
    /// Forgets to merge the sender's vector clock on receive (weft check: vc-mismatch).
    VcNoMerge,
    /// Does not take the max of Lamport clocks on receive (weft check: lamport-violation).
    LamportNoMax,
    /// Stamps LWW writes with its skewed wall clock: converges, but causally newer writes lose.
    LwwByWallClock,
    /// Merges counters by adding instead of taking the max: diverges under duplicates.
    NonIdempotentMerge,
    /// Never retransmits a lost delta: diverges once one is lost on every link, e.g. while the
    /// replica is offline (with --sync delta).
    DropDelta,
    /// Sometimes answers a read from an older snapshot of its state (weft check: stale-read).
    StaleRead,
    /// Sometimes merges its peers' state of a key before reading it, recording no receive
    /// (weft check: read-of-unseen-write).
    UnrecordedMerge,
}

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
    #[arg(long, value_enum, default_value_t = SimWorkload::Mixed)]
    pub workload: SimWorkload,

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
    #[arg(long, value_enum, default_value_t = SimSync::Delta)]
    pub sync: SimSync,

    /// How often each replica syncs, e.g. --sync-interval 250ms.
    #[arg(long, default_value = "100ms", value_name = "DURATION")]
    pub sync_interval: String,

    /// Run the workload under all three sync strategies and print a comparison table.
    #[arg(long)]
    pub compare_sync: bool,

    /// Network profile; the flags below override parts of it, e.g. --profile himalaya.
    #[arg(long, value_enum, default_value_t = SimProfile::Lan)]
    pub profile: SimProfile,

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
    #[arg(long, value_enum, default_value_t = SimClocks::Full)]
    pub clocks: SimClocks,

    /// Inject a bug into one replica, e.g. --bug vc-no-merge.
    #[arg(long, value_enum)]
    pub bug: Option<SimBug>,

    /// The replica with the bug, e.g. --bug-replica r3.
    #[arg(long, default_value = "r1", value_name = "REPLICA")]
    pub bug_replica: String,

    /// Simulated time allowed to converge after the operations, e.g. --settle-limit 60s.
    #[arg(long, default_value = "600s", value_name = "DURATION")]
    pub settle_limit: String,

    /// Run twice and check that both traces are byte-identical.
    #[arg(long)]
    pub check_determinism: bool,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// HTTP address: NDJSON, OTLP/HTTP, stream, status, metrics, e.g. --listen 0.0.0.0:4318.
    #[arg(long, default_value = "127.0.0.1:4318", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,

    /// OTLP/gRPC address, e.g. --grpc 127.0.0.1:4317.
    #[arg(long, default_value = "127.0.0.1:4317", value_name = "ADDR")]
    pub grpc: std::net::SocketAddr,

    /// Do not serve OTLP/gRPC.
    #[arg(long)]
    pub no_grpc: bool,

    /// Do not analyse what is stored (no GET /v1/report, /v1/findings or finding gauges in
    /// /metrics): only store and stream.
    #[arg(long)]
    pub no_analysis: bool,

    /// Data directory (weft check and weft tui read it as it is), e.g. --data /var/lib/weft.
    #[arg(long, default_value = "weft-data", value_name = "DIR")]
    pub data: PathBuf,

    /// Require `Authorization: Bearer TOKEN` from clients (required off loopback unless
    /// --insecure), e.g. --token "$WEFT_TOKEN".
    #[arg(long, value_name = "TOKEN", env = "WEFT_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Allow a non-loopback address without a token.
    #[arg(long)]
    pub insecure: bool,

    /// Largest NDJSON request body in bytes, compressed or after gzip inflation (413 past it),
    /// e.g. --max-body 33554432.
    #[arg(long, default_value_t = 16 << 20, value_name = "BYTES")]
    pub max_body: usize,

    /// Largest OTLP request in bytes, compressed or after gzip inflation: an OTLP/HTTP body (413
    /// past it) or an OTLP/gRPC message (RESOURCE_EXHAUSTED). Decoding OTLP takes up to about
    /// 100 times its size in memory. E.g. --max-otlp-body 8388608.
    #[arg(long, default_value_t = 4 << 20, value_name = "BYTES")]
    pub max_otlp_body: usize,

    /// Longest NDJSON line in bytes, e.g. --max-line 65536.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    pub max_line: usize,

    /// Batches that may wait for the disk (503 + Retry-After past it), e.g. --queue 256.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub queue: usize,

    /// Open connections in total, HTTP and gRPC each: past it the connection idle the longest
    /// is closed to make room (503 + Retry-After when every one is busy), e.g.
    /// --max-connections 4096.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_connections: usize,

    /// Open connections from one client address, HTTP and gRPC each (503 + Retry-After past
    /// it), e.g. --max-connections-per-ip 16.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_connections_per_ip: usize,

    /// Time for a request head: the first from accept (TLS handshake included), later ones
    /// from their first byte; past it the connection is closed, e.g. --header-timeout 5s.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub header_timeout: String,

    /// Time for a request body, plus one second per --body-min-rate bytes received (408 past
    /// it), e.g. --body-timeout 1m.
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub body_timeout: String,

    /// Bytes of request body that earn one more second of --body-timeout (0: none), e.g.
    /// --body-min-rate 4096.
    #[arg(long, default_value_t = 1024, value_name = "BYTES")]
    pub body_min_rate: u64,

    /// Time a connection may stay open without a request, or without reading a response, e.g.
    /// --idle-timeout 2m.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub idle_timeout: String,

    /// On Ctrl-C or SIGTERM, time for in-flight requests to finish before they are cut, e.g.
    /// --shutdown-grace 30s.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub shutdown_grace: String,

    /// Segment file size limit in bytes, e.g. --segment-bytes 67108864.
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES")]
    pub segment_bytes: u64,

    /// Serve HTTPS and gRPC over TLS with this PEM certificate chain (needs --tls-key),
    /// e.g. --tls-cert cert.pem.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key for --tls-cert, e.g. --tls-key key.pem.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[cfg(test)]
#[path = "../tests/common/readme.rs"]
mod readme;

#[cfg(test)]
mod readme_tests {
    use super::readme;
    use clap::Parser;

    /// Every `weft` command the README shows is a valid command line.
    #[test]
    fn every_weft_command_in_the_readme_parses() {
        let text = include_str!("../README.md");
        let shown = readme::commands(text);
        let mut parsed = 0;
        for s in &shown {
            assert!(
                (0..=2).contains(&s.expected_exit()),
                "README: `{}` promises an exit status weft never uses",
                s.command
            );
            for args in s.weft_invocations() {
                let argv = std::iter::once("weft".to_string()).chain(args.iter().cloned());
                if let Err(e) = super::Cli::try_parse_from(argv) {
                    panic!("README: `{}` does not parse:\n{e}", s.command);
                }
                parsed += 1;
            }
        }
        assert!(
            parsed >= 20,
            "found only {parsed} weft commands in the README"
        );
    }
}
