//! Parsing one line of weft-trace/1 into reusable scratch space, without per-line allocation in
//! the common case.
//!
//! The line is decoded with a hand-written serde visitor rather than `#[derive(Deserialize)]` so
//! that strings are interned straight from the input buffer, clocks go into a reused vector, every
//! rule of the spec's field table is checked with a message naming the field, and a fingerprint of
//! the line's JSON value is computed on the way (it decides whether a repeated id is an identical
//! copy or a conflicting one without keeping the line).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::hash::{h2, NULL_HASH};
pub(crate) use crate::hash::{hash_str, hash_value};
use crate::intern::{LocalInterner, SharedInterner, Sym};
use crate::model::{Crdt, Kind, Op};

mod fast;

pub use weft_api::MAX_REPLICA_BYTES;

/// What one line turned out to be.
pub(crate) enum Parsed {
    /// An event, now in [`Parser::ev`].
    Event,
    /// A header object.
    Header(Map<String, Value>),
}

/// Why a line was rejected, with the column for JSON syntax errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// What rule the line breaks, naming the field.
    pub reason: String,
    /// 1-based column, for JSON syntax errors.
    pub column: Option<u64>,
}

/// The fields of the event being parsed. Reused from line to line.
#[derive(Default)]
pub(crate) struct Scratch {
    pub replica: Option<Sym>,
    pub seq: Option<u64>,
    pub kind: Option<Kind>,
    pub lamport: Option<u64>,
    pub wall_ns: Option<i64>,
    pub has_vc: bool,
    pub vc: Vec<(Sym, u64)>,
    pub has_parents: bool,
    pub parents: Vec<(Sym, u64)>,
    pub msg: Option<Sym>,
    pub key: Option<Sym>,
    pub op: Option<Op>,
    pub crdt: Option<Crdt>,
    /// The `crdt` field as written when it names no type (an error only on writes and reads,
    /// which is known once the whole line is read).
    crdt_unknown: Option<String>,
    pub value: Option<Value>,
    pub attrs: Option<Map<String, Value>>,
    pub format: Option<String>,
    pub fingerprint: u64,
    seen: u32,
    /// Name hashes of the unknown fields met so far on this line.
    unknown: Vec<u64>,
}

/// The line parser: interners plus scratch space.
pub(crate) struct Parser {
    pub names: LocalInterner,
    pub syms: LocalInterner,
    pub ev: Scratch,
    prev_vc_ids: Vec<Sym>,
    cur_vc_ids: Vec<Sym>,
    /// The SIMD fast path's buffers.
    fast: fast::Fast,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Replica = 1,
    Seq,
    Kind,
    Lamport,
    Vc,
    WallNs,
    Parents,
    Msg,
    Key,
    Op,
    Value,
    Attrs,
    Format,
    Crdt,
}

const FIELDS: [(&str, Field); 14] = [
    ("replica", Field::Replica),
    ("seq", Field::Seq),
    ("kind", Field::Kind),
    ("lamport", Field::Lamport),
    ("vc", Field::Vc),
    ("wall_ns", Field::WallNs),
    ("parents", Field::Parents),
    ("msg", Field::Msg),
    ("key", Field::Key),
    ("op", Field::Op),
    ("value", Field::Value),
    ("attrs", Field::Attrs),
    ("format", Field::Format),
    ("crdt", Field::Crdt),
];

/// A field name: known, or unknown with the hash of its name.
enum FieldName {
    Known(Field),
    Unknown(u64, String),
}

struct FieldNameSeed;

impl<'de> DeserializeSeed<'de> for FieldNameSeed {
    type Value = FieldName;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<FieldName, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for FieldNameSeed {
    type Value = FieldName;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<FieldName, E> {
        for (name, field) in FIELDS {
            if name == s {
                return Ok(FieldName::Known(field));
            }
        }
        Ok(FieldName::Unknown(hash_str(s), s.to_string()))
    }
}

impl Parser {
    /// A parser interning into `names` (replica names) and `syms` (messages and keys).
    pub fn new(names: SharedInterner, syms: SharedInterner) -> Self {
        Parser {
            names: LocalInterner::new(names),
            syms: LocalInterner::new(syms),
            ev: Scratch::default(),
            prev_vc_ids: Vec::new(),
            cur_vc_ids: Vec::new(),
            fast: fast::Fast::default(),
        }
    }

