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

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use regex::Regex;
use serde_json::{Map, Value};
use weft_trace::{Event, LineChecker, FORMAT, MAX_REPLICA_BYTES};

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

/// Turns a JavaScript regex (as ShiViz takes it) into one the `regex` crate accepts with the same
/// meaning, as far as the `regex` crate can express it.
///
/// JavaScript reads a `{` or `}` that does not form a repetition (`{n}`, `{n,}`, `{n,m}`) as a
/// literal brace, and GoVector's own regex relies on it (`{.*}`); the `regex` crate rejects it, so
/// such braces are escaped (outside character classes, where they are literal in both). Named
/// groups `(?<name>...)` are kept. ShiViz matches with the flags `gm`, so multi-line mode is
/// switched on (`^`/`$` match at line ends); "global" is how [`import`] iterates.
///
/// Smaller differences are smoothed over too: `\<` and `\>` (word boundaries in the `regex`
/// crate, literal in JavaScript) become `<` and `>`; an escaped letter JavaScript does not know
/// (`\a`, `\e`, `\z`, ...) becomes the letter; `\cX` and `\0` become hex escapes; `[\b]` becomes
/// a backspace; `[]` (never matches) and `[^]` (any character) get equivalents; and `[`, `&`, `~`
/// inside a class, which the `regex` crate reads as nested classes and set operations, are
/// escaped. What the `regex` crate cannot do (look-around, back-references) stays, and fails to
/// compile with the `regex` crate's explanation.
pub fn translate_regex(js: &str) -> String {
    let chars: Vec<char> = js.chars().collect();
    let mut out = String::with_capacity(js.len() + 16);
    out.push_str("(?m)");
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' => {
                let Some(&n) = chars.get(i) else {
                    // A trailing backslash is an error in JavaScript too: keep it so that it
                    // fails to compile.
                    out.push('\\');
                    continue;
                };
                i += 1;
                translate_escape(&mut out, n, in_class, &chars, &mut i);
            }
            '[' if !in_class => match (chars.get(i), chars.get(i + 1)) {
                (Some(']'), _) => {
                    out.push_str(r"[^\s\S]");
                    i += 1;
                }
                (Some('^'), Some(']')) => {
                    out.push_str(r"[\s\S]");
                    i += 2;
                }
                (Some('^'), _) => {
                    out.push_str("[^");
                    in_class = true;
                    i += 1;
                }
                _ => {
                    out.push('[');
                    in_class = true;
                }
            },
            '[' | '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            ']' if in_class => {
                out.push(']');
                in_class = false;
            }
            ']' => out.push_str(r"\]"),
            '{' if !in_class => match repetition_len(&chars[i - 1..]) {
                Some(len) => {
                    out.extend(&chars[i - 1..i - 1 + len]);
                    i += len - 1;
                }
                None => out.push_str(r"\{"),
            },
            '}' if !in_class => out.push_str(r"\}"),
            _ => out.push(c),
        }
    }
    out
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

// ---------------------------------------------------------------------------------------------
// Regexes

/// A compiled parser regex and the names of its optional groups.
struct Parser {
    re: Regex,
    /// Named groups other than host/clock/event: they become attributes.
    extra: Vec<String>,
}

impl Parser {
    fn new(js: &str, origin: &str) -> Result<Parser, ImportError> {
        let translated = translate_regex(js);
        let re = Regex::new(&translated).map_err(|e| ImportError::BadRegex {
            origin: origin.to_string(),
            regex: translated.clone(),
            message: e.to_string(),
        })?;
        let names: Vec<String> = re.capture_names().flatten().map(String::from).collect();
        for group in ["host", "clock", "event"] {
            if !names.iter().any(|n| n == group) {
                return Err(ImportError::MissingGroup {
                    origin: origin.to_string(),
                    regex: js.to_string(),
                    group,
                });
            }
        }
        let extra = names
            .into_iter()
            .filter(|n| !matches!(n.as_str(), "host" | "clock" | "event"))
            .collect();
        Ok(Parser { re, extra })
    }
}

/// A compiled execution delimiter.
struct Delimiter {
    re: Regex,
}

