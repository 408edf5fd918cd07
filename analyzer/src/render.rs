//! Rendering a [`Report`] as `weft check` prints it: text for people, JSON for programs, JUnit
//! XML for CI dashboards. Pure functions from a report to a string.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::report::{Code, Conflict, FailOn, Report, Rule, Severity, Violation};
use weft_trace::EventId;

/// Options of the text form.
#[derive(Clone, Copy, Debug)]
pub struct TextOptions {
    /// Use ANSI colours.
    pub color: bool,
    /// Show at most this many items per group (0 = all).
    pub limit: usize,
    /// The level that makes the verdict FAIL.
    pub fail_on: FailOn,
}

/// The spec's JSON object, with a trailing newline: the summary and each violation, conflict
/// and unresolved entry on a line of its own (readable, diffable line by line, and compact for
/// reports with a million conflicts).
pub fn json(report: &Report) -> String {
    let mut out = Vec::new();
    write_json(report, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Streams the JSON form of [`json`] to `out` without building it in memory first.
pub fn write_json(report: &Report, out: &mut impl std::io::Write) -> std::io::Result<()> {
    write_json_on(report, out, crate::par::default_threads())
}

/// [`write_json`] with the items of the arrays serialized on `threads` threads, a window of
/// chunks at a time (so the text in memory stays a few MiB), written in order: the same bytes
/// on any number of threads.
pub fn write_json_on(
    report: &Report,
    out: &mut impl std::io::Write,
    threads: usize,
) -> std::io::Result<()> {
    /// Items serialized by one thread at a time.
    const CHUNK: usize = 2048;
    fn array<T: serde::Serialize + Sync>(
        out: &mut impl std::io::Write,
        name: &str,
        items: &[T],
        last: bool,
        threads: usize,
    ) -> std::io::Result<()> {
        write!(out, "  \"{name}\": [")?;
        let chunks: Vec<(usize, &[T])> = items
            .chunks(CHUNK)
            .enumerate()
            .map(|(i, c)| (i * CHUNK, c))
            .collect();
        for window in chunks.chunks(threads.max(1) * 4) {
            let texts = crate::par::map_all(window, threads, |&(first, chunk)| {
                let mut text = Vec::with_capacity(chunk.len() * 128);
                for (i, item) in chunk.iter().enumerate() {
                    text.extend_from_slice(if first + i == 0 {
                        b"\n    "
                    } else {
                        b",\n    "
                    });
                    serde_json::to_writer(&mut text, item).expect("report items serialize");
                }
                text
            });
            for text in texts {
                out.write_all(&text)?;
            }
        }
        if !items.is_empty() {
            out.write_all(b"\n  ")?;
        }
        out.write_all(if last { b"]\n" } else { b"],\n" })
    }
    writeln!(out, "{{")?;
    writeln!(
        out,
        "  \"format\": {},",
        serde_json::to_string(report.format)?
    )?;
    writeln!(
        out,
        "  \"summary\": {},",
        serde_json::to_string(&report.summary)?
    )?;
    array(out, "violations", &report.violations, false, threads)?;
    array(out, "conflicts", &report.conflicts, false, threads)?;
    array(out, "unresolved", &report.unresolved, true, threads)?;
    writeln!(out, "}}")
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn red(&self, s: &str) -> String {
        self.wrap("1;31", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.wrap("1;33", s)
    }
    fn green(&self, s: &str) -> String {
        self.wrap("1;32", s)
    }
    fn magenta(&self, s: &str) -> String {
        self.wrap("1;35", s)
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// At most this many related ids are shown after a finding in the text form.
const MAX_RELATED_SHOWN: usize = 20;

fn capped<T>(items: &[T], limit: usize) -> (&[T], usize) {
    if limit == 0 || items.len() <= limit {
        (items, 0)
    } else {
        (&items[..limit], items.len() - limit)
    }
}

/// The human report: a verdict line, then findings grouped by kind.
pub fn text(report: &Report, opts: &TextOptions) -> String {
    let p = Paint { on: opts.color };
    let mut out = String::new();
    summary_text(&mut out, report, opts, &p);

    violations_text(&mut out, report, opts, &p);

    reads_text(&mut out, report, opts, &p);

    conflicts_text(&mut out, report, opts, &p);

    unresolved_text(&mut out, report, opts, &p);
    out
}

/// The verdict line (counts of findings and of the trace) and the number of reads checked.
fn summary_text(out: &mut String, report: &Report, opts: &TextOptions, p: &Paint) {
    let s = &report.summary;
    let verdict = if report.fails(opts.fail_on) {
        p.red("FAIL")
    } else {
        p.green("OK")
    };
    let _ = writeln!(
        out,
        "{verdict}  {}, {}, {}, {} — {} from {}{}{}",
        plural(s.errors, "error", "errors"),
        plural(s.warnings, "warning", "warnings"),
        plural(s.conflicts, "conflict", "conflicts"),
        plural(s.unresolved, "unresolved key", "unresolved keys"),
        plural(s.events, "event", "events"),
        plural(s.replicas, "replica", "replicas"),
        if s.duplicates > 0 {
            format!(
                ", {} dropped",
                plural(s.duplicates, "duplicate", "duplicates")
            )
        } else {
            String::new()
        },
        if s.complete {
            String::new()
        } else {
            " (incomplete: causality cycle)".to_string()
        },
    );
    if s.reads_checked > 0 {
        let _ = writeln!(
            out,
            "    {} checked against their causal past",
            plural(s.reads_checked, "read", "reads")
        );
    }
}

/// The "Errors" and "Warnings" sections: the findings other than section 8's, grouped by code.
fn violations_text(out: &mut String, report: &Report, opts: &TextOptions, p: &Paint) {
    for (severity, title) in [(Severity::Error, "Errors"), (Severity::Warning, "Warnings")] {
        // Section 8's findings have a section of their own (below).
        let of: Vec<&Violation> = report
            .violations
            .iter()
            .filter(|v| v.severity == severity && !v.code.is_read_code())
            .collect();
        // Counted but not listed in the report (beyond its bound per code).
        let hidden: u64 = report
            .summary
            .omitted
            .iter()
            .filter(|(c, _)| c.severity() == severity && !c.is_read_code())
            .map(|(_, n)| n)
            .sum();
        if of.is_empty() && hidden == 0 {
            continue;
        }
        let head = format!("{title} ({})", of.len() as u64 + hidden);
        let _ = writeln!(
            out,
            "\n{}",
            if severity == Severity::Error {
                p.red(&head)
            } else {
                p.yellow(&head)
            }
        );
        for code in Code::ALL.into_iter().filter(|c| !c.is_read_code()) {
            let group: Vec<&&Violation> = of.iter().filter(|v| v.code == code).collect();
            let hidden = report.omitted(code);
            if group.is_empty() && hidden == 0 {
                continue;
            }
            let _ = writeln!(
                out,
                "  {} ({})",
                p.bold(code.as_str()),
                group.len() as u64 + hidden
            );
            let (shown, more) = capped(&group, opts.limit);
            for v in shown {
                match &v.event {
                    Some(e) if v.message.starts_with(&e.to_string()) => {
                        let id = e.to_string();
                        let _ = writeln!(out, "    {}{}", p.bold(&id), &v.message[id.len()..]);
                    }
                    Some(e) => {
                        let _ = writeln!(out, "    {}  {}", p.bold(&e.to_string()), v.message);
                    }
                    None => {
                        let _ = writeln!(out, "    {}", v.message);
                    }
                }
                if v.code != Code::MissingEvent {
                    related_text(out, v, p);
                }
            }
            group_footer(out, code, more, hidden);
        }
    }
}

/// The "Conflicts" section, grouped by key.
fn conflicts_text(out: &mut String, report: &Report, opts: &TextOptions, p: &Paint) {
    if !report.conflicts.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.magenta(&format!("Conflicts ({})", report.conflicts.len()))
        );
        let mut i = 0;
        while i < report.conflicts.len() {
            let key = &report.conflicts[i].key;
            let j = i + report.conflicts[i..]
                .iter()
                .take_while(|c| &c.key == key)
                .count();
            let _ = writeln!(out, "  key {} ({})", p.bold(&format!("{key:?}")), j - i);
            let (shown, more) = capped(&report.conflicts[i..j], opts.limit);
            if more > 0 {
                let _ = writeln!(out, "    {}", p.dim(&key_summary(&report.conflicts[i..j])));
            }
            for c in shown {
                conflict_text(out, c, p);
            }
            if more > 0 {
                let _ = writeln!(out, "    ... and {more} more");
            }
            i = j;
        }
    }
}

/// The "Unresolved" section: keys whose concurrent latest writes remain as siblings.
fn unresolved_text(out: &mut String, report: &Report, opts: &TextOptions, p: &Paint) {
    if !report.unresolved.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.magenta(&format!("Unresolved ({})", report.unresolved.len()))
        );
        let (shown, more) = capped(&report.unresolved, opts.limit);
        for u in shown {
            // Thousands of replicas that never synced leave thousands of siblings: the line
            // lists as many as `--limit` allows, like every other list here.
            let (sibs, more_sibs) = capped(&u.siblings, opts.limit);
            let mut sib: Vec<String> = sibs.iter().map(|s| s.to_string()).collect();
            if more_sibs > 0 {
                sib.push(format!("... and {more_sibs} more"));
            }
            let _ = writeln!(
                out,
                "  key {}: {} concurrent latest writes remain as siblings: {}",
                p.bold(&format!("{:?}", u.key)),
                u.siblings.len(),
                sib.join(", ")
            );
        }
        if more > 0 {
            let _ = writeln!(out, "  ... and {more} more");
        }
    }
}

/// The "Reads" section: section 8's findings grouped by code, each with its evidence (what was
/// read, what the causal past implies, the witness chain).
fn reads_text(out: &mut String, report: &Report, opts: &TextOptions, p: &Paint) {
    let codes = [Code::CrdtTypeConflict].into_iter().chain(Code::READS);
    let total: u64 = codes
        .clone()
        .map(|c| {
            report.violations.iter().filter(|v| v.code == c).count() as u64 + report.omitted(c)
        })
        .sum();
    if total == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        p.red(&format!(
            "Reads ({} wrong of {} checked)",
            total
                - report
                    .violations
                    .iter()
                    .filter(|v| v.code == Code::CrdtTypeConflict)
                    .count() as u64
                - report.omitted(Code::CrdtTypeConflict),
            report.summary.reads_checked
        ))
    );
    for code in codes {
        let group: Vec<&Violation> = report
            .violations
            .iter()
            .filter(|v| v.code == code)
            .collect();
        let hidden = report.omitted(code);
        if group.is_empty() && hidden == 0 {
            continue;
        }
        let _ = writeln!(
            out,
            "  {} ({})",
            p.bold(code.as_str()),
            group.len() as u64 + hidden
        );
        let (shown, more) = capped(&group, opts.limit);
        for v in shown {
            let _ = writeln!(out, "    {}", v.message);
            if let Some(ev) = &v.read {
                let chain: Vec<String> = ev.chain.iter().map(ToString::to_string).collect();
                let expected = if ev.one_of {
                    let alts: Vec<String> = ev
                        .expected
                        .as_array()
                        .map(|a| a.iter().map(|x| x.to_string()).collect())
                        .unwrap_or_default();
                    if alts.len() == 1 {
                        alts.join("")
                    } else {
                        format!("one of {}", alts.join(", "))
                    }
                } else {
                    ev.expected.to_string()
                };
                let _ = writeln!(
                    out,
                    "    {}",
                    p.dim(&format!(
                        "  {} {:?}: read {}, expected {expected}; {} of the key seen; chain {}",
                        ev.crdt,
                        ev.key,
                        ev.value,
                        plural(ev.seen_writes, "write", "writes"),
                        chain.join(" → ")
                    ))
                );
            } else {
                related_text(out, v, p);
            }
        }
        group_footer(out, code, more, hidden);
    }
}

