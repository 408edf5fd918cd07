//! Importing ShiViz / GoVector logs as weft-trace/1 events.
//!
//! [ShiViz](https://github.com/DistributedClocks/shiviz) visualises logs in which every event
//! carries a vector clock; GoVector, the DistributedClocks tracing server and many hand-rolled
//! loggers write them. Such a log is plain text that a JavaScript regular expression with the
//! named groups `host`, `clock` and `event` cuts into events, optionally split into several
//! executions by a second regular expression (the delimiter). weft reads these logs so that their
//! happens-before graph can be checked and browsed like any weft trace.
//!
//! The import follows ShiViz's own rules, so that a log ShiViz accepts imports without a
//! complaint and a log it rejects imports with the reason spelled out:
//!
//! * The parser regex is applied globally and in multi-line mode (ShiViz's flags `gm`) over the
//!   whole text of each execution, so one match may span several lines (GoVector's regex takes
//!   two lines per event). Text no match covers is noise (banners, stack traces): each non-blank
//!   line of it is counted in [`Imported::skipped_lines`], never an error.
//! * A file may start with its own header, as GoVector writes it: line 1 the parser regex, line 2
//!   the execution delimiter (empty for none). [`ImportOptions`] override it.
//! * JavaScript regexes are turned into ones the `regex` crate accepts by [`translate_regex`].
//! * Each event becomes one weft event of kind `local` (ShiViz has no kinds): the host is the
//!   replica, the host's own clock entry is the seq, the clock (zero entries included) is the
//!   `vc`, so happens-before follows from the clocks (spec §3, rule 4). Its `attrs` keep the event
//!   text (`event`), every other named group by name, the line its match starts on (`line`) and,
//!   when several inputs are imported together, the input's name (`source`).
//! * What ShiViz would reject about the clocks is reported as a [`Problem`] with the line it is
//!   on: a host's counter that does not start at 1 and rise by exactly 1 (checked, as ShiViz
//!   does, in counter order, so a host's events may come in any order), a clock naming a host
//!   that never logs or an event beyond a host's last. Events are only left out when weft cannot
//!   represent them (no own clock entry, so no seq; a malformed clock when lenient), and then the
//!   problem says so.
//! * Events exported from weft ([`crate::export::shiviz`]) carry their weft fields (kind, key,
//!   message, ...) in the event text as a JSON object under `"weft"`; those are restored instead
//!   of keeping the text, and the event's `attrs` are exactly the restored ones (no `line`), so
//!   that weft → ShiViz → weft gives the same trace and the same `weft check` report. When the
//!   export had to rename a host or renumber a replica's seqs for ShiViz, `weft` names the
//!   original replica and seq, and the clocks' entries are turned back from positions into seqs.
//!   Fields weft-trace/1 rejects leave the text as plain text, with a [`Problem`] saying why.
//!
//! Nothing here reads files or panics on any input: callers hand in `(name, text)` pairs, or
//! `(name, bytes)` to [`import_bytes`], which says where a file is not UTF-8.
//!
//! ```
//! use weft_interop::shiviz::{import, to_ndjson, ImportOptions};
//!
//! let log = "(?<host>\\S*) (?<clock>{.*})\\n(?<event>.*)\n\n\
//!            a {\"a\":1}\nsend m1\n\
//!            b {\"a\":1, \"b\":1}\nreceive m1\n";
//! let imported = import(&[("run.log".into(), log.into())], &ImportOptions::default()).unwrap();
//! let exec = &imported.executions[0];
//! assert_eq!(exec.events.len(), 2);
//! assert_eq!(exec.events[1].id().to_string(), "b@1");
//! assert!(exec.problems.is_empty());
//! let ndjson = to_ndjson(exec, &serde_json::Map::new());
//! assert!(ndjson.starts_with("{\"format\":\"weft-trace/1\"}\n"));
//! ```

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};
use weft_trace::{Event, LineChecker, FORMAT};

mod clock;
mod events;
mod parse;
mod restore;
mod text;
mod translate;

pub use translate::translate_regex;

use events::ExecAcc;
use parse::{read_events, split_executions, Delimiter, Parser};
use text::{normalize, uncovered_lines, utf8, Header, InputText, LineIndex};

