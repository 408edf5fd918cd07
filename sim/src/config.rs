//! Everything a run depends on. A [`Config`] plus its seed determines the trace byte for byte,
//! and [`Config::command_line`] prints the `weft sim` command that reproduces it.

use std::fmt;

/// Nanoseconds of simulated time.
pub type Nanos = u64;

/// One millisecond in [`Nanos`].
pub const MS: Nanos = 1_000_000;
/// One second in [`Nanos`].
pub const SEC: Nanos = 1_000_000_000;

/// Why a configuration is not usable. Each variant names the flag and what was wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A value could not be parsed: (flag, value, what was expected).
    #[error("{0}: cannot read {1:?}: expected {2}")]
    Parse(&'static str, String, &'static str),
    /// A value is out of range: (flag, why).
    #[error("{0}: {1}")]
    Range(&'static str, String),
}

/// What the replicas do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Workload {
    /// Grow-only and PN counters.
    #[cfg_attr(feature = "clap", value(help = "G-counters and PN-counters"))]
    Counter,
    /// LWW and multi-value registers.
    Register,
    /// LWW registers only: state that stays small with thousands of writers (counters,
    /// multi-value registers and sets keep an entry per writing replica).
    #[cfg_attr(
        feature = "clap",
        value(help = "LWW registers only (small state with thousands of replicas)")
    )]
    Lww,
    /// Add-wins OR-sets.
    Set,
    /// All five CRDT types.
    Mixed,
    /// A local-first stock app: per SKU a PN-counter stock, LWW price and bin, an OR-set of tags.
    #[cfg_attr(
        feature = "clap",
        value(
            help = "A stock app: per SKU a PN-counter stock, LWW price and bin, an OR-set of tags"
        )
    )]
    Inventory,
}

/// How replicas exchange state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum SyncKind {
    /// Operation-based: each replica broadcasts its own ops; receivers deliver them in causal
    /// order, exactly once; unacknowledged ops are retransmitted.
    #[cfg_attr(
        feature = "clap",
        value(
            help = "Operation-based causal broadcast (exactly once, in causal order, retransmitted)"
        )
    )]
    Op,
    /// Full-state anti-entropy with one random peer per round.
    #[cfg_attr(
        feature = "clap",
        value(help = "Full-state anti-entropy with a random peer")
    )]
    State,
    /// Delta-state: each replica ships to each peer the deltas that peer has not acknowledged
    /// (the whole state when the peer is too far behind).
    #[cfg_attr(
        feature = "clap",
        value(help = "Delta-state: ship each peer what it has not acknowledged")
    )]
    Delta,
}

/// What clocks events carry in the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Clocks {
    /// Vector clock and Lamport timestamp.
    Full,
    /// Lamport timestamp only.
    Lamport,
    /// Neither: causality only through `msg` (for thousands of replicas).
    #[cfg_attr(
        feature = "clap",
        value(help = "Neither: causality only through messages (for thousands of replicas)")
    )]
    None,
}

/// An implementation bug injected on purpose into one replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Bug {
    /// Forgets to merge the sender's vector clock on receive.
    #[cfg_attr(
        feature = "clap",
        value(
            help = "Forgets to merge the sender's vector clock on receive (weft check: vc-mismatch)"
        )
    )]
    VcNoMerge,
    /// Does not take the max of Lamport clocks on receive.
    #[cfg_attr(
        feature = "clap",
        value(
            help = "Does not take the max of Lamport clocks on receive (weft check: lamport-violation)"
        )
    )]
    LamportNoMax,
    /// Stamps its LWW writes with its skewed wall clock instead of a causal (hybrid) clock.
    #[cfg_attr(
        feature = "clap",
        value(
            help = "Stamps LWW writes with its skewed wall clock: converges, but causally newer writes lose"
        )
    )]
    LwwByWallClock,
    /// Merges counters by adding instead of taking the maximum (and re-applies duplicate ops).
    #[cfg_attr(
        feature = "clap",
        value(
            help = "Merges counters by adding instead of taking the max: diverges under duplicates"
        )
    )]
    NonIdempotentMerge,
    /// Never retransmits a delta that was lost.
    #[cfg_attr(
        feature = "clap",
        value(
            help = "Never retransmits a lost delta: diverges once one is lost on every link, e.g. while the replica is offline (with --sync delta)"
        )
    )]
    DropDelta,
    /// Sometimes answers a read from an older snapshot of its state.
    #[cfg_attr(
        feature = "clap",
        value(
            help = "Sometimes answers a read from an older snapshot of its state (weft check: stale-read)"
        )
    )]
    StaleRead,
    /// Sometimes merges its peers' state of a key before reading it (read repair) through a
    /// path that records no receive (no event, no clock merge), so its state holds writes its
    /// causal past does not.
    #[cfg_attr(
        feature = "clap",
        value(
            help = "Sometimes merges its peers' state of a key before reading it, recording no receive (weft check: read-of-unseen-write)"
        )
    )]
    UnrecordedMerge,
}

