//! What changed between two readings of the engine's findings, found by walking both in
//! report order: the cost of a publication is one comparison per violation and per key with
//! findings (a key the engine did not recompute is the same `Arc`, skipped whole), and
//! serializing only the findings that changed.
//!
//! Before, every publication serialized every finding to a string and diffed two sorted sets of
//! strings: with a few hundred thousand conflicts stored, publishing took longer than the
//! events took to arrive, and the live report fell further and further behind (25 s after a
//! 2 s burst of 600 k events with 700 k conflicts, `weft-bench ingest --quick`).
//!
//! Both reports list their findings in the spec's order (section 6), which the walk relies on:
//! violations by (event, code) — malformed lines, which have no event, first in input order —,
//! conflicts by (key, element, a, b), unresolved keys by key. Findings that tie on that order
//! are matched by equality among themselves (a run is short: two findings of one code on one
//! event; malformed lines, at most [`weft_analyzer::Report::MAX_PER_CODE`]).

use std::cmp::Ordering;

use std::sync::Arc;

use weft_analyzer::{Conflict, Findings, KeyFindings, Unresolved, Violation};

/// A change of the set of findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The finding is new.
    Added,
    /// The finding is gone (a late event resolved it).
    Retracted,
}

impl Change {
    /// The word the findings stream uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Retracted => "retracted",
        }
    }
}

/// One finding as the findings stream shows it: `{"violation": …}`, `{"conflict": …}` or
/// `{"unresolved": …}`.
#[derive(Clone, Copy, Debug)]
pub enum Finding<'a> {
    /// A violation of the report.
    Violation(&'a Violation),
    /// A conflict.
    Conflict(&'a Conflict),
    /// A key with unresolved siblings.
    Unresolved(&'a Unresolved),
}

impl Finding<'_> {
    /// The finding as one JSON object (no newline), its fields as the report writes them.
    pub fn line(self) -> String {
        self.render(String::from("{"))
    }

    /// The finding as a line of the findings stream: `{"seq":N,"change":"added",…}`.
    pub fn change_line(self, seq: u64, change: &str) -> String {
        self.render(format!("{{\"seq\":{seq},\"change\":\"{change}\","))
    }

    /// `prefix` followed by `"kind":{…}}`.
    fn render(self, prefix: String) -> String {
        let mut bytes = prefix.into_bytes();
        let written = match self {
            Finding::Violation(v) => {
                bytes.extend_from_slice(b"\"violation\":");
                serde_json::to_writer(&mut bytes, v)
            }
            Finding::Conflict(c) => {
                bytes.extend_from_slice(b"\"conflict\":");
                serde_json::to_writer(&mut bytes, c)
            }
            Finding::Unresolved(u) => {
                bytes.extend_from_slice(b"\"unresolved\":");
                serde_json::to_writer(&mut bytes, u)
            }
        };
        written.expect("findings serialize");
        bytes.push(b'}');
        String::from_utf8(bytes).expect("JSON is UTF-8")
    }
}

/// Every finding, in report order.
pub fn findings(f: &Findings) -> impl Iterator<Item = Finding<'_>> {
    let v = f.report.violations.iter().map(Finding::Violation);
    let c = f
        .keys
        .iter()
        .flat_map(|k| &k.conflicts)
        .map(Finding::Conflict);
    let u = f.keys.iter().filter_map(|k| k.unresolved.as_ref());
    v.chain(c).chain(u.map(Finding::Unresolved))
}

