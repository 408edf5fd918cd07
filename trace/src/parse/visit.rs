//! The serde visitor of a line's object: each known field checked by the spec's rules and
//! folded into the fingerprint, unknown fields hashed, repeated keys refused. Separate from
//! the seeds that decode single values and from the parser that drives it.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde_json::Value;

use super::seeds::{IntSeed, OwnedStrSeed, ParentsSeed, StrSeed, UIntSeed, VcSeed};
use super::{
    h2, hash_str, hash_value, json_type, Field, FieldName, FieldNameSeed, Parser, FIELDS,
    MAX_REPLICA_BYTES, NULL_HASH,
};
use crate::model::{Crdt, Kind, Op};

pub(super) struct LineVisitor<'p> {
    pub(super) p: &'p mut Parser,
}

impl<'de> Visitor<'de> for LineVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let p = self.p;
        while let Some(name) = map.next_key_seed(FieldNameSeed)? {
            let field = match name {
                FieldName::Known(f) => f,
                FieldName::Unknown(h, name) => {
                    // A repeated key makes "equal as JSON values" ill-defined (readers keep
                    // the last or the first copy): reject it, as for known fields.
                    if p.ev.unknown.contains(&h) {
                        return Err(de::Error::custom(format!("field `{name}` appears twice")));
                    }
                    p.ev.unknown.push(h);
                    let v: Value = map.next_value()?;
                    p.ev.add_hash(h, hash_value(&v));
                    continue;
                }
            };
            let bit = 1u32 << field as u32;
            if p.ev.seen & bit != 0 {
                return Err(de::Error::custom(format!(
                    "field `{}` appears twice",
                    FIELDS[field as usize - 1].0
                )));
            }
            p.ev.seen |= bit;
            let tag = field as u64;
            match field {
                Field::Replica => {
                    let id = map.next_value_seed(StrSeed {
                        field: "replica",
                        interner: &mut p.names,
                        max: MAX_REPLICA_BYTES,
                    })?;
                    let id = id.ok_or_else(|| {
                        de::Error::custom("field `replica`: must be a string, got null")
                    })?;
                    p.ev.replica = Some(id);
                    p.ev.add_hash(tag, p.names.content_hash(id));
                }
                Field::Seq => {
                    let v = map.next_value_seed(UIntSeed {
                        field: "seq",
                        min: 1,
                        entry: None,
                    })?;
                    let v = v.ok_or_else(|| {
                        de::Error::custom("field `seq`: must be an integer ≥ 1, got null")
                    })?;
                    p.ev.seq = Some(v);
                    p.ev.add_hash(tag, v);
                }
                Field::Lamport => {
                    let v = map.next_value_seed(UIntSeed {
                        field: "lamport",
                        min: 0,
                        entry: None,
                    })?;
                    p.ev.lamport = v;
                    p.ev.add_hash(tag, v.map_or(NULL_HASH, |v| h2(4, v)));
                }
                Field::WallNs => {
                    let v = map.next_value_seed(IntSeed { field: "wall_ns" })?;
                    p.ev.wall_ns = v;
                    p.ev.add_hash(tag, v.map_or(NULL_HASH, |v| h2(5, v as u64)));
                }
                Field::Kind | Field::Op | Field::Format => named_field(p, &mut map, field, tag)?,
                Field::Msg | Field::Key => {
                    let id = map.next_value_seed(StrSeed {
                        field: FIELDS[field as usize - 1].0,
                        interner: &mut p.syms,
                        max: usize::MAX,
                    })?;
                    p.ev.add_hash(
                        tag,
                        id.map_or(NULL_HASH, |id| h2(7, p.syms.content_hash(id))),
                    );
                    if field == Field::Msg {
                        p.ev.msg = id;
                    } else {
                        p.ev.key = id;
                    }
                }
                Field::Vc => vc_field(p, &mut map, tag)?,
                Field::Parents => parents_field(p, &mut map, tag)?,
                Field::Value => {
                    // An explicit null is kept: for a read it is what the read returned.
                    p.ev.value = Some(json_value(p, &mut map, tag)?);
                }
                Field::Crdt => {
                    let v = json_value(p, &mut map, tag)?;
                    crdt_field(p, &v);
                }
                Field::Attrs => {
                    let v = json_value(p, &mut map, tag)?;
                    attrs_field(p, v).map_err(de::Error::custom)?;
                }
            }
        }
        Ok(())
    }
}