/// A latency distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latency {
    /// Always this long.
    Const(Nanos),
    /// Uniform between two bounds.
    Uniform(Nanos, Nanos),
    /// Exponential with this mean.
    Exp(Nanos),
}

/// A scheduled partition: during `[from, to)`, replicas in different groups cannot talk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// Start.
    pub from: Nanos,
    /// End.
    pub to: Nanos,
    /// Groups of replica indices; replicas in no group can talk to nobody.
    pub groups: Vec<Vec<u32>>,
}

/// Intermittent connectivity: replicas (but the hub, when there is one) alternate online and
/// offline windows with these mean lengths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Intermittent {
    /// Mean online window.
    pub online: Nanos,
    /// Mean offline window.
    pub offline: Nanos,
}

/// The network between replicas.
#[derive(Clone, Debug, PartialEq)]
pub struct NetConfig {
    /// Per-message latency.
    pub latency: Latency,
    /// Probability a message is lost.
    pub loss: f64,
    /// Probability a message is delivered twice.
    pub dup: f64,
    /// Probability a message is held back by up to 5× its latency (so later ones overtake it).
    pub reorder: f64,
    /// Link bandwidth in bytes per second (0 = unlimited): adds size/bandwidth to latency.
    pub bandwidth: u64,
    /// Scheduled partitions.
    pub partitions: Vec<Partition>,
    /// Intermittent links, if any.
    pub intermittent: Option<Intermittent>,
    /// Replica 0 is a well-connected hub (never offline, low latency to everyone).
    pub hub: bool,
}

/// Named network profiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Profile {
    /// A quiet LAN: 1 ms, nothing lost.
    #[cfg_attr(feature = "clap", value(help = "1 ms, nothing lost"))]
    Lan,
    /// Dense city network: low latency, a little loss and reordering.
    #[cfg_attr(
        feature = "clap",
        value(help = "Dense city network: 2–8 ms, a little loss, duplication and reordering")
    )]
    Tokyo,
    /// Mountain links: RTT of hundreds of ms, long disconnections, short windows of high bandwidth.
    #[cfg_attr(
        feature = "clap",
        value(
            help = "RTT of hundreds of ms, 5 % loss, long disconnections, short high-bandwidth windows"
        )
    )]
    Himalaya,
    /// A well-connected hub and intermittent edge replicas.
    #[cfg_attr(
        feature = "clap",
        value(help = "A well-connected hub (r1) and intermittent edge replicas")
    )]
    Mixed,
}

impl Profile {
    /// The network of this profile.
    pub fn net(self) -> NetConfig {
        let base = NetConfig {
            latency: Latency::Const(MS),
            loss: 0.0,
            dup: 0.0,
            reorder: 0.0,
            bandwidth: 0,
            partitions: Vec::new(),
            intermittent: None,
            hub: false,
        };
        match self {
            Profile::Lan => base,
            Profile::Tokyo => NetConfig {
                latency: Latency::Uniform(2 * MS, 8 * MS),
                loss: 0.005,
                dup: 0.005,
                reorder: 0.02,
                ..base
            },
            Profile::Himalaya => NetConfig {
                latency: Latency::Exp(150 * MS),
                loss: 0.05,
                dup: 0.01,
                reorder: 0.05,
                bandwidth: 2_000_000,
                intermittent: Some(Intermittent {
                    online: 3 * SEC,
                    offline: 12 * SEC,
                }),
                ..base
            },
            Profile::Mixed => NetConfig {
                latency: Latency::Exp(40 * MS),
                loss: 0.02,
                dup: 0.01,
                reorder: 0.02,
                intermittent: Some(Intermittent {
                    online: 4 * SEC,
                    offline: 4 * SEC,
                }),
                hub: true,
                ..base
            },
        }
    }

