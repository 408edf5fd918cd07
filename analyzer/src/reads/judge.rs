//! The verdict on a read, by CRDT type (`counter`, `lww`, `mv`, `set`): what its past implies,
//! and the finding with its evidence (unseen write, stale read, mismatch) when it returned
//! something else. Separate from how the past is found ([`super::past`]).

use serde_json::Value;
use weft_trace::Crdt;

use super::{integer, plural, shown, Ctx, Seen, Status};
use crate::finding::Finding;
use crate::report::{Code, ReadEvidence};

impl<S: Seen> Ctx<'_, S> {
    /// The verdict on read `r` that returned `value`.
    pub(super) fn judge(&self, r: u32, value: &Value) -> Option<Finding> {
        let p = self.past(r);
        match self.crdt {
            Crdt::Counter => self.counter(r, value, &p),
            Crdt::Lww => self.lww(r, value, &p),
            Crdt::Mv => self.elements(r, value, &p, Self::mv_expected, Self::register_status),
            Crdt::Set => self.elements(r, value, &p, Self::set_expected, Self::set_status),
        }
    }

    pub(super) fn counter(&self, r: u32, value: &Value, p: &[usize]) -> Option<Finding> {
        let read = integer(value)?;
        let (mut sum, mut n) = (0i128, 0usize);
        for (c, &len) in p.iter().enumerate() {
            sum += self.cum[self.starts[c] + len] - self.cum[self.starts[c]];
            n += len;
        }
        if read == sum {
            return None;
        }
        let expected = i64::try_from(sum)
            .map(Value::from)
            .or_else(|_| u64::try_from(sum).map(Value::from))
            .unwrap_or_else(|_| Value::String(sum.to_string()));
        let message = format!(
            "{} read {} = {}, expected {sum} (the sum of {} it has seen)",
            self.id(r),
            self.key_name(),
            shown(value),
            plural(n, "increment", "increments")
        );
        Some(self.mismatch(r, value, p, expected, false, message))
    }

    pub(super) fn lww(&self, r: u32, value: &Value, p: &[usize]) -> Option<Finding> {
        let class = self.values.find(value);
        // Right: the value of a maximal write of the past; or null when the past is empty.
        let latest_holds = (0..self.reps.len()).any(|c| {
            self.last(p, c)
                .is_some_and(|i| Some(self.class[i]) == class && self.maximal(p, i))
        });
        if latest_holds || (value.is_null() && p.iter().all(|&l| l == 0)) {
            return None;
        }
        if let Some(c) = class {
            let writes = &self.writers[c as usize];
            match writes.iter().copied().find(|&i| self.in_past(p, i)) {
                None => return Some(self.unseen(r, value, p, writes[0], false)),
                Some(a) => {
                    let b = self
                        .first_after(p, a, None)
                        .expect("a write of the past that is not maximal has a successor there");
                    return Some(self.stale(r, value, p, a, b));
                }
            }
        }
        let (expected, _) = self.expected_of(p);
        let message = format!(
            "{} read {} = {}, which no write of the key wrote; expected {}",
            self.id(r),
            self.key_name(),
            shown(value),
            self.one_of(&expected, p)
        );
        Some(self.mismatch(r, value, p, expected, true, message))
    }

    /// `lww` expectations in words: the values of the latest writes seen, or null.
    pub(super) fn one_of(&self, expected: &Value, p: &[usize]) -> String {
        let vals = expected.as_array().map_or(&[][..], |a| &a[..]);
        if p.iter().all(|&l| l == 0) {
            return "null (it has seen no write of the key)".into();
        }
        let ids: Vec<String> = self
            .maxima(p)
            .into_iter()
            .map(|i| self.id(self.nodes[i]).to_string())
            .collect();
        let vals: Vec<String> = vals.iter().map(shown).collect();
        if vals.len() == 1 {
            format!(
                "{} (the latest write it has seen: {})",
                vals[0],
                ids.join(", ")
            )
        } else {
            format!(
                "one of {} (the latest writes it has seen: {})",
                vals.join(", "),
                ids.join(", ")
            )
        }
    }

    /// `mv`: the values of the maximal writes, sorted by JSON text, and their classes.
    pub(super) fn mv_expected(&self, p: &[usize]) -> (Value, Vec<u32>) {
        let mut classes: Vec<u32> = self.maxima(p).iter().map(|&i| self.class[i]).collect();
        classes.sort_unstable();
        classes.dedup();
        (self.sorted_values(&classes), classes)
    }

    /// `set`: the elements added in the past and not removed after, sorted by JSON text.
    pub(super) fn set_expected(&self, p: &[usize]) -> (Value, Vec<u32>) {
        let classes: Vec<u32> = (0..self.values.values.len() as u32)
            .filter(|&c| self.set_status(p, c) == Status::Present)
            .collect();
        (self.sorted_values(&classes), classes)
    }

    pub(super) fn sorted_values(&self, classes: &[u32]) -> Value {
        let mut vals: Vec<(String, Value)> = classes
            .iter()
            .map(|&c| {
                let v = self.values.values[c as usize];
                (
                    serde_json::to_string(v).expect("values serialize"),
                    v.clone(),
                )
            })
            .collect();
        vals.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Array(vals.into_iter().map(|(_, v)| v).collect())
    }

    /// An `mv` element: present (a maximal write wrote it), stale (written in the past only by
    /// overwritten writes: the smallest of them), unseen (written only outside the past: the
    /// smallest), or never written.
    pub(super) fn register_status(&self, p: &[usize], c: u32) -> Status {
        let writes = &self.writers[c as usize];
        if writes.is_empty() {
            return Status::Unwritten;
        }
        let mut first_in_past = None;
        for &i in writes {
            if !self.in_past(p, i) {
                continue;
            }
            first_in_past.get_or_insert(i);
            if self.last(p, self.chain_of[i] as usize) == Some(i) && self.maximal(p, i) {
                return Status::Present;
            }
        }
        match first_in_past {
            Some(a) => Status::Stale(a),
            None => Status::Unseen(writes[0]),
        }
    }

    /// A set element: present (an add of it in the past that no remove of it in the past
    /// follows), stale (every add of it in the past is removed after: the smallest add), unseen
    /// (added only outside the past: the smallest add), or never added.
    pub(super) fn set_status(&self, p: &[usize], c: u32) -> Status {
        let adds = &self.writers[c as usize];
        if adds.is_empty() {
            return Status::Unwritten;
        }
        let removes = &self.removes[c as usize];
        let mut first_in_past = None;
        for group in self.by_chain(p, adds) {
            let (Some(&first), Some(&a)) = (group.first(), group.last()) else {
                continue;
            };
            first_in_past.get_or_insert(first);
            // Earlier adds of the chain happen before its last one in the past: if that one is
            // removed after, so are they.
            if self.first_after(p, a, Some(removes)).is_none() {
                return Status::Present;
            }
        }
        match first_in_past {
            Some(a) => Status::Stale(a),
            None => Status::Unseen(adds[0]),
        }
    }

    /// `mv` and `set` reads: the elements examined together (unseen, else stale, else a
    /// mismatch with the expected elements).
    pub(super) fn elements(
        &self,
        r: u32,
        value: &Value,
        p: &[usize],
        expected: fn(&Self, &[usize]) -> (Value, Vec<u32>),
        status: fn(&Self, &[usize], u32) -> Status,
    ) -> Option<Finding> {
        let Some(items) = value.as_array() else {
            let (exp, _) = expected(self, p);
            let message = format!(
                "{} read {} = {}, which is not an array: a {} read returns {}; expected {}",
                self.id(r),
                self.key_name(),
                shown(value),
                self.crdt,
                if self.crdt == Crdt::Set {
                    "its elements"
                } else {
                    "its siblings"
                },
                shown(&exp)
            );
            return Some(self.mismatch(r, value, p, exp, false, message));
        };
        let mut classes: Vec<Option<u32>> = items.iter().map(|v| self.values.find(v)).collect();
        let repeated = repeated(items, &classes);
        classes.sort_unstable();
        classes.dedup();
        let known: Vec<u32> = classes.iter().flatten().copied().collect();
        let statuses: Vec<(u32, Status)> = known.iter().map(|&c| (c, status(self, p, c))).collect();
        if let Some(w) = statuses
            .iter()
            .filter_map(|(_, s)| match s {
                Status::Unseen(w) => Some(*w),
                _ => None,
            })
            .min()
        {
            return Some(self.unseen(r, value, p, w, true));
        }
        if let Some((c, a)) = statuses
            .iter()
            .filter_map(|(c, s)| match s {
                Status::Stale(a) => Some((*c, *a)),
                _ => None,
            })
            .min_by_key(|&(_, a)| a)
        {
            let removes = (self.crdt == Crdt::Set).then(|| &self.removes[c as usize][..]);
            let b = self
                .first_after(p, a, removes)
                .expect("a stale element's write is followed in the past");
            return Some(self.stale(r, value, p, a, b));
        }
        let (exp, want) = expected(self, p);
        let unwritten = classes.iter().any(|c| c.is_none())
            || statuses.iter().any(|(_, s)| *s == Status::Unwritten);
        if !repeated && !unwritten && known == want {
            return None;
        }
        let why = if repeated {
            "an element is repeated".to_string()
        } else {
            self.missing_and_extra(items, &known, &want)
        };
        let message = format!(
            "{} read {} = {}, expected {} ({}; it has seen {} of the key)",
            self.id(r),
            self.key_name(),
            shown(value),
            shown(&exp),
            why,
            plural(p.iter().sum(), "write", "writes")
        );
        Some(self.mismatch(r, value, p, exp, false, message))
    }

    /// Why the elements read differ from the expected ones: the expected ones missing, and
    /// those no write of the key wrote (or added).
    pub(super) fn missing_and_extra(&self, items: &[Value], known: &[u32], want: &[u32]) -> String {
        let missing: Vec<String> = want
            .iter()
            .filter(|c| !known.contains(c))
            .map(|&c| shown(self.values.values[c as usize]))
            .collect();
        let extra: Vec<String> = items
            .iter()
            .zip(items.iter().map(|v| self.values.find(v)))
            .filter(|(_, c)| c.is_none_or(|c| !want.contains(&c)))
            .map(|(v, _)| shown(v))
            .collect();
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("missing {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            parts.push(format!(
                "{}: no write of the key {} it",
                extra.join(", "),
                if self.crdt == Crdt::Set {
                    "added"
                } else {
                    "wrote"
                }
            ));
        }
        parts.join("; ")
    }

    pub(super) fn key_name(&self) -> &str {
        self.trace.syms().resolve(self.key)
    }

    pub(super) fn expected_of(&self, p: &[usize]) -> (Value, bool) {
        match self.crdt {
            Crdt::Lww => {
                if p.iter().all(|&l| l == 0) {
                    (Value::Array(vec![Value::Null]), true)
                } else {
                    (self.mv_expected(p).0, true)
                }
            }
            Crdt::Mv => (self.mv_expected(p).0, false),
            Crdt::Set => (self.set_expected(p).0, false),
            Crdt::Counter => unreachable!("counter reads are only ever mismatched"),
        }
    }

    /// The structured evidence; `chain` is the witness writes, the read is added at its end.
    pub(super) fn evidence(
        &self,
        r: u32,
        value: &Value,
        p: &[usize],
        expected: Value,
        one_of: bool,
        chain: &[u32],
    ) -> Option<Box<ReadEvidence>> {
        Some(Box::new(ReadEvidence {
            key: self.key_name().to_owned(),
            crdt: self.crdt,
            value: value.clone(),
            expected,
            one_of,
            chain: chain.iter().chain([&r]).map(|&v| self.id(v)).collect(),
            seen_writes: p.iter().sum::<usize>() as u64,
        }))
    }

    pub(super) fn mismatch(
        &self,
        r: u32,
        value: &Value,
        p: &[usize],
        expected: Value,
        one_of: bool,
        message: String,
    ) -> Finding {
        Finding {
            node: r,
            code: Code::ReadMismatch,
            related: vec![],
            message,
            read: self.evidence(r, value, p, expected, one_of, &[]),
        }
    }

    /// `read-of-unseen-write`: `w` (a write index) is the smallest write of what was read (an
    /// element of it), none of whose writes the read has seen.
    pub(super) fn unseen(
        &self,
        r: u32,
        value: &Value,
        p: &[usize],
        w: usize,
        element: bool,
    ) -> Finding {
        let wv = self.nodes[w];
        let (rid, wid) = (self.id(r), self.id(wv));
        let what = shown(self.values.values[self.class[w] as usize]);
        let message = format!(
            "{rid} read {} = {}, but only writes it had not seen {} {}{what} (the smallest: {wid}, not in its causal past)",
            self.key_name(),
            shown(value),
            if self.crdt == Crdt::Set { "added" } else { "wrote" },
            if element { "the element " } else { "" },
        );
        let (expected, one_of) = self.expected_of(p);
        Finding {
            node: r,
            code: Code::ReadOfUnseenWrite,
            related: vec![wid],
            message,
            read: self.evidence(r, value, p, expected, one_of, &[wv]),
        }
    }

    /// `stale-read`: write `a` of the past wrote what was read (an element of it), and `b`, a
    /// write of the past, overwrote (removed) it before the read.
    pub(super) fn stale(&self, r: u32, value: &Value, p: &[usize], a: usize, b: usize) -> Finding {
        let (av, bv) = (self.nodes[a], self.nodes[b]);
        let (rid, aid, bid) = (self.id(r), self.id(av), self.id(bv));
        let what = shown(self.values.values[self.class[a] as usize]);
        let (wrote, overwrote) = if self.crdt == Crdt::Set {
            ("added", "removed")
        } else {
            ("wrote", "overwrote")
        };
        let message = format!(
            "{rid} read {} = {}, but {aid} {wrote} {what} and {bid} {overwrote} it before the read ({aid} → {bid} → {rid})",
            self.key_name(),
            shown(value),
        );
        let (expected, one_of) = self.expected_of(p);
        Finding {
            node: r,
            code: Code::StaleRead,
            related: vec![aid, bid],
            message,
            read: self.evidence(r, value, p, expected, one_of, &[av, bv]),
        }
    }
}

/// Whether an element of a read array is repeated: the same value class twice, or (for values
/// no write wrote, which have no class) the same value twice.
fn repeated(items: &[Value], classes: &[Option<u32>]) -> bool {
    let mut repeated = false;
    let mut seen_classes = classes.to_vec();
    seen_classes.sort_unstable();
    // Values no write wrote can repeat too: compare those by value.
    let unknown: Vec<&Value> = items
        .iter()
        .zip(classes)
        .filter(|(_, c)| c.is_none())
        .map(|(v, _)| v)
        .collect();
    repeated |= seen_classes
        .windows(2)
        .any(|w| w[0].is_some() && w[0] == w[1]);
    repeated |= unknown
        .iter()
        .enumerate()
        .any(|(i, a)| unknown[i + 1..].iter().any(|b| a == b));
    repeated
}
