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
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use crate::intern::SharedInterner;
use crate::intern::Sym;
use crate::model::{Header, Kind, FORMAT};
use crate::parse::{Parsed, Parser};
use crate::store::{EventRec, InFlight, Malformed, Trace, NONE};
use crate::vcenc;

pub(crate) mod parquet;
// Rows of columnar files: only Parquet reads them.
#[cfg(feature = "parquet")]
pub(crate) mod rows;

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

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file; gzip-decompressed when its name ends in `.gz` or its data starts with gzip's
    /// magic bytes (`1f 8b`).
    File(PathBuf),
    /// The highest-numbered `segment-N.jsonl` of a collector's data directory, which a running
    /// collector may be appending to: only what the collector's lock file says is durable is
    /// read (see [`crate::collector_dir`]; without it, the lines complete when it is opened),
    /// and the bytes after that are left out as in flight.
    LastSegment(PathBuf),
}

/// An opened [`Input`].
pub struct Opened {
    /// Its bytes.
    pub reader: Box<dyn BufRead>,
    /// Bytes at the end left out as in flight (only ever non-zero for [`Input::LastSegment`]).
    pub in_flight: u64,
}

impl Input {
    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::File(p) | Input::LastSegment(p) => p.display().to_string(),
        }
    }

    /// Opens the input as a buffered reader (decompressing `.gz`); see [`Input::open_measured`].
    pub fn open(&self) -> Result<Box<dyn BufRead>, ReadError> {
        self.open_measured().map(|o| o.reader)
    }

    /// Opens the input. A regular file is read up to the length it has now (a longer read
    /// means it got shorter meanwhile: an error, never a line cut short); a
    /// [`Input::LastSegment`] only up to the end of its last complete line.
    pub fn open_measured(&self) -> Result<Opened, ReadError> {
        const BUF: usize = 1 << 20;
        let io_err = |error| ReadError::Io {
            input: self.name(),
            error,
        };
        match self {
            Input::Stdin => Ok(Opened {
                reader: Box::new(Sniffing::Pending(Box::new(BufReader::with_capacity(
                    BUF,
                    io::stdin(),
                )))),
                in_flight: 0,
            }),
            Input::File(p) => {
                let f = File::open(p).map_err(io_err)?;
                let meta = f.metadata().map_err(io_err)?;
                // Pipes and devices (`<(...)`, /dev/stdin) have no length: read to their end.
                let raw: Box<dyn Read> = if meta.is_file() {
                    Box::new(Measured {
                        file: f,
                        left: meta.len(),
                    })
                } else {
                    Box::new(f)
                };
                let raw: Box<dyn BufRead> = Box::new(BufReader::with_capacity(BUF, raw));
                let reader = if p.extension().is_some_and(|e| e == "gz") {
                    gunzip(raw)
                } else {
                    // Gzip data under another name is recognised by its first bytes.
                    Box::new(Sniffing::Pending(raw))
                };
                Ok(Opened {
                    reader,
                    in_flight: 0,
                })
            }
            Input::LastSegment(p) => {
                // What the collector says is durable first: it never cuts that back. The lock
                // file is read before the segment is measured, so the length it names is
                // already there.
                let committed = crate::collector_dir::committed_length(p);
                let mut f = File::open(p).map_err(io_err)?;
                let (complete, len) = match committed {
                    Some(c) => {
                        let len = f.metadata().map_err(io_err)?.len();
                        if c <= len {
                            (c, len)
                        } else {
                            complete_prefix(&mut f).map_err(io_err)?
                        }
                    }
                    None => complete_prefix(&mut f).map_err(io_err)?,
                };
                f.seek(SeekFrom::Start(0)).map_err(io_err)?;
                Ok(Opened {
                    reader: Box::new(BufReader::with_capacity(
                        BUF,
                        Measured {
                            file: f,
                            left: complete,
                        },
                    )),
                    in_flight: len - complete,
                })
            }
        }
    }
}

/// A file read up to a length fixed beforehand: ends there even if the file grows, and fails
/// (rather than ending early, which could cut a line) if the file gets shorter than that.
struct Measured {
    file: File,
    left: u64,
}