    /// The profile's name.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Lan => "lan",
            Profile::Tokyo => "tokyo",
            Profile::Himalaya => "himalaya",
            Profile::Mixed => "mixed",
        }
    }
}

/// A whole run.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The seed of the one RNG.
    pub seed: u64,
    /// Number of replicas.
    pub replicas: u32,
    /// What they do.
    pub workload: Workload,
    /// Total operations (reads and writes).
    pub ops: u64,
    /// Number of keys (SKUs for `inventory`).
    pub keys: u32,
    /// Fraction of operations that are reads.
    pub read_ratio: f64,
    /// Operations per simulated second, across all replicas.
    pub rate: f64,
    /// Stop issuing operations at this simulated time even if `ops` are not done.
    pub duration: Option<Nanos>,
    /// How replicas sync.
    pub sync: SyncKind,
    /// How often each replica syncs.
    pub sync_interval: Nanos,
    /// The network profile the network started from (for the header and the command line).
    pub profile: Profile,
    /// The network.
    pub net: NetConfig,
    /// Maximum wall-clock offset of a replica, ± this many ms.
    pub skew_ms: u64,
    /// Maximum wall-clock drift, ± this many parts per million.
    pub drift_ppm: u64,
    /// What events carry.
    pub clocks: Clocks,
    /// An injected bug and the replica it affects.
    pub bug: Option<(Bug, u32)>,
    /// Simulated time allowed to converge after the operations, before giving up.
    pub settle_limit: Nanos,
    /// How large the run may grow before it stops with [`crate::RunLimit`].
    pub limits: crate::limit::Limits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1,
            replicas: 5,
            workload: Workload::Mixed,
            ops: 1_000,
            keys: 20,
            read_ratio: 0.2,
            rate: 200.0,
            duration: None,
            sync: SyncKind::Delta,
            sync_interval: 100 * MS,
            profile: Profile::Lan,
            net: Profile::Lan.net(),
            skew_ms: 200,
            drift_ppm: 100,
            clocks: Clocks::Full,
            bug: None,
            settle_limit: 600 * SEC,
            limits: crate::limit::Limits::default(),
        }
    }
}

/// Parses `1500ms`, `2s`, `250us`, `3m`, `10ns` or a bare number of milliseconds.
pub fn parse_duration(flag: &'static str, s: &str) -> Result<Nanos, ConfigError> {
    let bad = || ConfigError::Parse(flag, s.to_string(), "a duration such as 250ms, 2s or 1m");
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let scale = match unit {
        "" | "ms" => MS as f64,
        "s" => SEC as f64,
        "m" | "min" => 60.0 * SEC as f64,
        "us" | "µs" => 1_000.0,
        "ns" => 1.0,
        _ => return Err(bad()),
    };
    let v = n * scale;
    if !v.is_finite() || !(0.0..=1e18).contains(&v) {
        return Err(bad());
    }
    Ok(v.round() as Nanos)
}

/// Parses `const:5ms`, `uniform:2ms-10ms`, `exp:50ms` (or a bare duration, meaning constant).
pub fn parse_latency(s: &str) -> Result<Latency, ConfigError> {
    const FLAG: &str = "--latency";
    let (kind, rest) = s.split_once(':').unwrap_or(("const", s));
    match kind {
        "const" => Ok(Latency::Const(parse_duration(FLAG, rest)?)),
        "exp" => Ok(Latency::Exp(parse_duration(FLAG, rest)?)),
        "uniform" => {
            let (lo, hi) = rest.split_once('-').ok_or_else(|| {
                ConfigError::Parse(
                    FLAG,
                    s.to_string(),
                    "uniform:LOW-HIGH, e.g. uniform:2ms-10ms",
                )
            })?;
            let (lo, hi) = (parse_duration(FLAG, lo)?, parse_duration(FLAG, hi)?);
            if lo > hi {
                return Err(ConfigError::Range(
                    FLAG,
                    format!("{s:?}: the low bound exceeds the high bound"),
                ));
            }
            Ok(Latency::Uniform(lo, hi))
        }
        _ => Err(ConfigError::Parse(
            FLAG,
            s.to_string(),
            "const:D, uniform:D-D or exp:D",
        )),
    }
}

/// Parses a replica name `r3` or `r03` (1-based) into an index, checking it exists.
pub fn parse_replica(flag: &'static str, s: &str, replicas: u32) -> Result<u32, ConfigError> {
    let n: u32 = s
        .trim()
        .strip_prefix('r')
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| ConfigError::Parse(flag, s.to_string(), "a replica name such as r1"))?;
    if n == 0 || n > replicas {
        return Err(ConfigError::Range(
            flag,
            format!("{s}: there are replicas r1 to r{replicas}"),
        ));
    }
    Ok(n - 1)
}