    /// Parses `line` (no newline). On success the event's fields are in `self.ev`.
    pub fn parse(&mut self, line: &[u8]) -> Result<Parsed, LineError> {
        self.ev.reset();
        if fast::fill(self, line) {
            return self.finish(line);
        }
        self.parse_serde(line)
    }

    /// [`Parser::parse`] without the SIMD fast path: the serde visitor reads the line, and
    /// explains it when it is rejected.
    pub fn parse_serde(&mut self, line: &[u8]) -> Result<Parsed, LineError> {
        self.ev.reset();
        let mut de = serde_json::Deserializer::from_slice(line);
        let res = de
            .deserialize_map(LineVisitor { p: self })
            .and_then(|()| de.end());
        if let Err(e) = res {
            return Err(line_error(&e, line));
        }
        self.finish(line)
    }

    /// The rules that need the whole line read, once `self.ev` holds its fields.
    fn finish(&mut self, line: &[u8]) -> Result<Parsed, LineError> {
        let ev = &mut self.ev;
        if ev.replica.is_none() && ev.format.is_some() {
            let fields: Map<String, Value> =
                serde_json::from_slice(line).map_err(|e| line_error(&e, line))?;
            return Ok(Parsed::Header(fields));
        }
        if ev.replica.is_none() {
            return Err(reason("missing field `replica`"));
        }
        if ev.seq.is_none() {
            return Err(reason("missing field `seq`"));
        }
        let kind = ev.kind.unwrap_or_default();
        match kind {
            Kind::Send | Kind::Recv if ev.msg.is_none() => {
                return Err(reason(format!("a `{}` needs a `msg` field", kind.as_str())));
            }
            Kind::Write | Kind::Read if ev.key.is_none() => {
                return Err(reason(format!("a `{}` needs a `key` field", kind.as_str())));
            }
            _ => {}
        }
        if matches!(kind, Kind::Write | Kind::Read) {
            if let Some(why) = ev.crdt_unknown.take() {
                return Err(reason(format!(
                    "field `crdt`: {why} (expected lww, mv, counter or set)"
                )));
            }
        } else {
            ev.crdt = None;
        }
        if ev.has_vc {
            if !ev.vc.is_sorted_by_key(|&(q, _)| q) {
                ev.vc.sort_unstable_by_key(|&(q, _)| q);
            }
            // Of several names given twice, the message names the least (bytewise), not the
            // one with the least interned id, which depends on what was read before.
            if let Some(twice) = ev
                .vc
                .windows(2)
                .filter(|w| w[0].0 == w[1].0)
                .map(|w| self.names.resolve(w[0].0))
                .min()
            {
                return Err(reason(format!(
                    "field `vc`: replica {twice:?} appears twice"
                )));
            }
            ev.vc.retain(|&(_, v)| v != 0);
        }
        Ok(Parsed::Event)
    }
}

impl Scratch {
    fn reset(&mut self) {
        self.replica = None;
        self.seq = None;
        self.kind = None;
        self.lamport = None;
        self.wall_ns = None;
        self.has_vc = false;
        self.vc.clear();
        self.has_parents = false;
        self.parents.clear();
        self.msg = None;
        self.key = None;
        self.op = None;
        self.crdt = None;
        self.crdt_unknown = None;
        self.value = None;
        self.attrs = None;
        self.format = None;
        self.fingerprint = 0;
        self.seen = 0;
        self.unknown.clear();
    }

