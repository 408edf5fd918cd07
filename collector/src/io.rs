//! The store's write path behind a small trait, so tests can make the disk fail.
//!
//! The store only ever writes through [`StorageIo`] and [`SegmentFile`]: create or reopen a
//! segment, write, `fdatasync`, cut a file back, sync the directory, ask for free space. [`OsIo`]
//! is the real file system. [`FaultyIo`] wraps it and fails chosen calls — a write that fails
//! after part of its bytes reached the file, a failed `fdatasync`, a disk that fills up at a given
//! byte and frees space again when told — deterministically, by call number, so a test can replay
//! the exact sequence a real disk fault produces (TigerBeetle's storage simulator, in small).
//!
//! Reads (recovery, streams) use `std::fs` directly: a read error stops recovery with the file
//! named, and nothing a read does can make an acknowledged event disappear.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// An open segment file, appended to by the store's one writer.
pub trait SegmentFile: Send {
    /// Writes some of `buf` at the end of the file (like `write(2)`: may write less).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
    /// `fdatasync`: makes the file's data and size durable.
    fn sync_data(&mut self) -> io::Result<()>;
    /// Cuts the file to `len` bytes (not yet durable: follow with [`SegmentFile::sync_data`]).
    fn set_len(&mut self, len: u64) -> io::Result<()>;
}

/// The file-system operations the store's write path needs.
pub trait StorageIo: Send + Sync + fmt::Debug + 'static {
    /// Creates a new, empty file for appending; fails if it exists.
    fn create(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>>;
    /// Opens an existing file for appending, through a new file description.
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>>;
    /// Makes the directory's entries (a created file) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Bytes an unprivileged writer may still add on the file system holding `dir`, when the
    /// platform can tell.
    fn available_space(&self, dir: &Path) -> Option<u64>;
}

/// Writes all of `buf`, retrying short writes and interruptions, as `Write::write_all` does.
pub fn write_all(file: &mut dyn SegmentFile, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match file.write(buf) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Whether an error means the disk (or the user's quota) is full: a state that ends when space
/// is freed, not a fault of the device.
pub fn is_out_of_space(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        let code = e.raw_os_error();
        if code == Some(rustix::io::Errno::NOSPC.raw_os_error())
            || code == Some(rustix::io::Errno::DQUOT.raw_os_error())
        {
            return true;
        }
    }
    e.kind() == io::ErrorKind::StorageFull
}

/// The real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsIo;

struct OsFile(File);

impl SegmentFile for OsFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
}

impl StorageIo for OsIo {
    fn create(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        let f = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(path)?;
        Ok(Box::new(OsFile(f)))
    }
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        let f = OpenOptions::new().append(true).open(path)?;
        Ok(Box::new(OsFile(f)))
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
    fn available_space(&self, dir: &Path) -> Option<u64> {
        #[cfg(unix)]
        {
            let s = rustix::fs::statvfs(dir).ok()?;
            Some(s.f_bavail.saturating_mul(s.f_frsize))
        }
        #[cfg(not(unix))]
        {
            let _ = dir;
            None
        }
    }
}

/// One injected failure, by call number (counted from 1 across all files, per operation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The `at`-th write puts `written` of its bytes in the file and returns that short count;
    /// the write after it fails with `errno` (what a disk that fills up mid-write does).
    /// `written: 0` fails the `at`-th write itself.
    Write {
        /// Which write call.
        at: u64,
        /// Bytes that reach the file first.
        written: usize,
        /// The OS error number then returned (e.g. `ENOSPC`, `EIO`).
        errno: i32,
    },
    /// The `at`-th `fdatasync` fails with `errno`.
    Sync {
        /// Which sync call.
        at: u64,
        /// The OS error number.
        errno: i32,
    },
    /// The `at`-th `set_len` (a cut back during recovery) fails with `errno`.
    SetLen {
        /// Which call.
        at: u64,
        /// The OS error number.
        errno: i32,
    },
    /// The `at`-th reopen of an existing file fails with `errno`.
    Open {
        /// Which call.
        at: u64,
        /// The OS error number.
        errno: i32,
    },
}

#[derive(Debug, Default)]
struct Plan {
    faults: Vec<Fault>,
    writes: u64,
    syncs: u64,
    set_lens: u64,
    opens: u64,
    /// A write failure armed by a short write.
    armed: Option<i32>,
    /// Bytes that may still be added to files, when the disk is simulated full.
    space: Option<u64>,
}

impl Plan {
    /// Removes and returns the first planned fault `pick` selects.
    fn take(&mut self, pick: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let i = self.faults.iter().position(pick)?;
        Some(self.faults.remove(i))
    }
}

/// [`OsIo`] with failures injected by plan: the same calls, the same bytes on disk, except where
/// a [`Fault`] or the simulated free space says otherwise. Cloning shares the plan.
#[derive(Clone, Debug, Default)]
pub struct FaultyIo {
    plan: Arc<Mutex<Plan>>,
}

