//! OTLP values written as JSON text, hashed on the way (see [`super::fingerprint`]).
//!
//! The conversion is the proto3 JSON mapping the module docs describe. The text is exactly what
//! `serde_json` writes for the same value as a `serde_json::Value` (object keys in byte order,
//! a repeated kvlist key keeping its last value), so lines are the bytes the collector stored
//! before it wrote them directly; leaves are written by `serde_json`'s own serializer (its string
//! escaping, `itoa` and `ryu` formatting), the structure here.

use opentelemetry_proto::tonic::common::v1::any_value::Value as Av;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use serde::Serialize;

use super::{inner, key_of, MAX_DEPTH};
use weft_trace::hash as fp;

/// Writes one JSON scalar (a string, an integer, a finite double) as `serde_json` does.
pub(super) fn put<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    // Serializing a scalar into a Vec cannot fail: no I/O error, no map key to check.
    let _ = v.serialize(&mut serde_json::Serializer::new(&mut *out));
}

/// Writes a JSON string and returns its hash.
pub(super) fn put_str(out: &mut Vec<u8>, s: &str) -> u64 {
    put(out, s);
    fp::string(s)
}

/// Why a value cannot be converted: it nests more than [`MAX_DEPTH`] levels.
pub(super) fn too_deep() -> String {
    format!("nested more than {MAX_DEPTH} levels deep")
}

/// Checks what [`write`] needs: arrays and kvlists nested at most [`MAX_DEPTH`] levels (the
/// entries of a kvlist whose key is a string-table reference are left out, so not checked).
pub(super) fn check_depth(v: Option<&Av>, depth: usize) -> Result<(), String> {
    match v {
        Some(Av::ArrayValue(a)) => {
            if depth >= MAX_DEPTH {
                return Err(too_deep());
            }
            a.values
                .iter()
                .try_for_each(|e| check_depth(inner(Some(e)), depth + 1))
        }
        Some(Av::KvlistValue(l)) => {
            if depth >= MAX_DEPTH {
                return Err(too_deep());
            }
            l.values
                .iter()
                .filter(|kv| key_of(kv).is_some())
                .try_for_each(|kv| check_depth(inner(kv.value.as_ref()), depth + 1))
        }
        _ => Ok(()),
    }
}

/// Writes a value (checked by [`check_depth`]) as JSON; returns its hash. An empty value is
/// `null`.
pub(super) fn write(out: &mut Vec<u8>, v: Option<&Av>) -> u64 {
    let Some(v) = v else {
        out.extend_from_slice(b"null");
        return fp::NULL_HASH;
    };
    match v {
        Av::StringValue(s) => put_str(out, s),
        Av::BoolValue(b) => {
            out.extend_from_slice(if *b { b"true" } else { b"false" });
            fp::bool(*b)
        }
        Av::IntValue(i) => {
            put(out, i);
            fp::int(*i)
        }
        Av::DoubleValue(d) if d.is_finite() => {
            put(out, d);
            fp::float(*d)
        }
        Av::DoubleValue(d) if d.is_nan() => put_str(out, "NaN"),
        Av::DoubleValue(d) if *d > 0.0 => put_str(out, "Infinity"),
        Av::DoubleValue(_) => put_str(out, "-Infinity"),
        Av::ArrayValue(a) => {
            out.push(b'[');
            let mut h = fp::array_start(a.values.len());
            for (i, e) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                h = fp::h2(h, write(out, inner(Some(e))));
            }
            out.push(b']');
            h
        }
        Av::KvlistValue(l) => {
            let mut entries: Vec<(&str, Option<&Av>)> = l
                .values
                .iter()
                .filter_map(|kv: &KeyValue| Some((key_of(kv)?, inner(kv.value.as_ref()))))
                .collect();
            write_object(out, &mut entries)
        }
        Av::BytesValue(b) => put_str(out, &base64(b)),
        Av::StringValueStrindex(_) => {
            out.extend_from_slice(b"null");
            fp::NULL_HASH
        }
    }
}

/// Writes `entries` as a JSON object, keys in byte order and a repeated key keeping its last
/// value (what a `serde_json::Map` built by inserting them in order holds); returns its hash.
/// Sorts `entries` in place.
pub(super) fn write_object(out: &mut Vec<u8>, entries: &mut [(&str, Option<&Av>)]) -> u64 {
    // Stable: among equal keys the last inserted stays last, and is the one written.
    entries.sort_by(|a, b| a.0.cmp(b.0));
    out.push(b'{');
    let mut sum = 0u64;
    let mut first = true;
    for (i, &(k, v)) in entries.iter().enumerate() {
        if entries.get(i + 1).is_some_and(|next| next.0 == k) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        put(out, k);
        out.push(b':');
        sum = sum.wrapping_add(fp::member(k, write(out, v)));
    }
    out.push(b'}');
    fp::object(sum)
}

/// Standard (RFC 4648 §4) base64 with padding, as OTLP/JSON writes bytes.
pub(super) fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
