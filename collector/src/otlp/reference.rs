//! The mapping as it was before records were written straight to lines: each record built as a
//! `serde_json` object, serialized, and judged by the line checker. Kept only as the reference
//! that `super::props` holds the direct path to: the same lines, byte for byte, and the same
//! rejections, word for word.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Av;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use serde_json::{Map, Number, Value};
use weft_trace::{CheckedLine, EventId, LineChecker};

use super::line::duplicate_key;
use super::value::base64;
use super::{inner, key_of, wrong, Describe, Mapped, Quote, Rejected, MAX_DEPTH, NO_REPLICA};

/// The old `map_logs` (the same walk over the request as the direct path).
pub(super) fn map_logs(req: &ExportLogsServiceRequest) -> Mapped {
    let mut m = Mapper::default();
    super::log_records(req, |r| m.record(r.attrs, r.body, r.time, r.fallback));
    m.out
}

/// The old `map_traces`.
pub(super) fn map_traces(req: &ExportTraceServiceRequest) -> Mapped {
    let mut m = Mapper::default();
    super::span_records(req, |r| m.record(r.attrs, r.body, r.time, r.fallback));
    m.out
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
            Ok(line) => self.out.lines.push(line),
            Err(reason) => self.out.rejected.push(Rejected { index, reason }),
        }
    }

    /// Runs the event object through the line checker, then makes the owned event.
    fn check(&mut self, obj: Map<String, Value>) -> Result<crate::store::Line, String> {
        let line = serde_json::to_string(&Value::Object(obj)).map_err(|e| e.to_string())?;
        match self.checker.check(line.as_bytes()) {
            Ok(CheckedLine::Event {
                replica,
                seq,
                fingerprint,
            }) => {
                serde_json::from_str::<weft_trace::Event>(&line)
                    .map_err(|e| format!("internal error: {e}"))?;
                Ok(crate::store::Line {
                    bytes: line.into_bytes().into(),
                    replica,
                    seq,
                    fingerprint,
                })
            }
            Ok(other) => Err(format!("internal error: not an event ({other:?})")),
            Err(e) => Err(e.reason),
        }
    }
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
            Value::from(&*id.replica),
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
