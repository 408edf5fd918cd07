//! The `ingest` scenarios: run `weft collect` as a child process and load it over HTTP.
//!
//! * g: NDJSON, `POST /v1/events`: [`CLIENTS`] client threads, each with its own keep-alive
//!   HTTP/1.1 connection (a `ureq` agent that keeps one connection), post pre-generated batches
//!   of [`BATCH`] weft-trace/1 event lines back to back (one request in flight per connection)
//!   for N seconds.
//! * h: the same events as OTLP/HTTP protobuf, `POST /v1/logs`: one `ExportLogsServiceRequest`
//!   of [`BATCH`] log records per request, pre-encoded with prost, carrying the `weft.*`
//!   attributes (`weft.vc` as a JSON string).
//! * i: the raw floor, in process: append g's pre-generated request bodies, batch by batch (one
//!   `write` each), to a file next to the collector's data directory for up to N seconds, with
//!   `fdatasync` every batch, then every [`CLIENTS`] batches (the collector shares one sync
//!   among the requests that arrive together; with one request in flight per client a group
//!   holds at most [`CLIENTS`] batches).
//!
//! Events: each client has [`REPLICAS_PER_CLIENT`] replicas of its own (names unique per client
//! and phase, so no id repeats and the store must keep every event), in two groups of
//! [`GROUP`] that message within their group; every event carries `lamport` and a correct `vc`
//! (the nonzero entries: the replicas of its group), about 200 bytes a line. See [`EventGen`].
//!
//! At the end `GET /v1/status` must report exactly the acknowledged number of events, and after
//! the collector is stopped (SIGTERM) the segment files must hold that many event lines.

mod collector;
mod disk;
mod events;
mod http;
mod load;
mod report;
mod requests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Result};

use crate::bench::{count, find_weft, per_sec, print_machine, rate, secs, Verdict, WorkDir};
use crate::sys::Exit;
use collector::Collector;
use disk::{events_on_disk, floor, Floor};
use http::stored_events;
use load::{load, Load};
use report::{floor_row, lag_row, load_row, print_table, report_load, Row};
use requests::{pools, Api};

pub use events::{otlp_request, Ev, EventGen, Kind, Val};
pub use http::Conn;
pub use load::percentile;
pub use requests::Request;

/// Concurrent client connections.
pub const CLIENTS: usize = 8;
/// Events per request.
pub const BATCH: usize = 1_000;
/// Replicas per client.
pub const REPLICAS_PER_CLIENT: usize = 16;
/// Replicas message only within their group, so a vector clock has this many nonzero entries.
pub const GROUP: usize = 8;
/// Distinct keys per client.
const KEYS: u64 = 10_000;
/// Target of g: acknowledged NDJSON events per second.
const G_TARGET: f64 = 800_000.0;
/// Target of h: acknowledged OTLP log records per second.
const H_TARGET: f64 = 300_000.0;
/// Events are generated up front for this multiple of a phase's target rate over its duration;
/// a client that runs out stops early (reported).
const POOL_HEADROOM: f64 = 2.0;
/// At most this many events are pre-generated per phase (about 2.5 GB of NDJSON requests).
const POOL_MAX_EVENTS: f64 = 12e6;
/// How often the analysis lag is sampled.
const LAG_POLL: Duration = Duration::from_millis(50);
/// How long the analysis may take to catch up after a phase before the run stops waiting.
const LAG_CATCH_UP_MAX: Duration = Duration::from_secs(60);
/// How long a request may take before the run counts it as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Options of `ingest`.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// 2 seconds per phase instead of 10.
    pub quick: bool,
    /// The `weft` binary; default: next to this executable.
    pub weft: Option<PathBuf>,
    /// Seconds per phase (overrides `quick`).
    pub seconds: Option<f64>,
    /// Run the collector with `--no-analysis` (its live analysis off), to compare.
    pub no_analysis: bool,
}
/// Runs the `ingest` benchmark; returns the exit code (0 all PASS, 1 some MISS/FAIL); an error
/// (exit 2) when the collector cannot be started.
pub fn run(opts: &IngestOptions) -> Result<i32> {
    let Some(weft) = find_weft(opts.weft.as_ref()) else {
        return Ok(2);
    };
    let seconds = opts.seconds.unwrap_or(if opts.quick { 2.0 } else { 10.0 });
    if !(seconds > 0.0 && seconds.is_finite()) {
        bail!("--seconds must be a positive number");
    }
    print_machine("`weft collect` ingest benchmark", Some(&weft));
    let work = WorkDir::new(None)?;
    print_load(opts, seconds);
    println!();
    let mut collector = Collector::start(&weft, &work.path, opts.no_analysis)?;
    let host = collector.addr.to_string();
    let mut rows = Vec::new();
    let batches = |target: f64| {
        ((POOL_HEADROOM * target * seconds).min(POOL_MAX_EVENTS) / (CLIENTS * BATCH) as f64).ceil()
            as usize
    };

    let (g, g_pools, stored_g) = phase_g(&collector, &host, batches(G_TARGET), seconds, &mut rows)?;
    let floors = phase_i(&work.path, &g_pools, seconds)?;
    drop(g_pools);
    let (h, stored_h) = phase_h(
        &collector,
        &host,
        batches(H_TARGET),
        seconds,
        (&g, stored_g),
        &mut rows,
    )?;
    rows.extend(floors.iter().map(floor_row));

    // Stop the collector and count what is on disk.
    println!();
    rows.push(stop_and_count(
        &mut collector,
        &work.path,
        g.acked + h.acked,
        stored_h,
    )?);
    drop(collector);
    drop(work);

    println!();
    print_table(&rows);
    Ok(summary(&rows, &floors, &g, &h))
}

