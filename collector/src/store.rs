//! The durable store: append-only weft-trace/1 segment files in one directory.
//!
//! `DIR/segment-000001.jsonl`, `segment-000002.jsonl`, ... each start with a header line and
//! hold events in arrival order, one per line, so `weft check DIR` and `weft tui DIR` read the
//! directory as it is. A segment is closed when it reaches the size limit.
//!
//! Durability: [`Store::append`] writes, [`Store::sync`] makes everything written so far durable
//! (`fdatasync`, plus the directory when a segment was created). The writer acknowledges a
//! request only after the sync that covers it. After a crash, [`Store::open`] keeps every
//! complete line and cuts a torn tail — a last line without its newline, or lines that do not
//! parse at the very end of the last segment (a crash between extending a file and writing its
//! data can leave zeros) — so every acknowledged event survives and nothing half-written does.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use weft_trace::{CheckedLine, LineChecker};

/// Every this many events the index remembers where an event starts, for resuming streams.
pub const CHECKPOINT_EVERY: u64 = 1024;

/// Why the store could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The OS refused an operation on `path`.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory.
        path: String,
        /// What the OS said.
        #[source]
        error: io::Error,
    },
    /// A segment other than the last holds a line that is not a valid event: that is not a
    /// torn write, so it is not cut; the operator must look.
    #[error("{path}:{line}: corrupt segment (not at the tail of the last segment): {reason}")]
    Corrupt {
        /// The segment.
        path: String,
        /// 1-based line.
        line: u64,
        /// Why the line is invalid.
        reason: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |error| StoreError::Io {
        path: path.display().to_string(),
        error,
    }
}

/// One event ready to store: its line (no newline) and identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The JSON line.
    pub bytes: Vec<u8>,
    /// Its replica.
    pub replica: String,
    /// Its seq.
    pub seq: u64,
    /// Its content fingerprint.
    pub fingerprint: u64,
}

/// What appending a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Appended {
    /// Lines written.
    pub stored: u64,
    /// Exact copies of stored events, dropped.
    pub duplicates: u64,
    /// Different copies of stored ids, stored anyway (the analyzer flags them).
    pub conflicting: u64,
}

/// Where a segment's events start.
#[derive(Clone, Debug)]
pub struct Segment {
    /// Its file.
    pub path: PathBuf,
    /// Arrival number of its first event.
    pub first_event: u64,
}

/// Where event number `event` starts: segment index and byte offset.
#[derive(Clone, Copy, Debug)]
pub struct Checkpoint {
    /// Arrival number.
    pub event: u64,
    /// Index into the segment list.
    pub segment: usize,
    /// Byte offset of the event's line.
    pub offset: u64,
}

/// Per-replica counters for the status page.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReplicaStats {
    /// Events stored.
    pub events: u64,
    /// Largest seq stored.
    pub last_seq: u64,
}

/// The index readers use to find stored events: shared with stream readers.
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// Segments in order.
    pub segments: Vec<Segment>,
    /// Sparse positions of events.
    pub checkpoints: Vec<Checkpoint>,
    /// Events durably stored (readers never read past this).
    pub committed: u64,
}

/// What recovery found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Events found.
    pub events: u64,
    /// Bytes cut from the tail of the last segment.
    pub truncated_bytes: u64,
    /// Complete-looking lines cut with them.
    pub truncated_lines: u64,
}

/// The store. Owned by one writer thread.
pub struct Store {
    dir: PathBuf,
    segment_bytes: u64,
    /// The segment being appended to (set once recovery has read every segment).
    file: Option<File>,
    file_bytes: u64,
    dir_dirty: bool,
    /// (hash of replica name, seq) → fingerprint: no string kept per event.
    seen: FxHashMap<(u64, u64), u64>,
    /// Bytes appended but not yet written to the file (written in one call per group).
    pending: Vec<u8>,
    /// Per replica.
    pub replicas: BTreeMap<String, ReplicaStats>,
    /// Events stored.
    pub events: u64,
    /// Bytes of event lines stored.
    pub bytes: u64,
    /// Exact duplicates dropped since start.
    pub duplicates: u64,
    /// Conflicting duplicates stored since start (and found in recovery).
    pub conflicting: u64,
    index: Index,
    written_since_sync: bool,
}

/// The dedupe key of a replica name: a content hash, so the index keeps no string per event.
fn id_hash(replica: &str) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    h.write(replica.as_bytes());
    // FxHash alone is weak on similar strings: finish with a full avalanche.
    let mut x = h.finish() ^ replica.len() as u64;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

fn segment_name(n: u32) -> String {
    format!("segment-{n:06}.jsonl")
}

