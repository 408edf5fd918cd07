//! Cutting a byte stream into lines and blocks of whole lines, with the line-length limit
//! applied without holding an over-long line: the input side of both the one-thread and the
//! parallel reader.

use std::io::{self, BufRead};

/// The pieces of `bytes` between newlines, exactly as `bytes.split(|&b| b == b'\n')` gives
/// them (a final newline is followed by an empty piece), found with `memchr`: a byte-by-byte
/// split costed a few percent of reading and of the collector's checking.
pub fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', bytes);
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        match ends.next() {
            Some(end) => {
                let line = &bytes[start..end];
                start = end + 1;
                Some(line)
            }
            None => {
                done = true;
                Some(&bytes[start..])
            }
        }
    })
}

/// Input is cut into blocks of about this many bytes (at line ends) for the parsing threads.
pub(super) const BLOCK_BYTES: usize = 1 << 20;

/// A unit of work for a parsing thread.
pub(super) enum Block {
    /// Whole lines, newline-separated (no trailing newline).
    Lines(Vec<u8>),
    /// A line longer than the limit, already skipped.
    TooLong,
}

/// Cuts a byte stream into blocks of whole lines, skipping lines over the limit (or, with
/// `stop`, ending the stream at the first one: nothing after its first `max` bytes is read).
pub(super) struct Splitter {
    carry: Vec<u8>,
    max: usize,
    stop: bool,
    pub(super) error: Option<io::Error>,
    done: bool,
}

impl Splitter {
    pub(super) fn new(max: usize, stop: bool) -> Self {
        Splitter {
            carry: Vec::new(),
            max,
            stop,
            error: None,
            done: false,
        }
    }

    pub(super) fn next_block(
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
pub(super) fn read_line(
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::split_lines;

    proptest! {
        /// The same pieces as the byte-by-byte split, on bytes dense in newlines.
        #[test]
        fn split_lines_is_the_slice_split(bytes in proptest::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'\r'), any::<u8>()], 0..300)
        ) {
            let want: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
            let got: Vec<&[u8]> = split_lines(&bytes).collect();
            prop_assert_eq!(got, want);
        }
    }
}
