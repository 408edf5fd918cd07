//! One OTLP record written straight to its event line, with what the store needs to know of it.
//!
//! Two passes over a record. The first reads the attributes in order and makes every check the
//! mapping itself makes (types, `appears twice`, nesting depth, `weft.vc` and `weft.parents`
//! shapes), so the first broken attribute is the one named, as always. The second writes the
//! line's fields in byte order of their names — the order of the `serde_json` object the
//! collector used to build and serialize, so the bytes are the same — and on the way checks the
//! rules of trace-format §2 the line checker would check and computes its fingerprint.
//!
//! When every rule visibly holds, the record is accepted without parsing its line back:
//! [`Built::verdict`] carries the replica, seq and fingerprint. When one may not hold (a seq
//! below 1, an unknown kind, a `weft.vc` string that is not plain name → integer, ...), the
//! verdict is left to `weft_trace::LineChecker` on the written line, which then words the
//! rejection exactly as it words the same line arriving as NDJSON.

use std::borrow::Cow;
use std::fmt;

use opentelemetry_proto::tonic::common::v1::any_value::Value as Av;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use rustc_hash::FxHashSet;
use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use weft_trace::{Crdt, Kind, Op, MAX_REPLICA_BYTES};

use super::value::{self, check_depth, put, put_str};
use super::{inner, key_of, wrong, Describe, Quote, NO_REPLICA};
use weft_trace::hash::{self as fp, Field as Tag, Fingerprint};

/// A record's line, and the verdict when it needs no checker.
pub(super) struct Built {
    /// The JSON line (no newline).
    pub bytes: Vec<u8>,
    /// Replica, seq and fingerprint when every rule of trace-format §2 is seen to hold; `None`
    /// when the line checker must judge the line.
    pub verdict: Option<(String, u64, u64)>,
}

/// An integer attribute as given: OTLP's int, or a decimal string beyond `i64`.
#[derive(Clone, Copy)]
enum Int {
    Signed(i64),
    Unsigned(u64),
}

impl Int {
    fn unsigned(self) -> Option<u64> {
        match self {
            Int::Signed(i) => u64::try_from(i).ok(),
            Int::Unsigned(u) => Some(u),
        }
    }

    fn write(self, out: &mut Vec<u8>) {
        match self {
            Int::Signed(i) => put(out, &i),
            Int::Unsigned(u) => put(out, &u),
        }
    }
}

/// An int, or a string holding a decimal integer. Negative values pass through (never wrapped)
/// so that the line checker rejects them under the event field's name.
fn int_value(v: Option<&Av>) -> Option<Int> {
    match v? {
        Av::IntValue(i) => Some(Int::Signed(*i)),
        Av::StringValue(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else if let Ok(i) = s.parse::<i64>() {
                Some(Int::Signed(i))
            } else {
                s.parse::<u64>().ok().map(Int::Unsigned)
            }
        }
        _ => None,
    }
}

/// `weft.vc` as read.
enum Vc<'a> {
    /// Entries sorted by name, no name twice.
    Entries(Vec<(Cow<'a, str>, Int)>),
    /// A string holding a JSON object other than plain name → integer (non-integer entries,
    /// escaped names, ...): kept as parsed for the checker to judge.
    Json(Value),
}

/// The fields of trace-format §2 in the order the line writes them (byte order of the names).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Crdt,
    Key,
    Kind,
    Lamport,
    Msg,
    Op,
    Parents,
    Replica,
    Seq,
    Value,
    Vc,
}

/// A record's attributes, read and checked in order.
#[derive(Default)]
struct Fields<'a> {
    seen: u32,
    replica: Option<&'a str>,
    seq: Option<Int>,
    kind: Option<&'a str>,
    lamport: Option<Int>,
    vc: Option<Vc<'a>>,
    parents: Option<Vec<(&'a str, u64)>>,
    msg: Option<&'a str>,
    key: Option<&'a str>,
    op: Option<&'a str>,
    /// Present, possibly empty (`null`).
    value: Option<Option<&'a Av>>,
    /// The attribute's key and value, judged once the kind is known.
    crdt: Option<(&'a str, Option<&'a Av>)>,
    /// Everything else, in order, for `attrs`.
    extra: Vec<(&'a str, Option<&'a Av>)>,
}

