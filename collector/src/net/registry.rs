//! The connections of one server: the registry that enforces the limits and picks the
//! connection to shed, and each connection's state, from which its deadline follows.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;
use tokio::time::Instant;

use super::{earliest, Timeouts};

/// The connections of one server, for the limits and for shedding.
pub(super) struct Registry {
    pub(super) inner: Mutex<RegistryInner>,
    pub(super) total: usize,
    pub(super) per_ip: usize,
}

#[derive(Default)]
pub(super) struct RegistryInner {
    conns: HashMap<u64, Arc<ConnState>>,
    per_ip: HashMap<IpAddr, usize>,
    /// Connections told to close that have not closed yet (not counted against the total).
    shedding: usize,
    next: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Registry {
    /// Admits a connection from `ip`, shedding the connection idle the longest when the total is
    /// reached; or says why not.
    pub(super) fn admit(&self, ip: IpAddr, me: &Arc<Registry>) -> Result<Ticket, String> {
        let mut g = lock(&self.inner);
        if g.per_ip.get(&ip).copied().unwrap_or(0) >= self.per_ip {
            return Err(format!(
                "too many connections from {ip}: at most {} at once (--max-connections-per-ip); close some or retry later",
                self.per_ip
            ));
        }
        if g.conns.len() - g.shedding >= self.total {
            let victim = g
                .conns
                .values()
                .filter(|c| !c.shed.load(Ordering::Relaxed))
                .filter_map(|c| c.idle_key().map(|k| (k, c)))
                .min_by_key(|(k, _)| *k)
                .map(|(_, c)| Arc::clone(c));
            let Some(victim) = victim else {
                return Err(format!(
                    "the collector has {} connections (--max-connections), every one busy with a request: retry later",
                    self.total
                ));
            };
            victim.shed.store(true, Ordering::Relaxed);
            victim.wake.notify_one();
            g.shedding += 1;
        }
        let id = g.next;
        g.next += 1;
        let state = Arc::new(ConnState {
            phase: Mutex::new(Phase {
                active: 0,
                served: 0,
                since: Instant::now(),
                first_byte: None,
                write_blocked: None,
                h2: false,
            }),
            wake: Notify::new(),
            shed: AtomicBool::new(false),
        });
        g.conns.insert(id, Arc::clone(&state));
        *g.per_ip.entry(ip).or_insert(0) += 1;
        Ok(Ticket {
            id,
            ip,
            state,
            registry: Arc::clone(me),
        })
    }
}

/// A connection's place in the registry, given back when its task ends.
pub(super) struct Ticket {
    pub(super) id: u64,
    pub(super) ip: IpAddr,
    pub(super) state: Arc<ConnState>,
    pub(super) registry: Arc<Registry>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut g = lock(&self.registry.inner);
        if g.conns.remove(&self.id).is_some() && self.state.shed.load(Ordering::Relaxed) {
            g.shedding -= 1;
        }
        if let Some(n) = g.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                g.per_ip.remove(&self.ip);
            }
        }
    }
}

/// What the deadlines of one connection depend on.
pub(super) struct ConnState {
    phase: Mutex<Phase>,
    /// The phase changed, or the connection was shed: its task recomputes its deadline.
    pub(super) wake: Notify,
    /// Told to close to make room for a new connection.
    pub(super) shed: AtomicBool,
}

struct Phase {
    /// Requests in flight (from their head to the end of their response).
    active: usize,
    /// Requests started so far.
    served: u64,
    /// When the connection became idle: accept, or the end of its last response.
    since: Instant,
    /// The first byte read while idle: a request head is under way.
    first_byte: Option<Instant>,
    /// Since when a write waits for the client to read.
    write_blocked: Option<Instant>,
    /// HTTP/2 (bytes while idle may be pings and settings, not a request).
    h2: bool,
}

impl ConnState {
    fn phase(&self) -> MutexGuard<'_, Phase> {
        lock(&self.phase)
    }

    /// When the connection is to be closed, as things stand.
    pub(super) fn deadline(&self, t: &Timeouts, accepted: Instant) -> Option<Instant> {
        let p = self.phase();
        let stalled = p.write_blocked.map(|w| w + t.idle);
        let phase = if p.active > 0 {
            None
        } else if p.served == 0 {
            Some(accepted + t.header)
        } else if p.h2 {
            Some(p.since + t.idle)
        } else if let Some(b) = p.first_byte {
            Some(b + t.header)
        } else {
            Some(p.since + t.idle)
        };
        earliest(stalled, phase)
    }

    /// `None` while a request is in flight; else the order in which idle connections are shed:
    /// those that sent nothing since they became idle first, the longest idle first.
    pub(super) fn idle_key(&self) -> Option<(bool, Instant)> {
        let p = self.phase();
        if p.active > 0 {
            return None;
        }
        Some(match p.first_byte {
            Some(b) if !p.h2 => (true, b),
            _ => (false, p.since),
        })
    }

    pub(super) fn idle_h2(&self) -> bool {
        let p = self.phase();
        p.h2 && p.active == 0
    }

    /// Resolves once the connection is shed.
    pub(super) async fn shed_signal(&self) {
        while !self.shed.load(Ordering::Relaxed) {
            self.wake.notified().await;
        }
    }

    pub(super) fn on_read(&self) {
        let mut p = self.phase();
        if p.active == 0 && p.first_byte.is_none() {
            p.first_byte = Some(Instant::now());
            drop(p);
            self.wake.notify_one();
        }
    }

    pub(super) fn on_write(&self, blocked: bool) {
        let mut p = self.phase();
        match (blocked, p.write_blocked.is_some()) {
            (true, false) => {
                p.write_blocked = Some(Instant::now());
                drop(p);
                self.wake.notify_one();
            }
            (false, true) => p.write_blocked = None,
            _ => {}
        }
    }

    pub(super) fn begin(self: &Arc<Self>, h2: bool) -> Active {
        let mut p = self.phase();
        p.active += 1;
        p.served += 1;
        p.first_byte = None;
        p.h2 |= h2;
        drop(p);
        self.wake.notify_one();
        Active(Arc::clone(self))
    }
}

/// A request in flight; dropped with its response body (or when it is cut).
pub(super) struct Active(Arc<ConnState>);

impl Drop for Active {
    fn drop(&mut self) {
        let mut p = self.0.phase();
        p.active -= 1;
        if p.active == 0 {
            p.since = Instant::now();
            p.first_byte = None;
        }
        drop(p);
        self.0.wake.notify_one();
    }
}
