//! What can go wrong with a replica name or a context that comes from elsewhere.

use crate::{MAX_CLOCK, MAX_HEADER_BYTES, MAX_REPLICA_BYTES, MAX_VC_ENTRIES};

/// Why a replica name or a [`Context`](crate::Context) was refused.
///
/// Contexts arrive from other processes, so [`Context::from_header`](crate::Context::from_header)
/// reports every way one can be wrong as a value of this type and never panics.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClockError {
    /// The header is longer than [`MAX_HEADER_BYTES`]; it was not parsed.
    #[error("context header is {len} bytes, more than the limit of {MAX_HEADER_BYTES}")]
    HeaderTooLong {
        /// The header's length in bytes.
        len: usize,
    },
    /// The header is not JSON, or not an object with a string `replica`, integer `seq` and
    /// `lamport` (0 to 2⁶⁴−1) and an object `vc` of such integers.
    #[error("context header is malformed: {0}")]
    Malformed(#[source] serde_json::Error),
    /// The vector clock has more than [`MAX_VC_ENTRIES`] entries.
    #[error("vector clock has more than {MAX_VC_ENTRIES} entries")]
    TooManyEntries,
    /// The header's vector clock names a replica twice (JSON would silently keep one).
    #[error("vector clock names replica {0:?} twice")]
    DuplicateEntry(String),
    /// A replica name (the context's own or a vector-clock key) is empty or longer than
    /// [`MAX_REPLICA_BYTES`] bytes.
    #[error("replica name is {len} bytes; it must be 1 to {MAX_REPLICA_BYTES}")]
    InvalidReplica {
        /// The name's length in bytes.
        len: usize,
    },
    /// `seq` is 0; an event's position in its replica's history starts at 1.
    #[error("seq is 0; events are numbered from 1")]
    ZeroSeq,
    /// A clock value is above [`MAX_CLOCK`], the largest int an OpenTelemetry attribute holds.
    #[error("{field} is {value}, more than the largest OpenTelemetry int {MAX_CLOCK}")]
    OutOfRange {
        /// `seq`, `lamport`, or `vc["replica"]`.
        field: String,
        /// The value given.
        value: u64,
    },
    /// The vector clock's entry for the context's own replica is not its `seq`, so the clocks
    /// do not describe one event (0 when the entry is absent).
    #[error("the vector clock's entry for the sender's own replica is {entry}, not its seq {seq}")]
    OwnEntryMismatch {
        /// The context's seq.
        seq: u64,
        /// The vector clock's entry for the context's replica.
        entry: u64,
    },
}
