//! Opening a data directory: reading every segment back into the in-memory tables, cutting a
//! torn tail of the last one, and the stream readers' [`read_range`].
//!
//! Lines are read with bounded memory: a line longer than the trace reader's limit is skipped to
//! its newline without being kept, so a garbage tail of any size (a crash can leave a file
//! extended with zeros, a bad disk anything) costs one buffer, not its length.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};

use weft_trace::{CheckedLine, LineChecker, ReadOptions};

use super::{
    id_hash, io_err, parse_segment_name, segment_name, Checkpoint, Recovery, Segment, Store,
    StoreError, CHECKPOINT_EVERY,
};

/// One line as read from a segment.
struct RawLine {
    /// Bytes it occupies in the file, newline included.
    len: u64,
    /// It ends with a newline.
    complete: bool,
    /// It was longer than the limit (its bytes were not kept).
    too_long: bool,
}

/// Reads the next line into `buf` (without its newline), keeping at most `max` bytes of it.
/// `None` at the end of the file.
fn next_line(r: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<RawLine>> {
    buf.clear();
    let mut line = RawLine {
        len: 0,
        complete: false,
        too_long: false,
    };
    loop {
        let available = r.fill_buf()?;
        if available.is_empty() {
            return Ok((line.len > 0).then_some(line));
        }
        let (take, complete) = match memchr::memchr(b'\n', available) {
            Some(i) => (i, true),
            None => (available.len(), false),
        };
        if !line.too_long && buf.len() + take <= max {
            buf.extend_from_slice(&available[..take]);
        } else {
            line.too_long = true;
            buf.clear();
        }
        let used = take + usize::from(complete);
        r.consume(used);
        line.len += used as u64;
        if complete {
            line.complete = true;
            return Ok(Some(line));
        }
    }
}

impl Store {
    /// Reads every segment, cuts a torn tail of the last, and opens it for appending (syncing it
    /// first, so nothing counted is only in the page cache). A fresh directory gets segment 1.
    pub(super) fn recover(&mut self) -> Result<Recovery, StoreError> {
        let dir = self.dir.clone();
        let mut numbers: Vec<u32> = std::fs::read_dir(&dir)
            .map_err(io_err(&dir))?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().and_then(parse_segment_name))
            .collect();
        numbers.sort_unstable();
        let mut recovery = Recovery::default();
        let Some(&last) = numbers.last() else {
            // A fresh directory: segment 1, durable before anything is taken.
            self.current = 0;
            self.rotate().map_err(|r| StoreError::Io {
                path: dir.display().to_string(),
                error: io::Error::other(r.to_string()),
            })?;
            self.open_durably()?;
            return Ok(recovery);
        };
        let mut good_end = 0;
        for (i, &n) in numbers.iter().enumerate() {
            good_end = self.load_segment(n, i + 1 == numbers.len(), &mut recovery)?;
        }
        self.current = last;
        let path = self.current_path();
        let mut f = self.io.open_append(&path).map_err(io_err(&path))?;
        if recovery.truncated_bytes > 0 {
            f.set_len(good_end).map_err(io_err(&path))?;
        }
        f.sync_data().map_err(io_err(&path))?;
        self.lock.publish_commit(&segment_name(last), good_end);
        self.file = Some(f);
        self.durable_bytes = good_end;
        self.file_bytes = good_end;
        if good_end == 0 {
            // Created but its header never made it: write it before any event.
            self.stage_header();
            self.open_durably()?;
        }
        recovery.events = self.events;
        self.index.committed = self.events;
        Ok(recovery)
    }

    /// Makes a just-created segment (or its header) durable; a full disk is not fatal here (the
    /// store starts refusing writes), any other failure is.
    fn open_durably(&mut self) -> Result<(), StoreError> {
        match self.sync_pending() {
            Ok(()) => {
                self.durable_bytes = self.file_bytes;
                Ok(())
            }
            Err(super::Refusal::Full(_)) => Ok(()),
            Err(super::Refusal::Failed(reason)) => Err(StoreError::Io {
                path: self.current_path().display().to_string(),
                error: io::Error::other(reason),
            }),
        }
    }

    /// Reads segment `n` into the tables; returns where its valid prefix ends. A bad line is a
    /// torn tail only at the end of the last segment: with a valid event after it, or in an
    /// earlier segment, it is corruption and recovery stops.
    fn load_segment(
        &mut self,
        n: u32,
        last: bool,
        recovery: &mut Recovery,
    ) -> Result<u64, StoreError> {
        let path = self.dir.join(segment_name(n));
        let file = File::open(&path).map_err(io_err(&path))?;
        let segment = self.index.segments.len();
        self.index.segments.push(Segment {
            path: path.clone(),
            first_event: self.events,
        });
        let max = ReadOptions::default().max_line_bytes;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut checker = LineChecker::new();
        let mut buf = Vec::new();
        let mut offset = 0u64;
        let mut line_no = 0u64;
        let mut good_end = 0u64;
        // The first invalid line, and how many lines from it on.
        let mut bad: Option<(u64, String)> = None;
        while let Some(raw) = next_line(&mut reader, &mut buf, max).map_err(io_err(&path))? {
            line_no += 1;
            let checked = if raw.too_long {
                Err(format!("line longer than {max} bytes"))
            } else if !raw.complete {
                Err("torn line (no newline)".to_string())
            } else {
                checker.check(&buf).map_err(|e| e.reason)
            };
            match (checked, &bad) {
                (Ok(c), None) => {
                    if let CheckedLine::Event {
                        replica,
                        seq,
                        fingerprint,
                    } = c
                    {
                        if self.events.is_multiple_of(CHECKPOINT_EVERY) {
                            self.index.checkpoints.push(Checkpoint {
                                event: self.events,
                                segment,
                                offset,
                            });
                        }
                        self.recovered(&replica, seq, fingerprint, buf.len() as u64);
                    }
                    good_end = offset + raw.len;
                }
                (Ok(CheckedLine::Event { .. }), Some((line, reason))) => {
                    return Err(StoreError::Corrupt {
                        path: path.display().to_string(),
                        line: *line,
                        reason: format!("{reason} (valid events follow on line {line_no})"),
                    });
                }
                (Ok(_), Some(_)) | (Err(_), Some(_)) => {}
                (Err(reason), None) => bad = Some((line_no, reason)),
            }
            offset += raw.len;
        }
        if let Some((line, reason)) = bad {
            if !last {
                return Err(StoreError::Corrupt {
                    path: path.display().to_string(),
                    line,
                    reason,
                });
            }
            recovery.truncated_bytes += offset - good_end;
            recovery.truncated_lines += line_no - line + 1;
        }
        Ok(good_end)
    }

    /// Counts an event found by recovery (already durable: the segment is synced before use).
    fn recovered(&mut self, replica: &str, seq: u64, fingerprint: u64, bytes: u64) {
        match self.seen.entry((id_hash(replica), seq)) {
            std::collections::hash_map::Entry::Occupied(e) => {
                if *e.get() != fingerprint {
                    self.conflicting += 1;
                }
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(fingerprint);
            }
        }
        self.note(replica, seq);
        self.events += 1;
        self.bytes += bytes;
    }
}

