//! Reading a Parquet trace into a [`TraceBuilder`], batch by batch (a batch never spans more
//! than a row group's worth of decoded pages), so memory grows with the trace, not the file.

use std::fs::File;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use arrow_array::{Array, RecordBatch};
use arrow_schema::Schema;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use serde_json::{Map, Value};

use super::columns::{Ints, Pairs, Strs};
use super::{FORMAT_KEY, HEADERS_KEY};
use crate::model::{Crdt, Kind, Op, FORMAT};
use crate::parse::{json_type, MAX_REPLICA_BYTES};
use crate::read::rows::{Fields, RowSink};
use crate::ReadError;

/// Rows decoded at a time.
pub(super) const BATCH_ROWS: usize = 16 * 1024;

/// What a column of the schema must hold.
#[derive(Clone, Copy)]
enum Want {
    Str,
    Int,
    /// A list (or map) of (replica, integer) with the integer child named so.
    Pairs(&'static str),
}

/// The columns weft reads, with whether they must be there.
const COLUMNS: [(&str, Want, bool); 13] = [
    ("replica", Want::Str, true),
    ("seq", Want::Int, true),
    ("kind", Want::Str, false),
    ("lamport", Want::Int, false),
    ("wall_ns", Want::Int, false),
    ("msg", Want::Str, false),
    ("key", Want::Str, false),
    ("op", Want::Str, false),
    ("crdt", Want::Str, false),
    ("vc", Want::Pairs("counter"), false),
    ("parents", Want::Pairs("seq"), false),
    ("value", Want::Str, false),
    ("attrs", Want::Str, false),
];

/// An error about the file as a whole, named by the caller.
pub(super) fn invalid(reason: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, reason.into())
}

/// Reads `path` into `b`: its header metadata, then every row in order.
pub(crate) fn read_into(b: &mut dyn RowSink, path: &Path) -> Result<(), ReadError> {
    read_file(b, path, |b, name, file, opened| {
        read_rows(b, name, file, opened)
    })
}

/// What every reader of a Parquet file does first: opens `path`, tells `b` the input starts,
/// reads and checks the metadata, then hands the file to `read` (named in messages), with a
/// panic on damaged data turned into the file's error ([`guarded`]).
pub(super) fn read_file<B: RowSink + ?Sized>(
    b: &mut B,
    path: &Path,
    read: impl FnOnce(&mut B, &str, File, &Opened) -> Result<(), ReadError>,
) -> Result<(), ReadError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|error| ReadError::Io {
        input: name.clone(),
        error,
    })?;
    b.start(&name);
    guarded(&name, || {
        let opened = open(&name, &file)?;
        read(b, &name, file, &opened)
    })
}

/// `read` with a panic turned into `name`'s error: the parquet crate checks what it reads,
/// but a damaged file must not take the process down even where it does not.
pub(super) fn guarded(
    name: &str,
    read: impl FnOnce() -> Result<(), ReadError>,
) -> Result<(), ReadError> {
    catch_unwind(AssertUnwindSafe(read)).unwrap_or_else(|payload| {
        Err(ReadError::Io {
            input: name.to_string(),
            error: damaged(&crate::read::panic_message(&*payload)),
        })
    })
}

/// The error of a file on whose data the parquet crate panicked.
pub(super) fn damaged(message: &str) -> io::Error {
    invalid(format!(
        "the Parquet reader failed on damaged data: {message}"
    ))
}

/// A file's checked metadata: what every reader of its row groups starts from.
pub(super) struct Opened {
    pub meta: ArrowReaderMetadata,
    /// The columns weft reads.
    pub mask: ProjectionMask,
    /// The header lines' objects kept in the file's metadata.
    pub headers: Vec<Map<String, Value>>,
}