/// Reads a record into its line. `time` is the clock field's name and value, for `wall_ns`;
/// `fallback` the resource's replica. Errors are the rejection reasons.
pub(super) fn build(
    attrs: &[KeyValue],
    body: Option<&AnyValue>,
    time: Option<(&str, u64)>,
    fallback: Option<&str>,
    capacity: usize,
) -> Result<Built, String> {
    let mut f = read(attrs)?;
    // `weft.crdt` matters on a write or read only; elsewhere it is not written (the trace reader
    // ignores the field on other kinds, whatever it holds).
    let crdt = match f.crdt {
        Some((key, v)) if matches!(f.kind, Some("write" | "read")) => match v {
            Some(Av::StringValue(s)) => Some(s.as_str()),
            other => return Err(wrong(key, "a string", other)),
        },
        _ => None,
    };
    let replica = match f.replica.or(fallback) {
        Some(r) => r,
        None => return Err(NO_REPLICA.to_string()),
    };
    let wall_ns =
        match time {
            Some((name, t)) => Some(i64::try_from(t).map_err(|_| {
                format!("{name} {t} does not fit `wall_ns` (a signed 64-bit integer)")
            })?),
            None => None,
        };
    if let Some(b) = inner(body) {
        check_depth(Some(b), 0).map_err(|e| format!("body: {e}"))?;
        f.extra.push(("body", Some(b)));
    }
    Ok(write(&mut f, crdt, replica, wall_ns, capacity))
}

/// The first pass: every attribute in order, with the mapping's own checks.
fn read(attrs: &[KeyValue]) -> Result<Fields<'_>, String> {
    let mut f = Fields::default();
    for kv in attrs {
        let Some(key) = key_of(kv) else { continue };
        let v = inner(kv.value.as_ref());
        let field = match key.strip_prefix("weft.") {
            Some("replica") => Field::Replica,
            Some("seq") => Field::Seq,
            Some("kind") => Field::Kind,
            Some("lamport") => Field::Lamport,
            Some("vc") => Field::Vc,
            Some("parents") => Field::Parents,
            Some("msg") => Field::Msg,
            Some("key") => Field::Key,
            Some("op") => Field::Op,
            Some("value") => Field::Value,
            Some("crdt") => Field::Crdt,
            _ => {
                check_depth(v, 0).map_err(|e| format!("attribute `{key}`: {e}"))?;
                f.extra.push((key, v));
                continue;
            }
        };
        let bit = 1 << field as u32;
        if f.seen & bit != 0 {
            return Err(format!("attribute `{key}` appears twice"));
        }
        f.seen |= bit;
        let string = || match v {
            Some(Av::StringValue(s)) => Ok(s.as_str()),
            other => Err(wrong(key, "a string", other)),
        };
        match field {
            Field::Seq => f.seq = Some(int_value(v).ok_or_else(|| wrong(key, "an int", v))?),
            Field::Lamport => {
                f.lamport = Some(int_value(v).ok_or_else(|| wrong(key, "an int", v))?);
            }
            Field::Vc => f.vc = Some(vc_attr(key, v)?),
            Field::Parents => f.parents = Some(parents_attr(key, v)?),
            Field::Value => {
                check_depth(v, 0).map_err(|e| format!("attribute `{key}`: {e}"))?;
                f.value = Some(v);
            }
            Field::Crdt => f.crdt = Some((key, v)),
            Field::Replica => f.replica = Some(string()?),
            Field::Kind => f.kind = Some(string()?),
            Field::Msg => f.msg = Some(string()?),
            Field::Key => f.key = Some(string()?),
            Field::Op => f.op = Some(string()?),
        }
    }
    Ok(f)
}

/// Whether a replica name has a length trace-format §2 accepts.
fn replica_ok(r: &str) -> bool {
    !r.is_empty() && r.len() <= MAX_REPLICA_BYTES
}

