//! The durable store: append-only weft-trace/1 segment files in one directory.
//!
//! `DIR/segment-000001.jsonl`, `segment-000002.jsonl`, ... each start with a header line and
//! hold events in arrival order, one per line, so `weft check DIR` and `weft tui DIR` read the
//! directory as it is. A segment is closed once it reaches the size limit (at a batch boundary,
//! so it can exceed the limit by at most one batch). `DIR/collector.lock` holds an OS lock for as
//! long as a collector has the directory open (see [`lock`]).
//!
//! # Durability: like a database's write-ahead log
//!
//! [`Store::commit_group`] takes a group of batches, writes them with one `write` per segment,
//! `fdatasync`s, and only then counts them: the dedupe index, the counters, the readers' index
//! and every acknowledgement describe durable events only. Each batch's outcome is exact — it is
//! either wholly durable or wholly refused.
//!
//! On any failed write, `fdatasync` or directory sync the store returns to its last durable
//! state: it forgets what the group staged in memory, drops the file descriptor (after a failed
//! `fdatasync` the kernel may already have thrown the dirty pages away and marked them clean —
//! "fsyncgate" — so nothing more written or synced through that descriptor proves anything),
//! reopens the segment through a new descriptor, cuts it back to the last `fdatasync`ed length
//! and syncs that cut. Refused batches can simply be retried. If the cut itself fails, the store
//! refuses every write ([`Health::Failed`]) and retries the repair before each group and about
//! once a second. An out-of-space error puts the store in [`Health::Full`]: writes are refused at
//! once (without touching the disk) until the file system has room again.
//!
//! After a crash, [`Store::open`] keeps every complete line and cuts a torn tail of the last
//! segment — lines that do not parse at its very end, of any size, read with bounded memory —
//! then syncs the segment before counting anything in it. A bad line followed by good ones is
//! not a torn write but corruption: the collector stops with the file and line.

mod lock;
mod recover;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::io::{self, OsIo, SegmentFile, StorageIo};
pub use lock::DirLock;
pub use recover::read_range;

/// Every this many events the index remembers where an event starts, for resuming streams.
pub const CHECKPOINT_EVERY: u64 = 1024;

/// While the disk is full, writing is tried again once this much space (or the group's size, if
/// smaller) is free.
const RESUME_SPACE: u64 = 1 << 20;

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The OS refused an operation on `path`.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory.
        path: String,
        /// What the OS said.
        #[source]
        error: std::io::Error,
    },
    /// A line that is not a valid event, with valid events after it (or in a segment other than
    /// the last): that is not a torn write, so it is not cut; the operator must look.
    #[error("{path}:{line}: corrupt segment (not at the tail of the last segment): {reason}")]
    Corrupt {
        /// The segment.
        path: String,
        /// 1-based line.
        line: u64,
        /// Why the line is invalid.
        reason: String,
    },
    /// Another process holds the directory's lock.
    #[error("{dir} is in use by another weft collector ({holder}); stop it, or give this one another --data directory")]
    Locked {
        /// The data directory.
        dir: String,
        /// Who holds it, as far as the lock file says ("pid 1234").
        holder: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |error| StoreError::Io {
        path: path.display().to_string(),
        error,
    }
}

/// Why a batch was not stored. Either way the store is back in its last durable state, and
/// nothing of the batch is stored: retrying it later is safe.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The file system is full (or the user's quota is reached).
    #[error("the disk is full, writes are refused until space is freed: {0}")]
    Full(String),
    /// The write, `fdatasync` or repair failed.
    #[error("the store could not write: {0}")]
    Failed(String),
}

/// Whether the store is taking writes: a part of the HTTP API (`/v1/status`), so its type is
/// the wire contract's.
pub use weft_api::http::Health;

/// One event ready to store: its line (no newline) and identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The JSON line: for NDJSON a slice of the request body it came in (no copy, no allocation
    /// per line), for OTLP the line written from the record.
    pub bytes: bytes::Bytes,
    /// Its replica.
    pub replica: String,
    /// Its seq.
    pub seq: u64,
    /// Its content fingerprint.
    pub fingerprint: u64,
}

/// What storing a batch did.
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

/// Per-replica counters for the status page (the wire contract's type).
pub use weft_api::http::ReplicaStatus as ReplicaStats;

