//! Helpers shared by the simulator's whole-run tests.

pub mod oracle;

use weft_analyzer::{analyze, Report};
use weft_sim::{simulate, Config, Outcome};
use weft_trace::{ReadOptions, Trace};

/// Runs `cfg`: the outcome and the trace text.
pub fn run(cfg: &Config) -> (Outcome, String) {
    let mut buf = Vec::new();
    let outcome = simulate(cfg, &mut buf).expect("simulate");
    (outcome, String::from_utf8(buf).expect("utf-8 trace"))
}

/// `weft check` on a trace text.
pub fn check(trace: &str) -> Report {
    let t = Trace::from_ndjson_str("sim.jsonl", trace, &ReadOptions::default())
        .expect("the simulator writes valid traces");
    analyze(&t)
}
