//! Stable hashes for the duplicate rule's fingerprints and the interners: the same on every
//! run and process (a collector compares fingerprints across restarts), and order-independent
//! for JSON objects, so values equal as JSON hash equal.
//!
//! Public so that a program building event lines from other data — the collector writes OTLP
//! records straight to lines — computes the fingerprint the reader would compute for those bytes
//! without parsing them back: a line's fingerprint is the wrapping sum ([`Fingerprint`]) of one
//! term per field, `h2(field number, hash of its value)`, the value hashed as [`hash_value`]
//! does, which the term functions below ([`int`], [`string`], [`member`], …) build piece by
//! piece.

use serde_json::{Map, Value};

#[inline]
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Mixes two words into one (order matters).
#[inline]
pub fn h2(a: u64, b: u64) -> u64 {
    mix(a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ mix(b))
}

/// A hash of a string's bytes, stable across runs and processes (fingerprints are compared
/// between a collector's past and present).
pub fn hash_str(s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ s.len() as u64;
    let mut chunks = s.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        h = h2(h, u64::from_le_bytes(c.try_into().expect("8 bytes")));
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h2(h, u64::from_le_bytes(tail))
}

/// A hash of a JSON value under which equal values (as `serde_json::Value`s) hash equal.
pub fn hash_value(v: &Value) -> u64 {
    match v {
        Value::Null => NULL_HASH,
        Value::Bool(b) => bool(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                uint(u)
            } else if let Some(i) = n.as_i64() {
                int(i)
            } else {
                float(n.as_f64().unwrap_or(0.0))
            }
        }
        Value::String(s) => string(s),
        Value::Array(a) => a
            .iter()
            .fold(array_start(a.len()), |h, x| h2(h, hash_value(x))),
        Value::Object(m) => object(hash_object(m)),
    }
}

/// The hash of a JSON bool.
pub fn bool(b: bool) -> u64 {
    2 + u64::from(b)
}

/// The hash of a JSON integer: non-negative ones as [`uint`], negative ones as `i64`, exactly
/// as `serde_json::Number::as_u64` / `as_i64` classify the parsed number.
pub fn int(i: i64) -> u64 {
    match u64::try_from(i) {
        Ok(u) => uint(u),
        Err(_) => h2(5, i as u64),
    }
}

/// The hash of a non-negative JSON integer.
pub fn uint(u: u64) -> u64 {
    h2(4, u)
}

/// The hash of a JSON number written with a fraction or an exponent (parsed as an `f64`).
pub fn float(d: f64) -> u64 {
    h2(6, d.to_bits())
}

/// The hash of a JSON string.
pub fn string(s: &str) -> u64 {
    h2(7, hash_str(s))
}

/// The start of an array's hash; each element's hash `x` then folds in as `h2(acc, x)`.
pub fn array_start(len: usize) -> u64 {
    h2(8, len as u64)
}

/// One member of an object: objects hash as the wrapping sum of their members (order-free).
pub fn member(key: &str, value: u64) -> u64 {
    h2(hash_str(key), value)
}

/// An object's hash from the wrapping sum of its members.
pub fn object(members: u64) -> u64 {
    h2(9, members)
}

/// A line's fields, numbered as in its fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
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
    /// The header's `format`.
    Format,
    Crdt,
}

/// A line's fingerprint: the wrapping sum of its fields' terms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// Adds the field numbered `field` whose value hashes to `h`.
    pub fn add(&mut self, field: u64, h: u64) {
        self.0 = self.0.wrapping_add(h2(field, h));
    }
}

fn hash_object(m: &Map<String, Value>) -> u64 {
    m.iter().fold(0u64, |acc, (k, v)| {
        acc.wrapping_add(member(k, hash_value(v)))
    })
}

/// The hash of a field given as `null` (the same as an absent field's).
pub const NULL_HASH: u64 = 1;
