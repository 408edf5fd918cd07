//! The simulated world: replicas holding CRDTs, a bad network between them, skewed clocks, one
//! seeded RNG and simulated time. [`run`] plays a [`Config`] to the end and reports whether the
//! replicas converged.
//!
//! Everything happens in one thread, in the order of a priority queue keyed by (simulated time,
//! insertion number), so a run is a pure function of its configuration and seed.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io;
use std::rc::Rc;

use crate::config::{Bug, Clocks, Config, Nanos, SyncKind, Workload, MS};
use crate::crdt::{Crdt, CrdtKind, Digest, Dot, Stamp, Val};
use crate::limit::{Limit, RunLimit};
use crate::out::{EvKind, TraceOut};
use crate::rng::Rng;

mod reads;
mod sync;

/// 2026-01-01T00:00:00Z: simulated time 0 on a replica whose wall clock is exact.
pub const EPOCH_NS: i64 = 1_767_225_600 * 1_000_000_000;

/// Most deltas a replica keeps for peers that have not acknowledged them; a peer further
/// behind is sent the whole state.
const DELTA_LOG_MAX: usize = 4096;

/// What a run did and how it ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Trace events emitted.
    pub events: u64,
    /// Operations performed (reads and writes).
    pub ops: u64,
    /// Messages handed to the network (state-carrying ones; acks are counted apart).
    pub messages: u64,
    /// Acknowledgements handed to the network.
    pub acks: u64,
    /// Messages the network lost (including those cut by partitions and offline links).
    pub lost: u64,
    /// Messages the network delivered twice.
    pub duplicated: u64,
    /// Bytes on the wire (messages and acks).
    pub bytes: u64,
    /// Simulated time when the operations ended and the network healed.
    pub ops_end: Nanos,
    /// Simulated time at the end of the run.
    pub end: Nanos,
    /// Simulated time from the end of the operations to convergence, if it converged.
    pub converge_time: Option<Nanos>,
    /// Whether every replica ended with the same state.
    pub converged: bool,
    /// Each replica's final state digest.
    pub digests: Vec<u64>,
    /// LWW writes that lost to an older write their replica had already seen
    /// (the `lww-by-wall-clock` bug makes these).
    pub lost_newer_writes: u64,
}

#[derive(Clone, Debug)]
struct Op {
    origin: u32,
    counter: u64,
    deps: Rc<[u64]>,
    key: u32,
    delta: Crdt,
}

/// Per-key deltas (or states), shared by every peer that is sent the same interval.
type Parts = Rc<[(u32, Crdt)]>;

/// What a message carries. Op and delta messages carry everything in the sender's state the
/// receiver has not acknowledged — the sender's own writes *and* those it received from others
/// — because the receive makes the receiver's causal past include the sender's whole past: a
/// message that carried less would make the trace claim writes the receiver's state lacks.
#[derive(Clone, Debug)]
enum Payload {
    /// Entries of the sender's op log after the receiver's acknowledgement, up to `upto`.
    Ops {
        upto: u64,
        ops: Vec<Rc<Op>>,
    },
    State(Rc<Vec<Crdt>>),
    /// The join of the sender's delta log after the receiver's acknowledgement, up to `upto`.
    Delta {
        upto: u64,
        parts: Parts,
    },
    /// Acknowledges the sender's op log up to `upto`, and says which ops the acknowledging
    /// replica has delivered from every origin, so that they are not relayed to it again.
    AckOps {
        upto: u64,
        delivered: Rc<[u64]>,
    },
    AckDelta {
        upto: u64,
    },
}

impl Payload {
    fn traced(&self) -> bool {
        !matches!(self, Payload::AckOps { .. } | Payload::AckDelta { .. })
    }
}

#[derive(Debug)]
struct Message {
    from: u32,
    to: u32,
    id: u64,
    bytes: u64,
    lamport: u64,
    hlc: u64,
    vc: Option<Rc<[u64]>>,
    payload: Payload,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    NextOp,
    Tick(u32),
    Deliver(u32),
    Toggle(u32),
    Check,
}