impl Delimiter {
    /// `None` for an empty delimiter: no splitting.
    fn new(js: &str, origin: &str) -> Result<Option<Delimiter>, ImportError> {
        if js.trim().is_empty() {
            return Ok(None);
        }
        let translated = translate_regex(js);
        let re = Regex::new(&translated).map_err(|e| ImportError::BadDelimiter {
            origin: origin.to_string(),
            regex: translated.clone(),
            message: e.to_string(),
        })?;
        Ok(Some(Delimiter { re }))
    }
}

/// Matches the parser regex over one execution's text: the events found (with their clocks
/// parsed) and the problems of those whose clock is malformed (lenient) — or the error.
fn read_events(
    parser: &Parser,
    file: &InputText,
    seg: &Segment,
    lenient: bool,
    covered: &mut Vec<(usize, usize)>,
) -> Result<(Vec<Logged>, Vec<Problem>), ImportError> {
    let (text, source, input) = (file.text, file.source, file.index);
    let mut matched = Vec::new();
    let mut problems = Vec::new();
    for caps in parser.re.captures_iter(&text[seg.start..seg.end]) {
        let Some(m) = caps.get(0) else { continue };
        // An empty match covers nothing (ShiViz would loop on it forever).
        if m.is_empty() {
            continue;
        }
        let start = seg.start + m.start();
        covered.push((start, seg.start + m.end()));
        let line = file.lines.line_of(start);
        let host = caps.name("host").map_or("", |g| g.as_str()).to_string();
        let clock_text = caps.name("clock").map_or("", |g| g.as_str());
        let clock = match parse_clock(clock_text) {
            Ok(c) => c,
            Err(why) => {
                let reason = format!("clock {}: {why}", quote(clock_text));
                if !lenient {
                    return Err(ImportError::MalformedClock {
                        source: source.to_string(),
                        line,
                        reason,
                    });
                }
                problems.push(Problem {
                    source: source.to_string(),
                    line,
                    host,
                    reason: format!("malformed {reason}; event left out"),
                });
                continue;
            }
        };
        let fields = parser
            .extra
            .iter()
            .filter_map(|name| Some((name.clone(), caps.name(name)?.as_str().to_string())))
            .collect();
        matched.push(Logged {
            input,
            line,
            host,
            clock,
            text: caps.name("event").map_or("", |g| g.as_str()).to_string(),
            fields,
        });
    }
    Ok((matched, problems))
}

/// Translates the character after a backslash (at `chars[*i - 1]`), consuming what follows it
/// when the escape is longer (`\cX`).
fn translate_escape(out: &mut String, n: char, in_class: bool, chars: &[char], i: &mut usize) {
    match n {
        // Escapes both dialects read alike.
        c if "dDwWsSfnrtvxupPk123456789".contains(c) => {
            out.push('\\');
            out.push(n);
        }
        'b' if in_class => out.push_str(r"\x08"),
        'b' | 'B' if !in_class => {
            out.push('\\');
            out.push(n);
        }
        'c' => match chars.get(*i) {
            Some(&l) if l.is_ascii_alphabetic() => {
                out.push_str(&format!(r"\x{:02X}", (l as u8) % 32));
                *i += 1;
            }
            // JavaScript reads a `\c` without a letter as a backslash and a `c`.
            _ => out.push_str(r"\\c"),
        },
        '0' if !chars.get(*i).is_some_and(|d| d.is_ascii_digit()) => out.push_str(r"\x00"),
        '0' => out.push_str(r"\0"),
        // An escaped letter JavaScript gives no meaning is the letter (`\a` is "a", `\z` is "z"),
        // where the `regex` crate would read a bell, an anchor or an error.
        l if l.is_ascii_alphabetic() => out.push(l),
        // `\<` and `\>` are literal in JavaScript, word boundaries in the `regex` crate.
        '<' | '>' => out.push(n),
        p if p.is_ascii_punctuation() => {
            out.push('\\');
            out.push(p);
        }
        // An escaped space, control or non-ASCII character is that character.
        other => out.push(other),
    }
}

/// The length of a repetition `{n}`, `{n,}` or `{n,m}` at the start of `s`, if there is one.
fn repetition_len(s: &[char]) -> Option<usize> {
    let mut j = 1;
    let digits = |j: &mut usize| {
        let from = *j;
        while s.get(*j).is_some_and(|c| c.is_ascii_digit()) {
            *j += 1;
        }
        *j > from
    };
    if !digits(&mut j) {
        return None;
    }
    if s.get(j) == Some(&',') {
        j += 1;
        digits(&mut j);
    }
    (s.get(j) == Some(&'}')).then_some(j + 1)
}