/// Reads and checks `file`'s metadata: its format name, its headers and its schema.
pub(super) fn open(name: &str, file: &File) -> Result<Opened, ReadError> {
    let io_err = |error| ReadError::Io {
        input: name.to_string(),
        error,
    };
    let meta = ArrowReaderMetadata::load(file, ArrowReaderOptions::default())
        .map_err(|e| io_err(invalid(format!("not a readable Parquet file: {e}"))))?;
    let kv = meta.metadata().file_metadata().key_value_metadata();
    let get = |key: &str| {
        kv.and_then(|kv| kv.iter().find(|k| k.key == key))
            .and_then(|k| k.value.clone())
    };
    if let Some(format) = get(FORMAT_KEY) {
        if format != FORMAT {
            return Err(io_err(invalid(format!(
                "unsupported format {format:?} (this weft reads {FORMAT:?})"
            ))));
        }
    }
    let headers = match get(HEADERS_KEY) {
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            io_err(invalid(format!(
                "metadata `{HEADERS_KEY}`: not a JSON array of objects: {e}"
            )))
        })?,
        None => Vec::new(),
    };
    let roots = check_schema(meta.schema()).map_err(|r| io_err(invalid(r)))?;
    let mask = ProjectionMask::roots(meta.metadata().file_metadata().schema_descr(), roots);
    Ok(Opened {
        meta,
        mask,
        headers,
    })
}

/// A reader of `opened`'s batches: of the row groups `groups` (every one when `None`).
pub(super) fn batches(
    file: File,
    opened: &Opened,
    groups: Option<Vec<usize>>,
) -> Result<ParquetRecordBatchReader, String> {
    let mut builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, opened.meta.clone())
        .with_projection(opened.mask.clone())
        .with_batch_size(BATCH_ROWS);
    if let Some(groups) = groups {
        builder = builder.with_row_groups(groups);
    }
    builder
        .build()
        .map_err(|e| format!("not a readable Parquet file: {e}"))
}

/// Why a batch after row `row` could not be decoded.
pub(super) fn undecodable(row: u64, e: impl std::fmt::Display) -> String {
    format!("after row {row}: the data cannot be decoded: {e}")
}

/// Every row of `file` (whose metadata is `opened`) into `b`, after its headers, on this
/// thread.
pub(super) fn read_rows(
    b: &mut dyn RowSink,
    name: &str,
    file: File,
    opened: &Opened,
) -> Result<(), ReadError> {
    let io_err = |error| ReadError::Io {
        input: name.to_string(),
        error,
    };
    for h in opened.headers.iter().cloned() {
        b.header(name, h);
    }
    let reader = batches(file, opened, None).map_err(|r| io_err(invalid(r)))?;
    let mut row = 0u64;
    let mut fields = Fields::default();
    for batch in reader {
        let batch = batch.map_err(|e| io_err(invalid(undecodable(row, e))))?;
        read_batch(b, name, &batch, &mut row, &mut fields)?;
    }
    Ok(())
}

/// The indices of the columns weft reads, after checking that the required ones are there and
/// every one read has a type it can read; else why not, naming the column.
fn check_schema(schema: &Schema) -> Result<Vec<usize>, String> {
    let mut roots = Vec::new();
    for (col, want, required) in COLUMNS {
        let Some((i, field)) = schema.column_with_name(col) else {
            if required {
                return Err(format!(
                    "no column `{col}` (a weft trace needs `replica` and `seq`)"
                ));
            }
            continue;
        };
        let t = field.data_type();
        let (ok, what) = match want {
            Want::Str => (Strs::accepts(t), "strings".to_string()),
            Want::Int => (Ints::accepts(t), "integers (int32, int64, uint32, uint64)".to_string()),
            Want::Pairs(n) => (
                Pairs::accepts(t, n),
                format!("a list of struct<replica: string, {n}: integer>, or a map of string to integer"),
            ),
        };
        if !ok {
            return Err(format!("column `{col}`: expected {what}, found {t}"));
        }
        roots.push(i);
    }
    Ok(roots)
}

