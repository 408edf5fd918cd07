//! Conflicting writes (spec section 5): for each group of writes that can conflict, the pairs of
//! concurrent writes that are each a *maximal* element of the set of writes concurrent with the
//! other, and the register siblings that stay unresolved.
//!
//! # The rule, restated so that it can be computed without looking at all pairs
//!
//! Fix a group `W` (a register key's `set`s, or the `add`s and `remove`s of one set element).
//! Each write `b` draws its rivals from `T(b)`: all of `W` for a register, the writes of the
//! other op for an element. `C(b)` = the members of `T(b)` concurrent with `b`, `M(b)` = the
//! maximal elements of `C(b)`, and `{a, b}` is a conflict when `a ∈ M(b)` and `b ∈ M(a)`. Let
//! `Up(x)` be the writes of `W` that `x` happens before, and `O(x) = Up(x) ∩ T'` where `T'` is
//! the role of `x` (all of `W` for a register, the writes with `x`'s op for an element).
//!
//! **Lemma 1.** For `a ∈ T(b)`: `a ∈ M(b)` ⟺ `a ∥ b` and `O(a) ⊆ Up(b)` (`b` happens before
//! every write of `a`'s role that `a` happens before).
//! *Proof.* ⇐: a `c ∈ C(b)` with `a → c` is in `O(a)` (it has `a`'s role, being in `T(b)`), so
//! `b → c`, contradicting `c ∥ b`. ⇒: take `c ∈ O(a)`. `c ≠ b` and `c ↛ b` (else `a → b`), and
//! `c ∥ b` would put `c` in `C(b)` above `a`; so `b → c`. ∎
//!
//! **Corollary (registers).** `{a, b}` is a register conflict ⟺ `a ≠ b` and `Up(a) = Up(b)`:
//! mutual inclusion gives equality, and equal up-sets force `a ∥ b` (if `a → b` then
//! `b ∈ Up(a) = Up(b)`, absurd). So the register conflicts of a key are exactly the pairs inside
//! the classes of "same up-set", every class an antichain; the class with the empty up-set is the
//! set of maximal writes, i.e. the unresolved siblings. Reporting them costs the pairs, and
//! *finding* them never needs to look at a pair of writes that is not reported.
//!
//! # Chains, first observers, landings
//!
//! The writes of one replica and role form a chain (program order; within a group they are
//! sorted by seq). For a write `x` and a chain `t`, `f_t(x)` is the index on `t` of the first
//! write that `x` happens before (the chain's length when there is none): `Up(x) ∩ t` is the
//! suffix of `t` from `f_t(x)`, so `Up(x)` *is* the vector `f(x) = (f_t(x))_t`, and along a chain
//! `r = (a_0, a_1, …)` the vectors only grow: `f_t(a_j) ≤ f_t(a_{j+1})`. With
//! `κ_{t,r}(i)` = how many writes of `r` the `i`-th write of `t` has seen (one clock lookup:
//! `VC(x)[replica of r]`, then a search among `r`'s seqs; non-decreasing in `i`),
//! `f_t(a_j)` is the first `i` with `κ_{t,r}(i) ≥ j + 1`. Call `(t, i)` a *landing* on `a_j` when
//! `κ_{t,r}` takes the value `j + 1` first at `i`: write `i` of `t` has seen `a_j` but not
//! `a_{j+1}`. Then
//!
//! - `f_t(a_j) = i` for a landing `(t, i)` on `a_j`, and `f_t(a_j) = f_t(a_{j+1})` for every
//!   other chain `t ≠ r` (`f_t` of the last write of `r` is the chain's length there); and
//!   `f_r(a_j) = j + 1`. So walking `r` backwards, `f` changes only at the landings and the own
//!   entry;
//! - the landings of `r` on `t` are found by bisecting the monotone `κ_{t,r}`: two lookups when it
//!   is constant, about `log₂ |t|` per distinct value otherwise.
//!
//! **Registers.** Each write gets the hash `h(x) = Σ_t z(t, f_t(x))` (wrapping; `z` a bijective
//! mix of `(t, f_t)`, `z(t, ∞) = 0`), maintained along each chain by the landings alone. Equal
//! up-sets give equal hashes, so every class lies inside one bucket of equal hashes; each bucket
//! of two or more is split exactly by comparing the members' vectors `f`, rebuilt from the
//! landings (replaying the member's chain from its end), so a hash collision can cost time but
//! never a wrong pair. The class of maximal writes needs no hash: a chain's last write is maximal
//! exactly when no landing falls on it.
//!
//! **Elements.** The inclusions of lemma 1 need not be equalities (an add `b` followed on its own
//! replica by a remove `c` still conflicts with a remove `a ∥ b, c`). Write `a` (chain `r`, index
//! `j`) and `b` (chain `s`, index `k`, other op). `a ∈ M(b)` forces `b → a_{j+1}` (it is in
//! `O(a)`) and `b ↛ a`, i.e. `f_r(b) = j + 1`; likewise `f_s(a) = k + 1`. Both together already
//! give `a ∥ b`, and for a pair of chains they are found by walking the runs of the step function
//! `k ↦ f_r(b_k)` (read off the landings of `s` on `r`) and evaluating `f_s` (the landings of `r`
//! on `s`) once per run: one candidate pair per run at most. A candidate pair is a conflict when
//! `O(a) ⊆ Up(b)` and `O(b) ⊆ Up(a)`; an up-closed `O(x)` is determined by its minimal elements,
//! the *own-role covers* of `x`, which lie among `x`'s successor on its chain and its landings
//! from chains of its role (every other member of `O(x)` is above one of those), so each test is
//! one lookup per cover. The covers are picked out of those candidates in a linear extension
//! (each write's count of writes of its role in its causal past, which `→` strictly increases):
//! a candidate is minimal exactly when no cover found before it is below it.
//!
//! # Cost
//!
//! For a group of `n` writes on `K` chains (`L` the longest), with `Λ` landings: `O(K²)` lookups
//! for the pairs of chains, `O(Λ log L)` to find the landings, `O(Λ + n log n)` for the hashes
//! and buckets, `O(K + Λ)` per member of a bucket of two or more non-maximal writes (rare: those
//! are conflicting writes, or a hash collision), plus the pairs reported: for a register, no pair
//! of writes is looked at unless it is reported. `Λ ≤ K·n`; it is small when chains are long and replicas hear
//! of each other's writes in batches (a landing is a chain hearing of a write before hearing of
//! its successor): measured, `Λ ≈ 3n` with 100 replicas and `30n` with 400 on the gossiping
//! hot-key traces of the benchmark (`bench/README.md`, `hotkeys`). Elements add, per write, its
//! candidate covers × its covers, and per candidate pair its covers; candidate pairs can
//! outnumber conflicts (with one write per replica and element, every concurrent add/remove pair
//! is a candidate). The previous scheme cost `n·K` binary searches plus up to `n·K²` lookups for
//! either kind of group.