struct Replica {
    state: Vec<Crdt>,
    seq: u64,
    lamport: u64,
    hlc: u64,
    vc: Vec<u64>,
    wall_offset: i64,
    drift_ppm: f64,
    dots: u64,
    online: bool,
    digest: Option<u64>,
    // op sync
    /// Per origin, how many of its ops were delivered here (ops of one origin are delivered in
    /// their counter order).
    delivered: Vec<u64>,
    /// Every op delivered here — its own and relayed ones — in delivery order (a causal order,
    /// so every prefix is causally closed), numbered from 1, kept until every peer has
    /// acknowledged it.
    op_log: VecDeque<(u64, Rc<Op>)>,
    /// The number the next op-log entry gets.
    op_next: u64,
    /// Per peer, the op-log entry up to which it acknowledged.
    ops_acked: Vec<u64>,
    /// Per peer, the ops it had delivered from each origin when it last acknowledged (a lower
    /// bound of what it has now): relaying those again would only cost bytes and merges.
    peer_delivered: Vec<Option<Rc<[u64]>>>,
    /// Ops received before their causal dependencies (a log prefix is causally closed, so only
    /// a defensive buffer: a correct run leaves it empty once a message is processed).
    pending: Vec<Rc<Op>>,
    // delta sync
    /// Every change of the state — its own writes and what merges from peers changed — as
    /// numbered per-key deltas, kept for peers that have not acknowledged them.
    deltas: VecDeque<(u64, u32, Crdt)>,
    delta_next: u64,
    delta_acked: Vec<u64>,
    // the stale-read bug
    /// The older copy of the state the buggy replica sometimes answers reads from.
    snapshot: Option<Vec<Crdt>>,
}

/// The world of one run.
pub struct World {
    cfg: Config,
    /// Draws for the workload only (when, where, which key, which value), so that the same seed
    /// gives the same operations whatever the sync strategy and network do.
    work: Rng,
    /// Draws for everything else: the network, peers, clocks.
    rng: Rng,
    now: Nanos,
    queue: BinaryHeap<Reverse<(Nanos, u64, Action)>>,
    inserted: u64,
    replicas: Vec<Replica>,
    kinds: Vec<CrdtKind>,
    key_names: Vec<String>,
    messages: Vec<Option<Message>>,
    free_slots: Vec<u32>,
    deliveries_left: Vec<u8>,
    next_msg: u64,
    healed: bool,
    /// When the run gives up converging (set once the operations are done).
    settle_deadline: Nanos,
    /// The run has ended (converged, gave up, or nothing left to do).
    done: bool,
    trace: TraceOut,
    out: Outcome,
    scratch: String,
    attrs: [String; 3],
}

fn key_plan(cfg: &Config) -> (Vec<CrdtKind>, Vec<String>) {
    let k = cfg.keys as usize;
    let mut kinds = Vec::new();
    let mut names = Vec::new();
    if cfg.workload == Workload::Inventory {
        let width = (k.max(2) - 1).to_string().len().max(3);
        for i in 0..k {
            for (field, kind) in [
                ("stock", CrdtKind::PNCounter),
                ("price", CrdtKind::LwwRegister),
                ("bin", CrdtKind::LwwRegister),
                ("tags", CrdtKind::OrSet),
            ] {
                kinds.push(kind);
                names.push(format!("sku-{i:0width$}/{field}"));
            }
        }
        return (kinds, names);
    }
    for i in 0..k {
        let kind = match cfg.workload {
            Workload::Counter => [CrdtKind::GCounter, CrdtKind::PNCounter][i % 2],
            Workload::Register => [CrdtKind::LwwRegister, CrdtKind::MvRegister][i % 2],
            Workload::Set => CrdtKind::OrSet,
            Workload::Lww => CrdtKind::LwwRegister,
            _ => [
                CrdtKind::GCounter,
                CrdtKind::PNCounter,
                CrdtKind::LwwRegister,
                CrdtKind::MvRegister,
                CrdtKind::OrSet,
            ][i % 5],
        };
        let prefix = match kind {
            CrdtKind::GCounter => "gcount",
            CrdtKind::PNCounter => "pncount",
            CrdtKind::LwwRegister => "lww",
            CrdtKind::MvRegister => "mvreg",
            CrdtKind::OrSet => "orset",
        };
        kinds.push(kind);
        names.push(format!("{prefix}-{i}"));
    }
    (kinds, names)
}

