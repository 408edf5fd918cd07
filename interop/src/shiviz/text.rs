//! The text of an input: UTF-8 checked, normalized, its lines indexed, its header detected, the
//! lines no match covered found, and pieces of it quoted for messages.

use std::borrow::Cow;

use super::{ImportError, MAX_QUOTE_CHARS};

/// `bytes` as UTF-8 text, or the error locating its first invalid sequence.
pub(super) fn utf8<'a>(source: &str, bytes: &'a [u8]) -> Result<&'a str, ImportError> {
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
pub(super) fn normalize(text: &str) -> Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains("\r\n") {
        Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        Cow::Borrowed(text)
    }
}

/// One input being read: what messages and events need to know about it.
pub(super) struct InputText<'a> {
    /// Its position among the inputs.
    pub(super) index: usize,
    /// Its name.
    pub(super) source: &'a str,
    /// Its text, normalized.
    pub(super) text: &'a str,
    pub(super) lines: &'a LineIndex,
}

/// Byte offsets of line starts, to turn an offset into a 1-based line number.
pub(super) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(super) fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    pub(super) fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

/// A file's own header (GoVector, tracing server): the regex and the delimiter.
pub(super) struct Header<'a> {
    pub(super) regex: &'a str,
    pub(super) delimiter: &'a str,
    /// Where the log proper starts (line 3, or the end when the file is shorter).
    pub(super) body_start: usize,
}

impl<'a> Header<'a> {
    /// Line 1 is a header when it holds all three groups ShiViz requires: no log line does.
    pub(super) fn detect(text: &'a str) -> Option<Header<'a>> {
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

/// The lines (1-based, ascending) with a non-whitespace character outside every covered range.
/// `covered` is sorted by start; ranges do not overlap.
pub(super) fn uncovered_lines(
    text: &str,
    lines: &LineIndex,
    covered: &[(usize, usize)],
) -> Vec<usize> {
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
pub(super) fn quote(text: &str) -> String {
    let mut q: String = text.chars().take(MAX_QUOTE_CHARS).collect();
    if q.len() < text.len() {
        q.push('…');
    }
    format!("`{q}`")
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
}