use std::sync::Arc;

use serde_json::Value;
use weft_trace::{EventId, Op, Sym, Trace};

use crate::report::{Conflict, ConflictWhy, Rule, Unresolved, WriteFacts};

/// What conflict detection needs to know about writes: the engine answers from its per-node
/// implied clocks, the tests' reference from its own. Write numbers are
/// the answerer's own; nothing here assumes they follow id order, and replica numbers only need
/// to be a total order (they are used to split a group into chains, never to order the output).
pub(crate) trait WriteOrder {
    /// A number for the replica of write `v`: equal for the writes of one replica, different
    /// for different replicas (any total order of replicas).
    fn replica(&self, v: u32) -> u32;
    /// The seq of write `v`.
    fn seq(&self, v: u32) -> u64;
    /// `VC(y)[replica]`: the highest seq of `replica` that write `y` has in its causal past,
    /// itself included (so `seen(y, replica(y)) = seq(y)`). Asked only for replicas that wrote
    /// the same key as `y`.
    fn seen(&self, y: u32, replica: u32) -> u64;
    /// The arrival index in the trace of write `v` (`trace.events()[arrival(v)]` is its event).
    fn arrival(&self, v: u32) -> usize;
    /// `VC(y)` at the replica of write `x` (both writes of one key): `seen(y, replica(x))`. This
    /// is the lookup conflict detection makes most; an answerer that can skip the replica
    /// translation overrides it.
    #[inline]
    fn seen_of(&self, y: u32, x: u32) -> u64 {
        self.seen(y, self.replica(x))
    }
    /// `x → y` for two writes of one key: `VC(y)[replica(x)] ≥ seq(x)`.
    #[inline]
    fn hb(&self, x: u32, y: u32) -> bool {
        x != y && self.seen_of(y, x) >= self.seq(x)
    }
}

/// The conflicts of one group of writes that can conflict — a register key's `set`s
/// (`element: None`), or the `add`s and `remove`s of one element of a set key
/// (`element: Some(value)`) — appended to `out` (sorted by `(a, b)` within the group; the caller
/// sorts across groups), and for a register the unresolved siblings (its maximal writes, when
/// two or more; ids ascending).
///
/// `group` holds each write once, sorted by `(o.replica(v), o.seq(v))`, so that each replica's
/// writes are contiguous. The clocks behind `o` must be those of an acyclic trace. `o` is asked
/// only about writes of `group`. Cost: see the module documentation — it grows with the group's
/// writes, its replicas squared, the landings and the pairs reported, not with the pairs of
/// writes.
#[cfg(test)]
pub(crate) fn key_conflicts(
    o: &impl WriteOrder,
    trace: &Trace,
    key: Sym,
    element: Option<&Value>,
    group: &[u32],
    out: &mut Vec<Conflict>,
) -> Option<Unresolved> {
    key_conflicts_in(&mut Scratch::default(), o, trace, key, element, group, out)
}

/// Buffers reused from one group to the next by a caller that works through many groups: a hot
/// key's landings take tens of MiB, and memory fresh from the system is paid for again in page
/// faults every time. Holds nothing between calls that affects a result.
#[derive(Default)]
pub(crate) struct Scratch {
    /// Landings as found: (position landed on, observer chain, index on it).
    raw: Vec<(u32, u32, u32)>,
    /// Landings grouped by the position landed on.
    on: Vec<(u32, u32)>,
}