const TAGS: [&str; 6] = ["fragile", "cold", "bulk", "promo", "new", "hazmat"];
const BINS: [&str; 6] = ["A-01", "A-07", "B-12", "C-03", "D-44", "E-09"];

/// A run advanced by its caller: the caller decides how far simulated time may go, e.g. to
/// follow a real clock. The world itself still never reads one.
pub struct Paced {
    world: World,
}

impl Paced {
    /// Starts a run (writes the header).
    pub fn start(cfg: &Config, trace: TraceOut) -> io::Result<Paced> {
        let mut world = World::new(cfg, trace);
        world.header()?;
        Ok(Paced { world })
    }

    /// Runs every action due up to simulated time `t` and flushes the trace. Returns true once
    /// the run has ended.
    pub fn advance_to(&mut self, t: Nanos) -> io::Result<bool> {
        self.world.run_until(t)?;
        self.world.trace.flush()?;
        Ok(self.world.done)
    }

    /// Simulated time reached.
    pub fn now(&self) -> Nanos {
        self.world.now
    }

    /// Ends the run where it is (operations in flight stay in flight) and returns the outcome
    /// so far.
    pub fn stop(mut self) -> io::Result<Outcome> {
        let w = &mut self.world;
        if !w.done {
            w.out.end = w.now;
            w.out.events = w.trace.events;
            w.out.digests = (0..w.cfg.replicas).map(|r| w.digest(r)).collect();
        }
        w.trace.flush()?;
        Ok(std::mem::take(&mut w.out))
    }
}

/// Runs `cfg` to the end, writing events to `trace`.
pub fn run(cfg: &Config, trace: TraceOut) -> io::Result<Outcome> {
    let mut w = World::new(cfg, trace);
    w.header()?;
    let ran = w.run();
    // A run stopped by one of its limits keeps every line it emitted (a write error would
    // only fail again).
    if ran.as_ref().is_err_and(|e| RunLimit::of(e).is_some()) {
        w.trace.flush()?;
    }
    ran?;
    w.trace.flush()?;
    Ok(w.out)
}

