//! The first events of a large trace, for a first look while the whole is read.
//!
//! A viewer opening a recording of a million events can show its beginning in a few
//! milliseconds instead of after the whole read and analysis: [`Trace::read_prefix`] reads only
//! the first input's first complete lines within a byte budget. It is a view, never a verdict:
//! whatever it cannot read exactly as the whole read would (standard input, Parquet, a line that
//! fails, a budget that ends inside the first line) gives no prefix at all, and the whole read
//! says where and why.

use std::io::Read;

use super::{parquet, Input, ReadOptions, TraceBuilder};
use crate::store::Trace;

impl Trace {
    /// The events of the first input's complete lines within its first `max_bytes` bytes
    /// (after gzip decompression), read with `opts`: what a viewer shows at once while
    /// [`Trace::read_inputs`] reads the whole.
    ///
    /// `None` when there is no such view: the first input is standard input or a Parquet
    /// file, it cannot be opened or read, one of those lines fails to read under `opts`, or
    /// they hold no event.
    ///
    /// ```
    /// use weft_trace::{Input, ReadOptions, Trace};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("t.ndjson");
    /// let line = r#"{"replica":"a","seq":1}"#;
    /// std::fs::write(&path, format!("{line}\n{}\n", line.replace('1', "2"))).unwrap();
    /// let inputs = [Input::File(path)];
    /// // The budget ends inside the second line: only the first is read.
    /// let first = Trace::read_prefix(&inputs, &ReadOptions::default(), line.len() + 5).unwrap();
    /// assert_eq!(first.len(), 1);
    /// ```
    pub fn read_prefix(inputs: &[Input], opts: &ReadOptions, max_bytes: usize) -> Option<Trace> {
        let first = inputs.first()?;
        match first {
            Input::Stdin => return None,
            Input::File(p) | Input::LastSegment(p) if parquet::is_parquet_file(p) => return None,
            Input::File(_) | Input::LastSegment(_) => {}
        }
        let opened = first.open_measured().ok()?;
        let mut bytes = Vec::new();
        opened
            .reader
            .take(max_bytes as u64)
            .read_to_end(&mut bytes)
            .ok()?;
        if bytes.len() == max_bytes {
            // The budget may end inside a line: only whole lines are read.
            let end = memchr::memrchr(b'\n', &bytes)? + 1;
            bytes.truncate(end);
        }
        let mut builder = TraceBuilder::new(opts.clone());
        builder.read(&first.name(), &bytes[..]).ok()?;
        builder.finish().ok()
    }
}
