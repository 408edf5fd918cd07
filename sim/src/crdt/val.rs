//! [`Val`], what registers hold and sets contain, with its JSON text, digest and wire size; the
//! JSON writers live here because every CRDT's read is written with them.

use super::Digest;

/// A small value: what registers hold and sets contain. Ordered `Int`s first (numerically),
/// then `Str`s (bytewise).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Val {
    Int(i64),
    Str(Box<str>),
}

impl Val {
    /// Appends the value as JSON: `Int` as a number, `Str` as an escaped string.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Val::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
            Val::Str(s) => write_json_str(s, out),
        }
    }

    /// The value as JSON text.
    pub fn to_json(&self) -> String {
        let mut s = String::new();
        self.write_json(&mut s);
        s
    }

    pub fn digest(&self, h: &mut Digest) {
        match self {
            Val::Int(i) => {
                h.write_u64(1);
                h.write_u64(*i as u64);
            }
            Val::Str(s) => {
                h.write_u64(2);
                h.write_bytes(s.as_bytes());
            }
        }
    }

    /// Encoded size estimate: a tag byte plus 8 bytes, or a tag byte, a 2-byte length and the bytes.
    #[inline]
    pub fn wire_len(&self) -> usize {
        match self {
            Val::Int(_) => 9,
            Val::Str(s) => 3 + s.len(),
        }
    }
}

impl From<i64> for Val {
    fn from(i: i64) -> Self {
        Val::Int(i)
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Str(s.into())
    }
}

fn write_json_str(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => {
                out.push_str(&s[start..i]);
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        // `b` is ASCII, so `i` and `i + 1` are char boundaries.
        out.push_str(&s[start..i]);
        out.push_str(esc);
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

pub(super) fn write_json_array<'a>(vals: impl Iterator<Item = &'a Val>, out: &mut String) {
    out.push('[');
    for (i, v) in vals.enumerate() {
        if i > 0 {
            out.push(',');
        }
        v.write_json(out);
    }
    out.push(']');
}