fn parse_segment_name(name: &str) -> Option<u32> {
    name.strip_prefix("segment-")?
        .strip_suffix(".jsonl")?
        .parse()
        .ok()
}

fn header(n: u32) -> String {
    format!("{{\"format\":\"weft-trace/1\",\"name\":\"weft collector\",\"segment\":{n}}}\n")
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, recovering from a crash.
    pub fn open(dir: &Path, segment_bytes: u64) -> Result<(Store, Recovery), StoreError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let mut numbers: Vec<u32> = std::fs::read_dir(dir)
            .map_err(io_err(dir))?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().and_then(parse_segment_name))
            .collect();
        numbers.sort_unstable();
        let mut store = Store {
            dir: dir.to_path_buf(),
            segment_bytes: segment_bytes.max(4096),
            file: None,
            file_bytes: 0,
            dir_dirty: false,
            seen: FxHashMap::default(),
            pending: Vec::new(),
            replicas: BTreeMap::new(),
            events: 0,
            bytes: 0,
            duplicates: 0,
            conflicting: 0,
            index: Index::default(),
            written_since_sync: false,
        };
        let mut recovery = Recovery::default();
        for (i, &n) in numbers.iter().enumerate() {
            let last = i + 1 == numbers.len();
            store.load_segment(n, last, &mut recovery)?;
        }
        if numbers.is_empty() {
            store.new_segment(1)?;
            store.sync().map_err(io_err(dir))?;
        } else {
            let n = *numbers.last().expect("not empty");
            let path = dir.join(segment_name(n));
            let f = OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(io_err(&path))?;
            store.file_bytes = f.metadata().map_err(io_err(&path))?.len();
            store.file = Some(f);
        }
        recovery.events = store.events;
        store.index.committed = store.events;
        Ok((store, recovery))
    }

    fn load_segment(
        &mut self,
        n: u32,
        last: bool,
        recovery: &mut Recovery,
    ) -> Result<(), StoreError> {
        let path = self.dir.join(segment_name(n));
        let file = File::open(&path).map_err(io_err(&path))?;
        let len = file.metadata().map_err(io_err(&path))?.len();
        let segment = self.index.segments.len();
        self.index.segments.push(Segment {
            path: path.clone(),
            first_event: self.events,
        });
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut checker = LineChecker::new();
        let mut buf = Vec::new();
        let mut offset = 0u64;
        let mut line_no = 0u64;
        // Where the valid prefix ends, and the first invalid line after it.
        let mut good_end = 0u64;
        let mut bad: Option<(u64, String)> = None;
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf).map_err(io_err(&path))? as u64;
            if n == 0 {
                break;
            }
            line_no += 1;
            let complete = buf.last() == Some(&b'\n');
            let body = if complete {
                &buf[..buf.len() - 1]
            } else {
                &buf[..]
            };
            let checked = if complete {
                checker.check(body).map_err(|e| e.reason)
            } else {
                Err("torn line (no newline)".to_string())
            };
            match (checked, &bad) {
                (Ok(c), None) => {
                    if let CheckedLine::Event {
                        replica,
                        seq,
                        fingerprint,
                    } = c
                    {
                        if self.events % CHECKPOINT_EVERY == 0 {
                            self.index.checkpoints.push(Checkpoint {
                                event: self.events,
                                segment,
                                offset,
                            });
                        }
                        self.note(&replica, seq, fingerprint, n - 1);
                    }
                    good_end = offset + n;
                }
                (Ok(_), Some(_)) | (Err(_), Some(_)) => {}
                (Err(reason), None) => bad = Some((line_no, reason)),
            }
            offset += n;
        }
        if let Some((line, reason)) = bad {
            if !last {
                return Err(StoreError::Corrupt {
                    path: path.display().to_string(),
                    line,
                    reason,
                });
            }
            // A torn tail: cut it.
            recovery.truncated_bytes += len - good_end;
            recovery.truncated_lines += line_no - line + 1;
            let f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io_err(&path))?;
            f.set_len(good_end).map_err(io_err(&path))?;
            f.sync_all().map_err(io_err(&path))?;
        }
        Ok(())
    }

    /// Records a stored event in the in-memory tables.
    fn note(&mut self, replica: &str, seq: u64, fingerprint: u64, bytes: u64) {
        match self.seen.entry((id_hash(replica), seq)) {
            std::collections::hash_map::Entry::Occupied(e) => {
                if *e.get() != fingerprint {
                    self.conflicting += 1;
                }
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(fingerprint);
            }
        }
        let stats = match self.replicas.get_mut(replica) {
            Some(s) => s,
            None => self.replicas.entry(replica.to_string()).or_default(),
        };
        stats.events += 1;
        stats.last_seq = stats.last_seq.max(seq);
        self.events += 1;
        self.bytes += bytes;
    }

    fn new_segment(&mut self, n: u32) -> Result<(), StoreError> {
        let path = self.dir.join(segment_name(n));
        let mut f = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let h = header(n);
        f.write_all(h.as_bytes()).map_err(io_err(&path))?;
        self.file = Some(f);
        self.file_bytes = h.len() as u64;
        self.index.segments.push(Segment {
            path,
            first_event: self.events,
        });
        self.dir_dirty = true;
        self.written_since_sync = true;
        Ok(())
    }

    fn open_file(&mut self) -> &mut File {
        self.file
            .as_mut()
            .expect("Store::open leaves a segment open")
    }

    /// Appends a batch (not yet durable: call [`Store::sync`]). Exact duplicates of stored
    /// events, and of earlier lines of the same batch, are dropped.
    pub fn append(&mut self, lines: &[Line]) -> Result<Appended, StoreError> {
        let mut out = Appended::default();
        for l in lines {
            if let Some(&fp) = self.seen.get(&(id_hash(&l.replica), l.seq)) {
                if fp == l.fingerprint {
                    out.duplicates += 1;
                    self.duplicates += 1;
                    continue;
                }
                out.conflicting += 1;
            }
            if self.file_bytes >= self.segment_bytes {
                let next = self.index.segments.len() as u32 + 1;
                let n = parse_segment_name(
                    self.index
                        .segments
                        .last()
                        .and_then(|s| s.path.file_name())
                        .and_then(|n| n.to_str())
                        .unwrap_or(""),
                )
                .map_or(next, |n| n + 1);
                self.sync().map_err(io_err(&self.dir))?;
                self.new_segment(n)?;
            }
            if self.events % CHECKPOINT_EVERY == 0 {
                let segment = self.index.segments.len() - 1;
                self.index.checkpoints.push(Checkpoint {
                    event: self.events,
                    segment,
                    offset: self.file_bytes,
                });
            }
            self.pending.extend_from_slice(&l.bytes);
            self.pending.push(b'\n');
            self.file_bytes += l.bytes.len() as u64 + 1;
            self.written_since_sync = true;
            self.note(&l.replica, l.seq, l.fingerprint, l.bytes.len() as u64);
            out.stored += 1;
        }
        Ok(out)
    }

    /// Makes everything appended so far durable and visible to readers.
    pub fn sync(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            let written = self.open_file().write_all(&pending);
            self.pending = pending;
            self.pending.clear();
            written?;
        }
        if self.written_since_sync {
            self.open_file().sync_data()?;
            self.written_since_sync = false;
        }
        if self.dir_dirty {
            File::open(&self.dir)?.sync_all()?;
            self.dir_dirty = false;
        }
        self.index.committed = self.events;
        Ok(())
    }

    /// A copy of the index for readers.
    pub fn index(&self) -> Index {
        self.index.clone()
    }

    /// Brings a readers' copy of the index up to date, copying only what is new.
    pub fn publish(&self, to: &mut Index) {
        to.segments.extend_from_slice(
            &self.index.segments[to.segments.len().min(self.index.segments.len())..],
        );
        to.checkpoints.extend_from_slice(
            &self.index.checkpoints[to.checkpoints.len().min(self.index.checkpoints.len())..],
        );
        to.committed = self.index.committed;
    }
}