/// GoVector's parser regex, also ShiViz's usual one: a line `host {clock}`, then the event text
/// on the next line. Used when neither the options nor the file's header give one.
pub const GOVECTOR_REGEX: &str = r"(?<host>\S*) (?<clock>{.*})\n(?<event>.*)";

/// How many skipped lines [`Imported::skipped_samples`] names: enough to find the noise.
const MAX_SKIPPED_SAMPLES: usize = 5;

/// Longest piece of log text quoted in a message, in characters: enough to recognise it.
const MAX_QUOTE_CHARS: usize = 80;

/// How to read the logs. The defaults suit GoVector logs and any log that carries its own
/// header.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The parser regex (JavaScript syntax, as ShiViz takes it). Overrides a file's header;
    /// without either, [`GOVECTOR_REGEX`].
    pub regex: Option<String>,
    /// The execution delimiter regex (JavaScript syntax). Overrides a file's header; an empty
    /// string means "no delimiter" even when a header names one.
    pub delimiter: Option<String>,
    /// Report a malformed clock as a [`Problem`] and leave its event out, instead of failing
    /// with [`ImportError::MalformedClock`]: for logs with a few corrupt lines.
    pub lenient: bool,
}

/// One execution of the log: the events of one run of the system, which is one weft trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Execution {
    /// The execution's label, from the delimiter's `trace` group (ShiViz's execution name).
    pub name: Option<String>,
    /// The events, in log order (inputs in the order given).
    pub events: Vec<Event>,
    /// What ShiViz would reject or weft could not keep, in log order. Never fatal: the events
    /// are still analysable, and `weft check` shows the consequences.
    pub problems: Vec<Problem>,
}

/// Something wrong with one log event, located so that a person can find it.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// The input's name.
    pub source: String,
    /// The 1-based line of the input where the event's match starts.
    pub line: usize,
    /// The event's host as logged.
    pub host: String,
    /// What is wrong and what the import did about it.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: host `{}`: {}",
            self.source, self.line, self.host, self.reason
        )
    }
}

/// The result of [`import`]: the executions and what the import had to pass over.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    /// The parser regex used for the first input, as given (before [`translate_regex`]), so that
    /// a header line or a report can name it.
    pub regex: String,
    /// The delimiter regex used for the first input, as given; `None` when there was none.
    pub delimiter: Option<String>,
    /// The executions, in log order. Execution `k` of every input joins execution `k` here.
    pub executions: Vec<Execution>,
    /// Non-blank lines that no match covered (banners, noise), over all inputs.
    pub skipped_lines: usize,
    /// The first few skipped lines, as `(source, line)`.
    pub skipped_samples: Vec<(String, usize)>,
}

