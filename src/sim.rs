//! `weft sim`: flags → simulator configuration → run → summary on stderr → exit status.

use std::io::Write;

use weft_sim::config::{
    self, parse_duration, parse_latency, parse_partition, parse_replica, Bug, Config, ConfigError,
    Intermittent, SyncKind,
};
use weft_sim::Outcome;

use crate::cli::SimArgs;
use crate::error::{CliError, Verdict};

/// What this subcommand's messages start with.
const COMMAND: &str = "weft sim";

/// Builds the configuration the flags describe: the profile's network, then explicit flags.
pub fn config(a: &SimArgs) -> Result<Config, ConfigError> {
    let profile = a.profile;
    let mut net = profile.net();
    if let Some(l) = &a.latency {
        net.latency = parse_latency(l)?;
    }
    net.loss = a.loss.unwrap_or(net.loss);
    net.dup = a.dup.unwrap_or(net.dup);
    net.reorder = a.reorder.unwrap_or(net.reorder);
    net.bandwidth = a.bandwidth.unwrap_or(net.bandwidth);
    if a.hub {
        net.hub = true;
    }
    if a.no_hub {
        net.hub = false;
    }
    if let Some(i) = &a.intermittent {
        net.intermittent = if i == "none" {
            None
        } else {
            let (on, off) = i.split_once('/').ok_or_else(|| {
                ConfigError::Parse(
                    "--intermittent",
                    i.clone(),
                    "ONLINE/OFFLINE, e.g. 5s/20s, or none",
                )
            })?;
            Some(Intermittent {
                online: parse_duration("--intermittent", on)?,
                offline: parse_duration("--intermittent", off)?,
            })
        };
    }
    for p in &a.partition {
        net.partitions.push(parse_partition(p, a.replicas)?);
    }
    let bug = match a.bug {
        None => None,
        Some(b) => Some((
            b,
            parse_replica("--bug-replica", &a.bug_replica, a.replicas)?,
        )),
    };
    let cfg = Config {
        seed: a.seed,
        replicas: a.replicas,
        workload: a.workload,
        ops: a.ops,
        keys: a.keys,
        read_ratio: a.read_ratio,
        rate: a.rate,
        duration: a
            .duration
            .as_deref()
            .map(|d| parse_duration("--duration", d))
            .transpose()?,
        sync: a.sync,
        sync_interval: parse_duration("--sync-interval", &a.sync_interval)?,
        profile,
        net,
        skew_ms: a.skew_ms,
        drift_ppm: a.drift_ppm,
        clocks: a.clocks,
        bug,
        settle_limit: parse_duration("--settle-limit", &a.settle_limit)?,
        limits: weft_sim::Limits {
            max_events: a.max_events,
            max_trace_bytes: a.max_trace_bytes,
        },
    };
    if !(0.0..=1.0).contains(&cfg.read_ratio) {
        return Err(ConfigError::Range(
            "--read-ratio",
            format!("{} is not a fraction", cfg.read_ratio),
        ));
    }
    cfg.validate()?;
    Ok(cfg)
}

/// What to do about a run that reached `--max-events` or `--max-trace-bytes`.
fn limit_message(cfg: &Config, limit: &weft_sim::RunLimit, wrote: bool) -> String {
    let cost = match cfg.sync {
        SyncKind::State => "",
        SyncKind::Delta | SyncKind::Op => {
            " (with --sync delta or op every write travels to every one of the other replicas, \
             and each message is two events)"
        }
    };
    format!(
        "{limit}{}: {} replicas, {} operations, --sync {} every {}{cost}; raise {} \
         (0: no limit), or sync less: --sync state (one random peer), a longer --sync-interval, \
         fewer replicas",
        if wrote {
            "; the trace so far was written"
        } else {
            ""
        },
        cfg.replicas,
        cfg.ops,
        cfg.sync.name(),
        secs(cfg.sync_interval),
        match limit.limit {
            weft_sim::Limit::Events(_) => "--max-events",
            weft_sim::Limit::Bytes(_) => "--max-trace-bytes",
        },
    )
}

fn secs(ns: u64) -> String {
    format!("{:.3} s", ns as f64 / 1e9)
}

fn summary(cfg: &Config, o: &Outcome, real: std::time::Duration) -> String {
    let mut s = String::new();
    let verdict = if o.converged { "converged" } else { "DIVERGED" };
    s.push_str(&format!(
        "weft sim: {verdict} — {} replicas, {} ops, {} events, simulated {} in {:.2?} real\n",
        cfg.replicas,
        o.ops,
        o.events,
        secs(o.end),
        real
    ));
    s.push_str(&format!(
        "  messages: {} sent, {} lost, {} duplicated, {} acks; {} bytes on the wire\n",
        o.messages, o.lost, o.duplicated, o.acks, o.bytes
    ));
    s.push_str(&format!(
        "  operations ended at {}; {}\n",
        secs(o.ops_end),
        match o.converge_time {
            Some(t) => format!("converged {} after healing", secs(t)),
            None => format!(
                "not converged within --settle-limit {}",
                secs(cfg.settle_limit)
            ),
        }
    ));
    if matches!(cfg.bug, Some((Bug::LwwByWallClock, _))) || o.lost_newer_writes > 0 {
        s.push_str(&format!(
            "  causally newer LWW writes that lost to older ones: {}\n",
            o.lost_newer_writes
        ));
    }
    if let Some((bug, r)) = cfg.bug {
        s.push_str(&format!(
            "  injected bug: {} on {}\n",
            bug.name(),
            config::replica_name(r, cfg.replicas)
        ));
    }
    let shown = o.digests.len().min(16);
    let digests: Vec<String> = o.digests[..shown]
        .iter()
        .enumerate()
        .map(|(i, d)| format!("{}={d:016x}", config::replica_name(i as u32, cfg.replicas)))
        .collect();
    let more = if o.digests.len() > shown {
        format!(" (and {} more)", o.digests.len() - shown)
    } else {
        String::new()
    };
    s.push_str(&format!("  state digests: {}{more}\n", digests.join(" ")));
    s
}