/// The second pass: the line's fields in byte order of their names, checked and hashed.
fn write(
    f: &mut Fields<'_>,
    crdt: Option<&str>,
    replica: &str,
    wall_ns: Option<i64>,
    capacity: usize,
) -> Built {
    let mut out = Vec::with_capacity(capacity);
    let mut h = Fingerprint::default();
    let mut sure = replica_ok(replica);
    out.push(b'{');
    if !f.extra.is_empty() {
        name(&mut out, "attrs");
        h.add(
            Tag::Attrs as u64,
            value::write_object(&mut out, &mut f.extra),
        );
    }
    if let Some(c) = crdt {
        name(&mut out, "crdt");
        h.add(Tag::Crdt as u64, put_str(&mut out, c));
        sure &= Crdt::parse(c).is_some();
    }
    if let Some(k) = f.key {
        name(&mut out, "key");
        h.add(Tag::Key as u64, put_str(&mut out, k));
    }
    let kind = match f.kind {
        Some(k) => {
            name(&mut out, "kind");
            put(&mut out, k);
            h.add(Tag::Kind as u64, fp::hash_str(k));
            Kind::parse(k)
        }
        None => Some(Kind::Local),
    };
    sure &= match kind {
        Some(Kind::Send | Kind::Recv) => f.msg.is_some(),
        Some(Kind::Write | Kind::Read) => f.key.is_some(),
        Some(Kind::Local) => true,
        None => false,
    };
    if let Some(l) = f.lamport {
        name(&mut out, "lamport");
        l.write(&mut out);
        match l.unsigned() {
            Some(u) => h.add(Tag::Lamport as u64, fp::uint(u)),
            None => sure = false,
        }
    }
    if let Some(m) = f.msg {
        name(&mut out, "msg");
        h.add(Tag::Msg as u64, put_str(&mut out, m));
    }
    if let Some(o) = f.op {
        name(&mut out, "op");
        put(&mut out, o);
        h.add(Tag::Op as u64, fp::hash_str(o));
        sure &= Op::parse(o).is_some();
    }
    if let Some(ps) = &f.parents {
        name(&mut out, "parents");
        h.add(Tag::Parents as u64, write_parents(&mut out, ps, &mut sure));
    }
    name(&mut out, "replica");
    put(&mut out, replica);
    h.add(Tag::Replica as u64, fp::hash_str(replica));
    let mut seq = 0;
    if let Some(s) = f.seq {
        name(&mut out, "seq");
        s.write(&mut out);
        match s.unsigned().filter(|&s| s >= 1) {
            Some(s) => {
                seq = s;
                h.add(Tag::Seq as u64, s);
            }
            None => sure = false,
        }
    }
    if let Some(v) = f.value {
        name(&mut out, "value");
        h.add(Tag::Value as u64, value::write(&mut out, v));
    }
    write_vc(&mut out, f.vc.as_ref(), &mut h, &mut sure);
    if let Some(t) = wall_ns {
        name(&mut out, "wall_ns");
        put(&mut out, &t);
        h.add(Tag::WallNs as u64, fp::h2(5, t as u64));
    }
    out.push(b'}');
    // A record without `weft.seq` is skipped before it gets here; the check stays for safety.
    let verdict = (sure && seq >= 1).then(|| (replica.to_string(), seq, h.0));
    Built {
        bytes: out,
        verdict,
    }
}

/// Writes `parents` as an array of `[replica, seq]` pairs and returns its fingerprint; clears
/// `sure` when a replica name has a length trace-format §2 rejects.
fn write_parents(out: &mut Vec<u8>, ps: &[(&str, u64)], sure: &mut bool) -> u64 {
    out.push(b'[');
    let mut acc = fp::array_start(ps.len());
    for (i, &(r, s)) in ps.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        put(out, r);
        out.push(b',');
        put(out, &s);
        out.push(b']');
        acc = fp::h2(acc, fp::member(r, s));
        *sure &= replica_ok(r);
    }
    out.push(b']');
    acc
}

/// Writes `vc`, when present, and adds its fingerprint to `h`; clears `sure` when the line
/// checker must judge it.
fn write_vc(out: &mut Vec<u8>, vc: Option<&Vc<'_>>, h: &mut Fingerprint, sure: &mut bool) {
    match vc {
        Some(Vc::Entries(entries)) => {
            name(out, "vc");
            out.push(b'{');
            let mut sum = 0u64;
            for (i, (q, n)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                put(out, q.as_ref());
                out.push(b':');
                n.write(out);
                match n.unsigned() {
                    Some(n) if replica_ok(q) => sum = sum.wrapping_add(fp::member(q, n)),
                    _ => *sure = false,
                }
            }
            out.push(b'}');
            h.add(Tag::Vc as u64, fp::object(sum));
        }
        Some(Vc::Json(j)) => {
            name(out, "vc");
            // A `Value` always serializes into a Vec.
            let _ = serde_json::to_writer(&mut *out, j);
            *sure = false;
        }
        None => {}
    }
}

/// Writes a field's name (a plain ASCII word) and its colon, after a comma unless it is first.
fn name(out: &mut Vec<u8>, n: &str) {
    if out.len() > 1 {
        out.push(b',');
    }
    out.push(b'"');
    out.extend_from_slice(n.as_bytes());
    out.extend_from_slice(b"\":");
}

