//! Sync: what replicas send each other, the network's fate for it, and what a receiver does.
//!
//! The rule every strategy keeps: a receive makes the sender's whole causal past part of the
//! receiver's (the trace records the send → recv edge and the merged vector clock), so the
//! message must bring the receiver every write of that past it does not have yet. State sync
//! sends the whole state. Op and delta sync send what the receiver has not acknowledged from a
//! log of *every* change the sender's state went through — its own writes and what it received
//! from others — as causal broadcast with relaying and the δ-CRDT anti-entropy algorithm do.
//! (Sending only its own writes would let a replica that heard of a write only through a third
//! replica claim, in its clock, a write its state lacks.)

use std::io;
use std::rc::Rc;

use super::{Action, Message, Op, Parts, Payload, Replica, World, DELTA_LOG_MAX};
use crate::config::{Bug, Latency, Nanos, SyncKind, MS};
use crate::crdt::Crdt;
use crate::out::EvKind;

impl World {
    /// Records a change of `r`'s state in its delta log (delta sync), so that peers that have
    /// not acknowledged it are sent it — whether `r` wrote it or merged it from a peer.
    pub(super) fn log_delta(&mut self, r: u32, key: u32, delta: Crdt) {
        let rep = &mut self.replicas[r as usize];
        let n = rep.delta_next;
        rep.delta_next += 1;
        rep.deltas.push_back((n, key, delta));
        if rep.deltas.len() > DELTA_LOG_MAX {
            rep.deltas.pop_front();
        }
    }

    /// Records an op delivered at `rep` (its own or a peer's) in its op log (op sync).
    pub(super) fn log_op(rep: &mut Replica, op: Rc<Op>) {
        rep.op_log.push_back((rep.op_next, op));
        rep.op_next += 1;
    }

    pub(super) fn sync(&mut self, r: u32) -> io::Result<()> {
        let n = self.cfg.replicas;
        match self.cfg.sync {
            SyncKind::State => {
                let mut p = self.rng.below(u64::from(n - 1)) as u32;
                if p >= r {
                    p += 1;
                }
                let snapshot = Rc::new(self.replicas[r as usize].state.clone());
                let bytes = 16
                    + snapshot
                        .iter()
                        .map(|c| c.wire_len() as u64 + 4)
                        .sum::<u64>();
                self.send(r, p, bytes, Payload::State(snapshot))?;
            }
            SyncKind::Delta => {
                let bug = self.has_bug(Bug::DropDelta, r);
                // Peers usually acknowledged the same point: join each distinct interval once.
                let mut joined: Vec<(u64, Parts)> = Vec::new();
                for p in 0..n {
                    if p == r {
                        continue;
                    }
                    let rep = &self.replicas[r as usize];
                    let acked = rep.delta_acked[p as usize];
                    let upto = rep.delta_next - 1;
                    if acked >= upto {
                        continue;
                    }
                    let parts = match joined.iter().find(|j| j.0 == acked) {
                        Some(j) => j.1.clone(),
                        None => {
                            let parts = Self::delta_interval(rep, acked, bug);
                            joined.push((acked, parts.clone()));
                            parts
                        }
                    };
                    if bug {
                        // The bug: a delta is sent once and forgotten, delivered or not.
                        self.replicas[r as usize].delta_acked[p as usize] = upto;
                    }
                    if parts.is_empty() {
                        continue;
                    }
                    let bytes = 24
                        + parts
                            .iter()
                            .map(|(_, c)| c.wire_len() as u64 + 4)
                            .sum::<u64>();
                    self.send(r, p, bytes, Payload::Delta { upto, parts })?;
                }
                self.gc_deltas(r);
            }
            SyncKind::Op => {
                for p in 0..n {
                    if p == r {
                        continue;
                    }
                    let rep = &self.replicas[r as usize];
                    let acked = rep.ops_acked[p as usize];
                    let upto = rep.op_next - 1;
                    if acked >= upto {
                        continue;
                    }
                    // The whole unacknowledged interval, in one message: a receive claims the
                    // sender's whole past, so a message cut short would claim ops it lacks.
                    // Left out: the peer's own ops and those it said it had delivered.
                    let start = rep.op_log.partition_point(|e| e.0 <= acked);
                    let has = rep.peer_delivered[p as usize].as_deref();
                    let ops: Vec<Rc<Op>> = rep
                        .op_log
                        .range(start..)
                        .filter(|e| {
                            let o = &e.1;
                            o.origin != p && has.is_none_or(|d| o.counter > d[o.origin as usize])
                        })
                        .map(|e| e.1.clone())
                        .collect();
                    if ops.is_empty() {
                        self.replicas[r as usize].ops_acked[p as usize] = upto;
                        continue;
                    }
                    let bytes = 24
                        + ops
                            .iter()
                            .map(|o| 24 + 8 * o.deps.len() as u64 + o.delta.wire_len() as u64)
                            .sum::<u64>();
                    self.send(r, p, bytes, Payload::Ops { upto, ops })?;
                }
                self.gc_ops(r);
            }
        }
        Ok(())
    }

