//! Parquet traces: what is written reads back as the same trace; files other tools write (other
//! integer and string encodings, maps) are read; bad rows are located like bad lines; bad files
//! are errors naming the file and the column, and never a panic.
#![cfg(feature = "parquet")]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, MapBuilder, StringBuilder};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, UInt64Array};
use parquet::arrow::ArrowWriter;
use weft_trace::{expand_paths, Event, Input, ReadOptions, Trace};

const TRACE: &str = r#"{"format":"weft-trace/1","name":"all fields"}
{"replica":"b","seq":1,"kind":"write","key":"k","value":null,"crdt":"lww","lamport":1,"vc":{"b":1},"wall_ns":-7,"attrs":{"x":[1,2.5,"s"]}}
{"replica":"a","seq":1,"kind":"send","msg":"m","lamport":1,"vc":{"a":1,"z":0}}
{"replica":"b","seq":2,"kind":"recv","msg":"m","lamport":2,"vc":{"a":1,"b":2},"parents":[["b",1],["a",1]]}
{"replica":"a","seq":2,"kind":"write","key":"c","op":"inc","value":18446744073709551615,"crdt":"counter"}
{"replica":"a","seq":3,"kind":"read","key":"k","value":[null],"crdt":"mv","parents":[]}
{"replica":"a","seq":4,"vc":{},"attrs":{}}
{"replica":"a","seq":1,"kind":"send","msg":"m","lamport":1,"vc":{"z":0,"a":1}}
{"replica":"b","seq":2,"kind":"recv","msg":"m","lamport":9}
"#;

fn read(paths: &[PathBuf], lenient: bool) -> Result<Trace, weft_trace::ReadError> {
    let inputs = expand_paths(paths)?.inputs;
    Trace::read_inputs(
        &inputs,
        &ReadOptions {
            lenient,
            ..ReadOptions::default()
        },
    )
}

/// Every event of a trace, sorted by id.
fn events(t: &Trace) -> Vec<Event> {
    let mut v: Vec<Event> = (0..t.len()).map(|i| t.to_event(i)).collect();
    v.sort_by_key(Event::id);
    v
}

fn export(dir: &Path, name: &str, text: &str) -> (Trace, PathBuf) {
    let src = dir.join(format!("{name}.jsonl"));
    std::fs::write(&src, text).unwrap();
    let trace = read(std::slice::from_ref(&src), false).unwrap();
    let copies =
        weft_trace::parquet::dropped_copies(&trace, &[Input::File(src)], &ReadOptions::default())
            .unwrap();
    let out = dir.join(format!("{name}.parquet"));
    let f = std::fs::File::create(&out).unwrap();
    weft_trace::parquet::write(&trace, &copies, f).unwrap();
    (trace, out)
}

#[test]
fn a_written_trace_reads_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, file) = export(dir.path(), "t", TRACE);
    assert_eq!(
        (trace.duplicates(), trace.conflicting_duplicates().len()),
        (1, 1)
    );
    let back = read(std::slice::from_ref(&file), false).unwrap();
    assert_eq!(events(&back), events(&trace));
    // The copies were archived: the same one counted, the same one flagged.
    assert_eq!(back.duplicates(), 1);
    let flagged: Vec<String> = (back.conflicting_duplicates().iter())
        .map(|&i| back.id(i as usize).to_string())
        .collect();
    assert_eq!(flagged, ["b@2"]);
    // `value: null` stays a value; no `value` stays none; the header is kept.
    let b1 = back.find_name("b", 1).unwrap();
    assert_eq!(
        back.value(&back.events()[b1]),
        Some(&serde_json::Value::Null)
    );
    let a4 = back.find_name("a", 4).unwrap();
    assert_eq!(back.value(&back.events()[a4]), None);
    assert_eq!(back.headers()[0].fields["name"], "all fields");
    // The same trace from its lines in another order gives the same bytes (a trace without
    // copies: with them, the order decides which copy is kept).
    let plain: String = TRACE.lines().take(7).map(|l| format!("{l}\n")).collect();
    let mut shuffled: Vec<&str> = plain.lines().collect();
    shuffled[1..].reverse();
    let (_, p1) = export(dir.path(), "p1", &plain);
    let (_, p2) = export(dir.path(), "p2", &(shuffled.join("\n") + "\n"));
    assert_eq!(std::fs::read(p1).unwrap(), std::fs::read(p2).unwrap());
}

