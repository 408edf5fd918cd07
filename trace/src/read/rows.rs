//! Events given field by field instead of as JSON lines: the path by which a columnar reader
//! (Parquet, [`crate::parquet`]) adds events to a [`TraceBuilder`] without any JSON text.
//!
//! The rules are the line parser's (`parse.rs`): the same cross-field checks and messages, the
//! same canonical clock (sorted, zero entries dropped, a replica named twice refused), and a
//! fingerprint computed over the same terms, so that a row and the NDJSON line written for it
//! hash alike and the duplicate rule treats copies from either kind of input the same way.

use serde_json::{Map, Value};

use super::{ReadError, TraceBuilder};
use crate::hash::{h2, hash_str, hash_value};
use crate::intern::{LocalInterner, Sym};
use crate::model::{Crdt, Header, Kind, Op};
use crate::store::{push_opt, EventRec, Malformed, Place, NONE};
use crate::vcenc;

/// One event's fields, typed and interned, reused from row to row. A reader fills it (having
/// checked each value on its own), then [`TraceBuilder::push_fields`] checks the rules that
/// involve several fields and admits the event.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub replica: Sym,
    pub seq: u64,
    pub kind: Kind,
    pub lamport: Option<u64>,
    pub wall_ns: Option<i64>,
    pub has_vc: bool,
    /// `vc` entries in any order; sorted and checked by [`Fields::check`].
    pub vc: Vec<(Sym, u64)>,
    pub has_parents: bool,
    pub parents: Vec<(Sym, u64)>,
    pub msg: Option<Sym>,
    pub key: Option<Sym>,
    pub op: Option<Op>,
    /// The `crdt` column: a type, or the text that names none (an error on writes and reads
    /// only, as for a line).
    pub crdt: Option<Result<Crdt, String>>,
    pub value: Option<Value>,
    pub attrs: Option<Map<String, Value>>,
}

impl Fields {
    /// Empties every field for the next row (keeping the vectors' room).
    pub fn clear(&mut self) {
        let (mut vc, mut parents) = (
            std::mem::take(&mut self.vc),
            std::mem::take(&mut self.parents),
        );
        vc.clear();
        parents.clear();
        *self = Fields {
            vc,
            parents,
            ..Fields::default()
        };
    }

    /// [`Fields::check`], then the fingerprint of the checked event: what a row needs before
    /// the duplicate rule, on whichever thread decoded it.
    pub(crate) fn checked(
        &mut self,
        names: &LocalInterner,
        syms: &LocalInterner,
    ) -> Result<(Option<Crdt>, u64), String> {
        let crdt = self.check(names)?;
        Ok((crdt, self.fingerprint(crdt, names, syms)))
    }

    /// The rules that involve more than one field, as `Parser::parse` applies them, with its
    /// messages; on success the clock is canonical (sorted by name id, no zero entries) and a
    /// `crdt` on a kind other than write and read is dropped (ignored there).
    fn check(&mut self, names: &LocalInterner) -> Result<Option<Crdt>, String> {
        let kind = self.kind;
        match kind {
            Kind::Send | Kind::Recv if self.msg.is_none() => {
                return Err(format!("a `{}` needs a `msg` field", kind.as_str()));
            }
            Kind::Write | Kind::Read if self.key.is_none() => {
                return Err(format!("a `{}` needs a `key` field", kind.as_str()));
            }
            _ => {}
        }
        let crdt = match self.crdt.take() {
            Some(Err(why)) if matches!(kind, Kind::Write | Kind::Read) => {
                return Err(format!(
                    "field `crdt`: {why} (expected lww, mv, counter or set)"
                ));
            }
            Some(Ok(c)) if matches!(kind, Kind::Write | Kind::Read) => Some(c),
            _ => None,
        };
        if self.has_vc {
            self.vc.sort_unstable_by_key(|&(q, _)| q);
            if let Some(twice) = self
                .vc
                .windows(2)
                .filter(|w| w[0].0 == w[1].0)
                .map(|w| names.resolve(w[0].0))
                .min()
            {
                return Err(format!("field `vc`: replica {twice:?} appears twice"));
            }
            self.vc.retain(|&(_, v)| v != 0);
        }
        Ok(crdt)
    }

