//! Stable hashes for the duplicate rule's fingerprints and the interners: the same on every
//! run and process (a collector compares fingerprints across restarts), and order-independent
//! for JSON objects, so values equal as JSON hash equal.

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
pub(crate) fn h2(a: u64, b: u64) -> u64 {
    mix(a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ mix(b))
}

/// A hash of a string's bytes, stable across runs and processes (fingerprints are compared
/// between a collector's past and present).
pub(crate) fn hash_str(s: &str) -> u64 {
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
pub(crate) fn hash_value(v: &Value) -> u64 {
    match v {
        Value::Null => 1,
        Value::Bool(b) => 2 + u64::from(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                h2(4, u)
            } else if let Some(i) = n.as_i64() {
                h2(5, i as u64)
            } else {
                h2(6, n.as_f64().map_or(0, f64::to_bits))
            }
        }
        Value::String(s) => h2(7, hash_str(s)),
        Value::Array(a) => a
            .iter()
            .fold(h2(8, a.len() as u64), |h, x| h2(h, hash_value(x))),
        Value::Object(m) => h2(9, hash_object(m)),
    }
}

fn hash_object(m: &Map<String, Value>) -> u64 {
    m.iter().fold(0u64, |acc, (k, v)| {
        acc.wrapping_add(h2(hash_str(k), hash_value(v)))
    })
}

/// The hash of a field given as `null` (the same as an absent field's).
pub(crate) const NULL_HASH: u64 = 1;