/// Calls `change` for every finding of `old` not in `new` (retracted, first) and of `new` not in
/// `old` (added).
pub fn diff<'a>(old: &'a Findings, new: &'a Findings, mut change: impl FnMut(Change, Finding<'a>)) {
    let mut added = Vec::new();
    let mut note = |c: Change, f: Finding<'a>| match c {
        Change::Retracted => change(c, f),
        Change::Added => added.push(f),
    };
    walk(
        &old.report.violations,
        &new.report.violations,
        violation_order,
        |c, v| note(c, Finding::Violation(v)),
    );
    let key_order =
        |a: &Arc<KeyFindings>, b: &Arc<KeyFindings>| a.key.as_bytes().cmp(b.key.as_bytes());
    let (mut i, mut j) = (0, 0);
    let (ok, nk) = (&old.keys, &new.keys);
    while i < ok.len() || j < nk.len() {
        let (a, b) = (ok.get(i), nk.get(j));
        let order = match (a, b) {
            (Some(a), Some(b)) => key_order(a, b),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        let (a, b) = match order {
            Ordering::Less => (a, None),
            Ordering::Greater => (None, b),
            Ordering::Equal => (a, b),
        };
        i += usize::from(a.is_some());
        j += usize::from(b.is_some());
        if let (Some(a), Some(b)) = (a, b) {
            if Arc::ptr_eq(a, b) {
                continue;
            }
        }
        let none: &[Conflict] = &[];
        walk(
            a.map_or(none, |k| &k.conflicts),
            b.map_or(none, |k| &k.conflicts),
            conflict_order,
            |c, x| note(c, Finding::Conflict(x)),
        );
        let (ua, ub) = (
            a.and_then(|k| k.unresolved.as_ref()),
            b.and_then(|k| k.unresolved.as_ref()),
        );
        if ua != ub {
            if let Some(u) = ua {
                note(Change::Retracted, Finding::Unresolved(u));
            }
            if let Some(u) = ub {
                note(Change::Added, Finding::Unresolved(u));
            }
        }
    }
    for f in added {
        change(Change::Added, f);
    }
}

fn violation_order(a: &Violation, b: &Violation) -> Ordering {
    (&a.event, a.code.as_str()).cmp(&(&b.event, b.code.as_str()))
}

fn conflict_order(a: &Conflict, b: &Conflict) -> Ordering {
    a.key
        .as_bytes()
        .cmp(b.key.as_bytes())
        .then_with(|| {
            if a.element == b.element {
                Ordering::Equal
            } else {
                // Only where the two walks stand on different elements of one key.
                let text = weft_analyzer::element_text;
                text(a.element.as_deref()).cmp(&text(b.element.as_deref()))
            }
        })
        .then_with(|| (&a.a, &a.b).cmp(&(&b.a, &b.b)))
}

