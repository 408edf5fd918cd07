//! The limit on a run's size: syncing costs messages per pair of replicas, so a run's events
//! grow with the replicas squared, and a run stops at a bound rather than fill a disk.

/// Events [`crate::Config::max_events`] allows by default: a few GB of trace.
pub const MAX_EVENTS: u64 = 10_000_000;

/// The error a run stops with when it reaches [`crate::Config::max_events`] (inside an `io::Error`
/// of kind `Other`, which is what the trace sink returns; find it with `get_ref` and
/// `downcast_ref`). The events before the limit were written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventLimit {
    /// The limit reached.
    pub max_events: u64,
    /// Simulated time when it was reached, ns.
    pub at: u64,
}

impl std::fmt::Display for EventLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the run reached {} events at {:.3} s of simulated time and stopped",
            self.max_events,
            self.at as f64 / 1e9
        )
    }
}

impl std::error::Error for EventLimit {}
