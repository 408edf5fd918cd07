//! Reading weft-trace/1 from files, directories, gzip files and stdin into a [`Trace`].
//!
//! Input is streamed line by line through one reused buffer, so the raw text of a trace is never
//! held in memory whatever its size; only the compact [`Trace`] grows.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use crate::intern::Sym;
use crate::model::{Header, Kind, FORMAT};
use crate::parse::{Parsed, Parser};
use crate::store::{EventRec, Malformed, Trace, NONE};
use crate::vcenc;

/// How to read.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Skip malformed lines (recording them in [`Trace::malformed`]) instead of failing.
    pub lenient: bool,
    /// Longest line accepted, in bytes; a longer line is malformed. Bounds memory per line.
    pub max_line_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { lenient: false, max_line_bytes: 16 << 20 }
    }
}

/// Why a trace could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// An input could not be opened or read (named by `input`).
    #[error("{input}: {error}")]
    Io {
        /// The file, directory or `<stdin>`.
        input: String,
        /// What the OS said.
        #[source]
        error: io::Error,
    },
    /// A line is not a valid event or header (strict mode only).
    #[error("{0}")]
    Malformed(Malformed),
    /// The inputs hold no event at all (empty, only a header, only blank or skipped lines).
    #[error("{inputs}: the trace has no events")]
    Empty {
        /// The inputs, comma-separated.
        inputs: String,
    },
}

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file; gzip-decompressed when its name ends in `.gz`.
    File(PathBuf),
}

impl Input {
    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::File(p) => p.display().to_string(),
        }
    }

    /// Opens the input as a buffered reader (decompressing `.gz`).
    pub fn open(&self) -> Result<Box<dyn BufRead>, ReadError> {
        const BUF: usize = 1 << 20;
        match self {
            Input::Stdin => Ok(Box::new(BufReader::with_capacity(BUF, io::stdin()))),
            Input::File(p) => {
                let f = File::open(p).map_err(|error| ReadError::Io { input: self.name(), error })?;
                if p.extension().is_some_and(|e| e == "gz") {
                    let gz = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(BUF, f));
                    Ok(Box::new(BufReader::with_capacity(BUF, gz)))
                } else {
                    Ok(Box::new(BufReader::with_capacity(BUF, f)))
                }
            }
        }
    }
}

/// File names a directory contributes: `*.jsonl`, `*.ndjson`, and those gzipped.
pub fn is_trace_file_name(name: &str) -> bool {
    [".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz"].iter().any(|s| name.ends_with(s))
}

/// Expands command-line paths: `-` is stdin, a directory is its trace files sorted by name, no
/// path at all is stdin.
pub fn expand_inputs<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<Input>, ReadError> {
    if paths.is_empty() {
        return Ok(vec![Input::Stdin]);
    }
    let mut out = Vec::new();
    for p in paths {
        let p = p.as_ref();
        if p == Path::new("-") {
            out.push(Input::Stdin);
            continue;
        }
        let io_err = |error| ReadError::Io { input: p.display().to_string(), error };
        let meta = std::fs::metadata(p).map_err(io_err)?;
        if meta.is_dir() {
            let mut files = Vec::new();
            for entry in std::fs::read_dir(p).map_err(io_err)? {
                let entry = entry.map_err(io_err)?;
                let name = entry.file_name();
                let is_file = entry.file_type().map_err(io_err)?.is_file();
                if is_file && name.to_str().is_some_and(is_trace_file_name) {
                    files.push(entry.path());
                }
            }
            files.sort();
            out.extend(files.into_iter().map(Input::File));
        } else {
            out.push(Input::File(p.to_path_buf()));
        }
    }
    Ok(out)
}

/// What became of one line handed to [`TraceBuilder::push_line`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineOutcome {
    /// A new event was added.
    Added,
    /// An identical copy of a known event: dropped and counted.
    Duplicate,
    /// A different copy of a known event: dropped, the id is flagged.
    ConflictingDuplicate,
    /// A header line.
    Header,
    /// A blank line.
    Blank,
}

