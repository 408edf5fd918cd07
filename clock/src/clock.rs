//! The clock rules: one [`ReplicaClock`] per replica, one [`Stamp`] per event.

use std::collections::BTreeMap;

use weft_api::EventId;

use crate::{ClockError, Context};

/// The logical clocks of one replica: its event counter, its Lamport time and its vector clock.
///
/// Every event the replica records takes exactly one call — [`tick`](Self::tick) for anything
/// that does not learn about other replicas, [`receive`](Self::receive) when a message arrives,
/// [`merge`](Self::merge) when several remote states are absorbed at once — and the returned
/// [`Stamp`] is what that event carries. Calling the clock without recording the event leaves a
/// gap in the replica's history, which `weft check` reports as `seq-gap`.
///
/// The clock is plain data with no interior locking: keep one per replica, behind whatever lock
/// the replica's own state already uses, so that the order of stamps is the order of events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaClock {
    replica: String,
    seq: u64,
    lamport: u64,
    vc: BTreeMap<String, u64>,
}

impl ReplicaClock {
    /// A clock for a replica that has recorded nothing yet.
    ///
    /// # Panics
    ///
    /// When the name is empty or longer than [`MAX_REPLICA_BYTES`](crate::MAX_REPLICA_BYTES)
    /// bytes, which the weft format does not allow. Names usually come from code or
    /// configuration, where this is a mistake to fix; use [`try_new`](Self::try_new) to handle
    /// it instead.
    pub fn new(replica: impl Into<String>) -> Self {
        match Self::try_new(replica) {
            Ok(c) => c,
            Err(e) => panic!("ReplicaClock::new: {e}"),
        }
    }

    /// A clock for a replica that has recorded nothing yet, or
    /// [`ClockError::InvalidReplica`] when the name is empty or too long.
    pub fn try_new(replica: impl Into<String>) -> Result<Self, ClockError> {
        let replica = replica.into();
        crate::check_replica(&replica)?;
        Ok(ReplicaClock {
            replica,
            seq: 0,
            lamport: 0,
            vc: BTreeMap::new(),
        })
    }

    /// A clock that continues after the event `last`, for a replica that restarts.
    ///
    /// Event ids must never repeat: a replica that starts again from seq 1 produces events that
    /// clash with its earlier ones (`duplicate-event`). Persist `stamp.context().to_header()`
    /// of the latest event durably before acting on it, and resume from it after a restart.
    /// The context is checked as [`Context::validate`] does.
    pub fn resume(last: &Context) -> Result<Self, ClockError> {
        last.validate()?;
        Ok(ReplicaClock {
            replica: last.replica.clone(),
            seq: last.seq,
            lamport: last.lamport,
            vc: last
                .vc
                .iter()
                .filter(|(_, &n)| n > 0)
                .map(|(q, &n)| (q.clone(), n))
                .collect(),
        })
    }

    /// The replica's name.
    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// The seq of the latest event (0 before the first).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The Lamport time of the latest event (0 before the first).
    pub fn lamport(&self) -> u64 {
        self.lamport
    }

    /// The vector clock after the latest event: one entry per replica seen, none for the others.
    pub fn vc(&self) -> &BTreeMap<String, u64> {
        &self.vc
    }

    /// Stamps an event that learns nothing from other replicas: a local step, a write, a read or
    /// a send.
    ///
    /// The seq and the Lamport time each go up by one, and the replica's own vector-clock entry
    /// becomes the new seq.
    pub fn tick(&mut self) -> Stamp {
        self.lamport = self.lamport.saturating_add(1);
        self.advance(None)
    }

    /// Stamps the receipt of a message whose sender attached `remote` (the context of its `send`
    /// event, see [`Stamp::context`]).
    ///
    /// The Lamport time becomes one more than the larger of the local and the remote one, so the
    /// receive comes after the send in Lamport order; the vector clock becomes the entry-wise
    /// maximum of both, then the replica's own entry the new seq, so it covers everything the
    /// sender had seen. Record the event as a `recv` naming the send's `msg` (that is the edge
    /// `weft check` draws), or as any other kind, whose edges then come from the vector clock.
    ///
    /// The context is trusted as given: validate contexts that come from outside with
    /// [`Context::from_header`]. Arithmetic saturates rather than overflows.
    pub fn receive(&mut self, remote: &Context) -> Stamp {
        self.lamport = self.lamport.max(remote.lamport).saturating_add(1);
        self.absorb(&remote.vc);
        self.advance(None)
    }