// ---------------------------------------------------------------------------------------------
// Text

/// `bytes` as UTF-8 text, or the error locating its first invalid sequence.
fn utf8<'a>(source: &str, bytes: &'a [u8]) -> Result<&'a str, ImportError> {
    let e = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok(text),
        Err(e) => e,
    };
    let at = e.valid_up_to();
    let line_start = bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
    let column = at - line_start + 1;
    let hex = |b: &[u8]| {
        b.iter()
            .map(|b| format!("0x{b:02X}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut reason = match e.error_len() {
        Some(n) => format!(
            "{} at byte {column} of line {line} is not a UTF-8 character",
            hex(&bytes[at..at + n])
        ),
        None => format!(
            "the input ends inside a UTF-8 character ({}, from byte {column} of line {line})",
            hex(&bytes[at..])
        ),
    };
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        reason.push_str("; the file is UTF-16: convert it to UTF-8 first (e.g. with iconv)");
    } else if bytes.starts_with(&[0x1F, 0x8B]) {
        reason.push_str("; the file is gzip-compressed: decompress it first");
    }
    Err(ImportError::InvalidUtf8 {
        source: source.to_string(),
        line,
        column,
        reason,
    })
}

/// Drops a byte-order mark and turns CRLF line ends into LF, so that `.` and `$` behave as on a
/// Unix-written log (a Windows-written GoVector log would otherwise match nothing).
fn normalize(text: &str) -> Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains("\r\n") {
        Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        Cow::Borrowed(text)
    }
}

/// One input being read: what messages and events need to know about it.
struct InputText<'a> {
    /// Its position among the inputs.
    index: usize,
    /// Its name.
    source: &'a str,
    /// Its text, normalized.
    text: &'a str,
    lines: &'a LineIndex,
}

/// Byte offsets of line starts, to turn an offset into a 1-based line number.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

/// A file's own header (GoVector, tracing server): the regex and the delimiter.
struct Header<'a> {
    regex: &'a str,
    delimiter: &'a str,
    /// Where the log proper starts (line 3, or the end when the file is shorter).
    body_start: usize,
}

