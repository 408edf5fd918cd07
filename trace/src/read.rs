//! Reading weft-trace/1 from files, directories, gzip files and stdin into a [`Trace`].
//!
//! Input is streamed line by line through one reused buffer, so the raw text of a trace is never
//! held in memory whatever its size; only the compact [`Trace`] grows.
//!
//! A file is read up to the length it had when it was opened, so a file that grows meanwhile
//! still ends. The last segment of a collector's data directory ([`Input::LastSegment`]) may be
//! being written: only its complete lines are read, and what follows its last newline is left
//! out as in flight and counted ([`Trace::in_flight`]).

use std::any::Any;
use std::io::{self, BufRead};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::intern::SharedInterner;
use crate::parse::Parser;
use crate::store::{InFlight, Malformed, Trace};

mod check;
mod expand;
mod input;
mod parallel;
pub(crate) mod parquet;
mod prefix;
// Rows of columnar files: only Parquet reads them.
#[cfg(feature = "parquet")]
pub(crate) mod rows;
mod shard;
mod split;

pub use check::{CheckedLine, LineChecker};
pub use expand::{
    expand_inputs, expand_paths, is_trace_file_name, segment_number, Expanded, Skipped,
};
pub use input::{Input, Opened};
use shard::{too_long, Item, Shard};
pub use split::split_lines;
use split::{read_line, BLOCK_BYTES};

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
        ReadOptions {
            lenient: false,
            max_line_bytes: 16 << 20,
        }
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
    /// The parser panicked on a line of `input` (a bug in weft). The read stops with this error
    /// instead of hanging or taking the process down; the builder must not be used further.
    #[error("{input}: a parsing thread panicked (a bug in weft): {message}")]
    ParserPanicked {
        /// The input being read.
        input: String,
        /// The panic's message, when it carried a string.
        message: String,
    },
}

/// The message of a caught panic.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "the panic carried no message".to_string()
    }
}

/// Builds a [`Trace`] from lines, deduplicating ids as the spec says (first copy kept).
///
/// [`TraceBuilder::read`] parses blocks of lines on all cores and appends them in input order,
/// so the result — including which copy of a repeated id is kept and the order of malformed
/// lines — is the same as reading line by line.
pub struct TraceBuilder {
    opts: ReadOptions,
    names: SharedInterner,
    syms: SharedInterner,
    parser: Parser,
    shard: Shard,
    trace: Trace,
    inputs: Vec<String>,
    threads: usize,
}

/// How far a stream of lines has been read: what [`TraceBuilder::read_at`] continues from.
/// The default is the start of a stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinePos {
    /// Lines read so far: the next line is line `line + 1`.
    pub line: u64,
    /// Whether a line other than a blank one has been read (a header line is accepted only
    /// before that).
    pub past_start: bool,
}

/// Where the builder is within one input: for line numbers and the header rule.
struct Cursor<'a> {
    input: &'a str,
    line: u64,
    first: bool,
    /// What `line` counts: lines of text, or rows of a columnar input.
    place: crate::store::Place,
}

impl TraceBuilder {
    /// A builder reading with `opts`, parsing on every available core.
    pub fn new(opts: ReadOptions) -> Self {
        let names = SharedInterner::default();
        let syms = SharedInterner::default();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        TraceBuilder {
            opts,
            parser: Parser::new(names.clone(), syms.clone()),
            names,
            syms,
            shard: Shard::default(),
            trace: Trace::default(),
            inputs: Vec::new(),
            threads,
        }
    }

    /// A builder for `text` held in memory: on the calling thread when it is at most one block
    /// (parsing threads would get one block and wait for each other), else on every core.
    fn for_text(text: &[u8], opts: &ReadOptions) -> Self {
        let b = TraceBuilder::new(opts.clone());
        if text.len() <= BLOCK_BYTES {
            b.threads(1)
        } else {
            b
        }
    }

    /// Parse on at most `n` threads (1 = on the calling thread only).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }

    /// Reads every line of `reader`, named `input` in messages.
    pub fn read(&mut self, input: &str, reader: impl BufRead) -> Result<(), ReadError> {
        self.read_at(input, &mut LinePos::default(), reader)
    }