    /// Stamps a merge that absorbs the states of several remote events at once, naming them as
    /// its explicit `parents` — for example a CRDT change whose dependencies are other replicas'
    /// changes, or an anti-entropy round that pulls from several peers.
    ///
    /// The clocks advance as [`receive`](Self::receive) does for every remote together. The
    /// stamp's [`parents`](Stamp::parents) are the remote events' ids, sorted and without
    /// repeats. The replica's own previous event is deliberately not among them: the spec's
    /// program order already makes it a predecessor, and a `parents` entry that is missing from
    /// the trace is an error (`missing-event`) where a missing own event is only a gap. Since an
    /// event with `parents` gets no edges derived from its vector clock, every state the merge
    /// absorbs must be named here; record the event as `local` (a `recv` would add its message
    /// edge as well). An empty `remotes` gives an event with an empty `parents` list: only
    /// program order precedes it.
    pub fn merge(&mut self, remotes: &[Context]) -> Stamp {
        let mut lamport = self.lamport;
        let mut parents = Vec::with_capacity(remotes.len());
        for r in remotes {
            lamport = lamport.max(r.lamport);
            self.absorb(&r.vc);
            parents.push(r.id());
        }
        parents.sort();
        parents.dedup();
        self.lamport = lamport.saturating_add(1);
        self.advance(Some(parents))
    }

    /// Entry-wise maximum with a remote vector clock (zero entries are not kept).
    fn absorb(&mut self, remote: &BTreeMap<String, u64>) {
        for (q, &n) in remote {
            if n == 0 {
                continue;
            }
            match self.vc.get_mut(q) {
                Some(e) => *e = (*e).max(n),
                None => {
                    self.vc.insert(q.clone(), n);
                }
            }
        }
    }

    /// The next seq, the own vector-clock entry, and the stamp of the new event.
    fn advance(&mut self, parents: Option<Vec<EventId>>) -> Stamp {
        self.seq = self.seq.saturating_add(1);
        self.vc.insert(self.replica.clone(), self.seq);
        Stamp {
            replica: self.replica.clone(),
            seq: self.seq,
            lamport: self.lamport,
            vc: self.vc.clone(),
            parents,
        }
    }
}

/// The clocks of one event: what a weft event's `replica`, `seq`, `lamport`, `vc` and `parents`
/// fields say.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Stamp {
    /// The replica that recorded the event.
    pub replica: String,
    /// The event's 1-based position in its replica's history.
    pub seq: u64,
    /// The event's Lamport time.
    pub lamport: u64,
    /// The vector clock after the event: for each replica seen, the seq of its latest event in
    /// this event's causal past (the own entry is `seq`).
    pub vc: BTreeMap<String, u64>,
    /// The explicit direct predecessors, set by [`ReplicaClock::merge`] only. When present, the
    /// event gets no edges derived from its vector clock.
    pub parents: Option<Vec<EventId>>,
}

impl Stamp {
    /// The event's id, `replica@seq`.
    pub fn id(&self) -> EventId {
        EventId::new(self.replica.clone(), self.seq)
    }

    /// What a sender attaches to a message so that the receiver can
    /// [`receive`](ReplicaClock::receive) it: the event's id and clocks (not its `parents`,
    /// which the receiver has no use for).
    pub fn context(&self) -> Context {
        Context {
            replica: self.replica.clone(),
            seq: self.seq,
            lamport: self.lamport,
            vc: self.vc.clone(),
        }
    }

    /// Whether this event is in the causal past of `other`, judged by the vector clocks alone:
    /// every entry of this one is at most `other`'s, and the two clocks differ.
    ///
    /// With clocks kept by [`ReplicaClock`] this is exactly happens-before. Lamport times cannot
    /// answer it: a smaller Lamport time does not mean an earlier event.
    pub fn happened_before(&self, other: &Stamp) -> bool {
        vc_le(&self.vc, &other.vc) && !vc_le(&other.vc, &self.vc)
    }