impl Read for Measured {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the file got shorter while it was read ({} bytes missing)",
                    self.left
                ),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Decompresses gzip data (every member of a multi-member file), saying "gzip data" in its
/// errors.
fn gunzip(raw: Box<dyn BufRead>) -> Box<dyn BufRead> {
    let gz = flate2::bufread::MultiGzDecoder::new(raw);
    Box::new(BufReader::with_capacity(1 << 20, GzErrors(gz)))
}

/// A gzip decoder whose errors say that they are about gzip data.
struct GzErrors<R>(R);

impl<R: Read> Read for GzErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| match e.kind() {
            io::ErrorKind::Interrupted => e,
            kind => io::Error::new(kind, format!("gzip data: {e}")),
        })
    }
}

/// A stream whose form [`sniff`] tells on its first read (not when it is opened: nothing is
/// read before the reader asks).
enum Sniffing {
    /// Not read yet.
    Pending(Box<dyn BufRead>),
    /// Told: the stream to read.
    Ready(Box<dyn BufRead>),
    /// [`sniff`] failed; the error was returned.
    Failed,
}

impl Sniffing {
    fn ready(&mut self) -> io::Result<&mut Box<dyn BufRead>> {
        if matches!(self, Sniffing::Pending(_)) {
            let Sniffing::Pending(r) = std::mem::replace(self, Sniffing::Failed) else {
                unreachable!("matched above")
            };
            *self = Sniffing::Ready(sniff(r)?);
        }
        match self {
            Sniffing::Ready(r) => Ok(r),
            _ => Err(io::Error::other(
                "the input could not be read (see the error before)",
            )),
        }
    }
}

impl Read for Sniffing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.ready()?.read(buf)
    }
}

impl BufRead for Sniffing {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.ready()?.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        if let Sniffing::Ready(r) = self {
            r.consume(amt);
        }
    }
}

/// Reads what `r` starts with to tell its form, and gives the whole stream back: gzip data is
/// decompressed; data compressed otherwise, and UTF-16 text, are refused with an error saying
/// what they are (a trace line can start with neither: JSON text starts with `{`, whitespace
/// or a byte order mark).
fn sniff(mut r: Box<dyn BufRead>) -> io::Result<Box<dyn BufRead>> {
    let mut head = Vec::with_capacity(6);
    while head.len() < 6 {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        let take = avail.len().min(6 - head.len());
        head.extend_from_slice(&avail[..take]);
        r.consume(take);
    }
    let refuse = |what: &str, hint: &str| {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what}: weft reads UTF-8 NDJSON, plain or gzip ({hint})"),
        ))
    };
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return refuse("xz data", "decompress it first, e.g. with xz -d");
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return refuse("zstd data", "decompress it first, e.g. with zstd -d");
    }
    if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
        return refuse("bzip2 data", "decompress it first, e.g. with bzip2 -d");
    }
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return refuse(
            "UTF-16 text",
            "convert it first, e.g. with iconv -f UTF-16 -t UTF-8",
        );
    }
    if head.starts_with(parquet::MAGIC) {
        return Err(parquet::stdin_refused());
    }
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let whole: Box<dyn BufRead> = Box::new(io::Cursor::new(head).chain(r));
    Ok(if gzip { gunzip(whole) } else { whole })
}

/// Measures `f` and finds the end of its last complete line: `(bytes up to and including the
/// last newline, length)`. Scans back from the end in 64 KiB steps, so an unfinished line of
/// any length costs one read of it and no memory.
fn complete_prefix(f: &mut File) -> io::Result<(u64, u64)> {
    let mut buf = vec![0u8; 64 << 10];
    // A writer that cuts its tail back (after a failed write) can make the file shorter while
    // it is scanned: measure again, a few times.
    'measure: for _ in 0..8 {
        let len = f.metadata()?.len();
        let mut end = len;
        while end > 0 {
            let start = end.saturating_sub(buf.len() as u64);
            let chunk = &mut buf[..(end - start) as usize];
            f.seek(SeekFrom::Start(start))?;
            match f.read_exact(chunk) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => continue 'measure,
                Err(e) => return Err(e),
            }
            if let Some(i) = memchr::memrchr(b'\n', chunk) {
                return Ok((start + i as u64 + 1, len));
            }
            end = start;
        }
        return Ok((0, len));
    }
    Err(io::Error::other(
        "the file kept getting shorter while it was measured",
    ))
}

