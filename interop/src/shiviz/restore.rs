//! Making the weft event for a logged event: the weft fields an event exported from weft
//! carries in its text restored, or else the text kept as an attribute; each checked by
//! weft-trace/1's own rules.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use weft_trace::{Event, LineChecker};

use super::parse::Logged;

/// Makes the weft event for a logged event at position `pos` of its host: its weft fields restored
/// when the text carries them (with a note when they are unusable), else the text as an
/// attribute. `Err` when even the plain event is not valid weft-trace/1 (never expected: a safety
/// net).
pub(super) fn to_event(
    l: &Logged,
    pos: u64,
    source: Option<&str>,
    checker: &mut LineChecker,
) -> Result<(Event, Option<String>), String> {
    let mut note = None;
    match embedded_weft(&l.text) {
        Embedded::None => {}
        Embedded::Bad(why) => note = Some(why),
        Embedded::Fields(w) => match restore(l, pos, w, checker) {
            Ok(e) => return Ok((e, None)),
            Err(why) => note = Some(why),
        },
    }
    let mut attrs: BTreeMap<String, Value> = l
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    attrs.insert("event".into(), Value::String(l.text.clone()));
    attrs.insert("line".into(), Value::from(l.line));
    if let Some(s) = source {
        attrs.insert("source".into(), Value::String(s.into()));
    }
    let event = Event {
        replica: l.host.clone(),
        seq: pos,
        vc: Some(l.clock.clone()),
        attrs: Some(attrs.into_iter().collect()),
        ..Event::default()
    };
    check(&event, checker)?;
    Ok((event, note))
}

/// What an event text says about weft fields.
enum Embedded {
    /// Plain text (or JSON without `"weft"`).
    None,
    /// A `"weft"` key that is not an object.
    Bad(String),
    /// The `"weft"` object.
    Fields(Map<String, Value>),
}

fn embedded_weft(text: &str) -> Embedded {
    let t = text.trim();
    if !t.starts_with('{') {
        return Embedded::None;
    }
    let Ok(Value::Object(mut o)) = serde_json::from_str::<Value>(t) else {
        return Embedded::None;
    };
    match o.remove("weft") {
        None => Embedded::None,
        Some(Value::Object(w)) => Embedded::Fields(w),
        Some(other) => Embedded::Bad(format!(
            "the event text's `weft` field is {}, not an object of weft fields; kept as plain text",
            weft_trace::json_type(&other)
        )),
    }
}

/// The weft fields an exported event carries. `replica` and `seq` are there only when they differ
/// from the host and the position (see [`crate::export::shiviz`]); `vc` comes from the clock.
const RESTORED: [&str; 11] = [
    "replica", "seq", "kind", "lamport", "wall_ns", "parents", "msg", "key", "op", "value", "attrs",
];

/// Rebuilds an exported event from its weft fields, checked by weft-trace's own rules. Its `vc` is
/// the logged clock, for now.
fn restore(
    l: &Logged,
    pos: u64,
    w: Map<String, Value>,
    checker: &mut LineChecker,
) -> Result<Event, String> {
    let mut line = Map::new();
    line.insert("replica".into(), Value::String(l.host.clone()));
    line.insert("seq".into(), Value::from(pos));
    for (k, v) in w {
        if RESTORED.contains(&k.as_str()) {
            line.insert(k, v);
        }
    }
    let rejected = |why: &str| {
        format!("the event text carries weft fields that weft-trace/1 rejects ({why}); kept as plain text")
    };
    let mut event: Event =
        serde_json::from_value(Value::Object(line)).map_err(|e| rejected(&e.to_string()))?;
    event.vc = Some(l.clock.clone());
    if !l.fields.is_empty() {
        let attrs = event.attrs.get_or_insert_with(Map::new);
        for (k, v) in &l.fields {
            if !attrs.contains_key(k) {
                attrs.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
    check(&event, checker).map_err(|why| rejected(&why))?;
    Ok(event)
}

/// Checks that an event serializes to a line weft-trace/1 accepts.
pub(super) fn check(event: &Event, checker: &mut LineChecker) -> Result<(), String> {
    let line = serde_json::to_vec(event).map_err(|e| e.to_string())?;
    checker.check(&line).map(|_| ()).map_err(|e| e.reason)
}
