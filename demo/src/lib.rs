//! # weft-demo: every part of weft working together, with real protocols, in one process
//!
//! [`Demo::start`] starts an embedded collector on free loopback ports, then simulated replicas
//! in real time: the deterministic simulator (`weft-sim`) decides what each replica does and
//! when, paced by the wall clock; each replica keeps its clocks with `weft-clock` (tick on local
//! events, merge on receive with the context its sender attached) and emits every event as an
//! OpenTelemetry log record through the official SDK and OTLP/HTTP exporter, exactly as a
//! user's instrumented service would. [`Demo::stop`] stops the replicas, flushes the exporter,
//! and shuts the collector down, leaving a data directory `weft check` and `weft tui` read.
//!
//! The simulator's own trace is the reference: every stamp the clock library computes is
//! compared with the simulator's, and any difference is counted in
//! [`DemoSummary::clock_mismatches`] (tests require zero).
//!
//! ```no_run
//! use std::time::Duration;
//! use weft_demo::{Demo, DemoConfig};
//!
//! let demo = Demo::start(DemoConfig::default()).unwrap();
//! println!("collector at {}", demo.url());
//! std::thread::sleep(Duration::from_secs(3));
//! let summary = demo.stop().unwrap();
//! assert_eq!(summary.stored, summary.emitted);
//! ```

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opentelemetry::logs::LoggerProvider as _;
use opentelemetry_otlp::{LogExporter, Protocol, WithExportConfig};
use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::Resource;
use weft_clock::{Context, ReplicaClock, Stamp, WeftEvent};
use weft_sim::config::{parse_partition, Bug, Config as SimConfig, Profile, SyncKind, Workload};
use weft_sim::PacedRun;
use weft_trace::{Event, Kind};

/// What to run.
#[derive(Clone, Debug)]
pub struct DemoConfig {
    /// The simulated replicas: workload, network, sync, bugs, seed. `ops` and `duration` are
    /// ignored: the demo runs until stopped.
    pub sim: SimConfig,
    /// The collector's data directory; a new directory under the system's temporary directory
    /// when `None` (left in place, so it can be checked and browsed afterwards).
    pub data: Option<PathBuf>,
    /// Simulated seconds per wall-clock second.
    pub speed: f64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            sim: default_sim(5, 20.0, Profile::Mixed),
            data: None,
            speed: 1.0,
        }
    }
}

/// The demo's simulator defaults: `replicas` replicas, the inventory workload at `rate`
/// operations per second, delta sync every 500 ms, the `profile` network (the demo's default is `mixed`),
/// and a partition from 2 s to 6 s that splits the replicas in two halves and then heals.
pub fn default_sim(replicas: u32, rate: f64, profile: Profile) -> SimConfig {
    let mut net = profile.net();
    let half = (replicas / 2).max(1);
    let names = |range: std::ops::Range<u32>| {
        range
            .map(|i| weft_sim::config::replica_name(i, replicas))
            .collect::<Vec<_>>()
            .join(",")
    };
    if replicas >= 2 {
        let spec = format!("2s-6s:{}/{}", names(0..half), names(half..replicas));
        if let Ok(p) = parse_partition(&spec, replicas) {
            net.partitions.push(p);
        }
    }
    SimConfig {
        replicas,
        workload: Workload::Inventory,
        keys: 4,
        rate,
        sync: SyncKind::Delta,
        // Half a second between syncs keeps the diagram readable: with the default 100 ms most
        // of what a screen shows would be sync messages.
        sync_interval: 500 * weft_sim::config::MS,
        profile,
        net,
        // The demo runs as long as it is watched, paced by the wall clock: its length is the
        // user's, not a limit's.
        limits: weft_sim::Limits::NONE,
        ..SimConfig::default()
    }
}

/// Why the demo could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The simulator configuration is invalid.
    #[error("{0}")]
    Config(String),
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {error}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The tokio runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// The embedded collector could not start.
    #[error("collector: {0}")]
    Collector(#[from] weft_collector::StartError),
    /// The OpenTelemetry exporter could not be built.
    #[error("OpenTelemetry exporter: {0}")]
    Exporter(String),
    /// The simulator failed (its trace could not be handed over).
    #[error("simulator: {0}")]
    Sim(std::io::Error),
    /// Flushing the exporter or shutting down the collector failed.
    #[error("shutting down: {0}")]
    Shutdown(String),
}

/// What a finished demo did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DemoSummary {
    /// Events emitted as OpenTelemetry log records, per replica.
    pub per_replica: BTreeMap<String, u64>,
    /// Events emitted in all.
    pub emitted: u64,
    /// Events the collector stored.
    pub stored: u64,
    /// Stamps from the clock library that differ from the simulator's (0 unless broken).
    pub clock_mismatches: u64,
    /// Simulated time reached, ns.
    pub sim_time: u64,
    /// The data directory.
    pub data: PathBuf,
}

