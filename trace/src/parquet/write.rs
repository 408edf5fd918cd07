//! Writing a [`Trace`] as Parquet (the schema is in the module docs): rows sorted by id, built
//! into Arrow batches of [`BATCH_ROWS`] and written in row groups of [`GROUP_ROWS`], so memory
//! stays a few batches whatever the trace's size.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, DictionaryArray, Int32Array, Int64Array, ListArray, RecordBatch, StringArray,
    StructArray, UInt64Array,
};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use super::{FORMAT_KEY, HEADERS_KEY};
use crate::model::{Crdt, Event, EventId, Kind, Op, FORMAT};
use crate::{Sym, Trace};

/// Rows per Arrow batch handed to the writer.
const BATCH_ROWS: usize = 16 * 1024;

/// Rows per row group: small enough for a reader to hold one's pages, large enough for good
/// compression and few footers; query engines parallelise over them.
const GROUP_ROWS: usize = 128 * 1024;

/// Why a trace could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The Parquet writer failed (an I/O error included).
    #[error("{0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Arrow refused a batch (a bug in weft: the arrays are built to the schema).
    #[error("{0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// Writing the output failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A dropped copy was given for an event the trace does not have.
    #[error("a dropped copy of {0} was given, but the trace has no such event")]
    Orphan(EventId),
}

const KINDS: [Kind; 5] = [Kind::Write, Kind::Read, Kind::Send, Kind::Recv, Kind::Local];
const OPS: [Op; 4] = [Op::Set, Op::Inc, Op::Add, Op::Remove];

fn dict_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

fn pairs_type(number: &str) -> DataType {
    let entry = Fields::from(vec![
        Field::new("replica", dict_type(), false),
        Field::new(number, DataType::UInt64, false),
    ]);
    DataType::List(Arc::new(Field::new("item", DataType::Struct(entry), false)))
}

/// The Arrow schema of a weft Parquet trace.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("replica", dict_type(), false),
        Field::new("seq", DataType::UInt64, false),
        Field::new("kind", dict_type(), false),
        Field::new("lamport", DataType::UInt64, true),
        Field::new("wall_ns", DataType::Int64, true),
        Field::new("msg", DataType::Utf8, true),
        Field::new("key", DataType::Utf8, true),
        Field::new("op", dict_type(), true),
        Field::new("crdt", dict_type(), true),
        Field::new("vc", pairs_type("counter"), true),
        Field::new("parents", pairs_type("seq"), true),
        Field::new("value", DataType::Utf8, true),
        Field::new("attrs", DataType::Utf8, true),
    ]))
}

/// Writes `trace` to `out` as Parquet, with `copies` — copies of its events that the duplicate
/// rule dropped, in the order they were read — each after its event, and returns `out`.
pub fn write<W: Write + Send>(trace: &Trace, copies: &[Event], out: W) -> Result<W, WriteError> {
    let mut meta = vec![KeyValue::new(FORMAT_KEY.to_string(), FORMAT.to_string())];
    let headers: Vec<&serde_json::Map<String, serde_json::Value>> =
        trace.headers().iter().map(|h| &h.fields).collect();
    meta.push(KeyValue::new(
        HEADERS_KEY.to_string(),
        serde_json::to_string(&headers).expect("JSON objects serialize"),
    ));
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_max_row_group_row_count(Some(GROUP_ROWS))
        .set_key_value_metadata(Some(meta))
        .build();
    let mut w = ArrowWriter::try_new(out, schema(), Some(props))?;
    let mut batch = Batch::new(trace);
    for row in order(trace, copies, &batch.rank)? {
        match row {
            Row::Kept(i) => batch.push_kept(trace, i as usize),
            Row::Copy(c) => batch.push_event(trace, &copies[c as usize]),
        }
        if batch.len() == BATCH_ROWS {
            w.write(&batch.finish()?)?;
        }
    }
    if batch.len() > 0 {
        w.write(&batch.finish()?)?;
    }
    Ok(w.into_inner()?)
}

/// A row to write: an event of the trace (arrival index) or a dropped copy (index in copies).
#[derive(Clone, Copy)]
enum Row {
    Kept(u32),
    Copy(u32),
}

/// The rows in file order: by replica name (bytewise), then seq, each event's copies after it
/// in the order given.
fn order(trace: &Trace, copies: &[Event], rank: &[u32]) -> Result<Vec<Row>, WriteError> {
    // (rank, seq, 0 for the event or 1 + copy number, row).
    let mut keyed: Vec<(u32, u64, u32, Row)> = Vec::with_capacity(trace.len() + copies.len());
    for (i, e) in trace.events().iter().enumerate() {
        keyed.push((rank[e.replica as usize], e.seq, 0, Row::Kept(i as u32)));
    }
    for (c, e) in copies.iter().enumerate() {
        let at = trace
            .find_name(&e.replica, e.seq)
            .ok_or_else(|| WriteError::Orphan(e.id()))?;
        let rec = &trace.events()[at];
        keyed.push((
            rank[rec.replica as usize],
            rec.seq,
            1 + c as u32,
            Row::Copy(c as u32),
        ));
    }
    keyed.sort_unstable_by_key(|&(r, s, n, _)| (r, s, n));
    Ok(keyed.into_iter().map(|(.., row)| row).collect())
}