/// One batch's columns, each `None` when the file does not have it.
pub(super) struct Cols<'a> {
    replica: Strs<'a>,
    seq: Ints<'a>,
    kind: Option<Strs<'a>>,
    lamport: Option<Ints<'a>>,
    wall_ns: Option<Ints<'a>>,
    msg: Option<Strs<'a>>,
    key: Option<Strs<'a>>,
    op: Option<Strs<'a>>,
    crdt: Option<Strs<'a>>,
    vc: Option<Pairs<'a>>,
    parents: Option<Pairs<'a>>,
    value: Option<Strs<'a>>,
    attrs: Option<Strs<'a>>,
}

impl<'a> Cols<'a> {
    pub(super) fn new(batch: &'a RecordBatch) -> Result<Self, String> {
        let col = |n: &str| batch.column_by_name(n).map(|a| a.as_ref() as &dyn Array);
        // The schema was checked, so a view that cannot be made is a file whose batches do not
        // match its own schema.
        let bad = |n: &str| format!("column `{n}`: its data does not match its declared type");
        let strs = |n: &str| {
            col(n)
                .map(|a| Strs::new(a).ok_or_else(|| bad(n)))
                .transpose()
        };
        let ints = |n: &str| {
            col(n)
                .map(|a| Ints::new(a).ok_or_else(|| bad(n)))
                .transpose()
        };
        let pairs = |n: &str, x: &str| {
            col(n)
                .map(|a| Pairs::new(a, x).ok_or_else(|| bad(n)))
                .transpose()
        };
        Ok(Cols {
            replica: strs("replica")?.ok_or_else(|| bad("replica"))?,
            seq: ints("seq")?.ok_or_else(|| bad("seq"))?,
            kind: strs("kind")?,
            lamport: ints("lamport")?,
            wall_ns: ints("wall_ns")?,
            msg: strs("msg")?,
            key: strs("key")?,
            op: strs("op")?,
            crdt: strs("crdt")?,
            vc: pairs("vc", "counter")?,
            parents: pairs("parents", "seq")?,
            value: strs("value")?,
            attrs: strs("attrs")?,
        })
    }
}

fn read_batch(
    b: &mut dyn RowSink,
    name: &str,
    batch: &RecordBatch,
    row: &mut u64,
    f: &mut Fields,
) -> Result<(), ReadError> {
    let mut cols = Cols::new(batch).map_err(|r| ReadError::Io {
        input: name.to_string(),
        error: invalid(r),
    })?;
    for i in 0..batch.num_rows() {
        *row += 1;
        f.clear();
        let (names, syms) = b.interners();
        let res = fill(&mut cols, i, f, names, syms).map(|()| &mut *f);
        b.row(name, *row, res)?;
    }
    Ok(())
}

/// An unsigned field: at least `min`, as the line parser says it.
fn unsigned(field: &str, v: i128, min: u64) -> Result<u64, String> {
    u64::try_from(v)
        .ok()
        .filter(|&u| u >= min)
        .ok_or_else(|| format!("field `{field}`: must be an integer ≥ {min}, got {v}"))
}

