//! The four `check` scenarios (a–d) as steps of [`Bench`]: what each runs and how it is judged;
//! and how the Parquet read of scenario b is shown.

use anyhow::Result;

use super::{bytes, count, per_sec, rate, secs, Bench, Id, Row, Verdict, GIB};
use crate::gen::GenConfig;
use std::time::Duration;

impl Bench<'_> {
    pub(super) fn scenario_a(&mut self, cfg: &GenConfig) -> Result<Row> {
        println!(
            "[a] {} events, {} replicas, {} keys, vc+lamport",
            cfg.events, cfg.replicas, cfg.keys
        );
        let mut row = Row::new(Id::A, cfg, "time <= 0.75x floor, RSS <= 1 GiB".to_owned());
        let file = self.trace(cfg)?;
        let m = self.floor(&file)?;
        let fl = m.floor.time;
        row.floor = Some(fl);
        row.parse_only = Some(m.parse_only);
        let Some(w) = self.weft(&file)? else {
            return Ok(row);
        };
        if let Some((time, rss)) = row.measured(w) {
            let ratio = time.as_secs_f64() / fl.as_secs_f64();
            row.ratio = Some(ratio);
            // Issue 16's target (it was 2x before).
            row.verdict = Verdict::judge(ratio <= 0.75 && rss <= GIB);
        }
        Ok(row)
    }

    pub(super) fn scenario_b(&mut self, cfg: &GenConfig) -> Result<Row> {
        println!(
            "[b] {} events, {} replicas, {} keys, vc+lamport; then read from Parquet",
            cfg.events, cfg.replicas, cfg.keys
        );
        let mut row = Row::new(Id::B, cfg, ">= 1,000,000 events/s".to_owned());
        let file = self.trace(cfg)?;
        let m = self.floor(&file)?;
        row.floor = Some(m.floor.time);
        row.parse_only = Some(m.parse_only);
        let Some(w) = self.weft(&file)? else {
            return Ok(row);
        };
        let Some((time, _)) = row.measured(w) else {
            return Ok(row);
        };
        row.ratio = row.floor.map(|f| time.as_secs_f64() / f.as_secs_f64());
        self.b_time = Some(time);
        row.verdict = Verdict::judge(rate(cfg.events, time) >= 1e6);
        let weft = self.weft.as_deref().expect("weft ran");
        let p = crate::parquet::measure(weft, &self.dir, &file, self.opts.repeat)?;
        print_parquet(&p, cfg.events);
        if !p.identical {
            row.verdict = Verdict::Fail(
                "the report from the Parquet copy differs from the NDJSON one".to_owned(),
            );
        }
        self.parquet = Some(p);
        Ok(row)
    }

    pub(super) fn scenario_c(&mut self, base: &GenConfig, cfg: &GenConfig) -> Result<Row> {
        println!(
            "[c] linearity: {} vs {} events, {} replicas, vc+lamport",
            cfg.events, base.events, cfg.replicas
        );
        let mut row = Row::new(
            Id::C,
            cfg,
            format!(
                "time <= {:.1}x the {} time",
                linear_limit(base, cfg),
                count(base.events)
            ),
        );
        let base_file = self.trace(base)?;
        let file = self.trace(cfg)?;
        if self.weft.is_none() {
            return Ok(row);
        }
        let base_time = match self.b_time {
            Some(t) => {
                println!("  {} time from scenario b: {}", count(base.events), secs(t));
                t
            }
            None => {
                println!("  baseline: the {} events file", count(base.events));
                match self.weft(&base_file)?.expect("weft present") {
                    Ok((t, _)) => t,
                    Err(why) => {
                        row.verdict = Verdict::Fail(format!("on the {} file: {why}", base.events));
                        return Ok(row);
                    }
                }
            }
        };
        if let Some((time, _)) = row.measured(self.weft(&file)?.expect("weft present")) {
            let ratio = time.as_secs_f64() / base_time.as_secs_f64();
            row.ratio = Some(ratio);
            row.verdict = Verdict::judge(ratio <= linear_limit(base, cfg));
        }
        Ok(row)
    }

    pub(super) fn scenario_d(&mut self, cfg: &GenConfig) -> Result<Row> {
        println!(
            "[d] {} events, {} replicas, {} keys, message edges only (no vc/lamport)",
            cfg.events, cfg.replicas, cfg.keys
        );
        let mut row = Row::new(Id::D, cfg, "time <= 10 s, RSS <= 2 GiB".to_owned());
        let file = self.trace(cfg)?;
        let Some(w) = self.weft(&file)? else {
            return Ok(row);
        };
        if let Some((time, rss)) = row.measured(w) {
            row.verdict = Verdict::judge(time <= Duration::from_secs(10) && rss <= 2 * GIB);
        }
        Ok(row)
    }
}

/// What the Parquet read of scenario b measured, as the other runs are shown.
fn print_parquet(p: &crate::parquet::Measured, events: u64) {
    if let Some(e) = &p.export {
        println!(
            "  weft export --to parquet: {} (user {}), peak RSS {}",
            secs(e.time),
            secs(e.user),
            bytes(e.peak_rss)
        );
    }
    println!(
        "  Parquet file: {} ({:.1}% of the NDJSON file's {})",
        bytes(p.size),
        100.0 * p.size as f64 / p.ndjson_size as f64,
        bytes(p.ndjson_size)
    );
    for r in &p.runs {
        println!(
            "  weft check (Parquet): {} = {}/s (user {}, sys {}), peak RSS {}",
            secs(r.time),
            per_sec(rate(events, r.time)),
            secs(r.user),
            secs(r.sys),
            bytes(r.peak_rss)
        );
    }
    let same = if p.identical { "is" } else { "is NOT" };
    println!("  the report from Parquet {same} byte for byte the report from NDJSON");
}

/// Allowed time ratio for `cfg` against `base`: proportional to size, plus 10% (4.4x for 4x).
fn linear_limit(base: &GenConfig, cfg: &GenConfig) -> f64 {
    1.1 * cfg.events as f64 / base.events as f64
}