/// File names a directory contributes: `*.jsonl`, `*.ndjson`, those gzipped, and `*.parquet`.
pub fn is_trace_file_name(name: &str) -> bool {
    [".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".parquet"]
        .iter()
        .any(|s| name.ends_with(s))
}

/// The `N` of a collector segment's file name, `segment-N.jsonl` (N in decimal digits).
pub fn segment_number(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("segment-")?.strip_suffix(".jsonl")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// An entry of a directory given as input that is not read, and why: said to the user, never
/// left out silently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The entry, as reached from the directory given.
    pub path: PathBuf,
    /// Why it is not read.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// What command-line paths expand to ([`expand_paths`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expanded {
    /// The inputs to read, in order.
    pub inputs: Vec<Input>,
    /// The entries of the directories that are not read, in the order met.
    pub skipped: Vec<Skipped>,
}

/// [`expand_paths`]'s inputs, without the entries it skipped.
pub fn expand_inputs<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<Input>, ReadError> {
    expand_paths(paths).map(|e| e.inputs)
}

/// Expands command-line paths: `-` is stdin, a file is itself, no path at all is stdin, and a
/// directory is every trace file ([`is_trace_file_name`]) in it and in its subdirectories, in
/// path order (entries sorted by name at each level).
///
/// Symbolic links are followed, to files and to directories; a directory reached again (a link
/// loop, or two links to one directory) is not read again, nor is a file reached again through
/// a link. Hidden directories (`.git`) are not entered. Every entry that is not read is in
/// [`Expanded::skipped`] with the reason — other file names, special files (fifos, sockets,
/// devices), hidden directories, repeats — except a collector's lock file
/// ([`crate::collector_dir::LOCK_FILE`]). A directory that cannot be listed, and a trace file
/// whose link leads nowhere, are errors, like an unreadable file.
///
/// A directory holding `segment-N.jsonl` files is a collector's data directory: its
/// highest-numbered segment becomes an [`Input::LastSegment`], the one a running collector
/// appends to. A segment created after the listing is not read.
pub fn expand_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Expanded, ReadError> {
    if paths.is_empty() {
        return Ok(Expanded {
            inputs: vec![Input::Stdin],
            skipped: Vec::new(),
        });
    }
    let mut out = Expanded::default();
    for p in paths {
        let p = p.as_ref();
        if p == Path::new("-") {
            out.inputs.push(Input::Stdin);
            continue;
        }
        let meta = std::fs::metadata(p).map_err(|error| ReadError::Io {
            input: p.display().to_string(),
            error,
        })?;
        if meta.is_dir() {
            expand_dir(p, &mut out)?;
        } else {
            out.inputs.push(Input::File(p.to_path_buf()));
        }
    }
    if out.inputs.is_empty() {
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.as_ref().display().to_string())
            .collect();
        return Err(ReadError::Empty {
            inputs: format!(
                "{} (no *.jsonl, *.ndjson, *.jsonl.gz or *.parquet file in it)",
                names.join(", ")
            ),
        });
    }
    Ok(out)
}

/// One directory being listed by [`expand_dir`].
struct Frame {
    dir: PathBuf,
    canonical: PathBuf,
    entries: std::vec::IntoIter<(std::ffi::OsString, std::fs::FileType)>,
    /// Its own trace files.
    here: Vec<PathBuf>,
}

