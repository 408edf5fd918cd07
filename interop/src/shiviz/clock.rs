//! Parsing a logged vector clock as found in the wild (plain, quoted or escaped JSON), with
//! messages that place serde_json's errors within the clock text.

use std::collections::BTreeMap;

use serde_json::Value;
use weft_trace::MAX_REPLICA_BYTES;

/// Parses a clock as found in the wild: `{"a":1, "b" : 2}`, `"{\"a\":1}"` (a JSON string holding
/// the object) or `{\"a\":1}` (the same, captured without its quotes). Zero entries are kept;
/// as in JavaScript's `JSON.parse`, a host named twice keeps its last value.
pub(super) fn parse_clock(text: &str) -> Result<BTreeMap<String, u64>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty".into());
    }
    let entries = match serde_json::from_str::<Value>(t) {
        Ok(Value::Object(o)) => o,
        Ok(Value::String(inner)) => match serde_json::from_str::<Value>(inner.trim()) {
            Ok(Value::Object(o)) => o,
            Ok(other) => {
                return Err(format!(
                    "a string holding {}, not a JSON object",
                    weft_trace::json_type(&other)
                ))
            }
            Err(e) => {
                return Err(format!(
                    "the quoted text is not a JSON object ({})",
                    json_error(&e)
                ))
            }
        },
        Ok(other) => {
            return Err(format!(
                "{}, not a JSON object",
                weft_trace::json_type(&other)
            ))
        }
        Err(e) => {
            // `{\"a\":1}`: escaped JSON whose quotes the regex left outside the clock.
            let unquoted = t.contains("\\\"").then(|| {
                let s: String = serde_json::from_str(&format!("\"{t}\"")).ok()?;
                match serde_json::from_str::<Value>(&s) {
                    Ok(Value::Object(o)) => Some(o),
                    _ => None,
                }
            });
            match unquoted.flatten() {
                Some(o) => o,
                None => return Err(format!("not a JSON object ({})", json_error(&e))),
            }
        }
    };
    let mut clock = BTreeMap::new();
    for (host, v) in entries {
        if host.is_empty() || host.len() > MAX_REPLICA_BYTES {
            return Err(format!(
                "host names must be 1 to {MAX_REPLICA_BYTES} bytes, got {} bytes",
                host.len()
            ));
        }
        let Some(n) = v.as_u64() else {
            return Err(format!(
                "the entry for `{host}` is {v}, not a non-negative integer"
            ));
        };
        clock.insert(host, n);
    }
    Ok(clock)
}

/// serde_json's message with its position told relative to the clock text: "line 1 column 6"
/// would read as a line of the log.
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let bare = text
        .rfind(" at line ")
        .map_or(text.as_str(), |i| &text[..i]);
    match (e.line(), e.column()) {
        (0, _) | (_, 0) => bare.to_string(),
        (1, c) => format!("{bare}, at character {c} of the clock"),
        (l, c) => format!("{bare}, at line {l}, character {c} of the clock"),
    }
}
