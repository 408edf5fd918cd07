//! Pre-built requests: each client's pool of HTTP requests (NDJSON or OTLP protobuf bodies of
//! [`BATCH`] events), generated up front so the load phases only send them.

use std::time::Instant;

use prost::Message;

use super::events::{otlp_request, EventGen};
use super::mib;
use super::{BATCH, CLIENTS};
use crate::bench::{count, secs};

/// One request: where it goes and its body, ready to send (the client writes the head).
pub struct Request {
    pub(super) url: String,
    pub(super) content_type: &'static str,
    pub(super) body: Vec<u8>,
    pub(super) events: u64,
}

impl Request {
    pub(super) fn new(
        path: &str,
        content_type: &'static str,
        host: &str,
        body: &[u8],
        events: u64,
    ) -> Self {
        Request {
            url: format!("http://{host}{path}"),
            content_type,
            body: body.to_vec(),
            events,
        }
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// Which endpoint a phase loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Api {
    Ndjson,
    Otlp,
}

impl Api {
    pub(super) fn tag(self) -> char {
        match self {
            Api::Ndjson => 'n',
            Api::Otlp => 'o',
        }
    }
}

/// `batches` requests of [`BATCH`] events for one client.
pub(super) fn pool(api: Api, client: usize, batches: usize, host: &str) -> Vec<Request> {
    let mut g = EventGen::new(api.tag(), client);
    let mut body = Vec::new();
    (0..batches)
        .map(|_| {
            body.clear();
            match api {
                Api::Ndjson => {
                    for _ in 0..BATCH {
                        g.step();
                        g.write_ndjson(g.current(), &mut body);
                    }
                    Request::new(
                        "/v1/events",
                        "application/x-ndjson",
                        host,
                        &body,
                        BATCH as u64,
                    )
                }
                Api::Otlp => {
                    let records = (0..BATCH)
                        .map(|_| {
                            g.step();
                            g.log_record(g.current())
                        })
                        .collect();
                    let req = otlp_request(records);
                    req.encode(&mut body).expect("a Vec grows");
                    Request::new(
                        "/v1/logs",
                        "application/x-protobuf",
                        host,
                        &body,
                        BATCH as u64,
                    )
                }
            }
        })
        .collect()
}

/// Generates every client's pool in parallel; prints what it made.
pub(super) fn pools(api: Api, batches: usize, host: &str) -> Vec<Vec<Request>> {
    let start = Instant::now();
    let pools: Vec<Vec<Request>> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|c| sc.spawn(move || pool(api, c, batches, host)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("the generator does not panic"))
            .collect()
    });
    let body: u64 = pools.iter().flatten().map(|r| r.body().len() as u64).sum();
    let events = (CLIENTS * batches * BATCH) as u64;
    println!(
        "  pre-generated {} events ({} requests of {} per client), {} of bodies, {:.0} bytes \
         per event, in {}",
        count(events),
        count(batches as u64),
        count(BATCH as u64),
        mib(body),
        body as f64 / events.max(1) as f64,
        secs(start.elapsed())
    );
    pools
}
