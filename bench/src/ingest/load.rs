//! A load phase (g or h): the client threads posting their pools for N seconds, and the watcher
//! of the collector's live analysis lag; what the phase measured.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::collector::Collector;
use super::http::{check_response, status, Conn};
use super::requests::{Api, Request};
use super::{LAG_CATCH_UP_MAX, LAG_POLL};
use crate::bench::rate;
use crate::sys;

/// What one client did.
pub(super) struct ClientRun {
    pub(super) acked: u64,
    pub(super) stored: u64,
    pub(super) requests: usize,
    pub(super) body_bytes: u64,
    pub(super) latencies: Vec<Duration>,
    pub(super) started: Instant,
    pub(super) ended: Instant,
    pub(super) error: Option<String>,
    pub(super) exhausted: bool,
}

/// What a load phase (g or h) measured.
pub(super) struct Load {
    pub(super) acked: u64,
    pub(super) stored_reported: u64,
    pub(super) requests: u64,
    pub(super) body_bytes: u64,
    pub(super) time: Duration,
    pub(super) p50: Duration,
    pub(super) p99: Duration,
    pub(super) collector_cpu: Option<Duration>,
    pub(super) own_cpu: Duration,
    pub(super) errors: Vec<String>,
    pub(super) exhausted: usize,
    /// How far the collector's live analysis trailed the acknowledgements, when it is on.
    pub(super) lag: Option<AnalysisLag>,
}

/// How far `/v1/status`'s `analysis.events_analysed` trailed the acknowledged events during a
/// phase: at each poll, the age of the oldest acknowledged event the analysis had not taken in
/// (0 when it had them all); and, after the last acknowledgement, how long until it had.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct AnalysisLag {
    pub(super) max: Duration,
    pub(super) p50: Duration,
    pub(super) polls: usize,
    pub(super) catch_up: Option<Duration>,
}

impl Load {
    pub(super) fn events_per_sec(&self) -> f64 {
        rate(self.acked, self.time)
    }
}

pub(super) fn client(
    api: Api,
    addr: SocketAddr,
    requests: &[Request],
    seconds: f64,
    barrier: &Barrier,
    acked_now: &AtomicU64,
) -> ClientRun {
    let conn = Conn::connect(addr);
    barrier.wait();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut run = ClientRun {
        acked: 0,
        stored: 0,
        requests: 0,
        body_bytes: 0,
        latencies: Vec::with_capacity(requests.len()),
        started,
        ended: started,
        error: None,
        exhausted: false,
    };
    let mut conn = match conn {
        Ok(c) => c,
        Err(e) => {
            run.error = Some(format!("connecting to {addr}: {e:#}"));
            return run;
        }
    };
    let mut next = requests.iter();
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let Some(req) = next.next() else {
            run.exhausted = true;
            break;
        };
        let result = conn.round_trip(req);
        let t = now.elapsed();
        run.ended = Instant::now();
        let outcome = match result {
            Ok((status, body)) => check_response(api, status, &body, req.events),
            Err(e) => Err(format!("{e:#}")),
        };
        match outcome {
            Ok(stored) => {
                run.latencies.push(t);
                acked_now.fetch_add(req.events, Ordering::Relaxed);
                run.acked += req.events;
                run.stored += stored;
                run.requests += 1;
                run.body_bytes += req.body().len() as u64;
            }
            Err(e) => {
                run.error = Some(e);
                break;
            }
        }
    }
    run
}