impl<'a> Header<'a> {
    /// Line 1 is a header when it holds all three groups ShiViz requires: no log line does.
    fn detect(text: &'a str) -> Option<Header<'a>> {
        let (first, rest, after_first) = match text.find('\n') {
            Some(i) => (&text[..i], &text[i + 1..], i + 1),
            None => (text, "", text.len()),
        };
        let trimmed = first.trim();
        if !["(?<host>", "(?<clock>", "(?<event>"]
            .iter()
            .all(|g| trimmed.contains(g))
        {
            return None;
        }
        let (delimiter, body_start) = match rest.find('\n') {
            Some(i) => (&rest[..i], after_first + i + 1),
            None => (rest, text.len()),
        };
        Some(Header {
            regex: trimmed,
            delimiter: delimiter.trim(),
            body_start,
        })
    }
}

/// One stretch of text between delimiter matches.
struct Segment {
    start: usize,
    end: usize,
    /// The `trace` group of the delimiter match that opens it.
    name: Option<String>,
}

/// Splits `text[from..]` at each (non-empty) delimiter match, recording the matches as covered.
fn split_executions(
    text: &str,
    from: usize,
    delimiter: Option<&Delimiter>,
    covered: &mut Vec<(usize, usize)>,
) -> Vec<Segment> {
    let body = &text[from..];
    let Some(d) = delimiter else {
        return vec![Segment {
            start: from,
            end: text.len(),
            name: None,
        }];
    };
    let mut segments = Vec::new();
    let mut start = from;
    let mut name = None;
    for caps in d.re.captures_iter(body) {
        let Some(m) = caps.get(0) else { continue };
        if m.is_empty() {
            continue;
        }
        segments.push(Segment {
            start,
            end: from + m.start(),
            name: name.take(),
        });
        covered.push((from + m.start(), from + m.end()));
        start = from + m.end();
        name = caps
            .name("trace")
            .map(|t| t.as_str().to_string())
            .filter(|t| !t.is_empty());
    }
    segments.push(Segment {
        start,
        end: text.len(),
        name,
    });
    segments
}

/// The lines (1-based, ascending) with a non-whitespace character outside every covered range.
/// `covered` is sorted by start; ranges do not overlap.
fn uncovered_lines(text: &str, lines: &LineIndex, covered: &[(usize, usize)]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    let mut cursor = 0;
    let gap = |from: usize, to: usize, out: &mut Vec<usize>| {
        if from >= to {
            return;
        }
        let mut line = lines.line_of(from);
        for c in text[from..to].chars() {
            if c == '\n' {
                line += 1;
            } else if !c.is_whitespace() && out.last() != Some(&line) {
                out.push(line);
            }
        }
    };
    for &(s, e) in covered {
        gap(cursor, s, &mut out);
        cursor = cursor.max(e);
    }
    gap(cursor, text.len(), &mut out);
    out
}

/// Quotes log text for a message, shortened to [`MAX_QUOTE_CHARS`].
fn quote(text: &str) -> String {
    let mut q: String = text.chars().take(MAX_QUOTE_CHARS).collect();
    if q.len() < text.len() {
        q.push('…');
    }
    format!("`{q}`")
}

// ---------------------------------------------------------------------------------------------
// Clocks

/// Parses a clock as found in the wild: `{"a":1, "b" : 2}`, `"{\"a\":1}"` (a JSON string holding
/// the object) or `{\"a\":1}` (the same, captured without its quotes). Zero entries are kept;
/// as in JavaScript's `JSON.parse`, a host named twice keeps its last value.
fn parse_clock(text: &str) -> Result<BTreeMap<String, u64>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty".into());
    }
    let entries = match serde_json::from_str::<Value>(t) {
        Ok(Value::Object(o)) => o,
        Ok(Value::String(inner)) => match serde_json::from_str::<Value>(inner.trim()) {
            Ok(Value::Object(o)) => o,
            Ok(other) => {
                return Err(format!(
                    "a string holding {}, not a JSON object",
                    weft_trace::json_type(&other)
                ))
            }
            Err(e) => {
                return Err(format!(
                    "the quoted text is not a JSON object ({})",
                    json_error(&e)
                ))
            }
        },
        Ok(other) => {
            return Err(format!(
                "{}, not a JSON object",
                weft_trace::json_type(&other)
            ))
        }
        Err(e) => {
            // `{\"a\":1}`: escaped JSON whose quotes the regex left outside the clock.
            let unquoted = t.contains("\\\"").then(|| {
                let s: String = serde_json::from_str(&format!("\"{t}\"")).ok()?;
                match serde_json::from_str::<Value>(&s) {
                    Ok(Value::Object(o)) => Some(o),
                    _ => None,
                }
            });
            match unquoted.flatten() {
                Some(o) => o,
                None => return Err(format!("not a JSON object ({})", json_error(&e))),
            }
        }
    };
    let mut clock = BTreeMap::new();
    for (host, v) in entries {
        if host.is_empty() || host.len() > MAX_REPLICA_BYTES {
            return Err(format!(
                "host names must be 1 to {MAX_REPLICA_BYTES} bytes, got {} bytes",
                host.len()
            ));
        }
        let Some(n) = v.as_u64() else {
            return Err(format!(
                "the entry for `{host}` is {v}, not a non-negative integer"
            ));
        };
        clock.insert(host, n);
    }
    Ok(clock)
}

/// serde_json's message with its position told relative to the clock text: "line 1 column 6"
/// would read as a line of the log.
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let bare = text
        .rfind(" at line ")
        .map_or(text.as_str(), |i| &text[..i]);
    match (e.line(), e.column()) {
        (0, _) | (_, 0) => bare.to_string(),
        (1, c) => format!("{bare}, at character {c} of the clock"),
        (l, c) => format!("{bare}, at line {l}, character {c} of the clock"),
    }
}

// ---------------------------------------------------------------------------------------------
// Events

/// One matched log event, before it is checked.
struct Logged {
    input: usize,
    line: usize,
    host: String,
    clock: BTreeMap<String, u64>,
    text: String,
    /// The other named groups that took part in the match.
    fields: Vec<(String, String)>,
}

