//! Text every benchmark prints: the report's first lines (the machine), numbers (times, rates,
//! sizes, counts) and aligned tables.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::GIB;
use crate::sys;

/// The first lines of a report: what this is, the machine, and which `weft` runs.
pub(crate) fn print_machine(title: &str, weft: Option<&Path>) {
    print_machine_only(title);
    match weft {
        Some(w) => println!("weft:    {}", w.display()),
        None => println!("weft:    not run (prepare: generate traces and measure parse floors)"),
    }
}

/// The first lines of a report without the `weft` line: what this is and the machine.
pub fn print_machine_only(title: &str) {
    let m = sys::machine();
    println!("weft-bench — {title}");
    println!(
        "machine: {} CPUs ({}), {} RAM, load average {}",
        m.nproc,
        m.cpu_model,
        m.mem_total.map_or_else(|| "?".to_owned(), bytes),
        m.loadavg
    );
}

pub(crate) fn rate(events: u64, t: Duration) -> f64 {
    events as f64 / t.as_secs_f64().max(1e-9)
}

pub(crate) fn secs(t: Duration) -> String {
    let s = t.as_secs_f64();
    if s < 1.0 {
        format!("{:.0} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

pub(crate) fn per_sec(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2} M", r / 1e6)
    } else {
        format!("{:.0} k", r / 1e3)
    }
}

pub(crate) fn bytes(b: u64) -> String {
    let b = b as f64;
    if b >= GIB as f64 {
        format!("{:.2} GiB", b / GIB as f64)
    } else {
        format!("{:.0} MiB", b / (1 << 20) as f64)
    }
}

/// `1000000` → `1,000,000` (num-format's grouping, English locale).
pub(crate) fn count(n: u64) -> String {
    use num_format::{Locale, ToFormattedString as _};
    n.to_formatted_string(&Locale::en)
}

/// A text table: a header, a rule, then the rows; the `left` columns left-aligned (text), the
/// others right-aligned (numbers).
pub(crate) fn render_table<R: AsRef<[String]>>(
    header: &[&str],
    cells: &[R],
    left: &[usize],
) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in cells {
        for (w, c) in widths.iter_mut().zip(row.as_ref()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |row: &[&str]| {
        for (i, (c, &w)) in row.iter().zip(&widths).enumerate() {
            if left.contains(&i) {
                let _ = write!(out, "{c:<w$}");
            } else {
                let _ = write!(out, "{c:>w$}");
            }
            out.push_str("  ");
        }
        out.truncate(out.trim_end_matches(' ').len());
        out.push('\n');
    };
    line(header);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule.iter().map(String::as_str).collect::<Vec<_>>());
    for row in cells {
        line(&row.as_ref().iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}
