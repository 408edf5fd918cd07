//! Tests of `weft_interop::export`: the DOT output parsed back and compared with the graph (and
//! with brute-force transitive reductions and neighbourhoods), the ShiViz log's clocks compared
//! with brute-force implied clocks and re-read by a reference decoder, Mermaid goldens and
//! escaping.
//!
//! Goldens live in `tests/export_data/`; `WEFT_BLESS=1 cargo test -p weft-interop --test export`
//! rewrites them.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use weft_analyzer::{analyze_full, Analysis, EdgeKind};
use weft_interop::export::{self, Around, ExportError, ExportOptions, MERMAID_MAX_EVENTS};
use weft_trace::{EventId, ReadOptions, Trace};

// ---------------------------------------------------------------------------------------------
// Inputs

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/export_data")
}

fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures/")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".jsonl").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 10, "fixtures found: {names:?}");
    names
}

fn load_fixture(name: &str) -> Trace {
    let path = fixtures_dir().join(format!("{name}.jsonl"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    Trace::from_ndjson_str(&path.display().to_string(), &text, &ReadOptions::default())
        .expect("fixture parses")
}

fn trace_of(lines: &[Value]) -> Trace {
    if lines.is_empty() {
        // The reader refuses an input without events; the exports must still cope.
        return Trace::default();
    }
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    Trace::from_ndjson_str("test.jsonl", &text, &ReadOptions::default()).expect("trace parses")
}

/// Compares `actual` with the golden file, or rewrites it with `WEFT_BLESS=1`.
fn golden(file: &str, actual: &str) {
    let path = data_dir().join(file);
    if std::env::var_os("WEFT_BLESS").is_some() {
        std::fs::create_dir_all(data_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run with WEFT_BLESS=1 to write it",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs (WEFT_BLESS=1 rewrites it)\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

fn opts(reduce: bool, around: Option<(EventId, u32)>) -> ExportOptions {
    ExportOptions {
        transitive_reduction: reduce,
        around: around.map(|(event, depth)| Around { event, depth }),
    }
}

// ---------------------------------------------------------------------------------------------
// The graph, by ids, independent of the export code

/// Node numbers of the analysis' graph with their ids, and the direct edges as
/// `(from, to, class)`, class `program`, `solid` (message), `dashed` (parent), `dotted` (clock).
struct Ref {
    ids: Vec<EventId>,
    edges: Vec<(u32, u32, &'static str)>,
}

fn style_of(k: EdgeKind) -> &'static str {
    match k {
        EdgeKind::Message => "solid",
        EdgeKind::Parent => "dashed",
        EdgeKind::Clock => "dotted",
    }
}

impl Ref {
    fn new(trace: &Trace, a: &Analysis) -> Ref {
        let g = &a.graph;
        let ids = (0..g.len() as u32).map(|v| g.id(trace, v)).collect();
        let mut edges = Vec::new();
        for v in 0..g.len() as u32 {
            if let Some(p) = g.prev(v) {
                edges.push((p, v, "program"));
            }
            for (&u, &k) in g.cross_preds(v).iter().zip(g.cross_pred_kinds(v)) {
                edges.push((u, v, style_of(k)));
            }
        }
        Ref { ids, edges }
    }

    fn n(&self) -> usize {
        self.ids.len()
    }

    /// reach[u] = every node reachable from u by a path of one edge or more.
    fn reach(&self, pairs: &BTreeSet<(u32, u32)>) -> Vec<BTreeSet<u32>> {
        let mut succ = vec![Vec::new(); self.n()];
        for &(u, v) in pairs {
            succ[u as usize].push(v);
        }
        (0..self.n())
            .map(|s| {
                let mut seen = BTreeSet::new();
                let mut stack: Vec<u32> = succ[s].clone();
                while let Some(x) = stack.pop() {
                    if seen.insert(x) {
                        stack.extend(&succ[x as usize]);
                    }
                }
                seen
            })
            .collect()
    }

    /// The brute-force transitive reduction: an edge (pair) is kept iff no other path joins its
    /// ends. Each kept pair keeps the class of its cross edge when there is one.
    fn reduced(&self) -> Vec<(u32, u32, &'static str)> {
        let pairs: BTreeSet<(u32, u32)> = self.edges.iter().map(|e| (e.0, e.1)).collect();
        let reach = self.reach(&pairs);
        let mut kept = Vec::new();
        for &(u, v) in &pairs {
            let other_path = pairs
                .iter()
                .any(|&(a, w)| a == u && w != v && reach[w as usize].contains(&v));
            if !other_path {
                let class = self
                    .edges
                    .iter()
                    .filter(|e| e.0 == u && e.1 == v)
                    .map(|e| e.2)
                    .find(|&c| c != "program")
                    .unwrap_or("program");
                kept.push((u, v, class));
            }
        }
        kept
    }

    /// Brute-force neighbourhood: BFS over `edges` in both directions up to `depth`.
    fn around(
        &self,
        edges: &[(u32, u32, &'static str)],
        centre: u32,
        depth: u32,
    ) -> (BTreeSet<u32>, Vec<(u32, u32, &'static str)>) {
        let mut dist: HashMap<u32, u32> = HashMap::from([(centre, 0)]);
        let mut queue = VecDeque::from([centre]);
        while let Some(u) = queue.pop_front() {
            let d = dist[&u];
            if d == depth {
                continue;
            }
            for &(a, b, _) in edges {
                for (x, y) in [(a, b), (b, a)] {
                    if x == u && !dist.contains_key(&y) {
                        dist.insert(y, d + 1);
                        queue.push_back(y);
                    }
                }
            }
        }
        let nodes: BTreeSet<u32> = dist.keys().copied().collect();
        let kept = edges
            .iter()
            .filter(|e| nodes.contains(&e.0) && nodes.contains(&e.1))
            .copied()
            .collect();
        (nodes, kept)
    }
}

// ---------------------------------------------------------------------------------------------
// A DOT parser for the subset the exporter writes

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// An id as Graphviz stores it, and whether it was quoted (keywords are only unquoted).
    Id(String, bool),
    Punct(&'static str),
}

/// Graphviz's lexer: in a quoted string `\"` is `"`, `\\` stays two backslashes, a backslash
/// before a newline is dropped with the newline, everything else is kept.
fn lex(s: &str) -> Vec<Tok> {
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        match c[i] {
            w if w.is_whitespace() => i += 1,
            '"' => {
                i += 1;
                let mut id = String::new();
                loop {
                    assert!(i < c.len(), "unterminated string");
                    match c[i] {
                        '"' => {
                            i += 1;
                            break;
                        }
                        '\\' if c.get(i + 1) == Some(&'"') => {
                            id.push('"');
                            i += 2;
                        }
                        '\\' if c.get(i + 1) == Some(&'\\') => {
                            id.push_str("\\\\");
                            i += 2;
                        }
                        '\\' if c.get(i + 1) == Some(&'\n') => i += 2,
                        ch => {
                            id.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Id(id, true));
            }
            '-' if c.get(i + 1) == Some(&'>') => {
                out.push(Tok::Punct("->"));
                i += 2;
            }
            '{' | '}' | '[' | ']' | '=' | ';' | ',' => {
                let p = match c[i] {
                    '{' => "{",
                    '}' => "}",
                    '[' => "[",
                    ']' => "]",
                    '=' => "=",
                    ';' => ";",
                    _ => ",",
                };
                out.push(Tok::Punct(p));
                i += 1;
            }
            ch if ch.is_alphanumeric() || ch == '_' || ch == '.' => {
                let start = i;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '.') {
                    i += 1;
                }
                out.push(Tok::Id(c[start..i].iter().collect(), false));
            }
            ch => panic!("unexpected character {ch:?} in DOT at {i}"),
        }
    }
    out
}

type Attrs = BTreeMap<String, String>;

#[derive(Debug, Default)]
struct Dot {
    /// Node (stored id) → attributes.
    nodes: BTreeMap<String, Attrs>,
    /// Node → the cluster it was declared in.
    node_cluster: BTreeMap<String, String>,
    /// Cluster → label.
    clusters: BTreeMap<String, String>,
    /// (from, to, attributes, cluster the edge statement is in).
    edges: Vec<(String, String, Attrs, Option<String>)>,
}

struct Parser {
    toks: Vec<Tok>,
    i: usize,
}

impl Parser {
    fn next(&mut self) -> Tok {
        let t = self
            .toks
            .get(self.i)
            .cloned()
            .expect("unexpected end of DOT");
        self.i += 1;
        t
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }
    fn id(&mut self) -> String {
        match self.next() {
            Tok::Id(s, _) => s,
            t => panic!("expected an id, got {t:?}"),
        }
    }
    fn punct(&mut self, p: &str) {
        assert_eq!(
            self.next(),
            Tok::Punct(match p {
                "{" => "{",
                "}" => "}",
                "[" => "[",
                "]" => "]",
                "=" => "=",
                _ => panic!("punct {p}"),
            })
        );
    }
    fn attrs(&mut self) -> Attrs {
        let mut a = Attrs::new();
        if self.peek() != Some(&Tok::Punct("[")) {
            return a;
        }
        self.punct("[");
        loop {
            match self.next() {
                Tok::Punct("]") => break,
                Tok::Punct(",") | Tok::Punct(";") => {}
                Tok::Id(k, _) => {
                    self.punct("=");
                    let v = self.id();
                    assert!(a.insert(k.clone(), v).is_none(), "attribute {k} twice");
                }
                t => panic!("unexpected {t:?} in an attribute list"),
            }
        }
        a
    }
    fn stmts(&mut self, dot: &mut Dot, cluster: Option<&str>) {
        loop {
            match self.next() {
                Tok::Punct("}") => return,
                Tok::Punct(";") => {}
                Tok::Id(k, false) if k == "subgraph" => {
                    let name = self.id();
                    assert!(cluster.is_none(), "nested subgraph");
                    assert!(name.starts_with("cluster_"), "subgraph {name}");
                    self.punct("{");
                    dot.clusters.insert(name.clone(), String::new());
                    self.stmts(dot, Some(&name));
                }
                Tok::Id(k, false) if k == "node" || k == "edge" || k == "graph" => {
                    self.attrs();
                }
                Tok::Id(a, _) => match self.peek() {
                    Some(Tok::Punct("=")) => {
                        self.punct("=");
                        let v = self.id();
                        if let (Some(c), "label") = (cluster, a.as_str()) {
                            dot.clusters.insert(c.to_string(), v);
                        }
                    }
                    Some(Tok::Punct("->")) => {
                        self.next();
                        let b = self.id();
                        let attrs = self.attrs();
                        dot.edges.push((a, b, attrs, cluster.map(str::to_string)));
                    }
                    _ => {
                        let attrs = self.attrs();
                        assert!(
                            dot.nodes.insert(a.clone(), attrs).is_none(),
                            "node {a} declared twice"
                        );
                        if let Some(c) = cluster {
                            dot.node_cluster.insert(a, c.to_string());
                        }
                    }
                },
                t => panic!("unexpected {t:?}"),
            }
        }
    }
}

fn parse_dot(s: &str) -> Dot {
    let mut p = Parser { toks: lex(s), i: 0 };
    assert_eq!(p.next(), Tok::Id("digraph".into(), false));
    assert_eq!(p.id(), "weft");
    p.punct("{");
    let mut dot = Dot::default();
    p.stmts(&mut dot, None);
    assert!(p.peek().is_none(), "text after the graph");
    dot
}

/// A stored node id back to the name it encodes (the exporter's id scheme).
fn decode_id(stored: &str) -> String {
    let mut out = String::new();
    let mut it = stored.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('x') => {
                assert_eq!(it.next(), Some('{'));
                let hex: String = it.by_ref().take_while(|&c| c != '}').collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
            }
            other => panic!("unexpected escape \\{other:?} in id {stored:?}"),
        }
    }
    out
}

/// A stored escString label as Graphviz shows it (`\n`, `\l`, `\r` end lines, `\\` is `\`).
fn decode_label(stored: &str) -> String {
    let mut out = String::new();
    let mut it = stored.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('\\') => out.push('\\'),
            Some('n' | 'l' | 'r') => out.push('\n'),
            other => panic!("unexpected escape \\{other:?} in label {stored:?}"),
        }
    }
    out
}

/// Control characters as Rust escapes: what labels show.
fn visible(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' => "\\n".to_string(),
            '\r' => "\\r".to_string(),
            '\t' => "\\t".to_string(),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                format!("\\u{{{:x}}}", c as u32)
            }
            c => c.to_string(),
        })
        .collect()
}

/// Checks a DOT export against the expected nodes and edges (by node number).
fn check_dot(
    trace: &Trace,
    r: &Ref,
    dot_text: &str,
    nodes: &BTreeSet<u32>,
    edges: &[(u32, u32, &'static str)],
) {
    let dot = parse_dot(dot_text);
    let by_id: HashMap<String, u32> = r
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.to_string(), i as u32))
        .collect();
    let node_of = |stored: &str| -> u32 {
        *by_id
            .get(&decode_id(stored))
            .unwrap_or_else(|| panic!("node {stored:?} is no event"))
    };

    // Nodes: exactly the expected events, each labelled with its id first.
    let got: BTreeSet<u32> = dot.nodes.keys().map(|k| node_of(k)).collect();
    assert_eq!(&got, nodes, "node set");
    for (k, attrs) in &dot.nodes {
        let label = decode_label(&attrs["label"]);
        let first = label.split('\n').next().unwrap();
        assert_eq!(first, visible(&decode_id(k)), "label of {k:?}");
    }

    // Clusters: one per replica with drawn events, labelled with its name, holding its events.
    let mut expected_clusters: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for &v in nodes {
        expected_clusters
            .entry(r.ids[v as usize].replica.to_string())
            .or_default()
            .insert(v);
    }
    let mut got_clusters: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for (node, cluster) in &dot.node_cluster {
        let label = decode_label(&dot.clusters[cluster]);
        got_clusters.entry(label).or_default().insert(node_of(node));
    }
    assert_eq!(
        dot.node_cluster.len(),
        dot.nodes.len(),
        "every node in a cluster"
    );
    assert_eq!(dot.clusters.len(), expected_clusters.len(), "cluster count");
    let expected_clusters: BTreeMap<String, BTreeSet<u32>> = expected_clusters
        .into_iter()
        .map(|(k, v)| (visible(&k), v))
        .collect();
    assert_eq!(got_clusters, expected_clusters, "clusters");

    // Edges: the expected multiset; program-order edges plain and inside their cluster.
    let mut got_edges: Vec<(u32, u32, &'static str)> = Vec::new();
    for (a, b, attrs, cluster) in &dot.edges {
        let (u, v) = (node_of(a), node_of(b));
        let class = match attrs.get("style").map(String::as_str) {
            None => {
                assert!(attrs.is_empty(), "program edge with attributes {attrs:?}");
                assert_eq!(
                    cluster.as_ref(),
                    dot.node_cluster.get(a),
                    "program edge cluster"
                );
                assert_eq!(
                    cluster.as_ref(),
                    dot.node_cluster.get(b),
                    "program edge cluster"
                );
                "program"
            }
            Some("solid") => "solid",
            Some("dashed") => "dashed",
            Some("dotted") => "dotted",
            Some(s) => panic!("style {s}"),
        };
        if class != "program" {
            assert!(cluster.is_none(), "cross edges are outside the clusters");
        }
        got_edges.push((u, v, class));
    }
    got_edges.sort();
    let mut want = edges.to_vec();
    want.sort();
    assert_eq!(got_edges, want, "edge multiset");
    let _ = trace;
}

/// All four option combinations checked on one trace (acyclic), with `around` at `centre`.
fn check_all_dot(trace: &Trace, a: &Analysis, centre: u32, depth: u32) {
    let r = Ref::new(trace, a);
    let all: BTreeSet<u32> = (0..r.n() as u32).collect();

    let full = export::dot(trace, a, &opts(false, None)).unwrap();
    check_dot(trace, &r, &full, &all, &r.edges);

    let reduced_edges = r.reduced();
    let reduced = export::dot(trace, a, &opts(true, None)).unwrap();
    check_dot(trace, &r, &reduced, &all, &reduced_edges);

    if r.n() == 0 {
        return;
    }
    let id = r.ids[centre as usize].clone();
    for (reduce, edges) in [(false, &r.edges), (true, &reduced_edges)] {
        let (nodes, kept) = r.around(edges, centre, depth);
        let text = export::dot(trace, a, &opts(reduce, Some((id.clone(), depth)))).unwrap();
        check_dot(trace, &r, &text, &nodes, &kept);
    }
}

// ---------------------------------------------------------------------------------------------
// DOT tests

#[test]
fn dot_matches_the_graph_on_every_fixture() {
    for name in fixture_names() {
        let trace = load_fixture(&name);
        let a = analyze_full(&trace);
        let r = Ref::new(&trace, &a);
        if !a.report.summary.complete {
            // Drawn as it is; reduction refused.
            let all: BTreeSet<u32> = (0..r.n() as u32).collect();
            let text = export::dot(&trace, &a, &opts(false, None)).unwrap();
            check_dot(&trace, &r, &text, &all, &r.edges);
            assert_eq!(
                export::dot(&trace, &a, &opts(true, None)),
                Err(ExportError::Cycle),
                "{name}"
            );
            continue;
        }
        for centre in 0..r.n() as u32 {
            for depth in [0, 1, 2, 3] {
                check_all_dot(&trace, &a, centre, depth);
            }
        }
    }
}

#[test]
fn dot_reduction_drops_implied_edges() {
    // a@1 → a@2 → b@1 (message), a@1 → b@1 (parents, implied by the path), b@1 → b@2.
    let trace = trace_of(&[
        json!({"replica":"a","seq":1}),
        json!({"replica":"a","seq":2,"kind":"send","msg":"m"}),
        json!({"replica":"b","seq":1,"kind":"recv","msg":"m","parents":[["a",1]]}),
        json!({"replica":"b","seq":2,"kind":"write","key":"k","value":1}),
    ]);
    let a = analyze_full(&trace);
    let full = export::dot(&trace, &a, &opts(false, None)).unwrap();
    assert!(full.contains("\"a@1\" -> \"b@1\" [style=dashed"), "{full}");
    let reduced = export::dot(&trace, &a, &opts(true, None)).unwrap();
    assert!(!reduced.contains("\"a@1\" -> \"b@1\""), "{reduced}");
    assert!(
        reduced.contains("\"a@2\" -> \"b@1\" [style=solid"),
        "{reduced}"
    );
    assert!(reduced.contains("\"a@1\" -> \"a@2\";"), "{reduced}");
}

#[test]
fn dot_marks_conflicts_and_violations() {
    let trace = load_fixture("partition-heal");
    let a = analyze_full(&trace);
    let dot = parse_dot(&export::dot(&trace, &a, &opts(false, None)).unwrap());
    // r2@3 and r3@3 conflict on config; r4@2 has a wall-clock-inversion (warning).
    for id in ["r2@3", "r3@3", "r1@3", "r4@4"] {
        let attrs = &dot.nodes[id];
        assert_eq!(attrs["fillcolor"], "magenta", "{id}");
        assert!(attrs["tooltip"].contains("conflict on"), "{id}");
    }
    let r4 = &dot.nodes["r4@2"];
    assert_eq!(r4["color"], "orange");
    assert!(r4["tooltip"].starts_with("wall-clock-inversion (warning)"));
    assert!(!dot.nodes["r1@1"].contains_key("color"));

    let trace = load_fixture("lamport-violation");
    let a = analyze_full(&trace);
    let dot = parse_dot(&export::dot(&trace, &a, &opts(false, None)).unwrap());
    let r1 = &dot.nodes["r1@3"];
    assert_eq!(r1["color"], "red");
    assert!(r1["tooltip"].contains("lamport-violation (error)"));
    assert!(decode_label(&r1["label"]).ends_with("\nlamport-violation"));
}

#[test]
fn dot_escapes_hostile_names() {
    let names = [
        "quote\"d",
        "back\\slash",
        "ends with backslash\\",
        "new\nline",
        "cr\rlf",
        "\\N and \\l",
        "ctl\u{1}\u{7f}",
        "tab\there",
        "node",
        "subgraph",
        "a@b",
        "{[;=,]}->",
    ];
    let mut lines = Vec::new();
    for (i, name) in names.iter().enumerate() {
        lines
            .push(json!({"replica": name, "seq": 1, "kind": "send", "msg": format!("m\"{i}\\\n")}));
        lines.push(
            json!({"replica": name, "seq": 2, "kind": "write", "key": "k\n\"", "value": "v\\\"\n"}),
        );
        let next = names[(i + 1) % names.len()];
        lines.push(
            json!({"replica": next, "seq": 3 + i, "kind": "recv", "msg": format!("m\"{i}\\\n")}),
        );
    }
    let trace = trace_of(&lines);
    let a = analyze_full(&trace);
    let r = Ref::new(&trace, &a);
    let text = export::dot(&trace, &a, &opts(false, None)).unwrap();
    assert!(!text.contains("\\\n"), "no backslash-newline");
    let all: BTreeSet<u32> = (0..r.n() as u32).collect();
    check_dot(&trace, &r, &text, &all, &r.edges);
    // Labels show the key and value as they are.
    let dot = parse_dot(&text);
    let (_, attrs) = dot
        .nodes
        .iter()
        .find(|(k, _)| decode_id(k) == "quote\"d@2")
        .expect("node quote\"d@2");
    let label = decode_label(&attrs["label"]);
    assert_eq!(
        label,
        "quote\"d@2\nwrite k\\n\" set \"v\\\\\\\"\\n\"\nconflict"
    );
}

#[test]
fn dot_around_unknown_event() {
    let trace = load_fixture("edges-msg");
    let a = analyze_full(&trace);
    for reduce in [false, true] {
        assert_eq!(
            export::dot(&trace, &a, &opts(reduce, Some((EventId::new("r1", 99), 1)))),
            Err(ExportError::UnknownEvent(EventId::new("r1", 99)))
        );
        assert_eq!(
            export::dot(
                &trace,
                &a,
                &opts(reduce, Some((EventId::new("nobody", 1), 1)))
            ),
            Err(ExportError::UnknownEvent(EventId::new("nobody", 1)))
        );
    }
}

#[test]
fn analysis_of_another_trace_is_an_error() {
    let t1 = load_fixture("edges-msg");
    let t2 = load_fixture("partition-heal");
    let a2 = analyze_full(&t2);
    let o = opts(false, None);
    for r in [
        export::dot(&t1, &a2, &o),
        export::mermaid(&t1, &a2, &o),
        export::shiviz(&t1, &a2, &o),
    ] {
        assert!(
            matches!(r, Err(ExportError::AnalysisMismatch { .. })),
            "{r:?}"
        );
    }
}

#[test]
fn empty_trace_exports() {
    let trace = Trace::default();
    let a = analyze_full(&trace);
    let o = opts(true, None);
    assert_eq!(
        export::shiviz(&trace, &a, &o).unwrap(),
        format!("{}\n\n", export::SHIVIZ_REGEX)
    );
    let dot = parse_dot(&export::dot(&trace, &a, &o).unwrap());
    assert!(dot.nodes.is_empty() && dot.edges.is_empty());
    assert_eq!(
        export::mermaid(&trace, &a, &o).unwrap(),
        "sequenceDiagram\n"
    );
}

// ---------------------------------------------------------------------------------------------
// ShiViz

/// One ShiViz record: host, clock, event text.
struct Record {
    host: String,
    clock: BTreeMap<String, u64>,
    event: Value,
}

/// Reads our ShiViz log with the regex its first line names (as ShiViz and the importer do).
fn read_log(log: &str) -> Vec<Record> {
    let (head, body) = log.split_once("\n\n").expect("header and delimiter lines");
    assert_eq!(head, export::SHIVIZ_REGEX);
    assert!(!head.contains('\n'));
    // The regex is JavaScript's (ShiViz runs in a browser): an unescaped `{` that starts no
    // repetition is a literal there, but an error for Rust's regex crate.
    let rust = export::SHIVIZ_REGEX.replace("{.*}", r"\{.*\}");
    let re = regex::Regex::new(&format!("(?m)^{rust}$")).expect("regex");
    let mut records = Vec::new();
    let mut covered = 0;
    for c in re.captures_iter(body) {
        let m = c.get(0).unwrap();
        assert_eq!(
            m.start(),
            covered,
            "text between records: {:?}",
            &body[covered..m.start()]
        );
        covered = m.end() + 1;
        let clock: BTreeMap<String, u64> =
            serde_json::from_str(&c["clock"]).expect("clock is a JSON object of counters");
        records.push(Record {
            host: c["host"].to_string(),
            clock,
            event: serde_json::from_str(&c["event"]).expect("event text is JSON"),
        });
    }
    assert_eq!(covered, body.len(), "every line is part of a record");
    assert_eq!(body.lines().count(), 2 * records.len());
    records
}

/// Per event, the number of each replica's events in its causal past (BFS), by replica name.
fn brute_clocks(trace: &Trace, a: &Analysis) -> Vec<BTreeMap<String, u64>> {
    let r = Ref::new(trace, a);
    let mut preds = vec![Vec::new(); r.n()];
    for &(u, v, _) in &r.edges {
        preds[v as usize].push(u);
    }
    (0..r.n())
        .map(|v| {
            let mut seen = BTreeSet::from([v as u32]);
            let mut stack = vec![v as u32];
            while let Some(x) = stack.pop() {
                for &p in &preds[x as usize] {
                    if seen.insert(p) {
                        stack.push(p);
                    }
                }
            }
            let mut clock = BTreeMap::new();
            for x in seen {
                *clock
                    .entry(r.ids[x as usize].replica.to_string())
                    .or_insert(0) += 1;
            }
            clock
        })
        .collect()
}

/// Checks a ShiViz export of an acyclic trace whose replica names have no whitespace: clocks
/// are the implied ones, counters rise by one per host, order is causal, the event text carries
/// the event's fields.
fn check_shiviz(trace: &Trace, a: &Analysis, log: &str) {
    let records = read_log(log);
    let r = Ref::new(trace, a);
    assert_eq!(records.len(), r.n());
    let brute = brute_clocks(trace, a);
    let mut counter: HashMap<String, u64> = HashMap::new();
    let mut line_of: HashMap<EventId, usize> = HashMap::new();
    let hosts: BTreeSet<&str> = records.iter().map(|x| x.host.as_str()).collect();
    for (i, rec) in records.iter().enumerate() {
        // Host counters start at 1 and rise by exactly 1; clocks name only hosts in the log.
        let c = counter.entry(rec.host.clone()).or_insert(0);
        *c += 1;
        assert_eq!(
            rec.clock.get(&rec.host),
            Some(&*c),
            "own entry of record {i}"
        );
        for (h, &n) in &rec.clock {
            assert!(hosts.contains(h.as_str()), "clock names unknown host {h}");
            assert!(n > 0, "zero entries are left out");
        }
        // Which event: the host's c-th event; seq in the text when it differs.
        let run: Vec<u32> = (0..r.n() as u32)
            .filter(|&v| *r.ids[v as usize].replica == *rec.host)
            .collect();
        let v = run[*c as usize - 1];
        let id = &r.ids[v as usize];
        let weft = &rec.event["weft"];
        if id.seq == *c {
            assert!(weft.get("seq").is_none());
        } else {
            assert_eq!(weft["seq"], json!(id.seq));
        }
        assert_eq!(rec.clock, brute[v as usize], "clock of {id}");
        line_of.insert(id.clone(), i);

        // The fields of the event.
        let ev = trace.to_event(a.graph.event(v));
        assert_eq!(weft["kind"], json!(ev.kind.as_str()));
        assert_eq!(weft.get("key").cloned(), ev.key.map(Value::from));
        assert_eq!(weft.get("msg").cloned(), ev.msg.map(Value::from));
        assert_eq!(
            weft.get("op").cloned(),
            ev.op.map(|o| Value::from(o.as_str()))
        );
        assert_eq!(weft.get("value").cloned(), ev.value);
        assert_eq!(weft.get("lamport").cloned(), ev.lamport.map(Value::from));
        assert_eq!(weft.get("wall_ns").cloned(), ev.wall_ns.map(Value::from));
        assert_eq!(
            weft.get("parents").cloned(),
            ev.parents.map(|p| serde_json::to_value(p).unwrap())
        );
        assert_eq!(weft.get("attrs").cloned(), ev.attrs.map(Value::Object));
        assert!(weft.get("vc").is_none() && weft.get("replica").is_none());
        assert!(rec.event["text"]
            .as_str()
            .unwrap()
            .starts_with(ev.kind.as_str()));
    }
    // Causal order: every edge goes forwards in the log.
    for &(u, v, _) in &r.edges {
        assert!(line_of[&r.ids[u as usize]] < line_of[&r.ids[v as usize]]);
    }
}

/// A reference decoder of our ShiViz logs (what the importer is meant to do): host → replica
/// (or `weft.replica`), seq = the own clock entry (or `weft.seq`), vc = the clock with positions
/// turned back into seqs, the other fields from `weft`.
fn reimport(log: &str) -> Trace {
    let records = read_log(log);
    let mut seqs: HashMap<String, Vec<u64>> = HashMap::new();
    for rec in &records {
        let seq = rec.event["weft"]
            .get("seq")
            .and_then(Value::as_u64)
            .unwrap_or(rec.clock[&rec.host]);
        seqs.entry(rec.host.clone()).or_default().push(seq);
    }
    let names: HashMap<String, String> = records
        .iter()
        .map(|rec| {
            let name = rec.event["weft"]
                .get("replica")
                .and_then(Value::as_str)
                .unwrap_or(&rec.host);
            (rec.host.clone(), name.to_string())
        })
        .collect();
    let lines: Vec<Value> = records
        .iter()
        .map(|rec| {
            let mut obj: Map<String, Value> = rec.event["weft"].as_object().unwrap().clone();
            let own = rec.clock[&rec.host];
            obj.insert("replica".into(), json!(names[&rec.host]));
            obj.insert("seq".into(), json!(seqs[&rec.host][own as usize - 1]));
            let vc: Map<String, Value> = rec
                .clock
                .iter()
                .map(|(h, &k)| (names[h].clone(), json!(seqs[h][k as usize - 1])))
                .collect();
            obj.insert("vc".into(), Value::Object(vc));
            Value::Object(obj)
        })
        .collect();
    trace_of(&lines)
}

/// Happens-before as a set of id pairs.
fn happens_before(trace: &Trace, a: &Analysis) -> BTreeSet<(EventId, EventId)> {
    let r = Ref::new(trace, a);
    let pairs: BTreeSet<(u32, u32)> = r.edges.iter().map(|e| (e.0, e.1)).collect();
    let reach = r.reach(&pairs);
    let mut out = BTreeSet::new();
    for (u, set) in reach.iter().enumerate() {
        for &v in set {
            out.insert((r.ids[u].clone(), r.ids[v as usize].clone()));
        }
    }
    out
}

#[test]
fn shiviz_golden_partition_heal() {
    let trace = load_fixture("partition-heal");
    let a = analyze_full(&trace);
    let log = export::shiviz(&trace, &a, &opts(false, None)).unwrap();
    golden("partition-heal.shiviz.log", &log);
    // The reduction option changes nothing: a ShiViz log has clocks, not edges.
    assert_eq!(export::shiviz(&trace, &a, &opts(true, None)).unwrap(), log);
}

#[test]
fn shiviz_clocks_are_the_implied_ones_on_every_fixture() {
    for name in fixture_names() {
        let trace = load_fixture(&name);
        let a = analyze_full(&trace);
        let res = export::shiviz(&trace, &a, &opts(false, None));
        if !a.report.summary.complete {
            assert_eq!(res, Err(ExportError::Cycle), "{name}");
            continue;
        }
        let log = res.unwrap();
        check_shiviz(&trace, &a, &log);
        let back = reimport(&log);
        let b = analyze_full(&back);
        assert_eq!(
            happens_before(&back, &b),
            happens_before(&trace, &a),
            "{name}"
        );
    }
}

#[test]
fn shiviz_round_trip_keeps_the_report() {
    // Fixtures whose report depends only on what the log carries: no vc that contradicts the
    // graph (the log holds the implied clocks), no duplicate copies (the trace keeps one).
    for name in fixture_names() {
        if [
            "causality-cycle",
            "vc-mismatch",
            "missing-event-vc",
            "duplicate-event",
            "shuffled-duplicates",
        ]
        .contains(&name.as_str())
            // Section 8's fixtures: reads-cycle has a cycle, and a ShiViz log carries no crdt
            // declarations nor read values as weft reads them back.
            || name.starts_with("reads-")
        {
            continue;
        }
        let trace = load_fixture(&name);
        let a = analyze_full(&trace);
        let log = export::shiviz(&trace, &a, &opts(false, None)).unwrap();
        let back = analyze_full(&reimport(&log));
        assert_eq!(
            back.report.to_json(),
            a.report.to_json(),
            "{name}: report after weft → shiviz → weft"
        );
    }
}

#[test]
fn shiviz_renumbers_gaps_and_keeps_seq() {
    let trace = load_fixture("seq-gap");
    let a = analyze_full(&trace);
    let log = export::shiviz(&trace, &a, &opts(false, None)).unwrap();
    let records = read_log(&log);
    let r1: Vec<(u64, Option<u64>)> = records
        .iter()
        .filter(|x| x.host == "r1")
        .map(|x| {
            (
                x.clock["r1"],
                x.event["weft"].get("seq").and_then(Value::as_u64),
            )
        })
        .collect();
    assert_eq!(r1, [(1, None), (2, None), (3, Some(4)), (4, Some(5))]);
}

#[test]
fn shiviz_hosts_without_whitespace() {
    let trace = trace_of(&[
        json!({"replica":"a b","seq":1,"kind":"send","msg":"m"}),
        json!({"replica":"a_b","seq":1,"kind":"recv","msg":"m"}),
        json!({"replica":"a\tb","seq":1,"kind":"write","key":"k\u{2028}","value":"\u{2029}"}),
        json!({"replica":"a_b~2","seq":1}),
        json!({"replica":"\u{feff}x\u{3000}","seq":1,"attrs":{"note":"line\nbreak"}}),
    ]);
    let a = analyze_full(&trace);
    let log = export::shiviz(&trace, &a, &opts(false, None)).unwrap();
    assert!(!log.contains(['\u{2028}', '\u{2029}']));
    let records = read_log(&log);
    let hosts: BTreeMap<String, Option<String>> = records
        .iter()
        .map(|x| {
            (
                x.host.clone(),
                x.event["weft"]
                    .get("replica")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            )
        })
        .collect();
    // Names in byte order: "\t" < " " < "_" < "\u{feff}": "a\tb" keeps "a_b", "a b" becomes
    // "a_b~3" ("a_b~2" is taken by a real replica), "a_b" becomes "a_b~4".
    assert_eq!(
        hosts,
        BTreeMap::from([
            ("a_b".to_string(), Some("a\tb".to_string())),
            ("a_b~3".to_string(), Some("a b".to_string())),
            ("a_b~4".to_string(), Some("a_b".to_string())),
            ("a_b~2".to_string(), None),
            ("_x_".to_string(), Some("\u{feff}x\u{3000}".to_string())),
        ])
    );
    let back = reimport(&log);
    let b = analyze_full(&back);
    assert_eq!(happens_before(&back, &b), happens_before(&trace, &a));
    assert_eq!(b.report.to_json(), a.report.to_json());
}

#[test]
fn shiviz_refuses_around() {
    let trace = load_fixture("edges-msg");
    let a = analyze_full(&trace);
    assert_eq!(
        export::shiviz(&trace, &a, &opts(false, Some((EventId::new("r1", 1), 1)))),
        Err(ExportError::Unsupported {
            format: "shiviz",
            option: "--around"
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Mermaid

#[test]
fn mermaid_goldens() {
    for name in ["edges-msg", "partition-heal"] {
        let trace = load_fixture(name);
        let a = analyze_full(&trace);
        let text = export::mermaid(&trace, &a, &opts(false, None)).unwrap();
        golden(&format!("{name}.mmd"), &text);
        check_mermaid_lines(&text);
    }
}

#[test]
fn mermaid_too_big() {
    let mut lines = Vec::new();
    for i in 0..=MERMAID_MAX_EVENTS {
        lines.push(json!({"replica": "r", "seq": i + 1, "kind": "write", "key": "k", "value": i}));
    }
    let trace = trace_of(&lines);
    let a = analyze_full(&trace);
    assert_eq!(
        export::mermaid(&trace, &a, &opts(false, None)),
        Err(ExportError::TooBig {
            events: MERMAID_MAX_EVENTS + 1,
            limit: MERMAID_MAX_EVENTS
        })
    );
    let part =
        export::mermaid(&trace, &a, &opts(false, Some((EventId::new("r", 150), 3)))).unwrap();
    assert_eq!(part.matches("Note over").count(), 7);
    // A neighbourhood that is itself too big is refused too.
    assert!(matches!(
        export::mermaid(
            &trace,
            &a,
            &opts(false, Some((EventId::new("r", 150), 1000)))
        ),
        Err(ExportError::TooBig { events: 301, .. })
    ));
    // exactly the limit is fine
    let trace = trace_of(&lines[..MERMAID_MAX_EVENTS]);
    let a = analyze_full(&trace);
    assert!(export::mermaid(&trace, &a, &opts(false, None)).is_ok());
}

/// Mermaid entity codes back to characters.
fn decode_entities(s: &str) -> String {
    let re = regex::Regex::new(r"#(\d+);").unwrap();
    re.replace_all(s, |c: &regex::Captures| {
        char::from_u32(c[1].parse().unwrap()).unwrap().to_string()
    })
    .into_owned()
}

/// Every line is one statement of the forms we write, and the text parts contain nothing that
/// Mermaid would read as syntax.
fn check_mermaid_lines(text: &str) {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("sequenceDiagram"));
    let participant = regex::Regex::new(r"^    participant p\d+ as (.+)$").unwrap();
    let arrow = regex::Regex::new(r"^    p\d+(->>|-->>|--\))p\d+: (.*)$").unwrap();
    let note = regex::Regex::new(r"^    Note over p\d+: (.+)$").unwrap();
    let entity = regex::Regex::new(r"#\d+;").unwrap();
    for line in lines {
        let rest = if let Some(c) = participant.captures(line) {
            c.get(1).unwrap().as_str().to_string()
        } else if let Some(c) = arrow.captures(line) {
            c.get(2).unwrap().as_str().to_string()
        } else if let Some(c) = note.captures(line) {
            c.get(1).unwrap().as_str().to_string()
        } else {
            panic!("unexpected line {line:?}");
        };
        let bare = entity.replace_all(&rest, "");
        assert!(
            !bare.contains(['#', ';', ':', '%', '<', '>', '&', '\r']),
            "unescaped text in {line:?}"
        );
    }
}

#[test]
fn mermaid_escapes_text() {
    let name = "a;b#c:d%e<f>&g\nh";
    let trace = trace_of(&[
        json!({"replica": name, "seq":1, "kind":"send", "msg":"m;1#2:3"}),
        json!({"replica":"wrap:x", "seq":1, "kind":"recv", "msg":"m;1#2:3"}),
        json!({"replica":"wrap:x", "seq":2, "kind":"write", "key":"k;#:", "value":"<br>%%"}),
        json!({"replica": name, "seq":2, "kind":"send", "msg":"nobody"}),
    ]);
    let a = analyze_full(&trace);
    let text = export::mermaid(&trace, &a, &opts(false, None)).unwrap();
    check_mermaid_lines(&text);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        decode_entities(lines[1]),
        "    participant p0 as a;b#c:d%e<f>&g\\nh"
    );
    assert_eq!(decode_entities(lines[2]), "    participant p1 as wrap:x");
    assert_eq!(lines[3], "    p0->>p1: m#59;1#35;2#58;3");
    assert_eq!(
        decode_entities(lines[4]),
        "    Note over p1: wrap:x@2 write k;#: set \"<br>%%\""
    );
    assert_eq!(
        decode_entities(lines[5]),
        "    Note over p0: a;b#c:d%e<f>&g\\nh@2 send nobody (no receive drawn)"
    );
}

#[test]
fn mermaid_marks_and_arrows() {
    let trace = load_fixture("edges-parents");
    let a = analyze_full(&trace);
    let text = export::mermaid(&trace, &a, &opts(false, None)).unwrap();
    check_mermaid_lines(&text);
    assert!(text.contains("-->>"), "{text}");
    assert!(text.contains("⚠ conflict with"), "{text}");

    let trace = load_fixture("edges-vc");
    let a = analyze_full(&trace);
    let text = export::mermaid(&trace, &a, &opts(false, None)).unwrap();
    assert!(text.contains("--)"), "{text}");

    let trace = load_fixture("lamport-violation");
    let a = analyze_full(&trace);
    let text = export::mermaid(&trace, &a, &opts(false, None)).unwrap();
    assert!(text.contains("⛔ lamport-violation"), "{text}");

    // A cycle is drawn, every event once.
    let trace = load_fixture("causality-cycle");
    let a = analyze_full(&trace);
    let text = export::mermaid(&trace, &a, &opts(false, None)).unwrap();
    check_mermaid_lines(&text);
    assert!(text.contains("⛔ causality-cycle"), "{text}");
    assert_eq!(
        export::mermaid(&trace, &a, &opts(true, None)),
        Err(ExportError::Cycle)
    );
}

#[test]
fn mermaid_every_event_drawn_once() {
    for name in fixture_names() {
        let trace = load_fixture(&name);
        let a = analyze_full(&trace);
        let text = export::mermaid(&trace, &a, &opts(false, None)).unwrap();
        check_mermaid_lines(&text);
        // Each event appears as a note or (send/recv) as a message arrow; notes name each
        // event at most once.
        let mut seen = BTreeSet::new();
        for line in text.lines().filter(|l| l.contains("Note over")) {
            let body = decode_entities(line.split_once(": ").unwrap().1);
            let id = body.split(' ').next().unwrap().to_string();
            assert!(seen.insert(id), "{name}: {line}");
        }
        let arrows = text
            .lines()
            .filter(|l| l.contains("->>p") && !l.contains("-->>"))
            .count();
        let messages = Ref::new(&trace, &a)
            .edges
            .iter()
            .filter(|e| e.2 == "solid")
            .count();
        assert_eq!(arrows, messages, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Random traces

/// One generated event: replica, action, two choices, whether its seq skips one.
type Step = (u8, u8, u8, u8, bool);

/// Builds a trace from steps. Acyclic unless `back` lets references point at later events:
/// every cross edge (message, parents, vc) then goes from an earlier step to a later one.
fn random_trace(steps: &[Step], back: bool) -> Trace {
    let mut last = [0u64; 4];
    let ids: Vec<(String, u64)> = steps
        .iter()
        .map(|&(r, _, _, _, gap)| {
            let r = r as usize % 4;
            last[r] += 1 + u64::from(gap);
            (format!("r{r}"), last[r])
        })
        .collect();
    let pick = |i: usize, x: u8| -> Option<usize> {
        let range = if back { steps.len() } else { i };
        (range > 0).then(|| x as usize % range)
    };
    let lines: Vec<Value> = steps
        .iter()
        .enumerate()
        .map(|(i, &(_, action, x, y, _))| {
            let (replica, seq) = &ids[i];
            let mut e = json!({"replica": replica, "seq": seq});
            match action % 7 {
                1 => {
                    e["kind"] = json!("write");
                    e["key"] = json!(format!("k{}", x % 2));
                    e["value"] = json!(y % 5);
                    if y % 3 == 0 {
                        e["lamport"] = json!(x % 4);
                    }
                }
                2 => {
                    e["kind"] = json!("send");
                    e["msg"] = json!(format!("m{i}"));
                }
                3 => {
                    if let Some(j) = pick(i, x).filter(|&j| steps[j].1 % 7 == 2) {
                        e["kind"] = json!("recv");
                        e["msg"] = json!(format!("m{j}"));
                    }
                }
                4 => {
                    let parents: Vec<Value> = [pick(i, x), pick(i, y)]
                        .into_iter()
                        .flatten()
                        .map(|j| json!([ids[j].0, ids[j].1]))
                        .collect();
                    e["parents"] = json!(parents);
                }
                5 => {
                    if let Some(j) = pick(i, x) {
                        let mut vc = Map::new();
                        vc.insert(ids[j].0.clone(), json!(ids[j].1));
                        vc.insert(replica.clone(), json!(seq));
                        e["vc"] = Value::Object(vc);
                    }
                }
                6 => {
                    e["kind"] = json!("write");
                    e["key"] = json!("s");
                    e["op"] = json!(if x % 2 == 0 { "add" } else { "remove" });
                    e["value"] = json!("e");
                }
                _ => {}
            }
            e
        })
        .collect();
    trace_of(&lines)
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (
            0..4u8,
            0..7u8,
            any::<u8>(),
            any::<u8>(),
            prop::bool::weighted(0.15),
        ),
        0..14,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_dags_export_exactly(steps in steps(), centre in any::<u8>(), depth in 0..4u32) {
        let trace = random_trace(&steps, false);
        let a = analyze_full(&trace);
        prop_assert!(a.report.summary.complete);
        let n = trace.len().max(1);
        check_all_dot(&trace, &a, u32::from(centre) % n as u32, depth);

        let log = export::shiviz(&trace, &a, &opts(false, None)).unwrap();
        check_shiviz(&trace, &a, &log);
        let back = reimport(&log);
        let b = analyze_full(&back);
        prop_assert_eq!(happens_before(&back, &b), happens_before(&trace, &a));

        let text = export::mermaid(&trace, &a, &opts(true, None)).unwrap();
        check_mermaid_lines(&text);
    }

    #[test]
    fn random_traces_never_panic(steps in steps(), centre in any::<u8>(), depth in 0..4u32) {
        let trace = random_trace(&steps, true);
        let a = analyze_full(&trace);
        let complete = a.report.summary.complete;
        let centre = (!trace.is_empty())
            .then(|| a.graph.id(&trace, u32::from(centre) % trace.len() as u32));
        for reduce in [false, true] {
            for around in [None, centre.clone().map(|c| (c, depth))] {
                let o = opts(reduce, around.clone());
                let cycle_err = reduce && !complete;
                match export::dot(&trace, &a, &o) {
                    Ok(text) => {
                        prop_assert!(!cycle_err);
                        parse_dot(&text);
                    }
                    Err(e) => prop_assert!(cycle_err && e == ExportError::Cycle, "{e:?}"),
                }
                match export::mermaid(&trace, &a, &o) {
                    Ok(text) => {
                        prop_assert!(!cycle_err);
                        check_mermaid_lines(&text);
                    }
                    Err(e) => prop_assert!(cycle_err && e == ExportError::Cycle, "{e:?}"),
                }
                match export::shiviz(&trace, &a, &o) {
                    Ok(_) => prop_assert!(complete && around.is_none()),
                    Err(ExportError::Cycle) => prop_assert!(!complete && around.is_none()),
                    Err(ExportError::Unsupported { .. }) => prop_assert!(around.is_some()),
                    Err(e) => prop_assert!(false, "{e:?}"),
                }
            }
        }
    }
}
