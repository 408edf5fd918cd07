//! `weft sim`: flags → simulator configuration → run → summary on stderr → exit status.

use std::io::Write;
use std::process::ExitCode;

use weft_sim::config::{
    self, parse_duration, parse_latency, parse_partition, parse_replica, Bug, Clocks, Config,
    ConfigError, Intermittent, Profile, SyncKind, Workload,
};
use weft_sim::Outcome;

use crate::cli::{SimArgs, SimBug, SimClocks, SimProfile, SimSync, SimWorkload};

/// The simulator's network profile for a flag value.
pub fn profile(p: SimProfile) -> Profile {
    match p {
        SimProfile::Lan => Profile::Lan,
        SimProfile::Tokyo => Profile::Tokyo,
        SimProfile::Himalaya => Profile::Himalaya,
        SimProfile::Mixed => Profile::Mixed,
    }
}

/// The simulator's bug for a flag value.
pub fn bug(b: SimBug) -> Bug {
    match b {
        SimBug::VcNoMerge => Bug::VcNoMerge,
        SimBug::LamportNoMax => Bug::LamportNoMax,
        SimBug::LwwByWallClock => Bug::LwwByWallClock,
        SimBug::NonIdempotentMerge => Bug::NonIdempotentMerge,
        SimBug::DropDelta => Bug::DropDelta,
        SimBug::StaleRead => Bug::StaleRead,
        SimBug::UnrecordedMerge => Bug::UnrecordedMerge,
    }
}

/// The simulator's workload for a flag value.
pub fn workload(w: SimWorkload) -> Workload {
    match w {
        SimWorkload::Counter => Workload::Counter,
        SimWorkload::Register => Workload::Register,
        SimWorkload::Lww => Workload::Lww,
        SimWorkload::Set => Workload::Set,
        SimWorkload::Mixed => Workload::Mixed,
        SimWorkload::Inventory => Workload::Inventory,
    }
}

/// The simulator's sync strategy for a flag value.
pub fn sync(s: SimSync) -> SyncKind {
    match s {
        SimSync::Op => SyncKind::Op,
        SimSync::State => SyncKind::State,
        SimSync::Delta => SyncKind::Delta,
    }
}

/// Builds the configuration the flags describe: the profile's network, then explicit flags.
pub fn config(a: &SimArgs) -> Result<Config, ConfigError> {
    let profile = profile(a.profile);
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
            bug(b),
            parse_replica("--bug-replica", &a.bug_replica, a.replicas)?,
        )),
    };
    let cfg = Config {
        seed: a.seed,
        replicas: a.replicas,
        workload: workload(a.workload),
        ops: a.ops,
        keys: a.keys,
        read_ratio: a.read_ratio,
        rate: a.rate,
        duration: a
            .duration
            .as_deref()
            .map(|d| parse_duration("--duration", d))
            .transpose()?,
        sync: sync(a.sync),
        sync_interval: parse_duration("--sync-interval", &a.sync_interval)?,
        profile,
        net,
        skew_ms: a.skew_ms,
        drift_ppm: a.drift_ppm,
        clocks: match a.clocks {
            SimClocks::Full => Clocks::Full,
            SimClocks::Lamport => Clocks::Lamport,
            SimClocks::None => Clocks::None,
        },
        bug,
        settle_limit: parse_duration("--settle-limit", &a.settle_limit)?,
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

pub fn run(a: &SimArgs) -> ExitCode {
    let cfg = match config(a) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("weft sim: {e}");
            return ExitCode::from(2);
        }
    };
    if a.compare_sync {
        return compare(&cfg);
    }
    let start = std::time::Instant::now();
    let result = match &a.out {
        None => weft_sim::simulate_quietly(&cfg),
        Some(p) if p.as_os_str() == "-" => weft_sim::simulate(&cfg, std::io::stdout()),
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => weft_sim::simulate(&cfg, f),
            Err(e) => {
                eprintln!("weft sim: {}: {e}", p.display());
                return ExitCode::from(2);
            }
        },
    };
    let real = start.elapsed();
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return ExitCode::from(2);
            }
            eprintln!("weft sim: writing the trace: {e}");
            return ExitCode::from(2);
        }
    };
    eprint!("{}", summary(&cfg, &outcome, real));
    if a.check_determinism {
        let mut runs = Vec::new();
        for _ in 0..2 {
            let mut fp = Fingerprint {
                len: 0,
                hash: 0xcbf2_9ce4_8422_2325,
            };
            let o = weft_sim::simulate(&cfg, &mut fp);
            runs.push((fp.len, fp.hash, o.map(|o| o.digests).unwrap_or_default()));
        }
        if runs[0] != runs[1] {
            eprintln!(
                "weft sim: NOT deterministic: two runs wrote {} and {} bytes (hashes {:016x} and {:016x})",
                runs[0].0, runs[1].0, runs[0].1, runs[1].1
            );
            return ExitCode::from(1);
        }
        eprintln!(
            "  determinism: two more runs wrote identical traces ({} bytes, hash {:016x})",
            runs[0].0, runs[0].1
        );
    }
    ExitCode::from(u8::from(!outcome.converged))
}

fn compare(cfg: &Config) -> ExitCode {
    let rows = match weft_sim::compare_sync(cfg) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("weft sim: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "{:<6} {:>9} {:>8} {:>8} {:>14} {:>16} {:>10}  final state",
        "sync", "messages", "lost", "acks", "bytes", "time to converge", "events"
    );
    for r in &rows {
        let o = &r.outcome;
        let converge = o.converge_time.map_or("never".to_string(), secs);
        let digest = if o.converged {
            format!("{:016x}", o.digests[0])
        } else {
            "diverged".to_string()
        };
        println!(
            "{:<6} {:>9} {:>8} {:>8} {:>14} {:>16} {:>10}  {}",
            r.sync.name(),
            o.messages,
            o.lost,
            o.acks,
            o.bytes,
            converge,
            o.events,
            digest
        );
    }
    let all = rows.iter().all(|r| r.outcome.converged);
    ExitCode::from(u8::from(!all))
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    /// `--bug` offers exactly the simulator's bugs, each under the simulator's own name (the
    /// name the trace header and the reproducing command line carry).
    #[test]
    fn the_bug_flag_is_in_step_with_the_simulator() {
        let flags: Vec<(String, Bug)> = SimBug::value_variants()
            .iter()
            .map(|b| {
                let name = b.to_possible_value().expect("a flag value");
                (name.get_name().to_string(), bug(*b))
            })
            .collect();
        let sims: Vec<(String, Bug)> = Bug::ALL
            .iter()
            .map(|b| (b.name().to_string(), *b))
            .collect();
        assert_eq!(flags, sims);
    }
}
