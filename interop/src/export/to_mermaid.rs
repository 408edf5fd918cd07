//! The Mermaid writer (see [`super::mermaid`] for the format).

use std::fmt::Write as _;

use weft_analyzer::{Analysis, EdgeKind, Severity};
use weft_trace::{Kind, Trace};

use super::marks::{self, Marks};
use super::select::{Link, Selection};
use super::text::{cut, summary, visible, VALUE_CHARS};

/// How many characters of a message id an arrow shows.
const MSG_CHARS: usize = 40;

pub(crate) fn write(trace: &Trace, analysis: &Analysis, sel: &Selection) -> String {
    let g = &analysis.graph;
    let n = g.len();
    let marks = marks::collect(trace, analysis);
    let mut out = String::with_capacity(32 + sel.count * 64);
    out.push_str("sequenceDiagram\n");
    for r in 0..g.replicas() as u32 {
        if g.replica_nodes(r).any(|v| sel.keep[v as usize]) {
            let name = trace.names().resolve(g.replica_sym(r));
            let _ = writeln!(out, "    participant p{r} as {}", text(name));
        }
    }

    // Which sends and recvs have their message arrow drawn.
    let mut sent = vec![false; n];
    let mut received = vec![false; n];
    for e in &sel.edges {
        if e.link == Link::Cross(EdgeKind::Message) {
            sent[e.from as usize] = true;
            received[e.to as usize] = true;
        }
    }

    // Causal order; with a cycle it leaves events out, which follow in id order.
    let mut order: Vec<u32> = Vec::with_capacity(sel.count);
    let mut placed = vec![false; n];
    for &v in &analysis.causal_order {
        if sel.keep[v as usize] && !placed[v as usize] {
            placed[v as usize] = true;
            order.push(v);
        }
    }
    order.extend((0..n as u32).filter(|&v| sel.keep[v as usize] && !placed[v as usize]));

    for v in order {
        let into = {
            let a = sel.edges.partition_point(|e| e.to < v);
            let b = sel.edges.partition_point(|e| e.to <= v);
            &sel.edges[a..b]
        };
        let e = &trace.events()[g.event(v)];
        for edge in into {
            let (from, to) = (g.rank(edge.from), g.rank(edge.to));
            match edge.link {
                Link::Program => {}
                Link::Cross(EdgeKind::Message) => {
                    let msg = e.msg().map(|m| trace.syms().resolve(m)).unwrap_or("");
                    let _ = writeln!(out, "    p{from}->>p{to}: {}", text(&cut(msg, MSG_CHARS)));
                }
                Link::Cross(EdgeKind::Parent) => {
                    let _ = writeln!(out, "    p{from}-->>p{to}: parent");
                }
                Link::Cross(EdgeKind::Clock) => {
                    let _ = writeln!(out, "    p{from}--)p{to}: vc");
                }
            }
        }
        let m = marks.get(&v);
        let arrow_drawn = match e.kind {
            Kind::Send => sent[v as usize],
            Kind::Recv => received[v as usize],
            _ => false,
        };
        if arrow_drawn && m.is_none() {
            continue;
        }
        let mut note = format!("{} {}", g.id(trace, v), summary(trace, e, VALUE_CHARS));
        if e.kind == Kind::Send && !sent[v as usize] {
            note.push_str(" (no receive drawn)");
        }
        if let Some(m) = m {
            mark_text(&mut note, m);
        }
        let _ = writeln!(out, "    Note over p{}: {}", g.rank(v), text(&note));
    }
    out
}

/// Appends the marks of an event: `⚠ conflict with r3@2`, `⛔ lamport-violation`, `⚠ seq-gap`.
fn mark_text(note: &mut String, m: &Marks) {
    for c in &m.conflicts {
        let _ = write!(note, " ⚠ conflict with {}", c.other);
    }
    let mut seen: Vec<&str> = Vec::new();
    for v in &m.violations {
        if seen.contains(&v.code.as_str()) {
            continue;
        }
        seen.push(v.code.as_str());
        let sign = match v.severity {
            Severity::Error => "⛔",
            Severity::Warning => "⚠",
        };
        let _ = write!(note, " {sign} {}", v.code);
    }
}

/// Text safe on one line of a Mermaid sequence diagram: control characters shown as Rust
/// escapes ([`visible`]), and the characters that end a statement (`;`), start an entity or a
/// comment (`#`, `%`), split a message from its text or start a `wrap:` prefix (`:`), or would
/// be read as HTML (`<`, `>`, `&`) written as Mermaid entity codes (`#59;`).
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in visible(s).chars() {
        match c {
            '#' | ';' | ':' | '%' | '<' | '>' | '&' => {
                let _ = write!(out, "#{};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}
