//! The one owner of the store: a thread that takes batches from a bounded queue, appends them,
//! and acknowledges them after one `fdatasync` per group (group commit: concurrent requests
//! share a sync instead of paying one each).

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot, watch};

use crate::store::{Appended, Index, Line, Store, StoreError};

/// Most batches committed under one sync.
const GROUP_MAX: usize = 256;

/// A batch on its way to the store.
pub struct Batch {
    /// The lines, already validated.
    pub lines: Vec<Line>,
    /// Where the outcome goes once durable.
    pub reply: oneshot::Sender<Result<Appended, String>>,
}

/// What readers share with the writer.
pub struct Shared {
    /// The index as of the last commit.
    pub index: Mutex<Index>,
    /// Committed event count, for streams waiting on new events.
    pub committed: watch::Sender<u64>,
    /// Status counters, as of the last commit.
    pub stats: Mutex<StoreStats>,
}

/// Counters the status page and metrics show.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct StoreStats {
    /// Events stored.
    pub events: u64,
    /// Bytes of event lines stored.
    pub bytes: u64,
    /// Exact duplicates dropped.
    pub duplicates: u64,
    /// Conflicting duplicates stored.
    pub conflicting_duplicates: u64,
    /// Per replica.
    pub replicas: std::collections::BTreeMap<String, crate::store::ReplicaStats>,
}

fn stats(store: &Store) -> StoreStats {
    StoreStats {
        events: store.events,
        bytes: store.bytes,
        duplicates: store.duplicates,
        conflicting_duplicates: store.conflicting,
        replicas: store.replicas.clone(),
    }
}

/// Starts the writer thread; returns the queue's sender and the shared view. The thread ends
/// when every sender is dropped, after committing what was queued.
pub fn start(
    store: Store,
    queue: usize,
) -> (
    mpsc::Sender<Batch>,
    Arc<Shared>,
    std::thread::JoinHandle<()>,
) {
    let (tx, mut rx) = mpsc::channel::<Batch>(queue.max(1));
    let (committed, _) = watch::channel(store.events);
    let shared = Arc::new(Shared {
        index: Mutex::new(store.index()),
        committed,
        stats: Mutex::new(stats(&store)),
    });
    let view = Arc::clone(&shared);
    let handle = std::thread::Builder::new()
        .name("weft-store".into())
        .spawn(move || {
            let mut store = store;
            let mut group: Vec<Batch> = Vec::with_capacity(GROUP_MAX);
            while let Some(first) = rx.blocking_recv() {
                group.push(first);
                while group.len() < GROUP_MAX {
                    match rx.try_recv() {
                        Ok(b) => group.push(b),
                        Err(_) => break,
                    }
                }
                let results: Vec<Result<Appended, StoreError>> =
                    group.iter().map(|b| store.append(&b.lines)).collect();
                let synced = store.sync();
                store.publish(&mut view.index.lock().unwrap_or_else(|p| p.into_inner()));
                *view.stats.lock().unwrap_or_else(|p| p.into_inner()) = stats(&store);
                view.committed.send_replace(store.events);
                for (batch, result) in group.drain(..).zip(results) {
                    let outcome = match (&synced, result) {
                        (Err(e), _) => Err(format!("the store could not sync: {e}")),
                        (Ok(()), Err(e)) => Err(e.to_string()),
                        (Ok(()), Ok(a)) => Ok(a),
                    };
                    let _ = batch.reply.send(outcome);
                }
            }
            let _ = store.sync();
        })
        .expect("spawning the store thread");
    (tx, shared, handle)
}
