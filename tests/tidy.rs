//! Tidy tests: the invariants ARCHITECTURE.md states as absences, checked on the source tree
//! (in the spirit of rust-analyzer's tidy tests), so the next drift fails CI instead of waiting
//! for a reader to notice.
//!
//! - the analyzer does no I/O: no files, no printing, no environment, no clock, no network;
//! - the simulator has no `HashMap`/`HashSet` (their iteration order is seeded per process) and
//!   reads no clock;
//! - only `weft-tui` depends on ratatui or crossterm;
//! - no library crate depends on anyhow (typed errors), except the benchmark tool's library,
//!   which is its binary's own code shared with its tests;
//! - no module cycle inside a crate: the modules under each parent form a DAG of `crate::…` and
//!   `super::…` references;
//! - files hold one concern: no source file over 700 lines before its tests, no function over
//!   120 lines (measured on the syntax tree, so strings and comments cannot fool it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The workspace's member crates: (directory, manifest text).
fn crates() -> Vec<(PathBuf, String)> {
    let root = root();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let mut out = vec![(root.clone(), manifest.clone())];
    let members = manifest
        .split("members")
        .nth(1)
        .and_then(|m| m.split(']').next())
        .expect("a members list");
    for m in members.split('"').skip(1).step_by(2) {
        if m == "." {
            continue;
        }
        let dir = root.join(m);
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        out.push((dir, text));
    }
    out
}

/// Code lines of a file: comments (`//…`) cut off, so prose may name what code must not use.
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `(file:line, pattern)` for each line of the files under `dir` that uses one of `banned`.
fn uses(dir: &Path, banned: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for f in rust_files(dir) {
        let text = code(&std::fs::read_to_string(&f).unwrap());
        for (n, line) in text.lines().enumerate() {
            for b in banned {
                if line.contains(b) {
                    found.push(format!("{}:{}: {b}", f.display(), n + 1));
                }
            }
        }
    }
    found
}

#[test]
fn the_analyzer_does_no_io() {
    let found = uses(
        &root().join("analyzer/src"),
        &[
            "std::fs",
            "std::env",
            "std::net",
            "std::process",
            "println!",
            "eprintln!",
            "print!(",
            "eprint!(",
            "dbg!(",
            "stdout()",
            "stderr()",
            "stdin()",
            "Instant::now",
            "SystemTime::now",
        ],
    );
    assert!(
        found.is_empty(),
        "the analyzer must do no I/O:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_simulator_has_no_hash_order_and_reads_no_clock() {
    let found = uses(
        &root().join("sim/src"),
        &[
            "HashMap",
            "HashSet",
            "Instant::now",
            "SystemTime::now",
            "std::env",
        ],
    );
    assert!(
        found.is_empty(),
        "the simulator must be deterministic:\n{}",
        found.join("\n")
    );
}

/// The dependency names of a manifest's package sections (`[dependencies]`,
/// `[dev-dependencies]`, `[build-dependencies]`, target-specific ones), not
/// `[workspace.dependencies]`, which only declares versions.
fn dependencies(manifest: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            let section = t.trim_matches(|c| c == '[' || c == ']');
            in_deps = !section.starts_with("workspace")
                && (section.ends_with("dependencies") || section.contains("dependencies."));
            if let Some(dep) = section.split("dependencies.").nth(1) {
                out.insert(dep.to_string());
            }
            continue;
        }
        if in_deps {
            if let Some((name, _)) = t.split_once('=') {
                let name = name.trim();
                if !name.is_empty() && !name.starts_with('#') {
                    out.insert(name.to_string());
                }
            }
        }
    }
    out
}

fn crate_name(manifest: &str) -> String {
    manifest
        .lines()
        .skip_while(|l| l.trim() != "[package]")
        .find_map(|l| l.trim().strip_prefix("name = "))
        .expect("a package name")
        .trim_matches('"')
        .to_string()
}