/// Why a log could not be imported at all. Reading the files is the caller's business, so there
/// is no I/O error here.
///
/// (`Display` and `Error` are written out rather than derived with `thiserror`, which would take
/// the `source` field of [`ImportError::MalformedClock`] for the error's cause.)
#[derive(Debug)]
pub enum ImportError {
    /// The parser regex does not compile, even after [`translate_regex`].
    BadRegex {
        /// Where the regex came from: `regex option`, or `SOURCE:1` for a file's header.
        origin: String,
        /// The regex as translated, which is what failed.
        regex: String,
        /// The `regex` crate's explanation.
        message: String,
    },
    /// The parser regex lacks a group ShiViz requires.
    MissingGroup {
        /// Where the regex came from: `regex option`, or `SOURCE:1` for a file's header.
        origin: String,
        /// The regex as given.
        regex: String,
        /// The missing group: `host`, `clock` or `event`.
        group: &'static str,
    },
    /// The delimiter regex does not compile, even after [`translate_regex`].
    BadDelimiter {
        /// Where the delimiter came from: `delimiter option`, or `SOURCE:2` for a file's header.
        origin: String,
        /// The delimiter as translated, which is what failed.
        regex: String,
        /// The `regex` crate's explanation.
        message: String,
    },
    /// An input given as bytes ([`import_bytes`]) is not UTF-8 text.
    InvalidUtf8 {
        /// The input's name.
        source: String,
        /// The 1-based line of the first invalid byte.
        line: usize,
        /// The 1-based byte (not character) of that line where the invalid sequence starts.
        column: usize,
        /// What the bytes there are, and how to convert the file when it can be told.
        reason: String,
    },
    /// An event's clock is not a JSON object of host → non-negative integer (only when not
    /// [`ImportOptions::lenient`]).
    MalformedClock {
        /// The input's name.
        source: String,
        /// The 1-based line where the event's match starts.
        line: usize,
        /// What is wrong with it, quoting it.
        reason: String,
    },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::BadRegex {
                origin,
                regex,
                message,
            } => write!(
                f,
                "{origin}: the parser regex does not compile (translated to `{regex}`): {message}"
            ),
            ImportError::MissingGroup {
                origin,
                regex,
                group,
            } => write!(
                f,
                "{origin}: the parser regex `{regex}` has no named group `{group}` (ShiViz needs `host`, `clock` and `event`)"
            ),
            ImportError::BadDelimiter {
                origin,
                regex,
                message,
            } => write!(
                f,
                "{origin}: the execution delimiter does not compile (translated to `{regex}`): {message}"
            ),
            ImportError::InvalidUtf8 {
                source,
                line,
                column,
                reason,
            } => write!(f, "{source}:{line}:{column}: not UTF-8 text: {reason}"),
            ImportError::MalformedClock {
                source,
                line,
                reason,
            } => write!(f, "{source}:{line}: malformed {reason}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// Imports one or more logs, given as `(name, text)`, as one log: execution `k` of every input
/// joins execution `k` of the result, as when GoVector's per-process logs are viewed together.
///
/// Each input may carry its own header (see the module docs); [`ImportOptions`] override it.
/// Fails only when a regex is unusable or, unless lenient, a clock is malformed; everything else
/// ShiViz would object to becomes a [`Problem`] of its execution.
pub fn import(inputs: &[(String, String)], opts: &ImportOptions) -> Result<Imported, ImportError> {
    let texts: Vec<(&str, &str)> = inputs
        .iter()
        .map(|(s, t)| (s.as_str(), t.as_str()))
        .collect();
    import_texts(&texts, opts)
}

/// [`import`] for logs read as bytes, `(name, bytes)`, as from a file: each must be UTF-8 text,
/// and the first that is not fails with [`ImportError::InvalidUtf8`], naming the line and byte
/// where its first invalid sequence starts (a UTF-16 or gzip file is recognised as such).
///
/// ```
/// use weft_interop::shiviz::{import_bytes, ImportError, ImportOptions};
///
/// let log = b"a {\"a\":1}\nsend\nb {\"a\":1, \"b\":1}\nrecv \xE9t\xE9\n".to_vec();
/// let err = import_bytes(&[("latin1.log".into(), log)], &ImportOptions::default()).unwrap_err();
/// assert!(matches!(err, ImportError::InvalidUtf8 { line: 4, column: 6, .. }));
/// assert!(err.to_string().starts_with("latin1.log:4:6: not UTF-8 text"));
/// ```
pub fn import_bytes(
    inputs: &[(String, Vec<u8>)],
    opts: &ImportOptions,
) -> Result<Imported, ImportError> {
    let texts = inputs
        .iter()
        .map(|(s, b)| Ok((s.as_str(), utf8(s, b)?)))
        .collect::<Result<Vec<(&str, &str)>, ImportError>>()?;
    import_texts(&texts, opts)
}

/// [`import`] on borrowed `(name, text)` pairs.
fn import_texts(inputs: &[(&str, &str)], opts: &ImportOptions) -> Result<Imported, ImportError> {
    let mut parsers: HashMap<String, Parser> = HashMap::new();
    let mut delimiters: HashMap<String, Option<Delimiter>> = HashMap::new();
    // The options' regexes are compiled up front so that a bad one is reported whatever the
    // inputs (even none).
    if let Some(js) = &opts.regex {
        parsers.insert(js.clone(), Parser::new(js, "regex option")?);
    }
    if let Some(js) = &opts.delimiter {
        delimiters.insert(js.clone(), Delimiter::new(js, "delimiter option")?);
    }

    let several = inputs.len() > 1;
    let mut used: Option<(String, Option<String>)> = None;
    let mut accs: Vec<ExecAcc> = Vec::new();
    let mut skipped_lines = 0;
    let mut skipped_samples = Vec::new();
    for (input, (source, raw_text)) in inputs.iter().enumerate() {
        let text = normalize(raw_text);
        let lines = LineIndex::new(&text);
        let header = Header::detect(&text);
        let (regex_js, regex_origin) = match (&opts.regex, &header) {
            (Some(r), _) => (r.clone(), "regex option".to_string()),
            (None, Some(h)) => (h.regex.to_string(), format!("{source}:1")),
            (None, None) => (GOVECTOR_REGEX.to_string(), "default regex".to_string()),
        };
        let delimiter_js = match (&opts.delimiter, &header) {
            (Some(d), _) => Some((d.clone(), "delimiter option".to_string())),
            (None, Some(h)) => Some((h.delimiter.to_string(), format!("{source}:2"))),
            (None, None) => None,
        }
        .filter(|(d, _)| !d.trim().is_empty());
        if used.is_none() {
            used = Some((regex_js.clone(), delimiter_js.as_ref().map(|d| d.0.clone())));
        }
        let parser = match parsers.entry(regex_js) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                let p = Parser::new(v.key(), &regex_origin)?;
                v.insert(p)
            }
        };
        let delimiter = match delimiter_js {
            None => None,
            Some((js, origin)) => match delimiters.entry(js) {
                Entry::Occupied(o) => o.into_mut().as_ref(),
                Entry::Vacant(v) => {
                    let d = Delimiter::new(v.key(), &origin)?;
                    v.insert(d).as_ref()
                }
            },
        };

        let body_start = header.as_ref().map_or(0, |h| h.body_start);
        let mut covered: Vec<(usize, usize)> = vec![(0, body_start)];
        let mut k = 0;
        for seg in split_executions(&text, body_start, delimiter, &mut covered) {
            if text[seg.start..seg.end].trim().is_empty() {
                continue;
            }
            let file = InputText {
                index: input,
                source,
                text: &text,
                lines: &lines,
            };
            let (matched, problems) = read_events(parser, &file, &seg, opts.lenient, &mut covered)?;
            // A stretch with no event at all (a banner before the first delimiter) is noise, not
            // an execution: its lines count as skipped.
            if matched.is_empty() && problems.is_empty() {
                continue;
            }
            if accs.len() <= k {
                accs.push(ExecAcc::default());
            }
            let acc = &mut accs[k];
            if acc.name.is_none() {
                acc.name = seg.name;
            }
            acc.logged.extend(matched);
            acc.problems
                .extend(problems.into_iter().map(|p| (input, p)));
            k += 1;
        }

        covered.sort_unstable();
        for line in uncovered_lines(&text, &lines, &covered) {
            skipped_lines += 1;
            if skipped_samples.len() < MAX_SKIPPED_SAMPLES {
                skipped_samples.push((source.to_string(), line));
            }
        }
    }