/// Each replica name's place in bytewise order, by name id: ids compare as their names do.
fn name_ranks(trace: &Trace) -> Vec<u32> {
    let names = trace.names();
    let mut by_name: Vec<Sym> = (0..names.len() as Sym).collect();
    by_name.sort_unstable_by(|&a, &b| names.resolve(a).cmp(names.resolve(b)));
    let mut rank = vec![0u32; names.len()];
    for (r, &q) in by_name.iter().enumerate() {
        rank[q as usize] = r as u32;
    }
    rank
}

/// A (replica, integer) list column being built.
#[derive(Default)]
struct Pairs {
    offsets: Vec<i32>,
    valid: Vec<bool>,
    names: Vec<i32>,
    numbers: Vec<u64>,
}

impl Pairs {
    fn push(&mut self, entries: Option<impl Iterator<Item = (i32, u64)>>) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.valid.push(entries.is_some());
        for (q, n) in entries.into_iter().flatten() {
            self.names.push(q);
            self.numbers.push(n);
        }
        self.offsets.push(self.names.len() as i32);
    }

    fn finish(&mut self, number: &str, names: &Arc<StringArray>) -> Result<ArrayRef, WriteError> {
        let DataType::List(item) = pairs_type(number) else {
            unreachable!("pairs_type is a list")
        };
        let DataType::Struct(fields) = item.data_type().clone() else {
            unreachable!("of structs")
        };
        let keys = Int32Array::from(std::mem::take(&mut self.names));
        let replica = DictionaryArray::<Int32Type>::try_new(keys, names.clone())?;
        let numbers = UInt64Array::from(std::mem::take(&mut self.numbers));
        let entries =
            StructArray::try_new(fields, vec![Arc::new(replica), Arc::new(numbers)], None)?;
        let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::take(&mut self.offsets)));
        let nulls = NullBuffer::from(std::mem::take(&mut self.valid));
        Ok(Arc::new(ListArray::try_new(
            item,
            offsets,
            Arc::new(entries),
            Some(nulls),
        )?))
    }
}

/// One batch of rows being built.
struct Batch {
    /// Every replica name, by [`Sym`], then names only copies use: the dictionary of the
    /// replica columns.
    names: Vec<String>,
    /// [`name_ranks`].
    rank: Vec<u32>,
    replica: Vec<i32>,
    seq: Vec<u64>,
    kind: Vec<i32>,
    lamport: Vec<Option<u64>>,
    wall_ns: Vec<Option<i64>>,
    msg: StringBuilder,
    key: StringBuilder,
    op: Vec<Option<i32>>,
    crdt: Vec<Option<i32>>,
    vc: Pairs,
    parents: Pairs,
    value: StringBuilder,
    attrs: StringBuilder,
}

impl Batch {
    fn new(trace: &Trace) -> Self {
        let names = trace.names();
        Batch {
            names: (0..names.len() as Sym)
                .map(|q| names.resolve(q).to_string())
                .collect(),
            rank: name_ranks(trace),
            replica: Vec::new(),
            seq: Vec::new(),
            kind: Vec::new(),
            lamport: Vec::new(),
            wall_ns: Vec::new(),
            msg: StringBuilder::new(),
            key: StringBuilder::new(),
            op: Vec::new(),
            crdt: Vec::new(),
            vc: Pairs::default(),
            parents: Pairs::default(),
            value: StringBuilder::new(),
            attrs: StringBuilder::new(),
        }
    }

    fn len(&self) -> usize {
        self.seq.len()
    }

    fn json(&mut self, v: Option<&impl serde::Serialize>, to_value: bool) {
        let col = if to_value {
            &mut self.value
        } else {
            &mut self.attrs
        };
        match v {
            // Serializing a JSON value into a String cannot fail.
            Some(v) => col.append_value(serde_json::to_string(v).expect("JSON values serialize")),
            None => col.append_null(),
        }
    }

    fn common(&mut self, kind: Kind, op: Option<Op>, crdt: Option<Crdt>) {
        self.kind
            .push(KINDS.iter().position(|&k| k == kind).expect("every kind") as i32);
        self.op
            .push(op.map(|o| OPS.iter().position(|&x| x == o).expect("every op") as i32));
        self.crdt
            .push(crdt.map(|c| Crdt::ALL.iter().position(|&x| x == c).expect("every type") as i32));
    }