/// [`key_conflicts`], with buffers kept by the caller.
pub(crate) fn key_conflicts_in(
    scratch: &mut Scratch,
    o: &impl WriteOrder,
    trace: &Trace,
    key: Sym,
    element: Option<&Value>,
    group: &[u32],
    out: &mut Vec<Conflict>,
) -> Option<Unresolved> {
    debug_assert!(
        group
            .windows(2)
            .all(|w| (o.replica(w[0]), o.seq(w[0])) < (o.replica(w[1]), o.seq(w[1]))),
        "a group is sorted by (replica, seq) without repeats"
    );
    let cx = Ctx {
        trace,
        o,
        key: trace.syms().resolve(key).into(),
        element: element.map(|v| Arc::new(v.clone())),
    };
    match element {
        None => {
            let siblings = register_conflicts(&cx, scratch, group, out);
            (siblings.len() >= 2).then(|| Unresolved {
                key: cx.key.to_string(),
                siblings,
            })
        }
        Some(_) => {
            element_conflicts(&cx, scratch, group, out);
            None
        }
    }
}

/// Whether a write can take part in a conflict (counters never do).
pub(crate) fn conflict_write(e: &weft_trace::EventRec) -> bool {
    e.kind == weft_trace::Kind::Write && e.op != Op::Inc
}

/// The report's order: key bytewise, element as JSON text, then the pair's ids. Each element's
/// text is made once (not once per comparison), and an already sorted list is only checked.
pub(crate) fn sort_conflicts(conflicts: &mut [Conflict]) {
    // Register conflicts (most of a hot key's millions) have no element: no text to make.
    let texts: Vec<Option<String>> = if conflicts.iter().any(|c| c.element.is_some()) {
        conflicts
            .iter()
            .map(|c| {
                c.element
                    .as_ref()
                    .map(|v| serde_json::to_string(v).expect("values serialize"))
            })
            .collect()
    } else {
        Vec::new()
    };
    let text = |x: usize| texts.get(x).and_then(Option::as_deref).unwrap_or("null");
    let cmp = |x: usize, y: usize| {
        let (cx, cy) = (&conflicts[x], &conflicts[y]);
        let (tx, ty) = (text(x), text(y));
        (cx.key.as_bytes(), tx.as_bytes(), &cx.a, &cx.b).cmp(&(
            cy.key.as_bytes(),
            ty.as_bytes(),
            &cy.a,
            &cy.b,
        ))
    };
    if (1..conflicts.len()).all(|i| cmp(i - 1, i).is_le()) {
        return;
    }
    let mut perm: Vec<usize> = (0..conflicts.len()).collect();
    perm.sort_by(|&x, &y| cmp(x, y));
    // Apply the permutation in place: position i receives the element at perm[i].
    for i in 0..perm.len() {
        let mut cur = i;
        while perm[cur] != i {
            let next = perm[cur];
            conflicts.swap(cur, next);
            perm[cur] = cur;
            cur = next;
        }
        perm[cur] = cur;
    }
}

/// An element as the compact JSON text the spec sorts by (`null` for registers).
pub fn element_text(e: Option<&Value>) -> String {
    match e {
        Some(v) => serde_json::to_string(v).expect("values serialize"),
        None => "null".to_string(),
    }
}

/// One group's context.
struct Ctx<'a, O: WriteOrder> {
    trace: &'a Trace,
    o: &'a O,
    /// Shared by the group's conflicts.
    key: Arc<str>,
    /// Shared by the group's conflicts.
    element: Option<Arc<Value>>,
}

impl<O: WriteOrder> Ctx<'_, O> {
    fn event(&self, v: u32) -> &weft_trace::EventRec {
        &self.trace.events()[self.o.arrival(v)]
    }

    /// What the report says about a write taking part in a conflict.
    fn member(&self, v: u32) -> Member {
        let e = self.event(v);
        Member {
            node: v,
            id: self.trace.id(self.o.arrival(v)),
            op: e.op,
            facts: Arc::new(WriteFacts {
                does: match self.trace.value(e) {
                    Some(val) => format!("{} {}", e.op.as_str(), val),
                    None => e.op.as_str().into(),
                },
                clocks: (e.lamport(), e.wall_ns()),
            }),
        }
    }

    /// The conflict `{a, b}` (`a` the smaller id).
    fn conflict(&self, a: &Member, b: &Member) -> Conflict {
        let (winner, rule) = match &self.element {
            Some(_) => (Some(if a.op == Op::Add { a } else { b }), Rule::AddWins),
            None => {
                let (ra, rb) = (a.id.replica.as_bytes(), b.id.replica.as_bytes());
                match (a.facts.clocks, b.facts.clocks) {
                    ((Some(la), _), (Some(lb), _)) => {
                        (Some(if (la, ra) > (lb, rb) { a } else { b }), Rule::Lamport)
                    }
                    ((_, Some(wa)), (_, Some(wb))) => {
                        (Some(if (wa, ra) > (wb, rb) { a } else { b }), Rule::Wall)
                    }
                    _ => (None, Rule::None),
                }
            }
        };
        Conflict {
            key: Arc::clone(&self.key),
            element: self.element.clone(),
            a: a.id.clone(),
            b: b.id.clone(),
            winner: winner.map(|w| w.id.clone()),
            rule,
            why: ConflictWhy {
                a_saw_of_b: self.o.seen_of(a.node, b.node),
                b_saw_of_a: self.o.seen_of(b.node, a.node),
                a: Arc::clone(&a.facts),
                b: Arc::clone(&b.facts),
            },
        }
    }
}