    /// Reads every line of `reader` as the lines of `input` that come after the `pos.line`
    /// lines already read from it, and moves `pos` past them (also when the read fails: then
    /// up to where it stopped). For a stream of lines read in batches, each batch by its own
    /// builder: with one [`LinePos`] carried from batch to batch, malformed lines are numbered
    /// and the header rule (a header only before any other non-blank line) is applied exactly
    /// as one read of the whole stream does.
    pub fn read_at(
        &mut self,
        input: &str,
        pos: &mut LinePos,
        reader: impl BufRead,
    ) -> Result<(), ReadError> {
        let mut cur = Cursor {
            input,
            line: pos.line,
            first: !pos.past_start,
            place: crate::store::Place::Line,
        };
        let res = self.read_cursor(&mut cur, reader);
        *pos = LinePos {
            line: cur.line,
            past_start: !cur.first,
        };
        res
    }

    fn read_cursor(&mut self, cur: &mut Cursor, mut reader: impl BufRead) -> Result<(), ReadError> {
        let input = cur.input;
        self.inputs.push(input.to_string());
        let io_err = |error| ReadError::Io {
            input: input.to_string(),
            error,
        };
        if self.threads <= 1 {
            let mut buf = Vec::with_capacity(4096);
            let max = self.opts.max_line_bytes;
            // Strict: a line over the limit is the error, so reading stops at the limit (an
            // endless line, e.g. from /dev/zero, must not be read to its end first).
            let stop = !self.opts.lenient;
            while let Some(long) = read_line(&mut reader, &mut buf, max, stop).map_err(io_err)? {
                let mut shard = std::mem::take(&mut self.shard);
                shard.clear();
                if long {
                    shard.items.push(Item::Malformed(too_long(max), None));
                } else {
                    let parser = &mut self.parser;
                    let parsed =
                        catch_unwind(AssertUnwindSafe(|| shard.parse_line(parser, &buf, max)));
                    if let Err(payload) = parsed {
                        return Err(ReadError::ParserPanicked {
                            input: input.to_string(),
                            message: panic_message(&*payload),
                        });
                    }
                }
                let res = self.merge(cur, &mut shard);
                self.shard = shard;
                res?;
            }
            return Ok(());
        }
        self.read_parallel(cur, &mut reader)
    }

    /// Reads every input in order. What was left out of a [`Input::LastSegment`] as in flight
    /// is recorded in [`Trace::in_flight`].
    pub fn read_inputs(&mut self, inputs: &[Input]) -> Result<(), ReadError> {
        for input in inputs {
            // Parquet (by name or magic bytes) is read by column, not by line.
            if let Input::File(p) = input {
                if parquet::is_parquet_file(p) {
                    parquet::read_into(self, p)?;
                    continue;
                }
            }
            let opened = input.open_measured()?;
            let name = input.name();
            self.read(&name, opened.reader)?;
            if opened.in_flight > 0 {
                self.trace.in_flight.push(InFlight {
                    source: name,
                    bytes: opened.in_flight,
                });
            }
        }
        Ok(())
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
    pub fn finish(self) -> Result<Trace, ReadError> {
        if self.trace.events.is_empty() {
            let inputs = if self.inputs.is_empty() {
                "input".to_string()
            } else {
                self.inputs.join(", ")
            };
            return Err(ReadError::Empty { inputs });
        }
        Ok(self.finish_batch())
    }

    /// The trace, also when it has no events: a batch for [`Trace::append`], where lines that
    /// hold no event (blank, a header, malformed ones skipped in lenient mode, or nothing at
    /// all) are an ordinary batch, not an error.
    pub fn finish_batch(mut self) -> Trace {
        drop(self.parser);
        let take =
            |s: SharedInterner| std::mem::take(&mut *s.lock().unwrap_or_else(|p| p.into_inner()));
        self.trace.names = take(self.names);
        self.trace.syms = take(self.syms);
        self.trace
    }
}

impl Trace {
    /// Parses NDJSON text (a convenience for tests and small inputs).
    pub fn from_ndjson_str(
        input: &str,
        text: &str,
        opts: &ReadOptions,
    ) -> Result<Trace, ReadError> {
        let mut b = TraceBuilder::for_text(text.as_bytes(), opts);
        b.read(input, text.as_bytes())?;
        b.finish()
    }

