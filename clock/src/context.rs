//! The context a sender attaches to a message, and its compact text form.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use weft_api::EventId;

use crate::{check_replica, ClockError, MAX_CLOCK, MAX_HEADER_BYTES, MAX_VC_ENTRIES};

/// The id and clocks of a remote event, as a receiver needs them: what travels with a message
/// from [`Stamp::context`](crate::Stamp::context) to [`ReplicaClock::receive`](crate::ReplicaClock::receive).
///
/// Its text form ([`to_header`](Self::to_header)) is one line of compact JSON with the field
/// names of a weft event, e.g. `{"replica":"phone","seq":2,"lamport":2,"vc":{"phone":2}}`, to put
/// in an HTTP header, a message envelope or a database row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Context {
    /// The replica that recorded the event.
    pub replica: String,
    /// The event's position in its replica's history, from 1.
    pub seq: u64,
    /// The event's Lamport time.
    pub lamport: u64,
    /// The event's vector clock (its entry for `replica` is `seq`).
    pub vc: BTreeMap<String, u64>,
}

/// The wire form, fields in the order written.
#[derive(Serialize)]
struct WireOut<'a> {
    replica: &'a str,
    seq: u64,
    lamport: u64,
    vc: &'a BTreeMap<String, u64>,
}

/// The wire form as read: unknown fields are ignored (as in weft events), repeated fields are
/// refused by serde.
#[derive(Deserialize)]
struct WireIn {
    replica: String,
    seq: u64,
    lamport: u64,
    vc: VcIn,
}

/// A vector clock as read, with what is wrong with it noted rather than thrown, so that the
/// caller gets a typed [`ClockError`].
#[derive(Default)]
struct VcIn {
    entries: BTreeMap<String, u64>,
    duplicate: Option<String>,
    too_many: bool,
}

impl<'de> Deserialize<'de> for VcIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = VcIn;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of replica to non-negative integer")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<VcIn, A::Error> {
                let mut vc = VcIn::default();
                while let Some(q) = a.next_key::<String>()? {
                    let n: u64 = a.next_value()?;
                    if vc.entries.len() >= MAX_VC_ENTRIES && !vc.entries.contains_key(&q) {
                        vc.too_many = true;
                        continue;
                    }
                    if vc.entries.insert(q.clone(), n).is_some() && vc.duplicate.is_none() {
                        vc.duplicate = Some(q);
                    }
                }
                Ok(vc)
            }
        }
        d.deserialize_map(V)
    }
}

impl Context {
    /// The event's id, `replica@seq`.
    pub fn id(&self) -> EventId {
        EventId::new(self.replica.clone(), self.seq)
    }

    /// The context as one line of compact JSON, ASCII only (other characters are written as
    /// JSON `\u` escapes), so that it is a valid HTTP header value.
    ///
    /// [`from_header`](Self::from_header) refuses texts over [`MAX_HEADER_BYTES`], which a
    /// context reaches only with thousands of vector-clock entries.
    pub fn to_header(&self) -> String {
        let text = serde_json::to_string(&WireOut {
            replica: &self.replica,
            seq: self.seq,
            lamport: self.lamport,
            vc: &self.vc,
        })
        .expect("strings and integers always serialize");
        ascii_only(text)
    }

    /// Reads a context written by [`to_header`](Self::to_header), checking it as
    /// [`validate`](Self::validate) does.
    ///
    /// The text comes from another process, so nothing in it is trusted: any input gives a
    /// [`ClockError`] rather than a panic, texts over [`MAX_HEADER_BYTES`] are refused before
    /// parsing, and vector clocks over [`MAX_VC_ENTRIES`] entries are refused. Fields other than
    /// the four are ignored, so that later versions may add some.
    pub fn from_header(header: &str) -> Result<Context, ClockError> {
        if header.len() > MAX_HEADER_BYTES {
            return Err(ClockError::HeaderTooLong { len: header.len() });
        }
        let w: WireIn = serde_json::from_str(header).map_err(ClockError::Malformed)?;
        if w.vc.too_many {
            return Err(ClockError::TooManyEntries);
        }
        if let Some(q) = w.vc.duplicate {
            return Err(ClockError::DuplicateEntry(q));
        }
        let ctx = Context {
            replica: w.replica,
            seq: w.seq,
            lamport: w.lamport,
            vc: w.vc.entries,
        };
        ctx.validate()?;
        Ok(ctx)
    }