    let sources: Vec<&str> = inputs.iter().map(|&(s, _)| s).collect();
    let mut checker = LineChecker::new();
    let executions = accs
        .into_iter()
        .map(|acc| acc.finish(&sources, several, &mut checker))
        .collect();
    let (regex, delimiter) = used.unwrap_or_else(|| {
        (
            opts.regex.clone().unwrap_or_else(|| GOVECTOR_REGEX.into()),
            opts.delimiter.clone().filter(|d| !d.trim().is_empty()),
        )
    });
    Ok(Imported {
        regex,
        delimiter,
        executions,
        skipped_lines,
        skipped_samples,
    })
}

/// Writes a weft-trace/1 file for one execution: a header line `{"format":"weft-trace/1", ...}`
/// carrying `header`'s fields (a `format` field there is ignored), then one line per event in
/// the execution's order.
pub fn to_ndjson(exec: &Execution, header: &Map<String, Value>) -> String {
    let mut head = Map::new();
    head.insert("format".into(), Value::String(FORMAT.into()));
    for (k, v) in header {
        if k != "format" {
            head.insert(k.clone(), v.clone());
        }
    }
    // Serializing a map with string keys, or an `Event`, cannot fail.
    let mut out = serde_json::to_string(&head).unwrap_or_default();
    out.push('\n');
    for e in &exec.events {
        out.push_str(&serde_json::to_string(e).unwrap_or_default());
        out.push('\n');
    }
    out
}
