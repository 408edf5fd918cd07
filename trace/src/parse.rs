//! Parsing one line of weft-trace/1 into reusable scratch space, without per-line allocation in
//! the common case.
//!
//! The line is decoded with a hand-written serde visitor rather than `#[derive(Deserialize)]` so
//! that strings are interned straight from the input buffer, clocks go into a reused vector, every
//! rule of the spec's field table is checked with a message naming the field, and a fingerprint of
//! the line's JSON value is computed on the way (it decides whether a repeated id is an identical
//! copy or a conflicting one without keeping the line).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};
use serde_json::{Map, Value};

use crate::hash::{h2, NULL_HASH};
pub(crate) use crate::hash::{hash_str, hash_value};
use crate::intern::{LocalInterner, SharedInterner, Sym};
use crate::model::{Crdt, Kind, Op};

mod fast;
mod seeds;
mod visit;

use visit::LineVisitor;

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

use crate::hash::Field;

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

/// The known field named `name`: [`FIELDS`] as a `match`, whose constant strings the compiler
/// compares inline (a search through the table called `memcmp` a few times per field, 4 % of
/// a large read in profiles).
#[inline]
fn field_of(name: &str) -> Option<Field> {
    Some(match name {
        "replica" => Field::Replica,
        "seq" => Field::Seq,
        "kind" => Field::Kind,
        "lamport" => Field::Lamport,
        "vc" => Field::Vc,
        "wall_ns" => Field::WallNs,
        "parents" => Field::Parents,
        "msg" => Field::Msg,
        "key" => Field::Key,
        "op" => Field::Op,
        "value" => Field::Value,
        "attrs" => Field::Attrs,
        "format" => Field::Format,
        "crdt" => Field::Crdt,
        _ => return None,
    })
}

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
        Ok(match field_of(s) {
            Some(field) => FieldName::Known(field),
            None => FieldName::Unknown(hash_str(s), s.to_string()),
        })
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
        self.syms.start_line();
        if fast::fill(self, line) {
            return self.finish(line);
        }
        self.parse_serde(line)
    }

    /// [`Parser::parse`] without the SIMD fast path: the serde visitor reads the line, and
    /// explains it when it is rejected.
    pub fn parse_serde(&mut self, line: &[u8]) -> Result<Parsed, LineError> {
        self.ev.reset();
        self.syms.start_line();
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
        let mut f = crate::hash::Fingerprint(self.fingerprint);
        f.add(field, h);
        self.fingerprint = f.0;
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

#[cfg(test)]
mod field_name_tests {
    use super::{field_of, FIELDS};

    #[test]
    fn field_of_names_the_fields_of_the_table_and_nothing_else() {
        for (i, (name, field)) in FIELDS.iter().enumerate() {
            assert_eq!(field_of(name), Some(*field), "{name}");
            // The table is indexed by field number elsewhere (messages name the field).
            assert_eq!(*field as usize, i + 1, "{name}");
        }
        for other in [
            "", "Replica", "replica ", "seqs", "v", "walls_ns", "format\0",
        ] {
            assert_eq!(field_of(other), None, "{other:?}");
        }
    }
}
