//! The ShiViz importer's fuzz harness: arbitrary bytes as logs, regexes and delimiters through
//! `weft_interop::shiviz::import_bytes` (lenient too when a clock is malformed), with what must
//! hold beyond "no panic": events that read back as weft-trace/1 and that the analyzer takes,
//! or an error that says where.
//!
//! Depends only on weft-interop (and the weft-trace and weft-analyzer it depends on), so that
//! `interop/tests/fuzz_seeds.rs` includes this very file and replays the seeds (and any
//! regression inputs) through it in the ordinary test suite.
//!
//! An input is split at NUL bytes: `log [\0 regex [\0 delimiter [\0 log]...]]`. The first and
//! every fourth-on part is a log, as bytes (so it may be invalid UTF-8); the second and third
//! are the `--regex` and `--delimiter` options (lossily decoded; empty means not given). A real
//! log file on its own is therefore an input, read as `weft import shiviz FILE` reads it.

use weft_interop::shiviz::{import_bytes, to_ndjson, ImportError, ImportOptions, Imported};
use weft_trace::{ReadOptions, Trace};

/// The most log inputs one fuzz input makes (more only repeats the same paths).
const MAX_INPUTS: usize = 4;

/// Splits a fuzz input into `(logs, options)` as the module docs say.
pub fn parse(data: &[u8]) -> (Vec<(String, Vec<u8>)>, ImportOptions) {
    let parts: Vec<&[u8]> = data.split(|&b| b == 0).collect();
    let option = |i: usize| {
        parts
            .get(i)
            .filter(|p| !p.is_empty())
            .map(|p| String::from_utf8_lossy(p).into_owned())
    };
    let opts = ImportOptions {
        regex: option(1),
        delimiter: option(2),
        lenient: false,
    };
    let logs = std::iter::once(parts[0])
        .chain(parts.iter().skip(3).copied())
        .take(MAX_INPUTS)
        .enumerate()
        .map(|(i, b)| (format!("in{i}.log"), b.to_vec()))
        .collect();
    (logs, opts)
}

/// Runs one fuzz input through the importer, checks every invariant, and returns the result.
///
/// The import is strict; when it fails on a malformed clock it is repeated lenient, which must
/// then report that event as a problem. (Leniency changes nothing else: it is consulted only
/// when a clock is malformed, so repeating every import lenient would only halve the speed,
/// which regex compilation already dominates.)
pub fn check(data: &[u8]) -> Result<Imported, ImportError> {
    let (logs, opts) = parse(data);
    let strict = import_bytes(&logs, &opts);
    let e = match &strict {
        Ok(imported) => {
            check_imported(&logs, imported);
            return strict;
        }
        Err(e) => e,
    };
    check_error(&logs, &opts, e);
    let ImportError::MalformedClock { source, line, .. } = e else {
        return strict;
    };
    let lenient = ImportOptions {
        lenient: true,
        ..opts.clone()
    };
    match import_bytes(&logs, &lenient) {
        // The event left out is a problem of the lenient import, at the same place.
        Ok(imported) => {
            check_imported(&logs, &imported);
            assert!(
                imported
                    .executions
                    .iter()
                    .any(|x| x.problems.iter().any(|p| p.source == *source
                        && p.line == *line
                        && p.reason.starts_with("malformed clock"))),
                "lenient import has no problem for: {e}"
            );
        }
        // Unless a later input's header regex is unusable, which the strict import did not
        // reach.
        Err(l) => {
            check_error(&logs, &lenient, &l);
            assert!(
                matches!(
                    l,
                    ImportError::BadRegex { .. }
                        | ImportError::MissingGroup { .. }
                        | ImportError::BadDelimiter { .. }
                ),
                "strict: {e}; lenient: {l}"
            );
        }
    }
    strict
}

/// The number of lines of a log: what a located message may name.
fn line_count(bytes: &[u8]) -> usize {
    1 + bytes.iter().filter(|&&b| b == b'\n').count()
}

fn lines_of<'a>(logs: &'a [(String, Vec<u8>)], source: &str) -> &'a [u8] {
    &logs
        .iter()
        .find(|(name, _)| name == source)
        .unwrap_or_else(|| panic!("`{source}` names no input"))
        .1
}