/// What the inputs contributed to one execution.
#[derive(Default)]
struct ExecAcc {
    name: Option<String>,
    logged: Vec<Logged>,
    /// With the input index, for ordering.
    problems: Vec<(usize, Problem)>,
}

/// A logged event ShiViz can place: a valid host and an own counter (its position in the host's
/// history) of at least 1.
struct Placed<'a> {
    logged: &'a Logged,
    pos: u64,
    /// The weft event, its `vc` still the logged clock.
    event: Event,
}

impl ExecAcc {
    fn finish(self, sources: &[&str], several: bool, checker: &mut LineChecker) -> Execution {
        let mut problems = self.problems;
        let source_name = |input: usize| sources.get(input).copied().unwrap_or_default();
        let problem = |l: &Logged, reason: String| {
            (
                l.input,
                Problem {
                    source: source_name(l.input).to_string(),
                    line: l.line,
                    host: l.host.clone(),
                    reason,
                },
            )
        };

        // 1. Events weft can represent.
        let mut placed: Vec<Placed> = Vec::new();
        for l in &self.logged {
            if l.host.is_empty() || l.host.len() > MAX_REPLICA_BYTES {
                problems.push(problem(
                    l,
                    format!(
                        "host names must be 1 to {MAX_REPLICA_BYTES} bytes, got {} bytes; event left out",
                        l.host.len()
                    ),
                ));
                continue;
            }
            let pos = match l.clock.get(&l.host) {
                Some(&n) if n >= 1 => n,
                Some(_) => {
                    problems.push(problem(
                        l,
                        "the clock's entry for its own host is 0 (ShiViz counts each host's events from 1), so the event has no seq; event left out".into(),
                    ));
                    continue;
                }
                None => {
                    problems.push(problem(
                        l,
                        "the clock has no entry for its own host (ShiViz rejects it), so the event has no seq; event left out".into(),
                    ));
                    continue;
                }
            };
            let source = several.then(|| source_name(l.input));
            match to_event(l, pos, source, checker) {
                Ok((event, note)) => {
                    if let Some(why) = note {
                        problems.push(problem(l, why));
                    }
                    placed.push(Placed {
                        logged: l,
                        pos,
                        event,
                    });
                }
                Err(why) => problems.push(problem(l, format!("{why}; event left out"))),
            }
        }

        // 2. ShiViz's rule: each host's own counter, in counter order, is 1, 2, 3, ...
        let mut by_host: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        // The largest counter of the host before each event, in log order: a repeat below it
        // also goes backwards, which the message says.
        let mut max_before: Vec<u64> = vec![0; placed.len()];
        let mut max_so_far: BTreeMap<&str, u64> = BTreeMap::new();
        for (i, p) in placed.iter().enumerate() {
            let host = p.logged.host.as_str();
            by_host.entry(host).or_default().push(i);
            let m = max_so_far.entry(host).or_insert(0);
            max_before[i] = *m;
            *m = (*m).max(p.pos);
        }
        for idx in by_host.values_mut() {
            idx.sort_by_key(|&i| placed[i].pos); // stable: equal counters stay in log order
        }
        let last: BTreeMap<&str, u64> = by_host
            .iter()
            .map(|(h, idx)| (*h, idx.last().map_or(0, |&i| placed[i].pos)))
            .collect();
        for (host, idx) in &by_host {
            let mut prev: Option<&Placed> = None;
            for &i in idx {
                let p = &placed[i];
                let why = match prev {
                    None if p.pos != 1 => Some(format!(
                        "`{host}`'s first clock value is {}, not 1 (ShiViz requires each host's counter to start at 1; weft check will report a seq-gap)",
                        p.pos
                    )),
                    Some(q) if q.pos == p.pos => Some(format!(
                        "`{host}`'s clock value {} repeats (also on line {}{}){} (ShiViz requires it to rise by exactly 1); event kept, and weft check will report the duplicate id",
                        p.pos,
                        q.logged.line,
                        if q.logged.input != p.logged.input {
                            format!(" of {}", source_name(q.logged.input))
                        } else {
                            String::new()
                        },
                        if max_before[i] > p.pos {
                            format!(", going back from {}", max_before[i])
                        } else {
                            String::new()
                        },
                    )),
                    Some(q) if p.pos > q.pos + 1 => Some(format!(
                        "`{host}`'s clock jumps from {} to {} (ShiViz requires it to rise by exactly 1); event kept, and weft check will report a seq-gap",
                        q.pos, p.pos
                    )),
                    _ => None,
                };
                if let Some(why) = why {
                    problems.push(problem(p.logged, why));
                }
                prev = Some(p);
            }
        }

        // 3. ShiViz's rule: a clock names only hosts that log, and only events that exist. As in
        //    ShiViz (and weft's vc-derived edges), an entry is checked where it enters or grows
        //    in the host's clock, not on every later event that carries it along.
        for (host, idx) in &by_host {
            let mut seen: BTreeMap<&str, u64> = BTreeMap::new();
            for &i in idx {
                let l = placed[i].logged;
                for (q, &v) in &l.clock {
                    if q == host || v <= seen.get(q.as_str()).copied().unwrap_or(0) {
                        continue;
                    }
                    seen.insert(q.as_str(), v);
                    let why = match last.get(q.as_str()) {
                        None => format!(
                            "the clock names host `{q}` ({q}: {v}), which logs no event in this execution (ShiViz rejects it); event kept, and weft check will report the missing event"
                        ),
                        Some(&n) if v > n => format!(
                            "the clock has seen {q}@{v}, but `{q}`'s clock only reaches {n} in this execution (ShiViz rejects it); event kept, and weft check will report the missing event"
                        ),
                        Some(_) => continue,
                    };
                    problems.push(problem(l, why));
                }
            }
        }

        // 4. Clocks count positions per host; weft's `vc` counts seqs per replica. They differ
        //    only for logs exported from weft whose events name another replica or seq (a host
        //    renamed for ShiViz, a replica's seqs renumbered to close gaps): turn each entry
        //    `host: position` into `replica: seq` of the event at that position.
        let mut ids: HashMap<(&str, u64), (&str, u64)> = HashMap::new();
        let mut names: HashMap<&str, &str> = HashMap::new();
        for p in &placed {
            let host = p.logged.host.as_str();
            ids.entry((host, p.pos))
                .or_insert((p.event.replica.as_str(), p.event.seq));
            names.entry(host).or_insert(p.event.replica.as_str());
        }
        let identity = ids
            .iter()
            .all(|(&(h, pos), &(r, seq))| h == r && pos == seq);
        let vcs: Vec<Option<BTreeMap<String, u64>>> = placed
            .iter()
            .map(|p| {
                (!identity).then(|| {
                    let mut vc = BTreeMap::new();
                    for (q, &v) in &p.logged.clock {
                        let (r, s) = ids
                            .get(&(q.as_str(), v))
                            .copied()
                            .unwrap_or((names.get(q.as_str()).copied().unwrap_or(q), v));
                        let e = vc.entry(r.to_string()).or_insert(0);
                        *e = s.max(*e);
                    }
                    vc
                })
            })
            .collect();
        let mut events = Vec::with_capacity(placed.len());
        for (p, vc) in placed.into_iter().zip(vcs) {
            let mut event = p.event;
            if let Some(vc) = vc {
                let logged = event.vc.replace(vc);
                // Cannot fail (the names are the events' own), but keep the output valid.
                if check(&event, checker).is_err() {
                    event.vc = logged;
                }
            }
            events.push(event);
        }

        problems.sort_by_key(|(input, p)| (*input, p.line));
        Execution {
            name: self.name,
            events,
            problems: problems.into_iter().map(|(_, p)| p).collect(),
        }
    }
}

