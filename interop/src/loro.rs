//! Importing [Loro](https://loro.dev) documents as weft-trace/1 events.
//!
//! Every Loro change already records what weft needs: the peer that made it, its ops' counters,
//! the change's dependencies (the frontiers it was made on), a Lamport timestamp and, when the
//! app turned it on, a wall-clock timestamp and a commit message. So a document as the app
//! stores it — a snapshot (`export({mode: "snapshot"})`, `LoroDoc::export(ExportMode::Snapshot)`),
//! update exports (`mode: "update"`, several files of them), a shallow snapshot (only the history
//! after its root is there) — is a causality graph with no instrumentation.
//!
//! The `loro` crate decodes and verifies the bytes (magic, checksum, structure); this module
//! never parses Loro's binary format itself. Inputs are imported into one `LoroDoc`, snapshots
//! first, then updates (so a user may list files in any order), and the whole history the
//! document holds is read back as JSON changes (`export_json_in_id_span`), in chunks, twice: a
//! first pass ([`plan`]) keeps what needs the whole history (where each op is, which keys have
//! both `set` and `inc` writes) and finds every error, then [`emit`] hands out the events one by
//! one, so a large document streams (the `stream` module says how). [`events`](mod@events) maps
//! the changes to weft events; the module docs there and the README's table give the mapping.
//!
//! Errors name the input and say what is wrong with it ([`ImportError`], `Display` is
//! `FILE: reason`). The `loro` crate is called inside [`std::panic::catch_unwind`]: it returns
//! errors for the damaged inputs tried here and by the fuzz target, but nothing in its API
//! promises never to panic on hostile bytes, and a panic must become an error naming the file,
//! not an abort of `weft`.
//!
//! ```
//! use loro::{ExportMode, LoroDoc};
//! use weft_interop::loro::{import, ImportOptions};
//!
//! let doc = LoroDoc::new();
//! doc.set_peer_id(7).unwrap();
//! doc.get_map("todo").insert("done", true).unwrap();
//! doc.commit();
//! let bytes = doc.export(ExportMode::Snapshot).unwrap();
//!
//! let events = import(&[("todo.loro".into(), bytes)], &ImportOptions::default()).unwrap();
//! assert_eq!(events.len(), 1);
//! assert_eq!(events[0].replica, "00000000000000000007");
//! assert_eq!(events[0].key.as_deref(), Some("todo/done"));
//! ```

pub mod events;
mod stream;

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use loro::{EncodedBlobMode, LoroError};
use weft_trace::Event;

pub use events::replica_name;
/// The loaded document [`load`] returns, re-exported so callers need not depend on the crate.
pub use loro::LoroDoc;
pub use stream::{emit, plan, Plan, CHUNK_COUNTERS};
#[doc(hidden)]
pub use stream::{plan_in_chunks, whole_history_events};

/// Loro's binary documents start with these four bytes (`loro-internal`'s `MAGIC_BYTES`).
/// Checked here only to say "not a Loro document" instead of the library's "Invalid magic
/// bytes"; the library checks them again.
const MAGIC: &[u8; 4] = b"loro";

/// The shortest Loro blob: magic (4), checksum (16), encoding mode (2). Shorter inputs that
/// start with the magic are truncated headers.
const MIN_HEADER: usize = 22;

/// How to import. The default is what `weft import loro` does without flags.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Leave out changes that depend on changes no input holds (Loro parks them as "pending")
    /// instead of failing with [`ImportError::MissingDependencies`]. For looking at a partial
    /// set of update files; the trace then shows only the history that can be applied.
    pub allow_pending: bool,
}

