//! The limits on a run's size: syncing costs messages per pair of replicas, so a run's events
//! grow with the replicas squared (and each event's clock with the replicas), and a run stops
//! at a bound rather than fill a disk.

/// Events [`Limits::max_events`] allows by default.
pub const MAX_EVENTS: u64 = 10_000_000;

/// Trace bytes [`Limits::max_trace_bytes`] allows by default: 4 GiB. Events of 200
/// replicas with full clocks are about 2.7 KB each, so the event limit alone would allow 27 GB.
pub const MAX_TRACE_BYTES: u64 = 4 << 30;

/// How large a run may grow; 0 for no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Events emitted.
    pub max_events: u64,
    /// Bytes of trace written.
    pub max_trace_bytes: u64,
}

impl Limits {
    /// No limit at all (a run as long as its configuration asks, e.g. the paced demo).
    pub const NONE: Limits = Limits {
        max_events: 0,
        max_trace_bytes: 0,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: MAX_EVENTS,
            max_trace_bytes: MAX_TRACE_BYTES,
        }
    }
}

/// Which limit a run reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// [`Limits::max_events`] events were emitted.
    Events(u64),
    /// [`Limits::max_trace_bytes`] bytes of trace were written.
    Bytes(u64),
}

/// The error a run stops with when it reaches one of its limits (inside an `io::Error` of kind
/// `Other`, which is what the trace sink returns; find it with `get_ref` and `downcast_ref`).
/// Every event emitted before it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunLimit {
    /// The limit reached.
    pub limit: Limit,
    /// Simulated time when it was reached, ns.
    pub at: u64,
}

impl std::fmt::Display for RunLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = self.at as f64 / 1e9;
        match self.limit {
            Limit::Events(n) => write!(f, "the run reached {n} events at {at:.3} s"),
            Limit::Bytes(n) => write!(f, "the trace reached {n} bytes at {at:.3} s"),
        }?;
        f.write_str(" of simulated time and stopped")
    }
}

impl std::error::Error for RunLimit {}

impl RunLimit {
    /// The limit inside `e`, when a limit is what stopped the run (else a real I/O error).
    pub fn of(e: &std::io::Error) -> Option<&RunLimit> {
        e.get_ref()?.downcast_ref::<RunLimit>()
    }
}