impl World {
    fn new(cfg: &Config, trace: TraceOut) -> Self {
        let mut rng = Rng::new(cfg.seed);
        let work = Rng::new(cfg.seed ^ 0x5eed_0fc0_ffee);
        let (kinds, key_names) = key_plan(cfg);
        let n = cfg.replicas as usize;
        let full = cfg.clocks == Clocks::Full;
        let op_sync = cfg.sync == SyncKind::Op;
        let delta_sync = cfg.sync == SyncKind::Delta;
        let replicas = (0..n)
            .map(|_| {
                let skew = cfg.skew_ms as i64 * MS as i64;
                let wall_offset = if skew == 0 {
                    0
                } else {
                    rng.between(0, 2 * skew as u64) as i64 - skew
                };
                let d = cfg.drift_ppm as f64;
                let drift_ppm = if d == 0.0 {
                    0.0
                } else {
                    rng.unit() * 2.0 * d - d
                };
                Replica {
                    state: kinds.iter().map(|&k| Crdt::new(k)).collect(),
                    seq: 0,
                    lamport: 0,
                    hlc: 0,
                    vc: if full { vec![0; n] } else { Vec::new() },
                    wall_offset,
                    drift_ppm,
                    dots: 0,
                    online: true,
                    digest: None,
                    delivered: if op_sync { vec![0; n] } else { Vec::new() },
                    op_log: VecDeque::new(),
                    op_next: 1,
                    ops_acked: if op_sync { vec![0; n] } else { Vec::new() },
                    peer_delivered: if op_sync { vec![None; n] } else { Vec::new() },
                    pending: Vec::new(),
                    deltas: VecDeque::new(),
                    delta_next: 1,
                    delta_acked: if delta_sync { vec![0; n] } else { Vec::new() },
                    snapshot: None,
                }
            })
            .collect();
        let mut w = World {
            cfg: cfg.clone(),
            work,
            rng,
            now: 0,
            queue: BinaryHeap::new(),
            inserted: 0,
            replicas,
            kinds,
            key_names,
            messages: Vec::new(),
            free_slots: Vec::new(),
            deliveries_left: Vec::new(),
            next_msg: 1,
            healed: false,
            settle_deadline: Nanos::MAX,
            done: false,
            trace,
            out: Outcome::default(),
            scratch: String::with_capacity(256),
            attrs: [String::new(), String::new(), String::new()],
        };
        w.schedule(0, Action::NextOp);
        for r in 0..cfg.replicas {
            let phase = w.rng.below(cfg.sync_interval);
            w.schedule(phase, Action::Tick(r));
            if let Some(i) = cfg.net.intermittent {
                if !(cfg.net.hub && r == 0) {
                    let first = w.rng.exp(i.online as f64) as Nanos;
                    w.schedule(first, Action::Toggle(r));
                }
            }
        }
        w
    }

    fn header(&mut self) -> io::Result<()> {
        let c = self.cfg.clone();
        let q = |s: &str| format!("\"{s}\"");
        self.trace.header(&[
            ("name", q("weft sim")),
            ("seed", c.seed.to_string()),
            ("replicas", c.replicas.to_string()),
            ("workload", q(c.workload.name())),
            ("ops", c.ops.to_string()),
            ("keys", c.keys.to_string()),
            ("sync", q(c.sync.name())),
            ("profile", q(c.profile.name())),
            ("clocks", q(c.clocks.name())),
            (
                "bug",
                c.bug.map_or("null".to_string(), |(b, r)| {
                    format!("\"{}@{}\"", b.name(), self.trace.name(r))
                }),
            ),
            ("command", q(&c.command_line())),
        ])
    }

    #[inline]
    fn schedule(&mut self, at: Nanos, action: Action) {
        self.inserted += 1;
        self.queue.push(Reverse((at, self.inserted, action)));
    }

    fn wall(&self, r: u32) -> i64 {
        let rep = &self.replicas[r as usize];
        let t = self.now as f64 * (1.0 + rep.drift_ppm * 1e-6);
        EPOCH_NS + rep.wall_offset + t as i64
    }

    fn has_bug(&self, bug: Bug, r: u32) -> bool {
        self.cfg.bug == Some((bug, r))
    }

    fn run(&mut self) -> io::Result<()> {
        self.run_until(Nanos::MAX)
    }