    /// The fingerprint of the NDJSON line `NdjsonWriter` writes for this event (absent fields
    /// left out, `kind` left out when local): the sum of one term per field, each the term the
    /// line parser adds for that field and value.
    fn fingerprint(&self, crdt: Option<Crdt>, names: &LocalInterner, syms: &LocalInterner) -> u64 {
        // Field tags: the line parser's `Field` numbering.
        const REPLICA: u64 = 1;
        const SEQ: u64 = 2;
        const KIND: u64 = 3;
        const LAMPORT: u64 = 4;
        const VC: u64 = 5;
        const WALL_NS: u64 = 6;
        const PARENTS: u64 = 7;
        const MSG: u64 = 8;
        const KEY: u64 = 9;
        const OP: u64 = 10;
        const VALUE: u64 = 11;
        const ATTRS: u64 = 12;
        const CRDT: u64 = 14;
        let mut fp = h2(REPLICA, names.content_hash(self.replica));
        fp = fp.wrapping_add(h2(SEQ, self.seq));
        if self.kind != Kind::Local {
            fp = fp.wrapping_add(h2(KIND, hash_str(self.kind.as_str())));
        }
        if let Some(l) = self.lamport {
            fp = fp.wrapping_add(h2(LAMPORT, h2(4, l)));
        }
        if let Some(w) = self.wall_ns {
            fp = fp.wrapping_add(h2(WALL_NS, h2(5, w as u64)));
        }
        if self.has_vc {
            let h = self.vc.iter().fold(0u64, |acc, &(q, v)| {
                acc.wrapping_add(h2(names.content_hash(q), v))
            });
            fp = fp.wrapping_add(h2(VC, h2(9, h)));
        }
        if self.has_parents {
            let h = self
                .parents
                .iter()
                .fold(h2(8, self.parents.len() as u64), |acc, &(q, s)| {
                    h2(acc, h2(names.content_hash(q), s))
                });
            fp = fp.wrapping_add(h2(PARENTS, h));
        }
        for (tag, sym) in [(MSG, self.msg), (KEY, self.key)] {
            if let Some(m) = sym {
                fp = fp.wrapping_add(h2(tag, h2(7, syms.content_hash(m))));
            }
        }
        if let Some(op) = self.op {
            fp = fp.wrapping_add(h2(OP, hash_str(op.as_str())));
        }
        if let Some(v) = &self.value {
            fp = fp.wrapping_add(h2(VALUE, hash_value(v)));
        }
        if let Some(c) = crdt {
            fp = fp.wrapping_add(h2(CRDT, h2(7, hash_str(c.as_str()))));
        }
        if let Some(a) = &self.attrs {
            // `hash_value` of the object, without cloning it into a `Value`.
            let h = a.iter().fold(0u64, |acc, (k, v)| {
                acc.wrapping_add(h2(hash_str(k), hash_value(v)))
            });
            fp = fp.wrapping_add(h2(ATTRS, h2(9, h)));
        }
        fp
    }
}

/// Where a columnar reader's rows go: a [`TraceBuilder`], or anything else that wants checked
/// rows (the search for dropped copies when a trace is exported).
pub(crate) trait RowSink {
    /// Starts reading `input` row by row.
    fn start(&mut self, input: &str);

    /// The interners rows are interned with: replica names, then message ids and keys.
    fn interners(&mut self) -> (&mut LocalInterner, &mut LocalInterner);

    /// A header read from `input`'s metadata (as a header line would be).
    fn header(&mut self, input: &str, fields: Map<String, Value>);

    /// Row `row` (1-based) of `input`: the event in `fields`, or a row the reader refused.
    fn row(
        &mut self,
        input: &str,
        row: u64,
        fields: Result<&mut Fields, String>,
    ) -> Result<(), ReadError>;
}

impl RowSink for TraceBuilder {
    fn start(&mut self, input: &str) {
        // Named in `ReadError::Empty`.
        self.inputs.push(input.to_string());
    }

    fn interners(&mut self) -> (&mut LocalInterner, &mut LocalInterner) {
        (&mut self.parser.names, &mut self.parser.syms)
    }

    fn header(&mut self, input: &str, fields: Map<String, Value>) {
        self.trace.headers.push(Header {
            source: input.to_string(),
            fields,
        });
    }

