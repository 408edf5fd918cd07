//! One collector per data directory: an OS lock on `DIR/collector.lock`.
//!
//! The lock is `flock`-style (`File::try_lock`): the kernel releases it when the holder's file
//! description closes, so a process killed with `kill -9` never leaves a stale lock, and no
//! "is that pid still alive?" guessing is needed. The holder writes its pid into the file only so
//! that the second collector can say who holds the directory.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::{io_err, StoreError};

/// The lock file's name inside the data directory.
pub const LOCK_FILE: &str = "collector.lock";

/// Holds the data directory's lock until dropped.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
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
                let holder = match text.trim().parse::<u32>() {
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
        Ok(DirLock { _file: file })
    }
}