/// Merges two lists sorted by `order`, reporting what only one of them holds. Items that tie
/// on `order` are matched by equality within their run.
fn walk<'a, T: PartialEq>(
    old: &'a [T],
    new: &'a [T],
    order: impl Fn(&T, &T) -> Ordering,
    mut change: impl FnMut(Change, &'a T),
) {
    let (mut i, mut j) = (0, 0);
    while i < old.len() && j < new.len() {
        match order(&old[i], &new[j]) {
            Ordering::Less => {
                change(Change::Retracted, &old[i]);
                i += 1;
            }
            Ordering::Greater => {
                change(Change::Added, &new[j]);
                j += 1;
            }
            Ordering::Equal => {
                let run_end = |list: &[T], from: usize, first: &T| {
                    from + list[from..]
                        .iter()
                        .take_while(|x| order(x, first).is_eq())
                        .count()
                };
                let (i2, j2) = (run_end(old, i, &old[i]), run_end(new, j, &old[i]));
                let (a, b) = (&old[i..i2], &new[j..j2]);
                if a.len() == 1 && b.len() == 1 {
                    if a[0] != b[0] {
                        change(Change::Retracted, &a[0]);
                        change(Change::Added, &b[0]);
                    }
                } else {
                    for x in a.iter().filter(|x| !b.contains(x)) {
                        change(Change::Retracted, x);
                    }
                    for y in b.iter().filter(|y| !a.contains(y)) {
                        change(Change::Added, y);
                    }
                }
                (i, j) = (i2, j2);
            }
        }
    }
    for x in &old[i..] {
        change(Change::Retracted, x);
    }
    for y in &new[j..] {
        change(Change::Added, y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use weft_trace::{ReadOptions, Trace};

    /// The findings after feeding `lines` one at a time, and after each line.
    fn readings(lines: &[&str]) -> Vec<Findings> {
        let opts = ReadOptions {
            lenient: true,
            ..ReadOptions::default()
        };
        let mut engine = weft_analyzer::Engine::new();
        let mut out = vec![engine.findings()];
        for line in lines {
            engine.feed(Trace::batch_from_ndjson("t", line, &opts).expect("reads"));
            out.push(engine.findings());
        }
        out
    }

    /// The set difference of the serialized findings: what the walk must produce.
    fn brute(old: &Findings, new: &Findings) -> (BTreeSet<String>, BTreeSet<String>) {
        let a: BTreeSet<String> = findings(old).map(Finding::line).collect();
        let b: BTreeSet<String> = findings(new).map(Finding::line).collect();
        (
            a.difference(&b).cloned().collect(),
            b.difference(&a).cloned().collect(),
        )
    }

    fn walked(old: &Findings, new: &Findings) -> (BTreeSet<String>, BTreeSet<String>) {
        let (mut gone, mut new_) = (BTreeSet::new(), BTreeSet::new());
        diff(old, new, |c, f| {
            let set = match c {
                Change::Retracted => &mut gone,
                Change::Added => &mut new_,
            };
            assert!(set.insert(f.line()), "reported twice: {}", f.line());
        });
        (gone, new_)
    }

    #[test]
    fn every_prefix_of_a_trace_diffs_like_the_sets_of_lines() {
        // Conflicts on registers and set elements, a late write that resolves them, a gap that
        // is filled, malformed lines, two violations of one code on one event.
        let lines = [
            r#"{"replica":"a","seq":1,"kind":"write","key":"k","value":1}"#,
            r#"{"replica":"b","seq":1,"kind":"write","key":"k","value":2}"#,
            r#"{"replica":"a","seq":2,"kind":"write","key":"s","op":"add","value":"x"}"#,
            r#"not json"#,
            r#"{"replica":"b","seq":3,"kind":"write","key":"s","op":"remove","value":"x"}"#,
            r#"{"replica":"c","seq":1,"kind":"write","key":"s","op":"add","value":{"y":1}}"#,
            r#"{"replica":"c","seq":2,"kind":"write","key":"s","op":"remove","value":{"y":1}}"#,
            r#"{"replica":"d","seq":1,"kind":"write","key":"s","op":"add","value":{"y":1}}"#,
            r#"{"replica":"b","seq":2,"kind":"recv","msg":"m"}"#,
            r#"{"oops":1}"#,
            r#"{"replica":"a","seq":3,"kind":"send","msg":"m"}"#,
            r#"{"replica":"c","seq":3,"kind":"write","key":"k","value":3,"parents":[["a",1],["b",1]]}"#,
            r#"{"replica":"e","seq":1,"kind":"write","key":"k","value":4,"wall_ns":10}"#,
        ];
        let reports = readings(&lines);
        let mut compared = 0;
        for old in &reports {
            for new in &reports {
                assert_eq!(walked(old, new), brute(old, new));
                compared += 1;
            }
        }
        assert_eq!(compared, reports.len() * reports.len());
        // The walk saw conflicts come and go.
        assert!(reports.iter().any(|r| r.report.summary.conflicts > 0));
        assert!(reports.iter().any(|r| r.report.summary.unresolved > 0));
        // Keys not touched by a line stay shared, and are skipped.
        let shared = reports.windows(2).any(|w| {
            w[0].keys
                .iter()
                .any(|a| w[1].keys.iter().any(|b| Arc::ptr_eq(a, b)))
        });
        assert!(shared, "no key was shared between two readings");
    }
}