    /// What a peer that acknowledged up to `acked` is missing: the join of the later deltas,
    /// per key — or the whole state when the log no longer reaches back that far.
    fn delta_interval(rep: &Replica, acked: u64, bug: bool) -> Parts {
        let base = rep.deltas.front().map_or(rep.delta_next, |d| d.0);
        if acked + 1 < base && !bug {
            return rep
                .state
                .iter()
                .enumerate()
                .map(|(k, c)| (k as u32, c.clone()))
                .collect();
        }
        let mut parts: Vec<(u32, Crdt)> = Vec::new();
        let start = rep.deltas.partition_point(|d| d.0 <= acked);
        for (_, key, d) in rep.deltas.range(start..) {
            match parts.iter_mut().find(|(k, _)| k == key) {
                Some((_, c)) => {
                    c.merge(d);
                }
                None => parts.push((*key, d.clone())),
            }
        }
        parts.sort_by_key(|p| p.0);
        parts.into()
    }

    /// Forgets the op-log entries every peer has acknowledged.
    fn gc_ops(&mut self, r: u32) {
        let rep = &mut self.replicas[r as usize];
        let min = rep
            .ops_acked
            .iter()
            .enumerate()
            .filter(|&(p, _)| p != r as usize)
            .map(|(_, &a)| a)
            .min()
            .unwrap_or(0);
        while rep.op_log.front().is_some_and(|e| e.0 <= min) {
            rep.op_log.pop_front();
        }
    }

    fn gc_deltas(&mut self, r: u32) {
        let rep = &mut self.replicas[r as usize];
        let min = rep
            .delta_acked
            .iter()
            .enumerate()
            .filter(|&(p, _)| p != r as usize)
            .map(|(_, &a)| a)
            .min()
            .unwrap_or(0);
        while rep.deltas.front().is_some_and(|d| d.0 <= min) {
            rep.deltas.pop_front();
        }
    }

    pub(super) fn link_up(&self, a: u32, b: u32) -> bool {
        if self.healed {
            return true;
        }
        if !self.replicas[a as usize].online || !self.replicas[b as usize].online {
            return false;
        }
        self.cfg.net.partitions.iter().all(|p| {
            if self.now < p.from || self.now >= p.to {
                return true;
            }
            let group = |r: u32| p.groups.iter().position(|g| g.contains(&r));
            matches!((group(a), group(b)), (Some(x), Some(y)) if x == y)
        })
    }

    fn latency(&mut self, a: u32, b: u32, bytes: u64) -> Nanos {
        let net = &self.cfg.net;
        let base = match net.latency {
            Latency::Const(d) => d,
            Latency::Uniform(lo, hi) => self.rng.between(lo, hi),
            Latency::Exp(m) => self.rng.exp(m as f64) as Nanos,
        };
        // The hub is well connected: its links are five times faster.
        let base = if net.hub && (a == 0 || b == 0) {
            base / 5
        } else {
            base
        };
        let transfer = bytes
            .saturating_mul(1_000_000_000)
            .checked_div(net.bandwidth)
            .unwrap_or(0);
        let held = if self.rng.chance(net.reorder) {
            self.rng.between(base, 5 * base.max(MS))
        } else {
            0
        };
        base + transfer + held
    }