/// The value of `kind`, `op` or `format`: a name, checked against the known ones (`format`
/// kept as written).
fn named_field<'de, A: MapAccess<'de>>(
    p: &mut Parser,
    map: &mut A,
    field: Field,
    tag: u64,
) -> Result<(), A::Error> {
    let s = map.next_value_seed(OwnedStrSeed {
        field: FIELDS[field as usize - 1].0,
    })?;
    p.ev.add_hash(tag, s.as_deref().map_or(NULL_HASH, hash_str));
    match (field, s) {
        (_, None) => {}
        (Field::Kind, Some(s)) => {
            p.ev.kind = Some(Kind::parse(&s).ok_or_else(|| {
                de::Error::custom(format!(
                    "field `kind`: unknown kind {s:?} (expected write, read, send, recv or local)"
                ))
            })?);
        }
        (Field::Op, Some(s)) => {
            p.ev.op = Some(Op::parse(&s).ok_or_else(|| {
                de::Error::custom(format!(
                    "field `op`: unknown op {s:?} (expected set, inc, add or remove)"
                ))
            })?);
        }
        (_, Some(s)) => p.ev.format = Some(s),
    }
    Ok(())
}

/// The value of `vc`: the clock, canonical, and its hash (decoded with the previous line's
/// replica names as guesses).
fn vc_field<'de, A: MapAccess<'de>>(p: &mut Parser, map: &mut A, tag: u64) -> Result<(), A::Error> {
    p.cur_vc_ids.clear();
    let present = map.next_value_seed(VcSeed {
        names: &mut p.names,
        prev: &p.prev_vc_ids,
        cur: &mut p.cur_vc_ids,
        out: &mut p.ev.vc,
    })?;
    if present {
        std::mem::swap(&mut p.prev_vc_ids, &mut p.cur_vc_ids);
        let names = &p.names;
        let h = p.ev.vc.iter().fold(0u64, |acc, &(q, v)| {
            acc.wrapping_add(h2(names.content_hash(q), v))
        });
        p.ev.has_vc = true;
        p.ev.add_hash(tag, h2(9, h));
    } else {
        p.ev.add_hash(tag, NULL_HASH);
    }
    Ok(())
}

/// The value of `parents`: the list of `[replica, seq]` pairs, in order, and its hash.
fn parents_field<'de, A: MapAccess<'de>>(
    p: &mut Parser,
    map: &mut A,
    tag: u64,
) -> Result<(), A::Error> {
    let present = map.next_value_seed(ParentsSeed {
        names: &mut p.names,
        out: &mut p.ev.parents,
    })?;
    p.ev.has_parents = present;
    let h =
        p.ev.parents
            .iter()
            .fold(h2(8, p.ev.parents.len() as u64), |acc, &(q, s)| {
                h2(acc, h2(p.names.content_hash(q), s))
            });
    p.ev.add_hash(tag, if present { h } else { NULL_HASH });
    Ok(())
}

/// The value of `value`, `crdt` or `attrs`: any JSON, hashed into the fingerprint as read.
fn json_value<'de, A: MapAccess<'de>>(
    p: &mut Parser,
    map: &mut A,
    tag: u64,
) -> Result<Value, A::Error> {
    let v: Value = map.next_value()?;
    p.ev.add_hash(tag, hash_value(&v));
    Ok(v)
}

/// `crdt`: any JSON is fine on kinds other than write and read (the field is ignored there),
/// so what is wrong with it is kept and judged once the kind is known.
fn crdt_field(p: &mut Parser, v: &Value) {
    match v {
        Value::Null => {}
        Value::String(s) => match Crdt::parse(s) {
            Some(c) => p.ev.crdt = Some(c),
            None => p.ev.crdt_unknown = Some(format!("unknown type {s:?}")),
        },
        other => {
            p.ev.crdt_unknown = Some(format!("must be a string, got {}", json_type(other)));
        }
    }
}

/// `attrs`: an object (or null, as if absent).
fn attrs_field(p: &mut Parser, v: Value) -> Result<(), String> {
    match v {
        Value::Object(m) => p.ev.attrs = Some(m),
        Value::Null => {}
        other => {
            return Err(format!(
                "field `attrs`: must be an object, got {}",
                json_type(&other)
            ))
        }
    }
    Ok(())
}
