//! Writing the simulated events as weft-trace/1, fast: each line is formatted by hand into one
//! reused buffer (integers by a two-digits-at-a-time routine), so tracing a million events costs no allocation per
//! event and barely slows the simulation.

use std::io;
use std::sync::mpsc::{Receiver, SyncSender};

use weft_trace::Crdt;

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

/// How full the line buffer gets before it is handed to the writer thread.
const CHUNK: usize = 1 << 20;

/// Where finished chunks go: a writer thread that owns the output, or nowhere.
enum Sink {
    Discard,
    Thread {
        full: SyncSender<Vec<u8>>,
        empty: Receiver<Vec<u8>>,
    },
}

/// The trace sink. Lines are formatted straight into a 1 MiB chunk; full chunks go to a
/// writer thread (see [`crate::simulate`]) so that the simulation never waits on the file
/// system. Writes nothing when built with [`TraceOut::discard`].
pub struct TraceOut {
    sink: Sink,
    buf: Vec<u8>,
    names: Vec<String>,
    /// `{"replica":"NAME","seq":` per replica (names are at most 256 bytes: kept as bytes).
    starts: Vec<Vec<u8>>,
    /// `"NAME":` per replica, for clock entries, when short enough for [`Small`].
    vc_keys: Vec<Option<Small>>,
    /// Events emitted.
    pub events: u64,
    /// Bytes handed to the writer so far (the buffer holds the rest of [`TraceOut::written`]).
    handed: u64,
}

/// A short byte string stored in a 32-byte array, so that appending it is one fixed-size copy.
#[derive(Clone)]
struct Small {
    bytes: [u8; 32],
    len: usize,
}

impl Small {
    fn new(s: &[u8]) -> Option<Small> {
        let mut bytes = [0u8; 32];
        bytes.get_mut(..s.len())?.copy_from_slice(s);
        Some(Small {
            bytes,
            len: s.len(),
        })
    }
}

/// Appends `n` bytes of `src` (n ≤ 32) with one constant-size 32-byte copy: formatting a
/// trace line is dozens of tiny appends, and a `memcpy` call for each was a third of the
/// simulator's time.
#[inline(always)]
fn put32(l: &mut Vec<u8>, src: &[u8; 32], n: usize) {
    assert!(n <= 32);
    l.reserve(32);
    // SAFETY: `reserve(32)` guarantees room for 32 more bytes after `len`; `src` is 32 readable
    // bytes; the regions cannot overlap (`src` is not inside `l`'s spare capacity); and only
    // the first `n` of the copied bytes, all initialised, are counted into the length.
    unsafe {
        std::ptr::copy_nonoverlapping(src.as_ptr(), l.as_mut_ptr().add(l.len()), 32);
        l.set_len(l.len() + n);
    }
}

#[inline(always)]
fn put_small(l: &mut Vec<u8>, s: &Small) {
    put32(l, &s.bytes, s.len);
}

/// Appends the decimal digits of `v`.
#[inline(always)]
fn put_u64(l: &mut Vec<u8>, mut v: u64) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut buf = [0u8; 64];
    let mut i = 32;
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i] = PAIRS[pair];
        buf[i + 1] = PAIRS[pair + 1];
    }
    if v >= 10 {
        i -= 2;
        buf[i] = PAIRS[v as usize * 2];
        buf[i + 1] = PAIRS[v as usize * 2 + 1];
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    let n = 32 - i;
    let src: &[u8; 32] = buf[i..i + 32].try_into().expect("32 bytes");
    put32(l, src, n);
}

/// Appends the decimal digits of `v` with its sign.
#[inline(always)]
fn put_i64(l: &mut Vec<u8>, v: i64) {
    if v < 0 {
        l.push(b'-');
    }
    put_u64(l, v.unsigned_abs());
}

fn stopped() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the trace writer stopped")
}

