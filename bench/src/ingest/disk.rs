//! Files on disk: the raw floor (i), appending request bodies to a file with `fdatasync`, and
//! counting the event lines in the collector's segment files after it stopped.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::load::percentile;
use crate::sys;

/// What one floor run measured.
pub(super) struct Floor {
    pub(super) every: usize,
    pub(super) events: u64,
    pub(super) bytes: u64,
    pub(super) time: Duration,
    pub(super) p50: Duration,
    pub(super) p99: Duration,
    pub(super) cpu: Duration,
}

/// Appends `bodies` to a fresh file in `dir`, one `write` per batch, `fdatasync` every
/// `every` batches (and at the end), stopping after `seconds`.
pub(super) fn floor(
    dir: &Path,
    bodies: &[(&[u8], u64)],
    every: usize,
    seconds: f64,
) -> Result<Floor> {
    let path = dir.join("floor.jsonl");
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(b"{\"format\":\"weft-trace/1\",\"name\":\"weft-bench floor\"}\n")?;
    f.sync_all()?;
    let cpu0 = sys::self_cpu();
    let start = Instant::now();
    let limit = Duration::from_secs_f64(seconds);
    let mut groups = Vec::new();
    let (mut events, mut bytes) = (0u64, 0u64);
    let mut group_start = start;
    for (i, (body, n)) in bodies.iter().enumerate() {
        f.write_all(body)?;
        events += n;
        bytes += body.len() as u64;
        let last = i + 1 == bodies.len() || start.elapsed() >= limit;
        if (i + 1) % every == 0 || last {
            f.sync_data()?;
            let now = Instant::now();
            groups.push(now - group_start);
            group_start = now;
        }
        if last {
            break;
        }
    }
    let time = start.elapsed();
    let cpu1 = sys::self_cpu();
    drop(f);
    let _ = std::fs::remove_file(&path);
    groups.sort_unstable();
    Ok(Floor {
        every,
        events,
        bytes,
        time,
        p50: percentile(&groups, 50.0),
        p99: percentile(&groups, 99.0),
        cpu: (cpu1.0 + cpu1.1).saturating_sub(cpu0.0 + cpu0.1),
    })
}

/// Event lines in the segment files of a data directory (the header line of each left out),
/// and the number of segments.
pub(super) fn events_on_disk(data: &Path) -> Result<(u64, usize)> {
    let mut lines = 0u64;
    let mut segments = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    for e in std::fs::read_dir(data).with_context(|| format!("reading {}", data.display()))? {
        let e = e?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with("segment-") && name.ends_with(".jsonl")) {
            continue;
        }
        segments += 1;
        let mut f = File::open(e.path())?;
        let mut n = 0u64;
        loop {
            let k = f.read(&mut buf)?;
            if k == 0 {
                break;
            }
            n += buf[..k].iter().filter(|&&b| b == b'\n').count() as u64;
        }
        lines += n.saturating_sub(1);
    }
    Ok((lines, segments))
}