    fn push_kept(&mut self, trace: &Trace, i: usize) {
        let e = &trace.events()[i];
        self.replica.push(e.replica as i32);
        self.seq.push(e.seq);
        let op = (e.flags & crate::EventRec::HAS_OP != 0).then_some(e.op);
        self.common(e.kind, op, e.crdt);
        self.lamport.push(e.lamport());
        self.wall_ns.push(e.wall_ns());
        let syms = trace.syms();
        self.msg.append_option(e.msg().map(|m| syms.resolve(m)));
        self.key.append_option(e.key().map(|k| syms.resolve(k)));
        // The clock is kept sorted by name id; the file's is sorted by name.
        let rank = &self.rank;
        let vc = e.has_vc().then(|| {
            let mut vc: Vec<(Sym, u64)> = trace.vc(e).collect();
            vc.sort_unstable_by_key(|&(q, _)| rank[q as usize]);
            vc.into_iter().map(|(q, v)| (q as i32, v))
        });
        self.vc.push(vc);
        let parents = e
            .has_parents()
            .then(|| trace.parents(e).iter().map(|&(q, s)| (q as i32, s)));
        self.parents.push(parents);
        self.json(trace.value(e), true);
        self.json(trace.attrs(e), false);
    }

    /// The dictionary key of a replica name.
    fn name_key(&mut self, trace: &Trace, name: &str) -> i32 {
        if let Some(q) = trace.names().get(name) {
            return q as i32;
        }
        match self.names[trace.names().len()..]
            .iter()
            .position(|n| n == name)
        {
            Some(k) => (trace.names().len() + k) as i32,
            None => {
                self.names.push(name.to_string());
                (self.names.len() - 1) as i32
            }
        }
    }

    fn push_event(&mut self, trace: &Trace, e: &Event) {
        let replica = self.name_key(trace, &e.replica);
        self.replica.push(replica);
        self.seq.push(e.seq);
        let crdt = e
            .crdt
            .filter(|_| matches!(e.kind, Kind::Write | Kind::Read));
        self.common(e.kind, e.op, crdt);
        self.lamport.push(e.lamport);
        self.wall_ns.push(e.wall_ns);
        self.msg.append_option(e.msg.as_deref());
        self.key.append_option(e.key.as_deref());
        let vc = e.vc.as_ref().map(|vc| {
            vc.iter()
                .filter(|(_, &v)| v != 0)
                .map(|(q, &v)| (self.name_key(trace, q), v))
                .collect::<Vec<_>>()
        });
        self.vc.push(vc.map(Vec::into_iter));
        let parents = e.parents.as_ref().map(|ps| {
            ps.iter()
                .map(|p| (self.name_key(trace, &p.replica), p.seq))
                .collect::<Vec<_>>()
        });
        self.parents.push(parents.map(Vec::into_iter));
        self.json(e.value.as_ref(), true);
        self.json(e.attrs.as_ref(), false);
    }

    /// The rows so far as a record batch; the batch is empty after.
    fn finish(&mut self) -> Result<RecordBatch, WriteError> {
        let names = Arc::new(StringArray::from_iter_values(&self.names));
        let dict = |keys: Vec<i32>, values: &Arc<StringArray>| -> Result<ArrayRef, WriteError> {
            Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(
                Int32Array::from(keys),
                values.clone(),
            )?))
        };
        let opt_dict =
            |keys: Vec<Option<i32>>, values: Vec<&str>| -> Result<ArrayRef, WriteError> {
                Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(
                    Int32Array::from(keys),
                    Arc::new(StringArray::from(values)),
                )?))
            };
        let kinds = Arc::new(StringArray::from(KINDS.map(Kind::as_str).to_vec()));
        let columns: Vec<ArrayRef> = vec![
            dict(std::mem::take(&mut self.replica), &names)?,
            Arc::new(UInt64Array::from(std::mem::take(&mut self.seq))),
            dict(std::mem::take(&mut self.kind), &kinds)?,
            Arc::new(UInt64Array::from(std::mem::take(&mut self.lamport))),
            Arc::new(Int64Array::from(std::mem::take(&mut self.wall_ns))),
            Arc::new(self.msg.finish()),
            Arc::new(self.key.finish()),
            opt_dict(std::mem::take(&mut self.op), OPS.map(Op::as_str).to_vec())?,
            opt_dict(
                std::mem::take(&mut self.crdt),
                Crdt::ALL.map(Crdt::as_str).to_vec(),
            )?,
            self.vc.finish("counter", &names)?,
            self.parents.finish("seq", &names)?,
            Arc::new(self.value.finish()),
            Arc::new(self.attrs.finish()),
        ];
        Ok(RecordBatch::try_new(schema(), columns)?)
    }
}