/// Writes one batch of `columns` as a Parquet file.
fn write_columns(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn strs(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

#[test]
fn files_other_tools_write_are_read() {
    let dir = tempfile::tempdir().unwrap();
    // As DuckDB writes: signed integers, plain strings, the clock as a map; no `kind` column
    // is absent kinds; unknown columns are ignored.
    let mut vc = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
    vc.keys().append_value("a");
    vc.values().append_value(1);
    vc.append(true).unwrap();
    vc.keys().append_value("b");
    vc.values().append_value(1);
    vc.keys().append_value("a");
    vc.values().append_value(1);
    vc.append(true).unwrap();
    let path = dir.path().join("duck.bin");
    write_columns(
        &path,
        vec![
            ("replica", strs(&[Some("a"), Some("b")])),
            ("seq", Arc::new(Int64Array::from(vec![1, 1]))),
            ("vc", Arc::new(vc.finish())),
            ("host", strs(&[Some("h1"), None])),
        ],
    );
    // Found by its magic bytes, not its name.
    let t = read(&[path], false).unwrap();
    let lines: Vec<String> = events(&t)
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            r#"{"replica":"a","seq":1,"vc":{"a":1}}"#,
            r#"{"replica":"b","seq":1,"vc":{"a":1,"b":1}}"#
        ]
    );
}

#[test]
fn bad_rows_are_located_and_skipped_when_lenient() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.parquet");
    let a = Some("a");
    write_columns(
        &path,
        vec![
            ("replica", strs(&[a, a, a, None, a, a, a, a, a])),
            (
                "seq",
                Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5, 6, 7, -8, 9])),
            ),
            (
                "kind",
                strs(&[
                    None,
                    None,
                    Some("jump"),
                    None,
                    Some("send"),
                    None,
                    None,
                    None,
                    None,
                ]),
            ),
            (
                "lamport",
                Arc::new(Int64Array::from(vec![
                    Some(1),
                    None,
                    None,
                    None,
                    None,
                    Some(-2),
                    None,
                    None,
                    None,
                ])),
            ),
            (
                "value",
                strs(&[
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    Some("{"),
                    None,
                    Some("null"),
                ]),
            ),
            (
                "attrs",
                strs(&[
                    Some("[1]"),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    Some("null"),
                ]),
            ),
        ],
    );
    let shown = path.display().to_string();
    let err = read(std::slice::from_ref(&path), false).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{shown}:row 1: field `attrs`: must be an object, got an array")
    );
    let t = read(&[path], true).unwrap();
    // Rows 2 and 9 are events; row 9's `value` is JSON null, its `attrs` text `null` none.
    assert_eq!(t.len(), 2);
    let e = t.to_event(1);
    assert_eq!(
        (e.seq, e.value, e.attrs),
        (9, Some(serde_json::Value::Null), None)
    );
    let got: Vec<String> = t.malformed().iter().map(|m| m.to_string()).collect();
    let want: Vec<String> = [
        "row 1: field `attrs`: must be an object, got an array",
        "row 3: field `kind`: unknown kind \"jump\" (expected write, read, send, recv or local)",
        "row 4: missing field `replica`",
        "row 5: a `send` needs a `msg` field",
        "row 6: field `lamport`: must be an integer ≥ 0, got -2",
        "row 7: field `value`: not JSON text: EOF while parsing an object at line 1 column 1",
        "row 8: field `seq`: must be an integer ≥ 1, got -8",
    ]
    .iter()
    .map(|m| format!("{shown}:{m}"))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn bad_files_name_the_file_and_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let (_, good) = export(dir.path(), "good", TRACE);
    let bytes = std::fs::read(&good).unwrap();
    let check = |name: &str, data: &[u8], want: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        let err = read(std::slice::from_ref(&p), false)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{}: ", p.display())) && err.contains(want),
            "{name}: {err}"
        );
    };
    check(
        "text.parquet",
        b"{\"replica\":\"a\",\"seq\":1}\n",
        "not a readable Parquet file",
    );
    check("empty.parquet", b"", "not a readable Parquet file");
    // Every cut of a valid file fails cleanly (none panics, none reads as a trace).
    for cut in (0..bytes.len()).step_by(97) {
        let p = dir.path().join("cut.parquet");
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let err = read(std::slice::from_ref(&p), false)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&p.display().to_string()),
            "cut at {cut}: {err}"
        );
    }
    let no_seq = dir.path().join("no-seq.parquet");
    write_columns(&no_seq, vec![("replica", strs(&[Some("a")]))]);
    let err = read(&[no_seq], false).unwrap_err().to_string();
    assert!(
        err.ends_with("no column `seq` (a weft trace needs `replica` and `seq`)"),
        "{err}"
    );
    let text_seq = dir.path().join("text-seq.parquet");
    write_columns(
        &text_seq,
        vec![("replica", strs(&[Some("a")])), ("seq", strs(&[Some("1")]))],
    );
    let err = read(&[text_seq], false).unwrap_err().to_string();
    assert!(
        err.ends_with("column `seq`: expected integers (int32, int64, uint32, uint64), found Utf8"),
        "{err}"
    );
    let list_vc = dir.path().join("vc.parquet");
    write_columns(
        &list_vc,
        vec![
            ("replica", strs(&[Some("a")])),
            ("seq", Arc::new(UInt64Array::from(vec![1]))),
            ("vc", strs(&[Some("{\"a\":1}")])),
        ],
    );
    let err = read(&[list_vc], false).unwrap_err().to_string();
    assert!(
        err.contains("column `vc`: expected a list of struct<replica: string, counter: integer>"),
        "{err}"
    );
}

