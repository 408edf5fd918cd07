//! weft-trace/1 as Apache Parquet: the columnar form archives and query engines (DuckDB,
//! Polars, Spark) read, with one row per event.
//!
//! # Schema
//!
//! | column    | Parquet type (Arrow)                                      | null means            |
//! |-----------|-----------------------------------------------------------|-----------------------|
//! | `replica` | string (dictionary), required                             | —                     |
//! | `seq`     | uint64, required                                          | —                     |
//! | `kind`    | string (dictionary), required: write, read, send, recv, local | —                 |
//! | `lamport` | uint64                                                    | no `lamport`          |
//! | `wall_ns` | int64                                                     | no `wall_ns`          |
//! | `msg`     | string                                                    | no `msg`              |
//! | `key`     | string                                                    | no `key`              |
//! | `op`      | string (dictionary): set, inc, add, remove                | no `op`               |
//! | `crdt`    | string (dictionary): lww, mv, counter, set                | no `crdt`             |
//! | `vc`      | list of struct<`replica`: string, `counter`: uint64>      | no `vc` (`[]` is `{}`) |
//! | `parents` | list of struct<`replica`: string, `seq`: uint64>          | no `parents`          |
//! | `value`   | string: JSON text                                         | no `value` (`"null"` is `"value": null`) |
//! | `attrs`   | string: JSON text of an object                            | no `attrs`            |
//!
//! `vc` entries are sorted by replica name, without zero counters (as the reader keeps a
//! clock); `parents` keep their order. The file's key-value metadata holds `weft.format`
//! (`weft-trace/1`) and `weft.headers`, the header lines' objects as a JSON array.
//!
//! Rows are sorted by (replica bytewise, seq): the same trace, however its lines were ordered,
//! gives the same rows. Copies of an event the duplicate rule dropped follow its kept copy, in
//! the order they were read, so that reading the file back keeps, counts and flags the same
//! copies.
//!
//! # Reading
//!
//! A file is recognised by its name (`.parquet`) or by Parquet's magic bytes (`PAR1`), and read
//! row group by row group (`read::parquet`): no JSON is parsed but the `value` and `attrs` text.
//! `replica` and `seq` are required columns; every other column may be missing (the field is
//! then absent from every row) and other columns are ignored, as unknown fields of a line are.
//! Integer columns may be any of int32, int64, uint32 and uint64, string columns plain,
//! large, view or dictionary-encoded strings, and `vc` / `parents` a list, large list or map —
//! what other tools write. Each row is checked with the rules and messages of a line, located
//! as `FILE:row N` (rows counted from 1 across row groups), and `--lenient` skips bad rows as
//! it skips bad lines. A file that is not Parquet, is cut short, or whose columns have the
//! wrong types is an error naming the file and the column.
//!
//! # What a round trip keeps
//!
//! Everything an NDJSON trace's analysis sees. What Parquet cannot hold is representation:
//! unknown fields, an explicit `null` for an optional field (other than `value`), an explicit
//! `"kind": "local"`, the key order and spacing of a line; two copies of an event that differ
//! only there are identical in Parquet (the NDJSON reader calls them different).

#[cfg(feature = "parquet")]
mod copies;
#[cfg(feature = "parquet")]
mod write;

pub use crate::read::parquet::{is_parquet_name, FORMAT_KEY, HEADERS_KEY, MAGIC};
#[cfg(feature = "parquet")]
pub use copies::dropped_copies;
#[cfg(feature = "parquet")]
pub use write::{schema, write, WriteError};
