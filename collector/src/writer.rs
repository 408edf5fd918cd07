//! The one owner of the store: a thread that takes batches from a bounded queue, appends them,
//! and acknowledges them after one `fdatasync` per group (group commit: concurrent requests
//! share a sync instead of paying one each). While the store refuses writes (disk full, a failed
//! repair) the thread wakes about once a second to probe, so writing resumes by itself.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use crate::store::{Appended, Health, Index, Line, Refusal, Store};

/// How often a store that refuses writes is probed.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Most batches committed under one sync.
const GROUP_MAX: usize = 256;

/// A batch on its way to the store.
pub struct Batch {
    /// The lines, already validated.
    pub lines: Vec<Line>,
    /// Where the outcome goes once durable.
    pub reply: oneshot::Sender<Result<Appended, Refusal>>,
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
    /// Whether writes are taken, and why not.
    pub health: Health,
    /// Write, sync or repair failures since start.
    pub write_errors: u64,
    /// The last of them.
    pub last_write_error: Option<String>,
}

fn stats(store: &Store) -> StoreStats {
    StoreStats {
        events: store.events,
        bytes: store.bytes,
        duplicates: store.duplicates,
        conflicting_duplicates: store.conflicting,
        replicas: store.replicas.clone(),
        health: store.health().clone(),
        write_errors: store.write_errors,
        last_write_error: store.last_error.clone(),
    }
}

/// Makes the store's state visible to readers and the status page.
fn publish(store: &Store, view: &Shared) {
    store.publish(&mut view.index.lock().unwrap_or_else(|p| p.into_inner()));
    *view.stats.lock().unwrap_or_else(|p| p.into_inner()) = stats(store);
    view.committed.send_replace(store.events);
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
            // Only to wait on the queue with a timeout while probing; no task runs on it.
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a current-thread runtime with a timer");
            let mut group: Vec<Batch> = Vec::with_capacity(GROUP_MAX);
            loop {
                let first = if *store.health() == Health::Ok {
                    rt.block_on(rx.recv())
                } else {
                    match rt.block_on(async { tokio::time::timeout(PROBE_EVERY, rx.recv()).await })
                    {
                        Ok(b) => b,
                        Err(_) => {
                            if store.probe() {
                                publish(&store, &view);
                            }
                            continue;
                        }
                    }
                };
                let Some(first) = first else { break };
                group.push(first);
                while group.len() < GROUP_MAX {
                    match rx.try_recv() {
                        Ok(b) => group.push(b),
                        Err(_) => break,
                    }
                }
                let lines: Vec<&[Line]> = group.iter().map(|b| &b.lines[..]).collect();
                let results = store.commit_group(&lines);
                publish(&store, &view);
                for (batch, result) in group.drain(..).zip(results) {
                    let _ = batch.reply.send(result);
                }
            }
        })
        .expect("spawning the store thread");
    (tx, shared, handle)
}
