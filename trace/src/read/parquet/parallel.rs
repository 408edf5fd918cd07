//! A Parquet file's row groups decoded on several threads and merged in row order.
//!
//! Row groups go round-robin to the decoding threads (group `g` to thread `g % threads`); each
//! thread decodes its groups in order, checks every row and fingerprints it into a
//! [`Shard`] per batch, and hands the shards over a channel of its own that holds two. The
//! builder takes group 0's shards from thread 0, group 1's from thread 1, and so on, merging
//! each through the duplicate rule exactly as the one-thread reader admits rows: the same
//! events, dropped copies, malformed rows (`FILE:row N`, numbered across groups) and first
//! error. Memory stays bounded (at most three batches a thread) whatever the file's size, and
//! a thread that panics on damaged data answers for it, so the merge never waits forever.

use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::reader::{
    batches, damaged, fill, invalid, read_file, read_rows, undecodable, Cols, Opened,
};
use crate::intern::{LocalInterner, SharedInterner};
use crate::read::rows::{Fields, RowSink};
use crate::read::shard::{Item, Shard};
use crate::read::{panic_message, Cursor, ReadError, TraceBuilder};
use crate::store::Place;

/// What a decoding thread hands the builder.
enum Msg {
    /// The next batch of rows of the current group.
    Rows(Shard),
    /// The current group is done.
    GroupEnd,
    /// The file cannot be read on from here: why.
    Failed(String),
    /// The thread panicked (on damaged data the parquet crate did not check) and stopped.
    Panicked(String),
}

/// Reads the Parquet file `path` into `b`, decoding its row groups on `b.threads` threads;
/// on this thread ([`read_rows`]) when there is one core or one group.
pub(crate) fn read_into(b: &mut TraceBuilder, path: &Path) -> Result<(), ReadError> {
    read_file(b, path, |b, name, file, opened| {
        let groups = opened.meta.metadata().num_row_groups();
        let threads = b.threads.min(groups);
        if threads <= 1 {
            return read_rows(b, name, file, opened);
        }
        for h in opened.headers.iter().cloned() {
            b.header(name, h);
        }
        read_groups(b, name, path, opened, threads).map_err(|error| ReadError::Io {
            input: name.to_string(),
            error,
        })?
    })
}

/// The row groups of `path` (metadata `opened`, headers already read) decoded on `threads`
/// threads and merged into `b` in row order. `Err` is an error about the file; `Ok(Err)` one
/// the merge found (a malformed row in strict mode).
fn read_groups(
    b: &mut TraceBuilder,
    name: &str,
    path: &Path,
    opened: &Opened,
    threads: usize,
) -> Result<Result<(), ReadError>, std::io::Error> {
    let groups = opened.meta.metadata().num_row_groups();
    // The first row of each group, numbered from 0 across the file.
    let mut first_row = Vec::with_capacity(groups);
    let mut rows = 0u64;
    for g in 0..groups {
        first_row.push(rows);
        let n = opened.meta.metadata().row_group(g).num_rows();
        rows += u64::try_from(n).unwrap_or(0);
    }
    let (names, syms) = (b.names.clone(), b.syms.clone());
    std::thread::scope(|scope| {
        let mut inboxes: Vec<Receiver<Msg>> = Vec::with_capacity(threads);
        for t in 0..threads {
            let (tx, rx) = sync_channel(2);
            inboxes.push(rx);
            let job = Job {
                path,
                opened,
                first_row: &first_row,
                names: names.clone(),
                syms: syms.clone(),
            };
            scope.spawn(move || job.run((t..groups).step_by(threads), &tx));
        }
        let mut cur = Cursor {
            input: name,
            line: 0,
            first: true,
            place: Place::Row,
        };
        let merged = merge_groups(b, &mut cur, &inboxes, groups);
        // Dropping the inboxes stops the threads at their next batch.
        drop(inboxes);
        merged
    })
}

/// The builder's side: every group's shards, in group order. `Err` is an error about the
/// file; `Ok(Err)` one the merge found (a malformed row in strict mode).
fn merge_groups(
    b: &mut TraceBuilder,
    cur: &mut Cursor,
    inboxes: &[Receiver<Msg>],
    groups: usize,
) -> Result<Result<(), ReadError>, std::io::Error> {
    for g in 0..groups {
        let inbox = &inboxes[g % inboxes.len()];
        loop {
            match inbox.recv() {
                Ok(Msg::Rows(mut shard)) => {
                    if let Err(e) = b.merge(cur, &mut shard) {
                        return Ok(Err(e));
                    }
                }
                Ok(Msg::GroupEnd) => break,
                Ok(Msg::Failed(reason)) => return Err(invalid(reason)),
                Ok(Msg::Panicked(message)) => return Err(damaged(&message)),
                Err(_) => {
                    return Err(invalid(
                        "the Parquet decoding threads stopped without answering",
                    ))
                }
            }
        }
    }
    Ok(Ok(()))
}

/// What a decoding thread reads with.
struct Job<'a> {
    /// Opened by each thread for itself: clones of one handle share its offset, and the
    /// parquet crate seeks and reads.
    path: &'a Path,
    opened: &'a Opened,
    first_row: &'a [u64],
    names: SharedInterner,
    syms: SharedInterner,
}

impl Job<'_> {
    /// Decodes `groups` in order into `tx`, answering a panic before stopping.
    fn run(self, groups: impl Iterator<Item = usize>, tx: &SyncSender<Msg>) {
        let mut names = LocalInterner::new(self.names.clone());
        let mut syms = LocalInterner::new(self.syms.clone());
        let file = match File::open(self.path) {
            Ok(file) => file,
            Err(e) => {
                let _ = tx.send(Msg::Failed(format!("cannot open the file again: {e}")));
                return;
            }
        };
        let run = catch_unwind(AssertUnwindSafe(|| {
            for g in groups {
                match self.group(&file, g, &mut names, &mut syms, tx) {
                    Ok(true) => {}
                    // The builder stopped listening.
                    Ok(false) => return,
                    Err(reason) => {
                        let _ = tx.send(Msg::Failed(reason));
                        return;
                    }
                }
            }
        }));
        if let Err(payload) = run {
            let _ = tx.send(Msg::Panicked(panic_message(&*payload)));
        }
    }

    /// Decodes group `g` into shards sent to `tx`; `Ok(false)` when the builder stopped
    /// listening, `Err` when the group cannot be decoded.
    fn group(
        &self,
        file: &File,
        g: usize,
        names: &mut LocalInterner,
        syms: &mut LocalInterner,
        tx: &SyncSender<Msg>,
    ) -> Result<bool, String> {
        let file = file
            .try_clone()
            .map_err(|e| format!("cannot read the file again: {e}"))?;
        let reader = batches(file, self.opened, Some(vec![g]))?;
        let mut row = self.first_row[g];
        let mut f = Fields::default();
        for batch in reader {
            let batch = batch.map_err(|e| undecodable(row, e))?;
            let mut cols = Cols::new(&batch)?;
            let mut shard = Shard::default();
            for i in 0..batch.num_rows() {
                f.clear();
                let checked =
                    fill(&mut cols, i, &mut f, names, syms).and_then(|()| f.checked(names, syms));
                match checked {
                    Ok((crdt, fp)) => shard.push_row(&mut f, crdt, fp),
                    Err(reason) => shard.items.push(Item::Malformed(reason, None)),
                }
            }
            row += batch.num_rows() as u64;
            if tx.send(Msg::Rows(shard)).is_err() {
                return Ok(false);
            }
        }
        Ok(tx.send(Msg::GroupEnd).is_ok())
    }
}
