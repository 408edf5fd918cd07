//! Machine facts, peak-RSS bookkeeping and timing a child process (Linux).

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// What the benchmark ran on, for the top of the report.
pub struct Machine {
    pub nproc: usize,
    pub cpu_model: String,
    pub mem_total: Option<u64>,
    pub loadavg: String,
}

pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == "model name").then(|| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let mem_total = proc_kib("/proc/meminfo", "MemTotal:");
    let loadavg = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned());
    Machine {
        nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model,
        mem_total,
        loadavg,
    }
}

/// A `Name:   123 kB` field of a /proc file, in bytes.
fn proc_kib(path: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// This process's peak RSS (`VmHWM`) in bytes.
pub fn peak_rss() -> Option<u64> {
    proc_kib("/proc/self/status", "VmHWM:")
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

/// CPU time used so far by this process: (user, system).
pub fn self_cpu() -> (Duration, Duration) {
    // SAFETY: an all-zero rusage is a valid value for getrusage to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: usage is valid for writes.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return (Duration::ZERO, Duration::ZERO);
    }
    (timeval(usage.ru_utime), timeval(usage.ru_stime))
}

/// How a child ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit status {c}"),
            Exit::Signal(s) => write!(f, "killed by signal {s}"),
        }
    }
}

/// Wall time, CPU time, peak RSS and exit of one child run.
#[derive(Clone, Debug)]
pub struct ChildRun {
    pub time: Duration,
    pub user: Duration,
    pub sys: Duration,
    pub peak_rss: u64,
    pub exit: Exit,
}

/// Runs `cmd` (a `weft-bench …-measure` child, named `label` in errors) with its output in
/// files under `dir`, and reads the JSON it printed: how the child ran and what it measured.
/// A child that does not exit 0 is an error with its stderr.
pub fn measure_in_child<T: serde::de::DeserializeOwned>(
    cmd: &mut Command,
    dir: &Path,
    label: &str,
) -> Result<(ChildRun, T)> {
    let out_path = dir.join("child-stdout.json");
    let err_path = dir.join("child-stderr.txt");
    let out =
        File::create(&out_path).with_context(|| format!("creating {}", out_path.display()))?;
    let child = run_child(cmd, out.into(), &err_path)?;
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    if child.exit != Exit::Code(0) {
        anyhow::bail!("{label}: {}: {}", child.exit, stderr.trim());
    }
    let m: T = serde_json::from_str(stdout.trim())
        .with_context(|| format!("{label} output {stdout:?}"))?;
    Ok((child, m))
}

/// Runs `cmd` with stdin closed, stdout to `stdout` and stderr written to `stderr_path`, and
/// reaps it with `wait4` to get its own resource usage.
pub fn run_child(cmd: &mut Command, stdout: Stdio, stderr_path: &Path) -> Result<ChildRun> {
    let stderr =
        File::create(stderr_path).with_context(|| format!("creating {}", stderr_path.display()))?;
    cmd.stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::from(stderr));
    let start = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our own unreaped child; status and usage are valid for writes.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err).context("wait4");
        }
    }
    let time = start.elapsed();
    // The child is reaped; `child` must not be waited on again (dropping it does not wait).
    drop(child);
    let exit = if libc::WIFEXITED(status) {
        Exit::Code(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Code(-1)
    };
    Ok(ChildRun {
        time,
        user: timeval(usage.ru_utime),
        sys: timeval(usage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        peak_rss: usage.ru_maxrss.max(0) as u64 * 1024,
        exit,
    })
}
