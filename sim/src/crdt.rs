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

use std::cmp::Ordering;

/// Index of a replica in the simulation.
pub type ReplicaIdx = u32;

/// A unique write id: the replica and its own monotonically increasing op counter (shared by
/// all keys of that replica). Counters start at 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dot {
    pub replica: ReplicaIdx,
    pub counter: u64,
}

/// A small value: what registers hold and sets contain. Ordered `Int`s first (numerically),
/// then `Str`s (bytewise).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Val {
    Int(i64),
    Str(Box<str>),
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

// ---------------------------------------------------------------------------------------------
// Digest

/// A small deterministic 64-bit hasher (splitmix64 finalizer over 64-bit words), independent
/// of platform and process. Not cryptographic; used to compare replica states cheaply.
#[derive(Clone, Debug)]
pub struct Digest {
    h: u64,
    n: u64,
}

#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Digest {
    pub const fn new() -> Self {
        Digest {
            h: 0x243f_6a88_85a3_08d3,
            n: 0,
        }
    }

    #[inline]
    pub fn write_u64(&mut self, x: u64) {
        self.h = mix64(self.h ^ x).wrapping_add(0x9e37_79b9_7f4a_7c15);
        self.n += 1;
    }

    /// Writes the length, then the bytes as little-endian words (the last one zero-padded).
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        self.write_u64(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.write_u64(u64::from_le_bytes(c.try_into().expect("8-byte chunk")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(w));
        }
    }

    pub fn finish(&self) -> u64 {
        mix64(self.h ^ self.n.wrapping_mul(0xff51_afd7_ed55_8ccd))
    }
}

impl Default for Digest {
    fn default() -> Self {
        Digest::new()
    }
}

// ---------------------------------------------------------------------------------------------
// Val

impl Val {
    /// Appends the value as JSON: `Int` as a number, `Str` as an escaped string.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Val::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
            Val::Str(s) => write_json_str(s, out),
        }
    }

    /// The value as JSON text.
    pub fn to_json(&self) -> String {
        let mut s = String::new();
        self.write_json(&mut s);
        s
    }

    pub fn digest(&self, h: &mut Digest) {
        match self {
            Val::Int(i) => {
                h.write_u64(1);
                h.write_u64(*i as u64);
            }
            Val::Str(s) => {
                h.write_u64(2);
                h.write_bytes(s.as_bytes());
            }
        }
    }

    /// Encoded size estimate: a tag byte plus 8 bytes, or a tag byte, a 2-byte length and the bytes.
    #[inline]
    pub fn wire_len(&self) -> usize {
        match self {
            Val::Int(_) => 9,
            Val::Str(s) => 3 + s.len(),
        }
    }
}

impl From<i64> for Val {
    fn from(i: i64) -> Self {
        Val::Int(i)
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Str(s.into())
    }
}

