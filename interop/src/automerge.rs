//! Automerge documents as weft traces: every operation of every change, with the causality
//! Automerge itself recorded.
//!
//! An Automerge document is its history: changes, each by one actor, numbered per actor,
//! naming the changes it saw (`deps`) and giving its operations ids `counter@actor` from a
//! Lamport-style counter. That is what weft needs, so the import invents nothing: it decodes the
//! bytes with the `automerge` crate (which verifies chunk checksums, decompresses, and checks a
//! saved document's heads against its changes) and maps each operation to one event:
//!
//! | Automerge | weft event |
//! |---|---|
//! | actor id | `replica` (lowercase hex: hex strings sort like the ids' bytes, so weft's `(lamport, replica)` order is Automerge's `(counter, actor)` order) |
//! | op's position in its actor's history (over the actor's changes by `seq`, from 1) | `seq` |
//! | op counter (`startOp` + index in the change) | `lamport` |
//! | change `deps` | `parents` of the change's first event (each dep's last event) |
//! | change time, when not 0 | `wall_ns` of each of its events: seconds (what Automerge's JavaScript API records) below [`SECONDS_BELOW`], else milliseconds |
//! | change hash; message, time | `attrs.change` on every event; `attrs.message`, `attrs.time` (as recorded) on the first |
//! | map `put` of a scalar | `write`, `op: set`, `value` the scalar as JSON ([`scalar_json`]) |
//! | map `put` making an object | `write`, `op: set`, `value: {"make": "map"\|"list"\|"text"\|"table"}` |
//! | map `put` of a counter | `write`, `op: set`, `value: {"counter": N}` |
//! | map `increment` | `write`, `op: inc`, `value` the increment |
//! | map `delete` | `write`, `op: set`, no `value` (null), `attrs.action: "delete"` |
//! | list/text insert, put, delete, increment, mark | `local`, `attrs`: `obj`, `action`, `elem`, `value` |
//! | a change with no operations | one `local` event, `attrs.action: "empty-change"` |
//!
//! A write's `key` is the object's path from the root and the map key (`todos/3/done`), each
//! segment escaped as in a JSON pointer (`~` → `~0`, `/` → `~1`) so distinct keys stay
//! distinct. Paths are those of the document as loaded: an object it no longer shows — deleted,
//! or a value that lost a conflict — has no path and is named by its object id, `~@7@a1b2…`
//! (`~@` never occurs in an escaped path).
//!
//! **Why deletes are writes.** A delete overwrites the values its actor saw, so it must be a
//! register write for weft to see them overwritten (section 5 of the trace format: a write is
//! maximal when no later write of the key follows it). Automerge's conflicting values
//! (`getConflicts` / `get_all`) are exactly the maximal operations of the key that are not
//! deletes: a delete hides what it saw but never a concurrent put. So weft's `unresolved`
//! siblings of a key are `get_all` plus the deletes among the maximal writes, and weft's
//! `(lamport, replica)` winner among the non-delete siblings is the value `get` shows. Where a
//! delete is concurrent with a put, weft reports the pair as a conflict — the put survives in
//! Automerge whichever order the rule gives. Modelled as anything else (a `local` event, a set
//! `remove`) a delete would leave the values it removed maximal: weft would list deleted values
//! as siblings forever.
//!
//! **Why a counter's creation is a `set`.** Putting a counter overwrites the key like any put,
//! and conflicts with concurrent puts, so it is a register write; its increments are `inc`
//! writes. No write declares a `crdt` type: Automerge keys are multi-value registers that may
//! hold a counter now and a string later, so a declared type would be a false
//! `crdt-type-conflict`. A counter's value is its creation value plus the increments that
//! happen after the creation.

mod events;

use std::collections::HashSet;
use std::fmt;

use automerge::{
    AutomergeError, ChangeHash, LoadOptions, OnPartialLoad, ReadDoc, VerificationMode,
};
use weft_trace::Event;

pub use crate::path::escape_segment;
/// The loaded document [`load`] returns, re-exported so callers need not depend on the crate.
pub use automerge::Automerge;
pub use events::{scalar_json, wall_ns, SECONDS_BELOW};

