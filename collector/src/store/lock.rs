//! One collector per data directory: an OS lock on `DIR/collector.lock`.
//!
//! The lock is `flock`-style (`File::try_lock`): the kernel releases it when the holder's file
//! description closes, so a process killed with `kill -9` never leaves a stale lock, and no
//! "is that pid still alive?" guessing is needed. The holder writes its pid into the file only so
//! that the second collector can say who holds the directory.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

pub use weft_trace::collector_dir::LOCK_FILE;

use super::{io_err, StoreError};

/// Holds the data directory's lock until dropped, and tells readers how far the last segment
/// is durable ([`weft_trace::collector_dir`]).
#[derive(Debug)]
pub struct DirLock {
    file: File,
    pid: u32,
}

impl DirLock {
    /// Takes the lock of `dir`, or says which process holds it.
    pub fn acquire(dir: &Path) -> Result<DirLock, StoreError> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = match text.lines().next().unwrap_or("").trim().parse::<u32>() {
                    Ok(pid) => format!("pid {pid}"),
                    Err(_) => "a process that has not written its pid yet".to_string(),
                };
                return Err(StoreError::Locked {
                    dir: dir.display().to_string(),
                    holder,
                });
            }
            Err(TryLockError::Error(error)) => {
                return Err(StoreError::Io {
                    path: path.display().to_string(),
                    error,
                })
            }
        }
        // Ours now: say who we are (best effort: the lock, not the text, is what excludes).
        let pid = std::process::id();
        let _ = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{pid}"));
        Ok(DirLock { file, pid })
    }

    /// Says that `segment` is durable up to `bytes`. Best effort and not synced: it only helps
    /// concurrent readers (a reader that cannot use it falls back to the last newline), and
    /// it is only ever called after the `fdatasync` that made those bytes durable.
    pub fn publish_commit(&mut self, segment: &str, bytes: u64) {
        let text = format!(
            "{}\n{}\n",
            self.pid,
            weft_trace::collector_dir::commit_line(segment, bytes)
        );
        // One positioned write of a fixed-width text: a reader racing it sees a bad checksum.
        #[cfg(unix)]
        let _ = std::os::unix::fs::FileExt::write_all_at(&self.file, text.as_bytes(), 0);
        #[cfg(not(unix))]
        let _ = self
            .file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.write_all(text.as_bytes()));
    }
}