    /// Checks that the context describes an event weft accepts: replica names of 1 to
    /// [`MAX_REPLICA_BYTES`](crate::MAX_REPLICA_BYTES) bytes, `seq` ≥ 1, every clock value at
    /// most [`MAX_CLOCK`], at most [`MAX_VC_ENTRIES`] vector-clock entries, and the vector
    /// clock's entry for the context's own replica equal to `seq`.
    pub fn validate(&self) -> Result<(), ClockError> {
        check_replica(&self.replica)?;
        if self.seq == 0 {
            return Err(ClockError::ZeroSeq);
        }
        if self.seq > MAX_CLOCK {
            return Err(out_of_range("seq".into(), self.seq));
        }
        if self.lamport > MAX_CLOCK {
            return Err(out_of_range("lamport".into(), self.lamport));
        }
        if self.vc.len() > MAX_VC_ENTRIES {
            return Err(ClockError::TooManyEntries);
        }
        for (q, &n) in &self.vc {
            check_replica(q)?;
            if n > MAX_CLOCK {
                return Err(out_of_range(format!("vc[{q:?}]"), n));
            }
        }
        let entry = self.vc.get(&self.replica).copied().unwrap_or(0);
        if entry != self.seq {
            return Err(ClockError::OwnEntryMismatch {
                seq: self.seq,
                entry,
            });
        }
        Ok(())
    }
}

fn out_of_range(field: String, value: u64) -> ClockError {
    ClockError::OutOfRange { field, value }
}