/// Reads stored lines from event number `from` up to `until` (exclusive), calling `emit` with
/// each line (no newline). Used by stream readers; never reads past what was committed.
pub fn read_range(
    index: &super::Index,
    from: u64,
    until: u64,
    mut emit: impl FnMut(&[u8]) -> bool,
) -> io::Result<u64> {
    if from >= until {
        return Ok(from);
    }
    let cp = match index.checkpoints.partition_point(|c| c.event <= from) {
        0 => return Ok(from),
        i => index.checkpoints[i - 1],
    };
    let mut event = cp.event;
    let mut segment = cp.segment;
    let mut offset = cp.offset;
    let mut buf = Vec::new();
    while event < until && segment < index.segments.len() {
        let mut f = File::open(&index.segments[segment].path)?;
        f.seek(SeekFrom::Start(offset))?;
        let mut r = BufReader::with_capacity(1 << 16, f);
        let mut at_start = offset == 0;
        loop {
            if event >= until {
                return Ok(event);
            }
            buf.clear();
            let n = r.read_until(b'\n', &mut buf)?;
            if n == 0 || buf.last() != Some(&b'\n') {
                break;
            }
            let line = &buf[..buf.len() - 1];
            if std::mem::take(&mut at_start) {
                continue; // the segment's header line
            }
            if event >= from && !emit(line) {
                return Ok(event + 1);
            }
            event += 1;
        }
        segment += 1;
        offset = 0;
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_with_bounded_memory() {
        let mut data = b"short\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 100_000));
        data.extend_from_slice(b"\nend");
        let mut r = BufReader::with_capacity(64, &data[..]);
        let mut buf = Vec::new();
        let a = next_line(&mut r, &mut buf, 1000).unwrap().unwrap();
        assert_eq!(
            (a.len, a.complete, a.too_long, &buf[..]),
            (6, true, false, &b"short"[..])
        );
        let b = next_line(&mut r, &mut buf, 1000).unwrap().unwrap();
        assert_eq!((b.len, b.complete, b.too_long), (100_001, true, true));
        assert!(buf.capacity() < 2000, "kept {} bytes", buf.capacity());
        let c = next_line(&mut r, &mut buf, 1000).unwrap().unwrap();
        assert_eq!((c.len, c.complete, &buf[..]), (3, false, &b"end"[..]));
        assert!(next_line(&mut r, &mut buf, 1000).unwrap().is_none());
    }
}