/// A finding's related ids (at most [`MAX_RELATED_SHOWN`]), dimmed, when it has any.
fn related_text(out: &mut String, v: &Violation, p: &Paint) {
    if v.related.is_empty() {
        return;
    }
    let (rel, more) = capped(&v.related, MAX_RELATED_SHOWN);
    let rel: Vec<String> = rel.iter().map(|r| r.to_string()).collect();
    let more = if more > 0 {
        format!(", and {more} more")
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "    {}",
        p.dim(&format!("  related: {}{more}", rel.join(", ")))
    );
}

/// The end of a code's group: how many were not shown (`more`, beyond `--limit`) and not
/// listed in the report at all (`hidden`, beyond its bound per code).
fn group_footer(out: &mut String, code: Code, more: usize, hidden: u64) {
    if hidden > 0 {
        let _ = writeln!(
            out,
            "    ... and {} more {code} findings not listed",
            more as u64 + hidden
        );
    } else if more > 0 {
        let _ = writeln!(out, "    ... and {more} more");
    }
}

/// One key's conflicts in numbers, for keys with more conflicts than are listed: how many, among
/// how many writes by how many replicas, and how wide they are. A register's conflicts fall into
/// groups of writes that are all pairwise in conflict (writes with the same successors: each is
/// the others' latest concurrent write), so the widest group is one more than the most
/// conflicts of one write; with set elements only the latter is said.
fn key_summary<'a>(conflicts: &'a [Conflict]) -> String {
    // Counted first by the name's allocation, which the ids of one replica share in a report
    // the engine made, so that none of a hot key's millions of conflicts hashes or compares a
    // string (a second of 18 million), and `a`, sorted, a run at a time; then merged by name,
    // which is right whoever built the ids.
    let mut by_alloc: rustc_hash::FxHashMap<(*const u8, u64), (&EventId, u64)> = Default::default();
    let mut count = |id: &'a EventId, n: u64| {
        by_alloc
            .entry((Arc::as_ptr(&id.replica).cast::<u8>(), id.seq))
            .or_insert((id, 0))
            .1 += n;
    };
    for run in conflicts.chunk_by(|x, y| x.a == y.a) {
        count(&run[0].a, run.len() as u64);
        for c in run {
            count(&c.b, 1);
        }
    }
    let mut degree: rustc_hash::FxHashMap<(&str, u64), u64> = Default::default();
    for (id, n) in by_alloc.into_values() {
        *degree.entry((&*id.replica, id.seq)).or_default() += n;
    }
    let replicas: rustc_hash::FxHashSet<&str> = degree.keys().map(|&(r, _)| r).collect();
    let most = degree.values().copied().max().unwrap_or(0);
    let width = if conflicts.iter().all(|c| c.element.is_none()) {
        format!(
            "widest: {} writes all pairwise concurrent, each the others' latest",
            most + 1
        )
    } else {
        format!("the most for one write: {most}")
    };
    format!(
        "{} among {} by {}; {width}",
        plural(conflicts.len() as u64, "conflict", "conflicts"),
        plural(degree.len() as u64, "write", "writes"),
        plural(replicas.len() as u64, "replica", "replicas"),
    )
}

