//! Mapping OpenTelemetry (OTLP) log records and spans to weft events (trace-format §7).
//!
//! A record (log record or span) is a weft event when it has the attribute `weft.seq`; every
//! other record is skipped and counted, never an error. The `weft.*` attributes map to the event
//! fields:
//!
//! | attribute | accepted OTLP value | field |
//! |---|---|---|
//! | `weft.replica` | string | `replica` (absent: resource `service.instance.id`, else `service.name`) |
//! | `weft.seq`, `weft.lamport` | int (or a string holding a decimal integer) | `seq`, `lamport` |
//! | `weft.kind`, `weft.msg`, `weft.key`, `weft.op` | string | `kind`, `msg`, `key`, `op` |
//! | `weft.crdt` | string (on a `write` or `read`; ignored on other kinds) | `crdt` |
//! | `weft.vc` | kvlist of string → int, or a string holding a JSON object | `vc` |
//! | `weft.parents` | array of strings `replica@seq` (split at the last `@`) | `parents` |
//! | `weft.value` | anything | `value`, converted to JSON as below |
//!
//! `wall_ns` is the log record's `time_unix_nano` (a span's `start_time_unix_nano`), else (log
//! records only) its `observed_time_unix_nano`, when nonzero. Every other attribute — unknown
//! `weft.*` ones included — goes to `attrs`, and so does a log record's `body` (as
//! `attrs["body"]`, replacing an attribute literally named `body`).
//!
//! Values are converted to JSON as the proto3 JSON mapping does: strings, bools and ints as
//! themselves, doubles as numbers (NaN and the infinities as the strings `"NaN"`, `"Infinity"`,
//! `"-Infinity"`), arrays as arrays, kvlists as objects (a repeated key: the last one wins),
//! bytes as a standard, padded base64 string, an empty value as `null`.
//!
//! Each weft record is written straight to its stored NDJSON line ([`line`]), and held to every
//! rule of trace-format §2 a line of an NDJSON trace is held to (seq ≥ 1, replica 1–256 bytes,
//! kind and op spelling, `send`/`recv` need `msg`, `write`/`read` need `key`, no negative clock
//! entries, an unknown `weft.crdt` on a write or read, ...): a line that visibly keeps them all
//! is accepted with its fingerprint computed on the way, any other is judged by a
//! [`LineChecker`], so a rejection says what the same line sent as NDJSON would be told. A
//! record that fails is [`Rejected`] with the reason, and [`partial_success_message`] turns the
//! rejections into the OTLP `partial_success` text.
//!
//! Values of the string-index kind (`string_value_strindex`, `key_strindex`) belong to the
//! profiling signal; as the OTLP spec asks, they are treated as absent.

use std::fmt;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Av;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use weft_trace::{CheckedLine, Event, LineChecker};

mod json;
mod line;
mod value;

pub use json::{add_unreadable, logs_from_json, traces_from_json, Unreadable};

/// How many rejection reasons [`partial_success_message`] spells out.
pub const MAX_REASONS: usize = 20;

/// How deeply arrays and kvlists may nest inside one attribute value (far more than OTLP's own
/// decoding limit lets through the wire; guards against stack exhaustion on built values).
pub const MAX_DEPTH: usize = 64;

/// The reason given for a weft record whose replica cannot be determined.
pub const NO_REPLICA: &str =
    "no replica: set weft.replica or the resource attribute service.instance.id / service.name";

/// Longest string quoted verbatim in a reason (longer ones are cut, with `…`).
const QUOTE_CHARS: usize = 64;

/// One OTLP record that has `weft.seq` but could not become a valid event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// Position of the record in the request, from 0, counting every log record (or span) in
    /// order across resources and scopes, skipped ones included.
    pub index: usize,
    /// Why, naming the attribute or event field.
    pub reason: String,
}

/// What one OTLP request maps to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapped {
    /// The valid events, in request order, as validated lines ready for the store (no second
    /// validation needed).
    pub lines: Vec<crate::store::Line>,
    /// The records with `weft.seq` that break a rule, in request order.
    pub rejected: Vec<Rejected>,
    /// Records without `weft.seq`: not weft events, not errors.
    pub skipped: u64,
}

