//! Checking single lines as the reader does, without building a trace ([`LineChecker`]): for
//! servers that accept or reject a batch before storing any of it.

use super::shard::trim_line;
use crate::intern::{LocalInterner, SharedInterner};
use crate::model::FORMAT;
use crate::parse::{Parsed, Parser};

/// What [`LineChecker::check`] found a line to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckedLine {
    /// Only whitespace.
    Blank,
    /// A `weft-trace/1` header object.
    Header,
    /// A valid event.
    Event {
        /// Its replica.
        replica: String,
        /// Its seq.
        seq: u64,
        /// A hash of its JSON value, equal for copies equal as JSON values (in any process).
        fingerprint: u64,
    },
}

/// Checks single lines exactly as the reader does, without building a trace: for servers that
/// must accept or reject a whole batch before storing any of it. What it says of a line does
/// not depend on the lines it checked before, so one checker may serve many batches; its
/// interning tables grow with the distinct strings it has seen ([`LineChecker::interned`]).
pub struct LineChecker {
    parser: Parser,
}

impl Default for LineChecker {
    fn default() -> Self {
        let mut parser = Parser::new(SharedInterner::default(), SharedInterner::default());
        // Message ids and keys only count in the fingerprint: hashed, never kept.
        parser.syms = LocalInterner::hashing();
        LineChecker { parser }
    }
}

impl LineChecker {
    /// A checker with empty tables.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many distinct strings (replica names, message ids, keys) its tables hold: a checker
    /// kept across batches is replaced once this passes a bound of the caller's.
    pub fn interned(&self) -> usize {
        self.parser.names.len() + self.parser.syms.len()
    }

    /// Classifies one line (without its newline). Never panics on any bytes.
    pub fn check(&mut self, line: &[u8]) -> Result<CheckedLine, crate::parse::LineError> {
        let (line, bom) = trim_line(line);
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(CheckedLine::Blank);
        }
        let parsed = self.parser.parse(line).map_err(|mut e| {
            e.column = e.column.map(|c| c + bom);
            e
        })?;
        match parsed {
            Parsed::Header(fields) => {
                let format = fields
                    .get("format")
                    .and_then(|f| f.as_str())
                    .unwrap_or_default();
                if format != FORMAT {
                    return Err(crate::parse::LineError {
                        reason: format!(
                            "unsupported format {format:?} (this weft reads {FORMAT:?})"
                        ),
                        column: None,
                    });
                }
                Ok(CheckedLine::Header)
            }
            Parsed::Event => {
                let ev = &self.parser.ev;
                let replica = self
                    .parser
                    .names
                    .resolve(ev.replica.expect("checked by parse"))
                    .to_string();
                Ok(CheckedLine::Event {
                    replica,
                    seq: ev.seq.expect("checked by parse"),
                    fingerprint: ev.fingerprint,
                })
            }
        }
    }
}