fn conflict_text(out: &mut String, c: &Conflict, p: &Paint) {
    let w = &c.why;
    let what = match &c.element {
        Some(e) => format!(" element {e}"),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "    {} ({}) ∥ {} ({}){what}",
        p.bold(&c.a.to_string()),
        w.a.does,
        p.bold(&c.b.to_string()),
        w.b.does
    );
    let _ = writeln!(
        out,
        "      concurrent: {} had seen {} only up to {} (< {}), {} had seen {} only up to {} (< {})",
        c.a,
        c.b.replica,
        w.a_saw_of_b,
        c.b.seq,
        c.b,
        c.a.replica,
        w.b_saw_of_a,
        c.a.seq
    );
    let mut fork = Vec::new();
    if w.b_saw_of_a > 0 {
        fork.push(format!("{}@{}", c.a.replica, w.b_saw_of_a));
    }
    if w.a_saw_of_b > 0 {
        fork.push(format!("{}@{}", c.b.replica, w.a_saw_of_b));
    }
    let fork = if fork.is_empty() {
        "no common past on the two writers' replicas".to_string()
    } else {
        format!("fork point: latest common past {}", fork.join(" and "))
    };
    let resolution = match (&c.winner, c.rule) {
        (Some(win), Rule::Lamport) => {
            format!(
                "{win} wins by lamport ({:?} vs {:?}, ties by replica)",
                w.a.clocks.0.unwrap_or(0),
                w.b.clocks.0.unwrap_or(0)
            )
        }
        (Some(win), Rule::Wall) => format!(
            "{win} wins by wall clock ({} vs {} ns, ties by replica; no lamport on both)",
            w.a.clocks.1.unwrap_or(0),
            w.b.clocks.1.unwrap_or(0)
        ),
        (Some(win), Rule::AddWins) => format!("{win} wins: add wins over a concurrent remove"),
        _ => "no winner: the writes carry neither lamport nor wall_ns on both sides".to_string(),
    };
    let _ = writeln!(out, "      {fork}; {resolution}");
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one test case per violation code and one per key with conflicts. A case fails
/// exactly when its findings reach the `--fail-on` level, so the dashboard agrees with the exit
/// status; findings below the level are listed in the case's `system-out`.
pub fn junit(report: &Report, fail_on: FailOn) -> String {
    struct Case {
        name: String,
        class: &'static str,
        lines: Vec<String>,
        /// How many findings the lines stand for.
        findings: u64,
        fails: bool,
    }
    let mut cases = Vec::new();
    for code in Code::ALL {
        let of: Vec<&Violation> = report
            .violations
            .iter()
            .filter(|v| v.code == code)
            .collect();
        let hidden = report.omitted(code);
        if code == Code::MalformedLine && of.is_empty() && hidden == 0 {
            continue;
        }
        let reaches = match code.severity() {
            Severity::Error => true,
            Severity::Warning => fail_on == FailOn::Warning,
        };
        let mut lines: Vec<String> = of
            .iter()
            .map(|v| match &v.event {
                Some(e) => format!("{e}: {}", v.message),
                None => v.message.clone(),
            })
            .collect();
        if hidden > 0 {
            lines.push(format!("... and {hidden} more {code} findings not listed"));
        }
        cases.push(Case {
            name: code.as_str().to_string(),
            class: if code.is_read_code() {
                "weft.reads"
            } else {
                "weft.violations"
            },
            fails: reaches && (!of.is_empty() || hidden > 0),
            findings: of.len() as u64 + hidden,
            lines,
        });
    }
    let mut i = 0;
    while i < report.conflicts.len() {
        let key = &report.conflicts[i].key;
        let j = i + report.conflicts[i..]
            .iter()
            .take_while(|c| &c.key == key)
            .count();
        cases.push(Case {
            name: format!("key {key}"),
            class: "weft.conflicts",
            fails: fail_on == FailOn::Conflict,
            findings: (j - i) as u64,
            lines: report.conflicts[i..j]
                .iter()
                .map(|c| {
                    let win = c
                        .winner
                        .as_ref()
                        .map_or("no winner".to_string(), |w| format!("{w} wins"));
                    let el = c
                        .element
                        .as_ref()
                        .map_or(String::new(), |e| format!(" element {e}"));
                    format!("{} ∥ {}{el}: {win} ({})", c.a, c.b, c.rule.as_str())
                })
                .collect(),
        });
        i = j;
    }
    let failures = cases.iter().filter(|c| c.fails).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"weft check\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
        cases.len()
    );
    let _ = writeln!(out, "  <testsuite name=\"weft check\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">", cases.len());
    for c in &cases {
        let name = xml_escape(&c.name);
        if c.lines.is_empty() {
            let _ = writeln!(
                out,
                "    <testcase name=\"{name}\" classname=\"{}\"/>",
                c.class
            );
            continue;
        }
        let _ = writeln!(
            out,
            "    <testcase name=\"{name}\" classname=\"{}\">",
            c.class
        );
        let body = xml_escape(&c.lines.join("\n"));
        if c.fails {
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{name}\">{body}</failure>",
                xml_escape(&plural(c.findings, "finding", "findings"))
            );
        } else {
            let _ = writeln!(out, "      <system-out>{body}</system-out>");
        }
        let _ = writeln!(out, "    </testcase>");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{ConflictWhy, Summary, REPORT_FORMAT};
    use serde_json::json;
    use weft_trace::EventId;

    fn conflict(element: Option<serde_json::Value>, a: (&str, u64), b: (&str, u64)) -> Conflict {
        Conflict {
            key: "k".into(),
            element: element.map(Arc::new),
            a: EventId::new(a.0, a.1),
            b: EventId::new(b.0, b.1),
            winner: None,
            rule: Rule::None,
            why: ConflictWhy::default(),
        }
    }

    fn report(conflicts: Vec<Conflict>) -> Report {
        Report {
            format: REPORT_FORMAT,
            summary: Summary {
                conflicts: conflicts.len() as u64,
                complete: true,
                ..Summary::default()
            },
            violations: vec![],
            conflicts,
            unresolved: vec![],
        }
    }

    fn text_with_limit(r: &Report, limit: usize) -> String {
        text(
            r,
            &TextOptions {
                color: false,
                limit,
                fail_on: FailOn::Error,
            },
        )
    }

    #[test]
    fn capped_keys_are_summed_up() {
        // Register: {a@1, b@1, c@1} pairwise, and {a@2, d@1}: the widest group has 3 writes.
        let r = report(vec![
            conflict(None, ("a", 1), ("b", 1)),
            conflict(None, ("a", 1), ("c", 1)),
            conflict(None, ("a", 2), ("d", 1)),
            conflict(None, ("b", 1), ("c", 1)),
        ]);
        let t = text_with_limit(&r, 2);
        assert!(
            t.contains(
                "4 conflicts among 5 writes by 4 replicas; widest: 3 writes all pairwise concurrent"
            ),
            "{t}"
        );
        assert!(!text_with_limit(&r, 4).contains("conflicts among"));

        // Set element: remove x@1 against three adds; add y@1 against two removes.
        let e = Some(json!("e"));
        let r = report(vec![
            conflict(e.clone(), ("w", 1), ("x", 1)),
            conflict(e.clone(), ("x", 1), ("y", 1)),
            conflict(e.clone(), ("x", 1), ("z", 1)),
            conflict(e, ("y", 1), ("z", 2)),
        ]);
        let t = text_with_limit(&r, 1);
        assert!(
            t.contains("4 conflicts among 5 writes by 4 replicas; the most for one write: 3"),
            "{t}"
        );
    }

    #[test]
    fn siblings_are_capped_by_the_limit() {
        let mut r = report(vec![]);
        r.unresolved = vec![crate::report::Unresolved {
            key: "k".into(),
            siblings: (1..=5)
                .map(|i| EventId {
                    replica: format!("r{i}").into(),
                    seq: 1,
                })
                .collect(),
        }];
        let t = text_with_limit(&r, 2);
        assert!(
            t.contains(
                "key \"k\": 5 concurrent latest writes remain as siblings: r1@1, r2@1, ... and 3 more"
            ),
            "{t}"
        );
        assert!(
            text_with_limit(&r, 0).contains("r4@1, r5@1\n"),
            "0: no limit"
        );
    }
}