#[test]
fn a_directory_contributes_its_parquet_files() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, _) = export(dir.path(), "t", TRACE);
    std::fs::remove_file(dir.path().join("t.jsonl")).unwrap();
    std::fs::write(
        dir.path().join("more.jsonl"),
        "{\"replica\":\"c\",\"seq\":1}\n",
    )
    .unwrap();
    let both = read(&[dir.path().to_path_buf()], false).unwrap();
    assert_eq!(both.len(), trace.len() + 1);
    assert_eq!(both.duplicates(), 1);
}

/// Reads `path` on `threads` threads: the trace's events in arrival order (as lines), its
/// malformed rows, its duplicate counts; or the error.
fn read_on(path: &Path, lenient: bool, threads: usize) -> Result<Vec<String>, String> {
    let inputs = expand_paths(&[path.to_path_buf()]).unwrap().inputs;
    let mut b = weft_trace::TraceBuilder::new(ReadOptions {
        lenient,
        ..ReadOptions::default()
    })
    .threads(threads);
    b.read_inputs(&inputs).map_err(|e| e.to_string())?;
    let t = b.finish().map_err(|e| e.to_string())?;
    let mut out: Vec<String> = (0..t.len())
        .map(|i| serde_json::to_string(&t.to_event(i)).unwrap())
        .collect();
    out.extend(t.malformed().iter().map(|m| m.to_string()));
    out.push(format!(
        "{} malformed, {} duplicates, conflicting {:?}",
        t.malformed_count(),
        t.duplicates(),
        t.conflicting_duplicates()
    ));
    Ok(out)
}

#[test]
fn row_groups_read_on_several_threads_read_as_on_one() {
    // 600 rows in groups of 7 (86 groups): replicas a-e, seqs repeating so that copies of an
    // id (equal, and conflicting) fall in other groups than their first; every 37th row bad
    // in one of three ways (no replica, seq < 1, value not JSON).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("groups.parquet");
    let n = 600usize;
    let mut x = 7u64;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    };
    let (mut replica, mut seq, mut value) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let r = ["a", "b", "c", "d", "e"][(next() % 5) as usize];
        replica.push((i % 37 != 5).then_some(r));
        seq.push(if i % 37 == 11 {
            0
        } else {
            (next() % 150) as i64 + 1
        });
        value.push(match (i % 37, next() % 3) {
            (23, _) => "{".to_string(),
            (_, 0) => "1".to_string(),
            (_, v) => format!("[{v}]"),
        });
    }
    let batch = RecordBatch::try_from_iter(vec![
        ("replica", strs(&replica)),
        ("seq", Arc::new(Int64Array::from(seq)) as ArrayRef),
        (
            "value",
            Arc::new(StringArray::from_iter_values(value)) as ArrayRef,
        ),
    ])
    .unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(7))
        .build();
    let file = std::fs::File::create(&path).unwrap();
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();

    let one = read_on(&path, true, 1).unwrap();
    assert!(one.len() > 300, "{}", one.len());
    assert!(one.last().unwrap().starts_with("49 malformed"), "{one:?}");
    for threads in [2, 3, 8] {
        assert_eq!(read_on(&path, true, threads), Ok(one.clone()), "{threads}");
        // Strict: the first bad row in row order is the error, however the groups are shared.
        assert_eq!(
            read_on(&path, false, threads),
            read_on(&path, false, 1),
            "{threads}"
        );
    }
    let err = read_on(&path, false, 3).unwrap_err();
    assert!(err.ends_with(":row 6: missing field `replica`"), "{err}");
}
