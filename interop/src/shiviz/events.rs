//! One execution's logged events turned into weft events: which weft can represent, ShiViz's
//! rules on each host's counter and on the hosts a clock names, and clocks of positions turned
//! back into weft's `vc` of seqs.

use std::collections::{BTreeMap, HashMap};

use weft_trace::{Event, LineChecker, MAX_REPLICA_BYTES};

use super::parse::Logged;
use super::restore::{check, to_event};
use super::{Execution, Problem};

/// What the inputs contributed to one execution.
#[derive(Default)]
pub(super) struct ExecAcc {
    pub(super) name: Option<String>,
    pub(super) logged: Vec<Logged>,
    /// With the input index, for ordering.
    pub(super) problems: Vec<(usize, Problem)>,
}

/// A logged event ShiViz can place: a valid host and an own counter (its position in the host's
/// history) of at least 1.
struct Placed<'a> {
    logged: &'a Logged,
    pos: u64,
    /// The weft event, its `vc` still the logged clock.
    event: Event,
}

impl ExecAcc {
    pub(super) fn finish(
        self,
        sources: &[&str],
        several: bool,
        checker: &mut LineChecker,
    ) -> Execution {
        let mut problems = self.problems;

        // 1. Events weft can represent.
        let placed = place(&self.logged, sources, several, checker, &mut problems);

        // 2. ShiViz's rule: each host's own counter, in counter order, is 1, 2, 3, ...
        let histories = histories(&placed);
        check_counters(&placed, &histories, sources, &mut problems);

        // 3. ShiViz's rule: a clock names only hosts that log, and only events that exist. As in
        //    ShiViz (and weft's vc-derived edges), an entry is checked where it enters or grows
        //    in the host's clock, not on every later event that carries it along.
        check_references(&placed, &histories, sources, &mut problems);

        // 4. Clocks count positions per host; weft's `vc` counts seqs per replica. They differ
        //    only for logs exported from weft whose events name another replica or seq (a host
        //    renamed for ShiViz, a replica's seqs renumbered to close gaps): turn each entry
        //    `host: position` into `replica: seq` of the event at that position.
        let events = weft_events(placed, checker);

        problems.sort_by_key(|(input, p)| (*input, p.line));
        Execution {
            name: self.name,
            events,
            problems: problems.into_iter().map(|(_, p)| p).collect(),
        }
    }
}

/// The name of input `input`.
fn source_name<'s>(sources: &[&'s str], input: usize) -> &'s str {
    sources.get(input).copied().unwrap_or_default()
}

/// A problem with the logged event `l`, with its input's index for ordering.
fn problem(sources: &[&str], l: &Logged, reason: String) -> (usize, Problem) {
    (
        l.input,
        Problem {
            source: source_name(sources, l.input).to_string(),
            line: l.line,
            host: l.host.clone(),
            reason,
        },
    )
}

/// Step 1: the logged events weft can represent, each made a weft event; a problem for each
/// event left out and each note on one kept.
fn place<'a>(
    logged: &'a [Logged],
    sources: &[&str],
    several: bool,
    checker: &mut LineChecker,
    problems: &mut Vec<(usize, Problem)>,
) -> Vec<Placed<'a>> {
    let mut placed: Vec<Placed> = Vec::new();
    for l in logged {
        if l.host.is_empty() || l.host.len() > MAX_REPLICA_BYTES {
            problems.push(problem(
                sources,
                l,
                format!(
                    "host names must be 1 to {MAX_REPLICA_BYTES} bytes, got {} bytes; event left out",
                    l.host.len()
                ),
            ));
            continue;
        }
        let pos = match l.clock.get(&l.host) {
            Some(&n) if n >= 1 => n,
            Some(_) => {
                problems.push(problem(
                    sources,
                    l,
                    "the clock's entry for its own host is 0 (ShiViz counts each host's events from 1), so the event has no seq; event left out".into(),
                ));
                continue;
            }
            None => {
                problems.push(problem(
                    sources,
                    l,
                    "the clock has no entry for its own host (ShiViz rejects it), so the event has no seq; event left out".into(),
                ));
                continue;
            }
        };
        let source = several.then(|| source_name(sources, l.input));
        match to_event(l, pos, source, checker) {
            Ok((event, note)) => {
                if let Some(why) = note {
                    problems.push(problem(sources, l, why));
                }
                placed.push(Placed {
                    logged: l,
                    pos,
                    event,
                });
            }
            Err(why) => problems.push(problem(sources, l, format!("{why}; event left out"))),
        }
    }
    placed
}

/// Each host's placed events, the largest counter of its host before each event and each
/// host's last counter.
struct Histories<'p> {
    /// Per host, indices into the placed events, in counter order (log order among equals).
    by_host: BTreeMap<&'p str, Vec<usize>>,
    /// Per placed event, in log order.
    max_before: Vec<u64>,
    last: BTreeMap<&'p str, u64>,
}