/// The `load:` line: clients, batch size, seconds per phase.
fn print_load(opts: &IngestOptions, seconds: f64) {
    println!(
        "load:    {CLIENTS} clients (keep-alive HTTP/1.1, one request in flight each), \
         {} events per request, {seconds} s per phase{}",
        count(BATCH as u64),
        if opts.quick && opts.seconds.is_none() {
            " (--quick)"
        } else {
            ""
        }
    );
}

/// g: NDJSON. Pushes its rows; returns what it measured, its pools (the floor reuses them) and
/// the events stored per `/v1/status` after it.
fn phase_g(
    collector: &Collector,
    host: &str,
    batches: usize,
    seconds: f64,
    rows: &mut Vec<Row>,
) -> Result<(Load, Vec<Vec<Request>>, u64)> {
    let addr = collector.addr;
    println!();
    println!("[g] NDJSON: POST /v1/events");
    let g_pools = pools(Api::Ndjson, batches, host);
    let g = load(Api::Ndjson, collector, &g_pools, seconds);
    report_load(&g, CLIENTS);
    let mut g_row = load_row("g", "NDJSON POST /v1/events", &g, G_TARGET);
    let stored_g = stored_events(addr)?;
    println!(
        "  GET /v1/status: {} events stored ({} acknowledged)",
        count(stored_g),
        count(g.acked)
    );
    if stored_g != g.acked && !matches!(g_row.verdict, Verdict::Fail(_)) {
        g_row.verdict = Verdict::Fail(format!(
            "{} events acknowledged, {} stored per /v1/status",
            g.acked, stored_g
        ));
    }
    rows.push(g_row);
    if let Some(row) = lag_row("g-lag", &g) {
        rows.push(row);
    }
    Ok((g, g_pools, stored_g))
}

/// i: the floor, with g's pre-generated NDJSON bytes (requests in the order the clients took
/// them, round-robin), for as long as g ran; `fdatasync` every batch, then every [`CLIENTS`].
fn phase_i(dir: &Path, g_pools: &[Vec<Request>], seconds: f64) -> Result<Vec<Floor>> {
    println!();
    println!(
        "[i] the floor: append g's NDJSON batches to a file in process, for up to {seconds} s"
    );
    let rounds = g_pools.iter().map(Vec::len).max().unwrap_or(0);
    let bodies: Vec<(&[u8], u64)> = (0..rounds)
        .flat_map(|k| g_pools.iter().filter_map(move |p| p.get(k)))
        .map(|r| (r.body(), r.events))
        .collect();
    let mut floors = Vec::new();
    for every in [1, CLIENTS] {
        let f = floor(dir, &bodies, every, seconds)?;
        println!(
            "  fdatasync every {} batch{}: {} events, {} in {} = {}/s, {}/s; \
             write+sync p50 {} p99 {} (CPU {})",
            every,
            if every == 1 { "" } else { "es" },
            count(f.events),
            mib(f.bytes),
            secs(f.time),
            per_sec(rate(f.events, f.time)),
            mib_f(rate(f.bytes, f.time)),
            ms(f.p50),
            ms(f.p99),
            secs(f.cpu)
        );
        floors.push(f);
    }
    Ok(floors)
}

