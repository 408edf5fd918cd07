//! Scenario b read from Parquet: the NDJSON trace converted with `weft export --to parquet`,
//! then `weft check --format json` timed on the Parquet file as on the NDJSON one, and the two
//! reports compared byte for byte (a difference fails the scenario). This module measures;
//! `bench` prints.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::sys::{self, ChildRun, Exit};

/// What the Parquet read of scenario b measured.
pub struct Measured {
    /// The `weft export --to parquet` run, when the file was written (not reused).
    pub export: Option<ChildRun>,
    /// The Parquet file's size in bytes, and the NDJSON file's.
    pub size: u64,
    pub ndjson_size: u64,
    /// Every `weft check` run on the Parquet file.
    pub runs: Vec<ChildRun>,
    /// Whether its report is byte for byte the NDJSON file's.
    pub identical: bool,
}

impl Measured {
    /// The fastest run's time.
    pub fn time(&self) -> Duration {
        self.runs.iter().map(|r| r.time).min().unwrap_or_default()
    }

    /// The largest peak RSS of the runs.
    pub fn rss(&self) -> u64 {
        self.runs
            .iter()
            .map(|r| r.peak_rss)
            .max()
            .unwrap_or_default()
    }
}

/// The Parquet copy of `ndjson` beside it (`….parquet`), written by `weft export` unless one
/// at least as new as the NDJSON file is there (export writes it under another name and
/// renames it, so one that exists is complete).
fn convert(weft: &Path, ndjson: &Path, dir: &Path) -> Result<(PathBuf, Option<ChildRun>)> {
    let out = ndjson.with_extension("parquet");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&out).is_some() && modified(&out) >= modified(ndjson) {
        return Ok((out, None));
    }
    let err = dir.join("export-stderr.txt");
    let mut cmd = Command::new(weft);
    cmd.args(["export", "--to", "parquet"])
        .arg(ndjson)
        .arg("-o")
        .arg(&out);
    let run = sys::run_child(&mut cmd, Stdio::null(), &err)?;
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    let _ = std::fs::remove_file(&err);
    if run.exit != Exit::Code(0) {
        bail!("weft export --to parquet: {}: {}", run.exit, stderr.trim());
    }
    Ok((out, Some(run)))
}

/// Runs `weft check --format json file` with its report to `stdout`; fails unless it exits
/// 0 or 1.
fn check(weft: &Path, file: &Path, stdout: Stdio, dir: &Path) -> Result<ChildRun> {
    let err = dir.join("check-stderr.txt");
    let mut cmd = Command::new(weft);
    cmd.args(["check", "--format", "json"]).arg(file);
    let run = sys::run_child(&mut cmd, stdout, &err)?;
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    let _ = std::fs::remove_file(&err);
    if !matches!(run.exit, Exit::Code(0 | 1)) {
        bail!(
            "weft check {}: {}: {}",
            file.display(),
            run.exit,
            stderr.trim()
        );
    }
    Ok(run)
}

/// The report `weft check --format json file` prints.
fn report(weft: &Path, file: &Path, dir: &Path) -> Result<Vec<u8>> {
    let path = dir.join("report.json");
    let out = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    check(weft, file, out.into(), dir)?;
    let report = std::fs::read(&path)?;
    let _ = std::fs::remove_file(&path);
    Ok(report)
}

/// Converts scenario b's `ndjson` trace to Parquet, times `weft check` on it `repeat` times
/// (after reading it once, so that it comes from the page cache as the NDJSON file does) and
/// compares its report with the NDJSON file's.
pub fn measure(weft: &Path, dir: &Path, ndjson: &Path, repeat: u32) -> Result<Measured> {
    let (file, export) = convert(weft, ndjson, dir)?;
    std::io::copy(&mut File::open(&file)?, &mut std::io::sink())?;
    let mut runs = Vec::new();
    for _ in 0..repeat.max(1) {
        runs.push(check(weft, &file, Stdio::null(), dir)?);
    }
    Ok(Measured {
        export,
        size: std::fs::metadata(&file)?.len(),
        ndjson_size: std::fs::metadata(ndjson)?.len(),
        runs,
        identical: report(weft, ndjson, dir)? == report(weft, &file, dir)?,
    })
}