/// A write taking part in conflicts, with what each of its conflicts repeats about it.
struct Member {
    node: u32,
    id: EventId,
    op: Op,
    /// Shared by the write's conflicts.
    facts: Arc<WriteFacts>,
}

/// A group's writes arranged in chains: chain `c` is `nodes[start[c]..start[c + 1]]`, one
/// replica's writes of one role, seq ascending. A write is named by its position in `nodes`.
struct Chains {
    nodes: Vec<u32>,
    seqs: Vec<u64>,
    start: Vec<u32>,
    /// Per position: its chain.
    chain: Vec<u32>,
}

impl Chains {
    fn new(o: &impl WriteOrder, nodes: Vec<u32>, start: Vec<u32>) -> Self {
        let seqs = nodes.iter().map(|&v| o.seq(v)).collect();
        let mut chain = Vec::with_capacity(nodes.len());
        for c in 0..start.len() - 1 {
            chain.extend(std::iter::repeat_n(
                c as u32,
                (start[c + 1] - start[c]) as usize,
            ));
        }
        Chains {
            nodes,
            seqs,
            start,
            chain,
        }
    }

    fn count(&self) -> usize {
        self.start.len() - 1
    }

    fn len(&self, c: usize) -> u32 {
        self.start[c + 1] - self.start[c]
    }

    /// The position of write `i` of chain `c`.
    fn pos(&self, c: usize, i: u32) -> usize {
        (self.start[c] + i) as usize
    }

    /// Write `i` of chain `c`'s index on its chain.
    fn index(&self, p: usize) -> u32 {
        p as u32 - self.start[self.chain[p] as usize]
    }

    fn node(&self, c: usize, i: u32) -> u32 {
        self.nodes[self.pos(c, i)]
    }

    /// `κ`: how many writes of chain `tgt` write `x` has seen (they are a prefix of the chain).
    fn count_seen(&self, o: &impl WriteOrder, x: u32, tgt: usize) -> u32 {
        let seen = o.seen_of(x, self.node(tgt, 0));
        let seqs = &self.seqs[self.start[tgt] as usize..self.start[tgt + 1] as usize];
        if seqs.len() <= 32 {
            // Short chains: a branch-free count beats a search.
            seqs.iter().map(|&q| u32::from(q <= seen)).sum()
        } else {
            seqs.partition_point(|&q| q <= seen) as u32
        }
    }

    /// The landings of chain `tgt` on chain `obs`, as `(v, i)` ascending: `i` is the first write
    /// of `obs` that has seen exactly `v ≥ 1` writes of `tgt` — the first write of `obs` that
    /// write `v − 1` of `tgt` happens before, which has not seen write `v` of `tgt`. Found by
    /// bisecting the monotone count (a segment whose ends agree holds no new value).
    fn landings(
        &self,
        o: &impl WriteOrder,
        obs: usize,
        tgt: usize,
        out: &mut Vec<(u32, u32)>,
        stack: &mut Vec<[u32; 4]>,
    ) {
        out.clear();
        let n = self.len(obs);
        let kappa = |i: u32| self.count_seen(o, self.node(obs, i), tgt);
        let last = kappa(n - 1);
        if last == 0 {
            return;
        }
        let first = if n == 1 { last } else { kappa(0) };
        if first > 0 {
            out.push((first, 0));
        }
        if first == last {
            return;
        }
        // Segments (lo, klo, hi, khi) with klo < khi: the first occurrences of the values in
        // (klo, khi] lie in (lo, hi]. Left halves first, so the output stays ascending.
        stack.push([0, first, n - 1, last]);
        while let Some([lo, klo, hi, khi]) = stack.pop() {
            if hi == lo + 1 {
                out.push((khi, hi));
                continue;
            }
            let mid = lo + (hi - lo) / 2;
            let km = kappa(mid);
            if km < khi {
                stack.push([mid, km, hi, khi]);
            }
            if klo < km {
                stack.push([lo, klo, mid, km]);
            }
        }
    }

