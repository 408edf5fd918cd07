//! The content fingerprint of an event line, computed from the record instead of by parsing the
//! line back.
//!
//! The store decides whether a repeated id is an exact copy (dropped) or a conflicting one (kept)
//! by comparing fingerprints, and after a restart it recomputes them from the stored lines with
//! `weft_trace::LineChecker`. A line built from an OTLP record must therefore carry exactly the
//! fingerprint the checker computes for its bytes. weft-trace does not publish its hashing, so
//! this module mirrors it (`trace/src/parse.rs`: `mix`, `h2`, `hash_str`, `hash_value` and the
//! per-field terms); `super::props` checks every accepted line of random records against the
//! checker's own fingerprint, so a change on either side fails a test rather than a dedupe.

/// weft-trace's `mix`: a 64-bit finalizer (splitmix64's).
#[inline]
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// weft-trace's `h2`: combines two hashes, order-dependent.
#[inline]
pub(super) fn h2(a: u64, b: u64) -> u64 {
    mix(a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ mix(b))
}

/// weft-trace's `hash_str`: a string's bytes, 8 at a time.
pub(super) fn hash_str(s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ s.len() as u64;
    let mut chunks = s.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        h = h2(h, u64::from_le_bytes(c.try_into().expect("8 bytes")));
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h2(h, u64::from_le_bytes(tail))
}

/// The hash of JSON `null` (also an absent optional field's term).
pub(super) const NULL: u64 = 1;

/// The hash of a JSON bool.
pub(super) fn bool(b: bool) -> u64 {
    2 + u64::from(b)
}

/// The hash of a JSON integer: non-negative ones as `u64`, negative ones as `i64`, exactly as
/// `serde_json::Number::as_u64` / `as_i64` classify the parsed number.
pub(super) fn int(i: i64) -> u64 {
    match u64::try_from(i) {
        Ok(u) => uint(u),
        Err(_) => h2(5, i as u64),
    }
}

/// The hash of a non-negative JSON integer.
pub(super) fn uint(u: u64) -> u64 {
    h2(4, u)
}

/// The hash of a JSON number written with a fraction or an exponent (parsed as an `f64`).
pub(super) fn float(d: f64) -> u64 {
    h2(6, d.to_bits())
}

/// The hash of a JSON string.
pub(super) fn string(s: &str) -> u64 {
    h2(7, hash_str(s))
}

/// The start of an array's hash; each element's hash `x` then folds in as `h2(acc, x)`.
pub(super) fn array_start(len: usize) -> u64 {
    h2(8, len as u64)
}

/// One member of an object: objects hash as the wrapping sum of their members (order-free).
pub(super) fn member(key: &str, value: u64) -> u64 {
    h2(hash_str(key), value)
}

/// An object's hash from the sum of its members.
pub(super) fn object(members: u64) -> u64 {
    h2(9, members)
}

/// The event fields' tags in the line fingerprint (weft-trace's `Field` numbering).
#[derive(Clone, Copy)]
pub(super) enum Tag {
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
    // 13 is the header's `format`, never in an event line built here.
    Crdt = 14,
}

/// The fingerprint of a line: the wrapping sum of its fields' terms.
#[derive(Default)]
pub(super) struct Fingerprint(pub(super) u64);

impl Fingerprint {
    /// Adds the field `tag` whose value hashes to `h`.
    pub(super) fn add(&mut self, tag: Tag, h: u64) {
        self.0 = self.0.wrapping_add(h2(tag as u64, h));
    }
}
