//! Where a model's events live: a recorded trace as read ([`Events::Whole`]), or a live model's
//! own copy of the engine's events ([`LiveEvents`]), appended in segments that snapshots share.
//! Separate because it is the only part of the model that knows how events are stored.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use weft_trace::vcenc::{self, VcIter};
use weft_trace::{EventRec, Sym, Trace, NONE};

use crate::pvec::PVec;

/// Where a model's events live: a recorded trace as read, or a live model's copy of the
/// engine's events, in chunks shared between snapshots.
#[derive(Clone)]
pub(crate) enum Events {
    Whole(Arc<Trace>),
    Live(LiveEvents),
}

/// Events copied from the engine's trace, appended as they arrive (never changed after).
#[derive(Clone, Default)]
pub(crate) struct LiveEvents {
    segs: Vec<Arc<Segment>>,
    len: usize,
    names: PVec<Arc<str>, 8>,
    name_ids: Arc<HashMap<Arc<str>, Sym>>,
    syms: PVec<Arc<str>>,
}

/// Up to `1 << SEG_SHIFT` consecutive events with their clocks, parents, values and attrs; the
/// records point into this segment's tables.
#[derive(Clone, Default)]
struct Segment {
    recs: Vec<EventRec>,
    vc: Vec<u8>,
    parents: Vec<(Sym, u64)>,
    values: Vec<Value>,
    attrs: Vec<Map<String, Value>>,
}

const SEG_SHIFT: u32 = 12;
const SEG_MASK: usize = (1 << SEG_SHIFT) - 1;

impl LiveEvents {
    /// Copies the strings `t` interned since the last call (both are append-only).
    pub(crate) fn sync_strings(&mut self, t: &Trace) -> bool {
        let names = t.names();
        let new_names = names.len() > self.names.len();
        if new_names {
            let ids = Arc::make_mut(&mut self.name_ids);
            for q in self.names.len()..names.len() {
                let s: Arc<str> = Arc::from(names.resolve(q as Sym));
                ids.insert(s.clone(), q as Sym);
                self.names.push(s);
            }
        }
        let syms = t.syms();
        for m in self.syms.len()..syms.len() {
            self.syms.push(Arc::from(syms.resolve(m as Sym)));
        }
        new_names
    }

    /// Copies event `i` of `t`, which must be the next one.
    pub(crate) fn push_from(&mut self, t: &Trace, i: usize) {
        debug_assert_eq!(i, self.len);
        if self.len & SEG_MASK == 0 {
            self.segs.push(Arc::new(Segment::default()));
        }
        let seg = Arc::make_mut(self.segs.last_mut().expect("a segment with room"));
        let e = &t.events()[i];
        let mut r = *e;
        r.vc_start = seg.vc.len() as u64;
        let entries: Vec<(Sym, u64)> = t.vc(e).collect();
        vcenc::encode(&entries, &mut seg.vc);
        r.vc_len = (seg.vc.len() as u64 - r.vc_start) as u32;
        r.parents_start = seg.parents.len() as u64;
        seg.parents.extend_from_slice(t.parents(e));
        if let Some(v) = t.value(e) {
            r.value = seg.values.len() as u32;
            seg.values.push(v.clone());
        }
        if let Some(a) = t.attrs(e) {
            r.attrs = seg.attrs.len() as u32;
            seg.attrs.push(a.clone());
        }
        seg.recs.push(r);
        self.len += 1;
    }

    fn seg(&self, n: u32) -> (&Segment, &EventRec) {
        let s = &self.segs[n as usize >> SEG_SHIFT];
        (s, &s.recs[n as usize & SEG_MASK])
    }
}

impl Events {
    pub(super) fn rec(&self, n: u32) -> &EventRec {
        match self {
            Events::Whole(t) => &t.events()[n as usize],
            Events::Live(l) => l.seg(n).1,
        }
    }

    pub(super) fn vc(&self, n: u32) -> VcIter<'_> {
        match self {
            Events::Whole(t) => t.vc(&t.events()[n as usize]),
            Events::Live(l) => {
                let (s, r) = l.seg(n);
                let start = r.vc_start as usize;
                VcIter::new(&s.vc[start..start + r.vc_len as usize])
            }
        }
    }

    pub(super) fn parents(&self, n: u32) -> &[(Sym, u64)] {
        match self {
            Events::Whole(t) => t.parents(&t.events()[n as usize]),
            Events::Live(l) => {
                let (s, r) = l.seg(n);
                let start = r.parents_start as usize;
                &s.parents[start..start + r.parents_len as usize]
            }
        }
    }

    pub(super) fn value(&self, n: u32) -> Option<&Value> {
        match self {
            Events::Whole(t) => t.value(&t.events()[n as usize]),
            Events::Live(l) => {
                let (s, r) = l.seg(n);
                (r.value != NONE).then(|| &s.values[r.value as usize])
            }
        }
    }

    pub(super) fn attrs(&self, n: u32) -> Option<&Map<String, Value>> {
        match self {
            Events::Whole(t) => t.attrs(&t.events()[n as usize]),
            Events::Live(l) => {
                let (s, r) = l.seg(n);
                (r.attrs != NONE).then(|| &s.attrs[r.attrs as usize])
            }
        }
    }

    pub(super) fn name(&self, q: Sym) -> &str {
        match self {
            Events::Whole(t) => t.names().resolve(q),
            Events::Live(l) => &l.names[q as usize],
        }
    }

    pub(super) fn name_id(&self, name: &str) -> Option<Sym> {
        match self {
            Events::Whole(t) => t.names().get(name),
            Events::Live(l) => l.name_ids.get(name).copied(),
        }
    }

    pub(super) fn sym(&self, m: Sym) -> &str {
        match self {
            Events::Whole(t) => t.syms().resolve(m),
            Events::Live(l) => &l.syms[m as usize],
        }
    }
}
