//! # weft-sim: a deterministic CRDT replica simulator that writes weft traces
//!
//! Replicas hold CRDTs (G-Counter, PN-Counter, LWW-Register, MV-Register, add-wins OR-Set),
//! perform a workload, and sync them — operation-based causal broadcast, full-state
//! anti-entropy or delta-state — over a network that delays, loses, duplicates and reorders
//! messages, partitions on a schedule and drops intermittent links. Each replica's wall clock
//! has its own offset and drift, so wall-clock order contradicts causality as it does in the
//! field. At the end the network heals, sync runs until the replicas agree, and the simulator
//! checks that every replica holds the same state.
//!
//! A run is a pure function of its [`Config`]: one seeded RNG, simulated time, no real clock, no
//! hash-map iteration order. The same configuration gives a byte-identical trace.
//!
//! ```
//! use weft_sim::{simulate, Config};
//!
//! let cfg = Config { replicas: 3, ops: 200, seed: 42, ..Config::default() };
//! let mut trace = Vec::new();
//! let outcome = simulate(&cfg, &mut trace).unwrap();
//! assert!(outcome.converged);
//! assert!(String::from_utf8(trace).unwrap().starts_with("{\"format\":\"weft-trace/1\""));
//! ```

pub mod config;
pub mod crdt;
mod limit;
pub mod out;
pub mod rng;
pub mod world;

use std::io::Write;

pub use config::Config;
pub use limit::{Limit, Limits, RunLimit, MAX_EVENTS, MAX_TRACE_BYTES};
pub use world::Outcome;

use config::{replica_name, SyncKind};
use out::TraceOut;

/// Runs `cfg`, writing the trace to `out`.
///
/// The simulation itself is single-threaded; a second thread only performs the writes, so
/// that file-system time does not count against the simulation. A write error (say, a closed
/// pipe) stops the run and is returned.
pub fn simulate<W: Write + Send>(cfg: &Config, mut out: W) -> std::io::Result<Outcome> {
    use std::sync::mpsc::sync_channel;
    let names = (0..cfg.replicas)
        .map(|i| replica_name(i, cfg.replicas))
        .collect();
    let (full_tx, full_rx) = sync_channel::<Vec<u8>>(4);
    let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(4);
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> std::io::Result<()> {
            for mut chunk in full_rx {
                out.write_all(&chunk)?;
                chunk.clear();
                let _ = empty_tx.try_send(chunk);
            }
            out.flush()
        });
        let result = world::run(cfg, TraceOut::threaded(full_tx, empty_rx, names));
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the trace writer panicked")));
        match (result, written) {
            (Ok(o), Ok(())) => Ok(o),
            (_, Err(e)) => Err(e),
            (Err(e), Ok(())) => Err(e),
        }
    })
}

/// A run that advances only as far as its caller says, handing back the trace lines of each
/// step: how `weft demo` paces the simulator by the wall clock while the simulator itself keeps
/// reading no clock at all.
pub struct PacedRun {
    paced: world::Paced,
    chunks: std::sync::mpsc::Receiver<Vec<u8>>,
}

impl PacedRun {
    /// Starts `cfg`; the header line is in the first [`PacedRun::advance_to`]'s output.
    pub fn start(cfg: &Config) -> std::io::Result<PacedRun> {
        // Chunks are handed over only when 1 MiB fills or at the end of a step, and drained at
        // the end of every step, so this bound is never reached by a paced run.
        let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(1 << 12);
        let (_empty_tx, empty_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(1);
        let names = (0..cfg.replicas)
            .map(|i| replica_name(i, cfg.replicas))
            .collect();
        let paced = world::Paced::start(cfg, TraceOut::threaded(full_tx, empty_rx, names))?;
        Ok(PacedRun {
            paced,
            chunks: full_rx,
        })
    }

    fn drain(&self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Ok(chunk) = self.chunks.try_recv() {
            out.extend_from_slice(&chunk);
        }
        out
    }

    /// Runs up to simulated time `t` (ns from the start): the complete trace lines written
    /// meanwhile, and whether the run has ended.
    pub fn advance_to(&mut self, t: u64) -> std::io::Result<(Vec<u8>, bool)> {
        let done = self.paced.advance_to(t)?;
        Ok((self.drain(), done))
    }

    /// Simulated time reached, ns.
    pub fn now(&self) -> u64 {
        self.paced.now()
    }

    /// Stops where the run is: the last lines and the outcome so far.
    pub fn stop(self) -> std::io::Result<(Vec<u8>, Outcome)> {
        let PacedRun { paced, chunks } = self;
        let outcome = paced.stop()?;
        let mut out = Vec::new();
        while let Ok(chunk) = chunks.try_recv() {
            out.extend_from_slice(&chunk);
        }
        Ok((out, outcome))
    }
}

/// Runs `cfg` without writing a trace (same outcome as [`simulate`]).
pub fn simulate_quietly(cfg: &Config) -> std::io::Result<Outcome> {
    let names = (0..cfg.replicas)
        .map(|i| replica_name(i, cfg.replicas))
        .collect();
    world::run(cfg, TraceOut::discard(names))
}

/// One row of the `--compare-sync` table.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The strategy.
    pub sync: SyncKind,
    /// How the run ended.
    pub outcome: Outcome,
}

/// Runs the same workload and seed under every sync strategy.
pub fn compare_sync(cfg: &Config) -> std::io::Result<Vec<Comparison>> {
    [SyncKind::Op, SyncKind::State, SyncKind::Delta]
        .into_iter()
        .map(|sync| {
            let c = Config {
                sync,
                ..cfg.clone()
            };
            simulate_quietly(&c).map(|outcome| Comparison { sync, outcome })
        })
        .collect()
}