    /// Whether neither event happened before the other (and they are not the same event): the
    /// situation in which two writes of one key conflict.
    pub fn concurrent_with(&self, other: &Stamp) -> bool {
        !vc_le(&self.vc, &other.vc) && !vc_le(&other.vc, &self.vc)
    }
}

/// `a ≤ b` entry-wise, absent entries counting as 0.
fn vc_le(a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>) -> bool {
    a.iter()
        .all(|(q, &n)| n == 0 || b.get(q).is_some_and(|&m| n <= m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vc(entries: &[(&str, u64)]) -> BTreeMap<String, u64> {
        entries.iter().map(|&(q, n)| (q.to_string(), n)).collect()
    }

    #[test]
    fn tick_advances_seq_lamport_and_own_entry() {
        let mut a = ReplicaClock::new("a");
        assert_eq!((a.seq(), a.lamport(), a.vc().len()), (0, 0, 0));
        let s1 = a.tick();
        let s2 = a.tick();
        assert_eq!((s1.seq, s1.lamport, s1.vc.clone()), (1, 1, vc(&[("a", 1)])));
        assert_eq!((s2.seq, s2.lamport, s2.vc.clone()), (2, 2, vc(&[("a", 2)])));
        assert_eq!(s2.id(), EventId::new("a", 2));
        assert_eq!(s2.parents, None);
        assert!(s1.happened_before(&s2));
        assert!(!s2.happened_before(&s1));
        assert!(!s1.concurrent_with(&s2));
    }

    #[test]
    fn receive_takes_lamport_max_plus_one_and_merges_vc() {
        let mut a = ReplicaClock::new("a");
        let mut b = ReplicaClock::new("b");
        for _ in 0..5 {
            a.tick();
        }
        let send = a.tick(); // a@6, lamport 6
        b.tick();
        let recv = b.receive(&send.context());
        assert_eq!(recv.seq, 2);
        assert_eq!(recv.lamport, 7, "max(1, 6) + 1");
        assert_eq!(recv.vc, vc(&[("a", 6), ("b", 2)]));
        assert!(send.happened_before(&recv));

        // The local Lamport time wins when it is larger.
        for _ in 0..20 {
            b.tick();
        }
        let late = a.tick(); // lamport 7
        let recv2 = b.receive(&late.context());
        assert_eq!(recv2.lamport, 27 + 1, "max(27, 7) + 1");
        assert_eq!(recv2.vc, vc(&[("a", 7), ("b", 23)]));
    }

    #[test]
    fn receive_keeps_transitive_entries_and_larger_local_ones() {
        let mut a = ReplicaClock::new("a");
        let mut b = ReplicaClock::new("b");
        let mut c = ReplicaClock::new("c");
        let c1 = c.tick();
        a.receive(&c1.context());
        let a2 = a.tick();
        for _ in 0..3 {
            b.tick();
        }
        let r = b.receive(&a2.context());
        assert_eq!(r.vc, vc(&[("a", 2), ("b", 4), ("c", 1)]));
        assert!(c1.happened_before(&r), "transitively, through a");
    }

    #[test]
    fn receive_ignores_zero_entries() {
        let mut b = ReplicaClock::new("b");
        let ctx = Context {
            replica: "a".into(),
            seq: 1,
            lamport: 1,
            vc: vc(&[("a", 1), ("z", 0)]),
        };
        assert_eq!(b.receive(&ctx).vc, vc(&[("a", 1), ("b", 1)]));
    }

    #[test]
    fn concurrent_stamps_are_incomparable() {
        let mut a = ReplicaClock::new("a");
        let mut b = ReplicaClock::new("b");
        let a1 = a.tick();
        let b1 = b.tick();
        let b2 = b.tick();
        assert!(a1.concurrent_with(&b1) && b1.concurrent_with(&a1));
        assert!(!a1.happened_before(&b2) && !b2.happened_before(&a1));
        assert!(a1.concurrent_with(&b2));
        // Lamport order says nothing: a1 has the smaller Lamport time, yet is not before b2.
        assert!(a1.lamport < b2.lamport);
        // A stamp is not concurrent with itself, nor before itself.
        assert!(!a1.concurrent_with(&a1) && !a1.happened_before(&a1));
        // After a message the two are ordered.
        let b3 = b.receive(&a1.context());
        assert!(a1.happened_before(&b3) && !a1.concurrent_with(&b3));
        // b3 is concurrent with what a does next.
        let a2 = a.tick();
        assert!(a2.concurrent_with(&b3));
    }

    #[test]
    fn merge_names_remote_parents_and_advances_like_receive() {
        let mut a = ReplicaClock::new("a");
        let mut b = ReplicaClock::new("b");
        let mut c = ReplicaClock::new("c");
        let b1 = b.tick();
        let b2 = b.tick();
        let c1 = c.tick();
        for _ in 0..4 {
            c.tick();
        }
        let c5 = c.context_of_latest();
        let a1 = a.tick();
        let m = a.merge(&[c5.clone(), b2.context(), b1.context(), c5.clone()]);
        assert_eq!(m.seq, 2);
        assert_eq!(m.lamport, 6, "max(1, 2, 5) + 1");
        assert_eq!(m.vc, vc(&[("a", 2), ("b", 2), ("c", 5)]));
        assert_eq!(
            m.parents,
            Some(vec![
                EventId::new("b", 1),
                EventId::new("b", 2),
                EventId::new("c", 5)
            ]),
            "sorted, without repeats, and without the own previous event a@1"
        );
        assert!(a1.happened_before(&m) && b2.happened_before(&m) && c1.happened_before(&m));
        assert_eq!(m.context().vc, m.vc);

        let empty = a.merge(&[]);
        assert_eq!(empty.parents, Some(vec![]));
        assert_eq!((empty.seq, empty.lamport), (3, 7));
        // Later stamps have no parents again.
        assert_eq!(a.tick().parents, None);
    }

    #[test]
    fn resume_continues_the_history() {
        let mut a = ReplicaClock::new("a");
        let mut b = ReplicaClock::new("b");
        a.receive(&b.tick().context());
        let last = a.tick();
        let saved = last.context().to_header();
        let mut again = ReplicaClock::resume(&Context::from_header(&saved).unwrap()).unwrap();
        assert_eq!(again.replica(), "a");
        let next = again.tick();
        assert_eq!((next.seq, next.lamport), (last.seq + 1, last.lamport + 1));
        assert_eq!(next.vc, vc(&[("a", 3), ("b", 1)]));
        assert!(last.happened_before(&next));

        let bad = Context {
            vc: BTreeMap::new(),
            ..last.context()
        };
        assert!(matches!(
            ReplicaClock::resume(&bad),
            Err(ClockError::OwnEntryMismatch { .. })
        ));
    }

    #[test]
    fn replica_names_are_checked() {
        assert!(matches!(
            ReplicaClock::try_new(""),
            Err(ClockError::InvalidReplica { len: 0 })
        ));
        assert!(ReplicaClock::try_new("x".repeat(256)).is_ok());
        assert!(matches!(
            ReplicaClock::try_new("x".repeat(257)),
            Err(ClockError::InvalidReplica { len: 257 })
        ));
        let r = std::panic::catch_unwind(|| ReplicaClock::new(""));
        assert!(r.is_err());
    }

    #[test]
    fn clocks_saturate_instead_of_overflowing() {
        let mut a = ReplicaClock::new("a");
        let huge = Context {
            replica: "b".into(),
            seq: u64::MAX,
            lamport: u64::MAX,
            vc: vc(&[("b", u64::MAX)]),
        };
        let s = a.receive(&huge);
        assert_eq!(s.lamport, u64::MAX);
        assert_eq!(s.vc["b"], u64::MAX);
    }

    impl ReplicaClock {
        /// Test helper: the context of the latest event.
        fn context_of_latest(&self) -> Context {
            Context {
                replica: self.replica.clone(),
                seq: self.seq,
                lamport: self.lamport,
                vc: self.vc.clone(),
            }
        }
    }
}