/// Every error says where: an input's line, or which option or header line holds the regex.
fn check_error(logs: &[(String, Vec<u8>)], opts: &ImportOptions, e: &ImportError) {
    let text = e.to_string();
    match e {
        ImportError::InvalidUtf8 {
            source,
            line,
            column,
            reason,
        } => {
            assert!(
                text.starts_with(&format!("{source}:{line}:{column}: ")),
                "{text}"
            );
            assert!(!reason.is_empty());
            // The first invalid input is the one named; its lines before `line`, and `line` up
            // to `column`, are UTF-8; at `column` no character can start.
            for (name, bytes) in logs {
                if name == source {
                    break;
                }
                assert!(
                    std::str::from_utf8(bytes).is_ok(),
                    "{name} is not UTF-8 either"
                );
            }
            let bytes = lines_of(logs, source);
            let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
            assert!(*line >= 1 && *line <= lines.len(), "{text}");
            let before = lines[..line - 1].iter().map(|l| l.len() + 1).sum::<usize>();
            assert!(std::str::from_utf8(&bytes[..before]).is_ok(), "{text}");
            let this = lines[line - 1];
            assert!(*column >= 1 && *column <= this.len(), "{text}");
            assert!(std::str::from_utf8(&this[..column - 1]).is_ok(), "{text}");
            let rest = std::str::from_utf8(&this[column - 1..]).unwrap_err();
            assert_eq!(rest.valid_up_to(), 0, "{text}");
        }
        ImportError::MalformedClock { source, line, .. } => {
            assert!(
                text.starts_with(&format!("{source}:{line}: malformed clock ")),
                "{text}"
            );
            assert!(
                *line >= 1 && *line <= line_count(lines_of(logs, source)),
                "{text}"
            );
        }
        ImportError::BadRegex { origin, .. } | ImportError::MissingGroup { origin, .. } => {
            assert!(text.starts_with(&format!("{origin}: ")), "{text}");
            match origin.strip_suffix(":1") {
                Some(source) => {
                    assert!(opts.regex.is_none(), "{text}");
                    lines_of(logs, source);
                }
                None => assert_eq!(origin, "regex option", "{text}"),
            }
        }
        ImportError::BadDelimiter { origin, .. } => {
            assert!(text.starts_with(&format!("{origin}: ")), "{text}");
            match origin.strip_suffix(":2") {
                Some(source) => {
                    assert!(opts.delimiter.is_none(), "{text}");
                    assert!(line_count(lines_of(logs, source)) >= 2, "{text}");
                }
                None => assert_eq!(origin, "delimiter option", "{text}"),
            }
        }
    }
}

/// What an import gives is located, counted right, and valid weft-trace/1 that the analyzer
/// takes.
fn check_imported(logs: &[(String, Vec<u8>)], imported: &Imported) {
    let total_lines: usize = logs.iter().map(|(_, b)| line_count(b)).sum();
    assert!(imported.skipped_lines <= total_lines);
    assert!(imported.skipped_samples.len() <= imported.skipped_lines.min(5));
    for (source, line) in &imported.skipped_samples {
        assert!(*line >= 1 && *line <= line_count(lines_of(logs, source)));
    }
    for exec in &imported.executions {
        assert!(
            !exec.events.is_empty() || !exec.problems.is_empty(),
            "an execution with nothing in it"
        );
        for p in &exec.problems {
            assert!(
                p.line >= 1 && p.line <= line_count(lines_of(logs, &p.source)),
                "{p}"
            );
            assert!(!p.reason.is_empty(), "{p}");
        }
        let ndjson = to_ndjson(exec, &Default::default());
        match Trace::from_ndjson_str("fuzz", &ndjson, &ReadOptions::default()) {
            Ok(trace) => {
                assert!(!trace.is_empty() && trace.len() <= exec.events.len());
                let _ = weft_analyzer::analyze(&trace);
            }
            Err(e) => assert!(exec.events.is_empty(), "imported events do not read: {e}"),
        }
    }
}
