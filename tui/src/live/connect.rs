//! Opening a connection to the collector (TCP to each resolved address, TLS for `https://`,
//! then HTTP/1.1) and building the GET requests both tasks send on it. Separate from what the
//! tasks do with the answers.

use std::io;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, HOST, USER_AGENT};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::rustls;

use super::endpoint::Endpoint;
use super::reasons::chain;
use super::tls::tls_reason;
use super::{CONNECT_TIMEOUT, HANDSHAKE_TIMEOUT};

/// A request sender on a new connection: TCP to each resolved address in turn, then TLS for
/// `https://`, then HTTP/1.1; the connection itself is driven by a task of the runtime, which
/// ends when the sender and the response body are dropped.
pub(super) async fn open(
    ep: &Endpoint,
    tls: Option<&Arc<rustls::ClientConfig>>,
    ca_cert: Option<&Path>,
) -> Result<SendRequest<Empty<Bytes>>, String> {
    let tcp = connect(ep).await?;
    let Some(config) = tls else {
        return handshake(tcp).await;
    };
    let name = ep.server_name()?;
    let connector = tokio_rustls::TlsConnector::from(config.clone());
    match timeout(HANDSHAKE_TIMEOUT, connector.connect(name, tcp)).await {
        Ok(Ok(stream)) => handshake(stream).await,
        Ok(Err(e)) => Err(tls_reason(&e, ep, ca_cert)),
        Err(_) => Err(format!(
            "TLS handshake: no answer within {} s (is it a TLS port? for plain HTTP use http://)",
            HANDSHAKE_TIMEOUT.as_secs()
        )),
    }
}

/// Connects to the first address that answers.
async fn connect(ep: &Endpoint) -> Result<TcpStream, String> {
    let addrs = ep.addrs().await?;
    let mut last = format!("cannot resolve {}: no address", ep.host());
    for addr in addrs {
        match timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Ok(Err(e)) => last = connect_reason(&e),
            Err(_) => last = "connection timed out".to_string(),
        }
    }
    Err(last)
}

fn connect_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        io::ErrorKind::TimedOut => "connection timed out".to_string(),
        _ => format!("cannot connect: {e}"),
    }
}

/// HTTP/1.1 on `io`.
async fn handshake<T>(io: T) -> Result<SendRequest<Empty<Bytes>>, String>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("cannot start HTTP: {}", chain(&e)))?;
    // Its errors reach the request or the body that was being read.
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// A GET of `target` with the headers every request carries.
pub(super) fn request(
    ep: &Endpoint,
    target: &str,
    token: Option<&str>,
    accept: &'static str,
) -> Result<Request<Empty<Bytes>>, String> {
    let mut req = Request::get(target)
        .header(HOST, ep.host_header())
        .header(ACCEPT, accept)
        .header(USER_AGENT, "weft-tui")
        .body(Empty::new())
        .map_err(|e| format!("invalid request: {e}"))?;
    if let Some(t) = token {
        let mut value = HeaderValue::from_str(&format!("Bearer {t}"))
            .map_err(|_| "the token contains a line break or control character".to_string())?;
        value.set_sensitive(true);
        req.headers_mut().insert(AUTHORIZATION, value);
    }
    Ok(req)
}
