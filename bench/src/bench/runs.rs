//! The measurements a scenario takes: its trace file, the parse floor in a fresh
//! `weft-bench floor --json` process, and `weft check --format json`, each repeated.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};

use super::{bytes, first_line, per_sec, rate, secs, trace_file, warm, Bench};
use crate::floor;
use crate::gen::GenConfig;
use crate::sys::{self, Exit};

impl Bench<'_> {
    /// The trace file for `cfg` (see [`trace_file`]).
    pub(super) fn trace(&self, cfg: &GenConfig) -> Result<PathBuf> {
        trace_file(&self.dir, cfg)
    }

    /// Parse floor of `file` (see [`floor`]), each run in a fresh `weft-bench floor --json`
    /// process after warming the page cache: the fastest of `repeat` runs.
    pub(super) fn floor(&self, file: &Path) -> Result<floor::Measured> {
        warm(file)?;
        let exe = std::env::current_exe().context("locating weft-bench itself")?;
        let out_path = self.dir.join("floor-stdout.json");
        let err_path = self.dir.join("floor-stderr.txt");
        let mut best: Option<floor::Measured> = None;
        for _ in 0..self.opts.repeat.max(1) {
            let out = File::create(&out_path)
                .with_context(|| format!("creating {}", out_path.display()))?;
            let mut cmd = Command::new(&exe);
            cmd.args(["floor", "--json"]).arg(file);
            let run = sys::run_child(&mut cmd, out.into(), &err_path)?;
            let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
            let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
            let _ = std::fs::remove_file(&out_path);
            let _ = std::fs::remove_file(&err_path);
            if run.exit != Exit::Code(0) {
                anyhow::bail!(
                    "parse floor of {}: {}: {}",
                    file.display(),
                    run.exit,
                    stderr.trim()
                );
            }
            let mut m = floor::Measured::from_json(&stdout)?;
            m.floor.peak_rss = Some(run.peak_rss);
            best = Some(match best {
                None => m,
                // Fastest floor; fastest parse-only and tape-only, independently.
                Some(b) => {
                    let parse_only = b.parse_only.min(m.parse_only);
                    let tape_only = b.tape_only.min(m.tape_only);
                    let mut keep = if m.floor.time < b.floor.time { m } else { b };
                    keep.parse_only = parse_only;
                    keep.tape_only = tape_only;
                    keep
                }
            });
        }
        let m = best.expect("at least one run");
        let f = &m.floor;
        println!(
            "  parse floor (serde_json into Vec<Event>, 1 thread): {} = {}/s \
             (user {}, sys {}), peak RSS {}",
            secs(f.time),
            per_sec(rate(f.events as u64, f.time)),
            secs(f.user),
            secs(f.sys),
            f.peak_rss.map_or_else(|| "?".to_owned(), bytes)
        );
        println!(
            "  parse only (events dropped as parsed): {} = {}/s",
            secs(m.parse_only),
            per_sec(rate(f.events as u64, m.parse_only))
        );
        println!(
            "  tape only (simd-json's structure and tape of each line, no events, 1 thread): {} = {}/s",
            secs(m.tape_only),
            per_sec(rate(f.events as u64, m.tape_only))
        );
        Ok(m)
    }

    /// Runs `weft check --format json file` `repeat` times: `None` without a weft binary
    /// (`prepare`), else the fastest time and the largest peak RSS, or why it failed.
    #[allow(clippy::type_complexity)]
    pub(super) fn weft(
        &self,
        file: &Path,
    ) -> Result<Option<std::result::Result<(Duration, u64), String>>> {
        let Some(weft) = &self.weft else {
            return Ok(None);
        };
        warm(file)?;
        let stderr_path = self.dir.join("weft-stderr.txt");
        let mut best: Option<Duration> = None;
        let mut max_rss = 0;
        for _ in 0..self.opts.repeat.max(1) {
            let mut cmd = Command::new(weft);
            cmd.args(["check", "--format", "json"]).arg(file);
            let run = sys::run_child(&mut cmd, Stdio::null(), &stderr_path)?;
            let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            let _ = std::fs::remove_file(&stderr_path);
            match run.exit {
                Exit::Code(0 | 1) => {}
                other => {
                    let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
                    let tail: Vec<&str> = tail.into_iter().rev().collect();
                    return Ok(Some(Err(format!(
                        "weft check {} after {}: {}",
                        other,
                        secs(run.time),
                        if tail.is_empty() {
                            "(no stderr)".to_owned()
                        } else {
                            tail.join(" | ")
                        }
                    ))));
                }
            }
            let Exit::Code(code) = run.exit else {
                unreachable!()
            };
            println!(
                "  weft check: {} = {}/s (user {}, sys {}), peak RSS {}, exit {}",
                secs(run.time),
                per_sec(rate(events_in(file), run.time)),
                secs(run.user),
                secs(run.sys),
                bytes(run.peak_rss),
                code
            );
            best = Some(best.map_or(run.time, |b| b.min(run.time)));
            max_rss = max_rss.max(run.peak_rss);
        }
        Ok(Some(Ok((best.expect("at least one run"), max_rss))))
    }
}

/// Event count recorded in a generated file's header (0 if unreadable).
fn events_in(path: &Path) -> u64 {
    first_line(path)
        .and_then(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
        .and_then(|v| v["events"].as_u64())
        .unwrap_or(0)
}