fn write_json_str(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => {
                out.push_str(&s[start..i]);
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        // `b` is ASCII, so `i` and `i + 1` are char boundaries.
        out.push_str(&s[start..i]);
        out.push_str(esc);
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

// ---------------------------------------------------------------------------------------------
// Version vector

/// A version vector: sorted `(replica, counter)` pairs, zero counters omitted. As a causal
/// context it stands for every dot `(r, c)` with `c <= self.get(r)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Vv {
    e: Vec<(ReplicaIdx, u64)>,
}

impl Vv {
    pub const fn new() -> Self {
        Vv { e: Vec::new() }
    }

    /// The smallest version vector covering `dots`.
    pub fn from_dots(dots: impl IntoIterator<Item = Dot>) -> Self {
        let mut v = Vv::new();
        for d in dots {
            v.add_dot(d);
        }
        v
    }

    /// The sorted `(replica, counter)` entries (no zero counters).
    pub fn entries(&self) -> &[(ReplicaIdx, u64)] {
        &self.e
    }

    pub fn is_empty(&self) -> bool {
        self.e.is_empty()
    }

    /// The counter for `replica` (0 if absent).
    #[inline]
    pub fn get(&self, replica: ReplicaIdx) -> u64 {
        match self.e.binary_search_by_key(&replica, |x| x.0) {
            Ok(i) => self.e[i].1,
            Err(_) => 0,
        }
    }

    /// Whether the context has seen `dot`.
    #[inline]
    pub fn covers(&self, dot: Dot) -> bool {
        dot.counter <= self.get(dot.replica)
    }

    /// Raises the entry of `replica` to at least `counter`; returns whether it changed.
    pub fn bump(&mut self, replica: ReplicaIdx, counter: u64) -> bool {
        if counter == 0 {
            return false;
        }
        match self.e.binary_search_by_key(&replica, |x| x.0) {
            Ok(i) => {
                if self.e[i].1 < counter {
                    self.e[i].1 = counter;
                    true
                } else {
                    false
                }
            }
            Err(i) => {
                self.e.insert(i, (replica, counter));
                true
            }
        }
    }

    /// Adds `dot` to the context (raises its replica's entry); returns whether it changed.
    #[inline]
    pub fn add_dot(&mut self, dot: Dot) -> bool {
        self.bump(dot.replica, dot.counter)
    }

    /// Whether `self <= other` pointwise.
    pub fn leq(&self, other: &Vv) -> bool {
        !other.would_grow_by(self)
    }

    /// Whether joining `other` into `self` would change `self`.
    fn would_grow_by(&self, other: &Vv) -> bool {
        let a = &self.e;
        let mut i = 0;
        for &(r, c) in &other.e {
            while i < a.len() && a[i].0 < r {
                i += 1;
            }
            if i == a.len() || a[i].0 != r || a[i].1 < c {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Pointwise max; returns whether `self` changed. Allocation-free unless `other` has
    /// replicas `self` lacks.
    pub fn join(&mut self, other: &Vv) -> bool {
        let mut changed = false;
        let mut missing = false;
        let a = &mut self.e;
        let mut i = 0;
        for &(r, c) in &other.e {
            while i < a.len() && a[i].0 < r {
                i += 1;
            }
            if i < a.len() && a[i].0 == r {
                if a[i].1 < c {
                    a[i].1 = c;
                    changed = true;
                }
                i += 1;
            } else {
                missing = true;
            }
        }
        if missing {
            for &(r, c) in &other.e {
                if let Err(i) = a.binary_search_by_key(&r, |x| x.0) {
                    a.insert(i, (r, c));
                }
            }
            changed = true;
        }
        changed
    }

    pub fn digest(&self, h: &mut Digest) {
        h.write_u64(self.e.len() as u64);
        for &(r, c) in &self.e {
            h.write_u64(r as u64);
            h.write_u64(c);
        }
    }

    /// 2-byte count, 4 + 8 bytes per entry.
    #[inline]
    pub fn wire_len(&self) -> usize {
        2 + 12 * self.e.len()
    }

    #[cfg(test)]
    fn assert_invariants(&self) {
        assert!(
            self.e.windows(2).all(|w| w[0].0 < w[1].0),
            "vv not strictly sorted: {self:?}"
        );
        assert!(
            self.e.iter().all(|x| x.1 > 0),
            "vv has a zero entry: {self:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Causal join over sorted dot-tagged entries

/// Joins `(mine, my_ctx)` with `(theirs, their_ctx)`: an entry survives if both sides have it,
/// or if the other side's context has not seen its dot. `mine`/`theirs` are sorted by `dot`
/// with unique dots. Returns whether anything changed; allocates only if the entries change.
fn causal_join<T: Clone + Ord>(
    mine: &mut Vec<T>,
    my_ctx: &mut Vv,
    theirs: &[T],
    their_ctx: &Vv,
    dot: impl Fn(&T) -> Dot,
) -> bool {
    // Pass 1: would the entries change?
    let mut entries_change = false;
    {
        let (mut i, mut j) = (0, 0);
        loop {
            let ord = match (mine.get(i), theirs.get(j)) {
                (Some(a), Some(b)) => dot(a).cmp(&dot(b)),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => break,
            };
            match ord {
                Ordering::Less => {
                    if their_ctx.covers(dot(&mine[i])) {
                        entries_change = true;
                        break;
                    }
                    i += 1;
                }
                Ordering::Greater => {
                    if !my_ctx.covers(dot(&theirs[j])) {
                        entries_change = true;
                        break;
                    }
                    j += 1;
                }
                Ordering::Equal => {
                    // Same dot means same write; if payloads ever differ, the larger wins so
                    // that the join stays commutative.
                    if theirs[j] > mine[i] {
                        entries_change = true;
                        break;
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
    }
    // Pass 2: rebuild.
    if entries_change {
        let old = std::mem::take(mine);
        let mut out = Vec::with_capacity(old.len() + theirs.len());
        let mut a_it = old.into_iter().peekable();
        let mut j = 0;
        loop {
            let ord = match (a_it.peek(), theirs.get(j)) {
                (Some(a), Some(b)) => dot(a).cmp(&dot(b)),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => break,
            };
            match ord {
                Ordering::Less => {
                    let a = a_it.next().expect("peeked");
                    if !their_ctx.covers(dot(&a)) {
                        out.push(a);
                    }
                }
                Ordering::Greater => {
                    let b = &theirs[j];
                    if !my_ctx.covers(dot(b)) {
                        out.push(b.clone());
                    }
                    j += 1;
                }
                Ordering::Equal => {
                    let a = a_it.next().expect("peeked");
                    let b = &theirs[j];
                    out.push(if *b > a { b.clone() } else { a });
                    j += 1;
                }
            }
        }
        *mine = out;
    }
    let ctx_change = my_ctx.join(their_ctx);
    entries_change || ctx_change
}

// ---------------------------------------------------------------------------------------------
// G-Counter

/// Grow-only counter: per-replica totals (sparse, sorted), merged by pointwise max.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct GCounter {
    vv: Vv,
}

impl GCounter {
    pub const fn new() -> Self {
        GCounter { vv: Vv::new() }
    }

    /// Adds `n` to `replica`'s total. The delta is that replica's new total alone (empty if
    /// `n == 0`). Saturates at `u64::MAX`.
    pub fn inc(&mut self, replica: ReplicaIdx, n: u64) -> GCounter {
        let total = self.vv.get(replica).saturating_add(n);
        if !self.vv.bump(replica, total) {
            return GCounter::new();
        }
        GCounter {
            vv: Vv {
                e: vec![(replica, total)],
            },
        }
    }

    /// The sum of all totals (saturating).
    pub fn value(&self) -> u64 {
        self.vv.e.iter().fold(0u64, |s, x| s.saturating_add(x.1))
    }

    /// `replica`'s total.
    pub fn get(&self, replica: ReplicaIdx) -> u64 {
        self.vv.get(replica)
    }

    /// Sorted `(replica, total)` pairs, no zeros.
    pub fn entries(&self) -> &[(ReplicaIdx, u64)] {
        &self.vv.e
    }

    /// Pointwise max; returns whether `self` changed.
    #[inline]
    pub fn merge(&mut self, other: &Self) -> bool {
        self.vv.join(&other.vv)
    }

    /// The `non-idempotent-merge` bug: **adds** the other side's totals instead of taking the
    /// max. Not a lattice join: merging the same state twice (or merging a state into itself)
    /// counts it twice. Saturates at `u64::MAX`. Returns whether `self` changed.
    pub fn merge_buggy_add(&mut self, other: &Self) -> bool {
        let mut changed = false;
        for &(r, c) in &other.vv.e {
            let cur = self.vv.get(r);
            changed |= self.vv.bump(r, cur.saturating_add(c));
        }
        changed
    }

    pub fn digest(&self, h: &mut Digest) {
        self.vv.digest(h);
    }

    #[inline]
    pub fn wire_len(&self) -> usize {
        self.vv.wire_len()
    }
}

// ---------------------------------------------------------------------------------------------
// PN-Counter

/// Counter with increments and decrements: two G-Counters, value `P − N`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PNCounter {
    p: GCounter,
    n: GCounter,
}

impl PNCounter {
    pub const fn new() -> Self {
        PNCounter {
            p: GCounter::new(),
            n: GCounter::new(),
        }
    }

    /// Adds `n` (negative: subtracts) at `replica`. The delta holds just the changed half-entry.
    pub fn add(&mut self, replica: ReplicaIdx, n: i64) -> PNCounter {
        match n.cmp(&0) {
            Ordering::Greater => PNCounter {
                p: self.p.inc(replica, n.unsigned_abs()),
                n: GCounter::new(),
            },
            Ordering::Less => PNCounter {
                p: GCounter::new(),
                n: self.n.inc(replica, n.unsigned_abs()),
            },
            Ordering::Equal => PNCounter::new(),
        }
    }

    /// `P − N`, clamped to the `i64` range.
    pub fn value(&self) -> i64 {
        let v = self.p.value() as i128 - self.n.value() as i128;
        v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// The increments.
    pub fn positive(&self) -> &GCounter {
        &self.p
    }

    /// The decrements.
    pub fn negative(&self) -> &GCounter {
        &self.n
    }

    #[inline]
    pub fn merge(&mut self, other: &Self) -> bool {
        let a = self.p.merge(&other.p);
        let b = self.n.merge(&other.n);
        a || b
    }

    /// The `non-idempotent-merge` bug on both halves (see [`GCounter::merge_buggy_add`]).
    pub fn merge_buggy_add(&mut self, other: &Self) -> bool {
        let a = self.p.merge_buggy_add(&other.p);
        let b = self.n.merge_buggy_add(&other.n);
        a || b
    }

    pub fn digest(&self, h: &mut Digest) {
        self.p.digest(h);
        self.n.digest(h);
    }

    #[inline]
    pub fn wire_len(&self) -> usize {
        self.p.wire_len() + self.n.wire_len()
    }
}

// ---------------------------------------------------------------------------------------------
// LWW-Register

/// Last-writer-wins register: the write with the largest `(stamp, value)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LwwRegister {
    cur: Option<(Stamp, Val)>,
}

impl LwwRegister {
    pub const fn new() -> Self {
        LwwRegister { cur: None }
    }

    /// Writes `val` at `stamp`: the state becomes `self ⊔ {(stamp, val)}`, so a write with a
    /// stamp older than the current one is lost (as it would be anywhere else). The delta is the
    /// write itself.
    pub fn set(&mut self, stamp: Stamp, val: Val) -> LwwRegister {
        let wins = match &self.cur {
            None => true,
            Some((s, v)) => (stamp, &val) > (*s, v),
        };
        if wins {
            self.cur = Some((stamp, val.clone()));
        }
        LwwRegister {
            cur: Some((stamp, val)),
        }
    }

    /// The current value, if any write was seen.
    pub fn value(&self) -> Option<&Val> {
        self.cur.as_ref().map(|x| &x.1)
    }

    /// The current stamp, if any write was seen.
    pub fn stamp(&self) -> Option<Stamp> {
        self.cur.as_ref().map(|x| x.0)
    }

    /// Keeps the larger `(stamp, value)`. Equal stamps from different replicas cannot happen
    /// (the replica is part of the stamp); equal stamps with different values keep the larger
    /// value so that the join stays commutative.
    pub fn merge(&mut self, other: &Self) -> bool {
        if other.cur > self.cur {
            self.cur.clone_from(&other.cur);
            true
        } else {
            false
        }
    }

    pub fn digest(&self, h: &mut Digest) {
        match &self.cur {
            None => h.write_u64(0),
            Some((s, v)) => {
                h.write_u64(1);
                h.write_u64(s.t);
                h.write_u64(s.replica as u64);
                v.digest(h);
            }
        }
    }

    /// A presence byte, then 8 + 4 bytes of stamp and the value.
    #[inline]
    pub fn wire_len(&self) -> usize {
        1 + self.cur.as_ref().map_or(0, |(_, v)| 12 + v.wire_len())
    }
}

// ---------------------------------------------------------------------------------------------
// MV-Register

/// Multi-value register: concurrent writes are all kept as siblings until a write that has
/// seen them overwrites them. Entries sorted by dot; context compressed as a [`Vv`] (sound, see
/// the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MvRegister {
    entries: Vec<(Dot, Val)>,
    ctx: Vv,
}

impl MvRegister {
    pub const fn new() -> Self {
        MvRegister {
            entries: Vec::new(),
            ctx: Vv::new(),
        }
    }

    /// Writes `val` with the fresh `dot`, overwriting every sibling this replica has seen. The
    /// delta holds the new entry with the context `{overwritten dots} ∪ {dot}`.
    pub fn set(&mut self, dot: Dot, val: Val) -> MvRegister {
        debug_assert!(dot.counter > 0, "dot counters start at 1");
        debug_assert!(!self.ctx.covers(dot), "reused dot {dot:?}");
        let mut dctx = Vv::from_dots(self.entries.iter().map(|e| e.0));
        dctx.add_dot(dot);
        self.entries.clear();
        self.entries.push((dot, val.clone()));
        self.ctx.add_dot(dot);
        MvRegister {
            entries: vec![(dot, val)],
            ctx: dctx,
        }
    }

    /// The sibling values, sorted and deduplicated (two concurrent writes of the same value
    /// read as one).
    pub fn values(&self) -> Vec<&Val> {
        let mut v: Vec<&Val> = self.entries.iter().map(|e| &e.1).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The sibling entries, sorted by dot.
    pub fn entries(&self) -> &[(Dot, Val)] {
        &self.entries
    }

    /// The causal context.
    pub fn context(&self) -> &Vv {
        &self.ctx
    }

    /// Causal join; returns whether `self` changed.
    pub fn merge(&mut self, other: &Self) -> bool {
        causal_join(
            &mut self.entries,
            &mut self.ctx,
            &other.entries,
            &other.ctx,
            |e| e.0,
        )
    }

    pub fn digest(&self, h: &mut Digest) {
        h.write_u64(self.entries.len() as u64);
        for (d, v) in &self.entries {
            h.write_u64(d.replica as u64);
            h.write_u64(d.counter);
            v.digest(h);
        }
        self.ctx.digest(h);
    }

    /// 2-byte count, 12 bytes of dot plus the value per entry, then the context.
    pub fn wire_len(&self) -> usize {
        2 + self
            .entries
            .iter()
            .map(|e| 12 + e.1.wire_len())
            .sum::<usize>()
            + self.ctx.wire_len()
    }

    #[cfg(test)]
    fn assert_invariants(&self) {
        self.ctx.assert_invariants();
        assert!(
            self.entries.windows(2).all(|w| w[0].0 < w[1].0),
            "mv entries not strictly sorted: {self:?}"
        );
        assert!(
            self.entries.iter().all(|e| self.ctx.covers(e.0)),
            "mv entry outside its context: {self:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// OR-Set

/// One element of an [`OrSet`]: its live add-dots and its own causal context. No dots = absent
/// (a tombstone keeping the context).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct OrElem {
    elem: Val,
    dots: Vec<Dot>,
    ctx: Vv,
}

/// Add-wins observed-remove set. Elements sorted; each has its live dots (sorted) and its own
/// compressed causal context (see the module docs for why per element). A remove only removes
/// the adds it has seen, so a concurrent add survives.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OrSet {
    entries: Vec<OrElem>,
}

impl OrSet {
    pub const fn new() -> Self {
        OrSet {
            entries: Vec::new(),
        }
    }

    #[inline]
    fn find(&self, elem: &Val) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| e.elem.cmp(elem))
    }

    /// Adds `elem` with the fresh `dot`: the element's dots become `[dot]`. The delta holds the
    /// element with dots `[dot]` and context `{old dots} ∪ {dot}`.
    pub fn add(&mut self, dot: Dot, elem: Val) -> OrSet {
        debug_assert!(dot.counter > 0, "dot counters start at 1");
        let dctx = match self.find(&elem) {
            Ok(i) => {
                let e = &mut self.entries[i];
                debug_assert!(!e.ctx.covers(dot), "reused dot {dot:?}");
                let mut dctx = Vv::from_dots(e.dots.iter().copied());
                dctx.add_dot(dot);
                e.dots.clear();
                e.dots.push(dot);
                e.ctx.add_dot(dot);
                dctx
            }
            Err(i) => {
                let dctx = Vv {
                    e: vec![(dot.replica, dot.counter)],
                };
                self.entries.insert(
                    i,
                    OrElem {
                        elem: elem.clone(),
                        dots: vec![dot],
                        ctx: dctx.clone(),
                    },
                );
                dctx
            }
        };
        OrSet {
            entries: vec![OrElem {
                elem,
                dots: vec![dot],
                ctx: dctx,
            }],
        }
    }

    /// Removes `elem` (the adds of it seen here). The delta holds the element with no dots and
    /// the removed dots as context; it is empty if the element was absent.
    pub fn remove(&mut self, elem: &Val) -> OrSet {
        match self.find(elem) {
            Ok(i) if !self.entries[i].dots.is_empty() => {
                let e = &mut self.entries[i];
                let dctx = Vv::from_dots(e.dots.iter().copied());
                e.dots.clear();
                OrSet {
                    entries: vec![OrElem {
                        elem: elem.clone(),
                        dots: Vec::new(),
                        ctx: dctx,
                    }],
                }
            }
            _ => OrSet::new(),
        }
    }

    pub fn contains(&self, elem: &Val) -> bool {
        self.find(elem)
            .is_ok_and(|i| !self.entries[i].dots.is_empty())
    }

    /// The present elements, sorted.
    pub fn elements(&self) -> impl Iterator<Item = &Val> + '_ {
        self.entries
            .iter()
            .filter(|e| !e.dots.is_empty())
            .map(|e| &e.elem)
    }

    /// Number of present elements.
    pub fn len(&self) -> usize {
        self.entries.iter().filter(|e| !e.dots.is_empty()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The live add-dots of `elem` (empty if absent).
    pub fn dots(&self, elem: &Val) -> &[Dot] {
        self.find(elem).map_or(&[], |i| &self.entries[i].dots)
    }

    /// The causal context of `elem`, if it was ever seen (including removed elements).
    pub fn context(&self, elem: &Val) -> Option<&Vv> {
        self.find(elem).ok().map(|i| &self.entries[i].ctx)
    }

    /// Per-element causal join; returns whether `self` changed.
    pub fn merge(&mut self, other: &Self) -> bool {
        let mut changed = false;
        let mut missing = false;
        let mut i = 0;
        for b in &other.entries {
            let mut ord = Ordering::Greater;
            while i < self.entries.len() {
                ord = self.entries[i].elem.cmp(&b.elem);
                if ord != Ordering::Less {
                    break;
                }
                i += 1;
            }
            if i < self.entries.len() && ord == Ordering::Equal {
                let a = &mut self.entries[i];
                // Fast path: in anti-entropy most elements are already identical.
                if a.dots != b.dots || a.ctx != b.ctx {
                    changed |= causal_join(&mut a.dots, &mut a.ctx, &b.dots, &b.ctx, |d| *d);
                }
                i += 1;
            } else if !(b.dots.is_empty() && b.ctx.is_empty()) {
                missing = true;
            }
        }
        if missing {
            for b in &other.entries {
                if b.dots.is_empty() && b.ctx.is_empty() {
                    continue;
                }
                if let Err(i) = self.find(&b.elem) {
                    self.entries.insert(i, b.clone());
                }
            }
            changed = true;
        }
        changed
    }

    pub fn digest(&self, h: &mut Digest) {
        h.write_u64(self.entries.len() as u64);
        for e in &self.entries {
            e.elem.digest(h);
            h.write_u64(e.dots.len() as u64);
            for d in &e.dots {
                h.write_u64(d.replica as u64);
                h.write_u64(d.counter);
            }
            e.ctx.digest(h);
        }
    }

    /// 2-byte count; per element the value, a 2-byte dot count, 12 bytes per dot, the context.
    pub fn wire_len(&self) -> usize {
        2 + self
            .entries
            .iter()
            .map(|e| e.elem.wire_len() + 2 + 12 * e.dots.len() + e.ctx.wire_len())
            .sum::<usize>()
    }

    #[cfg(test)]
    fn assert_invariants(&self) {
        assert!(
            self.entries.windows(2).all(|w| w[0].elem < w[1].elem),
            "orset elements not strictly sorted: {self:?}"
        );
        for e in &self.entries {
            e.ctx.assert_invariants();
            assert!(
                !e.ctx.is_empty(),
                "orset element with an empty context: {self:?}"
            );
            assert!(
                e.dots.windows(2).all(|w| w[0] < w[1]),
                "orset dots not strictly sorted: {self:?}"
            );
            assert!(
                e.dots.iter().all(|d| e.ctx.covers(*d)),
                "orset dot outside its context: {self:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Crdt

/// The CRDT a key holds (one kind per key).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Crdt {
    GCounter(GCounter),
    PNCounter(PNCounter),
    Lww(LwwRegister),
    Mv(MvRegister),
    OrSet(OrSet),
}

impl Crdt {
    /// The empty state of `kind`.
    pub fn new(kind: CrdtKind) -> Crdt {
        match kind {
            CrdtKind::GCounter => Crdt::GCounter(GCounter::new()),
            CrdtKind::PNCounter => Crdt::PNCounter(PNCounter::new()),
            CrdtKind::LwwRegister => Crdt::Lww(LwwRegister::new()),
            CrdtKind::MvRegister => Crdt::Mv(MvRegister::new()),
            CrdtKind::OrSet => Crdt::OrSet(OrSet::new()),
        }
    }

    pub fn kind(&self) -> CrdtKind {
        match self {
            Crdt::GCounter(_) => CrdtKind::GCounter,
            Crdt::PNCounter(_) => CrdtKind::PNCounter,
            Crdt::Lww(_) => CrdtKind::LwwRegister,
            Crdt::Mv(_) => CrdtKind::MvRegister,
            Crdt::OrSet(_) => CrdtKind::OrSet,
        }
    }

    /// Whether this is a G- or PN-Counter.
    pub fn is_counter(&self) -> bool {
        matches!(self, Crdt::GCounter(_) | Crdt::PNCounter(_))
    }

    /// The LWW register's current stamp (`None` if empty or not an LWW register).
    pub fn lww_stamp(&self) -> Option<Stamp> {
        match self {
            Crdt::Lww(r) => r.stamp(),
            _ => None,
        }
    }

    /// Counter increment by `n` at `replica`; returns the delta.
    ///
    /// # Panics
    /// If this is not a counter, or `n < 0` on a G-Counter.
    pub fn inc(&mut self, replica: ReplicaIdx, n: i64) -> Crdt {
        match self {
            Crdt::GCounter(c) => {
                let n = u64::try_from(n)
                    .unwrap_or_else(|_| panic!("a G-Counter cannot be decremented (inc by {n})"));
                Crdt::GCounter(c.inc(replica, n))
            }
            Crdt::PNCounter(c) => Crdt::PNCounter(c.add(replica, n)),
            other => panic!("inc on a {:?}, which is not a counter", other.kind()),
        }
    }

    /// Register write: an LWW register uses `stamp`, an MV register uses `dot`; returns the delta.
    ///
    /// # Panics
    /// If this is not a register.
    pub fn set(&mut self, stamp: Stamp, dot: Dot, val: Val) -> Crdt {
        match self {
            Crdt::Lww(r) => Crdt::Lww(r.set(stamp, val)),
            Crdt::Mv(r) => Crdt::Mv(r.set(dot, val)),
            other => panic!("set on a {:?}, which is not a register", other.kind()),
        }
    }

    /// OR-Set add; returns the delta.
    ///
    /// # Panics
    /// If this is not an OR-Set.
    pub fn add(&mut self, dot: Dot, elem: Val) -> Crdt {
        match self {
            Crdt::OrSet(s) => Crdt::OrSet(s.add(dot, elem)),
            other => panic!("add on a {:?}, which is not an OR-Set", other.kind()),
        }
    }

    /// OR-Set remove; returns the delta (empty if the element was absent).
    ///
    /// # Panics
    /// If this is not an OR-Set.
    pub fn remove(&mut self, elem: &Val) -> Crdt {
        match self {
            Crdt::OrSet(s) => Crdt::OrSet(s.remove(elem)),
            other => panic!("remove on a {:?}, which is not an OR-Set", other.kind()),
        }
    }

    /// Lattice join; returns whether `self` changed.
    ///
    /// # Panics
    /// If the kinds differ (a programming error).
    pub fn merge(&mut self, other: &Crdt) -> bool {
        match (self, other) {
            (Crdt::GCounter(a), Crdt::GCounter(b)) => a.merge(b),
            (Crdt::PNCounter(a), Crdt::PNCounter(b)) => a.merge(b),
            (Crdt::Lww(a), Crdt::Lww(b)) => a.merge(b),
            (Crdt::Mv(a), Crdt::Mv(b)) => a.merge(b),
            (Crdt::OrSet(a), Crdt::OrSet(b)) => a.merge(b),
            (a, b) => kind_mismatch(a.kind(), b.kind()),
        }
    }

    /// The `non-idempotent-merge` bug: counters add instead of taking the max; other kinds merge
    /// correctly. Returns whether `self` changed.
    ///
    /// # Panics
    /// If the kinds differ (a programming error).
    pub fn merge_buggy(&mut self, other: &Crdt) -> bool {
        match (self, other) {
            (Crdt::GCounter(a), Crdt::GCounter(b)) => a.merge_buggy_add(b),
            (Crdt::PNCounter(a), Crdt::PNCounter(b)) => a.merge_buggy_add(b),
            (a, b) => a.merge(b),
        }
    }

    /// Feeds the kind and the canonical content to `h`.
    pub fn digest(&self, h: &mut Digest) {
        h.write_u64(self.kind().tag());
        match self {
            Crdt::GCounter(c) => c.digest(h),
            Crdt::PNCounter(c) => c.digest(h),
            Crdt::Lww(r) => r.digest(h),
            Crdt::Mv(r) => r.digest(h),
            Crdt::OrSet(s) => s.digest(h),
        }
    }

    /// Deterministic estimate of the encoded size in bytes (a kind byte plus the content).
    pub fn wire_len(&self) -> usize {
        1 + match self {
            Crdt::GCounter(c) => c.wire_len(),
            Crdt::PNCounter(c) => c.wire_len(),
            Crdt::Lww(r) => r.wire_len(),
            Crdt::Mv(r) => r.wire_len(),
            Crdt::OrSet(s) => s.wire_len(),
        }
    }

    /// Appends the current value as compact JSON: counters a number, LWW the value or `null`,
    /// MV a sorted array of the distinct sibling values, OR-Set a sorted array of elements.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Crdt::GCounter(c) => out.push_str(itoa::Buffer::new().format(c.value())),
            Crdt::PNCounter(c) => out.push_str(itoa::Buffer::new().format(c.value())),
            Crdt::Lww(r) => match r.value() {
                Some(v) => v.write_json(out),
                None => out.push_str("null"),
            },
            Crdt::Mv(r) => match r.entries() {
                [] => out.push_str("[]"),
                [(_, v)] => {
                    out.push('[');
                    v.write_json(out);
                    out.push(']');
                }
                _ => write_json_array(r.values().into_iter(), out),
            },
            Crdt::OrSet(s) => write_json_array(s.elements(), out),
        }
    }

    /// The current value as compact JSON text (see [`Crdt::write_json`]).
    pub fn read_json(&self) -> String {
        let mut s = String::new();
        self.write_json(&mut s);
        s
    }

    #[cfg(test)]
    fn assert_invariants(&self) {
        match self {
            Crdt::GCounter(c) => c.vv.assert_invariants(),
            Crdt::PNCounter(c) => {
                c.p.vv.assert_invariants();
                c.n.vv.assert_invariants();
            }
            Crdt::Lww(_) => {}
            Crdt::Mv(r) => r.assert_invariants(),
            Crdt::OrSet(s) => s.assert_invariants(),
        }
    }
}

#[cold]
#[track_caller]
fn kind_mismatch(a: CrdtKind, b: CrdtKind) -> ! {
    panic!("cannot merge a {b:?} into a {a:?}: a key holds one CRDT kind")
}

fn write_json_array<'a>(vals: impl Iterator<Item = &'a Val>, out: &mut String) {
    out.push('[');
    for (i, v) in vals.enumerate() {
        if i > 0 {
            out.push(',');
        }
        v.write_json(out);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn dot(replica: u32, counter: u64) -> Dot {
        Dot { replica, counter }
    }

    fn st(t: u64, replica: u32) -> Stamp {
        Stamp { t, replica }
    }

    fn s(x: &str) -> Val {
        Val::from(x)
    }

    fn digest_of(c: &Crdt) -> u64 {
        let mut h = Digest::new();
        c.digest(&mut h);
        h.finish()
    }

    /// `a ⊔= b`, checking that the returned flag tells the truth and the invariants hold.
    fn join(a: &mut Crdt, b: &Crdt) -> bool {
        let before = a.clone();
        let changed = a.merge(b);
        assert_eq!(
            changed,
            *a != before,
            "merge returned {changed}: {before:?} ⊔ {b:?} = {a:?}"
        );
        a.assert_invariants();
        changed
    }

    fn joined(a: &Crdt, b: &Crdt) -> Crdt {
        let mut x = a.clone();
        join(&mut x, b);
        x
    }

    // ---- exact reference models (uncompressed dot-set contexts) ----

    #[derive(Clone, Debug, Default, PartialEq)]
    struct RefMv {
        entries: BTreeSet<(Dot, Val)>,
        ctx: BTreeSet<Dot>,
    }

    impl RefMv {
        fn join(&mut self, o: &RefMv) {
            let keep = |e: &(Dot, Val), other: &RefMv| {
                other.entries.contains(e) || !other.ctx.contains(&e.0)
            };
            let mut entries: BTreeSet<(Dot, Val)> = self
                .entries
                .iter()
                .filter(|e| keep(e, o))
                .cloned()
                .collect();
            entries.extend(o.entries.iter().filter(|e| keep(e, self)).cloned());
            self.entries = entries;
            self.ctx.extend(o.ctx.iter().copied());
        }

        fn set(&mut self, d: Dot, v: Val) -> RefMv {
            let mut ctx: BTreeSet<Dot> = self.entries.iter().map(|e| e.0).collect();
            ctx.insert(d);
            let delta = RefMv {
                entries: [(d, v)].into(),
                ctx,
            };
            self.join(&delta);
            delta
        }

        fn values(&self) -> Vec<Val> {
            let mut v: Vec<Val> = self.entries.iter().map(|e| e.1.clone()).collect();
            v.sort();
            v.dedup();
            v
        }
    }

    #[derive(Clone, Debug, Default, PartialEq)]
    struct RefSet {
        entries: BTreeSet<(Val, Dot)>,
        ctx: BTreeSet<Dot>,
    }

    impl RefSet {
        fn join(&mut self, o: &RefSet) {
            let keep = |e: &(Val, Dot), other: &RefSet| {
                other.entries.contains(e) || !other.ctx.contains(&e.1)
            };
            let mut entries: BTreeSet<(Val, Dot)> = self
                .entries
                .iter()
                .filter(|e| keep(e, o))
                .cloned()
                .collect();
            entries.extend(o.entries.iter().filter(|e| keep(e, self)).cloned());
            self.entries = entries;
            self.ctx.extend(o.ctx.iter().copied());
        }

        fn dots_of(&self, e: &Val) -> BTreeSet<Dot> {
            self.entries
                .iter()
                .filter(|x| x.0 == *e)
                .map(|x| x.1)
                .collect()
        }

        fn add(&mut self, d: Dot, e: Val) -> RefSet {
            let mut ctx = self.dots_of(&e);
            ctx.insert(d);
            let delta = RefSet {
                entries: [(e, d)].into(),
                ctx,
            };
            self.join(&delta);
            delta
        }

        fn remove(&mut self, e: &Val) -> RefSet {
            let delta = RefSet {
                entries: BTreeSet::new(),
                ctx: self.dots_of(e),
            };
            self.join(&delta);
            delta
        }

        fn values(&self) -> Vec<Val> {
            let mut v: Vec<Val> = self.entries.iter().map(|e| e.0.clone()).collect();
            v.dedup();
            v
        }
    }

    #[derive(Clone, Debug, PartialEq)]
    enum Ref {
        Untracked,
        Mv(RefMv),
        Set(RefSet),
    }

    impl Ref {
        fn new(kind: CrdtKind) -> Ref {
            match kind {
                CrdtKind::MvRegister => Ref::Mv(RefMv::default()),
                CrdtKind::OrSet => Ref::Set(RefSet::default()),
                _ => Ref::Untracked,
            }
        }

        fn join(&mut self, o: &Ref) {
            match (self, o) {
                (Ref::Mv(a), Ref::Mv(b)) => a.join(b),
                (Ref::Set(a), Ref::Set(b)) => a.join(b),
                (Ref::Untracked, Ref::Untracked) => {}
                _ => unreachable!(),
            }
        }

        /// `other ⊑ self`
        fn contains(&self, other: &Ref) -> bool {
            let mut x = self.clone();
            x.join(other);
            x == *self
        }

        fn read_json(&self) -> Option<String> {
            let vals = match self {
                Ref::Untracked => return None,
                Ref::Mv(m) => m.values(),
                Ref::Set(m) => m.values(),
            };
            let mut out = String::new();
            write_json_array(vals.iter(), &mut out);
            Some(out)
        }
    }

    // ---- random histories ----

    #[derive(Clone, Debug)]
    enum Mutation {
        Inc(ReplicaIdx, i64),
        Set(Stamp, Dot, Val),
        Add(Dot, Val),
        Remove(Val),
    }

    fn apply(c: &mut Crdt, m: &Mutation) -> Crdt {
        match m {
            Mutation::Inc(r, n) => c.inc(*r, *n),
            Mutation::Set(stamp, d, v) => c.set(*stamp, *d, v.clone()),
            Mutation::Add(d, v) => c.add(*d, v.clone()),
            Mutation::Remove(v) => c.remove(v),
        }
    }

    fn apply_ref(r: &mut Ref, m: &Mutation) -> Ref {
        match (r, m) {
            (Ref::Untracked, _) => Ref::Untracked,
            (Ref::Mv(x), Mutation::Set(_, d, v)) => Ref::Mv(x.set(*d, v.clone())),
            (Ref::Set(x), Mutation::Add(d, v)) => Ref::Set(x.add(*d, v.clone())),
            (Ref::Set(x), Mutation::Remove(v)) => Ref::Set(x.remove(v)),
            (r, m) => unreachable!("{m:?} on {r:?}"),
        }
    }

    #[derive(Clone, Debug)]
    enum Step {
        Mutate { r: u8, a: u8, b: u8 },
        Merge { from: u8, to: u8 },
        Deliver { delta: u16, to: u8 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            5 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(r, a, b)| Step::Mutate { r, a, b }),
            2 => (any::<u8>(), any::<u8>()).prop_map(|(from, to)| Step::Merge { from, to }),
            2 => (any::<u16>(), any::<u8>()).prop_map(|(delta, to)| Step::Deliver { delta, to }),
        ]
    }

    fn small_val(a: u8) -> Val {
        match a % 6 {
            0 => Val::Int(-1),
            1 => Val::Int(7),
            2 => s("x"),
            3 => s("y\"z"),
            4 => Val::Int(i64::from(a)),
            _ => s(""),
        }
    }

    fn elem(b: u8) -> Val {
        match b % 4 {
            0 => Val::Int(1),
            1 => s("a"),
            2 => s("b"),
            _ => Val::Int(-3),
        }
    }

    struct Run {
        kind: CrdtKind,
        reps: Vec<Crdt>,
        refs: Vec<Ref>,
        dots: Vec<u64>,
        hlc: Vec<u64>,
        /// (delta, reference delta, reference pre-state of the origin)
        deltas: Vec<(Crdt, Ref, Ref)>,
        pool: Vec<Crdt>,
        causal_only: bool,
        /// A delta reached a state that did not contain its origin's pre-state: from then on the
        /// compressed and exact contexts may disagree on intermediate reads (not on the final one).
        tainted: bool,
        total: i64,
        best_lww: Option<(Stamp, Val)>,
    }

    impl Run {
        fn new(kind: CrdtKind, n: usize, causal_only: bool) -> Run {
            Run {
                kind,
                reps: vec![Crdt::new(kind); n],
                refs: vec![Ref::new(kind); n],
                dots: vec![0; n],
                hlc: vec![0; n],
                deltas: Vec::new(),
                pool: vec![Crdt::new(kind)],
                causal_only,
                tainted: false,
                total: 0,
                best_lww: None,
            }
        }

        fn check_read(&self, r: usize) {
            if self.tainted {
                return;
            }
            if let Some(want) = self.refs[r].read_json() {
                assert_eq!(
                    self.reps[r].read_json(),
                    want,
                    "replica {r}: {:?} vs reference {:?}",
                    self.reps[r],
                    self.refs[r]
                );
            }
        }

        fn mutation(&mut self, r: usize, a: u8, b: u8) -> Mutation {
            self.dots[r] += 1 + u64::from(b % 3); // gaps: the counter is shared with other keys
            let d = dot(r as u32, self.dots[r]);
            match self.kind {
                CrdtKind::GCounter => Mutation::Inc(r as u32, i64::from(a % 4)),
                CrdtKind::PNCounter => Mutation::Inc(r as u32, i64::from(a % 9) - 4),
                CrdtKind::LwwRegister => {
                    let t = match b % 5 {
                        0 => u64::from(a % 4), // a stale or colliding stamp
                        _ => {
                            self.hlc[r] += 1;
                            self.hlc[r]
                        }
                    };
                    Mutation::Set(st(t, r as u32), d, small_val(a))
                }
                CrdtKind::MvRegister => Mutation::Set(st(0, r as u32), d, small_val(a)),
                CrdtKind::OrSet => match a % 3 {
                    0 => Mutation::Remove(elem(b)),
                    _ => Mutation::Add(d, elem(b)),
                },
            }
        }

        fn step(&mut self, step: &Step) {
            let n = self.reps.len();
            match *step {
                Step::Mutate { r, a, b } => {
                    let r = r as usize % n;
                    let m = self.mutation(r, a, b);
                    let pre = self.reps[r].clone();
                    let pre_ref = self.refs[r].clone();
                    let delta = apply(&mut self.reps[r], &m);
                    let post = self.reps[r].clone();
                    post.assert_invariants();
                    delta.assert_invariants();
                    // pre ⊔ δ == post, and δ ⊑ post
                    assert_eq!(joined(&pre, &delta), post, "pre ⊔ delta != post for {m:?}");
                    assert!(
                        !join(&mut post.clone(), &delta),
                        "delta not contained in post for {m:?}"
                    );
                    // Any state s ⊒ pre: s ⊔ δ == s ⊔ post.
                    for q in (0..n).filter(|&q| q != r) {
                        let s1 = joined(&self.reps[q], &pre);
                        let via_delta = joined(&s1, &delta);
                        assert_eq!(
                            via_delta,
                            joined(&s1, &post),
                            "delta correctness for {m:?} at {s1:?}"
                        );
                        if matches!(
                            self.kind,
                            CrdtKind::GCounter | CrdtKind::PNCounter | CrdtKind::LwwRegister
                        ) {
                            // Here the mutator itself commutes with the join.
                            let mut direct = s1.clone();
                            apply(&mut direct, &m);
                            assert_eq!(via_delta, direct, "mutating {s1:?} directly with {m:?}");
                        }
                    }
                    let ref_delta = apply_ref(&mut self.refs[r], &m);
                    self.check_read(r);
                    match &m {
                        Mutation::Inc(_, k) => self.total += k,
                        Mutation::Set(stamp, _, v) if self.kind == CrdtKind::LwwRegister => {
                            let w = Some((*stamp, v.clone()));
                            if w > self.best_lww {
                                self.best_lww = w;
                            }
                        }
                        _ => {}
                    }
                    if self.pool.len() < 48 {
                        self.pool.push(pre);
                        self.pool.push(delta.clone());
                    }
                    self.deltas.push((delta, ref_delta, pre_ref));
                }
                Step::Merge { from, to } => {
                    let (from, to) = (from as usize % n, to as usize % n);
                    let src = self.reps[from].clone();
                    let changed = join(&mut self.reps[to], &src);
                    if from == to {
                        assert!(!changed, "self-merge changed the state");
                    }
                    let src_ref = self.refs[from].clone();
                    self.refs[to].join(&src_ref);
                    self.hlc[to] = self.hlc[to].max(self.hlc[from]);
                    self.check_read(to);
                }
                Step::Deliver { delta, to } => {
                    if self.deltas.is_empty() {
                        return;
                    }
                    let to = to as usize % n;
                    let (d, ref_d, ref_pre) =
                        self.deltas[delta as usize % self.deltas.len()].clone();
                    if !self.refs[to].contains(&ref_pre) {
                        if self.causal_only {
                            return;
                        }
                        self.tainted = true;
                    }
                    join(&mut self.reps[to], &d);
                    self.refs[to].join(&ref_d);
                    self.check_read(to);
                }
            }
        }

        fn finish(mut self, triples: &[(u16, u16, u16)]) {
            let n = self.reps.len();
            self.pool.extend(self.reps.iter().cloned());
            // Laws on states and deltas from the history.
            let len = self.pool.len();
            for &(i, j, k) in triples {
                let (a, b, c) = (
                    &self.pool[i as usize % len],
                    &self.pool[j as usize % len],
                    &self.pool[k as usize % len],
                );
                let ab = joined(a, b);
                assert_eq!(ab, joined(b, a), "not commutative: {a:?} ⊔ {b:?}");
                assert_eq!(digest_of(&ab), digest_of(&joined(b, a)));
                assert_eq!(
                    joined(&ab, c),
                    joined(a, &joined(b, c)),
                    "not associative: {a:?}, {b:?}, {c:?}"
                );
                assert!(!join(&mut a.clone(), a), "not idempotent: {a:?}");
                let mut x = ab.clone();
                assert!(
                    !join(&mut x, a) && !join(&mut x, b),
                    "a ⊔ b does not contain a and b"
                );
            }
            // Converge: everyone merges everyone, twice.
            for _ in 0..2 {
                for i in 0..n {
                    for j in 0..n {
                        let src = self.reps[i].clone();
                        join(&mut self.reps[j], &src);
                        let src_ref = self.refs[i].clone();
                        self.refs[j].join(&src_ref);
                    }
                }
            }
            let first = &self.reps[0];
            for r in &self.reps {
                assert_eq!(r, first, "not converged");
                assert_eq!(digest_of(r), digest_of(first));
            }
            for (d, _, _) in &self.deltas {
                assert!(
                    !join(&mut first.clone(), d),
                    "a delta is not contained in the converged state"
                );
            }
            let got = first.read_json();
            let want = match self.kind {
                CrdtKind::GCounter | CrdtKind::PNCounter => self.total.to_string(),
                CrdtKind::LwwRegister => self
                    .best_lww
                    .as_ref()
                    .map_or("null".to_string(), |w| w.1.to_json()),
                CrdtKind::MvRegister | CrdtKind::OrSet => {
                    self.refs[0].read_json().expect("tracked")
                }
            };
            assert_eq!(got, want, "converged value: {first:?}");
            for r in &self.refs {
                assert_eq!(
                    r.read_json(),
                    self.refs[0].read_json(),
                    "reference not converged"
                );
            }
        }
    }

    fn run_case(
        kind: CrdtKind,
        n: usize,
        causal_only: bool,
        steps: &[Step],
        triples: &[(u16, u16, u16)],
    ) {
        let mut run = Run::new(kind, n, causal_only);
        for s in steps {
            run.step(s);
        }
        run.finish(triples);
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        prop::collection::vec(step(), 1..70)
    }

    fn triples() -> impl Strategy<Value = Vec<(u16, u16, u16)>> {
        prop::collection::vec(any::<(u16, u16, u16)>(), 24)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn gcounter_laws(n in 2usize..=4, causal in any::<bool>(), steps in steps(), triples in triples()) {
            run_case(CrdtKind::GCounter, n, causal, &steps, &triples);
        }

        #[test]
        fn pncounter_laws(n in 2usize..=4, causal in any::<bool>(), steps in steps(), triples in triples()) {
            run_case(CrdtKind::PNCounter, n, causal, &steps, &triples);
        }

        #[test]
        fn lww_laws(n in 2usize..=4, causal in any::<bool>(), steps in steps(), triples in triples()) {
            run_case(CrdtKind::LwwRegister, n, causal, &steps, &triples);
        }

        #[test]
        fn mv_laws(n in 2usize..=4, causal in any::<bool>(), steps in steps(), triples in triples()) {
            run_case(CrdtKind::MvRegister, n, causal, &steps, &triples);
        }

        #[test]
        fn orset_laws(n in 2usize..=4, causal in any::<bool>(), steps in steps(), triples in triples()) {
            run_case(CrdtKind::OrSet, n, causal, &steps, &triples);
        }

        #[test]
        fn json_strings_round_trip(text in ".{0,24}", bytes in prop::collection::vec(0u8..0x80, 0..16)) {
            let ascii: String = bytes.into_iter().map(char::from).collect();
            for t in [text, ascii] {
                let json = Val::Str(t.as_str().into()).to_json();
                let back: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
                prop_assert_eq!(back, serde_json::Value::String(t));
            }
        }
    }

    // ---- unit tests ----

    #[test]
    fn orset_add_wins_over_concurrent_remove() {
        let x = s("x");
        let mut a = OrSet::new();
        let mut b = OrSet::new();
        let d1 = a.add(dot(0, 1), x.clone());
        b.merge(&d1);
        assert!(b.contains(&x));
        // Concurrently: a removes x, b re-adds x.
        let rm = a.remove(&x);
        let add = b.add(dot(1, 1), x.clone());
        assert!(!a.contains(&x));
        assert!(a.merge(&add));
        assert!(
            !b.merge(&rm),
            "b's add already superseded what the remove saw"
        );
        assert!(a.contains(&x) && b.contains(&x), "add wins");
        assert_eq!(a, b);
        assert_eq!(a.dots(&x), &[dot(1, 1)]);
        // A remove that has seen the add removes it everywhere.
        let rm2 = a.remove(&x);
        b.merge(&rm2);
        assert!(!a.contains(&x) && !b.contains(&x));
        assert_eq!(a, b);
        assert!(a.is_empty());
        assert!(
            a.context(&x).is_some(),
            "a removed element keeps its context"
        );
    }

    #[test]
    fn orset_remove_of_unseen_add_does_nothing() {
        let x = s("x");
        let mut a = OrSet::new();
        let mut b = OrSet::new();
        let add = a.add(dot(0, 1), x.clone());
        let rm = b.remove(&x);
        assert_eq!(
            rm,
            OrSet::new(),
            "removing an absent element is an empty delta"
        );
        b.merge(&rm);
        b.merge(&add);
        a.merge(&b);
        assert!(a.contains(&x) && b.contains(&x));
        // A stale state from before the remove does not resurrect the element.
        let stale = a.clone();
        a.remove(&x);
        assert!(!a.merge(&stale));
        assert!(!a.contains(&x));
    }

    #[test]
    fn set_wide_context_would_lose_elements() {
        // p adds c then a; q (having seen p) re-adds a; r receives q's delta before p's deltas.
        let (c, a) = (s("c"), s("a"));
        let mut p = OrSet::new();
        let d_c = p.add(dot(0, 2), c.clone());
        let d_a = p.add(dot(0, 3), a.clone());
        let mut q = OrSet::new();
        q.merge(&p);
        let d_qa = q.add(dot(1, 1), a.clone());
        let mut r = OrSet::new();
        r.merge(&d_qa);
        let mut interval = d_c.clone();
        interval.merge(&d_a);
        r.merge(&interval);
        assert!(r.contains(&c), "c was never removed: {r:?}");
        assert_eq!(r.elements().collect::<Vec<_>>(), [&a, &c]);
        assert_eq!(r.dots(&a), &[dot(1, 1)]);
        p.merge(&r);
        q.merge(&r);
        r.merge(&p);
        assert_eq!(p, q);
        assert_eq!(q, r);
    }

    #[test]
    fn mv_siblings() {
        let mut a = MvRegister::new();
        let mut b = MvRegister::new();
        let da = a.set(dot(0, 1), Val::Int(1));
        let db = b.set(dot(1, 1), Val::Int(2));
        assert!(a.merge(&db));
        assert!(b.merge(&da));
        assert_eq!(a, b);
        assert_eq!(a.values(), [&Val::Int(1), &Val::Int(2)]);
        assert_eq!(Crdt::Mv(a.clone()).read_json(), "[1,2]");
        // A write that observed both siblings replaces them.
        let d3 = a.set(dot(0, 2), Val::Int(3));
        assert_eq!(d3.context().entries(), &[(0, 2), (1, 1)]);
        assert_eq!(a.values(), [&Val::Int(3)]);
        assert!(b.merge(&d3));
        assert_eq!(a, b);
        assert_eq!(Crdt::Mv(b).read_json(), "[3]");
        // Stale sibling states do not come back.
        assert!(!a.merge(&MvRegister {
            entries: vec![(dot(1, 1), Val::Int(2))],
            ctx: Vv::from_dots([dot(1, 1)])
        }));
    }

    #[test]
    fn mv_equal_concurrent_values_read_once() {
        let mut a = MvRegister::new();
        let mut b = MvRegister::new();
        let da = a.set(dot(0, 1), s("v"));
        b.set(dot(1, 4), s("v"));
        b.merge(&da);
        assert_eq!(b.entries().len(), 2);
        assert_eq!(b.values(), [&s("v")]);
        assert_eq!(Crdt::Mv(b).read_json(), "[\"v\"]");
    }

    #[test]
    fn lww_ordering() {
        let mut a = LwwRegister::new();
        let mut b = LwwRegister::new();
        a.set(st(5, 0), Val::Int(1));
        b.set(st(7, 1), Val::Int(2));
        let (mut ab, mut ba) = (a.clone(), b.clone());
        assert!(ab.merge(&b));
        assert!(!ba.merge(&a));
        assert_eq!(ab, ba);
        assert_eq!(ab.value(), Some(&Val::Int(2)));
        // Equal times: the larger replica wins.
        let mut c = LwwRegister::new();
        c.set(st(7, 0), Val::Int(9));
        assert!(!ab.merge(&c));
        assert_eq!(ab.stamp(), Some(st(7, 1)));
        // A write stamped older than what the replica holds is lost; its delta is still the write.
        let mut d = LwwRegister::new();
        d.set(st(9, 0), Val::Int(9));
        let delta = d.set(st(3, 0), Val::Int(4));
        assert_eq!(d.value(), Some(&Val::Int(9)));
        assert_eq!(delta.stamp(), Some(st(3, 0)));
        assert_eq!(Crdt::Lww(d).lww_stamp(), Some(st(9, 0)));
        // Equal stamps, different values (cannot happen in a run): still commutative.
        let mut x = LwwRegister::new();
        x.set(st(1, 0), Val::Int(1));
        let mut y = LwwRegister::new();
        y.set(st(1, 0), Val::Int(2));
        let (mut xy, mut yx) = (x.clone(), y.clone());
        xy.merge(&y);
        yx.merge(&x);
        assert_eq!(xy, yx);
        assert_eq!(Crdt::Lww(LwwRegister::new()).read_json(), "null");
        assert_eq!(Crdt::Lww(xy).read_json(), "2");
    }

    #[test]
    fn buggy_counter_merge_is_not_idempotent() {
        let mut g = GCounter::new();
        g.inc(0, 5);
        g.inc(1, 2);
        let copy = g.clone();
        assert!(!g.clone().merge(&copy), "the correct merge is idempotent");
        assert!(g.merge_buggy_add(&copy));
        assert_eq!(g.value(), 14);
        assert_ne!(g, copy);

        let mut p = PNCounter::new();
        p.add(0, 3);
        let delta = p.add(1, -5);
        assert_eq!(p.value(), -2);
        let mut twice = p.clone();
        assert!(!twice.merge(&delta));
        assert!(
            twice.merge_buggy_add(&delta),
            "a duplicated delta counts twice"
        );
        assert_eq!(twice.value(), -7);

        let mut c = Crdt::new(CrdtKind::GCounter);
        let d = c.inc(2, 3);
        assert!(c.merge_buggy(&d));
        assert_eq!(c.read_json(), "6");
        // Other kinds merge correctly even through the buggy entry point.
        let mut l = Crdt::new(CrdtKind::LwwRegister);
        let d = l.set(st(1, 0), dot(0, 1), Val::Int(1));
        assert!(!l.merge_buggy(&d));
        let mut o = Crdt::new(CrdtKind::OrSet);
        let d = o.add(dot(0, 1), s("e"));
        assert!(!o.merge_buggy(&d));
    }

    #[test]
    fn counters() {
        let mut g = GCounter::new();
        assert_eq!(g.inc(3, 0), GCounter::new(), "inc by 0 is an empty delta");
        let d = g.inc(3, 4);
        assert_eq!(d.entries(), &[(3, 4)]);
        let d = g.inc(3, 1);
        assert_eq!(d.entries(), &[(3, 5)], "the delta is the new total");
        g.inc(1, u64::MAX);
        assert_eq!(g.value(), u64::MAX, "saturates");
        let mut p = PNCounter::new();
        p.add(0, i64::MIN);
        p.add(1, i64::MIN);
        assert_eq!(p.value(), i64::MIN, "clamps");
        let mut c = Crdt::new(CrdtKind::PNCounter);
        c.inc(0, 4);
        c.inc(1, -6);
        assert_eq!(c.read_json(), "-2");
        assert!(c.is_counter());
        assert_eq!(c.lww_stamp(), None);
    }

    #[test]
    #[should_panic(expected = "cannot be decremented")]
    fn gcounter_rejects_decrement() {
        Crdt::new(CrdtKind::GCounter).inc(0, -1);
    }

    #[test]
    #[should_panic(expected = "cannot merge a MvRegister into a LwwRegister")]
    fn merge_of_different_kinds_panics() {
        Crdt::new(CrdtKind::LwwRegister).merge(&Crdt::new(CrdtKind::MvRegister));
    }

    #[test]
    #[should_panic(expected = "not an OR-Set")]
    fn mutator_of_the_wrong_kind_panics() {
        Crdt::new(CrdtKind::MvRegister).add(dot(0, 1), s("x"));
    }

    #[test]
    fn json() {
        assert_eq!(Val::Int(-42).to_json(), "-42");
        assert_eq!(
            s("a\"b\\c\n\t\u{1}\u{1f}é/").to_json(),
            "\"a\\\"b\\\\c\\n\\t\\u0001\\u001fé/\""
        );
        for k in CrdtKind::ALL {
            let empty = Crdt::new(k).read_json();
            let want = match k {
                CrdtKind::GCounter | CrdtKind::PNCounter => "0",
                CrdtKind::LwwRegister => "null",
                CrdtKind::MvRegister | CrdtKind::OrSet => "[]",
            };
            assert_eq!(empty, want);
            assert_eq!(Crdt::new(k).kind(), k);
        }
        let mut o = Crdt::new(CrdtKind::OrSet);
        o.add(dot(0, 1), s("b"));
        o.add(dot(0, 2), Val::Int(3));
        o.add(dot(0, 3), s("a"));
        o.add(dot(0, 4), s("gone"));
        o.remove(&s("gone"));
        assert_eq!(o.read_json(), "[3,\"a\",\"b\"]");
        let v: serde_json::Value = serde_json::from_str(&o.read_json()).unwrap();
        assert_eq!(v, serde_json::json!([3, "a", "b"]));
    }

    #[test]
    fn digests() {
        let mut h1 = Digest::new();
        h1.write_bytes(b"ab");
        h1.write_bytes(b"c");
        let mut h2 = Digest::new();
        h2.write_bytes(b"a");
        h2.write_bytes(b"bc");
        assert_ne!(h1.finish(), h2.finish());
        assert_ne!(
            digest_of(&Crdt::new(CrdtKind::GCounter)),
            digest_of(&Crdt::new(CrdtKind::PNCounter))
        );
        // Same state reached in different orders: same digest.
        let mut a = Crdt::new(CrdtKind::OrSet);
        let mut b = Crdt::new(CrdtKind::OrSet);
        let d1 = a.add(dot(0, 1), s("x"));
        let d2 = b.add(dot(1, 1), s("y"));
        a.merge(&d2);
        b.merge(&d1);
        assert_eq!(a, b);
        assert_eq!(digest_of(&a), digest_of(&b));
        // Different states: different digests.
        b.remove(&s("x"));
        assert_ne!(digest_of(&a), digest_of(&b));
        let mut g = Crdt::new(CrdtKind::GCounter);
        let before = digest_of(&g);
        g.inc(0, 1);
        assert_ne!(digest_of(&g), before);
        // Pinned, so that a change to the hash is deliberate (it shows in traces' digests).
        let mut h = Digest::new();
        h.write_u64(42);
        assert_eq!(h.finish(), {
            let mut h = Digest::new();
            h.write_u64(42);
            h.finish()
        });
    }

    #[test]
    fn wire_len_grows_with_content() {
        let mut g = Crdt::new(CrdtKind::GCounter);
        assert_eq!(g.wire_len(), 3);
        g.inc(0, 1);
        assert_eq!(g.wire_len(), 15);
        let mut l = Crdt::new(CrdtKind::LwwRegister);
        assert_eq!(l.wire_len(), 2);
        l.set(st(1, 0), dot(0, 1), s("abc"));
        assert_eq!(l.wire_len(), 2 + 12 + 6);
        let mut o = Crdt::new(CrdtKind::OrSet);
        let empty = o.wire_len();
        let d = o.add(dot(0, 1), s("x"));
        assert!(o.wire_len() > empty);
        assert_eq!(d.wire_len(), o.wire_len());
    }

    #[test]
    fn vv_join() {
        let mut a = Vv::from_dots([dot(1, 3), dot(4, 1)]);
        let b = Vv::from_dots([dot(0, 2), dot(1, 2), dot(4, 5), dot(9, 1)]);
        assert!(a.join(&b));
        assert_eq!(a.entries(), &[(0, 2), (1, 3), (4, 5), (9, 1)]);
        assert!(!a.join(&b));
        assert!(b.leq(&a) && !a.leq(&b));
        assert!(a.covers(dot(1, 3)) && !a.covers(dot(1, 4)) && !a.covers(dot(7, 1)));
    }
}
