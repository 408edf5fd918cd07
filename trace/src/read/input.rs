//! One input and how it is opened: standard input or a file, gzip recognised by name or
//! magic bytes, formats weft cannot read refused by their first bytes, and a collector's last
//! segment cut at its last durable line. Separate from the reader proper, which only sees the
//! opened bytes.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;

use super::{parquet, ReadError};

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
