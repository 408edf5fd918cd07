//! Cutting a log into events: the compiled parser and delimiter regexes, the split into
//! executions at delimiter matches, and each match read into a [`Logged`] event.

use std::collections::BTreeMap;

use regex::Regex;

use super::clock::parse_clock;
use super::text::{quote, InputText};
use super::translate::translate_regex;
use super::{ImportError, Problem};

/// A compiled parser regex and the names of its optional groups.
pub(super) struct Parser {
    re: Regex,
    /// Named groups other than host/clock/event: they become attributes.
    extra: Vec<String>,
}

impl Parser {
    pub(super) fn new(js: &str, origin: &str) -> Result<Parser, ImportError> {
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
pub(super) struct Delimiter {
    re: Regex,
}

impl Delimiter {
    /// `None` for an empty delimiter: no splitting.
    pub(super) fn new(js: &str, origin: &str) -> Result<Option<Delimiter>, ImportError> {
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

/// One stretch of text between delimiter matches.
pub(super) struct Segment {
    pub(super) start: usize,
    pub(super) end: usize,
    /// The `trace` group of the delimiter match that opens it.
    pub(super) name: Option<String>,
}

/// Splits `text[from..]` at each (non-empty) delimiter match, recording the matches as covered.
pub(super) fn split_executions(
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

/// One matched log event, before it is checked.
pub(super) struct Logged {
    pub(super) input: usize,
    pub(super) line: usize,
    pub(super) host: String,
    pub(super) clock: BTreeMap<String, u64>,
    pub(super) text: String,
    /// The other named groups that took part in the match.
    pub(super) fields: Vec<(String, String)>,
}

/// Matches the parser regex over one execution's text: the events found (with their clocks
/// parsed) and the problems of those whose clock is malformed (lenient) — or the error.
pub(super) fn read_events(
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