/// The index readers use to find stored events: shared with stream readers.
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// Segments in order.
    pub segments: Vec<Segment>,
    /// Sparse positions of durable events.
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
    /// Lines (complete or not) cut with them.
    pub truncated_lines: u64,
}

/// What a group has staged but not yet made durable: undone on failure, counted on success.
#[derive(Default)]
struct Staged {
    /// Dedupe keys the staged lines inserted (removed again on rollback).
    inserted: Vec<(u64, u64)>,
    checkpoints: Vec<Checkpoint>,
    events: u64,
    bytes: u64,
    duplicates: u64,
    conflicting: u64,
    /// Batches of the group in this unit: index in the group, its outcome if durable, and
    /// which of its lines are stored (not dropped as exact duplicates).
    batches: Vec<(usize, Appended, Vec<bool>)>,
}

/// The store. Owned by one writer thread.
pub struct Store {
    dir: PathBuf,
    segment_bytes: u64,
    io: Arc<dyn StorageIo>,
    lock: DirLock,
    /// The segment being appended to; `None` after a failed repair, until one succeeds.
    file: Option<Box<dyn SegmentFile>>,
    /// Its number.
    current: u32,
    /// Its length as of the last successful `fdatasync`.
    durable_bytes: u64,
    /// Its length with what is staged.
    file_bytes: u64,
    /// A segment was created and the directory not yet synced.
    dir_dirty: bool,
    /// (hash of replica name, seq) → fingerprint: no string kept per event.
    seen: FxHashMap<(u64, u64), u64>,
    /// Bytes staged for the current segment (written in one call per unit).
    pending: Vec<u8>,
    staged: Staged,
    health: Health,
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
    /// Write failures since start (each returned the store to its durable state).
    pub write_errors: u64,
    /// The last write failure, for the status page.
    pub last_error: Option<String>,
    index: Index,
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

fn describe(e: &std::io::Error) -> String {
    e.to_string()
}

impl Store {
    /// Opens (creating if needed) the store in `dir` on the real file system, taking the
    /// directory's lock and recovering from a crash.
    pub fn open(dir: &Path, segment_bytes: u64) -> Result<(Store, Recovery), StoreError> {
        Store::open_with(dir, segment_bytes, Arc::new(OsIo))
    }

    /// [`Store::open`] writing through `io` (tests inject faults with [`crate::io::FaultyIo`]).
    pub fn open_with(
        dir: &Path,
        segment_bytes: u64,
        io: Arc<dyn StorageIo>,
    ) -> Result<(Store, Recovery), StoreError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let lock = DirLock::acquire(dir)?;
        let mut store = Store {
            dir: dir.to_path_buf(),
            segment_bytes: segment_bytes.max(4096),
            io,
            lock,
            file: None,
            current: 0,
            durable_bytes: 0,
            file_bytes: 0,
            dir_dirty: false,
            seen: FxHashMap::default(),
            pending: Vec::new(),
            staged: Staged::default(),
            health: Health::Ok,
            replicas: BTreeMap::new(),
            events: 0,
            bytes: 0,
            duplicates: 0,
            conflicting: 0,
            write_errors: 0,
            last_error: None,
            index: Index::default(),
        };
        let recovery = store.recover()?;
        Ok((store, recovery))
    }

    /// Whether writes are being taken.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// The current segment's path.
    fn current_path(&self) -> PathBuf {
        self.dir.join(segment_name(self.current))
    }

    /// Records a durable event in the in-memory tables.
    fn note(&mut self, replica: &str, seq: u64) {
        let stats = match self.replicas.get_mut(replica) {
            Some(s) => s,
            None => self.replicas.entry(replica.to_string()).or_default(),
        };
        stats.events += 1;
        stats.last_seq = stats.last_seq.max(seq);
    }