/// The first bytes of every Automerge chunk (document, change, compressed change, bundle).
pub const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// Options of [`import`]. There are none yet: the type exists so that every CRDT importer is
/// called the same way (see the crate docs), and options can come without breaking callers.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ImportOptions {}

/// What is wrong with an input. `Display` is `SOURCE: reason`; nothing here is an I/O error
/// (callers read the files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// The input has no bytes (Automerge would load it as an empty document, which is almost
    /// never what a user meant to import).
    Empty {
        /// The input's name.
        source: String,
    },
    /// The input does not start with Automerge's magic bytes.
    NotAutomerge {
        /// The input's name.
        source: String,
        /// What the input looks like instead (text, JSON, gzip, or its first bytes).
        found: String,
    },
    /// A chunk's checksum does not match its bytes: the file was altered or damaged.
    Checksum {
        /// The input's name.
        source: String,
    },
    /// The bytes start like Automerge data but do not decode: truncated, corrupt, or a saved
    /// document whose heads do not match its changes.
    Corrupt {
        /// The input's name.
        source: String,
        /// The `automerge` crate's explanation.
        reason: String,
    },
    /// Changes in the input depend on changes that no input holds (an incremental save given
    /// without the document it was saved after).
    MissingDeps {
        /// The input's name.
        source: String,
        /// The missing change hashes (hex), sorted.
        missing: Vec<String>,
    },
}

impl ImportError {
    /// The input the error is about.
    pub fn source_name(&self) -> &str {
        match self {
            ImportError::Empty { source }
            | ImportError::NotAutomerge { source, .. }
            | ImportError::Checksum { source }
            | ImportError::Corrupt { source, .. }
            | ImportError::MissingDeps { source, .. } => source,
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Empty { source } => {
                write!(f, "{source}: empty file, not an Automerge document")
            }
            ImportError::NotAutomerge { source, found } => write!(
                f,
                "{source}: not an Automerge document ({found}; Automerge data starts with the \
                 bytes 85 6f 4a 83)"
            ),
            ImportError::Checksum { source } => write!(
                f,
                "{source}: checksum mismatch: a chunk's bytes do not match its checksum (the \
                 file was altered or damaged)"
            ),
            ImportError::Corrupt { source, reason } => {
                write!(f, "{source}: truncated or corrupt Automerge data: {reason}")
            }
            ImportError::MissingDeps { source, missing } => write!(
                f,
                "{source}: {} change{} that no input holds {} needed (first: {}); give the \
                 document it was saved after too",
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                if missing.len() == 1 { "is" } else { "are" },
                missing.first().map(String::as_str).unwrap_or("")
            ),
        }
    }
}

impl std::error::Error for ImportError {}

/// Reads the inputs as one document and returns its history as weft events (see the module
/// docs for the mapping), in the document's causal order.
pub fn import(
    inputs: &[(String, Vec<u8>)],
    opts: &ImportOptions,
) -> Result<Vec<Event>, ImportError> {
    let mut out = Vec::new();
    for_each_event(inputs, opts, |e| out.push(e))?;
    Ok(out)
}

/// Like [`import`], handing each event to `sink` as it is made instead of collecting them: a
/// million-op document is written out without a million events in memory. Returns the number
/// of events.
pub fn for_each_event(
    inputs: &[(String, Vec<u8>)],
    opts: &ImportOptions,
    sink: impl FnMut(Event),
) -> Result<u64, ImportError> {
    let doc = load(inputs)?;
    Ok(emit(&doc, opts, sink))
}

/// The events of a document [`load`] returned (every error is found by `load`, so a caller can
/// load before it opens its output, and leave no partial file behind). Returns how many.
pub fn emit(doc: &Automerge, _opts: &ImportOptions, sink: impl FnMut(Event)) -> u64 {
    events::emit(doc, sink)
}