    /// Processes every action due at or before `until` (simulated time). Returns with
    /// `self.done` set when the run ended.
    fn run_until(&mut self, until: Nanos) -> io::Result<()> {
        if self.done {
            return Ok(());
        }
        loop {
            match self.queue.peek() {
                Some(Reverse((t, _, _))) if *t <= until => {}
                Some(_) => return Ok(()),
                None => break,
            }
            let Some(Reverse((t, _, action))) = self.queue.pop() else {
                break;
            };
            self.now = t;
            match action {
                Action::NextOp => {
                    let done =
                        self.out.ops >= self.cfg.ops || self.cfg.duration.is_some_and(|d| t >= d);
                    if done {
                        self.heal();
                        self.settle_deadline = t.saturating_add(self.cfg.settle_limit);
                        self.schedule(t, Action::Check);
                        continue;
                    }
                    let r = self.work.below(u64::from(self.cfg.replicas)) as u32;
                    self.operate(r)?;
                    let gap = self.work.exp(1e9 / self.cfg.rate).max(1.0) as Nanos;
                    self.schedule(t + gap, Action::NextOp);
                }
                Action::Tick(r) => {
                    if self.has_bug(Bug::StaleRead, r) {
                        self.refresh_snapshot(r);
                    }
                    self.sync(r)?;
                    let jitter = self.rng.below(self.cfg.sync_interval / 5 + 1);
                    self.schedule(
                        t + self.cfg.sync_interval - self.cfg.sync_interval / 10 + jitter,
                        Action::Tick(r),
                    );
                }
                Action::Deliver(slot) => self.deliver(slot)?,
                Action::Toggle(r) => {
                    if self.healed {
                        continue;
                    }
                    let i = self
                        .cfg
                        .net
                        .intermittent
                        .expect("toggles only with intermittent links");
                    let rep = &mut self.replicas[r as usize];
                    rep.online = !rep.online;
                    let mean = if rep.online { i.online } else { i.offline };
                    let next = t + (self.rng.exp(mean as f64) as Nanos).max(MS);
                    self.schedule(next, Action::Toggle(r));
                }
                Action::Check => {
                    if self.all_equal() {
                        self.out.converged = true;
                        self.out.converge_time = Some(t - self.out.ops_end);
                        break;
                    }
                    if t >= self.settle_deadline {
                        break;
                    }
                    self.schedule(t + self.cfg.sync_interval, Action::Check);
                }
            }
        }
        self.done = true;
        self.out.end = self.now;
        self.out.events = self.trace.events;
        self.out.digests = (0..self.cfg.replicas).map(|r| self.digest(r)).collect();
        Ok(())
    }

    fn heal(&mut self) {
        self.healed = true;
        self.out.ops_end = self.now;
        for r in &mut self.replicas {
            r.online = true;
        }
    }

    fn digest(&mut self, r: u32) -> u64 {
        let rep = &mut self.replicas[r as usize];
        if let Some(d) = rep.digest {
            return d;
        }
        let mut h = Digest::new();
        for (k, c) in rep.state.iter().enumerate() {
            h.write_u64(k as u64);
            c.digest(&mut h);
        }
        let d = h.finish();
        rep.digest = Some(d);
        d
    }

    fn all_equal(&mut self) -> bool {
        let first = self.digest(0);
        (1..self.cfg.replicas).all(|r| self.digest(r) == first)
    }

    // ---- events and clocks ----

