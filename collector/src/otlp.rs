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
//! The event built from a record is then checked by a [`LineChecker`] exactly as a line of an
//! NDJSON trace is, so every rule of trace-format §2 (seq ≥ 1, replica 1–256 bytes, kind and op
//! spelling, `send`/`recv` need `msg`, `write`/`read` need `key`, no negative clock entries, ...)
//! holds for OTLP input too (an unknown `weft.crdt` on a write or read included). A record that
//! fails is [`Rejected`] with the reason, and
//! [`partial_success_message`] turns the rejections into the OTLP `partial_success` text.
//!
//! Values of the string-index kind (`string_value_strindex`, `key_strindex`) belong to the
//! profiling signal; as the OTLP spec asks, they are treated as absent.

use std::collections::HashSet;
use std::fmt;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Av;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize as _;
use serde_json::{Map, Number, Value};
use weft_trace::{CheckedLine, Event, EventId, LineChecker};

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
    /// The valid events, in request order.
    pub events: Vec<Event>,
    /// The same events as validated lines ready for the store (no second validation needed).
    pub lines: Vec<crate::store::Line>,
    /// The records with `weft.seq` that break a rule, in request order.
    pub rejected: Vec<Rejected>,
    /// Records without `weft.seq`: not weft events, not errors.
    pub skipped: u64,
}

/// Maps the log records of an OTLP logs export request.
pub fn map_logs(req: &ExportLogsServiceRequest) -> Mapped {
    let mut m = Mapper::default();
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
                m.record(&rec.attributes, rec.body.as_ref(), time, fallback);
            }
        }
    }
    m.out
}

/// Maps the spans of an OTLP trace export request.
pub fn map_traces(req: &ExportTraceServiceRequest) -> Mapped {
    let mut m = Mapper::default();
    for rs in &req.resource_spans {
        let fallback = resource_replica(rs.resource.as_ref());
        for ss in &rs.scope_spans {
            for span in &ss.spans {
                let time = (span.start_time_unix_nano != 0)
                    .then_some(("start_time_unix_nano", span.start_time_unix_nano));
                m.record(&span.attributes, None, time, fallback);
            }
        }
    }
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

/// A record of an OTLP/JSON request that could not be decoded (an int outside OTLP's signed 64
/// bits, a malformed field): rejected with the reason when it has `weft.seq`, skipped like any
/// record without `weft.seq` otherwise. The rest of the request is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// Position of the record, counted as [`Rejected::index`].
    pub index: usize,
    /// Whether it has the attribute `weft.seq`.
    pub weft: bool,
    /// Why it could not be read, naming the attribute.
    pub reason: String,
}

/// Where the records of a signal are in OTLP/JSON.
struct Shape {
    resources: &'static str,
    scopes: &'static str,
    records: &'static str,
    what: &'static str,
}

/// Decodes an OTLP/JSON logs request. A record that cannot be decoded costs only itself: it is
/// left out of the request (as a record without attributes, which maps as skipped) and returned
/// as [`Unreadable`], for [`add_unreadable`]; likewise every weft record under a resource that
/// cannot be decoded. Only a body that is not JSON, or not shaped as a request, is an error.
pub fn logs_from_json(body: &[u8]) -> Result<(ExportLogsServiceRequest, Vec<Unreadable>), String> {
    from_json::<_, opentelemetry_proto::tonic::logs::v1::LogRecord>(
        body,
        &Shape {
            resources: "resourceLogs",
            scopes: "scopeLogs",
            records: "logRecords",
            what: "log record",
        },
    )
}

/// Decodes an OTLP/JSON trace request, as [`logs_from_json`] does.
pub fn traces_from_json(
    body: &[u8],
) -> Result<(ExportTraceServiceRequest, Vec<Unreadable>), String> {
    from_json::<_, opentelemetry_proto::tonic::trace::v1::Span>(
        body,
        &Shape {
            resources: "resourceSpans",
            scopes: "scopeSpans",
            records: "spans",
            what: "span",
        },
    )
}

/// Counts the unreadable records of a request into its mapping: those with `weft.seq` move from
/// skipped (as the blanked records they became were counted) to rejected, in record order.
pub fn add_unreadable(m: &mut Mapped, unreadable: Vec<Unreadable>) {
    if unreadable.is_empty() {
        return;
    }
    for u in unreadable.into_iter().filter(|u| u.weft) {
        m.skipped = m.skipped.saturating_sub(1);
        m.rejected.push(Rejected {
            index: u.index,
            reason: u.reason,
        });
    }
    m.rejected.sort_by_key(|r| r.index);
}

fn from_json<Req, Rec>(body: &[u8], shape: &Shape) -> Result<(Req, Vec<Unreadable>), String>
where
    Req: serde::de::DeserializeOwned,
    Rec: serde::de::DeserializeOwned,
{
    let whole = match serde_json::from_slice::<Req>(body) {
        Ok(req) => return Ok((req, Vec::new())),
        Err(e) => e,
    };
    let invalid = |e: serde_json::Error| format!("invalid OTLP JSON: {}", plain(e.to_string()));
    let mut v: Value = serde_json::from_slice(body).map_err(invalid)?;
    let mut bad = Vec::new();
    let mut index = 0;
    let resources = v
        .get_mut(shape.resources)
        .and_then(Value::as_array_mut)
        .map(|a| a.as_mut_slice())
        .unwrap_or_default();
    for res in resources {
        let mut weft_records = Vec::new();
        for_each_record(res, shape, |rec| {
            let weft = has_weft_seq(rec);
            if let Err(e) = Rec::deserialize(&*rec) {
                bad.push(Unreadable {
                    index,
                    weft,
                    reason: unreadable_reason(rec, shape.what, &e),
                });
                *rec = Value::Object(Map::new());
            } else if weft {
                weft_records.push(index);
            }
            index += 1;
        });
        let resource_error = res
            .get("resource")
            .and_then(|r| Resource::deserialize(r).err().map(|e| (r, e)))
            .map(|(r, e)| {
                let reason = unreadable_reason(r, "resource", &e);
                format!("its resource cannot be read: {reason}")
            });
        if let Some(reason) = resource_error {
            for_each_record(res, shape, |rec| {
                if has_weft_seq(rec) {
                    *rec = Value::Object(Map::new());
                }
            });
            if let Some(o) = res.as_object_mut() {
                o.remove("resource");
            }
            bad.extend(weft_records.into_iter().map(|index| Unreadable {
                index,
                weft: true,
                reason: reason.clone(),
            }));
        }
        // The scope is not used: one that cannot be read is dropped.
        if let Some(scopes) = res.get_mut(shape.scopes).and_then(Value::as_array_mut) {
            for scope in scopes.iter_mut().filter_map(Value::as_object_mut) {
                let unreadable = scope.get("scope").is_some_and(|s| {
                    opentelemetry_proto::tonic::common::v1::InstrumentationScope::deserialize(s)
                        .is_err()
                });
                if unreadable {
                    scope.remove("scope");
                }
            }
        }
    }
    if bad.is_empty() {
        return Err(invalid(whole));
    }
    let req = Req::deserialize(&v).map_err(|_| invalid(whole))?;
    bad.sort_by_key(|u| u.index);
    Ok((req, bad))
}