/// Loads the inputs into one document, checking each on its own first so that an error names
/// the file it is in. Inputs may come in any order: a file of changes whose deps are in another
/// input is held until the end, and only deps that no input holds are an error.
pub fn load(inputs: &[(String, Vec<u8>)]) -> Result<Automerge, ImportError> {
    let mut loaded: Vec<Automerge> = Vec::with_capacity(inputs.len());
    // Per input: the change hashes its own changes need and it does not hold.
    let mut needs: Vec<Vec<ChangeHash>> = Vec::with_capacity(inputs.len());
    for (name, bytes) in inputs {
        let doc = load_one(name, bytes)?;
        needs.push(doc.get_missing_deps(&[]));
        loaded.push(doc);
    }
    let doc = if inputs.len() == 1 {
        loaded.pop().unwrap_or_default()
    } else {
        // Each input parsed above; loading the bytes again into one document is what lets a
        // change wait for a dep that a later input holds.
        drop(loaded);
        let mut doc = Automerge::new();
        for (name, bytes) in inputs {
            doc.load_incremental(bytes).map_err(|e| classify(name, e))?;
        }
        doc
    };
    let still_missing: HashSet<ChangeHash> = doc.get_missing_deps(&[]).into_iter().collect();
    if !still_missing.is_empty() {
        for ((name, _), need) in inputs.iter().zip(&needs) {
            let mut missing: Vec<String> = need
                .iter()
                .filter(|h| still_missing.contains(*h))
                .map(|h| h.to_string())
                .collect();
            if !missing.is_empty() {
                missing.sort();
                return Err(ImportError::MissingDeps {
                    source: name.clone(),
                    missing,
                });
            }
        }
        // Only reachable if the combined document misses what no single input did; name the
        // first input rather than say nothing.
        let mut missing: Vec<String> = still_missing.iter().map(|h| h.to_string()).collect();
        missing.sort();
        return Err(ImportError::MissingDeps {
            source: inputs.first().map(|(n, _)| n.clone()).unwrap_or_default(),
            missing,
        });
    }
    Ok(doc)
}

/// Loads one input on its own, strictly: every chunk must parse and match its checksum, and a
/// saved document's heads must match its changes. Missing deps are not an error here (they may
/// be in another input): such a file is loaded again leniently, which only queues them.
fn load_one(name: &str, bytes: &[u8]) -> Result<Automerge, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::Empty {
            source: name.to_string(),
        });
    }
    if !bytes.starts_with(&MAGIC) {
        return Err(ImportError::NotAutomerge {
            source: name.to_string(),
            found: describe_start(bytes),
        });
    }
    let strict = LoadOptions::new()
        .on_partial_load(OnPartialLoad::Error)
        .verification_mode(VerificationMode::Check);
    match Automerge::load_with_options(bytes, strict) {
        Ok(doc) => Ok(doc),
        // Returned only once every chunk parsed and was applied or queued.
        Err(AutomergeError::MissingDeps) => {
            let lenient = LoadOptions::new()
                .on_partial_load(OnPartialLoad::Ignore)
                .verification_mode(VerificationMode::Check);
            Automerge::load_with_options(bytes, lenient).map_err(|e| classify(name, e))
        }
        Err(e) => Err(classify(name, e)),
    }
}

/// The error for a load that failed: a checksum mismatch is told apart (the library says "bad
/// checksum"), everything else keeps the library's words.
fn classify(name: &str, e: AutomergeError) -> ImportError {
    let reason = e.to_string();
    if reason == "bad checksum" {
        ImportError::Checksum {
            source: name.to_string(),
        }
    } else {
        ImportError::Corrupt {
            source: name.to_string(),
            reason,
        }
    }
}

/// What a file that is not Automerge data looks like, for the error: users hand importers the
/// wrong file (a JSON export, a gzip archive, a weft trace), and saying which helps.
fn describe_start(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(8)];
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return "it is gzip data; decompress it first".into();
    }
    let trimmed = bytes.iter().position(|b| !b.is_ascii_whitespace());
    if let Some(i) = trimmed {
        if matches!(bytes[i], b'{' | b'[') && std::str::from_utf8(head).is_ok() {
            return "it looks like JSON; weft import automerge reads the binary output of \
                    save() or getChanges()"
                .into();
        }
    }
    let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
    if std::str::from_utf8(head).is_ok_and(|s| !s.chars().any(char::is_control)) {
        format!("it starts with text: {:?}", String::from_utf8_lossy(head))
    } else {
        format!("it starts with the bytes {}", hex.join(" "))
    }
}