    fn row(
        &mut self,
        input: &str,
        row: u64,
        fields: Result<&mut Fields, String>,
    ) -> Result<(), ReadError> {
        self.push_fields(input, row, fields)
    }
}

impl Fields {
    /// The checked event's record, its clock, parents, value and attrs appended to the given
    /// tables (a trace's or a shard's; the value and attrs are moved out): what a row becomes,
    /// wherever it is stored.
    pub(crate) fn store(
        &mut self,
        crdt: Option<Crdt>,
        vc_arena: &mut Vec<u8>,
        parents: &mut Vec<(Sym, u64)>,
        values: &mut Vec<Value>,
        attrs: &mut Vec<Map<String, Value>>,
    ) -> EventRec {
        let flags = EventRec::flags_for([
            self.lamport.is_some(),
            self.wall_ns.is_some(),
            self.has_vc,
            self.has_parents,
            self.op.is_some(),
        ]);
        let vc_start = vc_arena.len() as u64;
        vcenc::encode(&self.vc, vc_arena);
        let parents_start = parents.len() as u64;
        parents.extend_from_slice(&self.parents);
        let value = push_opt(values, self.value.take());
        let attrs = push_opt(attrs, self.attrs.take());
        EventRec {
            replica: self.replica,
            kind: self.kind,
            op: self.op.unwrap_or_default(),
            crdt,
            flags,
            seq: self.seq,
            lamport: self.lamport.unwrap_or(0),
            wall_ns: self.wall_ns.unwrap_or(0),
            msg: self.msg.unwrap_or(NONE),
            key: self.key.unwrap_or(NONE),
            value,
            attrs,
            vc_start,
            vc_len: (vc_arena.len() as u64 - vc_start) as u32,
            parents_len: self.parents.len() as u32,
            parents_start,
        }
    }

    /// The checked event as an owned [`crate::Event`] (as the trace would keep it; its value
    /// and attrs are moved out), or why it breaks a rule of several fields.
    pub fn take_event(
        &mut self,
        names: &LocalInterner,
        syms: &LocalInterner,
    ) -> Result<crate::Event, String> {
        let crdt = self.check(names)?;
        Ok(crate::Event {
            replica: names.resolve(self.replica).to_string(),
            seq: self.seq,
            kind: self.kind,
            lamport: self.lamport,
            vc: self.has_vc.then(|| {
                (self.vc.iter())
                    .map(|&(q, v)| (names.resolve(q).to_string(), v))
                    .collect()
            }),
            wall_ns: self.wall_ns,
            parents: self.has_parents.then(|| {
                (self.parents.iter())
                    .map(|&(q, s)| crate::EventId::new(names.resolve(q), s))
                    .collect()
            }),
            msg: self.msg.map(|m| syms.resolve(m).to_string()),
            key: self.key.map(|k| syms.resolve(k).to_string()),
            op: self.op,
            value: self.value.take(),
            crdt,
            attrs: self.attrs.take(),
        })
    }
}