/// Reads row `i` into `f`, checking each value on its own; the reason when one is bad.
pub(super) fn fill(
    c: &mut Cols,
    i: usize,
    f: &mut Fields,
    names: &mut crate::intern::LocalInterner,
    syms: &mut crate::intern::LocalInterner,
) -> Result<(), String> {
    let (replica, len) = c
        .replica
        .sym(i, names)
        .ok_or_else(|| "missing field `replica`".to_string())?;
    if len == 0 || len > MAX_REPLICA_BYTES {
        return Err(format!(
            "field `replica`: must be a string of 1 to {MAX_REPLICA_BYTES} bytes, got {len} bytes"
        ));
    }
    f.replica = replica;
    let seq = c
        .seq
        .get(i)
        .ok_or_else(|| "missing field `seq`".to_string())?;
    f.seq = unsigned("seq", seq, 1)?;
    if let Some(k) = c.kind.as_ref().and_then(|k| k.get(i)) {
        f.kind = Kind::parse(k).ok_or_else(|| {
            format!("field `kind`: unknown kind {k:?} (expected write, read, send, recv or local)")
        })?;
    }
    if let Some(l) = c.lamport.as_ref().and_then(|l| l.get(i)) {
        f.lamport = Some(unsigned("lamport", l, 0)?);
    }
    if let Some(w) = c.wall_ns.as_ref().and_then(|w| w.get(i)) {
        f.wall_ns = Some(
            i64::try_from(w)
                .map_err(|_| format!("field `wall_ns`: must be a 64-bit integer, got {w}"))?,
        );
    }
    f.msg = c.msg.as_mut().and_then(|m| m.sym(i, syms)).map(|(s, _)| s);
    f.key = c.key.as_mut().and_then(|k| k.sym(i, syms)).map(|(s, _)| s);
    if let Some(op) = c.op.as_ref().and_then(|o| o.get(i)) {
        f.op = Some(Op::parse(op).ok_or_else(|| {
            format!("field `op`: unknown op {op:?} (expected set, inc, add or remove)")
        })?);
    }
    if let Some(t) = c.crdt.as_ref().and_then(|t| t.get(i)) {
        f.crdt = Some(Crdt::parse(t).ok_or_else(|| format!("unknown type {t:?}")));
    }
    if let Some(vc) = c.vc.as_mut() {
        if let Some(r) = vc.range(i) {
            f.has_vc = true;
            for j in r {
                let Some((q, len)) = vc.names.sym(j, names) else {
                    return Err("field `vc`: an entry has no replica (null)".to_string());
                };
                let entry = names.resolve(q);
                if len == 0 || len > MAX_REPLICA_BYTES {
                    return Err(format!(
                        "field `vc`: replica names must be 1 to {MAX_REPLICA_BYTES} bytes, got {len} bytes"
                    ));
                }
                let v = vc.numbers.get(j).ok_or_else(|| {
                    format!("field `vc`: entry {entry:?} must be an integer ≥ 0, got null")
                })?;
                let v = u64::try_from(v).map_err(|_| {
                    format!("field `vc`: must be an integer ≥ 0, got {v} (entry {entry:?})")
                })?;
                f.vc.push((q, v));
            }
        }
    }
    if let Some(ps) = c.parents.as_mut() {
        if let Some(r) = ps.range(i) {
            f.has_parents = true;
            for (n, j) in r.enumerate() {
                let bad = |why: String| {
                    format!("field `parents`: entry {n}: {why} (expected [replica, seq])")
                };
                let q = match ps.names.sym(j, names) {
                    Some((q, len)) if (1..=MAX_REPLICA_BYTES).contains(&len) => q,
                    _ => return Err(bad("the replica must be a string of 1 to 256 bytes".into())),
                };
                let s = match ps.numbers.get(j) {
                    Some(s) if s >= 1 && s <= i128::from(u64::MAX) => s as u64,
                    other => {
                        let got = other.map_or("null".to_string(), |s| s.to_string());
                        return Err(bad(format!("the seq must be an integer ≥ 1, got {got}")));
                    }
                };
                f.parents.push((q, s));
            }
        }
    }
    if let Some(text) = c.value.as_ref().and_then(|v| v.get(i)) {
        f.value = Some(
            serde_json::from_str(text).map_err(|e| format!("field `value`: not JSON text: {e}"))?,
        );
    }
    if let Some(text) = c.attrs.as_ref().and_then(|a| a.get(i)) {
        match serde_json::from_str(text)
            .map_err(|e| format!("field `attrs`: not JSON text: {e}"))?
        {
            Value::Object(m) => f.attrs = Some(m),
            Value::Null => {}
            other => {
                return Err(format!(
                    "field `attrs`: must be an object, got {}",
                    json_type(&other)
                ))
            }
        }
    }
    Ok(())
}