#[derive(Default)]
struct Shared {
    per_replica: BTreeMap<String, u64>,
    emitted: u64,
    clock_mismatches: u64,
    sim_time: u64,
    error: Option<std::io::Error>,
}

/// A running demo. End it with [`Demo::stop`]: that is what flushes the exporter and shuts the
/// collector down cleanly (dropping a running demo leaves its replica thread running until the
/// process exits).
pub struct Demo {
    runtime: tokio::runtime::Runtime,
    collector: weft_collector::Collector,
    stop: Arc<AtomicBool>,
    driver: JoinHandle<()>,
    shared: Arc<Mutex<Shared>>,
    data: PathBuf,
}

impl Demo {
    /// Starts the collector and the replicas.
    pub fn start(cfg: DemoConfig) -> Result<Demo, DemoError> {
        let mut sim = cfg.sim.clone();
        sim.ops = u64::MAX;
        sim.duration = None;
        sim.validate()
            .map_err(|e| DemoError::Config(e.to_string()))?;
        let data = match cfg.data {
            Some(d) => d,
            None => {
                let stamp = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or(0);
                std::env::temp_dir().join(format!("weft-demo-{}-{stamp}", std::process::id()))
            }
        };
        std::fs::create_dir_all(&data).map_err(|error| DemoError::DataDir {
            path: data.clone(),
            error,
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("weft-demo-collector")
            .build()
            .map_err(DemoError::Runtime)?;
        let collector = runtime.block_on(weft_collector::start(weft_collector::Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            grpc: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            data: data.clone(),
            ..weft_collector::Config::default()
        }))?;
        let exporter = LogExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("http://{}/v1/logs", collector.http_addr))
            .with_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| DemoError::Exporter(e.to_string()))?;
        let provider = SdkLoggerProvider::builder()
            .with_resource(
                Resource::builder_empty()
                    .with_service_name("weft-demo")
                    .build(),
            )
            .with_log_processor(BatchLogProcessor::builder(exporter).build())
            .build();
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Mutex::new(Shared::default()));
        let driver = {
            let (stop, shared) = (stop.clone(), shared.clone());
            let speed = cfg.speed.max(0.001);
            std::thread::Builder::new()
                .name("weft-demo-replicas".into())
                .spawn(move || drive(sim, speed, provider, &stop, &shared))
                .map_err(DemoError::Runtime)?
        };
        Ok(Demo {
            runtime,
            collector,
            stop,
            driver,
            shared,
            data,
        })
    }

    /// The collector's base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.collector.http_addr)
    }

    /// The collector's OTLP/gRPC address.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.collector.grpc_addr
    }

    /// The data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data
    }

    /// Events emitted so far.
    pub fn emitted(&self) -> u64 {
        self.shared.lock().map(|s| s.emitted).unwrap_or(0)
    }

    /// Stops the replicas, flushes every emitted record to the collector, stops the collector.
    pub fn stop(self) -> Result<DemoSummary, DemoError> {
        let url = self.url();
        self.stop.store(true, Ordering::Relaxed);
        self.driver
            .join()
            .map_err(|_| DemoError::Shutdown("the replica driver panicked".into()))?;
        let stored = stored_events(&url);
        self.runtime
            .block_on(self.collector.shutdown())
            .map_err(|e| DemoError::Shutdown(format!("collector: {e}")))?;
        let mut s = self
            .shared
            .lock()
            .map_err(|_| DemoError::Shutdown("the replica driver panicked".into()))?;
        if let Some(e) = s.error.take() {
            return Err(DemoError::Sim(e));
        }
        Ok(DemoSummary {
            per_replica: s.per_replica.clone(),
            emitted: s.emitted,
            stored: stored.unwrap_or(0),
            clock_mismatches: s.clock_mismatches,
            sim_time: s.sim_time,
            data: self.data.clone(),
        })
    }
}

/// The collector's stored-event count, from `/v1/status`.
fn stored_events(url: &str) -> Option<u64> {
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .ok()?;
    let text = client
        .get(format!("{url}/v1/status"))
        .send()
        .ok()?
        .text()
        .ok()?;
    let status: weft_api::http::Status = serde_json::from_str(&text).ok()?;
    Some(status.events)
}

/// Most message contexts kept for receives still to come (oldest forgotten first).
const MAX_CONTEXTS: usize = 1 << 20;

/// The replicas' side: clocks, message contexts, the logger.
struct Replicas {
    clocks: HashMap<String, ReplicaClock>,
    contexts: HashMap<String, Context>,
    order: VecDeque<String>,
    bug: Option<(Bug, String)>,
    logger: SdkLogger,
}