    #[inline]
    fn add_hash(&mut self, field: u64, h: u64) {
        self.fingerprint = self.fingerprint.wrapping_add(h2(field, h));
    }
}

fn reason(r: impl Into<String>) -> LineError {
    LineError {
        reason: r.into(),
        column: None,
    }
}

/// Marks, in a message, where a rejected number goes: serde_json (without its
/// `arbitrary_precision` feature) hands a visitor any number that is not a 64-bit integer as an
/// `f64`, which cannot say how it was written (`1.0` → 1, 18446744073709551616 → 1.8446…e19).
/// The visitor writes `NUMBER_MARK`, the `f64`, `NUMBER_MARK`; [`line_error`], which has the line,
/// puts the number's text as written there instead.
const NUMBER_MARK: char = '\u{0}';

/// Longest JSON text (a number, a `parents` seq) quoted in a message as written; a longer one
/// is cut, with `…`.
const MAX_QUOTED_NUMBER: usize = 40;

/// The text of the JSON number that ends at byte `end` of `line` (where serde_json stands when
/// a visitor rejects the number it has just read), if there is one.
fn number_before(line: &[u8], end: usize) -> Option<&str> {
    let head = line.get(..end)?;
    let start = head
        .iter()
        .rposition(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
        .map_or(0, |i| i + 1);
    let text = std::str::from_utf8(&head[start..]).ok()?;
    let first = text.bytes().next()?;
    (first == b'-' || first.is_ascii_digit()).then_some(text)
}

/// Replaces each marked number of `reason` (see [`NUMBER_MARK`]) by its text in `line`, read
/// back from `end`; the `f64` stays where the text is not found.
fn numbers_as_written(reason: String, line: &[u8], end: usize) -> String {
    let Some(open) = reason.find(NUMBER_MARK) else {
        return reason;
    };
    let Some(len) = reason[open + 1..].find(NUMBER_MARK) else {
        return reason;
    };
    let close = open + 1 + len;
    let shown = match number_before(line, end) {
        Some(raw) => quoted(raw),
        None => reason[open + 1..close].to_string(),
    };
    format!("{}{shown}{}", &reason[..open], &reason[close + 1..])
}

/// Turns a serde_json error into a reason without serde_json's " at line 1 column N" suffix
/// (the caller knows the line); syntax errors keep their column. A number the reason quotes is
/// quoted as `line` writes it.
fn line_error(e: &serde_json::Error, line: &[u8]) -> LineError {
    let text = e.to_string();
    let bare = match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    // For a line without newlines, serde_json's column is the byte offset it stopped at.
    let bare = numbers_as_written(bare, line, e.column());
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => LineError {
            reason: format!("invalid JSON: {bare}"),
            column: Some(e.column() as u64),
        },
        _ if bare.starts_with("invalid type: ") && bare.ends_with(", expected an event object") => {
            let got =
                &bare["invalid type: ".len()..bare.len() - ", expected an event object".len()];
            let float;
            let got = match got {
                "sequence" => "an array",
                "unit value" => "null",
                other if other.starts_with("floating point `") => {
                    float = match number_before(line, e.column()) {
                        Some(raw) if raw.len() <= MAX_QUOTED_NUMBER => {
                            format!("floating point `{raw}`")
                        }
                        _ => other.to_string(),
                    };
                    &float
                }
                other => other,
            };
            LineError {
                reason: format!("not a JSON object (got {got})"),
                column: None,
            }
        }
        _ => LineError {
            reason: bare,
            column: None,
        },
    }
}

struct LineVisitor<'p> {
    p: &'p mut Parser,
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
                Field::Kind | Field::Op | Field::Format => {
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
                }
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
                Field::Vc => {
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
                }
                Field::Parents => {
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
                }
                Field::Value => {
                    let v: Value = map.next_value()?;
                    p.ev.add_hash(tag, hash_value(&v));
                    // An explicit null is kept: for a read it is what the read returned.
                    p.ev.value = Some(v);
                }
                Field::Crdt => {
                    // Any JSON here is fine on kinds other than write and read (the field is
                    // ignored there), so it is judged once the kind is known.
                    let v: Value = map.next_value()?;
                    p.ev.add_hash(tag, hash_value(&v));
                    match &v {
                        Value::Null => {}
                        Value::String(s) => match Crdt::parse(s) {
                            Some(c) => p.ev.crdt = Some(c),
                            None => p.ev.crdt_unknown = Some(format!("unknown type {s:?}")),
                        },
                        other => {
                            p.ev.crdt_unknown =
                                Some(format!("must be a string, got {}", json_type(other)));
                        }
                    }
                }
                Field::Attrs => {
                    let v: Value = map.next_value()?;
                    p.ev.add_hash(tag, hash_value(&v));
                    match v {
                        Value::Object(m) => p.ev.attrs = Some(m),
                        Value::Null => {}
                        other => {
                            return Err(de::Error::custom(format!(
                                "field `attrs`: must be an object, got {}",
                                json_type(&other)
                            )))
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// What kind of JSON value `v` is, with its article, for messages (`a string`, `null`).
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Describes an unexpected JSON value for messages ("a string", "-3", ...).
struct Unexpected<'a>(de::Unexpected<'a>);

impl fmt::Display for Unexpected<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            de::Unexpected::Unsigned(u) => write!(f, "{u}"),
            de::Unexpected::Signed(i) => write!(f, "{i}"),
            // Put back as written by `line_error` (see `NUMBER_MARK`).
            de::Unexpected::Float(x) => write!(f, "{NUMBER_MARK}{x:?}{NUMBER_MARK}"),
            de::Unexpected::Str(s) => write!(f, "the string {s:?}"),
            de::Unexpected::Bool(b) => write!(f, "{b}"),
            de::Unexpected::Seq => f.write_str("an array"),
            de::Unexpected::Map => f.write_str("an object"),
            other => write!(f, "{other}"),
        }
    }
}