    /// Stages one batch (no I/O): decides duplicates against durable and staged events and adds
    /// the lines to the pending bytes.
    fn stage(&mut self, index_in_group: usize, lines: &[Line]) {
        let mut out = Appended::default();
        let mut stored = Vec::with_capacity(lines.len());
        for l in lines {
            let key = (id_hash(&l.replica), l.seq);
            match self.seen.get(&key) {
                Some(&fp) if fp == l.fingerprint => {
                    stored.push(false);
                    out.duplicates += 1;
                    continue;
                }
                Some(_) => out.conflicting += 1,
                None => {
                    self.seen.insert(key, l.fingerprint);
                    self.staged.inserted.push(key);
                }
            }
            stored.push(true);
            let event = self.events + self.staged.events;
            if event.is_multiple_of(CHECKPOINT_EVERY) {
                self.staged.checkpoints.push(Checkpoint {
                    event,
                    segment: self.index.segments.len() - 1,
                    offset: self.file_bytes,
                });
            }
            self.pending.extend_from_slice(&l.bytes);
            self.pending.push(b'\n');
            self.file_bytes += l.bytes.len() as u64 + 1;
            self.staged.events += 1;
            self.staged.bytes += l.bytes.len() as u64;
            out.stored += 1;
        }
        self.staged.duplicates += out.duplicates;
        self.staged.conflicting += out.conflicting;
        self.staged.batches.push((index_in_group, out, stored));
    }

    /// Stores a group of batches: each is either wholly durable (`Ok`) or wholly refused, and
    /// the store is in a durable state when this returns. Exact duplicates of stored events, and
    /// of earlier lines of the group, are dropped.
    pub fn commit_group(&mut self, batches: &[&[Line]]) -> Vec<Result<Appended, Refusal>> {
        let mut out: Vec<Result<Appended, Refusal>> =
            vec![Err(Refusal::Failed("not written".into())); batches.len()];
        for (i, lines) in batches.iter().enumerate() {
            if self.file_bytes >= self.segment_bytes {
                self.commit_unit(lines_of(batches), &mut out);
            }
            // Only a segment known to end at its durable length is closed: one whose cut back
            // failed must be repaired first, or its garbage would end up before other segments.
            if self.durable_bytes >= self.segment_bytes && self.file.is_some() {
                if let Err(refusal) = self.rotate() {
                    for slot in &mut out[i..] {
                        *slot = Err(refusal.clone());
                    }
                    return out;
                }
            }
            self.stage(i, lines);
        }
        self.commit_unit(lines_of(batches), &mut out);
        out
    }