impl TraceOut {
    /// A sink handing full chunks to `full` and reusing the buffers that come back on `empty`.
    pub fn threaded(
        full: SyncSender<Vec<u8>>,
        empty: Receiver<Vec<u8>>,
        names: Vec<String>,
    ) -> Self {
        let starts = names
            .iter()
            .map(|n| format!("{{\"replica\":\"{n}\",\"seq\":").into_bytes())
            .collect();
        let vc_keys = names
            .iter()
            .map(|n| Small::new(format!("\"{n}\":").as_bytes()))
            .collect();
        TraceOut {
            sink: Sink::Thread { full, empty },
            buf: Vec::with_capacity(CHUNK + 4096),
            names,
            starts,
            vc_keys,
            events: 0,
            handed: 0,
        }
    }

    /// A sink that only counts.
    pub fn discard(names: Vec<String>) -> Self {
        TraceOut {
            sink: Sink::Discard,
            buf: Vec::new(),
            names,
            starts: Vec::new(),
            vc_keys: Vec::new(),
            events: 0,
            handed: 0,
        }
    }

    fn hand_off(&mut self) -> io::Result<()> {
        if let Sink::Thread { full, empty } = &self.sink {
            let next = empty
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(CHUNK + 4096));
            let chunk = std::mem::replace(&mut self.buf, next);
            self.handed += chunk.len() as u64;
            full.send(chunk).map_err(|_| stopped())?;
        }
        Ok(())
    }

    /// Bytes of trace written so far (0 when lines are written nowhere).
    pub fn written(&self) -> u64 {
        self.handed + self.buf.len() as u64
    }

    /// Whether lines are written anywhere.
    pub fn enabled(&self) -> bool {
        matches!(self.sink, Sink::Thread { .. })
    }

    /// The name of replica `r`.
    pub fn name(&self, r: u32) -> &str {
        &self.names[r as usize]
    }

    /// Writes the header line.
    pub fn header(&mut self, fields: &[(&str, String)]) -> io::Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let mut s = String::from("{\"format\":\"weft-trace/1\"");
        for (k, v) in fields {
            s.push_str(",\"");
            s.push_str(k);
            s.push_str("\":");
            s.push_str(v);
        }
        s.push_str("}\n");
        self.buf.extend_from_slice(s.as_bytes());
        Ok(())
    }

    /// Emits one event. `vc` is the full clock (only non-zero entries are written); `key` is the
    /// key's name with its data type, written as `crdt` so that `weft check` knows what every
    /// read must return (spec section 8); `value` is JSON text; `attrs` is JSON object text.
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
        key: Option<(&str, Crdt)>,
        op: Option<&str>,
        value: Option<&str>,
        attrs: Option<&str>,
    ) -> io::Result<()> {
        self.events += 1;
        if !self.enabled() {
            return Ok(());
        }
        let l = &mut self.buf;
        l.extend_from_slice(&self.starts[replica as usize]);
        put_u64(l, seq);
        l.extend_from_slice(match kind {
            EvKind::Write => b",\"kind\":\"write\"".as_slice(),
            EvKind::Read => b",\"kind\":\"read\"",
            EvKind::Send => b",\"kind\":\"send\"",
            EvKind::Recv => b",\"kind\":\"recv\"",
        });
        if let Some(lp) = lamport {
            l.extend_from_slice(b",\"lamport\":");
            put_u64(l, lp);
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
                match &self.vc_keys[q] {
                    Some(k) => put_small(l, k),
                    None => {
                        l.push(b'"');
                        l.extend_from_slice(self.names[q].as_bytes());
                        l.extend_from_slice(b"\":");
                    }
                }
                put_u64(l, v);
            }
            l.push(b'}');
        }
        l.extend_from_slice(b",\"wall_ns\":");
        put_i64(l, wall_ns);
        if let Some(m) = msg {
            l.extend_from_slice(b",\"msg\":\"m");
            put_u64(l, m);
            l.push(b'"');
        }
        if let Some((k, crdt)) = key {
            l.extend_from_slice(b",\"key\":\"");
            l.extend_from_slice(k.as_bytes());
            l.extend_from_slice(b"\",\"crdt\":\"");
            l.extend_from_slice(crdt.as_str().as_bytes());
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
        if l.len() >= CHUNK {
            self.hand_off()?;
        }
        Ok(())
    }

    /// Flushes the sink.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.hand_off()?;
        }
        Ok(())
    }
}