/// Adds the trace files of the tree under `root` to `out` (see [`expand_paths`]): a depth-first
/// walk taking each directory's entries by name, so files come in path order and the first
/// path to a file or directory reached twice is the one kept.
fn expand_dir(root: &Path, out: &mut Expanded) -> Result<(), ReadError> {
    use std::collections::{HashMap, HashSet};
    fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ReadError {
        let input = path.display().to_string();
        move |error| ReadError::Io { input, error }
    }
    fn open(dir: PathBuf, canonical: PathBuf) -> Result<Frame, ReadError> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let kind = entry.file_type().map_err(io_err(&entry.path()))?;
            entries.push((entry.file_name(), kind));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Frame {
            dir,
            canonical,
            entries: entries.into_iter(),
            here: Vec::new(),
        })
    }
    // Directories and files already taken, by canonical path → the path they were taken by: a
    // link loop ends, and nothing is read twice through links.
    let canonical_root = std::fs::canonicalize(root).map_err(io_err(root))?;
    let mut dirs_seen: HashMap<PathBuf, PathBuf> = HashMap::new();
    dirs_seen.insert(canonical_root.clone(), root.to_path_buf());
    let mut files_seen: HashMap<PathBuf, PathBuf> = HashMap::new();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut last_segments: HashSet<PathBuf> = HashSet::new();
    // An explicit stack: any depth without recursion.
    let mut stack = vec![open(root.to_path_buf(), canonical_root)?];
    while let Some(top) = stack.last_mut() {
        let Some((name, kind)) = top.entries.next() else {
            // This directory's own segments decide whether it is a collector's.
            let done = stack.pop().expect("the top frame");
            let number = |f: &PathBuf| {
                f.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(segment_number)
            };
            let last = done.here.iter().filter_map(number).max();
            if last.is_some() {
                let of_last = done.here.into_iter().filter(|f| number(f) == last);
                last_segments.extend(of_last);
            }
            continue;
        };
        let path = top.dir.join(&name);
        let text = name.to_string_lossy();
        let trace_name = is_trace_file_name(&text);
        let mut skip = |reason: String| {
            out.skipped.push(Skipped {
                path: path.clone(),
                reason,
            })
        };
        let (is_dir, is_file) = if kind.is_symlink() {
            match std::fs::metadata(&path) {
                Ok(m) => (m.is_dir(), m.is_file()),
                Err(error) if trace_name => {
                    return Err(ReadError::Io {
                        input: path.display().to_string(),
                        error,
                    })
                }
                Err(error) => {
                    skip(format!("a symbolic link that cannot be followed ({error})"));
                    continue;
                }
            }
        } else {
            (kind.is_dir(), kind.is_file())
        };
        if !is_dir && !is_file {
            skip("not a regular file".to_string());
            continue;
        }
        if is_file && !trace_name {
            if text != crate::collector_dir::LOCK_FILE {
                skip(
                    "not a trace file (.jsonl, .ndjson, .jsonl.gz, .ndjson.gz or .parquet)"
                        .to_string(),
                );
            }
            continue;
        }
        if is_dir && text.starts_with('.') {
            skip("a hidden directory (not entered)".to_string());
            continue;
        }
        let canonical = if kind.is_symlink() {
            std::fs::canonicalize(&path).map_err(io_err(&path))?
        } else {
            top.canonical.join(&name)
        };
        let seen = if is_dir {
            &mut dirs_seen
        } else {
            &mut files_seen
        };
        if let Some(first) = seen.get(&canonical) {
            let what = if is_dir { "directory" } else { "file" };
            skip(format!(
                "the same {what} as {} (read once)",
                first.display()
            ));
            continue;
        }
        seen.insert(canonical.clone(), path.clone());
        if is_dir {
            stack.push(open(path, canonical)?);
        } else {
            top.here.push(path.clone());
            files.push(path);
        }
    }
    out.inputs.extend(files.into_iter().map(|f| {
        if last_segments.contains(&f) {
            Input::LastSegment(f)
        } else {
            Input::File(f)
        }
    }));
    Ok(())
}

/// One line's outcome inside a [`Shard`], before deduplication against the whole trace.
enum Item {
    /// The next event of the shard.
    Event,
    /// A header object.
    Header(serde_json::Map<String, serde_json::Value>),
    /// A malformed line: reason and column.
    Malformed(String, Option<u64>),
    /// A blank line.
    Blank,
}

