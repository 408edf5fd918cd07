//! `Trace::read_prefix`: the first look at a large trace is exactly the beginning of the whole
//! read, or nothing; never a partial line, never a different event.

use std::io::Write;
use std::path::{Path, PathBuf};

use weft_trace::{Input, ReadOptions, Trace};

/// `n` events over three replicas, with messages between them and a header first.
fn lines(n: usize) -> String {
    let mut s = String::from("{\"format\":\"weft-trace/1\"}\n");
    for i in 0..n {
        let r = ["a", "b", "c"][i % 3];
        let seq = i / 3 + 1;
        let line = if i % 3 == 1 {
            format!(
                r#"{{"replica":"{r}","seq":{seq},"kind":"recv","msg":"m{}"}}"#,
                i - 1
            )
        } else {
            format!(
                r#"{{"replica":"{r}","seq":{seq},"kind":"send","msg":"m{i}","key":"k{}","value":{i}}}"#,
                i % 7
            )
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn strict() -> ReadOptions {
    ReadOptions::default()
}

/// The events of `t` as they would be written: ids and every field.
fn events(t: &Trace) -> Vec<String> {
    (0..t.len())
        .map(|i| serde_json::to_string(&t.to_event(i)).unwrap())
        .collect()
}

#[test]
fn the_prefix_is_the_whole_reads_beginning_up_to_the_last_complete_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = lines(300);
    let path = write(dir.path(), "t.ndjson", &text);
    let inputs = [Input::File(path)];
    let whole = events(&Trace::read_inputs(&inputs, &strict()).unwrap());
    // Every budget: exactly the events whose lines end within it.
    for budget in (60..text.len() + 10).step_by(97) {
        let complete = text.as_bytes()[..budget.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            - 1; // the header
        let first = Trace::read_prefix(&inputs, &strict(), budget);
        if complete == 0 {
            assert!(first.is_none(), "budget {budget}: a header only");
            continue;
        }
        let got = events(&first.unwrap());
        assert_eq!(got.len(), complete, "budget {budget}");
        assert_eq!(got[..], whole[..complete], "budget {budget}");
    }
}

#[test]
fn a_compressed_file_is_looked_at_after_decompression() {
    let dir = tempfile::tempdir().unwrap();
    let text = lines(90);
    let path = dir.path().join("t.ndjson.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap();
    let first = Trace::read_prefix(&[Input::File(path)], &strict(), 1000).unwrap();
    let complete = text.as_bytes()[..1000]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        - 1;
    assert_eq!(first.len(), complete);
}

#[test]
fn no_prefix_where_it_could_not_be_exact() {
    let dir = tempfile::tempdir().unwrap();
    let text = lines(30);
    let good = write(dir.path(), "good.ndjson", &text);
    // A malformed line within the budget: the whole read says where; the look shows nothing.
    let bad_text = text.replacen("\"seq\":2", "\"seq\":-2", 1);
    let bad = write(dir.path(), "bad.ndjson", &bad_text);
    assert!(Trace::read_prefix(&[Input::File(bad.clone())], &strict(), 4096).is_none());
    let lenient = ReadOptions {
        lenient: true,
        ..ReadOptions::default()
    };
    let first = Trace::read_prefix(&[Input::File(bad)], &lenient, 4096).unwrap();
    assert_eq!(first.len(), 29);
    assert_eq!(first.malformed_count(), 1);
    // A budget ending inside the first line, standard input, a missing file, no inputs.
    assert!(Trace::read_prefix(&[Input::File(good.clone())], &strict(), 10).is_none());
    assert!(Trace::read_prefix(&[Input::Stdin], &strict(), 4096).is_none());
    let missing = dir.path().join("missing.ndjson");
    assert!(Trace::read_prefix(&[Input::File(missing)], &strict(), 4096).is_none());
    assert!(Trace::read_prefix(&[], &strict(), 4096).is_none());
    // Only a header: no event to show.
    let header = write(dir.path(), "h.ndjson", "{\"format\":\"weft-trace/1\"}\n");
    assert!(Trace::read_prefix(&[Input::File(header)], &strict(), 4096).is_none());
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_gives_no_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let trace = Trace::from_ndjson_str("t", &lines(30), &strict()).unwrap();
    let path = dir.path().join("t.parquet");
    let f = std::fs::File::create(&path).unwrap();
    weft_trace::parquet::write(&trace, &[], f).unwrap();
    assert!(Trace::read_prefix(&[Input::File(path)], &strict(), 1 << 20).is_none());
}
