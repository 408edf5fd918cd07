//! What happens to each request: the service that counts it in flight, gives its body the
//! body deadline and answers `408` (or a gRPC status) when the body came too slowly.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Request, Response, StatusCode, Version};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

use super::registry::{Active, ConnState};
use super::Timeouts;

/// Set on a request whose body did not arrive in time (see [`Timeouts::body`]); handlers find
/// it in the request's extensions to answer `408`.
#[derive(Clone, Debug, Default)]
pub struct BodyDeadline(Arc<AtomicBool>);

impl BodyDeadline {
    /// Whether the body deadline passed.
    pub fn expired(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The message for a body that did not arrive in time.
pub fn body_too_slow(t: &Timeouts) -> String {
    format!(
        "the request body did not arrive in time: a body may take {} s, and one more second per {} bytes received",
        t.body.as_secs_f64(),
        t.body_min_rate
    )
}

#[derive(Clone)]
pub(super) struct ConnService {
    pub(super) app: axum::Router,
    pub(super) state: Arc<ConnState>,
    pub(super) timeouts: Timeouts,
    pub(super) grpc: bool,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Guarded>;
    type Error = std::convert::Infallible;
    type Future =
        Pin<Box<dyn Future<Output = Result<Response<Guarded>, std::convert::Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let h2 = req.version() == Version::HTTP_2;
        let active = self.state.begin(h2);
        let deadline = BodyDeadline::default();
        let t = self.timeouts;
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(deadline.clone());
        let start = Instant::now();
        let body = TimedBody {
            inner: body,
            start,
            base: t.body,
            rate: t.body_min_rate,
            received: 0,
            sleep: Box::pin(tokio::time::sleep_until(start + t.body)),
            deadline: deadline.clone(),
        };
        let req = Request::from_parts(parts, Body::new(body));
        let mut app = self.app.clone();
        let grpc = self.grpc;
        Box::pin(async move {
            let mut resp = match tower_service::Service::call(&mut app, req).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            if grpc {
                if deadline.expired() {
                    resp = tonic::Status::deadline_exceeded(body_too_slow(&t)).into_http();
                }
                grpc_status_for_bad_input(&mut resp);
            } else if deadline.expired() {
                if resp.status() != StatusCode::REQUEST_TIMEOUT {
                    let body = weft_api::http::ApiError::message(body_too_slow(&t)).to_json();
                    resp = Response::new(Body::from(body));
                    *resp.status_mut() = StatusCode::REQUEST_TIMEOUT;
                    resp.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                }
                if !h2 {
                    resp.headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
            }
            Ok(resp.map(|inner| Guarded {
                inner,
                _active: active,
            }))
        })
    }
}

/// tonic answers a request it cannot decode (garbage, a bad compressed frame) with `INTERNAL`,
/// and one over the size limit with `OUT_OF_RANGE`, both before the service sees it. OTLP
/// clients treat `INTERNAL` as the server's fault and `OUT_OF_RANGE` as retryable; the client's
/// input is at fault and retrying it cannot succeed, so they become `INVALID_ARGUMENT` and
/// `RESOURCE_EXHAUSTED` (what gRPC's own servers answer for a message too large). The OTLP
/// services themselves never answer either code.
fn grpc_status_for_bad_input(resp: &mut Response<Body>) {
    let h = resp.headers_mut();
    let code = h
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<i32>().ok());
    let fixed = match code {
        Some(13) => tonic::Code::InvalidArgument,
        Some(11) => tonic::Code::ResourceExhausted,
        _ => return,
    };
    h.insert("grpc-status", HeaderValue::from(fixed as i32));
}

/// A request body with the body deadline.
struct TimedBody {
    inner: Incoming,
    start: Instant,
    base: Duration,
    rate: u64,
    received: u64,
    sleep: Pin<Box<Sleep>>,
    deadline: BodyDeadline,
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.deadline.expired() {
            return Poll::Ready(Some(Err("the request body did not arrive in time".into())));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    this.received += d.len() as u64;
                    if let Some(ms) = this.received.saturating_mul(1000).checked_div(this.rate) {
                        // At most a day more, whatever the body.
                        let extra = Duration::from_millis(ms.min(86_400_000));
                        let at = this.start + this.base + extra;
                        this.sleep.as_mut().reset(at);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if this.sleep.as_mut().poll(cx).is_ready() {
                    this.deadline.0.store(true, Ordering::Relaxed);
                    Poll::Ready(Some(Err("the request body did not arrive in time".into())))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that keeps its request counted as in flight until it is done.
pub(super) struct Guarded {
    inner: Body,
    _active: Active,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
