//! A block's parsed lines (a [`Shard`]) and their merge into the trace: what a parsing
//! thread produces from its block, and how the builder appends it in input order (headers
//! checked, malformed lines recorded or returned, events deduplicated). Separate from the
//! threads that run it, so that one-thread and parallel reading share it.

#[cfg(feature = "parquet")]
use super::rows::Fields;
use super::split::{split_lines, Block};
use super::{Cursor, ReadError, TraceBuilder};
use crate::intern::Sym;
#[cfg(feature = "parquet")]
use crate::model::Crdt;
use crate::model::{Header, Kind, FORMAT};
use crate::parse::{Parsed, Parser};
use crate::store::{push_opt, EventRec, Malformed, NONE};
use crate::vcenc;

/// One line's outcome inside a [`Shard`], before deduplication against the whole trace.
pub(super) enum Item {
    /// The next event of the shard.
    Event,
    /// A header object.
    Header(serde_json::Map<String, serde_json::Value>),
    /// A malformed line: reason and column.
    Malformed(String, Option<u64>),
    /// A blank line.
    Blank,
}

/// Parsed lines of one block of input, in input order: what a parsing thread hands back to
/// the builder, which deduplicates and appends them.
#[derive(Default)]
pub(super) struct Shard {
    pub(super) items: Vec<Item>,
    recs: Vec<EventRec>,
    fingerprints: Vec<u64>,
    vc_arena: Vec<u8>,
    parents: Vec<(Sym, u64)>,
    values: Vec<serde_json::Value>,
    attrs: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl Shard {
    pub(super) fn clear(&mut self) {
        self.items.clear();
        self.recs.clear();
        self.fingerprints.clear();
        self.vc_arena.clear();
        self.parents.clear();
        self.values.clear();
        self.attrs.clear();
    }

    /// Parses one line (without its newline) into the shard.
    pub(super) fn parse_line(&mut self, parser: &mut Parser, line: &[u8], max: usize) {
        let (line, bom) = trim_line(line);
        #[cfg(test)]
        super::tests::injected_panic(line);
        if line.len() + bom as usize > max {
            self.items.push(Item::Malformed(too_long(max), None));
            return;
        }
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            self.items.push(Item::Blank);
            return;
        }
        match parser.parse(line) {
            Err(e) => self
                .items
                .push(Item::Malformed(e.reason, e.column.map(|c| c + bom))),
            Ok(Parsed::Header(fields)) => self.items.push(Item::Header(fields)),
            Ok(Parsed::Event) => {
                self.push_event(&mut parser.ev);
                self.items.push(Item::Event);
            }
        }
    }

    /// A row of a columnar input (checked, with its fingerprint) as the shard's next event.
    #[cfg(feature = "parquet")]
    pub(super) fn push_row(&mut self, f: &mut Fields, crdt: Option<Crdt>, fp: u64) {
        let rec = f.store(
            crdt,
            &mut self.vc_arena,
            &mut self.parents,
            &mut self.values,
            &mut self.attrs,
        );
        self.recs.push(rec);
        self.fingerprints.push(fp);
        self.items.push(Item::Event);
    }

    fn push_event(&mut self, ev: &mut crate::parse::Scratch) {
        let flags = EventRec::flags_for([
            ev.lamport.is_some(),
            ev.wall_ns.is_some(),
            ev.has_vc,
            ev.has_parents,
            ev.op.is_some(),
        ]);
        let vc_start = self.vc_arena.len() as u64;
        vcenc::encode(&ev.vc, &mut self.vc_arena);
        let parents_start = self.parents.len() as u64;
        self.parents.extend_from_slice(&ev.parents);
        let value = push_opt(&mut self.values, ev.value.take());
        let attrs = push_opt(&mut self.attrs, ev.attrs.take());
        self.recs.push(EventRec {
            replica: ev.replica.expect("checked by parse"),
            kind: ev.kind.unwrap_or(Kind::Local),
            op: ev.op.unwrap_or_default(),
            crdt: ev.crdt,
            flags,
            seq: ev.seq.expect("checked by parse"),
            lamport: ev.lamport.unwrap_or(0),
            wall_ns: ev.wall_ns.unwrap_or(0),
            msg: ev.msg.unwrap_or(NONE),
            key: ev.key.unwrap_or(NONE),
            value,
            attrs,
            vc_start,
            vc_len: (self.vc_arena.len() as u64 - vc_start) as u32,
            parents_len: ev.parents.len() as u32,
            parents_start,
        });
        self.fingerprints.push(ev.fingerprint);
    }
}

