//! `weft collect` as a child process: started on a free port, waited for until it answers
//! `/healthz`, its CPU time read from `/proc`, stopped with SIGTERM (also on drop).

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::http::get;
use crate::bench::secs;
use crate::sys::Exit;

/// `weft collect` running as a child; SIGTERM and wait on drop.
pub(super) struct Collector {
    pub(super) child: Option<Child>,
    pub(super) addr: SocketAddr,
    pub(super) stderr_path: PathBuf,
}

impl Collector {
    pub(super) fn start(weft: &Path, dir: &Path, no_analysis: bool) -> Result<Collector> {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
            l.local_addr()?.port()
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let data = dir.join("data");
        let stderr_path = dir.join("collector-stderr.txt");
        let stderr = File::create(&stderr_path)
            .with_context(|| format!("creating {}", stderr_path.display()))?;
        let mut cmd = Command::new(weft);
        cmd.arg("collect")
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--no-grpc")
            .args(no_analysis.then_some("--no-analysis"))
            .arg("--data")
            .arg(&data)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(stderr));
        println!(
            "$ {} collect --listen {addr} --no-grpc{} --data {}",
            weft.display(),
            if no_analysis { " --no-analysis" } else { "" },
            data.display()
        );
        let start = Instant::now();
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", weft.display()))?;
        let mut c = Collector {
            child: Some(child),
            addr,
            stderr_path,
        };
        loop {
            if let Some(st) = c.child.as_mut().expect("running").try_wait()? {
                c.child = None;
                bail!(
                    "weft collect {} before it answered /healthz: {}",
                    exit_of(st),
                    c.stderr_tail()
                );
            }
            if let Ok((200, _)) = get(addr, "/healthz") {
                break;
            }
            if start.elapsed() > Duration::from_secs(20) {
                bail!(
                    "weft collect did not answer GET /healthz within 20 s: {}",
                    c.stderr_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        println!(
            "  up (GET /healthz 200) after {}, pid {}",
            secs(start.elapsed()),
            c.pid().unwrap_or(0)
        );
        Ok(c)
    }

    pub(super) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// User + system CPU time used so far (from `/proc/PID/stat`).
    pub(super) fn cpu(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()?)).ok()?;
        // Fields after the command name, which is in parentheses: state is field 3.
        let rest = &stat[stat.rfind(')')? + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let utime: u64 = f.get(11)?.parse().ok()?;
        let stime: u64 = f.get(12)?.parse().ok()?;
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (hz > 0).then(|| Duration::from_secs_f64((utime + stime) as f64 / hz as f64))
    }

    pub(super) fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(6)..];
        if tail.is_empty() {
            "(no stderr)".to_owned()
        } else {
            tail.join(" | ")
        }
    }

    /// SIGTERM, then wait (SIGKILL after 60 s): how it ended and how long stopping took.
    pub(super) fn stop(&mut self) -> Result<(Exit, Duration)> {
        let Some(mut child) = self.child.take() else {
            bail!("the collector is not running");
        };
        let start = Instant::now();
        // SAFETY: kill has no memory preconditions; the pid is our own unreaped child.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        loop {
            if let Some(st) = child.try_wait()? {
                return Ok((exit_of(st), start.elapsed()));
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let st = child.wait()?;
                return Ok((exit_of(st), start.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.stop();
        }
    }
}

pub(super) fn exit_of(st: std::process::ExitStatus) -> Exit {
    match (st.code(), st.signal()) {
        (Some(c), _) => Exit::Code(c),
        (None, Some(s)) => Exit::Signal(s),
        (None, None) => Exit::Code(-1),
    }
}
