//! The ingest scenarios' events: [`EventGen`], each client's replicas taking steps with correct
//! vector and Lamport clocks, written as NDJSON lines or as OTLP log records. Separate because
//! it is the generator, independent of how the events are sent.

use std::collections::VecDeque;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value as Av, AnyValue, InstrumentationScope, KeyValue,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::{GROUP, KEYS, REPLICAS_PER_CLIENT};
use crate::gen::Rng;

/// What an event does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Write,
    Read,
    Send,
    Recv,
}

impl Kind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Kind::Write => "write",
            Kind::Read => "read",
            Kind::Send => "send",
            Kind::Recv => "recv",
        }
    }
}

/// The value of a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val {
    /// A JSON integer.
    Int(u64),
    /// A string `v<n>` (set) or a set element `e<n>` (add/remove).
    Str(char, u64),
}

/// One generated event (the generator reuses it; `vc` holds the nonzero entries by index).
#[derive(Clone, Debug, Default)]
pub struct Ev {
    pub replica: usize,
    pub seq: u64,
    pub kind: Option<Kind>,
    pub lamport: u64,
    pub vc: Vec<(usize, u64)>,
    pub key: Option<u64>,
    pub op: Option<&'static str>,
    pub value: Option<Val>,
    pub msg: Option<u64>,
}

pub(super) struct Msg {
    pub(super) id: u64,
    pub(super) lamport: u64,
    pub(super) vc: [u64; REPLICAS_PER_CLIENT],
}

/// A client's replicas taking steps, one event per step: a replica picked at random receives
/// the oldest message waiting for it (85% when one waits), else sends a message to another
/// replica of its group, writes a key (set, inc, add, remove) or reads one: about 15% sends,
/// 15% receives, 44% writes and 26% reads. Vector clocks and Lamport clocks are kept correctly (own entry = seq; merge on
/// receive), so the lines are what a real instrumented replica would send.
pub struct EventGen {
    pub(super) names: Vec<String>,
    pub(super) msg_prefix: String,
    pub(super) key_prefix: String,
    pub(super) rng: Rng,
    pub(super) seq: Vec<u64>,
    pub(super) lamport: Vec<u64>,
    pub(super) vc: Vec<[u64; REPLICAS_PER_CLIENT]>,
    pub(super) inbox: Vec<VecDeque<Msg>>,
    pub(super) next_msg: u64,
    pub(super) ev: Ev,
}

impl EventGen {
    /// Client `client` of phase `tag` (`n` NDJSON, `o` OTLP): replicas `{tag}{client}r00` …
    /// `{tag}{client}r15`, messages `{tag}{client}m1`, …
    pub fn new(tag: char, client: usize) -> Self {
        EventGen {
            names: (0..REPLICAS_PER_CLIENT)
                .map(|i| format!("{tag}{client}r{i:02}"))
                .collect(),
            msg_prefix: format!("{tag}{client}m"),
            key_prefix: "k".to_owned(),
            rng: Rng::new(0x001A_6E57 ^ ((tag as u64) << 32) ^ client as u64),
            seq: vec![0; REPLICAS_PER_CLIENT],
            lamport: vec![0; REPLICAS_PER_CLIENT],
            vc: vec![[0; REPLICAS_PER_CLIENT]; REPLICAS_PER_CLIENT],
            inbox: (0..REPLICAS_PER_CLIENT).map(|_| VecDeque::new()).collect(),
            next_msg: 0,
            ev: Ev::default(),
        }
    }

    /// Name of replica `i`.
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// The next event.
    pub fn next_event(&mut self) -> &Ev {
        self.step();
        &self.ev
    }

    /// The current event (after [`EventGen::next_event`]).
    pub fn current(&self) -> &Ev {
        &self.ev
    }

