//! Files and directories: the trace files of the scenarios (named by shape, reused when
//! complete, else generated), warming the page cache, and the work directory.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use super::{bytes, secs};
use crate::gen::{self, GenConfig};

/// The first line of a file, without its line ending.
pub fn first_line(path: &Path) -> Option<String> {
    let mut line = String::new();
    BufReader::new(File::open(path).ok()?)
        .read_line(&mut line)
        .ok()?;
    Some(line.trim_end().to_owned())
}

fn header_matches(path: &Path, cfg: &GenConfig) -> bool {
    first_line(path).is_some_and(|l| l == cfg.header_line())
}

/// Canonical file name of a scenario trace, so `--keep` directories can be reused.
pub fn file_name(cfg: &GenConfig) -> String {
    format!(
        "weft-bench-{}ev-{}r-{}k-{}-s{}.ndjson",
        cfg.events,
        cfg.replicas,
        cfg.keys,
        if cfg.clocks { "clocks" } else { "noclocks" },
        cfg.seed
    )
}

/// The trace file for `cfg` in `dir`: reused when a complete one with the same header exists
/// (always complete: generation writes a temp file and renames it), else generated.
pub(crate) fn trace_file(dir: &Path, cfg: &GenConfig) -> Result<PathBuf> {
    let path = dir.join(file_name(cfg));
    if header_matches(&path, cfg) {
        println!("  reusing {}", path.display());
        return Ok(path);
    }
    let start = Instant::now();
    let stats =
        gen::generate_file(cfg, &path).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "  generated {} in {} ({}, {} sends, max {} in flight)",
        path.display(),
        secs(start.elapsed()),
        bytes(stats.bytes),
        stats.sends,
        stats.max_in_flight
    );
    Ok(path)
}

/// Reads the whole file once so that both the floor and `weft` read it from the page cache.
pub(crate) fn warm(path: &Path) -> Result<()> {
    let mut f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    while f.read(&mut buf)? > 0 {}
    Ok(())
}

/// The directory for trace files: `--keep DIR` (created, kept) or a fresh temp dir that is
/// removed when this is dropped.
pub(crate) struct WorkDir {
    pub(crate) path: PathBuf,
    remove: bool,
}

impl WorkDir {
    pub(crate) fn new(keep: Option<&Path>) -> Result<Self> {
        let (path, remove) = match keep {
            Some(p) => (p.to_path_buf(), false),
            None => (
                std::env::temp_dir().join(format!("weft-bench-{}", std::process::id())),
                true,
            ),
        };
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(WorkDir { path, remove })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