/// Parses `10s-40s:r1,r2/r3,r4,r5`.
pub fn parse_partition(s: &str, replicas: u32) -> Result<Partition, ConfigError> {
    const FLAG: &str = "--partition";
    let want = "FROM-TO:GROUP/GROUP, e.g. 10s-40s:r1,r2/r3,r4,r5";
    let (window, groups) = s
        .split_once(':')
        .ok_or_else(|| ConfigError::Parse(FLAG, s.to_string(), want))?;
    let (from, to) = window
        .split_once('-')
        .ok_or_else(|| ConfigError::Parse(FLAG, s.to_string(), want))?;
    let (from, to) = (parse_duration(FLAG, from)?, parse_duration(FLAG, to)?);
    if from >= to {
        return Err(ConfigError::Range(
            FLAG,
            format!("{s:?}: the partition must end after it starts"),
        ));
    }
    let mut seen = vec![false; replicas as usize];
    let mut out = Vec::new();
    for g in groups.split('/') {
        let mut group = Vec::new();
        for name in g.split(',').filter(|n| !n.trim().is_empty()) {
            let r = parse_replica(FLAG, name, replicas)?;
            if std::mem::replace(&mut seen[r as usize], true) {
                return Err(ConfigError::Range(
                    FLAG,
                    format!("{s:?}: {name} is in two groups"),
                ));
            }
            group.push(r);
        }
        out.push(group);
    }
    if out.len() < 2 {
        return Err(ConfigError::Range(
            FLAG,
            format!("{s:?}: a partition needs at least two groups"),
        ));
    }
    Ok(Partition {
        from,
        to,
        groups: out,
    })
}

fn fmt_duration(ns: Nanos) -> String {
    if ns.is_multiple_of(SEC) {
        format!("{}s", ns / SEC)
    } else if ns.is_multiple_of(MS) {
        format!("{}ms", ns / MS)
    } else if ns.is_multiple_of(1_000) {
        format!("{}us", ns / 1_000)
    } else {
        format!("{ns}ns")
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Latency::Const(d) => write!(f, "const:{}", fmt_duration(d)),
            Latency::Uniform(a, b) => write!(f, "uniform:{}-{}", fmt_duration(a), fmt_duration(b)),
            Latency::Exp(m) => write!(f, "exp:{}", fmt_duration(m)),
        }
    }
}

impl Workload {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Counter => "counter",
            Workload::Register => "register",
            Workload::Lww => "lww",
            Workload::Set => "set",
            Workload::Mixed => "mixed",
            Workload::Inventory => "inventory",
        }
    }
}

impl SyncKind {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            SyncKind::Op => "op",
            SyncKind::State => "state",
            SyncKind::Delta => "delta",
        }
    }
}

impl Clocks {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Clocks::Full => "full",
            Clocks::Lamport => "lamport",
            Clocks::None => "none",
        }
    }
}

impl Bug {
    /// Every bug (the CLI's `--bug` values must name exactly these).
    pub const ALL: [Bug; 7] = [
        Bug::VcNoMerge,
        Bug::LamportNoMax,
        Bug::LwwByWallClock,
        Bug::NonIdempotentMerge,
        Bug::DropDelta,
        Bug::StaleRead,
        Bug::UnrecordedMerge,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Bug::VcNoMerge => "vc-no-merge",
            Bug::LamportNoMax => "lamport-no-max",
            Bug::LwwByWallClock => "lww-by-wall-clock",
            Bug::NonIdempotentMerge => "non-idempotent-merge",
            Bug::DropDelta => "drop-delta",
            Bug::StaleRead => "stale-read",
            Bug::UnrecordedMerge => "unrecorded-merge",
        }
    }
}

/// The name of replica `i` (0-based): `r1`, `r2`, ... zero-padded to the width of the largest,
/// so that names sort in numeric order.
pub fn replica_name(i: u32, replicas: u32) -> String {
    let width = replicas.to_string().len();
    format!("r{:0width$}", i + 1)
}