/// Makes the weft event for a logged event at position `pos` of its host: its weft fields restored
/// when the text carries them (with a note when they are unusable), else the text as an
/// attribute. `Err` when even the plain event is not valid weft-trace/1 (never expected: a safety
/// net).
fn to_event(
    l: &Logged,
    pos: u64,
    source: Option<&str>,
    checker: &mut LineChecker,
) -> Result<(Event, Option<String>), String> {
    let mut note = None;
    match embedded_weft(&l.text) {
        Embedded::None => {}
        Embedded::Bad(why) => note = Some(why),
        Embedded::Fields(w) => match restore(l, pos, w, checker) {
            Ok(e) => return Ok((e, None)),
            Err(why) => note = Some(why),
        },
    }
    let mut attrs: BTreeMap<String, Value> = l
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    attrs.insert("event".into(), Value::String(l.text.clone()));
    attrs.insert("line".into(), Value::from(l.line));
    if let Some(s) = source {
        attrs.insert("source".into(), Value::String(s.into()));
    }
    let event = Event {
        replica: l.host.clone(),
        seq: pos,
        vc: Some(l.clock.clone()),
        attrs: Some(attrs.into_iter().collect()),
        ..Event::default()
    };
    check(&event, checker)?;
    Ok((event, note))
}

/// What an event text says about weft fields.
enum Embedded {
    /// Plain text (or JSON without `"weft"`).
    None,
    /// A `"weft"` key that is not an object.
    Bad(String),
    /// The `"weft"` object.
    Fields(Map<String, Value>),
}