/// Why an import failed. `Display` is `FILE: reason`, the input's name as given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// Nothing to import.
    #[error("(no input): no Loro document given")]
    NoInput,
    /// The bytes do not start with Loro's magic `loro`: some other kind of file.
    #[error("{file}: not a Loro document (it does not start with Loro's magic bytes `loro`)")]
    NotLoro {
        /// The input's name.
        file: String,
    },
    /// Starts like a Loro document but ends inside the 22-byte header.
    #[error("{file}: truncated Loro document: {len} bytes, shorter than Loro's 22-byte header")]
    TruncatedHeader {
        /// The input's name.
        file: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The body does not match the header's checksum: truncated or damaged after it was
    /// written.
    #[error("{file}: checksum mismatch: the Loro document is truncated or corrupt")]
    ChecksumMismatch {
        /// The input's name.
        file: String,
    },
    /// The checksum holds but the library cannot decode the body.
    #[error("{file}: corrupt Loro document: {reason}")]
    Corrupt {
        /// The input's name.
        file: String,
        /// The library's words.
        reason: String,
    },
    /// Written by a Loro version this build cannot read: a newer encoding, or the pre-1.0
    /// ones Loro 1.x dropped.
    #[error("{file}: unsupported Loro encoding: {reason}")]
    Unsupported {
        /// The input's name.
        file: String,
        /// Which encoding and what to do.
        reason: String,
    },
    /// Updates whose dependencies are older than the shallow snapshot imported with them:
    /// the history they build on was trimmed away.
    #[error(
        "{file}: these updates depend on history the shallow snapshot imported with them no \
         longer has"
    )]
    BeforeShallowRoot {
        /// The input's name.
        file: String,
    },
    /// Changes in this input depend on changes no input holds (see
    /// [`ImportOptions::allow_pending`]).
    #[error("{file}: depends on changes no input holds: {missing}")]
    MissingDependencies {
        /// The input's name.
        file: String,
        /// Which of its changes wait, per peer: `peer P counters A..B`.
        missing: String,
    },
    /// The document has no change to show (an empty document, or a shallow snapshot of state
    /// only): a weft trace needs events.
    #[error("{file}: the Loro document holds no history (no change{shallow})")]
    NoHistory {
        /// The inputs' names.
        file: String,
        /// Said when the history was trimmed away by a shallow snapshot.
        shallow: &'static str,
    },
    /// The `loro` library panicked on this input (a library bug; the input is damaged or
    /// hostile). Caught so that `weft` reports it instead of aborting.
    #[error("{file}: the Loro library failed on this document (it panicked: {message})")]
    Panicked {
        /// The input's name.
        file: String,
        /// The panic's message.
        message: String,
    },
    /// The history the library returned contradicts itself (a dependency on an op the
    /// document does not hold). Not expected from any input the library accepts.
    #[error("{file}: inconsistent Loro history: {reason}")]
    Inconsistent {
        /// The inputs' names.
        file: String,
        /// What contradicts what.
        reason: String,
    },
}

/// Imports Loro documents (`(name, bytes)` pairs, any order) as one document and returns its
/// history as weft events: one per op, per peer in counter order (peers ascending), seq 1, 2, …
/// per replica, `parents` only to events in the result. See the module docs for the mapping.
/// [`prepare`] then [`emit`], collecting the events; to write them out as they are made,
/// call those two instead.
pub fn import(
    inputs: &[(String, Vec<u8>)],
    opts: &ImportOptions,
) -> Result<Vec<Event>, ImportError> {
    let doc = prepare(inputs, opts)?;
    let mut out = Vec::with_capacity(usize::try_from(doc.plan.len()).unwrap_or(0));
    emit(&doc.doc, &doc.plan, |e| out.push(e));
    Ok(out)
}

/// A Loro document loaded ([`load`]) and its history checked ([`plan`]): [`emit`] streams its
/// events and cannot fail.
#[derive(Debug)]
pub struct Prepared {
    /// The inputs imported into one document.
    pub doc: LoroDoc,
    /// What the first pass over its history found.
    pub plan: Plan,
}

/// [`load`] then [`plan`]: every error an import can meet, found before any event is made (a
/// caller can prepare before it opens its output, and leave no partial file behind).
pub fn prepare(
    inputs: &[(String, Vec<u8>)],
    opts: &ImportOptions,
) -> Result<Prepared, ImportError> {
    let (doc, names) = load(inputs, opts)?;
    let plan = plan(&doc, &names)?;
    Ok(Prepared { doc, plan })
}

