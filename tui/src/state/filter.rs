//! The `:` filter language: `field=value[,value...]` terms, parsed once, then compiled against
//! each model (replica names resolve to lanes) so that testing an event looks nothing up.
//!
//! Separate because it is a small language of its own, with its own errors.

use std::collections::BTreeSet;

use weft_trace::{Kind, Op};

use crate::model::Model;

/// One term of a `:` filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    /// What it looks at.
    pub field: Field,
    /// Accepted values (any of them).
    pub values: Vec<String>,
    /// `!` or `!=`: reject instead.
    pub negate: bool,
}

/// A filterable field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The replica name.
    Replica,
    /// The key written or read.
    Key,
    /// The event kind.
    Kind,
    /// The write op.
    Op,
}

/// A parsed `:` filter: every term must accept an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// As typed.
    pub text: String,
    /// The terms.
    pub terms: Vec<Term>,
    compiled: Vec<Compiled>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Compiled {
    Lanes(BTreeSet<u32>, bool),
    Keys(BTreeSet<String>, bool),
    Kinds(Vec<Kind>, bool),
    Ops(Vec<Op>, bool),
}

impl Filter {
    /// Parses `field=value[,value...]` terms separated by spaces; `!field=v` or `field!=v`
    /// negates. Fields: replica (r), key (k), kind, op.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let mut terms = Vec::new();
        for word in text.split_whitespace() {
            let (mut negate, body) = match word.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, word),
            };
            let (name, values) = if let Some((n, v)) = body.split_once("!=") {
                negate = !negate;
                (n, v)
            } else if let Some((n, v)) = body.split_once('=') {
                (n, v)
            } else {
                return Err(format!(
                    "filter term `{word}`: expected field=value (fields: replica, key, kind, op)"
                ));
            };
            let field = match name {
                "replica" | "r" => Field::Replica,
                "key" | "k" => Field::Key,
                "kind" => Field::Kind,
                "op" => Field::Op,
                other => {
                    return Err(format!(
                        "filter term `{word}`: unknown field `{other}` (fields: replica, key, kind, op)"
                    ))
                }
            };
            let values: Vec<String> = values
                .split(',')
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect();
            if values.is_empty() {
                return Err(format!("filter term `{word}`: no value after `=`"));
            }
            for v in &values {
                match field {
                    Field::Kind if Kind::parse(v).is_none() => {
                        return Err(format!(
                            "filter term `{word}`: kind `{v}` is not one of write, read, send, recv, local"
                        ))
                    }
                    Field::Op if Op::parse(v).is_none() => {
                        return Err(format!(
                            "filter term `{word}`: op `{v}` is not one of set, inc, add, remove"
                        ))
                    }
                    _ => {}
                }
            }
            terms.push(Term {
                field,
                values,
                negate,
            });
        }
        Ok(Filter {
            text: text.trim().to_string(),
            terms,
            compiled: Vec::new(),
        })
    }

    /// Resolves names against a model (again after each live update).
    pub(super) fn compile(&mut self, m: &Model) {
        self.compiled = self
            .terms
            .iter()
            .map(|t| match t.field {
                Field::Replica => Compiled::Lanes(
                    (0..m.lanes())
                        .filter(|&l| t.values.iter().any(|v| *v == m.lane_names[l as usize]))
                        .collect(),
                    t.negate,
                ),
                Field::Key => Compiled::Keys(t.values.iter().cloned().collect(), t.negate),
                Field::Kind => Compiled::Kinds(
                    t.values.iter().filter_map(|v| Kind::parse(v)).collect(),
                    t.negate,
                ),
                Field::Op => Compiled::Ops(
                    t.values.iter().filter_map(|v| Op::parse(v)).collect(),
                    t.negate,
                ),
            })
            .collect();
    }

    pub(super) fn accepts(&self, m: &Model, n: u32) -> bool {
        let e = m.event(n);
        self.compiled.iter().all(|c| match c {
            Compiled::Lanes(set, neg) => set.contains(&m.lane(n)) != *neg,
            Compiled::Keys(set, neg) => e.key().is_some_and(|k| set.contains(m.sym(k))) != *neg,
            Compiled::Kinds(kinds, neg) => kinds.contains(&e.kind) != *neg,
            Compiled::Ops(ops, neg) => (e.kind == Kind::Write && ops.contains(&e.op)) != *neg,
        })
    }
}