impl Config {
    /// Checks ranges that the types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let range = |flag, why: String| Err(ConfigError::Range(flag, why));
        if self.replicas < 2 {
            return range(
                "--replicas",
                format!(
                    "{} replicas cannot replicate anything: use 2 or more",
                    self.replicas
                ),
            );
        }
        if self.replicas > 1_000_000 {
            return range("--replicas", "at most 1,000,000".into());
        }
        if self.keys == 0 {
            return range("--keys", "at least 1".into());
        }
        for (flag, p) in [
            ("--loss", self.net.loss),
            ("--dup", self.net.dup),
            ("--reorder", self.net.reorder),
        ] {
            if !(0.0..1.0).contains(&p) {
                return range(flag, format!("{p} is not a probability below 1"));
            }
        }
        if !(self.rate > 0.0 && self.rate.is_finite()) {
            return range(
                "--rate",
                "must be a positive number of operations per second".into(),
            );
        }
        if self.sync_interval == 0 {
            return range("--sync-interval", "must be positive".into());
        }
        if let Some((_, r)) = self.bug {
            if r >= self.replicas {
                return range(
                    "--bug-replica",
                    format!("there are replicas r1 to r{}", self.replicas),
                );
            }
        }
        if self.clocks == Clocks::Full
            && u64::from(self.replicas) * u64::from(self.replicas) > 400_000_000
        {
            return range(
                "--clocks",
                format!("full vector clocks for {} replicas would need too much memory: use --clocks lamport or none", self.replicas),
            );
        }
        Ok(())
    }

    /// The `weft sim` command line that reproduces this run exactly.
    pub fn command_line(&self) -> String {
        let mut c = format!(
            "weft sim --seed {} --replicas {} --workload {} --ops {} --keys {} --read-ratio {} --rate {} --sync {} --sync-interval {} --profile {} --latency {} --loss {} --dup {} --reorder {} --bandwidth {} --skew-ms {} --drift-ppm {} --clocks {}",
            self.seed,
            self.replicas,
            self.workload.name(),
            self.ops,
            self.keys,
            self.read_ratio,
            self.rate,
            self.sync.name(),
            fmt_duration(self.sync_interval),
            self.profile.name(),
            self.net.latency,
            self.net.loss,
            self.net.dup,
            self.net.reorder,
            self.net.bandwidth,
            self.skew_ms,
            self.drift_ppm,
            self.clocks.name(),
        );
        if let Some(d) = self.duration {
            c.push_str(&format!(" --duration {}", fmt_duration(d)));
        }
        for p in &self.net.partitions {
            let groups: Vec<String> = p
                .groups
                .iter()
                .map(|g| {
                    g.iter()
                        .map(|&r| replica_name(r, self.replicas))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .collect();
            c.push_str(&format!(
                " --partition {}-{}:{}",
                fmt_duration(p.from),
                fmt_duration(p.to),
                groups.join("/")
            ));
        }
        match self.net.intermittent {
            Some(i) => c.push_str(&format!(
                " --intermittent {}/{}",
                fmt_duration(i.online),
                fmt_duration(i.offline)
            )),
            None => c.push_str(" --intermittent none"),
        }
        c.push_str(if self.net.hub { " --hub" } else { " --no-hub" });
        if let Some((bug, r)) = self.bug {
            c.push_str(&format!(
                " --bug {} --bug-replica {}",
                bug.name(),
                replica_name(r, self.replicas)
            ));
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse_duration("x", "250ms"), Ok(250 * MS));
        assert_eq!(parse_duration("x", "1.5s"), Ok(1_500 * MS));
        assert_eq!(parse_duration("x", "40"), Ok(40 * MS));
        assert!(parse_duration("x", "5 parsecs").is_err());
        assert_eq!(
            parse_latency("uniform:2ms-10ms"),
            Ok(Latency::Uniform(2 * MS, 10 * MS))
        );
        assert_eq!(parse_latency("exp:50ms"), Ok(Latency::Exp(50 * MS)));
        let p = parse_partition("10s-40s:r1,r2/r3,r4,r5", 5).unwrap();
        assert_eq!(
            p,
            Partition {
                from: 10 * SEC,
                to: 40 * SEC,
                groups: vec![vec![0, 1], vec![2, 3, 4]]
            }
        );
        assert!(parse_partition("10s-40s:r1,r2/r2", 5).is_err());
        assert!(parse_partition("10s-40s:r1,r9/r2", 5).is_err());
        assert_eq!(replica_name(0, 16), "r01");
        assert_eq!(parse_replica("x", "r01", 16), Ok(0));
    }
}
