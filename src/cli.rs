//! Command-line definitions (clap). Every flag explains itself with an example. This file holds
//! the command and its subcommands; each subcommand's flags live in the child module named after
//! it, and the input options several of them share in `input`.

mod check;
mod collect;
mod demo;
mod input;
mod interop;
mod sim;
mod tui;

use clap::{Parser, Subcommand};

pub use check::{CheckArgs, Format};
pub use collect::CollectArgs;
pub use demo::DemoArgs;
pub use input::{InputFormat, ShivizOptions};
pub use interop::{
    CrdtImportArgs, ExportArgs, ExportFormat, ImportArgs, ImportFormat, ShivizImportArgs,
};
pub use sim::SimArgs;
pub use tui::TuiArgs;

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

    /// Export a trace for other tools: ShiViz, Graphviz DOT, Mermaid, Parquet.
    ///
    /// Examples:
    ///   weft export trace.jsonl --to shiviz -o trace.log       # open in ShiViz
    ///   weft export trace.jsonl --to dot --transitive-reduction | dot -Tsvg > trace.svg
    ///   weft export trace.jsonl --to dot --around r2@17 --depth 3 -o around.dot
    ///   weft export small.jsonl --to mermaid                   # for docs and issue reports
    #[command(verbatim_doc_comment)]
    Export(Box<ExportArgs>),
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