impl FaultyIo {
    /// No faults yet, unlimited space.
    pub fn new() -> Self {
        FaultyIo::default()
    }

    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a fault. Call numbers count from the first call ever made through this value.
    pub fn inject(&self, fault: Fault) {
        self.plan().faults.push(fault);
    }

    /// Simulates a file system with `bytes` left (`None`: unlimited). A write past it puts what
    /// fits in the file and fails with `ENOSPC`; cutting a file back frees its bytes again.
    pub fn set_space(&self, bytes: Option<u64>) {
        self.plan().space = bytes;
    }

    /// Counts calls from zero again, so that fault call numbers count from now.
    pub fn restart_counts(&self) {
        let mut p = self.plan();
        p.writes = 0;
        p.syncs = 0;
        p.set_lens = 0;
        p.opens = 0;
    }

    /// Calls made so far: (writes, syncs).
    pub fn calls(&self) -> (u64, u64) {
        let p = self.plan();
        (p.writes, p.syncs)
    }
}

fn os_error(errno: i32) -> io::Error {
    io::Error::from_raw_os_error(errno)
}

/// `ENOSPC`, for plans.
pub fn enospc() -> i32 {
    #[cfg(unix)]
    {
        rustix::io::Errno::NOSPC.raw_os_error()
    }
    #[cfg(not(unix))]
    {
        28
    }
}

/// `EIO`, for plans.
pub fn eio() -> i32 {
    #[cfg(unix)]
    {
        rustix::io::Errno::IO.raw_os_error()
    }
    #[cfg(not(unix))]
    {
        5
    }
}

struct FaultyFile {
    inner: File,
    len: u64,
    plan: Arc<Mutex<Plan>>,
}

impl FaultyFile {
    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SegmentFile for FaultyFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (limit, fail) = {
            let mut p = self.plan();
            p.writes += 1;
            let n = p.writes;
            if let Some(errno) = p.armed.take() {
                return Err(os_error(errno));
            }
            let mut limit = buf.len();
            let mut fail = None;
            if let Some(Fault::Write { written, errno, .. }) =
                p.take(|f| matches!(f, Fault::Write { at, .. } if *at == n))
            {
                limit = limit.min(written);
                fail = Some(errno);
            }
            if let Some(space) = p.space {
                if (limit as u64) > space {
                    limit = space as usize;
                    fail = Some(enospc());
                }
            }
            (limit, fail)
        };
        if let (0, Some(errno)) = (limit, fail) {
            return Err(os_error(errno));
        }
        let n = self.inner.write(&buf[..limit])?;
        self.len += n as u64;
        let mut p = self.plan();
        if let Some(space) = p.space.as_mut() {
            *space = space.saturating_sub(n as u64);
        }
        if fail.is_some() && n == limit {
            p.armed = fail;
        }
        Ok(n)
    }

    fn sync_data(&mut self) -> io::Result<()> {
        {
            let mut p = self.plan();
            p.syncs += 1;
            let n = p.syncs;
            if let Some(Fault::Sync { errno, .. }) =
                p.take(|f| matches!(f, Fault::Sync { at, .. } if *at == n))
            {
                return Err(os_error(errno));
            }
        }
        self.inner.sync_data()
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        {
            let mut p = self.plan();
            p.set_lens += 1;
            let n = p.set_lens;
            if let Some(Fault::SetLen { errno, .. }) =
                p.take(|f| matches!(f, Fault::SetLen { at, .. } if *at == n))
            {
                return Err(os_error(errno));
            }
        }
        self.inner.set_len(len)?;
        let freed = self.len.saturating_sub(len);
        self.len = len;
        if let Some(space) = self.plan().space.as_mut() {
            *space += freed;
        }
        Ok(())
    }
}

impl StorageIo for FaultyIo {
    fn create(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        let f = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(path)?;
        Ok(Box::new(FaultyFile {
            inner: f,
            len: 0,
            plan: Arc::clone(&self.plan),
        }))
    }
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        {
            let mut p = self.plan();
            p.opens += 1;
            let n = p.opens;
            if let Some(Fault::Open { errno, .. }) =
                p.take(|f| matches!(f, Fault::Open { at, .. } if *at == n))
            {
                return Err(os_error(errno));
            }
        }
        let f = OpenOptions::new().append(true).open(path)?;
        let len = f.metadata()?.len();
        Ok(Box::new(FaultyFile {
            inner: f,
            len,
            plan: Arc::clone(&self.plan),
        }))
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        OsIo.sync_dir(dir)
    }
    fn available_space(&self, dir: &Path) -> Option<u64> {
        match self.plan().space {
            Some(s) => Some(s),
            None => OsIo.available_space(dir),
        }
    }
}
