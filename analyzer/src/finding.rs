//! The violations of the spec's section 4 as findings, each built in one place (the engine's
//! per-node, per-message, per-pair and cycle checks all call these), so a finding reads the
//! same wherever it was found.

use weft_trace::EventId;

use crate::graph::human_ns;
use crate::report::{Code, ReadEvidence};

/// A violation found by the analysis, before ids are resolved to names. `node` is the finder's
/// own node number; reports sort by the node's id.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Finding {
    pub node: u32,
    pub code: Code,
    pub related: Vec<EventId>,
    pub message: String,
    /// The structured evidence of a read code.
    pub read: Option<Box<ReadEvidence>>,
}

/// `seq-gap` on the first present event of a replica, when its seq is not 1.
pub(crate) fn first_seq_gap(node: u32, replica: &str, seq: u64) -> Finding {
    Finding {
        node,
        code: Code::SeqGap,
        related: vec![],
        message: format!(
            "the first event of replica {replica:?} in the trace has seq {seq}, not 1 ({} earlier event{} missing)",
            seq - 1,
            if seq == 2 { " is" } else { "s are" }
        ),
        read: None,
    }
}

/// `seq-gap` between two consecutive present events of a replica.
pub(crate) fn seq_gap(node: u32, id: &EventId, prev: &EventId) -> Finding {
    let gap = id.seq - prev.seq - 1;
    Finding {
        node,
        code: Code::SeqGap,
        related: vec![],
        message: format!(
            "{id} follows {prev} in its replica's history: {gap} event{} in between {} missing",
            if gap == 1 { "" } else { "s" },
            if gap == 1 { "is" } else { "are" }
        ),
        read: None,
    }
}

/// `unmatched-recv`: no send carries the message.
pub(crate) fn unmatched_recv(node: u32, id: &EventId, msg: &str) -> Finding {
    Finding {
        node,
        code: Code::UnmatchedRecv,
        related: vec![],
        message: format!("{id} receives message {msg:?}, which no send in the trace carries"),
        read: None,
    }
}

/// At most this many items of a list are written out in a message; the others are counted
/// (`..., and 99980 more`). `related` keeps them all.
const MAX_LISTED: usize = 20;

/// The first [`MAX_LISTED`] of `items` joined with `, `, then how many more there are.
fn listed<T>(items: &[T], show: impl Fn(&T) -> String) -> String {
    let mut out: Vec<String> = items.iter().take(MAX_LISTED).map(show).collect();
    if items.len() > MAX_LISTED {
        out.push(format!("and {} more", items.len() - MAX_LISTED));
    }
    out.join(", ")
}

/// `duplicate-msg` on the first (by id) of `senders`, which are in id order (two or more).
pub(crate) fn duplicate_msg(node: u32, msg: &str, senders: &[EventId]) -> Finding {
    Finding {
        node,
        code: Code::DuplicateMsg,
        related: senders[1..].to_vec(),
        message: format!(
            "message {msg:?} is sent by {} events: {}",
            senders.len(),
            listed(senders, |s| s.to_string())
        ),
        read: None,
    }
}

/// `missing-event`: `missing` (id, why) sorted by id and without repeated ids.
pub(crate) fn missing_event(node: u32, id: &EventId, missing: &[(EventId, &str)]) -> Finding {
    Finding {
        node,
        code: Code::MissingEvent,
        related: missing.iter().map(|m| m.0.clone()).collect(),
        message: format!(
            "{id} depends on events that are not in the trace: {}",
            listed(missing, |(m, why)| format!("{m} ({why})"))
        ),
        read: None,
    }
}

/// `lamport-violation`: `bad` (predecessor, its lamport) in id order, without repeats.
pub(crate) fn lamport_violation(
    node: u32,
    id: &EventId,
    lamport: u64,
    bad: &[(EventId, u64)],
) -> Finding {
    Finding {
        node,
        code: Code::LamportViolation,
        related: bad.iter().map(|(p, _)| p.clone()).collect(),
        message: format!(
            "{id} has lamport {lamport}, not above its direct predecessor{}: {}",
            if bad.len() == 1 { "" } else { "s" },
            listed(bad, |(p, la)| format!("{p} has {la}"))
        ),
        read: None,
    }
}

/// `wall-clock-inversion`: the worst of `edges` inverted edges from replica `pa` to `pb`, where
/// `b` is `inversion` ns earlier by wall clock than its causal predecessor `a`.
pub(crate) fn wall_clock_inversion(
    node: u32,
    b: &EventId,
    a: &EventId,
    inversion: u128,
    edges: u64,
) -> Finding {
    Finding {
        node,
        code: Code::WallClockInversion,
        related: vec![a.clone()],
        message: format!(
            "{b} is {} earlier by wall clock than its causal predecessor {a} — the worst of {edges} inverted edge{} from {:?} to {:?}; their wall clocks are skewed",
            human_ns(inversion),
            if edges == 1 { "" } else { "s" },
            a.replica,
            b.replica,
        ),
        read: None,
    }
}

/// `duplicate-event`: a different copy of an id was read; the first is analysed.
pub(crate) fn duplicate_event(node: u32, id: &EventId) -> Finding {
    Finding {
        node,
        code: Code::DuplicateEvent,
        related: vec![],
        message: format!(
            "{id} was read more than once with different content; the first copy read is the one analysed"
        ),
        read: None,
    }
}

/// `vc-mismatch`: `diffs` (replica, reported, implied) for every entry that differs, in replica
/// name order.
pub(crate) fn vc_mismatch(node: u32, id: &EventId, diffs: &[(String, u64, u64)]) -> Finding {
    let shown: Vec<String> = diffs
        .iter()
        .take(8)
        .map(|(name, rep, imp)| format!("{name:?} reported {rep}, implied {imp}"))
        .collect();
    let more = if diffs.len() > 8 {
        format!(" (and {} more entries)", diffs.len() - 8)
    } else {
        String::new()
    };
    Finding {
        node,
        code: Code::VcMismatch,
        related: vec![],
        message: format!(
            "{id}'s vector clock differs from the one its causal past implies: {}{more}",
            shown.join("; ")
        ),
        read: None,
    }
}
