//! Decoding OTLP/JSON requests so that one bad record costs only itself: a request that does not
//! decode whole is decoded again record by record, and the records that cannot be read are
//! blanked and reported as [`Unreadable`] (an int outside OTLP's signed 64 bits, a malformed
//! field), with the reason naming the attribute.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde::Deserialize as _;
use serde_json::{Map, Value};

use super::{Mapped, Quote, Rejected};

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

#[cfg(test)]
mod tests {
    use super::super::{map_logs, partial_success_message};
    use super::*;
    use serde_json::json;

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
            m.events()
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>(),
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
        assert_eq!(
            m.events()
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>(),
            vec![2]
        );
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