/// Escapes every non-ASCII character of a JSON text as `\uXXXX` (UTF-16, as JSON requires).
/// Outside strings JSON is ASCII already, so the result means the same.
fn ascii_only(text: String) -> String {
    if text.is_ascii() {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut units = [0u16; 2];
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{u:04x}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReplicaClock;
    use proptest::prelude::*;

    fn ctx(replica: &str, seq: u64, lamport: u64, vc: &[(&str, u64)]) -> Context {
        Context {
            replica: replica.into(),
            seq,
            lamport,
            vc: vc.iter().map(|&(q, n)| (q.to_string(), n)).collect(),
        }
    }

    #[test]
    fn header_is_compact_json_in_field_order() {
        let c = ctx("phone", 2, 5, &[("edge", 1), ("phone", 2)]);
        let h = c.to_header();
        assert_eq!(
            h,
            r#"{"replica":"phone","seq":2,"lamport":5,"vc":{"edge":1,"phone":2}}"#
        );
        assert_eq!(Context::from_header(&h).unwrap(), c);
    }

    #[test]
    fn header_round_trips_a_real_stamp() {
        let mut a = ReplicaClock::new("a");
        let mut b = ReplicaClock::new("b");
        b.receive(&a.tick().context());
        let s = b.tick();
        let back = Context::from_header(&s.context().to_header()).unwrap();
        assert_eq!(back, s.context());
        assert_eq!(back.id(), s.id());
    }

    #[test]
    fn header_is_ascii_even_for_unicode_names() {
        let c = ctx("téléphone-📱", 1, 1, &[("téléphone-📱", 1), ("\"q\\\n", 3)]);
        let h = c.to_header();
        assert!(h.is_ascii(), "{h}");
        assert!(h.contains(r"t\u00e9l\u00e9phone-\ud83d\udcf1"), "{h}");
        assert_eq!(Context::from_header(&h).unwrap(), c);
    }

    #[test]
    fn header_ignores_unknown_fields_and_whitespace() {
        let h = r#" { "vc": {"a": 3}, "x": [1, {"y": null}], "lamport": 9, "seq": 3, "replica": "a" } "#;
        assert_eq!(
            Context::from_header(h).unwrap(),
            ctx("a", 3, 9, &[("a", 3)])
        );
    }

    #[test]
    fn malformed_headers_get_typed_errors() {
        use ClockError::*;
        type Expect = fn(&ClockError) -> bool;
        let cases: &[(&str, Expect)] = &[
            ("", |e| matches!(e, Malformed(_))),
            ("null", |e| matches!(e, Malformed(_))),
            ("[]", |e| matches!(e, Malformed(_))),
            (r#"{"replica":"a","seq":1,"lamport":1}"#, |e| {
                matches!(e, Malformed(_))
            }),
            (r#"{"replica":"a","seq":-1,"lamport":1,"vc":{}}"#, |e| {
                matches!(e, Malformed(_))
            }),
            (
                r#"{"replica":"a","seq":1.5,"lamport":1,"vc":{"a":1}}"#,
                |e| matches!(e, Malformed(_)),
            ),
            (
                r#"{"replica":"a","seq":1,"lamport":1,"vc":{"a":"1"}}"#,
                |e| matches!(e, Malformed(_)),
            ),
            (
                r#"{"replica":"a","seq":1,"lamport":1,"vc":{"a":18446744073709551616}}"#,
                |e| matches!(e, Malformed(_)),
            ),
            (
                r#"{"replica":"a","seq":1,"seq":1,"lamport":1,"vc":{"a":1}}"#,
                |e| matches!(e, Malformed(_)),
            ),
            (
                r#"{"replica":"a","seq":1,"lamport":1,"vc":{"a":1}} x"#,
                |e| matches!(e, Malformed(_)),
            ),
            (
                r#"{"replica":"a","seq":1,"lamport":1,"vc":{"a":1,"a":1}}"#,
                |e| matches!(e, DuplicateEntry(q) if q == "a"),
            ),
            (r#"{"replica":"","seq":1,"lamport":1,"vc":{"":1}}"#, |e| {
                matches!(e, InvalidReplica { len: 0 })
            }),
            (r#"{"replica":"a","seq":0,"lamport":1,"vc":{}}"#, |e| {
                matches!(e, ZeroSeq)
            }),
            (r#"{"replica":"a","seq":2,"lamport":1,"vc":{"a":1}}"#, |e| {
                matches!(e, OwnEntryMismatch { seq: 2, entry: 1 })
            }),
            (r#"{"replica":"a","seq":2,"lamport":1,"vc":{}}"#, |e| {
                matches!(e, OwnEntryMismatch { seq: 2, entry: 0 })
            }),
            (
                r#"{"replica":"a","seq":1,"lamport":9223372036854775808,"vc":{"a":1}}"#,
                |e| matches!(e, OutOfRange { field, value } if field == "lamport" && *value == 1 << 63),
            ),
            (
                r#"{"replica":"a","seq":1,"lamport":1,"vc":{"a":1,"b":18446744073709551615}}"#,
                |e| matches!(e, OutOfRange { field, .. } if field == r#"vc["b"]"#),
            ),
        ];
        for (h, ok) in cases {
            let e = Context::from_header(h).expect_err(h);
            assert!(ok(&e), "{h}: {e:?}");
            assert!(!e.to_string().is_empty());
        }
        let long = format!("{{}}{}", " ".repeat(MAX_HEADER_BYTES - 1));
        assert!(matches!(
            Context::from_header(&long),
            Err(HeaderTooLong { len }) if len == MAX_HEADER_BYTES + 1
        ));
        let long_name = format!(
            r#"{{"replica":"{0}","seq":1,"lamport":1,"vc":{{"{0}":1}}}}"#,
            "n".repeat(257)
        );
        assert!(matches!(
            Context::from_header(&long_name),
            Err(InvalidReplica { len: 257 })
        ));
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        // Unknown fields are skipped without recursion, whatever their depth.
        let deep = format!(
            r#"{{"x":{}{},"replica":"a","seq":1,"lamport":1,"vc":{{"a":1}}}}"#,
            "[".repeat(30_000),
            "]".repeat(30_000)
        );
        assert_eq!(
            Context::from_header(&deep).unwrap(),
            ctx("a", 1, 1, &[("a", 1)])
        );
        // Nesting where a number belongs is refused at once.
        let deep = format!(
            r#"{{"replica":"a","seq":1,"lamport":1,"vc":{{"a":{}1{}}}}}"#,
            "[".repeat(30_000),
            "]".repeat(30_000)
        );
        assert!(matches!(
            Context::from_header(&deep),
            Err(ClockError::Malformed(_))
        ));
    }

    #[test]
    fn validate_caps_the_vector_clock_size() {
        let mut c = ctx("a", 1, 1, &[("a", 1)]);
        for i in 0..MAX_VC_ENTRIES {
            c.vc.insert(format!("r{i}"), 1);
        }
        assert!(matches!(c.validate(), Err(ClockError::TooManyEntries)));
    }

    fn replica_name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z][a-z0-9-]{0,12}",
            "\\PC{1,20}",
            proptest::string::string_regex("[\\x00-\\x7f]{1,8}").unwrap(),
        ]
        .prop_filter("1 to 256 bytes", |s| !s.is_empty() && s.len() <= 256)
    }

    fn context() -> impl Strategy<Value = Context> {
        (
            replica_name(),
            1..=MAX_CLOCK,
            0..=MAX_CLOCK,
            proptest::collection::btree_map(replica_name(), 0..=MAX_CLOCK, 0..8),
        )
            .prop_map(|(replica, seq, lamport, mut vc)| {
                vc.insert(replica.clone(), seq);
                Context {
                    replica,
                    seq,
                    lamport,
                    vc,
                }
            })
    }

    proptest! {
        #[test]
        fn random_contexts_round_trip(c in context()) {
            let h = c.to_header();
            prop_assert!(h.is_ascii());
            prop_assert_eq!(Context::from_header(&h).unwrap(), c);
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = Context::from_header(&text);
        }

        #[test]
        fn random_json_like_text_never_panics(
            text in r#"[{}\[\]":,0-9a-z \-.eE\\]{0,120}"#
        ) {
            let _ = Context::from_header(&text);
        }

        #[test]
        fn mutated_headers_never_panic(
            c in context(),
            at in any::<proptest::sample::Index>(),
            b in any::<u8>(),
        ) {
            let mut h = c.to_header().into_bytes();
            let i = at.index(h.len());
            h[i] = b;
            let _ = Context::from_header(&String::from_utf8_lossy(&h));
        }
    }
}