/// Parsed lines of one block of input, in input order: what a parsing thread hands back to
/// the builder, which deduplicates and appends them.
#[derive(Default)]
struct Shard {
    items: Vec<Item>,
    recs: Vec<EventRec>,
    fingerprints: Vec<u64>,
    vc_arena: Vec<u8>,
    parents: Vec<(Sym, u64)>,
    values: Vec<serde_json::Value>,
    attrs: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl Shard {
    fn clear(&mut self) {
        self.items.clear();
        self.recs.clear();
        self.fingerprints.clear();
        self.vc_arena.clear();
        self.parents.clear();
        self.values.clear();
        self.attrs.clear();
    }

    /// Parses one line (without its newline) into the shard.
    fn parse_line(&mut self, parser: &mut Parser, line: &[u8], max: usize) {
        let (line, bom) = trim_line(line);
        #[cfg(test)]
        tests::injected_panic(line);
        if line.len() + bom as usize > max {
            self.items.push(Item::Malformed(too_long(max), None));
            return;
        }
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            self.items.push(Item::Blank);
            return;
        }
        match parser.parse(line) {
            Err(e) => self
                .items
                .push(Item::Malformed(e.reason, e.column.map(|c| c + bom))),
            Ok(Parsed::Header(fields)) => self.items.push(Item::Header(fields)),
            Ok(Parsed::Event) => {
                self.push_event(&mut parser.ev);
                self.items.push(Item::Event);
            }
        }
    }

    fn push_event(&mut self, ev: &mut crate::parse::Scratch) {
        let mut flags = 0u8;
        for (on, bit) in [
            (ev.lamport.is_some(), EventRec::HAS_LAMPORT),
            (ev.wall_ns.is_some(), EventRec::HAS_WALL),
            (ev.has_vc, EventRec::HAS_VC),
            (ev.has_parents, EventRec::HAS_PARENTS),
            (ev.op.is_some(), EventRec::HAS_OP),
        ] {
            if on {
                flags |= bit;
            }
        }
        let vc_start = self.vc_arena.len() as u64;
        vcenc::encode(&ev.vc, &mut self.vc_arena);
        let parents_start = self.parents.len() as u64;
        self.parents.extend_from_slice(&ev.parents);
        let value = push_opt(&mut self.values, ev.value.take());
        let attrs = push_opt(&mut self.attrs, ev.attrs.take());
        self.recs.push(EventRec {
            replica: ev.replica.expect("checked by parse"),
            kind: ev.kind.unwrap_or(Kind::Local),
            op: ev.op.unwrap_or_default(),
            crdt: ev.crdt,
            flags,
            seq: ev.seq.expect("checked by parse"),
            lamport: ev.lamport.unwrap_or(0),
            wall_ns: ev.wall_ns.unwrap_or(0),
            msg: ev.msg.unwrap_or(NONE),
            key: ev.key.unwrap_or(NONE),
            value,
            attrs,
            vc_start,
            vc_len: (self.vc_arena.len() as u64 - vc_start) as u32,
            parents_len: ev.parents.len() as u32,
            parents_start,
        });
        self.fingerprints.push(ev.fingerprint);
    }
}

/// The UTF-8 byte order mark. Editors on Windows put it at the start of text files; RFC 8259
/// lets a JSON parser ignore it, and so does weft, at the start of any line.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A line without its `\r` (of a `\r\n` ending) and its leading byte order mark, and how many
/// bytes were cut from its start (for columns).
fn trim_line(line: &[u8]) -> (&[u8], u64) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match line.strip_prefix(BOM) {
        Some(rest) => (rest, BOM.len() as u64),
        None => (line, 0),
    }
}

/// The reason given for a line over the length limit.
fn too_long(max: usize) -> String {
    format!("line longer than {max} bytes")
}

fn push_opt<T>(table: &mut Vec<T>, v: Option<T>) -> u32 {
    match v {
        Some(v) => {
            table.push(v);
            (table.len() - 1) as u32
        }
        None => NONE,
    }
}

/// Parses one block on a parsing thread.
fn parse_block(parser: &mut Parser, block: &Block, max: usize) -> Shard {
    let mut shard = Shard::default();
    match block {
        Block::Lines(bytes) => {
            for line in bytes.split(|&b| b == b'\n') {
                shard.parse_line(parser, line, max);
            }
        }
        Block::TooLong => shard.items.push(Item::Malformed(too_long(max), None)),
    }
    shard
}

/// What a parsing thread hands back.
enum Done {
    /// Block `n`, parsed (the block comes back for its buffer to be reused).
    Parsed(u64, Block, Shard),
    /// The thread panicked while parsing block `n` (`None`: outside any block) and stopped.
    Panicked(Option<u64>, String),
}