    /// A local event at `r`: advances seq, Lamport and the own vector-clock entry.
    fn local_tick(&mut self, r: u32) {
        let rep = &mut self.replicas[r as usize];
        rep.seq += 1;
        rep.lamport += 1;
        if !rep.vc.is_empty() {
            rep.vc[r as usize] = rep.seq;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        r: u32,
        kind: EvKind,
        msg: Option<u64>,
        key: Option<u32>,
        op: Option<&str>,
        value: Option<&str>,
        attrs: Option<&str>,
    ) -> io::Result<()> {
        let (events, bytes) = (self.cfg.limits.max_events, self.cfg.limits.max_trace_bytes);
        let limit = if events != 0 && self.trace.events >= events {
            Some(Limit::Events(events))
        } else if bytes != 0 && self.trace.written() >= bytes {
            Some(Limit::Bytes(bytes))
        } else {
            None
        };
        if let Some(limit) = limit {
            return Err(io::Error::other(RunLimit {
                limit,
                at: self.now,
            }));
        }
        let wall = self.wall(r);
        let rep = &self.replicas[r as usize];
        let lamport = (self.cfg.clocks != Clocks::None).then_some(rep.lamport);
        let vc = (self.cfg.clocks == Clocks::Full).then_some(rep.vc.as_slice());
        let key = key.map(|k| {
            let k = k as usize;
            (self.key_names[k].as_str(), self.kinds[k].trace_type())
        });
        self.trace.event(
            r, rep.seq, kind, lamport, vc, wall, msg, key, op, value, attrs,
        )
    }

    // ---- the workload ----

    fn operate(&mut self, r: u32) -> io::Result<()> {
        self.out.ops += 1;
        let key = self.work.below(self.kinds.len() as u64) as u32;
        if self.work.chance(self.cfg.read_ratio) {
            return self.read(r, key);
        }
        self.local_tick(r);
        let wall = self.wall(r);
        let rep = &mut self.replicas[r as usize];
        rep.dots += 1;
        let dot = Dot {
            replica: r,
            counter: rep.dots,
        };
        rep.hlc = (rep.hlc + 1).max(wall.max(0) as u64);
        let kind = self.kinds[key as usize];
        let inventory = self.cfg.workload == Workload::Inventory;
        let field = key % 4;
        let mut value = std::mem::take(&mut self.scratch);
        value.clear();
        let (op, delta) = match kind {
            CrdtKind::GCounter => {
                let n = self.work.between(1, 3);
                value.push_str(itoa::Buffer::new().format(n));
                let rep = &mut self.replicas[r as usize];
                ("inc", rep.state[key as usize].inc(r, n as i64))
            }
            CrdtKind::PNCounter => {
                let mut n = self.work.between(1, 5) as i64;
                if self.work.chance(0.4) {
                    n = -n;
                }
                value.push_str(itoa::Buffer::new().format(n));
                let rep = &mut self.replicas[r as usize];
                ("inc", rep.state[key as usize].inc(r, n))
            }
            CrdtKind::LwwRegister | CrdtKind::MvRegister => {
                let v = if inventory && field == 2 {
                    Val::Str(BINS[self.work.below(BINS.len() as u64) as usize].into())
                } else if inventory {
                    Val::Int(self.work.between(199, 4999) as i64)
                } else {
                    Val::Int(self.work.below(1000) as i64)
                };
                v.write_json(&mut value);
                let buggy_stamp = self.has_bug(Bug::LwwByWallClock, r);
                let rep = &mut self.replicas[r as usize];
                let t = if buggy_stamp {
                    wall.max(0) as u64
                } else {
                    rep.hlc
                };
                let stamp = Stamp { t, replica: r };
                let crdt = &mut rep.state[key as usize];
                if kind == CrdtKind::LwwRegister && crdt.lww_stamp().is_some_and(|s| s > stamp) {
                    self.out.lost_newer_writes += 1;
                }
                ("set", crdt.set(stamp, dot, v))
            }
            CrdtKind::OrSet => {
                let domain: &[&str] = if inventory {
                    &TAGS
                } else {
                    &["e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7"]
                };
                let remove = self.work.chance(0.35);
                let elem = Val::Str(domain[self.work.below(domain.len() as u64) as usize].into());
                elem.write_json(&mut value);
                let crdt = &mut self.replicas[r as usize].state[key as usize];
                if remove {
                    ("remove", crdt.remove(&elem))
                } else {
                    ("add", crdt.add(dot, elem))
                }
            }
        };
        self.replicas[r as usize].digest = None;
        let res = self.emit(
            r,
            EvKind::Write,
            None,
            Some(key),
            Some(op),
            Some(&value),
            None,
        );
        self.scratch = value;
        res?;
        match self.cfg.sync {
            SyncKind::State => {}
            SyncKind::Delta => self.log_delta(r, key, delta),
            SyncKind::Op => {
                let rep = &mut self.replicas[r as usize];
                rep.delivered[r as usize] = dot.counter;
                let deps: Rc<[u64]> = rep.delivered.as_slice().into();
                let op = Rc::new(Op {
                    origin: r,
                    counter: dot.counter,
                    deps,
                    key,
                    delta,
                });
                Self::log_op(rep, op);
            }
        }
        Ok(())
    }
}