/// Counts and hashes what is written, for `--check-determinism`.
struct Fingerprint {
    len: u64,
    hash: u64,
}

impl Write for &mut Fingerprint {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.len += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn run(a: &SimArgs) -> Result<Verdict, CliError> {
    let cfg = config(a).map_err(|e| CliError::input(COMMAND, e))?;
    if a.compare_sync {
        return compare(&cfg);
    }
    let start = std::time::Instant::now();
    let result = match &a.out {
        None => weft_sim::simulate_quietly(&cfg),
        Some(p) if p.as_os_str() == "-" => weft_sim::simulate(&cfg, std::io::stdout()),
        Some(p) => {
            let f = std::fs::File::create(p)
                .map_err(|e| CliError::input(COMMAND, format_args!("{}: {e}", p.display())))?;
            weft_sim::simulate(&cfg, f)
        }
    };
    let real = start.elapsed();
    // A closed pipe (`weft sim -o - | head`) is not an error.
    let outcome = result.map_err(|e| match weft_sim::RunLimit::of(&e) {
        Some(limit) => CliError::input(COMMAND, limit_message(&cfg, limit, a.out.is_some())),
        None => CliError::stdout("writing the trace", &e).within(COMMAND),
    })?;
    eprint!("{}", summary(&cfg, &outcome, real));
    if a.check_determinism {
        check_determinism(&cfg)?;
    }
    Ok(Verdict::fail_if(!outcome.converged))
}

/// `--check-determinism`: two more runs must write byte-identical traces.
fn check_determinism(cfg: &Config) -> Result<(), CliError> {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let mut fp = Fingerprint {
            len: 0,
            hash: 0xcbf2_9ce4_8422_2325,
        };
        let o = weft_sim::simulate(cfg, &mut fp);
        runs.push((fp.len, fp.hash, o.map(|o| o.digests).unwrap_or_default()));
    }
    if runs[0] != runs[1] {
        return Err(CliError::failed(
            COMMAND,
            format_args!(
                "NOT deterministic: two runs wrote {} and {} bytes (hashes {:016x} and {:016x})",
                runs[0].0, runs[1].0, runs[0].1, runs[1].1
            ),
        ));
    }
    eprintln!(
        "  determinism: two more runs wrote identical traces ({} bytes, hash {:016x})",
        runs[0].0, runs[0].1
    );
    Ok(())
}

/// `--compare-sync`: the table on stdout, failing when a strategy diverged.
fn compare(cfg: &Config) -> Result<Verdict, CliError> {
    let rows = weft_sim::compare_sync(cfg).map_err(|e| CliError::input(COMMAND, e))?;
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`weft sim --compare-sync | head -1`) is not an error.
    write_comparison(&mut stdout, &rows)
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::stdout("stdout", &e).within(COMMAND))?;
    let all = rows.iter().all(|r| r.outcome.converged);
    Ok(Verdict::fail_if(!all))
}

fn write_comparison(out: &mut impl Write, rows: &[weft_sim::Comparison]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<6} {:>9} {:>8} {:>8} {:>14} {:>16} {:>10}  final state",
        "sync", "messages", "lost", "acks", "bytes", "time to converge", "events"
    )?;
    for r in rows {
        let o = &r.outcome;
        let converge = o.converge_time.map_or("never".to_string(), secs);
        let digest = if o.converged {
            format!("{:016x}", o.digests[0])
        } else {
            "diverged".to_string()
        };
        writeln!(
            out,
            "{:<6} {:>9} {:>8} {:>8} {:>14} {:>16} {:>10}  {}",
            r.sync.name(),
            o.messages,
            o.lost,
            o.acks,
            o.bytes,
            converge,
            o.events,
            digest
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    /// `--bug` offers exactly the simulator's bugs, each under the simulator's own name (the
    /// name the trace header and the reproducing command line carry).
    #[test]
    fn the_bug_flag_is_in_step_with_the_simulator() {
        let flags: Vec<(String, Bug)> = Bug::value_variants()
            .iter()
            .map(|b| {
                let name = b.to_possible_value().expect("a flag value");
                (name.get_name().to_string(), *b)
            })
            .collect();
        let sims: Vec<(String, Bug)> = Bug::ALL
            .iter()
            .map(|b| (b.name().to_string(), *b))
            .collect();
        assert_eq!(flags, sims);
    }
}