fn wrong<E: de::Error>(field: &str, want: &str, got: de::Unexpected) -> E {
    E::custom(format!(
        "field `{field}`: must be {want}, got {}",
        Unexpected(got)
    ))
}

/// Implements the `visit_*` methods a scalar-field visitor rejects, naming the field.
macro_rules! reject_non_scalars {
    () => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Err(self.reject(de::Unexpected::Bool(v)))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Err(self.reject(de::Unexpected::Float(v)))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(self.reject(de::Unexpected::Seq))
        }
        fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(self.reject(de::Unexpected::Map))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}

/// An unsigned integer at least `min`; `null` is absent. `entry` names the `vc` entry it is.
#[derive(Clone, Copy)]
struct UIntSeed<'a> {
    field: &'static str,
    min: u64,
    entry: Option<&'a str>,
}

impl UIntSeed<'_> {
    fn want(&self) -> &'static str {
        if self.min == 1 {
            "an integer ≥ 1"
        } else {
            "an integer ≥ 0"
        }
    }

    /// The error for a value of the wrong kind, made where the value ends (see `NUMBER_MARK`).
    fn reject<E: de::Error>(&self, got: de::Unexpected) -> E {
        match self.entry {
            None => wrong(self.field, self.want(), got),
            Some(name) => E::custom(format!(
                "field `{}`: must be {}, got {} (entry {name:?})",
                self.field,
                self.want(),
                Unexpected(got)
            )),
        }
    }
}

impl<'de> DeserializeSeed<'de> for UIntSeed<'_> {
    type Value = Option<u64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<u64>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UIntSeed<'_> {
    type Value = Option<u64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.want())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<u64>, E> {
        if v < self.min {
            return Err(self.reject(de::Unexpected::Unsigned(v)));
        }
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<u64>, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(self.reject(de::Unexpected::Signed(v))),
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<u64>, E> {
        Err(self.reject(de::Unexpected::Str(v)))
    }
    reject_non_scalars!();
}

/// A signed 64-bit integer; `null` is absent.
#[derive(Clone, Copy)]
struct IntSeed {
    field: &'static str,
}

impl IntSeed {
    fn want(&self) -> &'static str {
        "a 64-bit integer"
    }

    fn reject<E: de::Error>(&self, got: de::Unexpected) -> E {
        wrong(self.field, self.want(), got)
    }
}

