//! State-based CRDTs with delta mutators: G-Counter, PN-Counter, LWW-Register,
//! multi-value register and add-wins OR-Set.
//!
//! Every type is a join-semilattice: `merge` is commutative, associative and idempotent and
//! returns whether `self` changed (the simulator uses that to detect quiescence). Every mutator
//! changes `self` and returns a *delta*: a value of the same type holding just the change, such
//! that `pre ⊔ delta == post`, and more generally `s ⊔ delta == s ⊔ post` for every state `s`
//! that already contains `pre`. Deltas are ordinary states and can be joined with each other
//! (delta intervals) and shipped as operations (op-based sync applies them with `merge`).
//!
//! Representation is canonical (sorted vectors, no zero entries), so two states are
//! semantically equal iff they are `==`, and [`Digest`] over that content is deterministic. No
//! hash maps, no clock, no randomness.
//!
//! ## Causal contexts
//!
//! The multi-value register and the OR-Set are *causal* CRDTs: entries tagged with [`Dot`]s plus
//! a causal context saying which dots have been seen. A dot on one side of a join survives if
//! the other side has it too or has never seen it. Contexts are compressed as version vectors
//! ([`Vv`]: the largest counter seen per replica). That compression is sound only for a set of
//! dots whose every earlier dot of the same replica is causally dominated by it:
//!
//! * [`MvRegister`]: one context per register. A replica's writes to one register always observe
//!   its own earlier writes, so a covered-but-unseen dot `(r, k)` is an earlier write of `r` to
//!   this register, overwritten by a write the context has seen.
//! * [`OrSet`]: one context **per element** (not per set). An add of `x` at `(r, k)` observed
//!   every earlier add of `x` by `r`, so the same argument holds per element. A set-wide
//!   compressed context would not be sound under delta sync: a delta `add(a)@(q,5)` whose
//!   context mentions `(p,3)` (the old dot of `a` that `q` had seen) would make a receiver that
//!   never saw `p`'s earlier `add(c)@(p,2)` believe it had, and drop `c` when it arrives (see the
//!   `set_wide_context_would_lose_elements` test). Removed elements therefore keep a tombstone:
//!   an empty dot list with the element's context (the element domain is small).
//!
//! Dot counters must start at 1 (counter 0 is "nothing seen") and be unique per replica; they
//! may be shared by all keys of a replica (gaps are fine).

mod context;
mod counter;
mod digest;
mod dispatch;
mod orset;
mod register;
mod val;

pub use context::Vv;
pub use counter::{GCounter, PNCounter};
pub use digest::Digest;
pub use dispatch::Crdt;
pub use orset::OrSet;
pub use register::{LwwRegister, MvRegister};
pub use val::Val;

/// Index of a replica in the simulation.
pub type ReplicaIdx = u32;

/// A unique write id: the replica and its own monotonically increasing op counter (shared by
/// all keys of that replica). Counters start at 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dot {
    pub replica: ReplicaIdx,
    pub counter: u64,
}

/// Which CRDT a key holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CrdtKind {
    GCounter,
    PNCounter,
    LwwRegister,
    MvRegister,
    OrSet,
}

impl CrdtKind {
    /// Every kind, in declaration order.
    pub const ALL: [CrdtKind; 5] = [
        CrdtKind::GCounter,
        CrdtKind::PNCounter,
        CrdtKind::LwwRegister,
        CrdtKind::MvRegister,
        CrdtKind::OrSet,
    ];

    fn tag(self) -> u64 {
        match self {
            CrdtKind::GCounter => 1,
            CrdtKind::PNCounter => 2,
            CrdtKind::LwwRegister => 3,
            CrdtKind::MvRegister => 4,
            CrdtKind::OrSet => 5,
        }
    }
}

/// LWW timestamp: `(t, replica)` ordered lexicographically; `t` is a hybrid logical clock value
/// supplied by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    pub t: u64,
    pub replica: ReplicaIdx,
}

#[cfg(test)]
mod tests;
