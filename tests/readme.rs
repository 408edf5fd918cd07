//! Every command the README shows is exercised: the ones that can run unattended run here,
//! exactly as written (in a scratch directory that has the fixtures), and must exit as their
//! comment says; the others (servers, the interactive TUI, benchmarks) are mirrored by the named
//! tests. Every `weft` command also parses (see `every_weft_command_in_the_readme_parses`).

mod common;

use std::path::Path;
use std::process::Command;

use common::readme::{commands, Shown};

/// Commands that cannot run unattended here, and the tests that do what they do.
const MIRRORED: &[(&str, &str)] = &[
    (
        "cargo run --release -- demo",
        "tests/demo.rs (the demo without a terminal) and demo/tests/live.rs (the live TUI)",
    ),
    ("cargo test --workspace", "this very run"),
    (
        "cargo build --release && cargo run --release -p weft-bench",
        "bench/ unit tests; benchmarks are run by hand",
    ),
    (
        "weft collect",
        "collector/tests/http.rs, collector/tests/otel.rs (on OS-chosen ports)",
    ),
    ("curl ", "collector/tests/http.rs (the same endpoints)"),
    (
        "weft tui",
        "tui/tests/render.rs, tui/tests/state.rs, tui/tests/live.rs; tests/cli.rs tui_*",
    ),
    (
        "weft check weft-data",
        "collector/tests/otel.rs (reads the data directory as weft check does)",
    ),
    (
        "weft demo --replicas 8",
        "demo/tests/live.rs (other sync strategies and profiles)",
    ),
];

fn mirrored(s: &Shown) -> Option<&'static str> {
    if s.command == "weft demo" {
        return Some("demo/tests/live.rs");
    }
    MIRRORED
        .iter()
        .find(|(prefix, _)| s.command.starts_with(prefix))
        .map(|(_, by)| *by)
}

#[test]
fn readme_commands_run_as_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("README.md")).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_weft")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for s in commands(&text) {
        if mirrored(&s).is_some() {
            continue;
        }
        assert!(
            s.command.starts_with("weft "),
            "README command `{}` is neither run here nor mirrored by a test",
            s.command
        );
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(root.join("fixtures"), dir.path().join("fixtures")).unwrap();
        let out = Command::new("bash")
            .args(["-c", &s.command])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(s.expected_exit()),
            "`{}`:\nstdout: {}\nstderr: {}",
            s.command,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 8, "ran only {ran} README commands");
}