/// h: OTLP/HTTP protobuf, after g (`(g, stored_g)`: what g measured and stored). Pushes its
/// rows; returns what it measured and the events stored per `/v1/status` after it.
fn phase_h(
    collector: &Collector,
    host: &str,
    batches: usize,
    seconds: f64,
    (g, stored_g): (&Load, u64),
    rows: &mut Vec<Row>,
) -> Result<(Load, u64)> {
    let addr = collector.addr;
    println!();
    println!("[h] OTLP/HTTP protobuf: POST /v1/logs");
    let h_pools = pools(Api::Otlp, batches, host);
    let h = load(Api::Otlp, collector, &h_pools, seconds);
    drop(h_pools);
    report_load(&h, CLIENTS);
    let mut h_row = load_row("h", "OTLP/HTTP protobuf POST /v1/logs", &h, H_TARGET);
    let stored_h = stored_events(addr)?;
    println!(
        "  GET /v1/status: {} events stored ({} acknowledged in g and h)",
        count(stored_h),
        count(g.acked + h.acked)
    );
    if stored_h != stored_g + h.acked && !matches!(h_row.verdict, Verdict::Fail(_)) {
        h_row.verdict = Verdict::Fail(format!(
            "{} events acknowledged, {} more stored per /v1/status",
            h.acked,
            stored_h.saturating_sub(stored_g)
        ));
    }
    rows.push(h_row);
    if let Some(row) = lag_row("h-lag", &h) {
        rows.push(row);
    }
    Ok((h, stored_h))
}

/// Stops the collector (SIGTERM) and counts the event lines on disk: the `=` row, which passes
/// when `/v1/status` and the disk both hold the `acked` events and the collector exited 0.
fn stop_and_count(collector: &mut Collector, dir: &Path, acked: u64, stored_h: u64) -> Result<Row> {
    let (exit, took) = collector.stop()?;
    println!(
        "collector stopped (SIGTERM): {exit} after {}; stderr: {}",
        secs(took),
        collector.stderr_tail()
    );
    let (on_disk, segments) = events_on_disk(&dir.join("data"))?;
    println!(
        "on disk: {} event lines in {segments} segment file{}",
        count(on_disk),
        if segments == 1 { "" } else { "s" }
    );
    let mut store = Row::new(
        "=",
        "stored: GET /v1/status, then on disk",
        format!("= {} acknowledged", count(acked)),
    );
    store.events = Some(stored_h);
    store.verdict = if stored_h == acked && on_disk == acked && exit == Exit::Code(0) {
        Verdict::Pass
    } else {
        Verdict::Fail(format!(
            "acknowledged {acked}, /v1/status {stored_h}, on disk after shutdown {on_disk}, \
             collector {exit}"
        ))
    };
    Ok(store)
}

/// The lines after the table (g and h against the floor, why rows failed); the exit code.
fn summary(rows: &[Row], floors: &[Floor], g: &Load, h: &Load) -> i32 {
    let floor8 = floors.last().map(|f| rate(f.events, f.time));
    if let Some(fl) = floor8 {
        println!(
            "(g reaches {:.0}% of the floor's events/s with fdatasync every {CLIENTS} batches; \
             h {:.0}%)",
            100.0 * g.events_per_sec() / fl.max(1e-9),
            100.0 * h.events_per_sec() / fl.max(1e-9),
        );
    }
    for r in rows {
        if let Verdict::Fail(why) = &r.verdict {
            println!("({}: {why})", r.id);
        }
    }
    let bad = rows
        .iter()
        .any(|r| matches!(r.verdict, Verdict::Miss | Verdict::Fail(_)));
    i32::from(bad)
}

fn mib(b: u64) -> String {
    format!("{:.0} MiB", b as f64 / (1 << 20) as f64)
}

fn mib_f(b: f64) -> String {
    format!("{:.0} MiB", b / (1 << 20) as f64)
}

fn ms(t: Duration) -> String {
    let m = t.as_secs_f64() * 1e3;
    if m < 10.0 {
        format!("{m:.2} ms")
    } else {
        format!("{m:.1} ms")
    }
}