/// The UTF-8 byte order mark. Editors on Windows put it at the start of text files; RFC 8259
/// lets a JSON parser ignore it, and so does weft, at the start of any line.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A line without its `\r` (of a `\r\n` ending) and its leading byte order mark, and how many
/// bytes were cut from its start (for columns).
pub(super) fn trim_line(line: &[u8]) -> (&[u8], u64) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match line.strip_prefix(BOM) {
        Some(rest) => (rest, BOM.len() as u64),
        None => (line, 0),
    }
}

/// The reason given for a line over the length limit.
pub(super) fn too_long(max: usize) -> String {
    format!("line longer than {max} bytes")
}

/// Parses one block on a parsing thread.
pub(super) fn parse_block(parser: &mut Parser, block: &Block, max: usize) -> Shard {
    let mut shard = Shard::default();
    match block {
        Block::Lines(bytes) => {
            for line in split_lines(bytes) {
                shard.parse_line(parser, line, max);
            }
        }
        Block::TooLong => shard.items.push(Item::Malformed(too_long(max), None)),
    }
    shard
}

impl TraceBuilder {
    /// Appends a shard's lines in order: headers checked, malformed lines recorded or returned,
    /// events deduplicated.
    pub(super) fn merge(&mut self, cur: &mut Cursor, shard: &mut Shard) -> Result<(), ReadError> {
        let mut ev = 0usize;
        let mut values = std::mem::take(&mut shard.values)
            .into_iter()
            .map(Some)
            .collect::<Vec<_>>();
        let mut attrs = std::mem::take(&mut shard.attrs)
            .into_iter()
            .map(Some)
            .collect::<Vec<_>>();
        for item in shard.items.drain(..) {
            cur.line += 1;
            let (reason, column) = match item {
                Item::Blank => continue,
                Item::Event => {
                    cur.first = false;
                    let rec = shard.recs[ev];
                    let fp = shard.fingerprints[ev];
                    ev += 1;
                    self.trace.admit(rec.replica, rec.seq, fp, |t| {
                        let mut rec = rec;
                        let vc = &shard.vc_arena[rec.vc_start as usize
                            ..(rec.vc_start + u64::from(rec.vc_len)) as usize];
                        rec.vc_start = t.vc_arena.len() as u64;
                        t.vc_arena.extend_from_slice(vc);
                        let ps = &shard.parents[rec.parents_start as usize..]
                            [..rec.parents_len as usize];
                        rec.parents_start = t.parents.len() as u64;
                        t.parents.extend_from_slice(ps);
                        if rec.value != NONE {
                            let v = values[rec.value as usize]
                                .take()
                                .expect("each value is used once");
                            rec.value = t.values.len() as u32;
                            t.values.push(v);
                        }
                        if rec.attrs != NONE {
                            let a = attrs[rec.attrs as usize]
                                .take()
                                .expect("each attrs is used once");
                            rec.attrs = t.attrs.len() as u32;
                            t.attrs.push(a);
                        }
                        rec
                    });
                    continue;
                }
                Item::Header(fields) => {
                    let format = fields
                        .get("format")
                        .and_then(|f| f.as_str())
                        .unwrap_or_default();
                    if format != FORMAT {
                        (
                            format!("unsupported format {format:?} (this weft reads {FORMAT:?})"),
                            None,
                        )
                    } else if !cur.first {
                        (
                            "a header line (one with `format`) may only be the first line".into(),
                            None,
                        )
                    } else {
                        cur.first = false;
                        self.trace.headers.push(Header {
                            source: cur.input.to_string(),
                            fields,
                        });
                        continue;
                    }
                }
                Item::Malformed(reason, column) => (reason, column),
            };
            cur.first = false;
            let bad = || Malformed {
                source: cur.input.to_string(),
                line: cur.line,
                column,
                reason,
                place: cur.place,
            };
            if self.opts.lenient {
                // Kept up to a bound, counted always: any number of malformed lines read in
                // bounded memory.
                self.trace.note_malformed(bad);
            } else {
                return Err(ReadError::Malformed(bad()));
            }
        }
        Ok(())
    }
}
