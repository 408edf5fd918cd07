//! Deterministic synthetic `weft-trace/1` generator.
//!
//! # Model
//!
//! A fixed set of replicas (`r00`, `r01`, …, zero-padded so names sort in index order) take steps
//! in one global loop. Each step produces exactly one event:
//!
//! 1. A replica is picked uniformly at random.
//! 2. If a message addressed to it has *arrived* (its delivery step has passed), it receives the
//!    earliest such message with probability 85% (`kind: "recv"`).
//! 3. Otherwise it does one of:
//!    * `send` (≈17.6% of non-receive steps, so ≈15% of all events): a new message with a unique
//!      id (`m1`, `m2`, …) to a uniformly chosen *other* replica. The message arrives after a
//!      latency of `R/2 .. 3R` global steps (`R` = replica count), i.e. the target usually takes
//!      between half a turn and three turns before the message can be received, so messages are
//!      genuinely in flight and interleave with other traffic;
//!    * `write` (≈52%): a key out of `K` keys (`k0` … `k{K-1}`), op `set` (82%, value a small
//!      integer or a short lowercase string), `inc` (8%, value 1..=10), `add` (6%) or `remove`
//!      (4%) of a set element `e0` … `e31`;
//!    * `read` (the rest): a key.
//!
//! Every send is received exactly once: sends stop being generated when the remaining event
//! budget is needed to deliver what is in flight, and once the budget left equals the number of
//! messages in flight, every pending message is delivered (replicas in shuffled order, each one's
//! messages by arrival). The file therefore holds exactly `events` events and no unmatched `recv`.
//!
//! With clocks on, each replica keeps a correct vector clock (own entry incremented on every
//! event, element-wise max with the sender's clock on receive) and Lamport clock (`+1` per event,
//! `max(own, sender) + 1` on receive), and each event carries `lamport`, the full `vc` (every
//! nonzero entry) and `wall_ns`. Wall time is a global simulated clock (1 µs per step plus jitter
//! under half a step), so it never runs backwards along any happens-before edge: the traces
//! contain no ordering errors or warnings (no `vc-mismatch`, `lamport-violation`,
//! `wall-clock-inversion`, `seq-gap`, …). Concurrent writes to the same key do happen, so
//! `weft check` does report conflicts. With clocks off, events carry only
//! `replica`/`seq`/`kind`/`msg`/`key`/`op`/`value` and causality comes from program order and
//! message edges alone.
//!
//! Lines are written in generation order (a valid causal order), after a header line. The output
//! depends only on the [`GenConfig`] (including the seed): the same config gives identical bytes.
//! The PRNG is SplitMix64; nothing reads the real time.

use rand_xoshiro::rand_core::{Rng as _, SeedableRng};
use rand_xoshiro::SplitMix64;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Identifies the generator's model in the header; bump when the output for a config changes.
pub const GENERATOR: &str = "weft-bench-gen/1";

/// Simulated wall clock origin: 2023-11-14T22:13:20Z.
const WALL_BASE_NS: i64 = 1_700_000_000_000_000_000;
/// Simulated wall time per global step.
const STEP_NS: i64 = 1_000;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GenConfig {
    /// Number of events (lines after the header).
    pub events: u64,
    /// Number of replicas (at least 1; with 1 there are no messages).
    pub replicas: u32,
    /// Number of distinct keys (at least 1).
    pub keys: u32,
    /// Write `lamport`, `vc` and `wall_ns` on every event.
    pub clocks: bool,
    /// PRNG seed.
    pub seed: u64,
}

impl GenConfig {
    /// The header line (without newline) written first in the file.
    pub fn header_line(&self) -> String {
        format!(
            "{{\"format\":\"weft-trace/1\",\"name\":\"weft-bench synthetic\",\"generator\":\"{GENERATOR}\",\"seed\":{},\"events\":{},\"replicas\":{},\"keys\":{},\"clocks\":{}}}",
            self.seed, self.events, self.replicas, self.keys, self.clocks
        )
    }

    /// Name of the replica with index `i`, as written in the trace.
    pub fn replica_name(&self, i: u32) -> String {
        let width = digits(u64::from(self.replicas.max(1) - 1));
        format!("r{i:0width$}")
    }
}