    /// Every landing between two chains that `observes(obs, tgt)` admits, grouped by the write
    /// landed on. Observer chains are the outer loop, so the clocks of one chain's writes are
    /// read together.
    fn all_landings(
        &self,
        o: &impl WriteOrder,
        scratch: &mut Scratch,
        observes: impl Fn(usize, usize) -> bool,
    ) -> Landings {
        let (k, n) = (self.count(), self.nodes.len());
        let raw = &mut scratch.raw;
        raw.clear();
        // depth[p]: how many writes of the chains p's chain observes p has seen, minus its own.
        let mut depth = vec![0u32; n];
        let (mut buf, mut stack) = (Vec::new(), Vec::new());
        for t in 0..k {
            for r in 0..k {
                if r == t || !observes(t, r) {
                    continue;
                }
                self.landings(o, t, r, &mut buf, &mut stack);
                let mut before = 0;
                for &(v, i) in &buf {
                    raw.push((self.pos(r, v - 1) as u32, t as u32, i));
                    depth[self.pos(t, i)] += v - before;
                    before = v;
                }
            }
            // From increments along the chain to counts, plus the chain's own writes.
            let mut acc = 0;
            for i in 0..self.len(t) {
                acc += depth[self.pos(t, i)];
                depth[self.pos(t, i)] = acc + i + 1;
            }
        }
        // Counting sort by the position landed on.
        let mut offsets = vec![0u32; n + 1];
        for &(p, _, _) in raw.iter() {
            offsets[p as usize + 1] += 1;
        }
        for p in 0..n {
            offsets[p + 1] += offsets[p];
        }
        let mut fill = offsets.clone();
        let mut on = std::mem::take(&mut scratch.on);
        on.clear();
        on.resize(raw.len(), (0, 0));
        for &(p, t, i) in raw.iter() {
            on[fill[p as usize] as usize] = (t, i);
            fill[p as usize] += 1;
        }
        Landings { offsets, on, depth }
    }
}

/// The landings of a group, by the write landed on.
struct Landings {
    offsets: Vec<u32>,
    /// `(observer chain, index on it)`, grouped by the position landed on.
    on: Vec<(u32, u32)>,
    /// Per position: the number of writes, of its own chain and of the chains it observes, in
    /// its causal past (itself included). `x → y` between writes of such chains implies
    /// `depth(x) < depth(y)` (`y` has seen all that `x` has, and `y`), so sorting by depth is a
    /// linear extension of happens-before among them.
    depth: Vec<u32>,
}

impl Landings {
    /// The landings on position `p`.
    fn on(&self, p: usize) -> &[(u32, u32)] {
        &self.on[self.offsets[p] as usize..self.offsets[p + 1] as usize]
    }

    /// Gives the big buffer back for the next group.
    fn recycle(self, scratch: &mut Scratch) {
        scratch.on = self.on;
    }
}