/// Runs every client against its pool for `seconds`.
pub(super) fn load(api: Api, collector: &Collector, pools: &[Vec<Request>], seconds: f64) -> Load {
    let barrier = Barrier::new(pools.len() + 1);
    let addr = collector.addr;
    // Events the analysis had taken in before this phase (the previous phase's).
    let base = analysed_events(addr).ok().flatten();
    let acked_now = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let (runs, cpu, (own0, own1), lag) = std::thread::scope(|sc| {
        let handles: Vec<_> = pools
            .iter()
            .map(|p| {
                let (barrier, acked_now) = (&barrier, &acked_now);
                sc.spawn(move || client(api, addr, p, seconds, barrier, acked_now))
            })
            .collect();
        let watcher = base.map(|base| {
            let (acked_now, done) = (&acked_now, &done);
            sc.spawn(move || watch_analysis(addr, base, acked_now, done))
        });
        let cpu0 = collector.cpu();
        let own0 = sys::self_cpu();
        barrier.wait();
        let runs: Vec<ClientRun> = handles
            .into_iter()
            .map(|h| h.join().expect("a client does not panic"))
            .collect();
        let cpu1 = collector.cpu();
        let own1 = sys::self_cpu();
        done.store(true, Ordering::Relaxed);
        let lag = watcher.map(|w| w.join().expect("the watcher does not panic"));
        (runs, cpu0.zip(cpu1), (own0, own1), lag)
    });
    let start = runs.iter().map(|r| r.started).min().expect("clients");
    let end = runs.iter().map(|r| r.ended).max().expect("clients");
    let mut lat: Vec<Duration> = runs.iter().flat_map(|r| r.latencies.clone()).collect();
    lat.sort_unstable();
    Load {
        acked: runs.iter().map(|r| r.acked).sum(),
        stored_reported: runs.iter().map(|r| r.stored).sum(),
        requests: runs.iter().map(|r| r.requests as u64).sum(),
        body_bytes: runs.iter().map(|r| r.body_bytes).sum(),
        time: end.saturating_duration_since(start),
        p50: percentile(&lat, 50.0),
        p99: percentile(&lat, 99.0),
        collector_cpu: cpu.map(|(a, b)| b.saturating_sub(a)),
        own_cpu: (own1.0 + own1.1).saturating_sub(own0.0 + own0.1),
        errors: runs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.error.as_ref().map(|e| format!("client {i}: {e}")))
            .collect(),
        exhausted: runs.iter().filter(|r| r.exhausted).count(),
        lag,
    }
}

/// `analysis.events_analysed` of `GET /v1/status`; `None` when the analysis is off.
pub(super) fn analysed_events(addr: SocketAddr) -> Result<Option<u64>> {
    Ok(status(addr)?.analysis.live.map(|l| l.events_analysed))
}

/// Polls the analysis every [`LAG_POLL`] while the clients run (`acked_now`: acknowledged so
/// far in this phase; `base`: analysed before it), then until it has taken in everything
/// acknowledged (at most [`LAG_CATCH_UP_MAX`]).
pub(super) fn watch_analysis(
    addr: SocketAddr,
    base: u64,
    acked_now: &AtomicU64,
    done: &AtomicBool,
) -> AnalysisLag {
    // (when, acknowledged by then), every tick, to date each acknowledged event.
    let mut timeline: Vec<(Instant, u64)> = Vec::new();
    let mut lags: Vec<Duration> = Vec::new();
    let mut ended: Option<Instant> = None;
    let mut out = AnalysisLag::default();
    loop {
        let now = Instant::now();
        let acked = acked_now.load(Ordering::Relaxed);
        timeline.push((now, acked));
        if ended.is_none() && done.load(Ordering::Relaxed) {
            ended = Some(now);
        }
        let Ok(Some(analysed)) = analysed_events(addr) else {
            break;
        };
        let analysed = analysed.saturating_sub(base);
        if analysed >= acked {
            if ended.is_some() {
                out.catch_up = ended.map(|e| e.elapsed());
                break;
            }
            lags.push(Duration::ZERO);
        } else {
            // The oldest acknowledged event not analysed was acknowledged at the first tick
            // whose count exceeds `analysed`.
            let at = timeline.partition_point(|&(_, a)| a <= analysed);
            let since = timeline.get(at).map_or(now, |&(t, _)| t);
            if ended.is_none() {
                lags.push(now.saturating_duration_since(since));
            }
        }
        if ended.is_some_and(|e| e.elapsed() > LAG_CATCH_UP_MAX) {
            break;
        }
        std::thread::sleep(LAG_POLL);
    }
    lags.sort_unstable();
    out.polls = lags.len();
    out.max = lags.last().copied().unwrap_or_default();
    out.p50 = percentile(&lags, 50.0);
    out
}

/// The `p`th percentile (nearest rank) of sorted values; zero when empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&v, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&v[..1], 99.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}
