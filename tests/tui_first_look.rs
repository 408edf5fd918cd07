//! `weft tui` on a large trace, in a real pseudo-terminal: the first events are on the screen
//! while the whole is read, the whole replaces them, and a bad line further down ends the
//! program with the same message and exit status as without a first look.
#![cfg(unix)]

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::cli::weft_cmd;

const EVENTS: usize = 50_000;

/// `EVENTS` local events of eight replicas (about 140 bytes a line: 7 MB, more than the first
/// look's 4 MiB), and `tail` after them.
fn write_trace(path: &Path, tail: &str) {
    let mut text = String::with_capacity(EVENTS * 140);
    for i in 0..EVENTS {
        text.push_str(&format!(
            "{{\"replica\":\"r{}\",\"seq\":{},\"kind\":\"local\",\"attrs\":{{\"pad\":\"{}\"}}}}\n",
            i % 8,
            i / 8 + 1,
            "x".repeat(80)
        ));
    }
    text.push_str(tail);
    std::fs::write(path, text).unwrap();
}

/// A pseudo-terminal of 120×40: (the program's side, ours).
fn pty() -> (OwnedFd, File) {
    let (mut ours, mut theirs) = (0, 0);
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors it opened into the two integers given.
    let rc = unsafe {
        libc::openpty(
            &mut ours,
            &mut theirs,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(theirs), File::from_raw_fd(ours)) }
}

/// `weft tui FILE` with the terminal as stdin and stdout (stderr piped), and what it draws.
struct Session {
    child: Child,
    terminal: File,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Session {
    fn start(file: &Path) -> Session {
        let (theirs, terminal) = pty();
        let child = weft_cmd()
            .env("WEFT_FIRST_LOOK_MIN_BYTES", "0")
            .args(["tui", "--no-color"])
            .arg(file)
            .stdin(Stdio::from(theirs.try_clone().unwrap()))
            .stdout(Stdio::from(theirs))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let screen = Arc::new(Mutex::new(Vec::new()));
        let (mut reader, sink) = (terminal.try_clone().unwrap(), screen.clone());
        // Drained all along: a full terminal would stop the program drawing.
        std::thread::spawn(move || {
            let mut buf = [0u8; 1 << 16];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Session {
            child,
            terminal,
            screen,
        }
    }

    /// Waits until the screen has shown `text`.
    fn shows(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if String::from_utf8_lossy(&self.screen.lock().unwrap()).contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the screen never showed {text:?}");
    }

    /// Waits for the program to end: its exit status and stderr.
    fn end(mut self) -> (i32, String) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "weft tui did not end");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status.code().unwrap_or(-1), err)
    }
}

#[test]
fn the_first_events_show_while_the_whole_loads_then_the_whole_replaces_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.ndjson");
    write_trace(&file, "");
    let mut s = Session::start(&file);
    s.shows("LOADING");
    s.shows("50,000 events");
    s.terminal.write_all(b"q").unwrap();
    let (code, err) = s.end();
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn a_bad_line_past_the_first_look_ends_it_as_it_would_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.ndjson");
    write_trace(&file, "{\"replica\":\"r1\",\"seq\":0}\n");
    let s = Session::start(&file);
    s.shows("LOADING");
    let (code, err) = s.end();
    // Without a first look the read fails before the terminal is needed.
    let without = weft_cmd().arg("tui").arg(&file).output().unwrap();
    let expected = String::from_utf8(without.stderr).unwrap();
    assert_eq!(without.status.code(), Some(2));
    assert!(
        expected.contains(&format!("bad.ndjson:{}:", EVENTS + 1)),
        "{expected}"
    );
    assert_eq!((code, err), (2, expected));
}