    pub(super) fn step(&mut self) {
        let r = self.rng.below(REPLICAS_PER_CLIENT as u64) as usize;
        self.seq[r] += 1;
        let seq = self.seq[r];
        self.vc[r][r] = seq;
        let ev = &mut self.ev;
        ev.replica = r;
        ev.seq = seq;
        ev.key = None;
        ev.op = None;
        ev.value = None;
        ev.msg = None;
        let receive = !self.inbox[r].is_empty() && self.rng.below(100) < 85;
        if receive {
            let m = self.inbox[r].pop_front().expect("not empty");
            for (mine, theirs) in self.vc[r].iter_mut().zip(m.vc) {
                *mine = (*mine).max(theirs);
            }
            self.lamport[r] = self.lamport[r].max(m.lamport) + 1;
            ev.kind = Some(Kind::Recv);
            ev.msg = Some(m.id);
        } else {
            self.lamport[r] += 1;
            let roll = self.rng.below(1000);
            if roll < 176 {
                let base = r / GROUP * GROUP;
                let mut t = base + self.rng.below(GROUP as u64 - 1) as usize;
                if t >= r {
                    t += 1;
                }
                self.next_msg += 1;
                self.inbox[t].push_back(Msg {
                    id: self.next_msg,
                    lamport: self.lamport[r],
                    vc: self.vc[r],
                });
                ev.kind = Some(Kind::Send);
                ev.msg = Some(self.next_msg);
            } else if roll < 696 {
                ev.kind = Some(Kind::Write);
                ev.key = Some(self.rng.below(KEYS));
                let op = self.rng.below(100);
                let (op, value) = if op < 82 {
                    let v = if self.rng.below(3) == 0 {
                        Val::Str('v', self.rng.below(1000))
                    } else {
                        Val::Int(self.rng.below(1000))
                    };
                    ("set", v)
                } else if op < 90 {
                    ("inc", Val::Int(1 + self.rng.below(10)))
                } else if op < 96 {
                    ("add", Val::Str('e', self.rng.below(32)))
                } else {
                    ("remove", Val::Str('e', self.rng.below(32)))
                };
                ev.op = Some(op);
                ev.value = Some(value);
            } else {
                ev.kind = Some(Kind::Read);
                ev.key = Some(self.rng.below(KEYS));
            }
        }
        ev.lamport = self.lamport[r];
        ev.vc.clear();
        ev.vc.extend(
            self.vc[r]
                .iter()
                .enumerate()
                .filter(|(_, &c)| c > 0)
                .map(|(i, &c)| (i, c)),
        );
    }

    pub(super) fn write_vc(&self, ev: &Ev, out: &mut Vec<u8>) {
        out.push(b'{');
        for (n, &(i, c)) in ev.vc.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(self.names[i].as_bytes());
            out.extend_from_slice(b"\":");
            out.extend_from_slice(itoa::Buffer::new().format(c).as_bytes());
        }
        out.push(b'}');
    }

    pub(super) fn key(&self, k: u64) -> String {
        format!("{}{k}", self.key_prefix)
    }

    pub(super) fn msg(&self, m: u64) -> String {
        format!("{}{m}", self.msg_prefix)
    }

    /// Appends `ev` as one NDJSON line (with its newline).
    pub fn write_ndjson(&self, ev: &Ev, out: &mut Vec<u8>) {
        let mut num = itoa::Buffer::new();
        let kind = ev.kind.expect("a generated event has a kind");
        out.extend_from_slice(b"{\"replica\":\"");
        out.extend_from_slice(self.names[ev.replica].as_bytes());
        out.extend_from_slice(b"\",\"seq\":");
        out.extend_from_slice(num.format(ev.seq).as_bytes());
        out.extend_from_slice(b",\"kind\":\"");
        out.extend_from_slice(kind.as_str().as_bytes());
        out.extend_from_slice(b"\",\"lamport\":");
        out.extend_from_slice(num.format(ev.lamport).as_bytes());
        out.extend_from_slice(b",\"vc\":");
        self.write_vc(ev, out);
        if let Some(k) = ev.key {
            out.extend_from_slice(b",\"key\":\"");
            out.extend_from_slice(self.key_prefix.as_bytes());
            out.extend_from_slice(num.format(k).as_bytes());
            out.push(b'"');
        }
        if let Some(op) = ev.op {
            out.extend_from_slice(b",\"op\":\"");
            out.extend_from_slice(op.as_bytes());
            out.push(b'"');
        }
        match ev.value {
            Some(Val::Int(v)) => {
                out.extend_from_slice(b",\"value\":");
                out.extend_from_slice(num.format(v).as_bytes());
            }
            Some(Val::Str(c, v)) => {
                out.extend_from_slice(b",\"value\":\"");
                out.push(c as u8);
                out.extend_from_slice(num.format(v).as_bytes());
                out.push(b'"');
            }
            None => {}
        }
        if let Some(m) = ev.msg {
            out.extend_from_slice(b",\"msg\":\"");
            out.extend_from_slice(self.msg_prefix.as_bytes());
            out.extend_from_slice(num.format(m).as_bytes());
            out.push(b'"');
        }
        out.extend_from_slice(b"}\n");
    }

    /// `ev` as an OTLP log record with `weft.*` attributes (`weft.vc` a JSON string), no
    /// timestamp and no body: it maps to exactly the event [`EventGen::write_ndjson`] writes.
    pub fn log_record(&self, ev: &Ev) -> LogRecord {
        let kind = ev.kind.expect("a generated event has a kind");
        let mut vc = Vec::with_capacity(16 * ev.vc.len());
        self.write_vc(ev, &mut vc);
        let mut attrs = vec![
            kv("weft.replica", s(self.names[ev.replica].clone())),
            kv("weft.seq", int(ev.seq)),
            kv("weft.kind", s(kind.as_str().to_owned())),
            kv("weft.lamport", int(ev.lamport)),
            kv(
                "weft.vc",
                s(String::from_utf8(vc).expect("the vc is ASCII")),
            ),
        ];
        if let Some(k) = ev.key {
            attrs.push(kv("weft.key", s(self.key(k))));
        }
        if let Some(op) = ev.op {
            attrs.push(kv("weft.op", s(op.to_owned())));
        }
        match ev.value {
            Some(Val::Int(v)) => attrs.push(kv("weft.value", int(v))),
            Some(Val::Str(c, v)) => attrs.push(kv("weft.value", s(format!("{c}{v}")))),
            None => {}
        }
        if let Some(m) = ev.msg {
            attrs.push(kv("weft.msg", s(self.msg(m))));
        }
        LogRecord {
            attributes: attrs,
            ..LogRecord::default()
        }
    }
}