    /// Parses NDJSON text as one batch for [`Trace::append`]: like [`Trace::from_ndjson_str`],
    /// but a text with no event (empty, blank lines, only a header, or only malformed lines in
    /// lenient mode) gives an empty trace instead of [`ReadError::Empty`]. The text is one input
    /// named `input`, so its malformed lines are numbered from 1 and a header is accepted on its
    /// first line; to continue the numbering of a longer stream, read with
    /// [`TraceBuilder::read_at`] and [`TraceBuilder::finish_batch`]. In strict mode a
    /// malformed line is an error, as in every read.
    ///
    /// ```
    /// use weft_trace::{ReadOptions, Trace};
    ///
    /// let opts = ReadOptions::default();
    /// let mut trace = Trace::default();
    /// trace.append(Trace::batch_from_ndjson("1", r#"{"replica":"a","seq":1,"vc":{"a":1}}"#, &opts)?);
    /// let added = trace.append(Trace::batch_from_ndjson("2", concat!(
    ///     r#"{"replica":"b","seq":1,"vc":{"a":1,"b":1}}"#, "\n",
    ///     r#"{"replica":"a","seq":1,"vc":{"a":1}}"#, "\n",
    /// ), &opts)?);
    /// assert_eq!(added.events, 1..2);
    /// assert_eq!(added.duplicates, 1);
    /// assert_eq!(trace.find_name("b", 1), Some(1));
    /// assert!(Trace::batch_from_ndjson("3", "", &opts)?.is_empty());
    /// # Ok::<(), weft_trace::ReadError>(())
    /// ```
    pub fn batch_from_ndjson(
        input: &str,
        text: &str,
        opts: &ReadOptions,
    ) -> Result<Trace, ReadError> {
        Trace::batch_from_ndjson_bytes(input, text.as_bytes(), opts)
    }

    /// [`Trace::batch_from_ndjson`] of bytes: lines that are not UTF-8 are malformed lines
    /// (located and explained like any other), so bytes need no conversion to text first.
    ///
    /// ```
    /// use weft_trace::{ReadOptions, Trace};
    ///
    /// let lenient = ReadOptions { lenient: true, ..ReadOptions::default() };
    /// let bytes = b"{\"replica\":\"a\",\"seq\":1}\n{\"replica\":\"\xff\",\"seq\":1}\n";
    /// let batch = Trace::batch_from_ndjson_bytes("store", bytes, &lenient)?;
    /// assert_eq!((batch.len(), batch.malformed_count()), (1, 1));
    /// assert_eq!(batch.malformed()[0].line, 2);
    /// assert!(Trace::batch_from_ndjson_bytes("store", bytes, &ReadOptions::default()).is_err());
    /// # Ok::<(), weft_trace::ReadError>(())
    /// ```
    pub fn batch_from_ndjson_bytes(
        input: &str,
        bytes: &[u8],
        opts: &ReadOptions,
    ) -> Result<Trace, ReadError> {
        let mut b = TraceBuilder::for_text(bytes, opts);
        b.read(input, bytes)?;
        Ok(b.finish_batch())
    }