/// Calls `f` on every record (JSON) of one resource entry.
fn for_each_record(res: &mut Value, shape: &Shape, mut f: impl FnMut(&mut Value)) {
    let Some(scopes) = res.get_mut(shape.scopes).and_then(Value::as_array_mut) else {
        return;
    };
    for scope in scopes {
        if let Some(records) = scope.get_mut(shape.records).and_then(Value::as_array_mut) {
            records.iter_mut().for_each(&mut f);
        }
    }
}

fn has_weft_seq(rec: &Value) -> bool {
    rec.get("attributes")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .any(|kv| kv.get("key").and_then(Value::as_str) == Some("weft.seq"))
        })
}

/// Why a record (or resource) could not be decoded: the first int that is not a signed 64-bit
/// integer, by attribute (or body), else the decoder's words.
fn unreadable_reason(rec: &Value, what: &str, e: &serde_json::Error) -> String {
    let attrs = rec
        .get("attributes")
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default();
    for kv in attrs {
        if let Some(why) = kv.get("value").and_then(bad_int) {
            let key = kv.get("key").and_then(Value::as_str).unwrap_or("");
            return format!("attribute `{key}`: {why}");
        }
    }
    if let Some(why) = rec.get("body").and_then(bad_int) {
        return format!("body: {why}");
    }
    format!("not a valid OTLP {what}: {}", plain(e.to_string()))
}

/// The first `intValue` in an AnyValue (JSON) that is not a signed 64-bit integer, described.
fn bad_int(any: &Value) -> Option<String> {
    let o = any.as_object()?;
    if let Some(i) = o.get("intValue") {
        let text = match i {
            Value::Null => None,
            Value::Number(n) if n.as_i64().is_some() => None,
            Value::String(s) if s.parse::<i64>().is_ok() => None,
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        };
        if let Some(text) = text {
            let digits = text.strip_prefix('-').unwrap_or(&text);
            return Some(
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    format!("{text} does not fit an OTLP int (a signed 64-bit integer)")
                } else {
                    format!("intValue {} is not an integer", Quote(&text))
                },
            );
        }
    }
    let nested = |field: &str| -> Vec<&Value> {
        o.get(field)
            .and_then(|x| x.get("values"))
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    };
    nested("arrayValue")
        .into_iter()
        .find_map(bad_int)
        .or_else(|| {
            nested("kvlistValue")
                .into_iter()
                .find_map(|kv| kv.get("value").and_then(bad_int))
        })
}

/// A decoder's message without the names of its internal types.
fn plain(message: String) -> String {
    message.replace(
        "data did not match any variant of untagged enum StringOrInt",
        "intValue must be an integer or a string holding one",
    )
}

