//! `weft-bench engine`: the incremental analysis engine against the batch analysis, in
//! process, on a generated trace (check's scenario-b shape by default: 16 replicas, 10k keys,
//! vector and Lamport clocks on every event).
//!
//! Times, each the best of `repeat` runs: (1) `analyze` (the batch analysis) of the whole
//! trace; (2) the engine fed the whole trace as one batch, then its report; (3) the engine fed
//! the same events in batches of `batch` events (already parsed: only the engine is timed),
//! reading the report once at the end; (4) the same, reading the report after every batch
//! would be what a live consumer pays — it is not timed here, the collector publishes at most
//! 4 times a second. The reports of (1), (2) and (3) must be byte-identical (checked). The
//! figures: events/s of each, and the ratio (3)/(2) — the cost of feeding in small batches.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use weft_trace::{ReadOptions, Trace};

use crate::gen::{self, GenConfig};

/// What to run.
pub struct EngineOptions {
    /// Events in the generated trace.
    pub events: u64,
    /// Replicas.
    pub replicas: u32,
    /// Keys.
    pub keys: u32,
    /// Events per batch for the incremental run.
    pub batch: usize,
    /// Runs of each measurement (the best is kept).
    pub repeat: usize,
}

/// The figures.
pub struct EngineFigures {
    pub batch_analysis: Duration,
    pub engine_once: Duration,
    pub engine_batches: Duration,
    pub parse_batches: Duration,
    pub events: usize,
}

fn best(repeat: usize, mut f: impl FnMut() -> Result<Duration>) -> Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..repeat.max(1) {
        best = best.min(f()?);
    }
    Ok(best)
}

/// Generates the trace, runs the three measurements, checks the reports agree.
pub fn run(o: &EngineOptions) -> Result<EngineFigures> {
    let cfg = GenConfig {
        events: o.events,
        replicas: o.replicas,
        keys: o.keys,
        clocks: true,
        seed: 1,
    };
    let mut text = Vec::new();
    gen::generate(&cfg, &mut text).context("generating the trace")?;
    let text = String::from_utf8(text).context("the generator writes UTF-8")?;
    let opts = ReadOptions::default();
    let whole = Trace::from_ndjson_str("bench.jsonl", &text, &opts)?;
    let events = whole.len();

    let mut want = String::new();
    let batch_analysis = best(o.repeat, || {
        let t = Instant::now();
        let r = weft_analyzer::analyze(&whole);
        let d = t.elapsed();
        want = weft_analyzer::render::json(&r);
        Ok(d)
    })?;

    let engine_once = best(o.repeat, || {
        let trace = Trace::from_ndjson_str("bench.jsonl", &text, &opts)?;
        let t = Instant::now();
        let mut e = weft_analyzer::Engine::new();
        e.feed(trace);
        let r = e.report();
        let d = t.elapsed();
        if weft_analyzer::render::json(&r) != want {
            bail!("the engine fed once reports differently from the batch analysis");
        }
        Ok(d)
    })?;

    // Batches of `batch` lines, parsed before timing the engine.
    let lines: Vec<&str> = text.lines().skip(1).collect();
    let mut parse_batches = Duration::ZERO;
    let engine_batches = best(o.repeat, || {
        let t = Instant::now();
        let mut batches = Vec::with_capacity(lines.len() / o.batch.max(1) + 1);
        for chunk in lines.chunks(o.batch.max(1)) {
            let mut s = chunk.join("\n");
            s.push('\n');
            batches.push(Trace::batch_from_ndjson("batch", &s, &opts)?);
        }
        parse_batches = t.elapsed();
        let t = Instant::now();
        let mut e = weft_analyzer::Engine::new();
        for b in batches {
            e.feed(b);
        }
        let r = e.report();
        let d = t.elapsed();
        if weft_analyzer::render::json(&r) != want {
            bail!("the engine fed in batches reports differently from the batch analysis");
        }
        Ok(d)
    })?;
    Ok(EngineFigures {
        batch_analysis,
        engine_once,
        engine_batches,
        parse_batches,
        events,
    })
}