/// Reads stored lines from event number `from` up to `until` (exclusive), calling `emit` with
/// each line (no newline). Used by stream readers; never reads past what was committed.
pub fn read_range(
    index: &Index,
    from: u64,
    until: u64,
    mut emit: impl FnMut(&[u8]) -> bool,
) -> io::Result<u64> {
    if from >= until {
        return Ok(from);
    }
    let cp = match index.checkpoints.partition_point(|c| c.event <= from) {
        0 => return Ok(from),
        i => index.checkpoints[i - 1],
    };
    let mut event = cp.event;
    let mut segment = cp.segment;
    let mut offset = cp.offset;
    let mut buf = Vec::new();
    while event < until && segment < index.segments.len() {
        let mut f = File::open(&index.segments[segment].path)?;
        f.seek(SeekFrom::Start(offset))?;
        let mut r = BufReader::with_capacity(1 << 16, f);
        let mut at_start = offset == 0;
        loop {
            if event >= until {
                return Ok(event);
            }
            buf.clear();
            let n = r.read_until(b'\n', &mut buf)?;
            if n == 0 || buf.last() != Some(&b'\n') {
                break;
            }
            let line = &buf[..buf.len() - 1];
            if std::mem::take(&mut at_start) {
                continue; // the segment's header line
            }
            if event >= from && !emit(line) {
                return Ok(event + 1);
            }
            event += 1;
        }
        segment += 1;
        offset = 0;
    }
    Ok(event)
}
