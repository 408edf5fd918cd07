//! Writing weft-trace/1: a header line, then one event per line.

use std::io::{self, Write};

use serde_json::{Map, Value};

use crate::model::{Event, FORMAT};

/// Writes events as NDJSON through a caller-supplied (ideally buffered) writer.
pub struct NdjsonWriter<W: Write> {
    out: W,
    events: u64,
}

impl<W: Write> NdjsonWriter<W> {
    /// Starts a trace with no header line.
    pub fn new(out: W) -> Self {
        NdjsonWriter { out, events: 0 }
    }

    /// Starts a trace with a header line carrying `meta` (the `format` field is set here).
    pub fn with_header(mut out: W, meta: &Map<String, Value>) -> io::Result<Self> {
        let mut header = Map::new();
        header.insert("format".into(), Value::String(FORMAT.into()));
        for (k, v) in meta {
            if k != "format" {
                header.insert(k.clone(), v.clone());
            }
        }
        serde_json::to_writer(&mut out, &header)?;
        out.write_all(b"\n")?;
        Ok(NdjsonWriter { out, events: 0 })
    }

    /// Writes one event line.
    pub fn write(&mut self, e: &Event) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, e)?;
        self.out.write_all(b"\n")?;
        self.events += 1;
        Ok(())
    }

    /// Events written so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