/// Builds a [`Trace`] from lines, deduplicating ids as the spec says (first copy kept).
pub struct TraceBuilder {
    opts: ReadOptions,
    parser: Parser,
    trace: Trace,
    by_id: FxHashMap<(Sym, u64), u32>,
    flagged: Vec<bool>,
    inputs: Vec<String>,
}

impl TraceBuilder {
    /// A builder reading with `opts`.
    pub fn new(opts: ReadOptions) -> Self {
        TraceBuilder {
            opts,
            parser: Parser::default(),
            trace: Trace::default(),
            by_id: FxHashMap::default(),
            flagged: Vec::new(),
            inputs: Vec::new(),
        }
    }

    /// Reads every line of `reader`, named `input` in messages.
    pub fn read(&mut self, input: &str, mut reader: impl BufRead) -> Result<(), ReadError> {
        self.inputs.push(input.to_string());
        let mut buf = Vec::with_capacity(4096);
        let mut line_no = 0u64;
        let mut first = true;
        loop {
            let too_long = match read_line(&mut reader, &mut buf, self.opts.max_line_bytes) {
                Ok(Some(t)) => t,
                Ok(None) => return Ok(()),
                Err(error) => return Err(ReadError::Io { input: input.to_string(), error }),
            };
            line_no += 1;
            let res = if too_long {
                Err(Malformed {
                    source: input.to_string(),
                    line: line_no,
                    column: None,
                    reason: format!("line longer than {} bytes", self.opts.max_line_bytes),
                })
            } else {
                self.push_line(input, line_no, first, &buf)
            };
            match res {
                Ok(LineOutcome::Blank) => {}
                Ok(_) => first = false,
                Err(m) => {
                    first = false;
                    if self.opts.lenient {
                        self.trace.malformed.push(m);
                    } else {
                        return Err(ReadError::Malformed(m));
                    }
                }
            }
        }
    }

    /// Reads every input in order.
    pub fn read_inputs(&mut self, inputs: &[Input]) -> Result<(), ReadError> {
        for input in inputs {
            let r = input.open()?;
            self.read(&input.name(), r)?;
        }
        Ok(())
    }