/// Step 2, first half: the hosts' histories of `placed`.
fn histories<'p>(placed: &'p [Placed]) -> Histories<'p> {
    let mut by_host: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    // The largest counter of the host before each event, in log order: a repeat below it
    // also goes backwards, which the message says.
    let mut max_before: Vec<u64> = vec![0; placed.len()];
    let mut max_so_far: BTreeMap<&str, u64> = BTreeMap::new();
    for (i, p) in placed.iter().enumerate() {
        let host = p.logged.host.as_str();
        by_host.entry(host).or_default().push(i);
        let m = max_so_far.entry(host).or_insert(0);
        max_before[i] = *m;
        *m = (*m).max(p.pos);
    }
    for idx in by_host.values_mut() {
        idx.sort_by_key(|&i| placed[i].pos); // stable: equal counters stay in log order
    }
    let last: BTreeMap<&str, u64> = by_host
        .iter()
        .map(|(h, idx)| (*h, idx.last().map_or(0, |&i| placed[i].pos)))
        .collect();
    Histories {
        by_host,
        max_before,
        last,
    }
}

/// Step 2: a problem for each counter that does not start at 1 or rise by exactly 1.
fn check_counters(
    placed: &[Placed],
    histories: &Histories,
    sources: &[&str],
    problems: &mut Vec<(usize, Problem)>,
) {
    let Histories {
        by_host,
        max_before,
        ..
    } = histories;
    for (host, idx) in by_host {
        let mut prev: Option<&Placed> = None;
        for &i in idx {
            let p = &placed[i];
            let why = match prev {
                None if p.pos != 1 => Some(format!(
                    "`{host}`'s first clock value is {}, not 1 (ShiViz requires each host's counter to start at 1; weft check will report a seq-gap)",
                    p.pos
                )),
                Some(q) if q.pos == p.pos => Some(format!(
                    "`{host}`'s clock value {} repeats (also on line {}{}){} (ShiViz requires it to rise by exactly 1); event kept, and weft check will report the duplicate id",
                    p.pos,
                    q.logged.line,
                    if q.logged.input != p.logged.input {
                        format!(" of {}", source_name(sources, q.logged.input))
                    } else {
                        String::new()
                    },
                    if max_before[i] > p.pos {
                        format!(", going back from {}", max_before[i])
                    } else {
                        String::new()
                    },
                )),
                Some(q) if p.pos > q.pos + 1 => Some(format!(
                    "`{host}`'s clock jumps from {} to {} (ShiViz requires it to rise by exactly 1); event kept, and weft check will report a seq-gap",
                    q.pos, p.pos
                )),
                _ => None,
            };
            if let Some(why) = why {
                problems.push(problem(sources, p.logged, why));
            }
            prev = Some(p);
        }
    }
}

/// Step 3: a problem where a clock names a host that never logs or an event beyond a host's
/// last.
fn check_references(
    placed: &[Placed],
    histories: &Histories,
    sources: &[&str],
    problems: &mut Vec<(usize, Problem)>,
) {
    let Histories { by_host, last, .. } = histories;
    for (host, idx) in by_host {
        let mut seen: BTreeMap<&str, u64> = BTreeMap::new();
        for &i in idx {
            let l = placed[i].logged;
            for (q, &v) in &l.clock {
                if q == host || v <= seen.get(q.as_str()).copied().unwrap_or(0) {
                    continue;
                }
                seen.insert(q.as_str(), v);
                let why = match last.get(q.as_str()) {
                    None => format!(
                        "the clock names host `{q}` ({q}: {v}), which logs no event in this execution (ShiViz rejects it); event kept, and weft check will report the missing event"
                    ),
                    Some(&n) if v > n => format!(
                        "the clock has seen {q}@{v}, but `{q}`'s clock only reaches {n} in this execution (ShiViz rejects it); event kept, and weft check will report the missing event"
                    ),
                    Some(_) => continue,
                };
                problems.push(problem(sources, l, why));
            }
        }
    }
}

/// Step 4: the weft events, their `vc`s turned from positions per host into seqs per replica
/// when those differ.
fn weft_events(placed: Vec<Placed>, checker: &mut LineChecker) -> Vec<Event> {
    let mut ids: HashMap<(&str, u64), (&str, u64)> = HashMap::new();
    let mut names: HashMap<&str, &str> = HashMap::new();
    for p in &placed {
        let host = p.logged.host.as_str();
        ids.entry((host, p.pos))
            .or_insert((p.event.replica.as_str(), p.event.seq));
        names.entry(host).or_insert(p.event.replica.as_str());
    }
    let identity = ids
        .iter()
        .all(|(&(h, pos), &(r, seq))| h == r && pos == seq);
    let vcs: Vec<Option<BTreeMap<String, u64>>> = placed
        .iter()
        .map(|p| {
            (!identity).then(|| {
                let mut vc = BTreeMap::new();
                for (q, &v) in &p.logged.clock {
                    let (r, s) = ids
                        .get(&(q.as_str(), v))
                        .copied()
                        .unwrap_or((names.get(q.as_str()).copied().unwrap_or(q), v));
                    let e = vc.entry(r.to_string()).or_insert(0);
                    *e = s.max(*e);
                }
                vc
            })
        })
        .collect();
    let mut events = Vec::with_capacity(placed.len());
    for (p, vc) in placed.into_iter().zip(vcs) {
        let mut event = p.event;
        if let Some(vc) = vc {
            let logged = event.vc.replace(vc);
            // Cannot fail (the names are the events' own), but keep the output valid.
            if check(&event, checker).is_err() {
                event.vc = logged;
            }
        }
        events.push(event);
    }
    events
}