/// Input is cut into blocks of about this many bytes (at line ends) for the parsing threads.
const BLOCK_BYTES: usize = 1 << 20;

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
    fn for_text(text: &str, opts: &ReadOptions) -> Self {
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

    /// Parses blocks on `self.threads` threads and merges their shards in input order.
    ///
    /// Every block sent to a parsing thread is answered, also when its parsing panics (the
    /// panic is caught and answered as [`Done::Panicked`], then the thread stops), so the merge
    /// never waits for a block that will not come; a panic becomes [`ReadError::ParserPanicked`]
    /// when the merge reaches its block, after the lines before it.
    fn read_parallel(
        &mut self,
        cur: &mut Cursor,
        reader: &mut dyn BufRead,
    ) -> Result<(), ReadError> {
        use std::cell::Cell;
        use std::sync::mpsc::sync_channel;
        use std::sync::{Arc, Mutex};
        let workers = self.threads;
        let in_flight_max = workers * 2;
        let max = self.opts.max_line_bytes;
        let (work_tx, work_rx) = sync_channel::<(u64, Block)>(in_flight_max);
        let (done_tx, done_rx) = sync_channel::<Done>(in_flight_max);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let panicked = |input: &str, message: String| ReadError::ParserPanicked {
            input: input.to_string(),
            message,
        };
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let work_rx = Arc::clone(&work_rx);
                let done_tx = done_tx.clone();
                let mut parser = Parser::new(self.names.clone(), self.syms.clone());
                scope.spawn(move || {
                    // The block being parsed, so that a panic is answered for it.
                    let current = Cell::new(None);
                    let run = catch_unwind(AssertUnwindSafe(|| loop {
                        let job = work_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        let Ok((n, block)) = job else { return };
                        current.set(Some(n));
                        let shard = parse_block(&mut parser, &block, max);
                        current.set(None);
                        if done_tx.send(Done::Parsed(n, block, shard)).is_err() {
                            return;
                        }
                    }));
                    if let Err(payload) = run {
                        // The parser may be inconsistent now: answer, and parse nothing more.
                        let message = panic_message(&*payload);
                        let _ = done_tx.send(Done::Panicked(current.get(), message));
                    }
                });
            }
            drop(done_tx);
            let mut splitter = Splitter::new(max, !self.opts.lenient);
            let mut next_sent = 0u64;
            let mut next_merge = 0u64;
            let mut parked: std::collections::BTreeMap<u64, Result<Shard, String>> =
                std::collections::BTreeMap::new();
            let mut spare: Vec<Vec<u8>> = Vec::new();
            let mut eof = false;
            // Every parsing thread has stopped (each after a panic it answered).
            let mut stopped = false;
            let result = loop {
                while !eof && next_sent - next_merge < in_flight_max as u64 {
                    match splitter.next_block(reader, spare.pop()) {
                        Ok(Some(block)) => {
                            if work_tx.send((next_sent, block)).is_ok() {
                                next_sent += 1;
                            } else {
                                eof = true;
                                stopped = true;
                            }
                        }
                        Ok(None) => eof = true,
                        Err(error) => {
                            eof = true;
                            // Lines already sent are merged first; then the error.
                            splitter.error = Some(error);
                        }
                    }
                }
                if next_merge == next_sent {
                    if stopped {
                        break Err(panicked(
                            cur.input,
                            "every parsing thread stopped".to_string(),
                        ));
                    }
                    break match splitter.error.take() {
                        Some(error) => Err(ReadError::Io {
                            input: cur.input.to_string(),
                            error,
                        }),
                        None => Ok(()),
                    };
                }
                match done_rx.recv() {
                    Ok(Done::Parsed(n, block, shard)) => {
                        if let Block::Lines(mut bytes) = block {
                            bytes.clear();
                            spare.push(bytes);
                        }
                        parked.insert(n, Ok(shard));
                    }
                    Ok(Done::Panicked(Some(n), message)) => {
                        parked.insert(n, Err(message));
                    }
                    Ok(Done::Panicked(None, message)) => break Err(panicked(cur.input, message)),
                    // Unreachable while blocks are outstanding (each is answered before its
                    // thread ends), but never a reason to wait forever.
                    Err(_) => {
                        break Err(panicked(
                            cur.input,
                            "the parsing threads stopped without answering".to_string(),
                        ))
                    }
                }
                let mut failed = None;
                while let Some(parsed) = parked.remove(&next_merge) {
                    next_merge += 1;
                    let merged = match parsed {
                        Ok(mut shard) => self.merge(cur, &mut shard),
                        Err(message) => Err(panicked(cur.input, message)),
                    };
                    if let Err(e) = merged {
                        failed = Some(e);
                        break;
                    }
                }
                if let Some(e) = failed {
                    break Err(e);
                }
            };
            drop(work_tx);
            // Let the workers finish what they hold so the scope can end.
            while done_rx.recv().is_ok() {}
            result
        })
    }

    /// Appends a shard's lines in order: headers checked, malformed lines recorded or returned,
    /// events deduplicated.
    fn merge(&mut self, cur: &mut Cursor, shard: &mut Shard) -> Result<(), ReadError> {
        let mut ev = 0usize;
        let mut values = std::mem::take(&mut shard.values)
            .into_iter()
            .map(Some)
            .collect::<Vec<_>>();
        let mut attrs = std::mem::take(&mut shard.attrs)
            .into_iter()
            .map(Some)
            .collect::<Vec<_>>();
        for item in shard.items.drain(..) {
            cur.line += 1;
            let (reason, column) = match item {
                Item::Blank => continue,
                Item::Event => {
                    cur.first = false;
                    let rec = shard.recs[ev];
                    let fp = shard.fingerprints[ev];
                    ev += 1;
                    self.trace.admit(rec.replica, rec.seq, fp, |t| {
                        let mut rec = rec;
                        let vc = &shard.vc_arena[rec.vc_start as usize
                            ..(rec.vc_start + u64::from(rec.vc_len)) as usize];
                        rec.vc_start = t.vc_arena.len() as u64;
                        t.vc_arena.extend_from_slice(vc);
                        let ps = &shard.parents[rec.parents_start as usize..]
                            [..rec.parents_len as usize];
                        rec.parents_start = t.parents.len() as u64;
                        t.parents.extend_from_slice(ps);
                        if rec.value != NONE {
                            let v = values[rec.value as usize]
                                .take()
                                .expect("each value is used once");
                            rec.value = t.values.len() as u32;
                            t.values.push(v);
                        }
                        if rec.attrs != NONE {
                            let a = attrs[rec.attrs as usize]
                                .take()
                                .expect("each attrs is used once");
                            rec.attrs = t.attrs.len() as u32;
                            t.attrs.push(a);
                        }
                        rec
                    });
                    continue;
                }
                Item::Header(fields) => {
                    let format = fields
                        .get("format")
                        .and_then(|f| f.as_str())
                        .unwrap_or_default();
                    if format != FORMAT {
                        (
                            format!("unsupported format {format:?} (this weft reads {FORMAT:?})"),
                            None,
                        )
                    } else if !cur.first {
                        (
                            "a header line (one with `format`) may only be the first line".into(),
                            None,
                        )
                    } else {
                        cur.first = false;
                        self.trace.headers.push(Header {
                            source: cur.input.to_string(),
                            fields,
                        });
                        continue;
                    }
                }
                Item::Malformed(reason, column) => (reason, column),
            };
            cur.first = false;
            let bad = || Malformed {
                source: cur.input.to_string(),
                line: cur.line,
                column,
                reason,
                place: crate::store::Place::Line,
            };
            if self.opts.lenient {
                // Kept up to a bound, counted always: any number of malformed lines read in
                // bounded memory.
                self.trace.note_malformed(bad);
            } else {
                return Err(ReadError::Malformed(bad()));
            }
        }
        Ok(())
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

/// A unit of work for a parsing thread.
enum Block {
    /// Whole lines, newline-separated (no trailing newline).
    Lines(Vec<u8>),
    /// A line longer than the limit, already skipped.
    TooLong,
}

/// Cuts a byte stream into blocks of whole lines, skipping lines over the limit (or, with
/// `stop`, ending the stream at the first one: nothing after its first `max` bytes is read).
struct Splitter {
    carry: Vec<u8>,
    max: usize,
    stop: bool,
    error: Option<io::Error>,
    done: bool,
}

impl Splitter {
    fn new(max: usize, stop: bool) -> Self {
        Splitter {
            carry: Vec::new(),
            max,
            stop,
            error: None,
            done: false,
        }
    }

    fn next_block(
        &mut self,
        r: &mut dyn BufRead,
        spare: Option<Vec<u8>>,
    ) -> io::Result<Option<Block>> {
        if self.done {
            return Ok(None);
        }
        let mut buf = spare.unwrap_or_default();
        buf.clear();
        buf.append(&mut self.carry);
        // Fill to about one block.
        while buf.len() < BLOCK_BYTES {
            let avail = match r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                self.done = true;
                break;
            }
            let take = avail.len();
            buf.extend_from_slice(avail);
            r.consume(take);
        }
        if self.done {
            // The final newline ends the last line; without it, the last line is unfinished.
            // A lone newline left is a blank line (counted, for `LinePos`), not nothing.
            let ended = buf.last() == Some(&b'\n');
            if ended {
                buf.pop();
            }
            if buf.len() > self.max && memchr::memchr(b'\n', &buf).is_none() {
                return Ok(Some(Block::TooLong));
            }
            return Ok((ended || !buf.is_empty()).then_some(Block::Lines(buf)));
        }
        match memchr::memrchr(b'\n', &buf) {
            Some(i) => {
                self.carry.extend_from_slice(&buf[i + 1..]);
                buf.truncate(i);
                Ok(Some(Block::Lines(buf)))
            }
            None if buf.len() > self.max => {
                // One line longer than the limit: skip to its end, or stop here.
                if self.stop {
                    self.done = true;
                } else {
                    skip_line(r)?;
                }
                Ok(Some(Block::TooLong))
            }
            None => {
                // A line longer than a block: read on to its end (or past the limit).
                let limit = self.max.saturating_sub(buf.len());
                let too_long = match read_line(r, &mut self.carry, limit, self.stop)? {
                    None => {
                        self.done = true;
                        false
                    }
                    Some(too_long) => too_long,
                };
                if too_long {
                    self.carry.clear();
                    self.done |= self.stop;
                    return Ok(Some(Block::TooLong));
                }
                buf.append(&mut self.carry);
                Ok(Some(Block::Lines(buf)))
            }
        }
    }
}