    /// Reads `inputs` as one trace.
    pub fn read_inputs(inputs: &[Input], opts: &ReadOptions) -> Result<Trace, ReadError> {
        let mut b = TraceBuilder::new(opts.clone());
        b.read_inputs(inputs)?;
        b.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    /// A line on which the parser panics with a string message (test builds only).
    const PANIC_STR: &[u8] = br#"{"weft-test":"panic with a message"}"#;
    /// A line on which the parser panics with a payload that is not a string.
    const PANIC_ANY: &[u8] = br#"{"weft-test":"panic without a message"}"#;

    /// Called by [`Shard::parse_line`] in test builds: panics on the two lines above.
    pub(super) fn injected_panic(line: &[u8]) {
        if line == PANIC_STR {
            panic!("injected parser panic");
        }
        if line == PANIC_ANY {
            std::panic::panic_any(42u32);
        }
    }

    /// `lines` events of replica `a`, with `extra` lines put before the event of each seq
    /// listed (seq 1 is the first line).
    fn text(lines: u64, extra: &[(u64, &[u8])]) -> Vec<u8> {
        let mut t = Vec::new();
        for seq in 1..=lines {
            for (at, line) in extra {
                if *at == seq {
                    t.extend_from_slice(line);
                    t.push(b'\n');
                }
            }
            t.extend_from_slice(format!("{{\"replica\":\"a\",\"seq\":{seq}}}\n").as_bytes());
        }
        t
    }

    /// Reads `text` on `threads` threads, on another thread: fails the test if the read does not
    /// return (a hang) rather than hanging it.
    fn read_on(threads: usize, text: Vec<u8>) -> Result<usize, ReadError> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut b = TraceBuilder::new(ReadOptions::default()).threads(threads);
            // Small reads, as from a file: the splitter cuts ~1 MiB blocks.
            let r = b
                .read("p.jsonl", BufReader::with_capacity(64 << 10, &text[..]))
                .map(|()| b.len());
            let _ = tx.send(r);
        });
        match rx.recv_timeout(std::time::Duration::from_secs(300)) {
            Ok(r) => r,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("reading on {threads} threads did not return (it hangs)")
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                panic!("reading on {threads} threads panicked instead of returning an error")
            }
        }
    }

    fn panic_message_of(r: Result<usize, ReadError>) -> String {
        match r {
            Err(ReadError::ParserPanicked { input, message }) => {
                assert_eq!(input, "p.jsonl");
                message
            }
            other => panic!("expected ParserPanicked, got {other:?}"),
        }
    }

    // ~3 MB of events: several 1 MiB blocks, the panic in a later one.
    const LINES: u64 = 100_000;

    #[test]
    fn a_parser_panic_is_an_error_naming_the_input_and_the_message() {
        for threads in [1, 2, 4] {
            let r = read_on(threads, text(LINES, &[(70_000, PANIC_STR)]));
            let e = r.as_ref().map_err(|e| e.to_string());
            assert_eq!(
                e.unwrap_err(),
                "p.jsonl: a parsing thread panicked (a bug in weft): injected parser panic",
                "{threads} threads"
            );
            assert_eq!(panic_message_of(r), "injected parser panic");
            let r = read_on(threads, text(LINES, &[(70_000, PANIC_ANY)]));
            assert_eq!(panic_message_of(r), "the panic carried no message");
        }
    }

    #[test]
    fn a_parser_panic_is_reported_in_input_order_among_malformed_lines() {
        for threads in [1, 2, 4] {
            // A malformed line in an earlier block than the panic is the error…
            let r = read_on(threads, text(LINES, &[(5, b"oops"), (70_000, PANIC_STR)]));
            match r {
                Err(ReadError::Malformed(m)) => assert_eq!(m.line, 5, "{threads} threads"),
                other => panic!("{threads} threads: expected the malformed line, got {other:?}"),
            }
            // …and one after it is never reached.
            let r = read_on(
                threads,
                text(LINES, &[(70_000, PANIC_STR), (90_000, b"oops")]),
            );
            assert_eq!(panic_message_of(r), "injected parser panic");
        }
    }

    #[test]
    fn the_read_returns_when_every_parsing_thread_panics() {
        // A panic line in every block: each thread dies on its first block.
        let extra: Vec<(u64, &[u8])> = (0..LINES)
            .step_by(5_000)
            .map(|s| (s + 1, PANIC_STR))
            .collect();
        for threads in [2, 4] {
            let r = read_on(threads, text(LINES, &extra));
            assert_eq!(panic_message_of(r), "injected parser panic");
        }
    }

    #[test]
    fn without_a_panic_the_same_text_reads_whole() {
        for threads in [1, 2, 4] {
            assert_eq!(read_on(threads, text(LINES, &[])).unwrap(), LINES as usize);
        }
    }
}