fn embedded_weft(text: &str) -> Embedded {
    let t = text.trim();
    if !t.starts_with('{') {
        return Embedded::None;
    }
    let Ok(Value::Object(mut o)) = serde_json::from_str::<Value>(t) else {
        return Embedded::None;
    };
    match o.remove("weft") {
        None => Embedded::None,
        Some(Value::Object(w)) => Embedded::Fields(w),
        Some(other) => Embedded::Bad(format!(
            "the event text's `weft` field is {}, not an object of weft fields; kept as plain text",
            weft_trace::json_type(&other)
        )),
    }
}

/// The weft fields an exported event carries. `replica` and `seq` are there only when they differ
/// from the host and the position (see [`crate::export::shiviz`]); `vc` comes from the clock.
const RESTORED: [&str; 11] = [
    "replica", "seq", "kind", "lamport", "wall_ns", "parents", "msg", "key", "op", "value", "attrs",
];

/// Rebuilds an exported event from its weft fields, checked by weft-trace's own rules. Its `vc` is
/// the logged clock, for now.
fn restore(
    l: &Logged,
    pos: u64,
    w: Map<String, Value>,
    checker: &mut LineChecker,
) -> Result<Event, String> {
    let mut line = Map::new();
    line.insert("replica".into(), Value::String(l.host.clone()));
    line.insert("seq".into(), Value::from(pos));
    for (k, v) in w {
        if RESTORED.contains(&k.as_str()) {
            line.insert(k, v);
        }
    }
    let rejected = |why: &str| {
        format!("the event text carries weft fields that weft-trace/1 rejects ({why}); kept as plain text")
    };
    let mut event: Event =
        serde_json::from_value(Value::Object(line)).map_err(|e| rejected(&e.to_string()))?;
    event.vc = Some(l.clock.clone());
    if !l.fields.is_empty() {
        let attrs = event.attrs.get_or_insert_with(Map::new);
        for (k, v) in &l.fields {
            if !attrs.contains_key(k) {
                attrs.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
    check(&event, checker).map_err(|why| rejected(&why))?;
    Ok(event)
}

/// Checks that an event serializes to a line weft-trace/1 accepts.
fn check(event: &Event, checker: &mut LineChecker) -> Result<(), String> {
    let line = serde_json::to_vec(event).map_err(|e| e.to_string())?;
    checker.check(&line).map(|_| ()).map_err(|e| e.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_from_one() {
        let idx = LineIndex::new("a\nbc\n\nd");
        assert_eq!(idx.line_of(0), 1);
        assert_eq!(idx.line_of(1), 1);
        assert_eq!(idx.line_of(2), 2);
        assert_eq!(idx.line_of(5), 3);
        assert_eq!(idx.line_of(6), 4);
    }

    #[test]
    fn repetition_len_accepts_only_repetitions() {
        let r = |s: &str| repetition_len(&s.chars().collect::<Vec<_>>());
        assert_eq!(r("{2}x"), Some(3));
        assert_eq!(r("{2,}"), Some(4));
        assert_eq!(r("{2,13}"), Some(6));
        assert_eq!(r("{,3}"), None);
        assert_eq!(r("{}"), None);
        assert_eq!(r("{.*}"), None);
        assert_eq!(r("{2"), None);
    }
}