#[test]
fn only_the_tui_depends_on_ratatui_or_crossterm() {
    let mut found = Vec::new();
    for (dir, manifest) in crates() {
        let name = crate_name(&manifest);
        if name == "weft-tui" {
            continue;
        }
        for dep in dependencies(&manifest) {
            if dep == "ratatui" || dep == "crossterm" {
                found.push(format!("{name} ({}) depends on {dep}", dir.display()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn no_library_depends_on_anyhow() {
    let mut found = Vec::new();
    for (dir, manifest) in crates() {
        let name = crate_name(&manifest);
        // The binary, and the benchmark tool (a program whose library is its own code, shared
        // with its tests), report errors to a person: anyhow is for them.
        if name == "weft" || name == "weft-bench" {
            continue;
        }
        let is_library = dir.join("src/lib.rs").exists();
        if is_library && dependencies(&manifest).contains("anyhow") {
            found.push(format!("{name} is a library and depends on anyhow"));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// A crate's module tree: module path (`["engine", "keys"]`) → its file.
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut out = BTreeMap::new();
    for f in rust_files(src) {
        let rel = f.strip_prefix(src).unwrap();
        let mut path: Vec<String> = rel
            .iter()
            .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        if path.last().is_some_and(|l| l == "mod") {
            path.pop();
        }
        if path.len() == 1 && (path[0] == "lib" || path[0] == "main") {
            path.clear();
        }
        out.insert(path, f);
    }
    out
}

/// The module a `crate::…` or `super::…` path names from module `from`: its longest prefix that
/// is a module of the crate.
fn target(
    from: &[String],
    path: &str,
    mods: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<Vec<String>> {
    let mut segs = path.split("::").map(str::trim);
    let mut base: Vec<String> = match segs.next()? {
        "crate" => Vec::new(),
        "super" => from[..from.len().checked_sub(1)?].to_vec(),
        _ => return None,
    };
    let mut rest: Vec<&str> = segs.collect();
    while rest.first() == Some(&"super") {
        base.pop();
        rest.remove(0);
    }
    let mut best = None;
    for s in rest {
        let name: String = s
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            break;
        }
        base.push(name);
        if mods.contains_key(&base) {
            best = Some(base.clone());
        } else {
            break;
        }
    }
    best
}

/// The cycles among sibling modules of one crate (each as its module names), from every
/// `crate::…` and `super::…` path in its code.
fn module_cycles(src: &Path) -> Vec<String> {
    let mods = modules(src);
    // parent → sibling edges (a → b: something in a names something in b).
    let mut edges: BTreeMap<Vec<String>, BTreeSet<(String, String)>> = BTreeMap::new();
    for (from, file) in &mods {
        let text = code(&std::fs::read_to_string(file).unwrap());
        for (i, _) in text
            .match_indices("crate::")
            .chain(text.match_indices("super::"))
        {
            // Skip `$crate::` in macros and longer identifiers ending in these words.
            let before = text[..i].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let path: String = text[i..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let Some(to) = target(from, &path, &mods) else {
                continue;
            };
            // The siblings under the deepest common parent; none when one contains the other.
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common == from.len() || common == to.len() {
                continue;
            }
            edges
                .entry(from[..common].to_vec())
                .or_default()
                .insert((from[common].clone(), to[common].clone()));
        }
    }
    let mut cycles = Vec::new();
    for (parent, es) in edges {
        // Reachability by repeated search: small graphs (a handful of siblings).
        let nodes: BTreeSet<&String> = es.iter().flat_map(|(a, b)| [a, b]).collect();
        for &n in &nodes {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<(&String, Vec<&String>)> = vec![(n, vec![n])];
            while let Some((at, trail)) = stack.pop() {
                for (a, b) in &es {
                    if a != at {
                        continue;
                    }
                    if b == n {
                        let mut c: Vec<&str> = trail.iter().map(|s| s.as_str()).collect();
                        c.push(n);
                        let min = trail.iter().min().unwrap();
                        // Report each cycle once: from its smallest module.
                        if n == *min {
                            cycles.push(format!(
                                "{}: {}",
                                if parent.is_empty() {
                                    "crate".to_string()
                                } else {
                                    parent.join("::")
                                },
                                c.join(" → ")
                            ));
                        }
                    } else if seen.insert(b) {
                        let mut t = trail.clone();
                        t.push(b);
                        stack.push((b, t));
                    }
                }
            }
        }
    }
    cycles.sort();
    cycles.dedup();
    cycles
}

/// Cycles known today, each to be removed from here when it is broken (the test fails when one
/// of them is gone, so this list cannot go stale). Empty: a new cycle is fixed, not listed.
const KNOWN_CYCLES: [&str; 0] = [];

#[test]
fn no_module_cycle_inside_a_crate() {
    let mut found = Vec::new();
    for (dir, manifest) in crates() {
        let src = dir.join("src");
        for c in module_cycles(&src) {
            found.push(format!("{}: {c}", crate_name(&manifest)));
        }
    }
    let new: Vec<&String> = found
        .iter()
        .filter(|c| !KNOWN_CYCLES.contains(&c.as_str()))
        .collect();
    assert!(new.is_empty(), "module cycles:\n{new:#?}");
    for known in KNOWN_CYCLES {
        assert!(
            found.iter().any(|c| c == known),
            "{known} is broken: remove it from KNOWN_CYCLES"
        );
    }
}

#[test]
fn the_checks_see_what_they_look_for() {
    // A tidy test that finds nothing because it reads nothing passes for the wrong reason.
    assert!(crates().len() >= 9, "the workspace's crates were not found");
    assert!(dependencies("[dependencies]\nratatui = \"0.30\"\n").contains("ratatui"));
    assert!(!dependencies("[workspace.dependencies]\nratatui = \"0.30\"\n").contains("ratatui"));
    assert!(
        dependencies("[target.'cfg(unix)'.dev-dependencies]\nanyhow = \"1\"\n").contains("anyhow")
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    std::fs::write(dir.path().join("a.rs"), "use crate::b::Y;\npub struct X;\n").unwrap();
    std::fs::write(dir.path().join("b.rs"), "use crate::a::X;\npub struct Y;\n").unwrap();
    assert_eq!(module_cycles(dir.path()), ["crate: a → b → a"]);
    std::fs::write(
        dir.path().join("b.rs"),
        "// use crate::a::X;\npub struct Y;\n",
    )
    .unwrap();
    assert!(module_cycles(dir.path()).is_empty());
    assert!(!uses(&root().join("analyzer/src"), &["pub fn"]).is_empty());
}

/// Most lines a source file may have before its `#[cfg(test)]` module.
const MAX_FILE_LINES: usize = 700;
/// Most lines a function may span, signature to closing brace.
const MAX_FN_LINES: usize = 120;

/// Every library and binary source file of the workspace (`src/` of each crate, less the unit
/// test modules kept in a file of their own, `tests.rs`: tests, benches and fuzz targets are
/// not the code a newcomer reads first).
fn source_files() -> Vec<PathBuf> {
    crates()
        .into_iter()
        .flat_map(|(dir, _)| rust_files(&dir.join("src")))
        .filter(|f| f.file_name().is_none_or(|n| n != "tests.rs"))
        .collect()
}

/// Lines before the first top-level `#[cfg(test)]` (the whole file when it has none).
fn lines_before_tests(text: &str) -> usize {
    text.lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .count()
}

#[test]
fn no_source_file_is_over_700_lines() {
    let long: Vec<String> = source_files()
        .iter()
        .filter_map(|f| {
            let n = lines_before_tests(&std::fs::read_to_string(f).unwrap());
            (n > MAX_FILE_LINES).then(|| format!("{}: {n} lines", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these by concern (at most {MAX_FILE_LINES} lines before the tests):\n{long:#?}"
    );
}

/// Functions longer than [`MAX_FN_LINES`] in one file's syntax tree, test modules left out.
struct LongFns<'a> {
    file: &'a Path,
    found: Vec<String>,
}

impl LongFns<'_> {
    fn check(&mut self, name: &syn::Ident, span: proc_macro2::Span) {
        let lines = span.end().line - span.start().line + 1;
        if lines > MAX_FN_LINES {
            self.found.push(format!(
                "{}:{}: fn {name}: {lines} lines",
                self.file.display(),
                span.start().line
            ));
        }
    }
}

fn is_test_module(m: &syn::ItemMod) -> bool {
    m.attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

impl<'ast> syn::visit::Visit<'ast> for LongFns<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_test_module(m) {
            syn::visit::visit_item_mod(self, m);
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        use syn::spanned::Spanned;
        self.check(&f.sig.ident, f.span());
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        use syn::spanned::Spanned;
        self.check(&f.sig.ident, f.span());
        syn::visit::visit_impl_item_fn(self, f);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        use syn::spanned::Spanned;
        if f.default.is_some() {
            self.check(&f.sig.ident, f.span());
        }
        syn::visit::visit_trait_item_fn(self, f);
    }
}

fn long_functions(file: &Path, text: &str) -> Vec<String> {
    let tree = syn::parse_file(text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut v = LongFns {
        file,
        found: Vec::new(),
    };
    syn::visit::Visit::visit_file(&mut v, &tree);
    v.found
}

#[test]
fn no_function_is_over_120_lines() {
    let long: Vec<String> = source_files()
        .iter()
        .flat_map(|f| long_functions(f, &std::fs::read_to_string(f).unwrap()))
        .collect();
    assert!(
        long.is_empty(),
        "cut these into named steps (at most {MAX_FN_LINES} lines each):\n{long:#?}"
    );
}

#[test]
fn the_size_checks_measure_what_they_claim() {
    let body = "    let x = 1;\n".repeat(MAX_FN_LINES);
    let text = format!(
        "fn short() {{}}\nfn long() {{\n{body}}}\n#[cfg(test)]\nmod tests {{\n    fn long_test() {{\n{body}    }}\n}}\n"
    );
    let found = long_functions(Path::new("x.rs"), &text);
    assert_eq!(
        found,
        [format!("x.rs:2: fn long: {} lines", MAX_FN_LINES + 2)]
    );
    assert_eq!(lines_before_tests(&text), MAX_FN_LINES + 3);
    assert!(
        source_files().len() > 100,
        "the source files were not found"
    );
}