impl Replicas {
    /// One simulated event: keep the clocks as the replica's own code would, compare with the
    /// simulator's, emit the record.
    fn event(&mut self, e: &Event, shared: &Mutex<Shared>) {
        let clock = self
            .clocks
            .entry(e.replica.clone())
            .or_insert_with(|| ReplicaClock::new(e.replica.clone()));
        let stamp = match (&e.kind, &e.msg) {
            (Kind::Recv, Some(msg)) => match self.contexts.get(msg) {
                Some(ctx) => {
                    let ctx = match &self.bug {
                        // The injected bugs, as a buggy replica's code would have them: it
                        // forgets the sender's vector clock, or its Lamport time.
                        Some((Bug::VcNoMerge, r)) if *r == e.replica => Context {
                            vc: BTreeMap::new(),
                            ..ctx.clone()
                        },
                        Some((Bug::LamportNoMax, r)) if *r == e.replica => Context {
                            lamport: 0,
                            ..ctx.clone()
                        },
                        _ => ctx.clone(),
                    };
                    clock.receive(&ctx)
                }
                None => clock.tick(),
            },
            _ => clock.tick(),
        };
        if e.kind == Kind::Send {
            if let Some(msg) = &e.msg {
                if self.contexts.len() >= MAX_CONTEXTS {
                    if let Some(old) = self.order.pop_front() {
                        self.contexts.remove(&old);
                    }
                }
                self.contexts.insert(msg.clone(), stamp.context());
                self.order.push_back(msg.clone());
            }
        }
        let matches = stamp.seq == e.seq
            && e.lamport.is_none_or(|l| l == stamp.lamport)
            && e.vc.as_ref().is_none_or(|vc| same_clock(vc, &stamp));
        let mut ev = WeftEvent::new(e.kind);
        if let Some(m) = &e.msg {
            ev = ev.msg(m.clone());
        }
        if let Some(k) = &e.key {
            ev = ev.key(k.clone());
        }
        if let Some(op) = e.op {
            ev = ev.op(op);
        }
        // The key's type, so that the collector's live analysis knows what each read must
        // return (an undeclared multi-value register would be judged as LWW).
        if let Some(crdt) = e.crdt {
            ev = ev.crdt(crdt);
        }
        if let Some(v) = &e.value {
            ev = ev.value(v.clone());
        }
        let wall = e
            .wall_ns
            .and_then(|ns| u64::try_from(ns).ok())
            .map(|ns| UNIX_EPOCH + Duration::from_nanos(ns));
        weft_clock::emit(&self.logger, &stamp, &ev, wall);
        if let Ok(mut s) = shared.lock() {
            s.emitted += 1;
            *s.per_replica.entry(e.replica.clone()).or_default() += 1;
            s.clock_mismatches += u64::from(!matches);
        }
    }
}

/// Whether a reported clock (zeros allowed) equals a stamp's.
fn same_clock(vc: &BTreeMap<String, u64>, stamp: &Stamp) -> bool {
    let nonzero = |m: &BTreeMap<String, u64>| {
        m.iter()
            .filter(|(_, &v)| v > 0)
            .map(|(k, &v)| (k.clone(), v))
            .collect::<BTreeMap<_, _>>()
    };
    nonzero(vc) == nonzero(&stamp.vc)
}

/// Pace the simulator by the wall clock, emitting what it does, until told to stop.
fn drive(
    sim: SimConfig,
    speed: f64,
    provider: SdkLoggerProvider,
    stop: &AtomicBool,
    shared: &Mutex<Shared>,
) {
    let fail = |e: std::io::Error| {
        if let Ok(mut s) = shared.lock() {
            s.error = Some(e);
        }
    };
    let mut replicas = Replicas {
        clocks: HashMap::new(),
        contexts: HashMap::new(),
        order: VecDeque::new(),
        bug: sim
            .bug
            .map(|(b, r)| (b, weft_sim::config::replica_name(r, sim.replicas))),
        logger: provider.logger("weft-demo"),
    };
    let mut run = match PacedRun::start(&sim) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let started = Instant::now();
    let handle = |bytes: &[u8], replicas: &mut Replicas| {
        for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            // The header (first line) is the simulator's own metadata, not an event.
            if let Ok(e) = serde_json::from_slice::<Event>(line) {
                replicas.event(&e, shared);
            }
        }
    };
    while !stop.load(Ordering::Relaxed) {
        let t = (started.elapsed().as_secs_f64() * speed * 1e9) as u64;
        match run.advance_to(t) {
            Ok((bytes, done)) => {
                handle(&bytes, &mut replicas);
                if done {
                    break;
                }
            }
            Err(e) => {
                fail(e);
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let now = run.now();
    match run.stop() {
        Ok((bytes, _)) => handle(&bytes, &mut replicas),
        Err(e) => fail(e),
    }
    if let Ok(mut s) = shared.lock() {
        s.sim_time = now;
    }
    drop(replicas);
    if let Err(e) = provider.force_flush() {
        fail(std::io::Error::other(format!("flushing the exporter: {e}")));
    }
    if let Err(e) = provider.shutdown() {
        fail(std::io::Error::other(format!(
            "shutting the exporter down: {e}"
        )));
    }
}
