//! Writing the simulated events as weft-trace/1, fast: each line is formatted by hand into one
//! reused buffer (integers with `itoa`), so tracing a million events costs no allocation per
//! event and barely slows the simulation.

use std::io::{self, Write};

/// What an emitted event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvKind {
    /// A write (`key`, `op`, `value`).
    Write,
    /// A read (`key`, `value` read).
    Read,
    /// Sending message `msg`.
    Send,
    /// Receiving message `msg`.
    Recv,
}

/// The trace sink. Writes nothing when built with [`TraceOut::discard`], so the simulator can
/// run without a trace at the same speed.
pub struct TraceOut<'a> {
    out: Option<Box<dyn Write + 'a>>,
    line: Vec<u8>,
    names: Vec<String>,
    /// Events emitted.
    pub events: u64,
}

impl<'a> TraceOut<'a> {
    /// A sink writing to `out` (buffer it).
    pub fn new(out: Box<dyn Write + 'a>, names: Vec<String>) -> Self {
        TraceOut { out: Some(out), line: Vec::with_capacity(1024), names, events: 0 }
    }

    /// A sink that only counts.
    pub fn discard(names: Vec<String>) -> Self {
        TraceOut { out: None, line: Vec::new(), names, events: 0 }
    }

    /// Whether lines are written anywhere.
    pub fn enabled(&self) -> bool {
        self.out.is_some()
    }

    /// The name of replica `r`.
    pub fn name(&self, r: u32) -> &str {
        &self.names[r as usize]
    }

    /// Writes the header line.
    pub fn header(&mut self, fields: &[(&str, String)]) -> io::Result<()> {
        let Some(out) = self.out.as_mut() else { return Ok(()) };
        let mut s = String::from("{\"format\":\"weft-trace/1\"");
        for (k, v) in fields {
            s.push_str(",\"");
            s.push_str(k);
            s.push_str("\":");
            s.push_str(v);
        }
        s.push_str("}\n");
        out.write_all(s.as_bytes())
    }

    /// Emits one event. `vc` is the full clock (only non-zero entries are written); `value` is
    /// JSON text; `attrs` is JSON object text.
    #[allow(clippy::too_many_arguments)]
    pub fn event(
        &mut self,
        replica: u32,
        seq: u64,
        kind: EvKind,
        lamport: Option<u64>,
        vc: Option<&[u64]>,
        wall_ns: i64,
        msg: Option<u64>,
        key: Option<&str>,
        op: Option<&str>,
        value: Option<&str>,
        attrs: Option<&str>,
    ) -> io::Result<()> {
        self.events += 1;
        let Some(out) = self.out.as_mut() else { return Ok(()) };
        let mut ib = itoa::Buffer::new();
        let l = &mut self.line;
        l.clear();
        l.extend_from_slice(b"{\"replica\":\"");
        l.extend_from_slice(self.names[replica as usize].as_bytes());
        l.extend_from_slice(b"\",\"seq\":");
        l.extend_from_slice(ib.format(seq).as_bytes());
        l.extend_from_slice(match kind {
            EvKind::Write => b",\"kind\":\"write\"".as_slice(),
            EvKind::Read => b",\"kind\":\"read\"",
            EvKind::Send => b",\"kind\":\"send\"",
            EvKind::Recv => b",\"kind\":\"recv\"",
        });
        if let Some(lp) = lamport {
            l.extend_from_slice(b",\"lamport\":");
            l.extend_from_slice(ib.format(lp).as_bytes());
        }
        if let Some(vc) = vc {
            l.extend_from_slice(b",\"vc\":{");
            let mut first = true;
            for (q, &v) in vc.iter().enumerate() {
                if v == 0 {
                    continue;
                }
                if !first {
                    l.push(b',');
                }
                first = false;
                l.push(b'"');
                l.extend_from_slice(self.names[q].as_bytes());
                l.extend_from_slice(b"\":");
                l.extend_from_slice(ib.format(v).as_bytes());
            }
            l.push(b'}');
        }
        l.extend_from_slice(b",\"wall_ns\":");
        l.extend_from_slice(ib.format(wall_ns).as_bytes());
        if let Some(m) = msg {
            l.extend_from_slice(b",\"msg\":\"m");
            l.extend_from_slice(ib.format(m).as_bytes());
            l.push(b'"');
        }
        if let Some(k) = key {
            l.extend_from_slice(b",\"key\":\"");
            l.extend_from_slice(k.as_bytes());
            l.push(b'"');
        }
        if let Some(o) = op {
            l.extend_from_slice(b",\"op\":\"");
            l.extend_from_slice(o.as_bytes());
            l.push(b'"');
        }
        if let Some(v) = value {
            l.extend_from_slice(b",\"value\":");
            l.extend_from_slice(v.as_bytes());
        }
        if let Some(a) = attrs {
            l.extend_from_slice(b",\"attrs\":");
            l.extend_from_slice(a.as_bytes());
        }
        l.extend_from_slice(b"}\n");
        out.write_all(l)
    }

    /// Flushes the sink.
    pub fn flush(&mut self) -> io::Result<()> {
        match self.out.as_mut() {
            Some(o) => o.flush(),
            None => Ok(()),
        }
    }
}