    /// Adds one line (without its newline). `first` says whether it is the first non-blank line
    /// of its input, the only place a header may stand. Never panics on any bytes.
    pub fn push_line(
        &mut self,
        input: &str,
        line_no: u64,
        first: bool,
        line: &[u8],
    ) -> Result<LineOutcome, Malformed> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(LineOutcome::Blank);
        }
        let malformed = |reason: String, column: Option<u64>| Malformed {
            source: input.to_string(),
            line: line_no,
            column,
            reason,
        };
        match self.parser.parse(line) {
            Err(e) => Err(malformed(e.reason, e.column)),
            Ok(Parsed::Header(fields)) => {
                let format = fields.get("format").and_then(|f| f.as_str()).unwrap_or_default();
                if format != FORMAT {
                    return Err(malformed(
                        format!("unsupported format {format:?} (this weft reads {FORMAT:?})"),
                        None,
                    ));
                }
                if !first {
                    return Err(malformed(
                        "a header line (one with `format`) may only be the first line".into(),
                        None,
                    ));
                }
                self.trace.headers.push(Header { source: input.to_string(), fields });
                Ok(LineOutcome::Header)
            }
            Ok(Parsed::Event) => Ok(self.commit()),
        }
    }

    fn commit(&mut self) -> LineOutcome {
        let ev = &mut self.parser.ev;
        let replica = ev.replica.expect("checked by parse");
        let seq = ev.seq.expect("checked by parse");
        let t = &mut self.trace;
        let next = t.events.len() as u32;
        let idx = *self.by_id.entry((replica, seq)).or_insert(next);
        if idx != next {
            let kept_fp = t.fingerprints[idx as usize];
            if kept_fp == ev.fingerprint {
                t.duplicates += 1;
                return LineOutcome::Duplicate;
            }
            if !self.flagged[idx as usize] {
                self.flagged[idx as usize] = true;
                t.conflicting.push(idx);
            }
            return LineOutcome::ConflictingDuplicate;
        }
        let mut flags = 0u8;
        let set = |flags: &mut u8, on: bool, bit: u8| {
            if on {
                *flags |= bit;
            }
        };
        set(&mut flags, ev.lamport.is_some(), EventRec::HAS_LAMPORT);
        set(&mut flags, ev.wall_ns.is_some(), EventRec::HAS_WALL);
        set(&mut flags, ev.has_vc, EventRec::HAS_VC);
        set(&mut flags, ev.has_parents, EventRec::HAS_PARENTS);
        set(&mut flags, ev.op.is_some(), EventRec::HAS_OP);
        let vc_start = t.vc_arena.len() as u64;
        vcenc::encode(&ev.vc, &mut t.vc_arena);
        let parents_start = t.parents.len() as u64;
        t.parents.extend_from_slice(&ev.parents);
        let value = match ev.value.take() {
            Some(v) => {
                t.values.push(v);
                (t.values.len() - 1) as u32
            }
            None => NONE,
        };
        let attrs = match ev.attrs.take() {
            Some(a) => {
                t.attrs.push(a);
                (t.attrs.len() - 1) as u32
            }
            None => NONE,
        };
        t.events.push(EventRec {
            replica,
            kind: ev.kind.unwrap_or(Kind::Local),
            op: ev.op.unwrap_or_default(),
            flags,
            seq,
            lamport: ev.lamport.unwrap_or(0),
            wall_ns: ev.wall_ns.unwrap_or(0),
            msg: ev.msg.unwrap_or(NONE),
            key: ev.key.unwrap_or(NONE),
            value,
            attrs,
            vc_start,
            vc_len: (t.vc_arena.len() as u64 - vc_start) as u32,
            parents_len: ev.parents.len() as u32,
            parents_start,
        });
        t.fingerprints.push(ev.fingerprint);
        self.flagged.push(false);
        LineOutcome::Added
    }

    /// Number of events so far.
    pub fn len(&self) -> usize {
        self.trace.events.len()
    }

    /// True when no event has been added yet.
    pub fn is_empty(&self) -> bool {
        self.trace.events.is_empty()
    }

    /// The trace, or [`ReadError::Empty`] when it has no events.
    pub fn finish(mut self) -> Result<Trace, ReadError> {
        if self.trace.events.is_empty() {
            let inputs = if self.inputs.is_empty() { "input".to_string() } else { self.inputs.join(", ") };
            return Err(ReadError::Empty { inputs });
        }
        self.trace.names = std::mem::take(&mut self.parser.names);
        self.trace.syms = std::mem::take(&mut self.parser.syms);
        Ok(self.trace)
    }
}

/// Reads one line into `buf` (without the newline). Returns `None` at end of input, and
/// `Some(true)` for a line longer than `max`, whose bytes are skipped without being stored.
fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<bool>> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(any.then_some(too_long));
        }
        any = true;
        let (take, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (i, true),
            None => (avail.len(), false),
        };
        if !too_long {
            if buf.len() + take > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&avail[..take]);
            }
        }
        r.consume(if done { take + 1 } else { take });
        if done {
            return Ok(Some(too_long));
        }
    }
}

impl Trace {
    /// Parses NDJSON text (a convenience for tests and small inputs).
    pub fn from_ndjson_str(input: &str, text: &str, opts: &ReadOptions) -> Result<Trace, ReadError> {
        let mut b = TraceBuilder::new(opts.clone());
        b.read(input, text.as_bytes())?;
        b.finish()
    }

    /// Reads `inputs` as one trace.
    pub fn read_inputs(inputs: &[Input], opts: &ReadOptions) -> Result<Trace, ReadError> {
        let mut b = TraceBuilder::new(opts.clone());
        b.read_inputs(inputs)?;
        b.finish()
    }
}