    /// Sends a message from `r` to `p`: a `send` event for state-carrying payloads, then the
    /// network decides its fate.
    fn send(&mut self, r: u32, p: u32, bytes: u64, payload: Payload) -> io::Result<()> {
        let id = self.next_msg;
        self.next_msg += 1;
        let traced = payload.traced();
        if traced {
            self.out.messages += 1;
            self.local_tick(r);
            let what = match &payload {
                Payload::Ops { ops, .. } => format!(
                    "{{\"bytes\":{bytes},\"sync\":\"op\",\"ops\":{},\"to\":\"{}\"}}",
                    ops.len(),
                    self.trace.name(p)
                ),
                Payload::State(_) => format!(
                    "{{\"bytes\":{bytes},\"sync\":\"state\",\"to\":\"{}\"}}",
                    self.trace.name(p)
                ),
                Payload::Delta { parts, .. } => {
                    format!(
                        "{{\"bytes\":{bytes},\"sync\":\"delta\",\"keys\":{},\"to\":\"{}\"}}",
                        parts.len(),
                        self.trace.name(p)
                    )
                }
                _ => unreachable!("acks are not traced"),
            };
            self.attrs[0] = what;
            let attrs = std::mem::take(&mut self.attrs[0]);
            self.emit(r, EvKind::Send, Some(id), None, None, None, Some(&attrs))?;
            self.attrs[0] = attrs;
        } else {
            self.out.acks += 1;
        }
        self.out.bytes += bytes;
        let rep = &self.replicas[r as usize];
        let vc = (traced && !rep.vc.is_empty()).then(|| Rc::from(rep.vc.as_slice()));
        let msg = Message {
            from: r,
            to: p,
            id,
            bytes,
            lamport: rep.lamport,
            hlc: rep.hlc,
            vc,
            payload,
        };
        if !self.link_up(r, p) || self.rng.chance(self.cfg.net.loss) {
            self.out.lost += 1;
            return Ok(());
        }
        let copies = if self.rng.chance(self.cfg.net.dup) {
            self.out.duplicated += 1;
            2
        } else {
            1
        };
        let slot = match self.free_slots.pop() {
            Some(s) => {
                self.messages[s as usize] = Some(msg);
                self.deliveries_left[s as usize] = copies;
                s
            }
            None => {
                self.messages.push(Some(msg));
                self.deliveries_left.push(copies);
                (self.messages.len() - 1) as u32
            }
        };
        for _ in 0..copies {
            let d = self.latency(r, p, bytes);
            self.schedule(self.now + d, Action::Deliver(slot));
        }
        Ok(())
    }