/// Counts of what was generated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GenStats {
    pub events: u64,
    pub writes: u64,
    pub reads: u64,
    pub sends: u64,
    pub recvs: u64,
    /// Bytes written, header included.
    pub bytes: u64,
    /// Largest number of messages in flight at once.
    pub max_in_flight: u64,
}

/// SplitMix64 (`rand_xoshiro`'s): tiny, fast, and good enough for workload generation; the
/// same seed makes the same trace on every run.
#[derive(Clone, Debug)]
pub struct Rng(SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(SplitMix64::seed_from_u64(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` for lengths and indexes (0 when `n` is 0).
    pub fn index(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.below(n as u64) as usize
        }
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-high (bias negligible for small `n`).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// A message in flight, ordered so that a `BinaryHeap` pops the earliest arrival first.
struct Pending {
    due: u64,
    id: u64,
    lamport: u64,
    /// Sender's vector clock at send time (empty with clocks off).
    vc: Vec<u64>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: smallest (due, id) is the heap's maximum.
        (other.due, other.id).cmp(&(self.due, self.id))
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Write,
    Read,
    Send,
    Recv,
}

impl Kind {
    fn json(self) -> &'static [u8] {
        match self {
            Kind::Write => b"write",
            Kind::Read => b"read",
            Kind::Send => b"send",
            Kind::Recv => b"recv",
        }
    }
}

fn digits(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

struct Gen<'c> {
    cfg: &'c GenConfig,
    rng: Rng,
    n: usize,
    /// `"r07"` with quotes, per replica.
    names: Vec<Vec<u8>>,
    seq: Vec<u64>,
    lamport: Vec<u64>,
    /// Flat `n × n` vector clocks (empty with clocks off).
    vc: Vec<u64>,
    inbox: Vec<BinaryHeap<Pending>>,
    in_flight: u64,
    next_msg: u64,
    /// Global step = index of the event being generated.
    step: u64,
    /// Recycled vector-clock snapshots.
    pool: Vec<Vec<u64>>,
    line: Vec<u8>,
    itoa: itoa::Buffer,
    stats: GenStats,
}

impl<'c> Gen<'c> {
    fn new(cfg: &'c GenConfig) -> Self {
        let n = cfg.replicas.max(1) as usize;
        let names = (0..n as u32)
            .map(|i| format!("\"{}\"", cfg.replica_name(i)).into_bytes())
            .collect();
        Gen {
            cfg,
            rng: Rng::new(cfg.seed),
            n,
            names,
            seq: vec![0; n],
            lamport: vec![0; n],
            vc: if cfg.clocks {
                vec![0; n * n]
            } else {
                Vec::new()
            },
            inbox: (0..n).map(|_| BinaryHeap::new()).collect(),
            in_flight: 0,
            next_msg: 1,
            step: 0,
            pool: Vec::new(),
            line: Vec::with_capacity(256 + if cfg.clocks { n * 16 } else { 0 }),
            itoa: itoa::Buffer::new(),
            stats: GenStats::default(),
        }
    }

    fn num(&mut self, v: impl itoa::Integer) {
        let s = self.itoa.format(v);
        self.line.extend_from_slice(s.as_bytes());
    }

    /// Advances replica `r`'s clocks for a new event and writes the common fields.
    /// `recv` is the message being received, whose clocks are merged first.
    fn begin(&mut self, r: usize, kind: Kind, recv: Option<&Pending>) {
        self.seq[r] += 1;
        let seq = self.seq[r];
        self.line.clear();
        self.line.extend_from_slice(b"{\"replica\":");
        self.line.extend_from_slice(&self.names[r]);
        self.line.extend_from_slice(b",\"seq\":");
        self.num(seq);
        self.line.extend_from_slice(b",\"kind\":\"");
        self.line.extend_from_slice(kind.json());
        self.line.push(b'"');
        if !self.cfg.clocks {
            return;
        }
        let n = self.n;
        let own = &mut self.vc[r * n..(r + 1) * n];
        let mut lamport = self.lamport[r];
        if let Some(m) = recv {
            for (mine, theirs) in own.iter_mut().zip(&m.vc) {
                *mine = (*mine).max(*theirs);
            }
            lamport = lamport.max(m.lamport);
        }
        own[r] = seq;
        lamport += 1;
        self.lamport[r] = lamport;
        let wall =
            WALL_BASE_NS + self.step as i64 * STEP_NS + self.rng.below(STEP_NS as u64 / 2) as i64;

        self.line.extend_from_slice(b",\"lamport\":");
        self.num(lamport);
        self.line.extend_from_slice(b",\"vc\":{");
        let mut first = true;
        for j in 0..n {
            let v = self.vc[r * n + j];
            if v == 0 {
                continue;
            }
            if !first {
                self.line.push(b',');
            }
            first = false;
            self.line.extend_from_slice(&self.names[j]);
            self.line.push(b':');
            self.num(v);
        }
        self.line.extend_from_slice(b"},\"wall_ns\":");
        self.num(wall);
    }

    fn msg_field(&mut self, id: u64) {
        self.line.extend_from_slice(b",\"msg\":\"m");
        self.num(id);
        self.line.push(b'"');
    }

    fn key_field(&mut self) {
        let k = self.rng.below(u64::from(self.cfg.keys.max(1)));
        self.line.extend_from_slice(b",\"key\":\"k");
        self.num(k);
        self.line.push(b'"');
    }

    fn finish<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.line.extend_from_slice(b"}\n");
        out.write_all(&self.line)?;
        self.stats.bytes += self.line.len() as u64;
        self.stats.events += 1;
        self.step += 1;
        Ok(())
    }

    fn write<W: Write>(&mut self, r: usize, out: &mut W) -> io::Result<()> {
        self.begin(r, Kind::Write, None);
        self.key_field();
        let x = self.rng.below(100);
        if x < 82 {
            self.line.extend_from_slice(b",\"op\":\"set\",\"value\":");
            if self.rng.below(10) < 6 {
                let v = self.rng.below(1000);
                self.num(v);
            } else {
                const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
                let len = 3 + self.rng.below(6);
                self.line.push(b'"');
                for _ in 0..len {
                    let c = ALPHABET[self.rng.below(ALPHABET.len() as u64) as usize];
                    self.line.push(c);
                }
                self.line.push(b'"');
            }
        } else if x < 90 {
            self.line.extend_from_slice(b",\"op\":\"inc\",\"value\":");
            let v = 1 + self.rng.below(10);
            self.num(v);
        } else {
            let op: &[u8] = if x < 96 { b"add" } else { b"remove" };
            self.line.extend_from_slice(b",\"op\":\"");
            self.line.extend_from_slice(op);
            self.line.extend_from_slice(b"\",\"value\":\"e");
            let e = self.rng.below(32);
            self.num(e);
            self.line.push(b'"');
        }
        self.stats.writes += 1;
        self.finish(out)
    }

    fn read<W: Write>(&mut self, r: usize, out: &mut W) -> io::Result<()> {
        self.begin(r, Kind::Read, None);
        self.key_field();
        self.stats.reads += 1;
        self.finish(out)
    }

    fn send<W: Write>(&mut self, r: usize, out: &mut W) -> io::Result<()> {
        let n = self.n as u64;
        // A uniformly chosen replica other than r.
        let mut to = self.rng.below(n - 1) as usize;
        if to >= r {
            to += 1;
        }
        let latency = n / 2 + self.rng.below(n * 5 / 2 + 1);
        let id = self.next_msg;
        self.next_msg += 1;
        self.begin(r, Kind::Send, None);
        self.msg_field(id);
        let vc = if self.cfg.clocks {
            let mut snap = self.pool.pop().unwrap_or_default();
            snap.clear();
            snap.extend_from_slice(&self.vc[r * self.n..(r + 1) * self.n]);
            snap
        } else {
            Vec::new()
        };
        self.inbox[to].push(Pending {
            due: self.step + latency.max(1),
            id,
            lamport: self.lamport[r],
            vc,
        });
        self.in_flight += 1;
        self.stats.max_in_flight = self.stats.max_in_flight.max(self.in_flight);
        self.stats.sends += 1;
        self.finish(out)
    }

    /// Receives the earliest-arriving message in `r`'s inbox (which must not be empty).
    fn recv<W: Write>(&mut self, r: usize, out: &mut W) -> io::Result<()> {
        let m = self.inbox[r].pop().expect("recv from an empty inbox");
        self.in_flight -= 1;
        self.begin(r, Kind::Recv, Some(&m));
        self.msg_field(m.id);
        self.stats.recvs += 1;
        if self.cfg.clocks {
            self.pool.push(m.vc);
        }
        self.finish(out)
    }

    fn run<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        let header = self.cfg.header_line();
        out.write_all(header.as_bytes())?;
        out.write_all(b"\n")?;
        self.stats.bytes += header.len() as u64 + 1;

        let total = self.cfg.events;
        let n = self.n as u64;
        while self.stats.events < total {
            let remaining = total - self.stats.events;
            if remaining == self.in_flight {
                return self.drain(out);
            }
            let r = self.rng.below(n) as usize;
            let arrived = self.inbox[r].peek().is_some_and(|m| m.due <= self.step);
            if arrived && self.rng.below(100) < 85 {
                self.recv(r, out)?;
                continue;
            }
            let x = self.rng.below(1000);
            // A send needs one event for itself and one for its receipt.
            let can_send = n > 1 && self.in_flight + 2 <= remaining;
            if x < 176 && can_send {
                self.send(r, out)?;
            } else if x < 696 {
                self.write(r, out)?;
            } else {
                self.read(r, out)?;
            }
        }
        Ok(())
    }

    /// Delivers every message still in flight; exactly uses up the event budget.
    fn drain<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        let mut order: Vec<usize> = (0..self.n).filter(|&r| !self.inbox[r].is_empty()).collect();
        for i in (1..order.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        for r in order {
            while !self.inbox[r].is_empty() {
                self.recv(r, out)?;
            }
        }
        debug_assert_eq!(self.in_flight, 0);
        Ok(())
    }
}

/// Writes the trace for `cfg` to `out` (which should be buffered).
pub fn generate<W: Write>(cfg: &GenConfig, out: &mut W) -> io::Result<GenStats> {
    let mut g = Gen::new(cfg);
    g.run(out)?;
    out.flush()?;
    Ok(g.stats)
}

/// Writes the trace for `cfg` to `path`, via a temporary file renamed into place on success
/// (so a file at `path` is always complete).
pub fn generate_file(cfg: &GenConfig, path: &Path) -> io::Result<GenStats> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = std::path::PathBuf::from(tmp);
    let result = (|| {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
        generate(cfg, &mut out)
    })();
    match result {
        Ok(stats) => {
            std::fs::rename(&tmp, path)?;
            Ok(stats)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::HashMap;

    fn gen_bytes(cfg: &GenConfig) -> (Vec<u8>, GenStats) {
        let mut out = Vec::new();
        let stats = generate(cfg, &mut out).unwrap();
        (out, stats)
    }

    fn cfg(events: u64, replicas: u32, clocks: bool, seed: u64) -> GenConfig {
        GenConfig {
            events,
            replicas,
            keys: 50,
            clocks,
            seed,
        }
    }

    #[test]
    fn deterministic() {
        for clocks in [true, false] {
            let c = cfg(20_000, 12, clocks, 42);
            let (a, sa) = gen_bytes(&c);
            let (b, sb) = gen_bytes(&c);
            assert_eq!(a, b, "same seed must give identical bytes");
            assert_eq!(sa, sb);
            assert_eq!(sa.bytes, a.len() as u64);
            let (other, _) = gen_bytes(&cfg(20_000, 12, clocks, 43));
            assert_ne!(a, other, "a different seed should change the trace");
        }
    }

    /// Parses the output and checks: exact event count, header, each send received exactly
    /// once, seqs contiguous, and (with clocks) vector/Lamport/wall clocks consistent with
    /// happens-before recomputed from program order and message edges.
    fn check_trace(c: &GenConfig) {
        let (bytes, stats) = gen_bytes(c);
        let text = std::str::from_utf8(&bytes).unwrap();
        let mut lines = text.lines();
        let header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
        assert_eq!(header["format"], "weft-trace/1");

        let n = c.replicas as usize;
        let index: HashMap<String, usize> = (0..c.replicas)
            .map(|i| (c.replica_name(i), i as usize))
            .collect();
        let mut seq = vec![0u64; n];
        let mut vc = vec![vec![0u64; n]; n];
        let mut lamport = vec![0u64; n];
        let mut last_wall = i64::MIN;
        // msg -> (send vc, send lamport, send wall, receipts)
        let mut sends: HashMap<String, (Vec<u64>, u64, i64, u32)> = HashMap::new();
        let mut count = 0u64;
        for line in lines {
            let e: Value = serde_json::from_str(line).unwrap();
            count += 1;
            let r = index[e["replica"].as_str().unwrap()];
            seq[r] += 1;
            assert_eq!(e["seq"].as_u64().unwrap(), seq[r], "seq contiguous");
            let kind = e["kind"].as_str().unwrap();
            let mut expect_vc = vc[r].clone();
            let mut expect_lamport = lamport[r];
            let mut min_wall = i64::MIN;
            match kind {
                "send" => {
                    assert!(e.get("key").is_none());
                }
                "recv" => {
                    let m = e["msg"].as_str().unwrap();
                    let s = sends.get_mut(m).expect("recv of a message not yet sent");
                    s.3 += 1;
                    for (a, b) in expect_vc.iter_mut().zip(&s.0) {
                        *a = (*a).max(*b);
                    }
                    expect_lamport = expect_lamport.max(s.1);
                    min_wall = s.2;
                }
                "write" | "read" => {
                    assert!(e["key"].as_str().unwrap().starts_with('k'));
                    if kind == "write" {
                        assert!(e["op"].is_string());
                        assert!(!e["value"].is_null());
                    }
                }
                other => panic!("unexpected kind {other}"),
            }
            expect_vc[r] = seq[r];
            expect_lamport += 1;
            if c.clocks {
                let got: HashMap<String, u64> = serde_json::from_value(e["vc"].clone()).unwrap();
                let mut got_vc = vec![0u64; n];
                for (k, v) in got {
                    assert!(v > 0, "zero entries are left out");
                    got_vc[index[&k]] = v;
                }
                assert_eq!(got_vc, expect_vc, "vector clock of {line}");
                assert_eq!(e["lamport"].as_u64().unwrap(), expect_lamport);
                let wall = e["wall_ns"].as_i64().unwrap();
                assert!(wall > last_wall, "wall clock is global and increasing");
                assert!(wall > min_wall, "recv after its send in wall time");
                last_wall = wall;
            } else {
                assert!(e.get("vc").is_none() && e.get("lamport").is_none());
                assert!(e.get("wall_ns").is_none());
            }
            vc[r] = expect_vc;
            lamport[r] = expect_lamport;
            if kind == "send" {
                let m = e["msg"].as_str().unwrap().to_owned();
                let wall = e["wall_ns"].as_i64().unwrap_or(i64::MIN);
                let prev = sends.insert(m, (vc[r].clone(), lamport[r], wall, 0));
                assert!(prev.is_none(), "message ids are unique");
            }
        }
        assert_eq!(count, c.events);
        assert_eq!(stats.events, c.events);
        assert_eq!(stats.sends, sends.len() as u64);
        assert_eq!(stats.sends, stats.recvs);
        for (m, s) in &sends {
            assert_eq!(s.3, 1, "message {m} received exactly once");
        }
        if c.replicas > 1 && c.events >= 10_000 {
            let frac = stats.sends as f64 / stats.events as f64;
            assert!((0.12..0.18).contains(&frac), "send fraction {frac}");
            assert!(stats.max_in_flight > 1);
        }
    }

    #[test]
    fn each_send_received_exactly_once_and_clocks_are_correct() {
        check_trace(&cfg(30_000, 16, true, 1));
        check_trace(&cfg(30_000, 3, true, 2));
        check_trace(&cfg(20_000, 500, false, 3));
        check_trace(&cfg(20_000, 64, true, 4));
    }

    #[test]
    fn tiny_and_degenerate_configs() {
        check_trace(&cfg(0, 4, true, 5));
        check_trace(&cfg(1, 4, true, 5));
        check_trace(&cfg(2, 2, true, 5));
        check_trace(&cfg(17, 2, false, 6));
        check_trace(&cfg(100, 1, true, 7));
    }
}