/// `z(t, i)`: the hash contribution of `f_t = i` (splitmix64's finaliser, a bijection, so
/// distinct `(t, i)` never share a value; `f_t = ∞` contributes 0 and is never passed here).
#[inline]
fn zobrist(t: u32, i: u32) -> u64 {
    let mut x = ((u64::from(t) << 32) | u64::from(i)).wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Register conflicts: the pairs inside each class of writes with the same up-set (see the
/// module documentation), appended to `out` in (a, b) id order: callers rely on it instead of
/// sorting. Returns the ids of the maximal writes, ascending.
fn register_conflicts<O: WriteOrder>(
    cx: &Ctx<O>,
    scratch: &mut Scratch,
    group: &[u32],
    out: &mut Vec<Conflict>,
) -> Vec<EventId> {
    let o = cx.o;
    // Chains: the group is sorted by (replica, seq), so each replica's run is a chain.
    let mut start: Vec<u32> = vec![0];
    for i in 1..group.len() {
        if o.replica(group[i]) != o.replica(group[i - 1]) {
            start.push(i as u32);
        }
    }
    start.push(group.len() as u32);
    let ch = Chains::new(o, group.to_vec(), start);
    let k = ch.count();
    if k == 1 {
        return Vec::new(); // one replica: every write is ordered, one maximal write
    }

    let landings = ch.all_landings(o, scratch, |_, _| true);
    let on = |p: usize| landings.on(p);

    // Hashes of the up-sets, chain by chain from the end; the maximal writes on the side.
    let mut hash = vec![0u64; ch.nodes.len()];
    let mut maximal: Vec<usize> = Vec::new();
    let mut cur = vec![0u64; k];
    let mut touched: Vec<u32> = Vec::new();
    for r in 0..k {
        let n = ch.len(r);
        let mut h = 0u64;
        for j in (0..n).rev() {
            let p = ch.pos(r, j);
            for &(t, i) in on(p) {
                let z = zobrist(t, i);
                h = h.wrapping_sub(cur[t as usize]).wrapping_add(z);
                cur[t as usize] = z;
                touched.push(t);
            }
            if j + 1 == n {
                if on(p).is_empty() {
                    maximal.push(p);
                }
                hash[p] = h;
            } else {
                hash[p] = h.wrapping_add(zobrist(r as u32, j + 1));
            }
        }
        for t in touched.drain(..) {
            cur[t as usize] = 0;
        }
    }

    // Classes: the maximal writes, and each bucket of equal hashes split exactly.
    let mut classes: Vec<Vec<usize>> = Vec::new();
    if maximal.len() >= 2 {
        classes.push(maximal.clone());
    }
    let is_max = {
        let mut m = vec![false; ch.nodes.len()];
        for &p in &maximal {
            m[p] = true;
        }
        m
    };
    let mut buckets: Vec<(u64, usize)> = (0..ch.nodes.len())
        .filter(|&p| !is_max[p])
        .map(|p| (hash[p], p))
        .collect();
    buckets.sort_unstable();
    let mut i = 0;
    while i < buckets.len() {
        let j = i + buckets[i..]
            .iter()
            .take_while(|b| b.0 == buckets[i].0)
            .count();
        if j - i >= 2 {
            let bucket = buckets[i..j].iter().map(|b| b.1);
            exact_classes(&ch, &on, bucket, &mut classes);
        }
        i = j;
    }
    landings.recycle(scratch);

    // Pairs in (a, b) id order: members by id; each member pairs with the later members of
    // its class.
    let mut info: Vec<Member> = Vec::new();
    let mut members: Vec<(usize, usize)> = Vec::new(); // (class, index in info)
    for (c, class) in classes.iter().enumerate() {
        for &p in class {
            members.push((c, info.len()));
            info.push(cx.member(ch.nodes[p]));
        }
    }
    members.sort_unstable_by(|x, y| info[x.1].id.cmp(&info[y.1].id));
    let mut of_class: Vec<Vec<usize>> = vec![Vec::new(); classes.len()];
    for &(c, m) in &members {
        of_class[c].push(m);
    }
    let mut next = vec![0usize; classes.len()];
    for &(c, m) in &members {
        next[c] += 1;
        for &b in &of_class[c][next[c]..] {
            out.push(cx.conflict(&info[m], &info[b]));
        }
    }

    let mut siblings: Vec<EventId> = maximal
        .iter()
        .map(|&p| cx.trace.id(o.arrival(ch.nodes[p])))
        .collect();
    siblings.sort_unstable();
    siblings
}

/// Splits a bucket of writes with equal hashes into the classes of equal vectors `f` (equal
/// up-sets), keeping those of two or more. Each member's vector is rebuilt exactly from the
/// landings (`on(p)`: the landings on position `p`) by replaying its chain from the end:
/// `f_t` is the index of the latest landing from `t` at or after the member, the chain's
/// length when there is none, and the own entry is the member's index + 1.
fn exact_classes<'l>(
    ch: &Chains,
    on: &impl Fn(usize) -> &'l [(u32, u32)],
    bucket: impl Iterator<Item = usize>,
    classes: &mut Vec<Vec<usize>>,
) {
    let k = ch.count();
    let mut vectors: Vec<(Vec<u32>, usize)> = bucket
        .map(|p| {
            let (r, j) = (ch.chain[p] as usize, ch.index(p));
            let mut f: Vec<u32> = (0..k).map(|t| ch.len(t)).collect();
            for q in (p..ch.pos(r, ch.len(r) - 1) + 1).rev() {
                for &(t, i) in on(q) {
                    f[t as usize] = i;
                }
            }
            f[r] = j + 1;
            (f, p)
        })
        .collect();
    vectors.sort_unstable();
    let mut i = 0;
    while i < vectors.len() {
        let j = i + vectors[i..]
            .iter()
            .take_while(|v| v.0 == vectors[i].0)
            .count();
        if j - i >= 2 {
            classes.push(vectors[i..j].iter().map(|v| v.1).collect());
        }
        i = j;
    }
}

/// Set-element conflicts: candidate pairs from the runs of `f` between an add chain and a
/// remove chain, kept when each side's own-role covers lie above the other (see the module
/// documentation).
fn element_conflicts<O: WriteOrder>(
    cx: &Ctx<O>,
    scratch: &mut Scratch,
    group: &[u32],
    out: &mut Vec<Conflict>,
) {
    let o = cx.o;
    let Some((ch, is_add)) = element_chains(cx, group) else {
        return; // conflicts pair an add with a remove
    };
    let covers = own_role_covers(o, &ch, scratch, &is_add);
    let pairs = candidate_pairs(o, &ch, &is_add);

    // Keep a candidate pair when O(a) ⊆ Up(b) and O(b) ⊆ Up(a), in (a, b) id order.
    let mut info: Vec<Option<Member>> = (0..ch.nodes.len()).map(|_| None).collect();
    let mut found: Vec<(usize, usize)> = Vec::new();
    for (pa, pb) in pairs {
        let (a, b) = (ch.nodes[pa], ch.nodes[pb]);
        if covers.of(pa).iter().all(|&y| o.hb(b, y)) && covers.of(pb).iter().all(|&y| o.hb(a, y)) {
            for p in [pa, pb] {
                if info[p].is_none() {
                    info[p] = Some(cx.member(ch.nodes[p]));
                }
            }
            found.push((pa, pb));
        }
    }
    let m = |p: usize| info[p].as_ref().expect("members of found pairs are made");
    let mut found: Vec<(&Member, &Member)> = found
        .into_iter()
        .map(|(pa, pb)| {
            let (x, y) = (m(pa), m(pb));
            if x.id < y.id {
                (x, y)
            } else {
                (y, x)
            }
        })
        .collect();
    found.sort_unstable_by(|x, y| (&x.0.id, &x.1.id).cmp(&(&y.0.id, &y.1.id)));
    out.extend(found.into_iter().map(|(a, b)| cx.conflict(a, b)));
}

/// The group's chains: per replica run, its adds, then its removes; with whether each chain
/// is of adds. None when all chains have one role (no add/remove pair can conflict).
fn element_chains<O: WriteOrder>(cx: &Ctx<O>, group: &[u32]) -> Option<(Chains, Vec<bool>)> {
    let o = cx.o;
    let op = |v: u32| cx.event(v).op;
    let mut nodes: Vec<u32> = Vec::with_capacity(group.len());
    let mut start: Vec<u32> = vec![0];
    let mut is_add: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < group.len() {
        let j = i + group[i..]
            .iter()
            .take_while(|&&v| o.replica(v) == o.replica(group[i]))
            .count();
        for want in [Op::Add, Op::Remove] {
            let before = nodes.len();
            nodes.extend(group[i..j].iter().copied().filter(|&v| op(v) == want));
            if nodes.len() > before {
                start.push(nodes.len() as u32);
                is_add.push(want == Op::Add);
            }
        }
        i = j;
    }
    if is_add.iter().all(|&a| a) || is_add.iter().all(|&a| !a) {
        return None;
    }
    Some((Chains::new(o, nodes, start), is_add))
}

/// Every write's own-role covers, by chain position.
struct Covers {
    start: Vec<u32>,
    nodes: Vec<u32>,
}

impl Covers {
    fn of(&self, p: usize) -> &[u32] {
        &self.nodes[self.start[p] as usize..self.start[p + 1] as usize]
    }
}

/// Own-role covers of every write: the minimal elements among its successor on its chain and
/// its landings from chains of its role. Candidates are taken in depth order (a linear
/// extension), so a candidate is minimal exactly when no cover found before it is below it.
fn own_role_covers(
    o: &impl WriteOrder,
    ch: &Chains,
    scratch: &mut Scratch,
    is_add: &[bool],
) -> Covers {
    let landings = ch.all_landings(o, scratch, |t, r| is_add[t] == is_add[r]);
    let mut cover_start: Vec<u32> = vec![0];
    let mut covers: Vec<u32> = Vec::new(); // nodes
    let mut cands: Vec<(u32, u32)> = Vec::new(); // (depth, position)
    for p in 0..ch.nodes.len() {
        cands.clear();
        let (c, j) = (ch.chain[p] as usize, ch.index(p));
        if j + 1 < ch.len(c) {
            let q = ch.pos(c, j + 1);
            cands.push((landings.depth[q], q as u32));
        }
        cands.extend(landings.on(p).iter().map(|&(t, i)| {
            let q = ch.pos(t as usize, i);
            (landings.depth[q], q as u32)
        }));
        cands.sort_unstable();
        let from = covers.len();
        for &(_, q) in &cands {
            let y = ch.nodes[q as usize];
            if !covers[from..].iter().any(|&m| o.hb(m, y)) {
                covers.push(y);
            }
        }
        cover_start.push(covers.len() as u32);
    }
    landings.recycle(scratch);
    Covers {
        start: cover_start,
        nodes: covers,
    }
}

/// Candidate pairs (remove a = write j of chain r, add b = write k of chain s) with
/// f_r(b) = j + 1 and f_s(a) = k + 1, as (position of a, position of b).
fn candidate_pairs(o: &impl WriteOrder, ch: &Chains, is_add: &[bool]) -> Vec<(usize, usize)> {
    let k = ch.count();
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let (mut phi, mut psi, mut stack) = (Vec::new(), Vec::new(), Vec::new());
    for r in (0..k).filter(|&r| !is_add[r]) {
        for s in (0..k).filter(|&s| is_add[s]) {
            if o.replica(ch.node(r, 0)) == o.replica(ch.node(s, 0)) {
                continue; // one replica's writes are all ordered
            }
            let (len_r, len_s) = (ch.len(r), ch.len(s));
            ch.landings(o, r, s, &mut phi, &mut stack); // f_r over s: runs of k
            ch.landings(o, s, r, &mut psi, &mut stack); // f_s over r
            let f_s = |j: u32| {
                let at = psi.partition_point(|&(v, _)| v < j + 1);
                psi.get(at).map_or(len_s, |&(_, i)| i)
            };
            let mut lo = 0u32;
            for m in 0..=phi.len() {
                // k in [lo, hi] has f_r(b_k) = value.
                let (hi_excl, value) = match phi.get(m) {
                    Some(&(v, i)) => (v, i),
                    None => (len_s, len_r),
                };
                if lo < hi_excl && value >= 1 {
                    let j = value - 1;
                    let fk = f_s(j);
                    if fk >= 1 && (lo..hi_excl).contains(&(fk - 1)) {
                        pairs.push((ch.pos(r, j), ch.pos(s, fk - 1)));
                    }
                }
                lo = hi_excl;
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use weft_trace::{ReadOptions, Trace};

    /// The engine's implied clocks, with replicas numbered by interned name and writes by
    /// arrival index.
    struct ByName<'a> {
        trace: &'a Trace,
        engine: &'a crate::Engine,
    }

    impl WriteOrder for ByName<'_> {
        fn replica(&self, v: u32) -> u32 {
            self.trace.events()[v as usize].replica
        }
        fn seq(&self, v: u32) -> u64 {
            self.trace.events()[v as usize].seq
        }
        fn seen(&self, y: u32, replica: u32) -> u64 {
            self.engine.implied_entry(y, replica)
        }
        fn arrival(&self, v: u32) -> usize {
            v as usize
        }
    }

    /// The same answers under other numbers, as another answerer may give them: node `v` is
    /// the base's `to_base[v]`, and replicas are numbered in the reverse of the base's order
    /// (spaced out). Only the required methods are given: the default `seen_of` and `hb` are
    /// used.
    struct Renumbered<'a> {
        base: ByName<'a>,
        to_base: Vec<u32>,
        replicas: u32,
    }

    impl WriteOrder for Renumbered<'_> {
        fn replica(&self, v: u32) -> u32 {
            (self.replicas - self.base.replica(self.to_base[v as usize])) * 7 + 3
        }
        fn seq(&self, v: u32) -> u64 {
            self.base.seq(self.to_base[v as usize])
        }
        fn seen(&self, y: u32, replica: u32) -> u64 {
            let base = self.replicas - (replica - 3) / 7;
            self.base.seen(self.to_base[y as usize], base)
        }
        fn arrival(&self, v: u32) -> usize {
            self.base.arrival(self.to_base[v as usize])
        }
    }

    /// A gossiping trace: `steps` of (replica, action, key/op, partner); writes to one or two
    /// keys (registers and two set elements), merges that name another replica's latest event
    /// as a parent (sometimes in the same event as a write).
    fn gossip(replicas: usize, steps: &[(u8, u8, u8, u8)]) -> String {
        let mut seq = vec![0u64; replicas];
        let mut text = String::new();
        for &(who, what, kop, pick) in steps {
            let r = who as usize % replicas;
            let o = (r + 1 + pick as usize % (replicas - 1)) % replicas;
            let merge = what % 4 >= 2 && seq[o] > 0;
            seq[r] += 1;
            let mut line = format!(r#"{{"replica":"n{r}","seq":{},"lamport":0"#, seq[r]);
            if merge {
                line += &format!(r#","parents":[["n{o}",{}]]"#, seq[o]);
            }
            if !merge || what % 4 == 3 {
                let key = kop % 2;
                line += &match kop / 2 % 4 {
                    0 | 1 => format!(r#","kind":"write","key":"k{key}","op":"set","value":1"#),
                    2 => format!(
                        r#","kind":"write","key":"k{key}","op":"add","value":{}"#,
                        pick % 2
                    ),
                    _ => format!(
                        r#","kind":"write","key":"k{key}","op":"remove","value":{}"#,
                        pick % 2
                    ),
                };
            }
            text += &line;
            text += "}\n";
        }
        text
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

        /// `key_conflicts` gives the same conflicts and siblings whatever the answerer's node and
        /// replica numbers: only ids order the output.
        #[test]
        fn numbering_does_not_matter(
            replicas in 3usize..=9,
            steps in prop::collection::vec(any::<(u8, u8, u8, u8)>(), 5..=60),
            shuffle in any::<u64>(),
        ) {
            let text = gossip(replicas, &steps);
            let trace = Trace::from_ndjson_str("t.jsonl", &text, &ReadOptions::default()).unwrap();
            let engine = crate::Engine::from_trace(trace.clone());
            prop_assume!(engine.implied_clock(0).is_some());
            let base = || ByName { trace: &trace, engine: &engine };
            let batch = base();
            // A permutation of the nodes (a multiplicative shuffle by an odd factor mod 2^k,
            // folded into range).
            let n = trace.len() as u32;
            let mut to_base: Vec<u32> = (0..n).collect();
            to_base.sort_by_key(|&v| (u64::from(v) | 1).wrapping_mul(shuffle | 1).rotate_left(17));
            let mut from_base = vec![0u32; n as usize];
            for (outer, &inner) in to_base.iter().enumerate() {
                from_base[inner as usize] = outer as u32;
            }
            let other = Renumbered { base: base(), to_base, replicas: trace.names().len() as u32 };

            let events = trace.events();
            let mut groups: std::collections::BTreeMap<(Sym, String), Vec<u32>> = Default::default();
            for v in 0..n {
                let e = &events[v as usize];
                if conflict_write(e) {
                    let el = if e.op == Op::Set { String::new() } else { trace.value(e).unwrap().to_string() };
                    groups.entry((e.key, el)).or_default().push(v);
                }
            }
            for ((key, el), nodes) in groups {
                let element: Option<Value> = (!el.is_empty()).then(|| serde_json::from_str(&el).unwrap());
                let (mut want, mut got) = (Vec::new(), Vec::new());
                let mut nodes = nodes;
                nodes.sort_by_key(|&v| (batch.replica(v), batch.seq(v)));
                let u_want = key_conflicts(&batch, &trace, key, element.as_ref(), &nodes, &mut want);
                let mut outer: Vec<u32> = nodes.iter().map(|&v| from_base[v as usize]).collect();
                outer.sort_by_key(|&v| (other.replica(v), other.seq(v)));
                let u_got = key_conflicts(&other, &trace, key, element.as_ref(), &outer, &mut got);
                sort_conflicts(&mut want);
                sort_conflicts(&mut got);
                prop_assert_eq!(&got, &want, "{}", text);
                prop_assert_eq!(u_got, u_want, "{}", text);
            }
        }
    }
}