    pub(super) fn deliver(&mut self, slot: u32) -> io::Result<()> {
        let left = &mut self.deliveries_left[slot as usize];
        *left -= 1;
        let msg = if *left == 0 {
            self.free_slots.push(slot);
            self.messages[slot as usize]
                .take()
                .expect("a scheduled delivery has its message")
        } else {
            let m = self.messages[slot as usize]
                .as_ref()
                .expect("a scheduled delivery has its message");
            Message {
                from: m.from,
                to: m.to,
                id: m.id,
                bytes: m.bytes,
                lamport: m.lamport,
                hlc: m.hlc,
                vc: m.vc.clone(),
                payload: m.payload.clone(),
            }
        };
        let p = msg.to;
        if msg.payload.traced() {
            self.receive_clocks(p, &msg);
            let attrs = format!(
                "{{\"bytes\":{},\"from\":\"{}\"}}",
                msg.bytes,
                self.trace.name(msg.from)
            );
            self.emit(
                p,
                EvKind::Recv,
                Some(msg.id),
                None,
                None,
                None,
                Some(&attrs),
            )?;
        }
        let buggy_merge = self.has_bug(Bug::NonIdempotentMerge, p);
        match msg.payload {
            Payload::State(state) => {
                let rep = &mut self.replicas[p as usize];
                let mut changed = false;
                for (mine, theirs) in rep.state.iter_mut().zip(state.iter()) {
                    changed |= if buggy_merge {
                        mine.merge_buggy(theirs)
                    } else {
                        mine.merge(theirs)
                    };
                }
                if changed {
                    rep.digest = None;
                }
            }
            Payload::Delta { upto, parts } => {
                for (k, d) in parts.iter() {
                    let rep = &mut self.replicas[p as usize];
                    let mine = &mut rep.state[*k as usize];
                    let changed = if buggy_merge {
                        mine.merge_buggy(d)
                    } else {
                        mine.merge(d)
                    };
                    if changed {
                        rep.digest = None;
                        // Relayed to the peers that did not get it from the sender: they will
                        // learn of it from p's clock, so they must get it from p's state.
                        self.log_delta(p, *k, d.clone());
                    }
                }
                self.send(p, msg.from, 16, Payload::AckDelta { upto })?;
            }
            Payload::AckDelta { upto } => {
                let a = &mut self.replicas[p as usize].delta_acked[msg.from as usize];
                *a = (*a).max(upto);
                self.gc_deltas(p);
            }
            Payload::Ops { upto, ops } => {
                for op in ops {
                    self.receive_op(p, op, buggy_merge);
                }
                debug_assert!(
                    self.replicas[p as usize].pending.is_empty(),
                    "an op-log interval after an acknowledged prefix is causally deliverable"
                );
                let delivered: Rc<[u64]> = self.replicas[p as usize].delivered.as_slice().into();
                let bytes = 16 + 8 * delivered.len() as u64;
                self.send(p, msg.from, bytes, Payload::AckOps { upto, delivered })?;
            }
            Payload::AckOps { upto, delivered } => {
                let rep = &mut self.replicas[p as usize];
                let from = msg.from as usize;
                let newer = rep.peer_delivered[from]
                    .as_deref()
                    .is_none_or(|old| old.iter().zip(delivered.iter()).all(|(o, d)| o <= d));
                if newer {
                    // Acks can arrive out of order: an older one must not hide what a newer
                    // one said was delivered.
                    rep.peer_delivered[from] = Some(delivered);
                }
                let a = &mut rep.ops_acked[from];
                *a = (*a).max(upto);
                self.gc_ops(p);
            }
        }
        Ok(())
    }

    /// Merges the clocks a received message carries (unless a bug says otherwise) and makes
    /// the receive a local event.
    fn receive_clocks(&mut self, p: u32, msg: &Message) {
        let no_vc_merge = self.has_bug(Bug::VcNoMerge, p);
        let no_max = self.has_bug(Bug::LamportNoMax, p);
        let rep = &mut self.replicas[p as usize];
        if !no_max {
            rep.lamport = rep.lamport.max(msg.lamport);
        }
        rep.hlc = rep.hlc.max(msg.hlc);
        if let (Some(theirs), false) = (&msg.vc, no_vc_merge) {
            for (mine, &t) in rep.vc.iter_mut().zip(theirs.iter()) {
                *mine = (*mine).max(t);
            }
        }
        self.local_tick(p);
    }

    /// Op-based delivery: exactly once, in causal order; buffers ops whose dependencies have
    /// not been delivered yet.
    /// Delivered ops go to `p`'s op log, to be relayed.
    fn receive_op(&mut self, p: u32, op: Rc<Op>, buggy: bool) {
        let rep = &mut self.replicas[p as usize];
        if op.counter <= rep.delivered[op.origin as usize] {
            if buggy && op.delta.is_counter() {
                // The bug: a duplicate op is applied again.
                rep.state[op.key as usize].merge_buggy(&op.delta);
                rep.digest = None;
            }
            return;
        }
        if rep
            .pending
            .iter()
            .any(|q| q.origin == op.origin && q.counter == op.counter)
        {
            return;
        }
        rep.pending.push(op);
        // Deliver everything that became deliverable.
        loop {
            let rep = &mut self.replicas[p as usize];
            let ready = rep.pending.iter().position(|o| {
                o.counter == rep.delivered[o.origin as usize] + 1
                    && o.deps
                        .iter()
                        .enumerate()
                        .all(|(q, &d)| q == o.origin as usize || d <= rep.delivered[q])
            });
            let Some(i) = ready else { break };
            let o = rep.pending.swap_remove(i);
            rep.delivered[o.origin as usize] = o.counter;
            let crdt = &mut rep.state[o.key as usize];
            if buggy {
                crdt.merge_buggy(&o.delta);
            } else {
                crdt.merge(&o.delta);
            }
            rep.digest = None;
            Self::log_op(rep, o);
        }
    }
}
