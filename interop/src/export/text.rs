//! Short human texts for events, shared by the exports.

use std::fmt::Write as _;

use weft_trace::{EventRec, Kind, Trace};

/// How many characters of a value a short text shows.
pub(crate) const VALUE_CHARS: usize = 40;

/// What an event did, in words: `write cart set 3`, `send m1`, `read cart`, `local`.
///
/// The kind, then the message id, the key, the op (always for a write, where an absent op means
/// `set`; otherwise only when the trace gave one) and the value as JSON, cut to `value_chars`
/// characters.
pub(crate) fn summary(trace: &Trace, e: &EventRec, value_chars: usize) -> String {
    let mut s = String::from(e.kind.as_str());
    if let Some(m) = e.msg() {
        s.push(' ');
        s.push_str(trace.syms().resolve(m));
    }
    if let Some(k) = e.key() {
        s.push(' ');
        s.push_str(trace.syms().resolve(k));
    }
    if e.kind == Kind::Write || e.flags & EventRec::HAS_OP != 0 {
        s.push(' ');
        s.push_str(e.op.as_str());
    }
    if let Some(v) = trace.value(e) {
        s.push(' ');
        let json = serde_json::to_string(v).unwrap_or_default();
        s.push_str(&cut(&json, value_chars));
    }
    s
}

/// `s` cut to at most `max` characters, the last one `…` when something was cut.
pub(crate) fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `s` with control characters shown as Rust escapes (`\n`, `\t`, `\u{1}`), so that text from
/// a trace never breaks a line of an export.
pub(crate) fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                _ => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