pub(super) fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(value),
        ..KeyValue::default()
    }
}

pub(super) fn s(v: String) -> AnyValue {
    AnyValue {
        value: Some(Av::StringValue(v)),
    }
}

pub(super) fn int(v: u64) -> AnyValue {
    AnyValue {
        value: Some(Av::IntValue(v as i64)),
    }
}

/// The export request around one batch of records.
pub fn otlp_request(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![kv("service.name", s("weft-bench".to_owned()))],
                ..Resource::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "weft-bench".to_owned(),
                    ..InstrumentationScope::default()
                }),
                log_records: records,
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn lines_are_valid_unique_and_about_200_bytes() {
        let mut g = EventGen::new('n', 3);
        let mut body = Vec::new();
        for _ in 0..5000 {
            let ev = g.next_event().clone();
            g.write_ndjson(&ev, &mut body);
        }
        let mut checker = weft_trace::LineChecker::new();
        let mut ids = std::collections::HashSet::new();
        let mut kinds = std::collections::HashMap::new();
        let text = std::str::from_utf8(&body).unwrap();
        for line in text.lines() {
            match checker.check(line.as_bytes()) {
                Ok(weft_trace::CheckedLine::Event { replica, seq, .. }) => {
                    assert!(replica.starts_with("n3r"), "{replica}");
                    assert!(ids.insert((replica, seq)), "duplicate id in {line}");
                }
                other => panic!("{line}: {other:?}"),
            }
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            *kinds
                .entry(v["kind"].as_str().unwrap().to_owned())
                .or_insert(0) += 1;
        }
        let avg = body.len() as f64 / 5000.0;
        assert!((170.0..240.0).contains(&avg), "{avg} bytes per line");
        for k in ["write", "read", "send", "recv"] {
            assert!(kinds[k] > 300, "{kinds:?}");
        }
    }

    #[test]
    fn the_trace_is_causally_consistent() {
        let mut g = EventGen::new('n', 0);
        let mut body = Vec::new();
        for _ in 0..20_000 {
            let ev = g.next_event().clone();
            g.write_ndjson(&ev, &mut body);
        }
        let events: Vec<weft_trace::Event> = std::str::from_utf8(&body)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let mut sends = std::collections::HashMap::new();
        for e in &events {
            let vc = e.vc.as_ref().unwrap();
            assert_eq!(vc[&e.replica], e.seq);
            assert!(vc.len() <= GROUP);
            match e.kind {
                weft_trace::Kind::Send => {
                    sends.insert(e.msg.clone().unwrap(), (vc.clone(), e.lamport.unwrap()));
                }
                weft_trace::Kind::Recv => {
                    let (svc, sl) = &sends[e.msg.as_ref().unwrap()];
                    assert!(e.lamport.unwrap() > *sl);
                    for (r, c) in svc {
                        assert!(vc[r] >= *c);
                    }
                }
                _ => {}
            }
        }
    }

    #[test]
    fn otlp_records_map_to_the_same_events() {
        let mut g = EventGen::new('o', 1);
        let mut body = Vec::new();
        let mut records = Vec::new();
        for _ in 0..2000 {
            let ev = g.next_event().clone();
            g.write_ndjson(&ev, &mut body);
            records.push(g.log_record(&ev));
        }
        let req = otlp_request(records);
        let bytes = req.encode_to_vec();
        let req = ExportLogsServiceRequest::decode(&bytes[..]).unwrap();
        let mapped = weft_collector::otlp::map_logs(&req);
        assert!(mapped.rejected.is_empty(), "{:?}", mapped.rejected);
        assert_eq!(mapped.skipped, 0);
        let want: Vec<weft_trace::Event> = std::str::from_utf8(&body)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(mapped.events().unwrap(), want);
    }
}
