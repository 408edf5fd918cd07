//! `weft export --to parquet` and Parquet inputs: checking the Parquet file of every fixture
//! gives the report checking the fixture gives, byte for byte and with the same exit status;
//! a bad Parquet file is exit 2 naming it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn weft(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .output()
        .expect("run weft")
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    out.sort();
    out
}

#[test]
fn every_fixture_checks_the_same_from_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let files = fixtures();
    assert!(files.len() >= 20, "found {} fixtures", files.len());
    for f in &files {
        let pq = dir
            .path()
            .join(f.file_stem().unwrap())
            .with_extension("parquet");
        let out = weft(&[
            "export".as_ref(),
            "--to".as_ref(),
            "parquet".as_ref(),
            f.as_os_str(),
            "-o".as_ref(),
            pq.as_os_str(),
        ]);
        assert!(
            out.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let check = |p: &Path| {
            weft(&[
                "check".as_ref(),
                "--format".as_ref(),
                "json".as_ref(),
                p.as_os_str(),
            ])
        };
        let (a, b) = (check(f), check(&pq));
        assert_eq!(a.status.code(), b.status.code(), "{}", f.display());
        assert!(
            matches!(a.status.code(), Some(0 | 1)),
            "{}: {a:?}",
            f.display()
        );
        assert_eq!(
            String::from_utf8_lossy(&a.stdout),
            String::from_utf8_lossy(&b.stdout),
            "{}",
            f.display()
        );
    }
}

#[test]
fn a_bad_parquet_file_is_exit_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.parquet");
    std::fs::write(&bad, "PAR1 and then nothing of the kind").unwrap();
    let out = weft(&["check".as_ref(), bad.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}: not a readable Parquet file", bad.display())),
        "{err}"
    );
}

#[test]
fn parquet_export_refuses_the_diagram_options() {
    let f = fixtures().into_iter().next().unwrap();
    let out = weft(&[
        "export".as_ref(),
        "--to".as_ref(),
        "parquet".as_ref(),
        f.as_os_str(),
        "--around".as_ref(),
        "r1@1".as_ref(),
        "-o".as_ref(),
        "x.parquet".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--to parquet writes the whole trace"));
}