/// `weft.vc`: a kvlist of string → int, or a string holding a JSON object. The entries' values
/// are left for the line checker to judge; a replica named twice is rejected here (a JSON map
/// would silently keep one of them).
fn vc_attr<'a>(key: &str, v: Option<&'a Av>) -> Result<Vc<'a>, String> {
    match v {
        Some(Av::KvlistValue(l)) => {
            let mut entries: Vec<(Cow<'a, str>, Int)> = Vec::with_capacity(l.values.len());
            let mut names = FxHashSet::default();
            for kv in &l.values {
                let Some(q) = key_of(kv) else { continue };
                let n = inner(kv.value.as_ref());
                let n = int_value(n).ok_or_else(|| {
                    format!(
                        "attribute `{key}`: entry {} must be an int, got {}",
                        Quote(q),
                        Describe(n)
                    )
                })?;
                if !names.insert(q) {
                    return Err(format!(
                        "attribute `{key}`: replica {} appears twice",
                        Quote(q)
                    ));
                }
                entries.push((Cow::Borrowed(q), n));
            }
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            Ok(Vc::Entries(entries))
        }
        Some(Av::StringValue(s)) => {
            if let Some(entries) = plain_vc(s) {
                return Ok(Vc::Entries(entries));
            }
            let j: Value = serde_json::from_str(s)
                .map_err(|e| format!("attribute `{key}`: not a JSON object: {e}"))?;
            if !j.is_object() {
                return Err(wrong(key, "a JSON object", v));
            }
            if let Some(q) = duplicate_key(s) {
                return Err(format!(
                    "attribute `{key}`: replica {} appears twice",
                    Quote(&q)
                ));
            }
            Ok(Vc::Json(j))
        }
        other => Err(wrong(
            key,
            "a kvlist of string to int or a string holding a JSON object",
            other,
        )),
    }
}

/// A JSON object text of unescaped names → non-negative integers, no name twice: its entries,
/// sorted by name. `None` for anything else, which the general path reads.
fn plain_vc(text: &str) -> Option<Vec<(Cow<'_, str>, Int)>> {
    struct Plain;
    impl<'de> Visitor<'de> for Plain {
        type Value = Vec<(Cow<'de, str>, Int)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of names to non-negative integers")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(a.size_hint().unwrap_or(8));
            while let Some(q) = a.next_key::<&'de str>()? {
                let n: u64 = a.next_value()?;
                out.push((Cow::Borrowed(q), Int::Unsigned(n)));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let mut entries = de.deserialize_map(Plain).ok()?;
    de.end().ok()?;
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    if entries.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    Some(entries)
}

/// The first key that a JSON object text repeats at its top level.
pub(super) fn duplicate_key(text: &str) -> Option<String> {
    struct Dup;
    impl<'de> Visitor<'de> for Dup {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Option<String>, A::Error> {
            let mut seen = FxHashSet::default();
            let mut dup = None;
            while let Some(k) = a.next_key::<String>()? {
                a.next_value::<IgnoredAny>()?;
                if dup.is_none() && !seen.insert(k.clone()) {
                    dup = Some(k);
                }
            }
            Ok(dup)
        }
    }
    serde_json::Deserializer::from_str(text)
        .deserialize_map(Dup)
        .ok()
        .flatten()
}

/// `weft.parents`: an array of strings `replica@seq`, split at the last `@` (as
/// `weft_trace::EventId::parse_text` splits them).
fn parents_attr<'a>(key: &str, v: Option<&'a Av>) -> Result<Vec<(&'a str, u64)>, String> {
    let Some(Av::ArrayValue(a)) = v else {
        return Err(wrong(key, "an array of strings replica@seq", v));
    };
    let mut out = Vec::with_capacity(a.values.len());
    for (i, e) in a.values.iter().enumerate() {
        let id = match inner(Some(e)) {
            Some(Av::StringValue(s)) => split_id(s).ok_or_else(|| {
                format!(
                    "attribute `{key}`: entry {i} {} is not replica@seq (seq an integer ≥ 1)",
                    Quote(s)
                )
            })?,
            other => {
                return Err(format!(
                    "attribute `{key}`: entry {i} must be a string replica@seq, got {}",
                    Describe(other)
                ))
            }
        };
        out.push(id);
    }
    Ok(out)
}

/// `replica@seq` split at the last `@`: a non-empty replica and a seq ≥ 1.
fn split_id(s: &str) -> Option<(&str, u64)> {
    let (r, n) = s.rsplit_once('@')?;
    let seq: u64 = n.parse().ok()?;
    (!r.is_empty() && seq >= 1).then_some((r, seq))
}