    /// Makes what is staged durable (or undoes it) and fills in the staged batches' outcomes.
    fn commit_unit<'a>(
        &mut self,
        lines: impl Fn(usize) -> &'a [Line],
        out: &mut [Result<Appended, Refusal>],
    ) {
        let batches = std::mem::take(&mut self.staged.batches);
        if batches.is_empty() && self.pending.is_empty() && !self.dir_dirty {
            return;
        }
        match self.sync_pending() {
            Ok(()) => {
                self.durable_bytes = self.file_bytes;
                let s = std::mem::take(&mut self.staged);
                self.index.checkpoints.extend(s.checkpoints);
                self.events += s.events;
                self.bytes += s.bytes;
                self.duplicates += s.duplicates;
                self.conflicting += s.conflicting;
                self.index.committed = self.events;
                for (b, appended, stored) in batches {
                    for (l, _) in lines(b).iter().zip(stored).filter(|(_, s)| *s) {
                        self.note(&l.replica, l.seq);
                    }
                    out[b] = Ok(appended);
                }
            }
            Err(refusal) => {
                for (b, _, _) in batches {
                    out[b] = Err(refusal.clone());
                }
            }
        }
    }

    /// Writes the pending bytes, `fdatasync`s, syncs the directory if a segment was created.
    /// On failure, returns to the last durable state and says why.
    fn sync_pending(&mut self) -> Result<(), Refusal> {
        if let Err(r) = self.ensure_writable() {
            self.forget_staged();
            return Err(r);
        }
        let dir = self.dir.clone();
        let result = (|| {
            let file = self.file.as_deref_mut().expect("ensure_writable opened it");
            if !self.pending.is_empty() {
                io::write_all(file, &self.pending)?;
            }
            file.sync_data()?;
            if self.dir_dirty {
                self.io.sync_dir(&dir)?;
            }
            Ok::<(), std::io::Error>(())
        })();
        match result {
            Ok(()) => {
                self.pending.clear();
                self.dir_dirty = false;
                self.health = Health::Ok;
                self.lock
                    .publish_commit(&segment_name(self.current), self.file_bytes);
                Ok(())
            }
            Err(e) => Err(self.fail(&e)),
        }
    }

    /// Refuses at once while the store is known to be unable to write.
    fn ensure_writable(&mut self) -> Result<(), Refusal> {
        if self.file.is_none() {
            self.repair()?;
        }
        if let Health::Full(reason) = &self.health {
            let needed = (self.pending.len() as u64).min(RESUME_SPACE);
            match self.io.available_space(&self.dir) {
                Some(free) if free < needed => return Err(Refusal::Full(reason.clone())),
                _ => {}
            }
        }
        Ok(())
    }

    /// Undoes what is staged in memory.
    fn forget_staged(&mut self) {
        let s = std::mem::take(&mut self.staged);
        for key in s.inserted {
            self.seen.remove(&key);
        }
        self.pending.clear();
        self.file_bytes = self.durable_bytes;
        if self.durable_bytes == 0 {
            self.stage_header();
        }
    }

    /// A write or sync failed: forget the staged group, distrust the descriptor, cut the
    /// segment back to its durable length through a new one.
    fn fail(&mut self, e: &std::io::Error) -> Refusal {
        self.write_errors += 1;
        let reason = format!("{}: {}", self.current_path().display(), describe(e));
        self.last_error = Some(reason.clone());
        self.file = None;
        self.forget_staged();
        let repaired = self.repair();
        if io::is_out_of_space(e) {
            self.health = Health::Full(reason.clone());
            return Refusal::Full(reason);
        }
        match repaired {
            Ok(()) => Refusal::Failed(reason),
            Err(r) => r,
        }
    }

    /// Reopens the current segment through a new descriptor, cuts it to its durable length and
    /// syncs the cut. On failure the store stays unwritable ([`Health::Failed`]).
    fn repair(&mut self) -> Result<(), Refusal> {
        let path = self.current_path();
        let result = (|| {
            let mut f = self.io.open_append(&path)?;
            f.set_len(self.durable_bytes)?;
            f.sync_data()?;
            Ok::<_, std::io::Error>(f)
        })();
        match result {
            Ok(f) => {
                self.file = Some(f);
                if let Health::Failed(_) = self.health {
                    self.health = Health::Ok;
                }
                Ok(())
            }
            Err(e) => {
                let reason = format!(
                    "{}: cannot cut back to the last durable length {}: {}",
                    path.display(),
                    self.durable_bytes,
                    describe(&e)
                );
                self.file = None;
                if io::is_out_of_space(&e) {
                    self.health = Health::Full(reason.clone());
                    Err(Refusal::Full(reason))
                } else {
                    self.health = Health::Failed(reason.clone());
                    Err(Refusal::Failed(reason))
                }
            }
        }
    }

    /// Called about once a second while the store is refusing writes: retries a failed repair,
    /// and leaves the full state once the file system has room. Returns whether the health
    /// changed.
    pub fn probe(&mut self) -> bool {
        let before = self.health.clone();
        if self.file.is_none() {
            let _ = self.repair();
        }
        if let Health::Full(_) = self.health {
            if self.file.is_some() {
                let room = self
                    .io
                    .available_space(&self.dir)
                    .is_none_or(|free| free >= RESUME_SPACE);
                if room {
                    self.health = Health::Ok;
                }
            }
        }
        before != self.health
    }

    fn stage_header(&mut self) {
        let h = header(self.current);
        self.pending.extend_from_slice(h.as_bytes());
        self.file_bytes += h.len() as u64;
    }

    /// Closes the current segment (durable: called right after a commit) and creates the next.
    fn rotate(&mut self) -> Result<(), Refusal> {
        let next = self.current + 1;
        let path = self.dir.join(segment_name(next));
        match self.io.create(&path) {
            Ok(f) => {
                self.file = Some(f);
                self.current = next;
                self.durable_bytes = 0;
                self.file_bytes = 0;
                self.dir_dirty = true;
                self.stage_header();
                self.index.segments.push(Segment {
                    path,
                    first_event: self.events,
                });
                Ok(())
            }
            Err(e) => {
                self.write_errors += 1;
                let reason = format!("cannot create {}: {}", path.display(), describe(&e));
                self.last_error = Some(reason.clone());
                if io::is_out_of_space(&e) {
                    self.health = Health::Full(reason.clone());
                    Err(Refusal::Full(reason))
                } else {
                    Err(Refusal::Failed(reason))
                }
            }
        }
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

/// The lines of batch `i` of a group.
fn lines_of<'a>(batches: &'a [&'a [Line]]) -> impl Fn(usize) -> &'a [Line] + 'a {
    move |i| batches[i]
}
