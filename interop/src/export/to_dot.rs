//! The Graphviz writer (see [`super::dot`] for the format).

use std::fmt::Write as _;

use weft_analyzer::{Analysis, EdgeKind, Severity};
use weft_trace::Trace;

use super::marks::{self, Marks};
use super::select::{Edge, Link, Selection};
use super::text::{cut, summary, visible, VALUE_CHARS};

/// How many characters of a message id an edge label shows.
const MSG_CHARS: usize = 24;

pub(crate) fn write(trace: &Trace, analysis: &Analysis, sel: &Selection) -> String {
    let g = &analysis.graph;
    let marks = marks::collect(trace, analysis);
    let mut out = String::with_capacity(128 + sel.count * 96 + sel.edges.len() * 48);
    out.push_str("digraph weft {\n");
    // newrank: without it the dot layout fails ("trouble in init_rank") on many traces whose
    // cross edges run between clusters both ways.
    out.push_str("  graph [newrank=true, fontname=\"Helvetica\"];\n");
    out.push_str("  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    let ids: Vec<String> = (0..g.len() as u32)
        .map(|v| {
            if sel.keep[v as usize] {
                id(&g.id(trace, v).to_string())
            } else {
                String::new()
            }
        })
        .collect();
    for r in 0..g.replicas() as u32 {
        let run = g.replica_nodes(r);
        if !run.clone().any(|v| sel.keep[v as usize]) {
            continue;
        }
        let name = trace.names().resolve(g.replica_sym(r));
        let _ = writeln!(out, "  subgraph cluster_{r} {{");
        let _ = writeln!(out, "    label={};", label(&[name]));
        for v in run.clone().filter(|&v| sel.keep[v as usize]) {
            let e = &trace.events()[g.event(v)];
            let id_text = g.id(trace, v).to_string();
            let what = summary(trace, e, VALUE_CHARS);
            let _ = write!(out, "    {} [label=", ids[v as usize]);
            match marks.get(&v) {
                None => {
                    out.push_str(&label(&[&id_text, &what]));
                }
                Some(m) => {
                    out.push_str(&label(&[&id_text, &what, &mark_line(m)]));
                    node_style(&mut out, m);
                }
            }
            out.push_str("];\n");
        }
        // Program-order edges of this replica: the edges are grouped by target, and the
        // replica's nodes are one contiguous run.
        for e in edges_into(&sel.edges, run.start, run.end) {
            if e.link == Link::Program {
                let _ = writeln!(
                    out,
                    "    {} -> {};",
                    ids[e.from as usize], ids[e.to as usize]
                );
            }
        }
        out.push_str("  }\n");
    }
    for e in &sel.edges {
        let Link::Cross(kind) = e.link else {
            continue;
        };
        let _ = write!(
            out,
            "  {} -> {} [",
            ids[e.from as usize], ids[e.to as usize]
        );
        match kind {
            EdgeKind::Message => {
                let recv = &trace.events()[g.event(e.to)];
                let msg = recv.msg().map(|m| trace.syms().resolve(m)).unwrap_or("");
                let _ = write!(
                    out,
                    "style=solid, color=\"#1f77b4\", label={}, tooltip={}",
                    label(&[&cut(msg, MSG_CHARS)]),
                    label(&[&format!("message {msg}")])
                );
            }
            EdgeKind::Parent => {
                out.push_str("style=dashed, color=\"#2ca02c\", tooltip=\"parent\"");
            }
            EdgeKind::Clock => {
                out.push_str("style=dotted, color=\"#7f7f7f\", tooltip=\"vector clock\"");
            }
        }
        out.push_str("];\n");
    }
    out.push_str("}\n");
    out
}

/// The edges whose target is in `lo..hi` (edges are sorted by target).
fn edges_into(edges: &[Edge], lo: u32, hi: u32) -> &[Edge] {
    let a = edges.partition_point(|e| e.to < lo);
    let b = edges.partition_point(|e| e.to < hi);
    &edges[a..b]
}

/// The third label line of a marked event: `conflict · lamport-violation`.
fn mark_line(m: &Marks) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if !m.conflicts.is_empty() {
        parts.push("conflict");
    }
    for v in &m.violations {
        if !parts.contains(&v.code.as_str()) {
            parts.push(v.code.as_str());
        }
    }
    parts.join(" · ")
}

/// Colours and tooltip of a marked event.
fn node_style(out: &mut String, m: &Marks) {
    if !m.conflicts.is_empty() {
        out.push_str(", style=filled, fillcolor=magenta");
    }
    if let Some(worst) = m.worst() {
        let colour = match worst {
            Severity::Error => "red",
            Severity::Warning => "orange",
        };
        let _ = write!(out, ", color={colour}, fontcolor={colour}, penwidth=2");
    }
    let mut lines: Vec<String> = Vec::new();
    for c in &m.conflicts {
        let winner = match &c.winner {
            Some(w) => format!("{w} wins"),
            None => "no winner".to_string(),
        };
        lines.push(format!(
            "conflict on {} with {}: {winner} ({})",
            c.key, c.other, c.rule
        ));
    }
    for v in &m.violations {
        let sev = match v.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        lines.push(format!("{} ({sev}): {}", v.code, v.message));
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let _ = write!(out, ", tooltip={}", label(&refs));
}

/// A quoted DOT id that names `s` and nothing else.
///
/// Inside a quoted string DOT turns `\"` into `"`, drops a backslash before a newline and keeps
/// every other character. So `"` becomes `\"`, a backslash `\\` (kept as is: distinct from a
/// single one, and it can never precede a newline or the closing quote), newline and carriage
/// return `\n` and `\r`, other control characters `\x{HEX}`: the stored name decodes back to
/// `s` unambiguously.
pub(crate) fn id(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push('\t'),
            c if c.is_control() => {
                let _ = write!(out, "\\x{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A quoted DOT label (an escString) showing `lines`, one per line.
///
/// Text is shown as it is: control characters as Rust escapes ([`visible`]), backslashes
/// doubled (so `\N`, `\l`, … in a name are not Graphviz escapes), quotes as `\"`; the lines are
/// joined by the escString newline `\n`.
pub(crate) fn label(lines: &[&str]) -> String {
    let mut out = String::from("\"");
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push_str("\\n");
        }
        for c in visible(line).chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c => out.push(c),
            }
        }
    }
    out.push('"');
    out
}
