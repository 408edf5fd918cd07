//! The SIMD fast path of [`Parser::parse`]: simd-json (with its run-time choice of AVX2, SSE4.2
//! or scalar code, so one binary runs fast on any x86-64) turns the line into a tape, and a walk
//! over the tape fills the same [`super::Scratch`], with the same interning and the same
//! fingerprint, as the serde visitor of `parse.rs` would.
//!
//! The walk accepts only what it can decide exactly as the serde path does: a well-formed
//! event object whose every field has the type the spec asks for. Anything else — a syntax error,
//! a rule broken, a repeated field, a header, a float, `-0`,
//! deep nesting, serde_json's raw-value marker key — makes it give up, and the caller parses
//! the line again with the serde path, which accepts it or explains why not with the located
//! messages the tests pin. So the fast path changes speed only: never which lines are accepted,
//! the events they become, their fingerprints or a message. `tests.rs` checks that on random
//! and hostile lines.

use serde_json::{Map, Number, Value};
use simd_json::{Buffers, Node, StaticNode, Tape};

use super::{
    field_of, h2, hash_str, hash_value, Field, Parser, Scratch, MAX_REPLICA_BYTES, NULL_HASH,
};
use crate::intern::LocalInterner;
use crate::model::{Crdt, Kind, Op};

#[cfg(test)]
mod tests;

/// Deepest nesting of a `value`, `attrs` or unknown field the fast path converts; deeper goes
/// to the serde path (serde_json stops at 128 levels, and its message must be the one given).
const MAX_DEPTH: usize = 64;

/// The key serde_json (with its `raw_value` feature) treats as a raw value marker rather than
/// an ordinary key when it builds a `Value`: left to the serde path.
const RAW_VALUE_KEY: &str = "$serde_json::private::RawValue";

/// Buffers reused from line to line: the padded copy of the line simd-json parses in place
/// (it unescapes strings in it), its stage buffers and the tape's allocation.
pub(super) struct Fast {
    buf: Vec<u8>,
    buffers: Buffers,
    tape: Tape<'static>,
}

impl Default for Fast {
    fn default() -> Self {
        Fast {
            buf: Vec::new(),
            // Nesting past this fails the tape (and goes to the serde path) before the walk.
            buffers: Buffers::with_max_depth(4096, MAX_DEPTH + 2),
            tape: Tape(Vec::new()),
        }
    }
}

/// Fills `p.ev` (which the caller has reset) from `line` when the fast path can decide the line;
/// `false` when it cannot, leaving `p.ev` to be reset and the line to the serde path.
pub(super) fn fill(p: &mut Parser, line: &[u8]) -> bool {
    let Parser {
        names,
        syms,
        ev,
        prev_vc_ids,
        cur_vc_ids,
        fast,
    } = p;
    let Fast { buf, buffers, tape } = fast;
    buf.clear();
    buf.extend_from_slice(line);
    buf.resize(line.len() + simd_json::INPUT_PADDING, 0);
    let mut t = std::mem::replace(tape, Tape(Vec::new())).reset();
    let ok = simd_json::fill_tape_padded(buf, line.len(), buffers, &mut t).is_ok() && {
        let mut w = Walk {
            t: &t.0,
            at: 0,
            names,
            syms,
            ev,
            prev_vc_ids,
            cur_vc_ids,
        };
        w.event().is_some()
    };
    *tape = t.reset();
    ok
}

/// The walk over one line's tape. Every method returns `None` to give the line up.
struct Walk<'t, 'a> {
    t: &'t [Node<'t>],
    at: usize,
    names: &'a mut LocalInterner,
    syms: &'a mut LocalInterner,
    ev: &'a mut Scratch,
    prev_vc_ids: &'a mut Vec<crate::intern::Sym>,
    cur_vc_ids: &'a mut Vec<crate::intern::Sym>,
}