impl TraceBuilder {
    /// Adds row `row` (1-based) of `input`: the event in `fields`, or a row a reader refused
    /// with `Err(reason)`. A refused row, or one that breaks a rule of several fields, is
    /// recorded as malformed in lenient mode and is the error otherwise, named
    /// `input:row N: reason`; an event goes through the duplicate rule like a line's.
    pub(crate) fn push_fields(
        &mut self,
        input: &str,
        row: u64,
        fields: Result<&mut Fields, String>,
    ) -> Result<(), ReadError> {
        let checked = fields.and_then(|f| {
            let (crdt, fp) = f.checked(&self.parser.names, &self.parser.syms)?;
            Ok((f, crdt, fp))
        });
        let (f, crdt, fp) = match checked {
            Ok(ok) => ok,
            Err(reason) => {
                let bad = || Malformed {
                    source: input.to_string(),
                    line: row,
                    column: None,
                    reason,
                    place: Place::Row,
                };
                if self.opts.lenient {
                    self.trace.note_malformed(bad);
                    return Ok(());
                }
                return Err(ReadError::Malformed(bad()));
            }
        };
        self.trace.admit(f.replica, f.seq, fp, |t| {
            f.store(
                crdt,
                &mut t.vc_arena,
                &mut t.parents,
                &mut t.values,
                &mut t.attrs,
            )
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, EventId, LineChecker, ReadOptions};

    /// Events covering every field, written as NDJSON lines: the fingerprint of the line (as
    /// the line checker computes it) equals the one computed from the same event's fields.
    #[test]
    fn row_and_line_fingerprints_agree() {
        let mut attrs = Map::new();
        attrs.insert("host".into(), "h1".into());
        attrs.insert("n".into(), serde_json::json!([1, 2.5, {"x": null}]));
        let events = vec![
            Event {
                replica: "a".into(),
                seq: 1,
                ..Event::default()
            },
            Event {
                replica: "b".into(),
                seq: 7,
                kind: Kind::Write,
                lamport: Some(3),
                vc: Some([("a".to_string(), 2), ("b".to_string(), 7)].into()),
                wall_ns: Some(-5),
                parents: Some(vec![EventId::new("a", 2), EventId::new("b", 6)]),
                key: Some("k".into()),
                op: Some(Op::Inc),
                value: Some(Value::Null),
                crdt: Some(Crdt::Counter),
                attrs: Some(attrs),
                ..Event::default()
            },
            Event {
                replica: "c".into(),
                seq: 2,
                kind: Kind::Send,
                vc: Some(Default::default()),
                parents: Some(vec![]),
                msg: Some("m".into()),
                value: Some(serde_json::json!({"z": 1, "a": [true]})),
                ..Event::default()
            },
        ];
        for e in events {
            let line = serde_json::to_string(&e).unwrap();
            let Ok(crate::CheckedLine::Event { fingerprint, .. }) =
                LineChecker::new().check(line.as_bytes())
            else {
                panic!("{line}: not an event");
            };
            let mut b = TraceBuilder::new(ReadOptions::default());
            let (names, syms) = b.interners();
            let mut f = Fields {
                replica: names.intern(&e.replica),
                seq: e.seq,
                kind: e.kind,
                lamport: e.lamport,
                wall_ns: e.wall_ns,
                has_vc: e.vc.is_some(),
                vc: e
                    .vc
                    .iter()
                    .flatten()
                    .map(|(q, &v)| (names.intern(q), v))
                    .collect(),
                has_parents: e.parents.is_some(),
                parents: (e.parents.iter().flatten())
                    .map(|p| (names.intern(&p.replica), p.seq))
                    .collect(),
                msg: e.msg.as_deref().map(|m| syms.intern(m)),
                key: e.key.as_deref().map(|k| syms.intern(k)),
                op: e.op,
                crdt: e.crdt.map(Ok),
                value: e.value.clone(),
                attrs: e.attrs.clone(),
            };
            let crdt = f.check(&b.parser.names).unwrap();
            assert_eq!(
                f.fingerprint(crdt, &b.parser.names, &b.parser.syms),
                fingerprint,
                "{line}"
            );
        }
    }

    /// A row breaking a rule of several fields is refused with the line parser's message,
    /// located by row; in lenient mode it is recorded and skipped.
    #[test]
    fn cross_field_rules_name_the_row() {
        for lenient in [false, true] {
            let mut b = TraceBuilder::new(ReadOptions {
                lenient,
                ..ReadOptions::default()
            });
            b.start("t.parquet");
            let (names, _) = b.interners();
            let a = names.intern("a");
            let mut f = Fields {
                replica: a,
                seq: 1,
                kind: Kind::Send,
                ..Fields::default()
            };
            let res = b.push_fields("t.parquet", 3, Ok(&mut f));
            let mut f = Fields {
                replica: a,
                seq: 2,
                has_vc: true,
                vc: vec![(a, 1), (a, 2)],
                ..Fields::default()
            };
            let res2 = b.push_fields("t.parquet", 4, Ok(&mut f));
            if lenient {
                assert!(res.is_ok() && res2.is_ok());
                let t = b.finish_batch();
                let shown: Vec<String> = t.malformed().iter().map(|m| m.to_string()).collect();
                assert_eq!(
                    shown,
                    [
                        "t.parquet:row 3: a `send` needs a `msg` field",
                        "t.parquet:row 4: field `vc`: replica \"a\" appears twice"
                    ]
                );
            } else {
                assert_eq!(
                    res.unwrap_err().to_string(),
                    "t.parquet:row 3: a `send` needs a `msg` field"
                );
            }
        }
    }
}