impl<'de> DeserializeSeed<'de> for IntSeed {
    type Value = Option<i64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for IntSeed {
    type Value = Option<i64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a 64-bit integer")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<i64>, E> {
        i64::try_from(v)
            .map(Some)
            .map_err(|_| wrong(self.field, "a 64-bit integer", de::Unexpected::Unsigned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<i64>, E> {
        Ok(Some(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<i64>, E> {
        Err(wrong(
            self.field,
            "a 64-bit integer",
            de::Unexpected::Str(v),
        ))
    }
    reject_non_scalars!();
}

/// A string interned on the spot, at most `max` bytes and not empty; `null` is absent.
struct StrSeed<'a> {
    field: &'static str,
    interner: &'a mut LocalInterner,
    max: usize,
}

impl StrSeed<'_> {
    fn want(&self) -> &'static str {
        "a string"
    }

    fn reject<E: de::Error>(&self, got: de::Unexpected) -> E {
        wrong(self.field, self.want(), got)
    }
}

impl<'de> DeserializeSeed<'de> for StrSeed<'_> {
    type Value = Option<Sym>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Sym>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrSeed<'_> {
    type Value = Option<Sym>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Sym>, E> {
        // Only replica names have a length rule; a message id or key may be any string.
        if self.max != usize::MAX && (v.is_empty() || v.len() > self.max) {
            return Err(E::custom(format!(
                "field `{}`: must be a string of 1 to {} bytes, got {} bytes",
                self.field,
                self.max,
                v.len()
            )));
        }
        Ok(Some(self.interner.intern(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<Sym>, E> {
        Err(wrong(self.field, "a string", de::Unexpected::Unsigned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<Sym>, E> {
        Err(wrong(self.field, "a string", de::Unexpected::Signed(v)))
    }
    reject_non_scalars!();
}

/// A short string kept as an owned `String` (kind, op, format); `null` is absent.
struct OwnedStrSeed {
    field: &'static str,
}

impl OwnedStrSeed {
    fn want(&self) -> &'static str {
        "a string"
    }

    fn reject<E: de::Error>(&self, got: de::Unexpected) -> E {
        wrong(self.field, self.want(), got)
    }
}

impl<'de> DeserializeSeed<'de> for OwnedStrSeed {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for OwnedStrSeed {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<String>, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<String>, E> {
        Err(wrong(self.field, "a string", de::Unexpected::Unsigned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<String>, E> {
        Err(wrong(self.field, "a string", de::Unexpected::Signed(v)))
    }
    reject_non_scalars!();
}

/// The `vc` object. Keys are matched against the previous line's clock first: writers emit clocks
/// in a stable key order, so most keys are recognised by one string comparison, not a hash.
struct VcSeed<'a> {
    names: &'a mut LocalInterner,
    prev: &'a [Sym],
    cur: &'a mut Vec<Sym>,
    out: &'a mut Vec<(Sym, u64)>,
}

impl<'de> DeserializeSeed<'de> for VcSeed<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

struct VcKeySeed<'a> {
    names: &'a mut LocalInterner,
    guess: Option<Sym>,
}

impl<'de> DeserializeSeed<'de> for VcKeySeed<'_> {
    type Value = Sym;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Sym, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for VcKeySeed<'_> {
    type Value = Sym;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a replica name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Sym, E> {
        if let Some(g) = self.guess {
            if self.names.resolve(g) == v {
                return Ok(g);
            }
        }
        if v.is_empty() || v.len() > MAX_REPLICA_BYTES {
            return Err(E::custom(format!(
                "field `vc`: replica names must be 1 to {MAX_REPLICA_BYTES} bytes, got {} bytes",
                v.len()
            )));
        }
        Ok(self.names.intern(v))
    }
}

impl<'de> Visitor<'de> for VcSeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of replica → integer")
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut i = 0;
        loop {
            let guess = self.prev.get(i).copied();
            let Some(q) = map.next_key_seed(VcKeySeed {
                names: &mut *self.names,
                guess,
            })?
            else {
                break;
            };
            // The entry is named by the value's own error, made where the value ends, so
            // that a rejected number is quoted as written (see `NUMBER_MARK`).
            let v = map.next_value_seed(UIntSeed {
                field: "vc",
                min: 0,
                entry: Some(self.names.resolve(q)),
            })?;
            let v = v.ok_or_else(|| {
                de::Error::custom(format!(
                    "field `vc`: entry {:?} must be an integer ≥ 0, got null",
                    self.names.resolve(q)
                ))
            })?;
            self.cur.push(q);
            self.out.push((q, v));
            i += 1;
        }
        Ok(true)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        Err(wrong("vc", "an object", de::Unexpected::Unsigned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        Err(wrong("vc", "an object", de::Unexpected::Signed(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        Err(wrong("vc", "an object", de::Unexpected::Float(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Err(wrong("vc", "an object", de::Unexpected::Str(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Err(wrong("vc", "an object", de::Unexpected::Bool(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<bool, A::Error> {
        Err(wrong("vc", "an object", de::Unexpected::Seq))
    }
}

/// The `parents` array of `[replica, seq]` pairs.
struct ParentsSeed<'a> {
    names: &'a mut LocalInterner,
    out: &'a mut Vec<(Sym, u64)>,
}

impl<'de> DeserializeSeed<'de> for ParentsSeed<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

const PARENT_WANT: &str = "an array of [replica, seq] pairs";

impl<'de> Visitor<'de> for ParentsSeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(PARENT_WANT)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while let Some(pair) = seq.next_element_seed(PairSeed)? {
            let n = self.out.len();
            let bad = |why: &str| {
                de::Error::custom(format!(
                    "field `parents`: entry {n}: {why} (expected [replica, seq])"
                ))
            };
            let (elements, r, s) = match pair {
                Pair::Not(what) => return Err(bad(&format!("got {what}"))),
                Pair::Array {
                    elements,
                    replica,
                    seq,
                } => (elements, replica, seq),
            };
            let (Some(r), Some(s), 2) = (r, s, elements) else {
                return Err(bad(&format!("got {elements} elements")));
            };
            let Some(r) = r
                .as_str()
                .filter(|r| !r.is_empty() && r.len() <= MAX_REPLICA_BYTES)
            else {
                return Err(bad("the replica must be a string of 1 to 256 bytes"));
            };
            // The seq as written: an integer literal, or quoted back in the message.
            let raw = s.get();
            let Some(s) = raw.parse::<u64>().ok().filter(|&s| s >= 1) else {
                return Err(bad(&format!(
                    "the seq must be an integer ≥ 1, got {}",
                    quoted(raw)
                )));
            };
            self.out.push((self.names.intern(r), s));
        }
        Ok(true)
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<bool, A::Error> {
        Err(wrong("parents", PARENT_WANT, de::Unexpected::Map))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Err(wrong("parents", PARENT_WANT, de::Unexpected::Str(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        Err(wrong("parents", PARENT_WANT, de::Unexpected::Unsigned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        Err(wrong("parents", PARENT_WANT, de::Unexpected::Signed(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        Err(wrong("parents", PARENT_WANT, de::Unexpected::Float(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Err(wrong("parents", PARENT_WANT, de::Unexpected::Bool(v)))
    }
}

/// JSON text as written, for a message: cut after [`MAX_QUOTED_NUMBER`] bytes, with `…`.
fn quoted(raw: &str) -> String {
    if raw.len() <= MAX_QUOTED_NUMBER {
        return raw.to_string();
    }
    let cut = (0..=MAX_QUOTED_NUMBER)
        .rev()
        .find(|&i| raw.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}… ({} bytes)", &raw[..cut], raw.len())
}

/// One entry of `parents`: `[replica, seq]`, with the seq's text as written.
enum Pair<'de> {
    /// Not an array: what it is instead ("a string").
    Not(&'static str),
    /// An array: how many elements, the first two.
    Array {
        elements: usize,
        replica: Option<Value>,
        seq: Option<&'de serde_json::value::RawValue>,
    },
}

struct PairSeed;

impl<'de> DeserializeSeed<'de> for PairSeed {
    type Value = Pair<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Pair<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PairSeed {
    type Value = Pair<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("[replica, seq]")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Pair<'de>, A::Error> {
        let replica: Option<Value> = seq.next_element()?;
        let mut elements = usize::from(replica.is_some());
        let mut second = None;
        if replica.is_some() {
            second = seq.next_element::<&'de serde_json::value::RawValue>()?;
            if second.is_some() {
                elements += 1;
                while seq.next_element::<de::IgnoredAny>()?.is_some() {
                    elements += 1;
                }
            }
        }
        Ok(Pair::Array {
            elements,
            replica,
            seq: second,
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pair<'de>, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Pair::Not("an object"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Pair<'de>, E> {
        Ok(Pair::Not("a string"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Pair<'de>, E> {
        Ok(Pair::Not("a number"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Pair<'de>, E> {
        Ok(Pair::Not("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Pair<'de>, E> {
        Ok(Pair::Not("a number"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Pair<'de>, E> {
        Ok(Pair::Not("a boolean"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Pair<'de>, E> {
        Ok(Pair::Not("null"))
    }
}