/// Per-request state: the output, the record counter and one checker for the whole request.
#[derive(Default)]
struct Mapper {
    checker: LineChecker,
    out: Mapped,
    index: usize,
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
        match build(attrs, body, time, fallback).and_then(|obj| self.check(obj)) {
            Ok((ev, line)) => {
                self.out.events.push(ev);
                self.out.lines.push(line);
            }
            Err(reason) => self.out.rejected.push(Rejected { index, reason }),
        }
    }

    /// Runs the event object through the line checker, then makes the owned event.
    fn check(&mut self, obj: Map<String, Value>) -> Result<(Event, crate::store::Line), String> {
        let line = serde_json::to_string(&Value::Object(obj)).map_err(|e| e.to_string())?;
        match self.checker.check(line.as_bytes()) {
            Ok(CheckedLine::Event {
                replica,
                seq,
                fingerprint,
            }) => {
                let ev = serde_json::from_str(&line).map_err(|e| format!("internal error: {e}"))?;
                Ok((
                    ev,
                    crate::store::Line {
                        bytes: line.into_bytes(),
                        replica,
                        seq,
                        fingerprint,
                    },
                ))
            }
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

/// Builds the JSON object of the event line from one record.
fn build(
    attrs: &[KeyValue],
    body: Option<&AnyValue>,
    time: Option<(&str, u64)>,
    fallback: Option<&str>,
) -> Result<Map<String, Value>, String> {
    let mut line = Map::new();
    let mut extra = Map::new();
    // `weft.crdt` is judged once the kind is known, whatever the attributes' order.
    let mut crdt: Option<(&str, Option<&Av>)> = None;
    for kv in attrs {
        let Some(key) = key_of(kv) else { continue };
        let v = inner(kv.value.as_ref());
        let field = match key.strip_prefix("weft.") {
            Some(
                f @ ("replica" | "seq" | "kind" | "lamport" | "vc" | "parents" | "msg" | "key"
                | "op" | "value" | "crdt"),
            ) => f,
            _ => {
                let j = to_json(v, 0).map_err(|e| format!("attribute `{key}`: {e}"))?;
                extra.insert(key.to_string(), j);
                continue;
            }
        };
        if line.contains_key(field) || (field == "crdt" && crdt.is_some()) {
            return Err(format!("attribute `{key}` appears twice"));
        }
        if field == "crdt" {
            crdt = Some((key, v));
            continue;
        }
        let j = match field {
            "seq" | "lamport" => int_attr(key, v)?,
            "vc" => vc_attr(key, v)?,
            "parents" => parents_attr(key, v)?,
            "value" => to_json(v, 0).map_err(|e| format!("attribute `{key}`: {e}"))?,
            _ => match v {
                Some(Av::StringValue(s)) => Value::String(s.clone()),
                other => return Err(wrong(key, "a string", other)),
            },
        };
        line.insert(field.to_string(), j);
    }
    if let Some((key, v)) = crdt {
        // The trace reader ignores `crdt` on kinds other than write and read (any JSON there),
        // so it is left out of their lines; on a write or read the line checker judges the
        // spelling, as it does for an NDJSON line.
        let kind = line.get("kind").and_then(Value::as_str);
        if matches!(kind, Some("write" | "read")) {
            match v {
                Some(Av::StringValue(s)) => line.insert("crdt".into(), Value::String(s.clone())),
                other => return Err(wrong(key, "a string", other)),
            };
        }
    }
    if !line.contains_key("replica") {
        let r = fallback.ok_or_else(|| NO_REPLICA.to_string())?;
        line.insert("replica".into(), Value::String(r.to_string()));
    }
    if let Some((name, t)) = time {
        let t = i64::try_from(t)
            .map_err(|_| format!("{name} {t} does not fit `wall_ns` (a signed 64-bit integer)"))?;
        line.insert("wall_ns".into(), Value::from(t));
    }
    if let Some(b) = body.filter(|b| inner(Some(b)).is_some()) {
        let j = to_json(inner(Some(b)), 0).map_err(|e| format!("body: {e}"))?;
        extra.insert("body".into(), j);
    }
    if !extra.is_empty() {
        line.insert("attrs".into(), Value::Object(extra));
    }
    Ok(line)
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

/// An int, or a string holding a decimal integer, as a JSON number. Negative values pass through
/// (never wrapped) so that the line checker rejects them under the event field's name.
fn int_attr(key: &str, v: Option<&Av>) -> Result<Value, String> {
    int_value(v).ok_or_else(|| wrong(key, "an int", v))
}

fn int_value(v: Option<&Av>) -> Option<Value> {
    match v? {
        Av::IntValue(i) => Some(Value::from(*i)),
        Av::StringValue(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else if let Ok(i) = s.parse::<i64>() {
                Some(Value::from(i))
            } else {
                s.parse::<u64>().ok().map(Value::from)
            }
        }
        _ => None,
    }
}

/// `weft.vc`: a kvlist of string → int, or a string holding a JSON object. The object's entries
/// are left for the line checker to judge; a replica named twice is rejected here (a JSON map
/// would silently keep one of them).
fn vc_attr(key: &str, v: Option<&Av>) -> Result<Value, String> {
    match v {
        Some(Av::KvlistValue(l)) => {
            let mut m = Map::new();
            for kv in &l.values {
                let Some(q) = key_of(kv) else { continue };
                let n = inner(kv.value.as_ref());
                let n = int_value(n).ok_or_else(|| {
                    format!(
                        "attribute `{key}`: entry {} must be an int, got {}",
                        Quote(q),
                        Describe(n)
                    )
                })?;
                if m.insert(q.to_string(), n).is_some() {
                    return Err(format!(
                        "attribute `{key}`: replica {} appears twice",
                        Quote(q)
                    ));
                }
            }
            Ok(Value::Object(m))
        }
        Some(Av::StringValue(s)) => {
            let j: Value = serde_json::from_str(s)
                .map_err(|e| format!("attribute `{key}`: not a JSON object: {e}"))?;
            if !j.is_object() {
                return Err(wrong(key, "a JSON object", v));
            }
            if let Some(q) = duplicate_key(s) {
                return Err(format!(
                    "attribute `{key}`: replica {} appears twice",
                    Quote(&q)
                ));
            }
            Ok(j)
        }
        other => Err(wrong(
            key,
            "a kvlist of string to int or a string holding a JSON object",
            other,
        )),
    }
}

/// The first key that a JSON object text repeats at its top level.
fn duplicate_key(text: &str) -> Option<String> {
    struct Dup;
    impl<'de> Visitor<'de> for Dup {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Option<String>, A::Error> {
            let mut seen = HashSet::new();
            let mut dup = None;
            while let Some(k) = a.next_key::<String>()? {
                a.next_value::<IgnoredAny>()?;
                if dup.is_none() && !seen.insert(k.clone()) {
                    dup = Some(k);
                }
            }
            Ok(dup)
        }
    }
    serde_json::Deserializer::from_str(text)
        .deserialize_map(Dup)
        .ok()
        .flatten()
}

/// `weft.parents`: an array of strings `replica@seq`, split at the last `@`.
fn parents_attr(key: &str, v: Option<&Av>) -> Result<Value, String> {
    let Some(Av::ArrayValue(a)) = v else {
        return Err(wrong(key, "an array of strings replica@seq", v));
    };
    let mut out = Vec::with_capacity(a.values.len());
    for (i, e) in a.values.iter().enumerate() {
        let id = match inner(Some(e)) {
            Some(Av::StringValue(s)) => EventId::parse_text(s).ok_or_else(|| {
                format!(
                    "attribute `{key}`: entry {i} {} is not replica@seq (seq an integer ≥ 1)",
                    Quote(s)
                )
            })?,
            other => {
                return Err(format!(
                    "attribute `{key}`: entry {i} must be a string replica@seq, got {}",
                    Describe(other)
                ))
            }
        };
        out.push(Value::Array(vec![
            Value::String(id.replica),
            Value::from(id.seq),
        ]));
    }
    Ok(Value::Array(out))
}

/// Converts an OTLP value to JSON (see the module docs), refusing nesting deeper than
/// [`MAX_DEPTH`].
fn to_json(v: Option<&Av>, depth: usize) -> Result<Value, String> {
    let Some(v) = v else { return Ok(Value::Null) };
    Ok(match v {
        Av::StringValue(s) => Value::String(s.clone()),
        Av::BoolValue(b) => Value::Bool(*b),
        Av::IntValue(i) => Value::from(*i),
        Av::DoubleValue(d) => match Number::from_f64(*d) {
            Some(n) => Value::Number(n),
            None if d.is_nan() => Value::String("NaN".into()),
            None if *d > 0.0 => Value::String("Infinity".into()),
            None => Value::String("-Infinity".into()),
        },
        Av::ArrayValue(a) => {
            if depth >= MAX_DEPTH {
                return Err(format!("nested more than {MAX_DEPTH} levels deep"));
            }
            let mut out = Vec::with_capacity(a.values.len());
            for e in &a.values {
                out.push(to_json(inner(Some(e)), depth + 1)?);
            }
            Value::Array(out)
        }
        Av::KvlistValue(l) => {
            if depth >= MAX_DEPTH {
                return Err(format!("nested more than {MAX_DEPTH} levels deep"));
            }
            let mut out = Map::new();
            for kv in &l.values {
                let Some(k) = key_of(kv) else { continue };
                out.insert(k.to_string(), to_json(inner(kv.value.as_ref()), depth + 1)?);
            }
            Value::Object(out)
        }
        Av::BytesValue(b) => Value::String(base64(b)),
        Av::StringValueStrindex(_) => Value::Null,
    })
}

/// Standard (RFC 4648 §4) base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(c.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(c.get(2).copied().unwrap_or(0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= c.len() {
                s.push(ALPHABET[(n >> shift) as usize & 63] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[cfg(test)]
#[allow(clippy::needless_update)] // proto literals end in `..Default::default()` on purpose
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use proptest::prelude::*;
    use serde_json::json;
    use weft_trace::{Crdt, Kind, Op, ReadOptions, Trace};

    fn av(v: Av) -> AnyValue {
        AnyValue {
            value: Some(v),
            ..Default::default()
        }
    }
    fn s(v: &str) -> AnyValue {
        av(Av::StringValue(v.into()))
    }
    fn i(v: i64) -> AnyValue {
        av(Av::IntValue(v))
    }
    fn arr(vs: Vec<AnyValue>) -> AnyValue {
        av(Av::ArrayValue(ArrayValue {
            values: vs,
            ..Default::default()
        }))
    }
    fn kvl(kvs: Vec<KeyValue>) -> AnyValue {
        av(Av::KvlistValue(KeyValueList {
            values: kvs,
            ..Default::default()
        }))
    }
    fn kv(k: &str, v: AnyValue) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(v),
            ..Default::default()
        }
    }
    fn log(attrs: Vec<KeyValue>) -> LogRecord {
        LogRecord {
            time_unix_nano: 1_000,
            attributes: attrs,
            ..Default::default()
        }
    }
    fn resource(attrs: Vec<KeyValue>) -> Option<Resource> {
        Some(Resource {
            attributes: attrs,
            ..Default::default()
        })
    }
    /// One resource (with `res` attributes) per entry; one scope per inner vec.
    fn logs(resources: Vec<(Vec<KeyValue>, Vec<Vec<LogRecord>>)>) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: resources
                .into_iter()
                .map(|(res, scopes)| ResourceLogs {
                    resource: resource(res),
                    scope_logs: scopes
                        .into_iter()
                        .map(|recs| ScopeLogs {
                            log_records: recs,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }
    /// One resource named `svc`, one scope.
    fn one(recs: Vec<LogRecord>) -> Mapped {
        map_logs(&logs(vec![(
            vec![kv("service.name", s("svc"))],
            vec![recs],
        )]))
    }
    fn single(attrs: Vec<KeyValue>) -> Event {
        let m = one(vec![log(attrs)]);
        assert_eq!(m.rejected, vec![], "unexpected rejection");
        assert_eq!(m.events.len(), 1);
        m.events.into_iter().next().unwrap()
    }
    fn reject(attrs: Vec<KeyValue>) -> String {
        let m = one(vec![log(attrs)]);
        assert_eq!(m.events, vec![], "expected a rejection");
        assert_eq!(m.rejected.len(), 1);
        m.rejected[0].reason.clone()
    }

    #[test]
    fn every_weft_attribute() {
        let ev = single(vec![
            kv("weft.replica", s("r1")),
            kv("weft.seq", i(4)),
            kv("weft.kind", s("write")),
            kv("weft.lamport", i(9)),
            kv("weft.vc", kvl(vec![kv("r1", i(4)), kv("r2", i(2))])),
            kv("weft.parents", arr(vec![s("r2@2"), s("x@y@7")])),
            kv("weft.key", s("doc")),
            kv("weft.op", s("add")),
            kv("weft.value", s("milk")),
            kv("weft.msg", s("m9")),
            kv("weft.crdt", s("set")),
        ]);
        assert_eq!(ev.replica, "r1");
        assert_eq!(ev.seq, 4);
        assert_eq!(ev.kind, Kind::Write);
        assert_eq!(ev.lamport, Some(9));
        assert_eq!(
            ev.vc,
            Some([("r1".to_string(), 4), ("r2".to_string(), 2)].into())
        );
        assert_eq!(
            ev.parents,
            Some(vec![EventId::new("r2", 2), EventId::new("x@y", 7)])
        );
        assert_eq!(ev.key.as_deref(), Some("doc"));
        assert_eq!(ev.op, Some(Op::Add));
        assert_eq!(ev.value, Some(json!("milk")));
        assert_eq!(ev.msg.as_deref(), Some("m9"));
        assert_eq!(ev.crdt, Some(Crdt::Set));
        assert_eq!(ev.wall_ns, Some(1_000));
        assert_eq!(ev.attrs, None);
        // The event serializes to a line the reader accepts.
        let line = serde_json::to_string(&ev).unwrap();
        assert!(matches!(
            LineChecker::new().check(line.as_bytes()),
            Ok(CheckedLine::Event { .. })
        ));
    }

    #[test]
    fn values_of_every_type_convert_to_json() {
        let ev = single(vec![
            kv("weft.seq", i(1)),
            kv(
                "weft.value",
                kvl(vec![
                    kv("s", s("x")),
                    kv("b", av(Av::BoolValue(true))),
                    kv("i", i(-3)),
                    kv("d", av(Av::DoubleValue(1.5))),
                    kv("nan", av(Av::DoubleValue(f64::NAN))),
                    kv("inf", av(Av::DoubleValue(f64::INFINITY))),
                    kv("ninf", av(Av::DoubleValue(f64::NEG_INFINITY))),
                    kv("a", arr(vec![i(1), s("two"), arr(vec![])])),
                    kv("bytes", av(Av::BytesValue(b"hello".to_vec()))),
                    kv("empty", AnyValue::default()),
                    kv("strindex", av(Av::StringValueStrindex(3))),
                ]),
            ),
        ]);
        assert_eq!(
            ev.value,
            Some(json!({
                "s": "x", "b": true, "i": -3, "d": 1.5, "nan": "NaN", "inf": "Infinity",
                "ninf": "-Infinity", "a": [1, "two", []], "bytes": "aGVsbG8=", "empty": null,
                "strindex": null
            }))
        );
        // Scalars at top level, too.
        for (v, want) in [
            (i(7), json!(7)),
            (av(Av::DoubleValue(0.25)), json!(0.25)),
            (av(Av::BoolValue(false)), json!(false)),
            (av(Av::BytesValue(vec![0xff, 0])), json!("/wA=")),
            (arr(vec![s("a")]), json!(["a"])),
        ] {
            let ev = single(vec![kv("weft.seq", i(1)), kv("weft.value", v)]);
            assert_eq!(ev.value, Some(want));
        }
        // An empty AnyValue is OTLP's null: a `weft.value` that is present and empty is the
        // value null (a read that returned null), not a missing value.
        let ev = single(vec![
            kv("weft.seq", i(1)),
            kv("weft.value", AnyValue::default()),
        ]);
        assert_eq!(ev.value, Some(Value::Null));
        let ev = single(vec![kv("weft.seq", i(1))]);
        assert_eq!(ev.value, None);
    }

    #[test]
    fn base64_matches_rfc4648() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn replica_fallback_order() {
        let rec = log;
        let res_both = vec![
            kv("service.name", s("name")),
            kv("service.instance.id", s("inst")),
        ];
        let mut req = logs(vec![
            (
                res_both,
                vec![vec![
                    rec(vec![kv("weft.seq", i(1)), kv("weft.replica", s("own"))]),
                    rec(vec![kv("weft.seq", i(2))]),
                ]],
            ),
            (
                vec![kv("service.name", s("name"))],
                vec![vec![rec(vec![kv("weft.seq", i(3))])]],
            ),
            // Empty and non-string resource values do not count.
            (
                vec![
                    kv("service.instance.id", s("")),
                    kv("service.name", i(5)),
                    kv("service.name", s("late")),
                ],
                vec![vec![rec(vec![kv("weft.seq", i(4))])]],
            ),
            (vec![], vec![vec![rec(vec![kv("weft.seq", i(5))])]]),
        ]);
        req.resource_logs.push(ResourceLogs {
            resource: None,
            scope_logs: vec![ScopeLogs {
                log_records: vec![rec(vec![kv("weft.seq", i(6))])],
                ..Default::default()
            }],
            ..Default::default()
        });
        let m = map_logs(&req);
        let got: Vec<_> = m
            .events
            .iter()
            .map(|e| (e.replica.as_str(), e.seq))
            .collect();
        assert_eq!(got, [("own", 1), ("inst", 2), ("name", 3), ("late", 4)]);
        assert_eq!(
            m.rejected,
            vec![
                Rejected {
                    index: 4,
                    reason: NO_REPLICA.into()
                },
                Rejected {
                    index: 5,
                    reason: NO_REPLICA.into()
                },
            ]
        );
        // A present but empty weft.replica is not absent: the checker rejects it.
        let r = reject(vec![kv("weft.seq", i(1)), kv("weft.replica", s(""))]);
        assert!(r.contains("field `replica`"), "{r}");
    }

    #[test]
    fn vc_as_kvlist_and_as_json_string() {
        let ev = single(vec![
            kv("weft.seq", i(3)),
            kv("weft.vc", s(r#"{"svc": 3, "other": 1, "z": 0}"#)),
        ]);
        assert_eq!(
            ev.vc,
            Some(
                [
                    ("svc".to_string(), 3),
                    ("other".to_string(), 1),
                    ("z".to_string(), 0)
                ]
                .into()
            )
        );
        let ev = single(vec![
            kv("weft.seq", i(3)),
            kv(
                "weft.vc",
                kvl(vec![kv("svc", i(3)), kv("big", s("18446744073709551615"))]),
            ),
        ]);
        assert_eq!(
            ev.vc,
            Some([("svc".to_string(), 3), ("big".to_string(), u64::MAX)].into())
        );
        let ev = single(vec![kv("weft.seq", i(1)), kv("weft.vc", kvl(vec![]))]);
        assert_eq!(ev.vc, Some(Default::default()));
    }

    #[test]
    fn vc_rejections() {
        let seq = || kv("weft.seq", i(1));
        let r = reject(vec![seq(), kv("weft.vc", s("{\"a\": 1,"))]);
        assert!(
            r.starts_with("attribute `weft.vc`: not a JSON object: "),
            "{r}"
        );
        let r = reject(vec![seq(), kv("weft.vc", s("[1, 2]"))]);
        assert_eq!(
            r,
            "attribute `weft.vc`: must be a JSON object, got a string \"[1, 2]\""
        );
        let r = reject(vec![seq(), kv("weft.vc", s(r#"{"a": 1, "a": 2}"#))]);
        assert_eq!(r, "attribute `weft.vc`: replica \"a\" appears twice");
        let r = reject(vec![
            seq(),
            kv("weft.vc", kvl(vec![kv("a", i(1)), kv("a", i(1))])),
        ]);
        assert_eq!(r, "attribute `weft.vc`: replica \"a\" appears twice");
        let r = reject(vec![
            seq(),
            kv("weft.vc", kvl(vec![kv("a", av(Av::DoubleValue(1.0)))])),
        ]);
        assert_eq!(
            r,
            "attribute `weft.vc`: entry \"a\" must be an int, got a double 1"
        );
        let r = reject(vec![seq(), kv("weft.vc", kvl(vec![kv("a", i(-2))]))]);
        assert!(r.contains("field `vc`") && r.contains("-2"), "{r}");
        let r = reject(vec![seq(), kv("weft.vc", s(r#"{"a": -2}"#))]);
        assert!(r.contains("field `vc`") && r.contains("-2"), "{r}");
        let r = reject(vec![seq(), kv("weft.vc", s(r#"{"a": 1.5}"#))]);
        assert!(r.contains("field `vc`"), "{r}");
        let r = reject(vec![seq(), kv("weft.vc", i(3))]);
        assert_eq!(
            r,
            "attribute `weft.vc`: must be a kvlist of string to int or a string holding a JSON \
             object, got an int 3"
        );
        // Deep JSON does not crash anything.
        let deep = format!("{{\"a\": {}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
        let r = reject(vec![seq(), kv("weft.vc", s(&deep))]);
        assert!(r.starts_with("attribute `weft.vc`"), "{r}");
    }

    #[test]
    fn parents_split_at_the_last_at() {
        let ev = single(vec![
            kv("weft.seq", i(2)),
            kv("weft.parents", arr(vec![s("a@b@3"), s("@@1")])),
        ]);
        assert_eq!(
            ev.parents,
            Some(vec![EventId::new("a@b", 3), EventId::new("@", 1)])
        );
        let ev = single(vec![kv("weft.seq", i(2)), kv("weft.parents", arr(vec![]))]);
        assert_eq!(ev.parents, Some(vec![]));
        let seq = || kv("weft.seq", i(2));
        for (v, want) in [
            (
                arr(vec![s("a@1"), s("a")]),
                "attribute `weft.parents`: entry 1 \"a\" is not replica@seq (seq an integer ≥ 1)",
            ),
            (
                arr(vec![s("a@0")]),
                "attribute `weft.parents`: entry 0 \"a@0\" is not replica@seq (seq an integer ≥ 1)",
            ),
            (
                arr(vec![s("@3")]),
                "attribute `weft.parents`: entry 0 \"@3\" is not replica@seq (seq an integer ≥ 1)",
            ),
            (
                arr(vec![i(3)]),
                "attribute `weft.parents`: entry 0 must be a string replica@seq, got an int 3",
            ),
            (
                s("a@1"),
                "attribute `weft.parents`: must be an array of strings replica@seq, got a string \"a@1\"",
            ),
        ] {
            assert_eq!(reject(vec![seq(), kv("weft.parents", v)]), want);
        }
        // A too-long replica in a parent is the checker's business.
        let long = format!("{}@1", "x".repeat(300));
        let r = reject(vec![seq(), kv("weft.parents", arr(vec![s(&long)]))]);
        assert!(r.contains("parents"), "{r}");
    }

    #[test]
    fn skipped_records_are_counted_not_errors() {
        let m = one(vec![
            log(vec![kv("http.method", s("GET"))]),
            log(vec![]),
            log(vec![kv("weft.seq", i(1))]),
            log(vec![kv("weft.kind", s("send"))]), // weft.* but no weft.seq: skipped too
        ]);
        assert_eq!(m.skipped, 3);
        assert_eq!(m.events.len(), 1);
        assert!(m.rejected.is_empty());
        assert_eq!(partial_success_message(&m), "");
    }

    #[test]
    fn rejections_carry_the_checker_reasons() {
        let r = reject(vec![kv("weft.seq", i(0))]);
        assert_eq!(r, "field `seq`: must be an integer ≥ 1, got 0");
        let r = reject(vec![kv("weft.seq", i(-5))]);
        assert_eq!(r, "field `seq`: must be an integer ≥ 1, got -5");
        let r = reject(vec![kv("weft.seq", i(1)), kv("weft.lamport", i(-1))]);
        assert_eq!(r, "field `lamport`: must be an integer ≥ 0, got -1");
        let r = reject(vec![kv("weft.seq", i(1)), kv("weft.kind", s("send"))]);
        assert_eq!(r, "a `send` needs a `msg` field");
        let r = reject(vec![kv("weft.seq", i(1)), kv("weft.kind", s("read"))]);
        assert_eq!(r, "a `read` needs a `key` field");
        let r = reject(vec![kv("weft.seq", i(1)), kv("weft.kind", s("merge"))]);
        assert!(r.starts_with("field `kind`: unknown kind \"merge\""), "{r}");
        let r = reject(vec![
            kv("weft.seq", i(1)),
            kv("weft.kind", s("write")),
            kv("weft.key", s("k")),
            kv("weft.op", s("mul")),
        ]);
        assert!(r.starts_with("field `op`: unknown op \"mul\""), "{r}");
        let r = reject(vec![
            kv("weft.seq", i(1)),
            kv("weft.replica", s(&"r".repeat(257))),
        ]);
        assert_eq!(
            r,
            "field `replica`: must be a string of 1 to 256 bytes, got 257 bytes"
        );
    }

    #[test]
    fn attribute_type_errors_name_the_attribute() {
        assert_eq!(
            reject(vec![kv("weft.seq", s("abc"))]),
            "attribute `weft.seq`: must be an int, got a string \"abc\""
        );
        assert_eq!(
            reject(vec![kv("weft.seq", av(Av::DoubleValue(2.5)))]),
            "attribute `weft.seq`: must be an int, got a double 2.5"
        );
        assert_eq!(
            reject(vec![kv("weft.seq", AnyValue::default())]),
            "attribute `weft.seq`: must be an int, got an empty value"
        );
        assert_eq!(
            reject(vec![
                kv("weft.seq", i(1)),
                kv("weft.lamport", av(Av::BoolValue(true)))
            ]),
            "attribute `weft.lamport`: must be an int, got a bool true"
        );
        for name in [
            "weft.replica",
            "weft.kind",
            "weft.msg",
            "weft.key",
            "weft.op",
        ] {
            assert_eq!(
                reject(vec![kv("weft.seq", i(1)), kv(name, i(3))]),
                format!("attribute `{name}`: must be a string, got an int 3")
            );
        }
        assert_eq!(
            reject(vec![kv("weft.seq", i(1)), kv("weft.seq", i(2))]),
            "attribute `weft.seq` appears twice"
        );
        // Long strings are cut in reasons.
        let r = reject(vec![kv("weft.seq", s(&"x".repeat(1000)))]);
        assert!(r.len() < 140 && r.ends_with('…'), "{r}");
        // A key_strindex reference does not count as weft.seq.
        let m = one(vec![log(vec![KeyValue {
            key: String::new(),
            key_strindex: 4,
            value: Some(i(1)),
            ..Default::default()
        }])]);
        assert_eq!((m.skipped, m.events.len()), (1, 0));
    }

    #[test]
    fn seq_and_lamport_as_decimal_strings() {
        let ev = single(vec![kv("weft.seq", s("12")), kv("weft.lamport", s("0"))]);
        assert_eq!((ev.seq, ev.lamport), (12, Some(0)));
        let ev = single(vec![kv("weft.seq", s("18446744073709551615"))]);
        assert_eq!(ev.seq, u64::MAX);
        assert_eq!(
            reject(vec![kv("weft.seq", s("-3"))]),
            "field `seq`: must be an integer ≥ 1, got -3"
        );
        for bad in ["", "-", "1e3", " 5", "+5", "18446744073709551616", "0x10"] {
            assert!(
                reject(vec![kv("weft.seq", s(bad))]).starts_with("attribute `weft.seq`: "),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn attrs_and_body_are_carried() {
        let mut rec = log(vec![
            kv("weft.seq", i(1)),
            kv("http.route", s("/x")),
            kv("retries", i(2)),
            kv("weft.future", av(Av::BoolValue(true))),
            kv("tags", arr(vec![s("a"), s("b")])),
        ]);
        rec.body = Some(kvl(vec![kv("text", s("hello"))]));
        let m = one(vec![rec]);
        let ev = &m.events[0];
        assert_eq!(
            ev.attrs.clone().map(Value::Object),
            Some(json!({
                "http.route": "/x", "retries": 2, "weft.future": true, "tags": ["a", "b"],
                "body": {"text": "hello"}
            }))
        );
        // The body replaces an attribute named `body`; an empty body is no body.
        let mut rec = log(vec![kv("weft.seq", i(1)), kv("body", s("attr"))]);
        rec.body = Some(s("real"));
        let mut empty = log(vec![kv("weft.seq", i(2))]);
        empty.body = Some(AnyValue::default());
        let m = one(vec![rec, empty]);
        assert_eq!(
            m.events[0].attrs.clone().map(Value::Object),
            Some(json!({"body": "real"}))
        );
        assert_eq!(m.events[1].attrs, None);
    }

    #[test]
    fn wall_clock_sources() {
        let mut a = log(vec![kv("weft.seq", i(1))]);
        a.observed_time_unix_nano = 77;
        let mut b = log(vec![kv("weft.seq", i(2))]);
        b.time_unix_nano = 0;
        b.observed_time_unix_nano = 77;
        let mut c = log(vec![kv("weft.seq", i(3))]);
        c.time_unix_nano = 0;
        let mut d = log(vec![kv("weft.seq", i(4))]);
        d.time_unix_nano = u64::MAX;
        let m = one(vec![a, b, c, d]);
        let walls: Vec<_> = m.events.iter().map(|e| e.wall_ns).collect();
        assert_eq!(walls, [Some(1_000), Some(77), None]);
        assert_eq!(
            m.rejected,
            vec![Rejected {
                index: 3,
                reason: format!(
                    "time_unix_nano {} does not fit `wall_ns` (a signed 64-bit integer)",
                    u64::MAX
                )
            }]
        );
    }

    #[test]
    fn spans_use_start_time() {
        let span = |attrs, start| Span {
            name: "op".into(),
            start_time_unix_nano: start,
            end_time_unix_nano: 99_999,
            attributes: attrs,
            ..Default::default()
        };
        let req = ExportTraceServiceRequest {
            resource_spans: vec![
                ResourceSpans {
                    resource: resource(vec![kv("service.instance.id", s("node-1"))]),
                    scope_spans: vec![
                        ScopeSpans {
                            spans: vec![
                                span(vec![kv("weft.seq", i(1)), kv("k", s("v"))], 5_000),
                                span(vec![], 1),
                            ],
                            ..Default::default()
                        },
                        ScopeSpans {
                            spans: vec![span(vec![kv("weft.seq", i(2))], 0)],
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                },
                ResourceSpans {
                    resource: None,
                    scope_spans: vec![ScopeSpans {
                        spans: vec![span(vec![kv("weft.seq", i(1))], 3)],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let m = map_traces(&req);
        assert_eq!(m.skipped, 1);
        assert_eq!(m.events.len(), 2);
        assert_eq!(m.events[0].id(), EventId::new("node-1", 1));
        assert_eq!(m.events[0].wall_ns, Some(5_000));
        assert_eq!(
            m.events[0].attrs.clone().map(Value::Object),
            Some(json!({"k": "v"}))
        );
        assert_eq!(m.events[1].wall_ns, None);
        assert_eq!(
            m.rejected,
            vec![Rejected {
                index: 3,
                reason: NO_REPLICA.into()
            }]
        );
    }

    #[test]
    fn indices_count_across_resources_and_scopes() {
        let bad = || log(vec![kv("weft.seq", i(0))]);
        let good = |n| log(vec![kv("weft.seq", i(n))]);
        let skip = || log(vec![]);
        let svc = || vec![kv("service.name", s("svc"))];
        let req = logs(vec![
            (svc(), vec![vec![good(1), skip()], vec![], vec![bad()]]), // 0, 1, 2
            (svc(), vec![vec![skip(), good(2)], vec![bad(), good(3)]]), // 3, 4, 5, 6
            (vec![], vec![vec![good(4)]]),                             // 7: no replica
        ]);
        let m = map_logs(&req);
        let idx: Vec<_> = m.rejected.iter().map(|r| r.index).collect();
        assert_eq!(idx, [2, 5, 7]);
        assert_eq!(m.skipped, 2);
        assert_eq!(m.events.len(), 3);
        assert_eq!(
            partial_success_message(&m),
            format!(
                "3 records rejected: record 2: field `seq`: must be an integer ≥ 1, got 0; \
                 record 5: field `seq`: must be an integer ≥ 1, got 0; record 7: {NO_REPLICA}"
            )
        );
    }

    #[test]
    fn partial_success_message_caps_reasons() {
        let one_rej = Mapped {
            rejected: vec![Rejected {
                index: 0,
                reason: "x".into(),
            }],
            ..Default::default()
        };
        assert_eq!(
            partial_success_message(&one_rej),
            "1 record rejected: record 0: x"
        );
        let many = Mapped {
            rejected: (0..25)
                .map(|index| Rejected {
                    index,
                    reason: "r".into(),
                })
                .collect(),
            ..Default::default()
        };
        let msg = partial_success_message(&many);
        assert!(msg.starts_with("25 records rejected: record 0: r; record 1: r;"));
        assert!(msg.ends_with("record 19: r; ... and 5 more"), "{msg}");
        assert!(!msg.contains("record 20"));
    }

    #[test]
    fn too_deep_values_are_rejected_not_overflowed() {
        let mut v = i(1);
        for _ in 0..200 {
            v = arr(vec![v]);
        }
        let r = reject(vec![kv("weft.seq", i(1)), kv("deep", v.clone())]);
        assert_eq!(r, "attribute `deep`: nested more than 64 levels deep");
        let mut rec = log(vec![kv("weft.seq", i(1))]);
        rec.body = Some(v);
        let m = one(vec![rec]);
        assert_eq!(
            m.rejected[0].reason,
            "body: nested more than 64 levels deep"
        );
        // Right at the limit is fine.
        let mut v = i(1);
        for _ in 0..MAX_DEPTH {
            v = arr(vec![v]);
        }
        single(vec![kv("weft.seq", i(1)), kv("weft.value", v)]);
    }

    fn leaf() -> impl Strategy<Value = AnyValue> {
        prop_oneof![
            prop_oneof![
                Just("1".to_string()),
                Just("-1".to_string()),
                Just("0".to_string()),
                Just("send".to_string()),
                Just("write".to_string()),
                Just("set".to_string()),
                Just("read".to_string()),
                Just("lww".to_string()),
                Just("a@b@3".to_string()),
                Just("@".to_string()),
                Just(r#"{"a":1,"b":-1}"#.to_string()),
                Just(r#"{"a":"#.to_string()),
                Just("é".repeat(300)),
                ".{0,12}",
            ]
            .prop_map(|v| s(&v)),
            any::<i64>().prop_map(i),
            (0i64..4).prop_map(i),
            any::<f64>().prop_map(|d| av(Av::DoubleValue(d))),
            any::<bool>().prop_map(|b| av(Av::BoolValue(b))),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(|b| av(Av::BytesValue(b))),
            Just(AnyValue::default()),
            any::<i32>().prop_map(|n| av(Av::StringValueStrindex(n))),
        ]
    }

    fn value() -> impl Strategy<Value = AnyValue> {
        leaf().prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(arr),
                proptest::collection::vec((key(), inner), 0..6)
                    .prop_map(|kvs| kvl(kvs.into_iter().map(|(k, v)| kv(&k, v)).collect())),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("weft.replica"),
            Just("weft.seq"),
            Just("weft.kind"),
            Just("weft.lamport"),
            Just("weft.vc"),
            Just("weft.parents"),
            Just("weft.msg"),
            Just("weft.key"),
            Just("weft.op"),
            Just("weft.value"),
            Just("weft.crdt"),
            Just("weft.other"),
            Just("body"),
            Just("a"),
            Just(""),
        ]
        .prop_map(String::from)
    }

    proptest! {
        #[test]
        fn never_panics_and_accepts_only_valid_lines(
            records in proptest::collection::vec(
                (proptest::collection::vec((key(), value()), 0..8),
                 proptest::option::of(value()), any::<u64>(), any::<u64>()),
                0..6,
            ),
            service in proptest::option::of(".{0,3}"),
        ) {
            let n = records.len();
            let recs = records
                .into_iter()
                .map(|(attrs, body, t, o)| LogRecord {
                    attributes: attrs.into_iter().map(|(k, v)| kv(&k, v)).collect(),
                    body,
                    time_unix_nano: t % 3 * (t / 3),
                    observed_time_unix_nano: o,
                    ..Default::default()
                })
                .collect();
            let res = service.map(|s_| vec![kv("service.name", s(&s_))]).unwrap_or_default();
            let m = map_logs(&logs(vec![(res, vec![recs])]));
            prop_assert_eq!(m.events.len() + m.rejected.len() + m.skipped as usize, n);
            let mut checker = LineChecker::new();
            for ev in &m.events {
                let line = serde_json::to_string(ev).unwrap();
                let checked = checker.check(line.as_bytes());
                prop_assert!(matches!(checked, Ok(CheckedLine::Event { .. })), "{}", line);
            }
            for r in &m.rejected {
                prop_assert!(r.index < n && !r.reason.is_empty());
            }
            let _ = partial_success_message(&m);
        }
    }

    /// `weft.crdt` must give exactly what the same field gives in an NDJSON line: the type on
    /// a write or read, a rejection with the trace reader's own reason for an unknown one, and
    /// nothing at all (not even a rejection) on the other kinds.
    #[test]
    fn crdt_is_judged_as_the_trace_reader_judges_it() {
        let kinds = ["write", "read", "send", "recv", "local"];
        let types = ["lww", "mv", "counter", "set", "LWW", "bogus", ""];
        for kind in kinds {
            for ty in types {
                let ndjson = json!({"replica": "svc", "seq": 1, "kind": kind, "key": "k",
                                    "msg": "m", "crdt": ty, "wall_ns": 1_000})
                .to_string();
                let m = one(vec![log(vec![
                    kv("weft.seq", i(1)),
                    kv("weft.kind", s(kind)),
                    kv("weft.crdt", s(ty)),
                    kv("weft.key", s("k")),
                    kv("weft.msg", s("m")),
                ])]);
                let case = format!("kind {kind}, crdt {ty:?}");
                match LineChecker::new().check(ndjson.as_bytes()) {
                    Ok(_) => {
                        let trace =
                            Trace::from_ndjson_str("t", &ndjson, &ReadOptions::default()).unwrap();
                        assert_eq!(m.rejected, vec![], "{case}");
                        assert_eq!(m.events, vec![trace.to_event(0)], "{case}");
                        let reads_or_writes = matches!(kind, "write" | "read");
                        assert_eq!(
                            m.events[0].crdt,
                            Crdt::parse(ty).filter(|_| reads_or_writes),
                            "{case}"
                        );
                    }
                    Err(e) => {
                        assert_eq!(m.events, vec![], "{case}");
                        assert_eq!(m.rejected.len(), 1, "{case}");
                        assert_eq!(m.rejected[0].reason, e.reason, "{case}");
                    }
                }
            }
        }
        // The unknown types on writes and reads are exactly the rejections, and the response
        // names the field and the accepted spellings.
        let r = reject(vec![
            kv("weft.seq", i(1)),
            kv("weft.kind", s("read")),
            kv("weft.key", s("k")),
            kv("weft.crdt", s("register")),
        ]);
        assert_eq!(
            r,
            "field `crdt`: unknown type \"register\" (expected lww, mv, counter or set)"
        );
        let m = one(vec![
            log(vec![kv("weft.seq", i(1))]),
            log(vec![
                kv("weft.crdt", s("bogus")),
                kv("weft.kind", s("write")),
                kv("weft.key", s("k")),
                kv("weft.seq", i(2)),
            ]),
        ]);
        assert_eq!(
            partial_success_message(&m),
            "1 record rejected: record 1: field `crdt`: unknown type \"bogus\" \
             (expected lww, mv, counter or set)"
        );
    }

    #[test]
    fn crdt_must_be_a_string_on_writes_and_reads_only() {
        let rec = |kind: &str, crdt: AnyValue| {
            vec![
                kv("weft.seq", i(1)),
                kv("weft.crdt", crdt),
                kv("weft.kind", s(kind)),
                kv("weft.key", s("k")),
                kv("weft.msg", s("m")),
            ]
        };
        assert_eq!(
            reject(rec("write", i(3))),
            "attribute `weft.crdt`: must be a string, got an int 3"
        );
        assert_eq!(
            reject(rec("read", AnyValue::default())),
            "attribute `weft.crdt`: must be a string, got an empty value"
        );
        // Elsewhere the attribute is ignored, whatever it holds: not a rejection, not an attr.
        for kind in ["send", "recv", "local"] {
            let ev = single(rec(kind, arr(vec![i(3)])));
            assert_eq!((ev.crdt, ev.attrs), (None, None), "{kind}");
        }
        let ev = single(vec![kv("weft.seq", i(1)), kv("weft.crdt", s("counter"))]);
        assert_eq!(ev.crdt, None, "no kind is local");
        assert_eq!(
            reject(vec![
                kv("weft.seq", i(1)),
                kv("weft.crdt", s("lww")),
                kv("weft.crdt", s("lww")),
            ]),
            "attribute `weft.crdt` appears twice"
        );
        // Spans map it the same way.
        let span = |kind: &str, ty: &str| Span {
            attributes: vec![
                kv("weft.replica", s("r1")),
                kv("weft.seq", i(1)),
                kv("weft.kind", s(kind)),
                kv("weft.key", s("k")),
                kv("weft.crdt", s(ty)),
            ],
            ..Default::default()
        };
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![span("read", "mv"), span("write", "nope")],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let m = map_traces(&req);
        assert_eq!(m.events.len(), 1);
        assert_eq!(m.events[0].crdt, Some(Crdt::Mv));
        assert_eq!(m.rejected.len(), 1);
        assert_eq!(m.rejected[0].index, 1);
        assert!(m.rejected[0]
            .reason
            .starts_with("field `crdt`: unknown type \"nope\""));
    }

    #[test]
    fn a_checker_per_request_sees_duplicates_as_plain_events() {
        // Duplicates are the store's business: both copies map.
        let m = one(vec![
            log(vec![kv("weft.seq", i(1))]),
            log(vec![kv("weft.seq", i(1))]),
        ]);
        assert_eq!(m.events.len(), 2);
        assert_eq!(m.events[0], m.events[1]);
    }

    fn json_decoded(body: serde_json::Value) -> (Mapped, Vec<Unreadable>) {
        let (req, bad) = logs_from_json(body.to_string().as_bytes()).unwrap();
        let mut m = map_logs(&req);
        add_unreadable(&mut m, bad.clone());
        (m, bad)
    }

    fn jrec(seq: serde_json::Value, more: Vec<serde_json::Value>) -> serde_json::Value {
        let mut attrs = vec![
            json!({"key": "weft.replica", "value": {"stringValue": "a"}}),
            json!({"key": "weft.seq", "value": {"intValue": seq}}),
        ];
        attrs.extend(more);
        json!({ "attributes": attrs })
    }

    #[test]
    fn json_records_that_cannot_be_read_cost_only_themselves() {
        let body = json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
            jrec(json!("1"), vec![]),
            jrec(json!("18446744073709551616"), vec![]),
            jrec(json!("-9223372036854775809"), vec![]),
            jrec(json!("2"), vec![json!({"key": "n", "value": {"kvlistValue": {"values": [
                {"key": "deep", "value": {"arrayValue": {"values": [{"intValue": 1.5}]}}}
            ]}}})]),
            jrec(json!("3"), vec![json!({"key": "b", "value": {"bytesValue": "!!"}})]),
            {"attributes": [{"key": "n", "value": {"intValue": "x"}}]},
            jrec(json!(4), vec![]),
        ]}]}]});
        let (m, bad) = json_decoded(body);
        assert_eq!(bad.len(), 5);
        assert_eq!(
            m.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![1, 4]
        );
        assert_eq!(m.skipped, 1);
        let reasons: Vec<(usize, &str)> = m
            .rejected
            .iter()
            .map(|r| (r.index, r.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (1, "attribute `weft.seq`: 18446744073709551616 does not fit an OTLP int (a signed 64-bit integer)"),
                (2, "attribute `weft.seq`: -9223372036854775809 does not fit an OTLP int (a signed 64-bit integer)"),
                (3, "attribute `n`: intValue \"1.5\" is not an integer"),
                (4, "not a valid OTLP log record: Invalid symbol 33, offset 0."),
            ]
        );
        assert!(!partial_success_message(&m).contains("StringOrInt"));
    }

    #[test]
    fn json_a_resource_that_cannot_be_read_rejects_its_weft_records() {
        let body = json!({"resourceLogs": [
            {"resource": {"attributes": [{"key": "service.name", "value": {"intValue": "9223372036854775808"}}]},
             "scopeLogs": [{"scope": {"name": 7}, "logRecords": [jrec(json!("1"), vec![]), {"attributes": []}]}]},
            {"scopeLogs": [{"scope": {"name": 7}, "logRecords": [jrec(json!("2"), vec![])]}]},
        ]});
        let (m, _) = json_decoded(body);
        assert_eq!(m.events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2]);
        assert_eq!(m.skipped, 1);
        assert_eq!(m.rejected.len(), 1);
        assert_eq!(m.rejected[0].index, 0);
        assert_eq!(
            m.rejected[0].reason,
            "its resource cannot be read: attribute `service.name`: 9223372036854775808 does not fit an OTLP int (a signed 64-bit integer)"
        );
    }

    #[test]
    fn json_that_is_not_a_request_is_refused_whole_in_plain_words() {
        for body in [
            &b"{"[..],
            b"{\"resourceLogs\": 7}",
            b"[1]",
            b"{\"resourceLogs\": [{\"scopeLogs\": [{\"logRecords\": 3}]}]}",
        ] {
            let e = logs_from_json(body).unwrap_err();
            assert!(e.starts_with("invalid OTLP JSON: "), "{e}");
            assert!(!e.contains("StringOrInt"), "{e}");
        }
        let e = traces_from_json(
            br#"{"resourceSpans": [{"scopeSpans": [{"spans": [
            {"attributes": [{"key": "weft.seq", "value": {"intValue": 1.5}}]}]}]}]}"#,
        )
        .map(|(_, bad)| bad)
        .unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].reason,
            "attribute `weft.seq`: intValue \"1.5\" is not an integer"
        );
    }
}
