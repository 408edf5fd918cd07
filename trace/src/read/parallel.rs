//! Parsing on several threads: blocks go out to parsing threads, their shards come back in
//! any order and are merged in input order; a panicking thread is answered for, so the merge
//! never waits forever. Separate because it is the only part of the reader with threads.

use std::cell::Cell;
use std::io::BufRead;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Mutex;

use super::shard::{parse_block, Shard};
use super::split::{Block, Splitter};
use super::{panic_message, Cursor, ReadError, TraceBuilder};
use crate::parse::Parser;

/// What a parsing thread hands back.
enum Done {
    /// Block `n`, parsed (the block comes back for its buffer to be reused).
    Parsed(u64, Block, Shard),
    /// The thread panicked while parsing block `n` (`None`: outside any block) and stopped.
    Panicked(Option<u64>, String),
}

impl TraceBuilder {
    /// Parses blocks on `self.threads` threads and merges their shards in input order.
    ///
    /// Every block sent to a parsing thread is answered, also when its parsing panics (the
    /// panic is caught and answered as [`Done::Panicked`], then the thread stops), so the merge
    /// never waits for a block that will not come; a panic becomes [`ReadError::ParserPanicked`]
    /// when the merge reaches its block, after the lines before it.
    pub(super) fn read_parallel(
        &mut self,
        cur: &mut Cursor,
        reader: &mut dyn BufRead,
    ) -> Result<(), ReadError> {
        use std::sync::mpsc::sync_channel;
        use std::sync::Arc;
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
                scope.spawn(move || parse_blocks(&work_rx, &done_tx, &mut parser, max));
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
}

/// A parsing thread: parses the blocks it receives until the work channel closes, answering
/// each one, also when its parsing panics (then it answers [`Done::Panicked`] and stops).
fn parse_blocks(
    work_rx: &Mutex<Receiver<(u64, Block)>>,
    done_tx: &SyncSender<Done>,
    parser: &mut Parser,
    max: usize,
) {
    // The block being parsed, so that a panic is answered for it.
    let current = Cell::new(None);
    let run = catch_unwind(AssertUnwindSafe(|| loop {
        let job = work_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok((n, block)) = job else { return };
        current.set(Some(n));
        let shard = parse_block(parser, &block, max);
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
}
