//! The one file through which a running collector tells readers of its data directory how far
//! its last segment is durable.
//!
//! A collector holds an OS lock on `DIR/collector.lock` and rewrites it after every commit:
//!
//! ```text
//! 4242
//! committed segment-000003.jsonl 00000000000000123456 1b2c3d4e5f607182
//! ```
//!
//! — its pid, then the last segment's name and its length as of the last `fdatasync`, with a
//! checksum of both. A reader that finds a valid line naming the segment it is about to read
//! reads only that many bytes: everything before is durable and will never be cut back, so
//! `weft check DIR` never sees a line the collector may still roll back after a failed write.
//! The file is rewritten in place with a fixed-width line; a read that races the rewrite fails
//! the checksum, and the reader falls back to "up to the last newline".
//!
//! ```
//! use weft_trace::collector_dir::{commit_line, parse_commit};
//!
//! let text = format!("4242\n{}\n", commit_line("segment-000003.jsonl", 123_456));
//! assert_eq!(parse_commit(&text), Some(("segment-000003.jsonl".to_string(), 123_456)));
//! assert_eq!(parse_commit(&text.replace("123456", "123457")), None);
//! ```

use std::io::Read;
use std::path::Path;

/// The lock file's name inside a collector's data directory.
pub const LOCK_FILE: &str = "collector.lock";

/// FNV-1a over the segment name and length: enough to tell a torn read from a whole line.
fn check(segment: &str, bytes: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in segment.bytes().chain(bytes.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The commit line (no newline) saying `segment` is durable up to `bytes`.
pub fn commit_line(segment: &str, bytes: u64) -> String {
    format!(
        "committed {segment} {bytes:020} {:016x}",
        check(segment, bytes)
    )
}

/// The (segment name, durable length) of a lock file's text, if it holds a whole, valid
/// commit line.
pub fn parse_commit(text: &str) -> Option<(String, u64)> {
    let line = text.lines().find(|l| l.starts_with("committed "))?;
    let mut parts = line.split(' ').skip(1);
    let (segment, bytes, sum) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || bytes.len() != 20 || sum.len() != 16 {
        return None;
    }
    let bytes: u64 = bytes.parse().ok()?;
    let sum = u64::from_str_radix(sum, 16).ok()?;
    (sum == check(segment, bytes)).then(|| (segment.to_string(), bytes))
}

/// How many bytes of `segment` (a path inside a collector's data directory) the collector has
/// made durable, when its lock file says so.
pub fn committed_length(segment: &Path) -> Option<u64> {
    let name = segment.file_name()?.to_str()?;
    let mut text = String::new();
    std::fs::File::open(segment.parent()?.join(LOCK_FILE))
        .ok()?
        .take(4096)
        .read_to_string(&mut text)
        .ok()?;
    let (named, bytes) = parse_commit(&text)?;
    (named == name).then_some(bytes)
}
