//! The copies of events that the duplicate rule dropped, found again for an export.
//!
//! A [`Trace`] keeps one copy of each event and only counts the others (their fingerprints),
//! but an archive must hold them all: reading it back must count the same identical copies
//! and flag the same differing ones. So when the trace had copies, its inputs are read a second
//! time, with the same parser and rules, and every copy after the first of each id is kept.

use std::io::{self, BufRead};

use serde_json::{Map, Value};

use crate::intern::{LocalInterner, SharedInterner};
use crate::parse::{Parsed, Parser};
use crate::read::parquet;
use crate::read::rows::{Fields, RowSink};
use crate::{Event, Input, ReadError, ReadOptions, Trace};

/// Every copy of an event of `trace` that reading `inputs` (the inputs `trace` was read from,
/// with `opts`) dropped, in the order read. Empty at no cost when the trace dropped none. An
/// input on standard input cannot be read again: an error when the trace has copies.
pub fn dropped_copies(
    trace: &Trace,
    inputs: &[Input],
    opts: &ReadOptions,
) -> Result<Vec<Event>, ReadError> {
    if trace.dropped.is_empty() {
        return Ok(Vec::new());
    }
    let names = SharedInterner::default();
    let syms = SharedInterner::default();
    let mut found = Found {
        trace,
        seen: vec![false; trace.len()],
        copies: Vec::new(),
        names: LocalInterner::new(names.clone()),
        syms: LocalInterner::new(syms.clone()),
    };
    let mut parser = Parser::new(names, syms);
    for input in inputs {
        match input {
            Input::Stdin => {
                return Err(ReadError::Io {
                    input: input.name(),
                    error: io::Error::other(format!(
                        "the trace has {} dropped duplicate copies, and standard input cannot be \
                         read again to archive them: give the trace as a file",
                        trace.dropped.len()
                    )),
                })
            }
            Input::File(p) if parquet::is_parquet_file(p) => {
                parquet::reader::read_into(&mut found, p)?
            }
            Input::File(_) | Input::LastSegment(_) => {
                found.lines(&mut parser, input, opts.max_line_bytes)?;
            }
        }
    }
    Ok(found.copies)
}

/// The search: which events' first copies were met, and the later ones.
struct Found<'t> {
    trace: &'t Trace,
    seen: Vec<bool>,
    copies: Vec<Event>,
    names: LocalInterner,
    syms: LocalInterner,
}

impl Found<'_> {
    /// A valid event read: the first copy of its id is the trace's own, any later one a copy.
    fn note(&mut self, e: Event) {
        if let Some(i) = self.trace.find_name(&e.replica, e.seq) {
            if std::mem::replace(&mut self.seen[i], true) {
                self.copies.push(e);
            }
        }
    }

    /// The events of an NDJSON input, line by line (lines the reader skips are skipped).
    fn lines(&mut self, parser: &mut Parser, input: &Input, max: usize) -> Result<(), ReadError> {
        let io_err = |error| ReadError::Io {
            input: input.name(),
            error,
        };
        let mut r = input.open()?;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            if r.read_until(b'\n', &mut buf).map_err(io_err)? == 0 {
                return Ok(());
            }
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
            if line.len() > max || line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if let Ok(Parsed::Event) = parser.parse(line) {
                let ev = &mut parser.ev;
                let (names, syms) = (&parser.names, &parser.syms);
                let e = Event {
                    replica: names
                        .resolve(ev.replica.expect("checked by parse"))
                        .to_string(),
                    seq: ev.seq.expect("checked by parse"),
                    kind: ev.kind.unwrap_or_default(),
                    lamport: ev.lamport,
                    vc: ev.has_vc.then(|| {
                        (ev.vc.iter())
                            .map(|&(q, v)| (names.resolve(q).to_string(), v))
                            .collect()
                    }),
                    wall_ns: ev.wall_ns,
                    parents: ev.has_parents.then(|| {
                        (ev.parents.iter())
                            .map(|&(q, s)| crate::EventId::new(names.resolve(q), s))
                            .collect()
                    }),
                    msg: ev.msg.map(|m| syms.resolve(m).to_string()),
                    key: ev.key.map(|k| syms.resolve(k).to_string()),
                    op: ev.op,
                    value: ev.value.take(),
                    crdt: ev.crdt,
                    attrs: ev.attrs.take(),
                };
                self.note(e);
            }
        }
    }
}

impl RowSink for Found<'_> {
    fn start(&mut self, _input: &str) {}

    fn interners(&mut self) -> (&mut LocalInterner, &mut LocalInterner) {
        (&mut self.names, &mut self.syms)
    }

    fn header(&mut self, _input: &str, _fields: Map<String, Value>) {}

    fn row(
        &mut self,
        _input: &str,
        _row: u64,
        fields: Result<&mut Fields, String>,
    ) -> Result<(), ReadError> {
        // A refused row was skipped (lenient) or failed the first read (strict).
        if let Ok(e) = fields.and_then(|f| f.take_event(&self.names, &self.syms)) {
            self.note(e);
        }
        Ok(())
    }
}