/// Consumes input up to and including the next newline.
fn skip_line(r: &mut dyn BufRead) -> io::Result<()> {
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(());
        }
        match memchr::memchr(b'\n', avail) {
            Some(i) => {
                r.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = avail.len();
                r.consume(n);
            }
        }
    }
}

/// Reads one line into `buf` (without the newline). Returns `None` at end of input, and
/// `Some(true)` for a line longer than `max`, whose bytes are skipped without being stored —
/// up to its end, or with `stop` not beyond its first `max + 1` bytes (the rest is left unread).
fn read_line(
    r: &mut (impl BufRead + ?Sized),
    buf: &mut Vec<u8>,
    max: usize,
    stop: bool,
) -> io::Result<Option<bool>> {
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
                if stop {
                    return Ok(Some(true));
                }
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
    pub fn from_ndjson_str(
        input: &str,
        text: &str,
        opts: &ReadOptions,
    ) -> Result<Trace, ReadError> {
        let mut b = TraceBuilder::for_text(text, opts);
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
        let mut b = TraceBuilder::for_text(text, opts);
        b.read(input, text.as_bytes())?;
        Ok(b.finish_batch())
    }

    /// Reads `inputs` as one trace.
    pub fn read_inputs(inputs: &[Input], opts: &ReadOptions) -> Result<Trace, ReadError> {
        let mut b = TraceBuilder::new(opts.clone());
        b.read_inputs(inputs)?;
        b.finish()
    }
}

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
/// must accept or reject a whole batch before storing any of it. Create one per batch: its
/// interning tables grow with the distinct strings it has seen.
pub struct LineChecker {
    parser: Parser,
}

impl Default for LineChecker {
    fn default() -> Self {
        LineChecker {
            parser: Parser::new(SharedInterner::default(), SharedInterner::default()),
        }
    }
}

impl LineChecker {
    /// A checker with empty tables.
    pub fn new() -> Self {
        Self::default()
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

#[cfg(test)]
mod tests {
    use super::*;

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
