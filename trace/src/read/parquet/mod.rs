//! Parquet as an input: how a file is recognised as Parquet (its name or magic bytes), the
//! metadata keys it is read with, and the dispatch of a `.parquet` input to the row-group
//! reader ([`reader`]) that feeds the row sink ([`super::rows`]). It lives under `read` because
//! reading dispatches to it and it feeds the reader's row sink; the format's description and
//! the writer are [`crate::parquet`], which builds on this module (never the other way round).

#[cfg(feature = "parquet")]
mod columns;
#[cfg(feature = "parquet")]
mod parallel;
#[cfg(feature = "parquet")]
pub(crate) mod reader;

use std::io::{self, Read};
use std::path::Path;

/// The bytes a Parquet file starts (and ends) with.
pub const MAGIC: &[u8; 4] = b"PAR1";

/// The metadata key holding the format name.
pub const FORMAT_KEY: &str = "weft.format";

/// The metadata key holding the header lines' objects, as a JSON array.
pub const HEADERS_KEY: &str = "weft.headers";

/// Whether `path` names a Parquet file by its extension.
pub fn is_parquet_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// Whether the file at `path` is Parquet: by name, or by its first four bytes. A file that
/// cannot be opened is not (the reader that opens it next says why).
pub(crate) fn is_parquet_file(path: &Path) -> bool {
    if is_parquet_name(path) {
        return true;
    }
    // Only a regular file is looked into: reading a pipe's first bytes would take them away
    // from the NDJSON reader.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == MAGIC)
}

/// Reads the Parquet file `path` into `b`, its row groups decoded on `b`'s threads.
#[cfg(feature = "parquet")]
pub(crate) fn read_into(b: &mut crate::TraceBuilder, path: &Path) -> Result<(), crate::ReadError> {
    parallel::read_into(b, path)
}

/// Without the `parquet` feature a Parquet input is refused, saying so.
#[cfg(not(feature = "parquet"))]
pub(crate) fn read_into(_b: &mut crate::TraceBuilder, path: &Path) -> Result<(), crate::ReadError> {
    Err(crate::ReadError::Io {
        input: path.display().to_string(),
        error: io::Error::new(
            io::ErrorKind::Unsupported,
            "a Parquet file, and this build of weft-trace has no Parquet support (feature `parquet`)",
        ),
    })
}

/// The error for Parquet data on standard input, which cannot be read: a Parquet file is read
/// from its end (its footer), so it must be a file.
pub(crate) fn stdin_refused() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "Parquet data: weft reads Parquet from a file, not a stream (its index is at its end); \
         give the file's name",
    )
}
