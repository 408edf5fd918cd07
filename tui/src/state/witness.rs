//! A read violation shown in the details pane, and its witness chain drawn in the diagram.
//!
//! A `stale-read`, `read-of-unseen-write` or `read-mismatch` carries its evidence
//! ([`weft_analyzer::ReadEvidence`]): what the read returned, what its causal past implies, and
//! the chain of events that proves it (the overwritten write, the write that overwrote it, the
//! read). Opening one from the violations pane (or with `v`) keeps it here, resolved to the
//! model's nodes once, so that drawing a frame looks nothing up. Like the conflict shown side by
//! side, it stays while the selection walks along its chain (the witnesses and the events of the
//! path between them) and goes when the selection leaves it.

use weft_analyzer::Violation;

use super::{chain, App};
use crate::model::Model;

/// The read violation in the details pane, resolved against the model it was opened on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadDetail {
    /// The violation, as an index into the report.
    pub violation: u32,
    /// The witness chain's events, in the evidence's order (happens-before order, the read
    /// last); `None` for an id the model does not have.
    pub witnesses: Vec<Option<u32>>,
    /// Every event on a shortest path of direct edges through the witnesses, in order, the
    /// witnesses included: how the diagram shows *why* the read had seen them.
    pub path: Vec<u32>,
}

impl ReadDetail {
    /// The detail for violation `v` of `m`'s report, if it carries read evidence.
    pub fn of(m: &Model, v: u32) -> Option<ReadDetail> {
        let evidence = m.report.violations.get(v as usize)?.read.as_deref()?;
        let witnesses: Vec<Option<u32>> = evidence.chain.iter().map(|id| m.find(id)).collect();
        let found: Vec<u32> = witnesses.iter().flatten().copied().collect();
        let mut path: Vec<u32> = found.first().copied().into_iter().collect();
        for pair in found.windows(2) {
            match chain(m, pair[0], pair[1]) {
                Some(steps) => path.extend_from_slice(&steps[1..]),
                // Not ordered in this model (a later model dropped an edge): the witnesses
                // alone are still worth showing.
                None => path.push(pair[1]),
            }
        }
        Some(ReadDetail {
            violation: v,
            witnesses,
            path,
        })
    }

    /// Where `n` is in the witness chain (0 for the first), if it is a witness.
    pub fn witness_position(&self, n: u32) -> Option<usize> {
        self.witnesses.iter().position(|&w| w == Some(n))
    }

    /// Whether `p → n` is an edge of the path through the witnesses.
    pub fn on_path(&self, p: u32, n: u32) -> bool {
        self.path.windows(2).any(|w| w[0] == p && w[1] == n)
    }

    /// Whether `n` is on the path (a witness or an event between two of them).
    pub fn path_contains(&self, n: u32) -> bool {
        self.path.contains(&n)
    }
}

/// What witness `i` of a chain of `len` did, in the words of the violation's code: the chain of
/// a `stale-read` is (overwritten write, the write that overwrote it, read), of a
/// `read-of-unseen-write` (unseen write, read), of a `read-mismatch` (read).
pub fn role(v: &Violation, i: usize, len: usize) -> &'static str {
    use weft_analyzer::Code;
    let set = v
        .read
        .as_ref()
        .is_some_and(|r| r.crdt == weft_trace::Crdt::Set);
    if i + 1 == len {
        return "the read";
    }
    match (v.code, i, set) {
        (Code::StaleRead, 0, false) => "overwritten",
        (Code::StaleRead, 0, true) => "added, then removed",
        (Code::StaleRead, _, false) => "overwrote it before the read",
        (Code::StaleRead, _, true) => "removed it before the read",
        (Code::ReadOfUnseenWrite, _, _) => "not in the read's causal past",
        _ => "",
    }
}

impl App {
    /// Shows read violation `v` in the details pane (`None`, or a violation without read
    /// evidence, closes it). Opening it closes the conflict shown, so one finding is explained
    /// at a time.
    pub fn set_detail_read(&mut self, v: Option<u32>) {
        self.detail_read = v.and_then(|v| ReadDetail::of(&self.model, v));
        if self.detail_read.is_some() {
            self.set_detail_conflict(None);
        }
    }

    /// Keeps the read detail while the selection `n` is on its path (the user walking the
    /// chain from witness to witness); closes it otherwise.
    pub(crate) fn keep_detail_read(&mut self, n: Option<u32>) {
        let keep = match (&self.detail_read, n) {
            (Some(d), Some(n)) => d.path_contains(n),
            _ => false,
        };
        if !keep {
            self.detail_read = None;
        }
    }

    /// The read detail for a new model: the same violation (code and event) if the new report
    /// still has it, resolved against the new nodes.
    pub(crate) fn remap_detail_read(&mut self, old: &Model) {
        let Some(d) = self.detail_read.take() else {
            return;
        };
        let Some(was) = old.report.violations.get(d.violation as usize) else {
            return;
        };
        let now = self
            .model
            .report
            .violations
            .iter()
            .position(|v| v.code == was.code && v.event == was.event && v.read.is_some());
        self.detail_read = now.and_then(|v| ReadDetail::of(&self.model, v as u32));
    }
}