impl<'t> Walk<'t, '_> {
    #[inline]
    fn next(&mut self) -> Option<Node<'t>> {
        let n = *self.t.get(self.at)?;
        self.at += 1;
        Some(n)
    }

    /// A string node.
    #[inline]
    fn string(&mut self) -> Option<&'t str> {
        match self.next()? {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// A string, or `None` inside for `null`.
    #[inline]
    fn opt_string(&mut self) -> Option<Option<&'t str>> {
        if let Some(Node::Static(StaticNode::Null)) = self.t.get(self.at) {
            self.at += 1;
            return Some(None);
        }
        self.string().map(Some)
    }

    /// The line: an object of event fields, the whole tape.
    fn event(&mut self) -> Option<()> {
        let Node::Object { len, .. } = self.next()? else {
            return None;
        };
        for _ in 0..len {
            let name = self.string()?;
            match field_of(name) {
                Some(field) => self.field(field)?,
                None => {
                    let h = hash_str(name);
                    if self.ev.unknown.contains(&h) {
                        return None;
                    }
                    self.ev.unknown.push(h);
                    let v = self.value(1)?;
                    self.ev.add_hash(h, hash_value(&v));
                }
            }
        }
        // A header (format without replica) is built by the serde path from the line.
        (self.at == self.t.len() && self.ev.replica.is_some()).then_some(())
    }

    /// One known field, as the serde visitor of `parse.rs` reads it.
    fn field(&mut self, field: Field) -> Option<()> {
        let bit = 1u32 << field as u32;
        if self.ev.seen & bit != 0 {
            return None;
        }
        self.ev.seen |= bit;
        let tag = field as u64;
        match field {
            Field::Replica => {
                let s = self.string()?;
                if s.is_empty() || s.len() > MAX_REPLICA_BYTES {
                    return None;
                }
                let id = self.names.intern(s);
                self.ev.replica = Some(id);
                self.ev.add_hash(tag, self.names.content_hash(id));
            }
            Field::Seq => {
                let v = self.uint().filter(|&v| v >= 1)?;
                self.ev.seq = Some(v);
                self.ev.add_hash(tag, v);
            }
            Field::Lamport => {
                let v = if self.null() {
                    None
                } else {
                    Some(self.uint()?)
                };
                self.ev.lamport = v;
                self.ev.add_hash(tag, v.map_or(NULL_HASH, |v| h2(4, v)));
            }
            Field::WallNs => {
                let v = match self.next()? {
                    Node::Static(StaticNode::Null) => None,
                    Node::Static(StaticNode::U64(u)) => Some(i64::try_from(u).ok()?),
                    Node::Static(StaticNode::I64(i)) if i != 0 => Some(i),
                    _ => return None,
                };
                self.ev.wall_ns = v;
                self.ev
                    .add_hash(tag, v.map_or(NULL_HASH, |v| h2(5, v as u64)));
            }
            Field::Kind | Field::Op | Field::Format => {
                let s = self.opt_string()?;
                self.ev.add_hash(tag, s.map_or(NULL_HASH, hash_str));
                match (field, s) {
                    (_, None) => {}
                    (Field::Kind, Some(s)) => self.ev.kind = Some(Kind::parse(s)?),
                    (Field::Op, Some(s)) => self.ev.op = Some(Op::parse(s)?),
                    (_, Some(s)) => self.ev.format = Some(s.to_owned()),
                }
            }
            Field::Msg | Field::Key => {
                let id = self.opt_string()?.map(|s| self.syms.intern(s));
                self.ev.add_hash(
                    tag,
                    id.map_or(NULL_HASH, |id| h2(7, self.syms.content_hash(id))),
                );
                if field == Field::Msg {
                    self.ev.msg = id;
                } else {
                    self.ev.key = id;
                }
            }
            Field::Vc => self.vc()?,
            Field::Parents => self.parents()?,
            Field::Value => {
                let v = self.value(1)?;
                self.ev.add_hash(tag, hash_value(&v));
                self.ev.value = Some(v);
            }
            Field::Crdt => {
                // Only what the serde path accepts without a word; an unknown type's message
                // is the serde path's to write.
                let v = self.value(1)?;
                self.ev.add_hash(tag, hash_value(&v));
                match &v {
                    Value::Null => {}
                    Value::String(s) => self.ev.crdt = Some(Crdt::parse(s)?),
                    _ => return None,
                }
            }
            Field::Attrs => {
                let v = self.value(1)?;
                self.ev.add_hash(tag, hash_value(&v));
                match v {
                    Value::Object(m) => self.ev.attrs = Some(m),
                    Value::Null => {}
                    _ => return None,
                }
            }
        }
        Some(())
    }

    /// Consumes a `null` if one is next.
    #[inline]
    fn null(&mut self) -> bool {
        let is = matches!(self.t.get(self.at), Some(Node::Static(StaticNode::Null)));
        self.at += usize::from(is);
        is
    }

    /// A non-negative integer (simd-json gives non-negative integers as `U64`; its `I64(0)` is
    /// `-0`, which serde_json reads as a float).
    #[inline]
    fn uint(&mut self) -> Option<u64> {
        match self.next()? {
            Node::Static(StaticNode::U64(u)) => Some(u),
            _ => None,
        }
    }

    /// The `vc` object, interned with the previous line's names as guesses, as `VcSeed` does.
    fn vc(&mut self) -> Option<()> {
        self.cur_vc_ids.clear();
        if self.null() {
            self.ev.add_hash(Field::Vc as u64, NULL_HASH);
            return Some(());
        }
        let Node::Object { len, .. } = self.next()? else {
            return None;
        };
        for i in 0..len {
            let name = self.string()?;
            let q = match self.prev_vc_ids.get(i) {
                Some(&g) if self.names.resolve(g) == name => g,
                _ => {
                    if name.is_empty() || name.len() > MAX_REPLICA_BYTES {
                        return None;
                    }
                    self.names.intern(name)
                }
            };
            let v = self.uint()?;
            self.cur_vc_ids.push(q);
            self.ev.vc.push((q, v));
        }
        std::mem::swap(self.prev_vc_ids, self.cur_vc_ids);
        let names = &*self.names;
        let h = self.ev.vc.iter().fold(0u64, |acc, &(q, v)| {
            acc.wrapping_add(h2(names.content_hash(q), v))
        });
        self.ev.has_vc = true;
        self.ev.add_hash(Field::Vc as u64, h2(9, h));
        Some(())
    }

    /// The `parents` array of `[replica, seq]` pairs.
    fn parents(&mut self) -> Option<()> {
        if self.null() {
            self.ev.add_hash(Field::Parents as u64, NULL_HASH);
            return Some(());
        }
        let Node::Array { len, .. } = self.next()? else {
            return None;
        };
        for _ in 0..len {
            let Node::Array { len: 2, .. } = self.next()? else {
                return None;
            };
            let r = self.string()?;
            if r.is_empty() || r.len() > MAX_REPLICA_BYTES {
                return None;
            }
            let s = self.uint().filter(|&s| s >= 1)?;
            let q = self.names.intern(r);
            self.ev.parents.push((q, s));
        }
        self.ev.has_parents = true;
        let names = &*self.names;
        let h = self
            .ev
            .parents
            .iter()
            .fold(h2(8, self.ev.parents.len() as u64), |acc, &(q, s)| {
                h2(acc, h2(names.content_hash(q), s))
            });
        self.ev.add_hash(Field::Parents as u64, h);
        Some(())
    }

    /// Any JSON value as a `serde_json::Value`, equal to the one serde_json would build; at
    /// nesting `depth` (the line's object is 0).
    fn value(&mut self, depth: usize) -> Option<Value> {
        Some(match self.next()? {
            Node::Static(StaticNode::Null) => Value::Null,
            Node::Static(StaticNode::Bool(b)) => Value::Bool(b),
            Node::Static(StaticNode::U64(u)) => Value::Number(Number::from(u)),
            Node::Static(StaticNode::I64(i)) if i != 0 => Value::Number(Number::from(i)),
            // Floats (whose exact reading is serde_json's to give) and `-0`.
            Node::Static(_) => return None,
            Node::String(_) => {
                self.at -= 1;
                Value::String(self.string()?.to_owned())
            }
            Node::Array { len, .. } => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                let mut a = Vec::with_capacity(len);
                for _ in 0..len {
                    a.push(self.value(depth + 1)?);
                }
                Value::Array(a)
            }
            Node::Object { len, .. } => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                let mut m = Map::new();
                for _ in 0..len {
                    let k = self.string()?;
                    if k == RAW_VALUE_KEY {
                        return None;
                    }
                    let v = self.value(depth + 1)?;
                    // Last copy of a repeated key wins, as in serde_json's `Value`.
                    m.insert(k.to_owned(), v);
                }
                Value::Object(m)
            }
        })
    }
}
