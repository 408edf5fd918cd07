//! Seeds that decode one field's value straight from the input: integers (with their text as
//! written in messages), interned strings, clocks and parent lists, each refusing a wrong
//! value with the spec's message naming the field. Separate because they are the leaves the
//! line visitor calls, independent of which field is being read.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use serde_json::Value;

use super::{quoted, MAX_REPLICA_BYTES, NUMBER_MARK};
use crate::intern::{LocalInterner, Sym};

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
pub(super) struct UIntSeed<'a> {
    pub(super) field: &'static str,
    pub(super) min: u64,
    pub(super) entry: Option<&'a str>,
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
pub(super) struct IntSeed {
    pub(super) field: &'static str,
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
pub(super) struct StrSeed<'a> {
    pub(super) field: &'static str,
    pub(super) interner: &'a mut LocalInterner,
    pub(super) max: usize,
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
pub(super) struct OwnedStrSeed {
    pub(super) field: &'static str,
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
pub(super) struct VcSeed<'a> {
    pub(super) names: &'a mut LocalInterner,
    pub(super) prev: &'a [Sym],
    pub(super) cur: &'a mut Vec<Sym>,
    pub(super) out: &'a mut Vec<(Sym, u64)>,
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
pub(super) struct ParentsSeed<'a> {
    pub(super) names: &'a mut LocalInterner,
    pub(super) out: &'a mut Vec<(Sym, u64)>,
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
