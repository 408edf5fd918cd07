//! The per-batch cost, in process: the trace cut into the follower's 1 MiB batches, parsed and
//! fed to `weft_tui::grow::Growing` with a snapshot per batch; µs per event by step.

use std::time::Instant;

use anyhow::Result;
use weft_tui::grow::{Growing, LineParser};

use super::BATCH_BYTES;

#[derive(Clone, Debug, Default)]
pub(super) struct Batch {
    pub(super) events: usize,
    pub(super) parse: f64,
    /// `Growing::feed`: the engine, then the model.
    pub(super) engine: f64,
    pub(super) feed: f64,
    pub(super) snapshot: f64,
}

/// The per-batch costs on `text` cut like the follower cuts it, and one report read every 10
/// batches (their times).
pub(super) fn batches(text: &str) -> Result<(Vec<Batch>, Vec<f64>)> {
    let mut parser = LineParser::new("bench");
    let mut grown = Growing::new();
    let mut out = Vec::new();
    let mut reports = Vec::new();
    let mut keep = None;
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let mut end = (at + BATCH_BYTES).min(bytes.len());
        while end < bytes.len() && bytes[end - 1] != b'\n' {
            end += 1;
        }
        let t = Instant::now();
        let batch = parser.parse(&bytes[at..end])?;
        let parse = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let fed = grown.feed(batch);
        let feed = t.elapsed().as_secs_f64();
        let t = Instant::now();
        keep = Some(grown.snapshot());
        let snapshot = t.elapsed().as_secs_f64();
        out.push(Batch {
            events: fed.events,
            parse,
            engine: fed.engine.as_secs_f64(),
            feed,
            snapshot,
        });
        if out.len() % 10 == 0 {
            let t = Instant::now();
            grown.refresh_report();
            reports.push(t.elapsed().as_secs_f64());
        }
        at = end;
    }
    drop(keep);
    Ok((out, reports))
}

/// µs per event over `b`: (parse, engine, model, snapshot, all).
pub(super) fn us_per_event(b: &[Batch]) -> [f64; 5] {
    let events = b.iter().map(|x| x.events).sum::<usize>().max(1) as f64;
    let sum = |f: &dyn Fn(&Batch) -> f64| b.iter().map(f).sum::<f64>() / events * 1e6;
    [
        sum(&|x| x.parse),
        sum(&|x| x.engine),
        sum(&|x| x.feed - x.engine),
        sum(&|x| x.snapshot),
        sum(&|x| x.parse + x.feed + x.snapshot),
    ]
}

pub(super) fn us(v: [f64; 5]) -> String {
    format!(
        "{:.2} (parse {:.2} + engine {:.2} + model {:.2} + snapshot {:.2})",
        v[4], v[0], v[1], v[2], v[3]
    )
}
