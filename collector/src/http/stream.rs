//! `GET /v1/stream`: committed events as a live NDJSON stream, read from disk in chunks as the
//! store commits them.

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::Response;

use super::AppState;

#[derive(serde::Deserialize)]
pub(super) struct StreamParams {
    from: Option<u64>,
}

/// Most events read from disk per chunk of a stream.
const STREAM_CHUNK: u64 = 4096;

pub(super) async fn get_stream(
    State(s): State<AppState>,
    Query(p): Query<StreamParams>,
) -> Response {
    let from = p.from.unwrap_or(0);
    let committed = s.shared.committed.subscribe();
    let state = (from, committed, s.stopping.clone(), s.shared.clone());
    let stream = futures_util::stream::unfold(
        state,
        |(pos, mut committed, mut stopping, shared)| async move {
            loop {
                if *stopping.borrow() {
                    return None;
                }
                let upto = *committed.borrow_and_update();
                if pos < upto {
                    let index = shared
                        .index
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .clone();
                    let until = upto.min(pos + STREAM_CHUNK);
                    let read = tokio::task::spawn_blocking(move || {
                        let mut out = Vec::new();
                        let end = crate::store::read_range(&index, pos, until, |line| {
                            out.extend_from_slice(line);
                            out.push(b'\n');
                            true
                        });
                        end.map(|end| (end, out))
                    })
                    .await;
                    return match read {
                        Ok(Ok((end, out))) if end > pos => Some((
                            Ok::<Bytes, std::io::Error>(Bytes::from(out)),
                            (end, committed, stopping, shared),
                        )),
                        Ok(Ok(_)) => None,
                        Ok(Err(e)) => Some((Err(e), (u64::MAX, committed, stopping, shared))),
                        Err(e) => Some((
                            Err(std::io::Error::other(e.to_string())),
                            (u64::MAX, committed, stopping, shared),
                        )),
                    };
                }
                tokio::select! {
                    changed = committed.changed() => if changed.is_err() { return None; },
                    _ = stopping.changed() => return None,
                }
            }
        },
    );
    ndjson_stream(stream)
}

/// A never-ending NDJSON answer (a live stream), uncached.
pub(crate) fn ndjson_stream<S>(stream: S) -> Response
where
    S: futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .expect("a valid response")
}
