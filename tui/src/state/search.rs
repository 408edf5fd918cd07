//! The `/` search: what a query matches, the matches kept in diagram order (and updated
//! incrementally when a live model grows), and stepping through them with `n`/`N`.
//!
//! Separate from the reducer: matching is the one place that reads values and attributes.

use weft_trace::EventId;

use super::App;
use crate::model::Model;

/// A `/` search and its matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Search {
    /// As typed.
    pub query: String,
    /// Matching nodes in diagram order (row, then lane).
    pub matches: Vec<u32>,
}

/// A search's text, prepared: what [`App`] matches each event against.
struct SearchQuery {
    fold: bool,
    text: String,
    id: Option<EventId>,
}

impl SearchQuery {
    fn new(query: &str) -> SearchQuery {
        let fold = !query.chars().any(char::is_uppercase);
        let mut q = SearchQuery {
            fold,
            text: String::new(),
            id: EventId::parse_text(query),
        };
        q.text = q.norm(query);
        q
    }

    fn norm(&self, s: &str) -> String {
        if self.fold {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    }

    /// Whether node `n` matches: the replica name or id, or the key, value or attrs containing
    /// the text.
    fn hits(&self, m: &Model, n: u32) -> bool {
        let e = m.event(n);
        let name = &m.lane_names[m.lane(n) as usize];
        let q = &self.text;
        self.id
            .as_ref()
            .is_some_and(|id| *id.replica == **name && id.seq == e.seq)
            || self.norm(name) == *q
            || e.key().is_some_and(|k| self.norm(m.sym(k)).contains(q))
            || m.value(n)
                .is_some_and(|v| self.norm(&v.to_string()).contains(q))
            || m.attrs(n).is_some_and(|a| {
                self.norm(&serde_json::Value::Object(a.clone()).to_string())
                    .contains(q)
            })
    }
}

impl App {
    /// Events matching a search: the replica name or id, or the key, value or attrs containing
    /// the text (case-insensitive unless the query has capitals), in diagram order.
    pub(super) fn search_matches(&self, query: &str) -> Vec<u32> {
        let m = &self.model;
        let q = SearchQuery::new(query);
        let mut out = Vec::new();
        for r in 0..m.rows {
            out.extend(m.row_nodes(r).iter().copied().filter(|&n| q.hits(m, n)));
        }
        out
    }

    /// The matches of `query` in the model, from its `matches` in the model before, when the
    /// model grew from it: only the nodes added or moved to another row since are looked at.
    pub(super) fn grown_matches(&self, query: &str, matches: &[u32], changed: &[u32]) -> Vec<u32> {
        let m = &self.model;
        let q = SearchQuery::new(query);
        let key = |n: u32| (m.row[n as usize], m.lane(n));
        let mut added: Vec<u32> = changed.iter().copied().filter(|&n| q.hits(m, n)).collect();
        added.sort_unstable_by_key(|&n| key(n));
        // The others kept their rows, so their order.
        let kept = matches
            .iter()
            .copied()
            .filter(|n| changed.binary_search(n).is_err());
        let mut out = Vec::with_capacity(matches.len() + added.len());
        let mut added = added.into_iter().peekable();
        for n in kept {
            while let Some(a) = added.next_if(|&a| key(a) < key(n)) {
                out.push(a);
            }
            out.push(n);
        }
        out.extend(added);
        out
    }

    /// The diagram position (row, lane) of a node, for "next in reading order".
    fn pos_of(&self, n: u32) -> (u32, u32) {
        (self.model.row[n as usize], self.model.lane(n))
    }

    pub(super) fn search_step(&mut self, forward: bool) {
        let Some(s) = &self.search else {
            self.message = Some("no search yet: press / to search".to_string());
            return;
        };
        let here = self.selected.map(|n| self.pos_of(n));
        let visible: Vec<u32> = s
            .matches
            .iter()
            .copied()
            .filter(|&n| self.visible(n))
            .collect();
        if visible.is_empty() {
            self.message = Some(format!("no shown event matches `{}`", s.query));
            return;
        }
        let pick = if forward {
            visible
                .iter()
                .copied()
                .find(|&n| here.is_none_or(|h| self.pos_of(n) > h))
                .or_else(|| {
                    self.message = Some("search wrapped to the top".to_string());
                    visible.first().copied()
                })
        } else {
            visible
                .iter()
                .rev()
                .copied()
                .find(|&n| here.is_none_or(|h| self.pos_of(n) < h))
                .or_else(|| {
                    self.message = Some("search wrapped to the bottom".to_string());
                    visible.last().copied()
                })
        };
        self.select(pick);
    }
}
