//! Time-driven sources: following a live collector ([`Live`]: its link, counters and arrival
//! rate) and replaying a recorded trace ([`Replay`]: position, speed, order), with the actions
//! that pause, step, speed up and tick them.
//!
//! Separate from navigation: these change what is shown over time, not where the user looks.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::{Action, App};
use crate::live::{CollectorStats, LinkState};
use crate::model::{Model, ReplayOrder};

/// A live source's state.
#[derive(Clone, Debug)]
pub struct Live {
    /// The collector's URL.
    pub url: String,
    /// The link.
    pub link: LinkState,
    /// The collector's counters.
    pub stats: CollectorStats,
    /// Events received from the stream.
    pub received: u64,
    /// Arrival rate: events per second received over the last [`RATE_WINDOW`] (over the time
    /// since the first arrival while that is shorter, but at least a second).
    pub rate: f64,
    /// Keep the newest rows in view as events arrive.
    pub following: bool,
    /// The display is frozen; new models wait in `pending`.
    pub paused: bool,
    /// The newest model, held back while paused.
    pub pending: Option<Arc<Model>>,
    /// The layout is being rebuilt from scratch (a causality cycle).
    pub analyzing: bool,
    /// What the live source skipped, counted.
    pub skipped: u64,
    /// Time since the source started, as told by ticks.
    clock: Duration,
    /// The tick time of the first arrival.
    first: Option<Duration>,
    /// Events received since the last tick.
    unticked: u64,
    /// Events received per tick within the window: (tick time, events).
    arrivals: VecDeque<(Duration, u64)>,
    /// Their sum.
    in_window: u64,
}

/// The span the live rate is measured over: a sliding window, so events that come in bursts
/// (a collector's group commits, a backlog handed over at once) give a steady reading rather
/// than one that drops to zero between bursts.
pub const RATE_WINDOW: Duration = Duration::from_secs(2);

impl Live {
    /// A live source that has not connected yet.
    pub fn new(url: impl Into<String>) -> Live {
        Live {
            url: url.into(),
            link: LinkState::Connecting,
            stats: CollectorStats::default(),
            received: 0,
            rate: 0.0,
            following: true,
            paused: false,
            pending: None,
            analyzing: false,
            skipped: 0,
            clock: Duration::ZERO,
            first: None,
            unticked: 0,
            arrivals: VecDeque::new(),
            in_window: 0,
        }
    }
}

/// A replay of a recorded trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    /// Arrival or causal order.
    pub order: ReplayOrder,
    /// Events replayed so far: those at positions `< pos` are shown.
    pub pos: u32,
    /// Advancing by itself.
    pub playing: bool,
    /// Events per second while playing.
    pub speed: f64,
    pub(super) carry: f64,
}

/// The replay speeds `+` and `-` step through.
const SPEEDS: [f64; 12] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1_000.0, 10_000.0, 100_000.0,
];

impl App {
    /// A message from the live source: its link, counters and arrivals (kept only when
    /// following one), and what it skipped (always told in the status bar).
    pub(super) fn live_message(&mut self, action: Action) {
        match action {
            Action::Link(link) => {
                if let Some(live) = &mut self.live {
                    live.link = link;
                }
            }
            Action::Stats(stats) => {
                if let Some(live) = &mut self.live {
                    live.stats = stats;
                }
            }
            Action::Received(k) => {
                if let Some(live) = &mut self.live {
                    live.received += k;
                    live.unticked += k;
                    live.first.get_or_insert(live.clock);
                }
            }
            Action::Skipped(why) => {
                if let Some(live) = &mut self.live {
                    live.skipped += 1;
                }
                self.message = Some(why);
            }
            Action::Dropped(k) => {
                if let Some(live) = &mut self.live {
                    live.skipped += k;
                }
            }
            Action::Analyzing(on) => {
                if let Some(live) = &mut self.live {
                    live.analyzing = on;
                }
            }
            // Not from a source: the reducer routes none of these here.
            _ => {}
        }
    }

