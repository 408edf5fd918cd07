//! Cutting the stream's bytes into NDJSON lines: batched into [`LiveMsg::Lines`], numbered by
//! store position, and bounded (a line longer than the limit is skipped, never buffered). Pure
//! and separate so that the positions the follower resumes from can be tested on their own.

use super::{LiveMsg, BATCH_BYTES};

/// Cuts the decoded payload into lines and counts their store positions.
#[derive(Debug)]
pub(super) struct LineSplitter {
    max_line: usize,
    /// Inside a line already known to be too long: its bytes are dropped up to its newline.
    skipping: bool,
}

impl LineSplitter {
    pub(super) fn new(max_line: usize) -> LineSplitter {
        LineSplitter {
            max_line,
            skipping: false,
        }
    }

    /// Takes the complete lines out of `pending` as messages, advancing `*next` once per line
    /// (delivered or skipped; empty lines are not events and do not count). The incomplete last
    /// line stays in `pending`, unless it is already too long: then it is dropped and the rest
    /// of it skipped as it arrives, so `pending` never holds much more than `max_line` bytes.
    pub(super) fn split(&mut self, pending: &mut Vec<u8>, next: &mut u64) -> Vec<LiveMsg> {
        let mut out = Vec::new();
        let mut batch: Vec<u8> = Vec::new();
        let mut count = 0u64;
        let mut first = *next;
        let mut start = 0;
        let flush = |batch: &mut Vec<u8>, count: &mut u64, first: u64, out: &mut Vec<LiveMsg>| {
            if *count > 0 {
                out.push(LiveMsg::Lines {
                    bytes: std::mem::take(batch),
                    count: std::mem::take(count),
                    first,
                });
            }
        };
        while let Some(nl) = pending[start..].iter().position(|&b| b == b'\n') {
            let line = &pending[start..start + nl];
            start += nl + 1;
            if self.skipping || line.len() > self.max_line {
                self.skipping = false;
                flush(&mut batch, &mut count, first, &mut out);
                out.push(LiveMsg::Skipped {
                    position: *next,
                    reason: format!(
                        "line {} is longer than {} bytes: skipped",
                        *next, self.max_line
                    ),
                });
                *next += 1;
                continue;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if count == 0 {
                first = *next;
            }
            batch.extend_from_slice(line);
            batch.push(b'\n');
            count += 1;
            *next += 1;
            if batch.len() >= BATCH_BYTES {
                flush(&mut batch, &mut count, first, &mut out);
            }
        }
        flush(&mut batch, &mut count, first, &mut out);
        pending.drain(..start);
        if self.skipping || pending.len() > self.max_line {
            self.skipping = true;
            pending.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_batched_positioned_and_bounded() {
        let mut s = LineSplitter::new(8);
        let mut next = 10;
        let mut pending = b"a\n\nbb\n0123456789\nc\npart".to_vec();
        let msgs = s.split(&mut pending, &mut next);
        assert_eq!(
            msgs,
            vec![
                LiveMsg::Lines {
                    bytes: b"a\nbb\n".to_vec(),
                    count: 2,
                    first: 10
                },
                LiveMsg::Skipped {
                    position: 12,
                    reason: "line 12 is longer than 8 bytes: skipped".into()
                },
                LiveMsg::Lines {
                    bytes: b"c\n".to_vec(),
                    count: 1,
                    first: 13
                },
            ]
        );
        assert_eq!(next, 14);
        assert_eq!(pending, b"part");
        // An incomplete line grows past the limit: dropped now, skipped when it ends.
        pending.extend_from_slice(b"-too-long");
        assert!(s.split(&mut pending, &mut next).is_empty());
        assert!(pending.is_empty());
        pending.extend_from_slice(b"still the same line");
        assert!(s.split(&mut pending, &mut next).is_empty());
        assert!(pending.is_empty());
        pending.extend_from_slice(b"end\nok\n");
        let msgs = s.split(&mut pending, &mut next);
        assert!(matches!(msgs[0], LiveMsg::Skipped { position: 14, .. }));
        assert_eq!(
            msgs[1],
            LiveMsg::Lines {
                bytes: b"ok\n".to_vec(),
                count: 1,
                first: 15
            }
        );
        assert_eq!(next, 16);
    }
}