impl Mapped {
    /// The valid events as the owned model, parsed from [`Mapped::lines`]: for tests and
    /// programs embedding the mapping (the ingest path stores the lines and never needs them).
    pub fn events(&self) -> Result<Vec<Event>, serde_json::Error> {
        self.lines
            .iter()
            .map(|l| serde_json::from_slice(&l.bytes))
            .collect()
    }
}

/// One record of a request as the mapping sees it: its attributes, its body (log records), its
/// time field (name and value, when set) and its resource's replica fallback.
pub(super) struct RecordIn<'a> {
    pub(super) attrs: &'a [KeyValue],
    pub(super) body: Option<&'a AnyValue>,
    pub(super) time: Option<(&'static str, u64)>,
    pub(super) fallback: Option<&'a str>,
}

/// Every log record of a logs export request, in order.
pub(super) fn log_records(req: &ExportLogsServiceRequest, mut f: impl FnMut(RecordIn<'_>)) {
    for rl in &req.resource_logs {
        let fallback = resource_replica(rl.resource.as_ref());
        for sl in &rl.scope_logs {
            for rec in &sl.log_records {
                let time = if rec.time_unix_nano != 0 {
                    Some(("time_unix_nano", rec.time_unix_nano))
                } else if rec.observed_time_unix_nano != 0 {
                    Some(("observed_time_unix_nano", rec.observed_time_unix_nano))
                } else {
                    None
                };
                f(RecordIn {
                    attrs: &rec.attributes,
                    body: rec.body.as_ref(),
                    time,
                    fallback,
                });
            }
        }
    }
}

/// Every span of a trace export request, in order (spans have no body).
pub(super) fn span_records(req: &ExportTraceServiceRequest, mut f: impl FnMut(RecordIn<'_>)) {
    for rs in &req.resource_spans {
        let fallback = resource_replica(rs.resource.as_ref());
        for ss in &rs.scope_spans {
            for span in &ss.spans {
                let time = (span.start_time_unix_nano != 0)
                    .then_some(("start_time_unix_nano", span.start_time_unix_nano));
                f(RecordIn {
                    attrs: &span.attributes,
                    body: None,
                    time,
                    fallback,
                });
            }
        }
    }
}

/// Maps the log records of an OTLP logs export request.
pub fn map_logs(req: &ExportLogsServiceRequest) -> Mapped {
    let mut m = Mapper::default();
    log_records(req, |r| m.record(r.attrs, r.body, r.time, r.fallback));
    m.out
}

/// Maps the spans of an OTLP trace export request.
pub fn map_traces(req: &ExportTraceServiceRequest) -> Mapped {
    let mut m = Mapper::default();
    span_records(req, |r| m.record(r.attrs, r.body, r.time, r.fallback));
    m.out
}

/// Summarizes the rejections for OTLP's `partial_success.error_message`: empty when nothing was
/// rejected, else one line such as
///
/// ```text
/// 2 records rejected: record 3: field `seq`: must be an integer ≥ 1, got 0; record 7: ...
/// ```
///
/// Record numbers are [`Rejected::index`] (from 0). At most [`MAX_REASONS`] reasons are spelled
/// out, then `... and N more`.
pub fn partial_success_message(m: &Mapped) -> String {
    let n = m.rejected.len();
    if n == 0 {
        return String::new();
    }
    let mut s = format!("{n} record{} rejected: ", if n == 1 { "" } else { "s" });
    for (i, r) in m.rejected.iter().take(MAX_REASONS).enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        s.push_str(&format!("record {}: {}", r.index, r.reason));
    }
    if n > MAX_REASONS {
        s.push_str(&format!("; ... and {} more", n - MAX_REASONS));
    }
    s
}

/// Per-request state: the output, the record counter, one checker for the records whose lines
/// it must judge, and the last line's length (the next line's first allocation).
#[derive(Default)]
struct Mapper {
    checker: Option<LineChecker>,
    out: Mapped,
    index: usize,
    last_len: usize,
}

impl Mapper {
    fn record(
        &mut self,
        attrs: &[KeyValue],
        body: Option<&AnyValue>,
        time: Option<(&str, u64)>,
        fallback: Option<&str>,
    ) {
        let index = self.index;
        self.index += 1;
        if !attrs.iter().any(|kv| key_of(kv) == Some("weft.seq")) {
            self.out.skipped += 1;
            return;
        }
        let built = line::build(attrs, body, time, fallback, self.last_len + 64);
        match built.and_then(|b| self.judge(b)) {
            Ok(line) => {
                self.last_len = line.bytes.len();
                self.out.lines.push(line);
            }
            Err(reason) => self.out.rejected.push(Rejected { index, reason }),
        }
    }

    /// The stored line of a built record: as built when its verdict is known, else as the line
    /// checker judges it.
    fn judge(&mut self, built: line::Built) -> Result<crate::store::Line, String> {
        if let Some((replica, seq, fingerprint)) = built.verdict {
            return Ok(crate::store::Line {
                bytes: built.bytes.into(),
                replica,
                seq,
                fingerprint,
            });
        }
        match self
            .checker
            .get_or_insert_with(LineChecker::new)
            .check(&built.bytes)
        {
            Ok(CheckedLine::Event {
                replica,
                seq,
                fingerprint,
            }) => Ok(crate::store::Line {
                bytes: built.bytes.into(),
                replica,
                seq,
                fingerprint,
            }),
            Ok(other) => Err(format!("internal error: not an event ({other:?})")),
            Err(e) => Err(e.reason),
        }
    }
}

/// The replica a resource names for records without `weft.replica`: `service.instance.id`, else
/// `service.name` (only non-empty strings count).
fn resource_replica(res: Option<&Resource>) -> Option<&str> {
    let attrs = &res?.attributes;
    ["service.instance.id", "service.name"]
        .iter()
        .find_map(|name| {
            attrs
                .iter()
                .filter(|kv| key_of(kv) == Some(name))
                .find_map(|kv| match inner(kv.value.as_ref()) {
                    Some(Av::StringValue(s)) if !s.is_empty() => Some(s.as_str()),
                    _ => None,
                })
        })
}

/// The key of an attribute; `None` for a profiling-style `key_strindex` reference.
fn key_of(kv: &KeyValue) -> Option<&str> {
    (kv.key_strindex == 0 || !kv.key.is_empty()).then_some(kv.key.as_str())
}

/// The value inside an `AnyValue`; `None` when empty (or a profiling string-table reference).
fn inner(v: Option<&AnyValue>) -> Option<&Av> {
    match v?.value.as_ref()? {
        Av::StringValueStrindex(_) => None,
        other => Some(other),
    }
}

/// An OTLP value described for a reason: `a string "abc"`, `a double 1.5`, `an array`, ...
struct Describe<'a>(Option<&'a Av>);

impl fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("an empty value"),
            Some(Av::StringValue(s)) => write!(f, "a string {}", Quote(s)),
            Some(Av::BoolValue(b)) => write!(f, "a bool {b}"),
            Some(Av::IntValue(i)) => write!(f, "an int {i}"),
            Some(Av::DoubleValue(d)) => write!(f, "a double {d}"),
            Some(Av::ArrayValue(a)) => write!(f, "an array of {} values", a.values.len()),
            Some(Av::KvlistValue(l)) => write!(f, "a kvlist of {} entries", l.values.len()),
            Some(Av::BytesValue(b)) => write!(f, "{} bytes", b.len()),
            Some(Av::StringValueStrindex(_)) => f.write_str("a string-table reference"),
        }
    }
}

/// A string quoted for a reason, cut after [`QUOTE_CHARS`] characters.
struct Quote<'a>(&'a str);

impl fmt::Display for Quote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(QUOTE_CHARS) {
            None => write!(f, "{:?}", self.0),
            Some((i, _)) => write!(f, "{:?}…", &self.0[..i]),
        }
    }
}

fn wrong(key: &str, want: &str, got: Option<&Av>) -> String {
    format!("attribute `{key}`: must be {want}, got {}", Describe(got))
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;