    /// Rewinds the replay to before the first event, paused.
    pub(super) fn restart_replay(&mut self) {
        if let Some(r) = &mut self.replay {
            r.pos = 0;
            r.playing = false;
            r.carry = 0.0;
            self.select(None);
        }
    }

    pub(super) fn toggle_pause(&mut self) {
        if let Some(live) = &mut self.live {
            live.paused = !live.paused;
            if !live.paused {
                if let Some(m) = live.pending.take() {
                    self.set_model(m);
                }
            }
            return;
        }
        let n = self.model.len() as u32;
        if let Some(r) = &mut self.replay {
            if r.playing {
                r.playing = false;
            } else {
                if r.pos >= n {
                    r.pos = 0;
                }
                r.playing = true;
                r.carry = 0.0;
            }
        }
    }

    pub(super) fn change_speed(&mut self, faster: bool) {
        let Some(r) = &mut self.replay else {
            self.message = Some("speed applies to replays".to_string());
            return;
        };
        let i = SPEEDS
            .iter()
            .position(|&s| s >= r.speed)
            .unwrap_or(SPEEDS.len() - 1);
        let i = if faster {
            (i + 1).min(SPEEDS.len() - 1)
        } else {
            i.saturating_sub(1)
        };
        r.speed = SPEEDS[i];
    }

    pub(super) fn step(&mut self, by: i32) {
        let n = self.model.len() as u32;
        let Some(r) = &mut self.replay else {
            self.message = Some("stepping applies to replays".to_string());
            return;
        };
        r.playing = false;
        r.pos = (r.pos as i64 + by as i64).clamp(0, n as i64) as u32;
        self.follow_replay();
    }

    /// Selects the newest replayed event.
    fn follow_replay(&mut self) {
        let Some(r) = &self.replay else { return };
        let node = r
            .pos
            .checked_sub(1)
            .and_then(|p| self.model.node_at(p, r.order));
        self.select(node);
    }

    pub(super) fn toggle_order(&mut self) {
        let Some(r) = &mut self.replay else {
            self.message = Some("replay order applies to recorded traces".to_string());
            return;
        };
        // Keep the same events shown if possible: the new position is that of the newest one.
        let newest = r
            .pos
            .checked_sub(1)
            .and_then(|p| self.model.node_at(p, r.order));
        r.order = match r.order {
            ReplayOrder::Arrival => ReplayOrder::Causal,
            ReplayOrder::Causal => ReplayOrder::Arrival,
        };
        if let Some(n) = newest {
            r.pos = self.model.replay_pos(n, r.order) + 1;
        }
        self.follow_replay();
    }

    pub(super) fn tick(&mut self, dt: Duration) {
        if let Some(live) = &mut self.live {
            live.clock += dt;
            if live.unticked > 0 {
                live.arrivals.push_back((live.clock, live.unticked));
                live.in_window += live.unticked;
                live.unticked = 0;
            }
            while let Some(&(t, k)) = live.arrivals.front() {
                if t + RATE_WINDOW > live.clock {
                    break;
                }
                live.arrivals.pop_front();
                live.in_window -= k;
            }
            live.rate = match live.first {
                Some(first) => {
                    let span = (live.clock - first).clamp(Duration::from_secs(1), RATE_WINDOW);
                    live.in_window as f64 / span.as_secs_f64()
                }
                None => 0.0,
            };
        }
        let n = self.model.len() as u32;
        // While the whole trace is read, the end of the first look is not the end.
        let more = self.loading.is_some();
        let Some(r) = &mut self.replay else { return };
        if !r.playing {
            return;
        }
        r.carry += r.speed * dt.as_secs_f64();
        let steps = r.carry.floor();
        if steps >= 1.0 {
            r.carry -= steps;
            r.pos = (r.pos as f64 + steps).min(n as f64) as u32;
            if r.pos >= n && !more {
                r.playing = false;
            }
            self.follow_replay();
        }
    }
}
