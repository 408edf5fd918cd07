//! The ShiViz log writer (see [`super::shiviz`] for the format and why).

use std::collections::HashSet;
use std::fmt::Write as _;

use weft_analyzer::{Analysis, CausalGraph};
use weft_trace::{EventRec, Trace};

use super::clocks::{pos, Clocks};
use super::text::{summary, VALUE_CHARS};
use super::ExportError;

/// The parsing regex on the first line of a ShiViz log, as GoVector writes it: a host without
/// whitespace, a space, the vector clock as a JSON object, a newline, the event text.
pub const SHIVIZ_REGEX: &str = r"(?<host>\S*) (?<clock>{.*})\n(?<event>.*)";

pub(crate) fn write(trace: &Trace, analysis: &Analysis) -> Result<String, ExportError> {
    let g = &analysis.graph;
    let clocks = Clocks::compute(analysis)?;
    let hosts = hosts(trace, g);
    let mut out = String::with_capacity(64 + g.len() * (48 + 16 * g.replicas()));
    out.push_str(SHIVIZ_REGEX);
    out.push_str("\n\n");
    for &v in &analysis.causal_order {
        let e = &trace.events()[g.event(v)];
        let r = g.rank(v) as usize;
        let row = clocks.row(v);

        // HOST {"own":n,"other":m,...}
        out.push_str(&hosts[r]);
        out.push_str(" {");
        json_str(&mut out, &hosts[r]);
        let _ = write!(out, ":{}", row[r]);
        for (q, &c) in row.iter().enumerate() {
            if q != r && c > 0 {
                out.push(',');
                json_str(&mut out, &hosts[q]);
                let _ = write!(out, ":{c}");
            }
        }
        out.push_str("}\n");

        // {"text":"...","weft":{...}}
        out.push_str("{\"text\":");
        json_str(&mut out, &summary(trace, e, VALUE_CHARS));
        out.push_str(",\"weft\":{");
        let mut first = true;
        let mut field = |out: &mut String, name: &str| {
            if !first {
                out.push(',');
            }
            first = false;
            json_str(out, name);
            out.push(':');
        };
        let name = trace.replica(e);
        if hosts[r] != name {
            field(&mut out, "replica");
            json_str(&mut out, name);
        }
        if e.seq != u64::from(pos(g, v)) {
            field(&mut out, "seq");
            let _ = write!(out, "{}", e.seq);
        }
        field(&mut out, "kind");
        json_str(&mut out, e.kind.as_str());
        if let Some(k) = e.key() {
            field(&mut out, "key");
            json_str(&mut out, trace.syms().resolve(k));
        }
        if e.flags & EventRec::HAS_OP != 0 {
            field(&mut out, "op");
            json_str(&mut out, e.op.as_str());
        }
        if let Some(value) = trace.value(e) {
            field(&mut out, "value");
            push_js(&mut out, serde_json::to_string(value));
        }
        if let Some(l) = e.lamport() {
            field(&mut out, "lamport");
            let _ = write!(out, "{l}");
        }
        if let Some(w) = e.wall_ns() {
            field(&mut out, "wall_ns");
            let _ = write!(out, "{w}");
        }
        if let Some(m) = e.msg() {
            field(&mut out, "msg");
            json_str(&mut out, trace.syms().resolve(m));
        }
        if e.has_parents() {
            field(&mut out, "parents");
            out.push('[');
            for (i, &(q, s)) in trace.parents(e).iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('[');
                json_str(&mut out, trace.names().resolve(q));
                let _ = write!(out, ",{s}]");
            }
            out.push(']');
        }
        if let Some(attrs) = trace.attrs(e) {
            field(&mut out, "attrs");
            push_js(&mut out, serde_json::to_string(attrs));
        }
        out.push_str("}}\n");
    }
    Ok(out)
}

/// The ShiViz host of each replica rank: the name with whitespace replaced by `_`, made unique
/// with `~2`, `~3`, … when that makes names collide.
fn hosts(trace: &Trace, g: &CausalGraph) -> Vec<String> {
    let base: Vec<String> = (0..g.replicas() as u32)
        .map(|r| {
            trace
                .names()
                .resolve(g.replica_sym(r))
                .chars()
                .map(|c| {
                    if c.is_whitespace() || c == '\u{feff}' {
                        '_'
                    } else {
                        c
                    }
                })
                .collect()
        })
        .collect();
    let taken: HashSet<&str> = base.iter().map(String::as_str).collect();
    let mut used: HashSet<String> = HashSet::with_capacity(base.len());
    let mut hosts = Vec::with_capacity(base.len());
    for b in &base {
        let mut host = b.clone();
        let mut k = 2u64;
        // A suffixed name must not be another replica's name either.
        while used.contains(&host) || (host != *b && taken.contains(host.as_str())) {
            host = format!("{b}~{k}");
            k += 1;
        }
        used.insert(host.clone());
        hosts.push(host);
    }
    hosts
}

/// Appends `s` as a JSON string.
fn json_str(out: &mut String, s: &str) {
    push_js(out, serde_json::to_string(s));
}

/// Appends JSON text that is also one line for JavaScript: U+2028 and U+2029, which JSON
/// allows raw in strings but JavaScript's `.` stops at, are escaped.
fn push_js(out: &mut String, text: serde_json::Result<String>) {
    let text = text.unwrap_or_else(|_| "null".to_string());
    if text.contains(['\u{2028}', '\u{2029}']) {
        out.push_str(
            &text
                .replace('\u{2028}', "\\u2028")
                .replace('\u{2029}', "\\u2029"),
        );
    } else {
        out.push_str(&text);
    }
}