/// Imports the inputs into one document: every input's header and checksum verified first (so
/// that the error names the damaged file), then snapshots, then updates. Returns the document
/// and the inputs' names joined (what errors about the whole document name).
pub fn load(
    inputs: &[(String, Vec<u8>)],
    opts: &ImportOptions,
) -> Result<(LoroDoc, String), ImportError> {
    if inputs.is_empty() {
        return Err(ImportError::NoInput);
    }
    let mut snapshots = Vec::new();
    let mut updates = Vec::new();
    for (name, bytes) in inputs {
        match blob_mode(name, bytes)? {
            m if m.is_snapshot() => snapshots.push((name, bytes)),
            _ => updates.push((name, bytes)),
        }
    }
    let doc = LoroDoc::new();
    let mut pending = Vec::new();
    for (name, bytes) in snapshots.into_iter().chain(updates) {
        let status = guarded(name, || doc.import(bytes))?.map_err(|e| loro_error(name, e))?;
        if let Some(p) = status.pending {
            pending.push((name, p));
        }
    }
    if !opts.allow_pending {
        let have = doc.oplog_vv();
        for (name, range) in pending {
            let mut missing: Vec<String> = range
                .iter()
                .filter(|(peer, (_, end))| have.get(peer).copied().unwrap_or(0) < *end)
                .map(|(peer, (start, end))| format!("peer {peer} counters {start}..{end}"))
                .collect();
            if !missing.is_empty() {
                missing.sort();
                return Err(ImportError::MissingDependencies {
                    file: name.clone(),
                    missing: format!("{} wait for them", missing.join(", ")),
                });
            }
        }
    }
    let names = inputs
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Ok((doc, names))
}

/// What kind of Loro blob `bytes` is, with the header and checksum verified by the library.
fn blob_mode(name: &str, bytes: &[u8]) -> Result<EncodedBlobMode, ImportError> {
    if !bytes.starts_with(&MAGIC[..bytes.len().min(4)]) || bytes.is_empty() {
        return Err(ImportError::NotLoro { file: name.into() });
    }
    if bytes.len() < MIN_HEADER {
        return Err(ImportError::TruncatedHeader {
            file: name.into(),
            len: bytes.len(),
        });
    }
    let meta = guarded(name, || LoroDoc::decode_import_blob_meta(bytes, true))?
        .map_err(|e| loro_error(name, e))?;
    match meta.mode {
        EncodedBlobMode::OutdatedRle | EncodedBlobMode::OutdatedSnapshot => {
            Err(ImportError::Unsupported {
                file: name.into(),
                reason: format!(
                    "{} (written by Loro before 1.0, which Loro 1.x no longer reads; open and \
                     export it again with Loro 1.x)",
                    meta.mode
                ),
            })
        }
        m => Ok(m),
    }
}

/// Runs a call into the `loro` crate, turning a panic into [`ImportError::Panicked`] naming
/// `file`. (The document is not used again after a panic: the error ends the import.)
fn guarded<T>(file: &str, f: impl FnOnce() -> T) -> Result<T, ImportError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| ImportError::Panicked {
        file: file.into(),
        message: panic_message(payload.as_ref()),
    })
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).into()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "no message".into()
    }
}

/// The library's error for `file`, as the variant that says what is wrong.
fn loro_error(file: &str, e: LoroError) -> ImportError {
    let file = file.to_string();
    match e {
        LoroError::DecodeChecksumMismatchError => ImportError::ChecksumMismatch { file },
        LoroError::IncompatibleFutureEncodingError(v) => ImportError::Unsupported {
            file,
            reason: format!(
                "encoding mode {v} is newer than this build's Loro ({}) reads",
                loro::LORO_VERSION
            ),
        },
        LoroError::ImportUnsupportedEncodingMode => ImportError::Unsupported {
            file,
            reason: "written by Loro before 1.0, which Loro 1.x no longer reads".into(),
        },
        LoroError::ImportUpdatesThatDependsOnOutdatedVersion => {
            ImportError::BeforeShallowRoot { file }
        }
        LoroError::DecodeError(reason) => ImportError::Corrupt {
            file,
            reason: reason.into(),
        },
        other => ImportError::Corrupt {
            file,
            reason: other.to_string(),
        },
    }
}
