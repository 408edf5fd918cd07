//! The live follower: reads the collector's `GET /v1/stream`, polls `GET /v1/status`, and hands
//! what it finds to the UI over a bounded channel.
//!
//! One background thread runs a small current-thread tokio runtime with two tasks, the stream
//! reader and the status poller, both on hyper's HTTP/1.1 client: over plain TCP for `http://`,
//! over rustls (the ring provider, as the collector) for `https://`. The stream is a never-ending
//! chunked NDJSON response with no heartbeats. Every wait (resolving, connecting, the TLS
//! handshake, the response head, each body chunk, room in the UI's channel, the backoff) is raced
//! against the stop signal, so an idle stream is simply a read still pending, never taken for a
//! dead one, and a stop request is noticed at once; a dead connection ends the body with an error
//! or an end of stream.
//!
//! Certificates: with [`LiveConfig::ca_cert`] the collector's certificate must chain to a
//! certificate of that PEM file and to nothing else (as `curl --cacert` does), which is how a
//! collector with a self-signed certificate is followed without trusting every public CA for it
//! too; without it, to one of the CA certificates installed on the system.
//!
//! Positions are counted by the follower: line `N` of a stream opened with `from=F` is store
//! position `F + N`, so after any failure the follower reopens the stream from the number of lines
//! it has already handed over, and no line is delivered twice or skipped.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, HOST, USER_AGENT};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::timeout;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use url::{Host, Url};

/// Where and how to follow a collector.
#[derive(Clone)]
pub struct LiveConfig {
    /// The collector's base URL, e.g. `http://127.0.0.1:4318` or `https://collector:4318`; a
    /// trailing slash, a path prefix (for a collector behind a reverse proxy) and a missing
    /// `http://` are tolerated.
    pub url: String,
    /// The bearer token the collector requires, if any.
    pub token: Option<String>,
    /// For `https://`: a PEM file of the CA certificates to trust, used instead of the system's
    /// (a self-signed certificate is its own CA). `None`: the system's CA certificates.
    pub ca_cert: Option<PathBuf>,
    /// The longest line accepted, in bytes (without its newline): a longer line is skipped and
    /// reported as [`LiveMsg::Skipped`], so one bad line cannot make the follower buffer without
    /// bound.
    pub max_line: usize,
}

impl fmt::Debug for LiveConfig {
    /// Hides the token, because configurations end up in logs and error messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveConfig")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("ca_cert", &self.ca_cert)
            .field("max_line", &self.max_line)
            .finish()
    }
}

/// What the follower tells the UI.
#[derive(Clone, Debug, PartialEq)]
pub enum LiveMsg {
    /// Complete NDJSON lines (each ending in '\n') in stream order; `count` lines; `first` = store
    /// position of the first. Lines are batched (up to about 1 MiB) so that a backlog costs the UI
    /// a few messages rather than one per event.
    Lines {
        /// The lines, each ending in `\n`.
        bytes: Vec<u8>,
        /// How many lines `bytes` holds.
        count: u64,
        /// The store position of the first line.
        first: u64,
    },
    /// The line at store position `position` was not delivered (it was longer than
    /// [`LiveConfig::max_line`]); it still counts as seen, so the following lines keep their
    /// positions and a reconnection does not ask for it again.
    Skipped {
        /// The store position of the skipped line.
        position: u64,
        /// Why it was skipped, for the user.
        reason: String,
    },
    /// The link changed state.
    Link(LinkState),
    /// The collector's /v1/status counters, polled about once a second while reachable.
    Stats(CollectorStats),
}

/// The state of the link to the collector's stream.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkState {
    /// Connecting, or waiting for the response headers.
    Connecting,
    /// The stream is open: new lines arrive as the collector stores them.
    Connected,
    /// The stream failed or ended; the follower tries again after `retry_in`.
    Disconnected {
        /// A short reason for the user, e.g. "connection refused".
        reason: String,
        /// How long until the next attempt.
        retry_in: Duration,
    },
}

/// The collector's counters that the UI shows (a subset of `GET /v1/status`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CollectorStats {
    /// Events durably stored.
    pub events: u64,
    /// Exact duplicate events dropped.
    pub duplicates: u64,
    /// Invalid lines and OTLP records rejected.
    pub rejected: u64,
    /// Batches refused because the write queue was full.
    pub dropped_batches: u64,
    /// OTLP records skipped because they had no weft sequence number.
    pub skipped_otlp_records: u64,
    /// Batches waiting for the store.
    pub queue_depth: u64,
}

/// Why a CA certificate file cannot be used: the file and the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct CaCertError {
    /// The file.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Reads a PEM file of CA certificates as [`LiveConfig::ca_cert`] is read; returns how many
/// certificates it holds. For callers that refuse a bad file up front: the follower itself only
/// reports it as the reason it cannot connect.
pub fn check_ca_cert(path: &Path) -> Result<usize, CaCertError> {
    ca_certs(path).map(|(certs, _)| certs.len())
}

/// The first wait before reconnecting; it doubles up to [`MAX_RETRY`] while attempts keep failing.
const FIRST_RETRY: Duration = Duration::from_millis(250);
/// The longest wait before reconnecting, so a restarted collector is found within seconds.
const MAX_RETRY: Duration = Duration::from_secs(5);
/// How long resolving the host name may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one address may take to accept the TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the TLS handshake may take (the collector's own deadline is 10 s too).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the collector may take to send the response headers.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long and how much of an error response's body is read for its message (and the most of
/// a /v1/status answer read).
const ERROR_BODY_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_ERROR_BODY: usize = 64 << 10;
/// A [`LiveMsg::Lines`] is sent once it holds this many bytes.
const BATCH_BYTES: usize = 1 << 20;
/// How often the status counters are polled, and how long one poll may take (connecting and a
/// TLS handshake included).
const STATUS_EVERY: Duration = Duration::from_secs(1);
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `stop()` waits for the thread before leaving it to finish on its own.
const STOP_WAIT: Duration = Duration::from_millis(1500);

/// The running follower: one thread whose runtime runs the stream reader and the status poller.
pub struct Follower {
    stop: Arc<watch::Sender<bool>>,
    arrived: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
    /// Disconnected once the thread has ended (it holds a sender it drops on exit), so `stop()`
    /// can wait for it with a deadline, which `JoinHandle::join` cannot.
    done: mpsc::Receiver<()>,
}

impl Follower {
    /// Starts following in a background thread; messages go to `tx` (a bounded channel: when the
    /// UI is slow the follower waits, it never drops lines).
    ///
    /// The first messages are `Link(Connecting)` then `Link(Connected)` (or `Disconnected` with a
    /// reason). Nothing here blocks: a bad URL or CA file is reported as a `Disconnected` reason.
    pub fn spawn(cfg: LiveConfig, tx: SyncSender<LiveMsg>) -> Follower {
        let stop = Arc::new(watch::Sender::new(false));
        let arrived = Arc::new(AtomicU64::new(0));
        let (done_tx, done) = mpsc::channel::<()>();
        let link = Link {
            tx: tx.clone(),
            stop: stop.clone(),
            arrived: arrived.clone(),
        };
        let spawned = thread::Builder::new()
            .name("weft-live".into())
            .spawn(move || {
                let _done = done_tx;
                run(&cfg, &link);
            });
        let thread = match spawned {
            Ok(h) => Some(h),
            Err(e) => {
                // Nothing can follow the stream: say so, once, without waiting on the channel.
                let _ = tx.try_send(LiveMsg::Link(LinkState::Disconnected {
                    reason: format!("cannot start the live thread: {e}"),
                    retry_in: Duration::ZERO,
                }));
                None
            }
        };
        Follower {
            stop,
            arrived,
            thread,
            done,
        }
    }

    /// Lines (events) read off the stream so far, counted as they come in, before they are
    /// handed over: the arrival count, whatever the receiver is busy with.
    pub fn arrived(&self) -> Arc<AtomicU64> {
        self.arrived.clone()
    }

    /// Asks the thread to stop and returns promptly.
    ///
    /// Every wait of the follower is raced against the stop signal, so the thread ends at once;
    /// should it not (a host name lookup runs on a thread of its own and cannot be interrupted,
    /// but nothing waits for it), it is left to finish on its own after 1.5 s rather than holding
    /// up the UI.
    pub fn stop(mut self) {
        self.stop.send_replace(true);
        let deadline = Instant::now() + STOP_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.done.recv_timeout(left) {
                Ok(()) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
                // Leave it detached: it exits as soon as it next runs.
                Err(RecvTimeoutError::Timeout) => return,
            }
        }
        if let Some(h) = self.thread.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Follower {
    /// A follower dropped without `stop()` still stops its thread (without waiting for it).
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// The thread: a current-thread runtime running both tasks until a stop.
fn run(cfg: &LiveConfig, link: &Link) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = link.tx.try_send(LiveMsg::Link(LinkState::Disconnected {
                reason: format!("cannot start the live runtime: {e}"),
                retry_in: Duration::ZERO,
            }));
            return;
        }
    };
    rt.block_on(async {
        tokio::join!(follow_stream(cfg, link), poll_status(cfg, link));
    });
    // Connection tasks are dropped, and a host name lookup still running is not waited for.
    rt.shutdown_background();
}

/// What both tasks share: the channel to the UI and the stop signal.
#[derive(Clone)]
struct Link {
    tx: SyncSender<LiveMsg>,
    stop: Arc<watch::Sender<bool>>,
    /// Lines read off the stream.
    arrived: Arc<AtomicU64>,
}

impl Link {
    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves once a stop has been asked for.
    async fn stop_requested(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Runs `f` unless a stop is asked for first (then `None`).
    async fn or_stop<F: Future>(&self, f: F) -> Option<F::Output> {
        tokio::select! {
            biased;
            () = self.stop_requested() => None,
            out = f => Some(out),
        }
    }

    /// Sends, waiting while the channel is full (a slow UI slows the follower down, it never
    /// loses lines) but still honouring a stop request. False when the task must end: stopped,
    /// or the receiver is gone, in which case the other task is told to end too.
    async fn send(&self, msg: LiveMsg) -> bool {
        let mut msg = msg;
        let mut nap = Duration::from_millis(1);
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => return true,
                Err(TrySendError::Full(m)) => {
                    if self.or_stop(tokio::time::sleep(nap)).await.is_none() {
                        return false;
                    }
                    nap = (nap * 2).min(Duration::from_millis(20));
                    msg = m;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.stop.send_replace(true);
                    return false;
                }
            }
        }
    }

    /// Waits `d`; false if asked to stop meanwhile.
    async fn sleep(&self, d: Duration) -> bool {
        self.or_stop(tokio::time::sleep(d)).await.is_some()
    }
}

/// The collector's base URL, checked and normalised.
struct Endpoint {
    url: Url,
    /// `https://`.
    tls: bool,
    port: u16,
    /// The path prefix without a trailing slash ("" for a collector at the root).
    prefix: String,
}

impl Endpoint {
    fn parse(raw: &str) -> Result<Endpoint, String> {
        let raw = raw.trim();
        let with_scheme = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("http://{raw}")
        };
        let url =
            Url::parse(&with_scheme).map_err(|e| format!("invalid collector URL {raw:?}: {e}"))?;
        let tls = match url.scheme() {
            "http" => false,
            "https" => true,
            other => {
                return Err(format!(
                    "unsupported URL scheme {other:?}: use http://HOST:PORT or https://HOST:PORT"
                ))
            }
        };
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("invalid collector URL {raw:?}: no host"));
        }
        let port = url
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 });
        let prefix = url.path().trim_end_matches('/').to_string();
        Ok(Endpoint {
            url,
            tls,
            port,
            prefix,
        })
    }

    fn host(&self) -> &str {
        self.url.host_str().unwrap_or("")
    }

    /// The value of the Host header: the host, and the port unless it is the default.
    fn host_header(&self) -> String {
        match self.url.port() {
            Some(p) => format!("{}:{p}", self.host()),
            None => self.host().to_string(),
        }
    }

    /// The request target of the stream from position `from`.
    fn stream_target(&self, from: u64) -> String {
        format!("{}/v1/stream?from={from}", self.prefix)
    }

    fn status_target(&self) -> String {
        format!("{}/v1/status", self.prefix)
    }

    /// The name the collector's certificate must hold: the URL's host name or IP address.
    fn server_name(&self) -> Result<ServerName<'static>, String> {
        match self.url.host() {
            Some(Host::Ipv4(ip)) => Ok(ServerName::IpAddress(std::net::IpAddr::V4(ip).into())),
            Some(Host::Ipv6(ip)) => Ok(ServerName::IpAddress(std::net::IpAddr::V6(ip).into())),
            Some(Host::Domain(d)) => ServerName::try_from(d.to_string())
                .map_err(|e| format!("{d:?} cannot be checked against a certificate: {e}")),
            None => Err("no host".into()),
        }
    }

    async fn addrs(&self) -> Result<Vec<SocketAddr>, String> {
        match self.url.host() {
            Some(Host::Ipv4(ip)) => Ok(vec![SocketAddr::from((ip, self.port))]),
            Some(Host::Ipv6(ip)) => Ok(vec![SocketAddr::from((ip, self.port))]),
            Some(Host::Domain(d)) => {
                match timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((d, self.port))).await {
                    Ok(Ok(addrs)) => Ok(addrs.collect()),
                    Ok(Err(e)) => Err(format!("cannot resolve {d}: {e}")),
                    Err(_) => Err(format!("cannot resolve {d}: no answer within 5 s")),
                }
            }
            None => Err("no host".into()),
        }
    }
}

/// The rustls client configuration, built on first use and kept; a failure (an unreadable CA
/// file) is retried at the next use, so a fixed file is picked up.
#[derive(Default)]
struct TlsSetup(Option<Arc<rustls::ClientConfig>>);

impl TlsSetup {
    fn get(&mut self, cfg: &LiveConfig) -> Result<Arc<rustls::ClientConfig>, String> {
        if let Some(c) = &self.0 {
            return Ok(c.clone());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?;
        let mut config = match &cfg.ca_cert {
            Some(path) => {
                let (certs, roots) = ca_certs(path).map_err(|e| format!("--ca-cert {e}"))?;
                let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|e| format!("cannot set up TLS: {e}"))?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(PinnedOrWebPki {
                        webpki,
                        pinned: certs,
                    }))
                    .with_no_client_auth()
            }
            None => builder
                .with_root_certificates(system_roots()?)
                .with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        self.0 = Some(config.clone());
        Ok(config)
    }
}

/// rustls's own verification against the `--ca-cert` certificates, with one exception: webpki
/// refuses a server certificate marked as a CA (`CA:TRUE`, as `openssl req -x509` makes
/// self-signed certificates), even when it is itself the trust anchor. A certificate that is
/// byte for byte one of the `--ca-cert` certificates is the one the user said to trust, so it is
/// accepted all the same once it names the host (webpki refuses the CA mark only after it found
/// the certificate within its validity period). The handshake signatures are checked as usual,
/// against the certificate's key.
#[derive(Debug)]
struct PinnedOrWebPki {
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedOrWebPki {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let verified = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match verified {
            Err(e)
                if is_ca_used_as_end_entity(&e) && self.pinned.iter().any(|c| c == end_entity) =>
            {
                let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&parsed, server_name)?;
                Ok(rustls::client::danger::ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

fn is_ca_used_as_end_entity(e: &rustls::Error) -> bool {
    match e {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) => matches!(
            other.0.downcast_ref::<webpki::Error>(),
            Some(webpki::Error::CaUsedAsEndEntity)
        ),
        _ => false,
    }
}

/// The certificates of a PEM file, and the same as trust anchors.
fn ca_certs(
    path: &Path,
) -> Result<(Vec<CertificateDer<'static>>, rustls::RootCertStore), CaCertError> {
    let err = |reason: String| CaCertError {
        path: path.display().to_string(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| err(format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(err(
            "no certificate in the file (expected PEM: -----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in &certs {
        roots
            .add(cert.clone())
            .map_err(|e| err(format!("not a usable CA certificate: {e}")))?;
    }
    Ok((certs, roots))
}

/// The CA certificates installed on the system.
fn system_roots() -> Result<rustls::RootCertStore, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        let why = found
            .errors
            .first()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        return Err(format!(
            "no CA certificates found on this system{why}: pass the collector's CA certificate with --ca-cert FILE"
        ));
    }
    Ok(roots)
}

/// A request sender on a new connection: TCP to each resolved address in turn, then TLS for
/// `https://`, then HTTP/1.1; the connection itself is driven by a task of the runtime, which
/// ends when the sender and the response body are dropped.
async fn open(
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
fn request(
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

/// How one connection to the stream ended.
enum End {
    /// Asked to stop, or the UI is gone: the task ends.
    Stop,
    /// A failure: reconnect after a wait. `connected` tells whether the stream had opened (which
    /// resets the backoff).
    Failed { reason: String, connected: bool },
}

fn failed(reason: impl Into<String>, connected: bool) -> End {
    End::Failed {
        reason: reason.into(),
        connected,
    }
}

/// The stream task: connect, read until failure, wait, reconnect from where it left off.
async fn follow_stream(cfg: &LiveConfig, link: &Link) {
    let mut next = 0u64;
    let mut backoff = FIRST_RETRY;
    let mut tls = TlsSetup::default();
    loop {
        if link.stopped() || !link.send(LiveMsg::Link(LinkState::Connecting)).await {
            return;
        }
        let (reason, connected) = match session(cfg, link, &mut tls, &mut next).await {
            End::Stop => return,
            End::Failed { reason, connected } => (reason, connected),
        };
        if connected {
            backoff = FIRST_RETRY;
        }
        let retry_in = backoff;
        backoff = (backoff * 2).min(MAX_RETRY);
        if !link
            .send(LiveMsg::Link(LinkState::Disconnected { reason, retry_in }))
            .await
            || !link.sleep(retry_in).await
        {
            return;
        }
    }
}

/// One connection: request the stream from position `*next`, deliver its lines, advance `*next`.
async fn session(cfg: &LiveConfig, link: &Link, tls: &mut TlsSetup, next: &mut u64) -> End {
    let ep = match Endpoint::parse(&cfg.url) {
        Ok(ep) => ep,
        Err(reason) => return failed(reason, false),
    };
    let req = match request(
        &ep,
        &ep.stream_target(*next),
        cfg.token.as_deref(),
        "application/x-ndjson",
    ) {
        Ok(r) => r,
        Err(reason) => return failed(reason, false),
    };
    let config = if ep.tls {
        match tls.get(cfg) {
            Ok(c) => Some(c),
            Err(reason) => return failed(reason, false),
        }
    } else {
        None
    };
    let mut sender = match link
        .or_stop(open(&ep, config.as_ref(), cfg.ca_cert.as_deref()))
        .await
    {
        None => return End::Stop,
        Some(Err(reason)) => return failed(reason, false),
        Some(Ok(s)) => s,
    };
    let resp = match link
        .or_stop(timeout(HEAD_TIMEOUT, sender.send_request(req)))
        .await
    {
        None => return End::Stop,
        Some(Err(_)) => {
            return failed(
                format!(
                    "no answer from the collector within {} s",
                    HEAD_TIMEOUT.as_secs()
                ),
                false,
            )
        }
        Some(Ok(Err(e))) => return failed(response_reason(&e, &ep), false),
        Some(Ok(Ok(r))) => r,
    };
    let status = resp.status();
    let mut body = resp.into_body();
    if status != StatusCode::OK {
        let text = read_error_body(&mut body, link).await;
        return failed(http_reason(status, &text, cfg.token.is_some()), false);
    }
    if !link.send(LiveMsg::Link(LinkState::Connected)).await {
        return End::Stop;
    }

    let mut lines = LineSplitter::new(cfg.max_line);
    let mut pending = Vec::new();
    loop {
        // No read timeout: an idle stream is a frame still pending, and only a stop ends it.
        let frame = match link.or_stop(body.frame()).await {
            None => return End::Stop,
            Some(None) => return failed("stream ended (collector stopped)", true),
            Some(Some(Err(e))) => return failed(body_reason(&e), true),
            Some(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        pending.extend_from_slice(&data);
        let msgs = lines.split(&mut pending, next);
        let count: u64 = msgs
            .iter()
            .map(|m| match m {
                LiveMsg::Lines { count, .. } => *count,
                _ => 0,
            })
            .sum();
        link.arrived.fetch_add(count, Ordering::Relaxed);
        for msg in msgs {
            if !link.send(msg).await {
                return End::Stop;
            }
        }
    }
}

/// Reads an error response's body, within a deadline and a size limit, for its message. What
/// cannot be read is simply left out: the status code alone is still a reason.
async fn read_error_body(body: &mut Incoming, link: &Link) -> Vec<u8> {
    let mut out = Vec::new();
    let read = async {
        while out.len() < MAX_ERROR_BODY {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(d) = frame.data_ref() {
                        out.extend_from_slice(d);
                    }
                }
                _ => break,
            }
        }
    };
    let _ = link.or_stop(timeout(ERROR_BODY_TIMEOUT, read)).await;
    out.truncate(MAX_ERROR_BODY);
    out
}

/// "HTTP 401: missing or wrong bearer token (...)": the collector's `{"error": ...}` message
/// when it sent one, else the first line of the body, else the status's reason phrase; for a 401,
/// what to do about the token.
fn http_reason(status: StatusCode, body: &[u8], token_given: bool) -> String {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .or_else(|| {
            let text = String::from_utf8_lossy(body);
            let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
            Some(truncate(first, 200).to_string())
        })
        .filter(|m| !m.trim().is_empty())
        .or_else(|| status.canonical_reason().map(str::to_string))
        .unwrap_or_default();
    let mut reason = if message.is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        format!("HTTP {}: {}", status.as_u16(), message)
    };
    if status == StatusCode::UNAUTHORIZED {
        reason.push_str(if token_given {
            " (the collector refused the --token given)"
        } else {
            " (the collector requires a token: pass --token)"
        });
    }
    reason
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// An error and its sources, "a: b: c", each said once.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

/// Whether an I/O error of `kind` is among `e`'s sources.
fn has_io_kind(e: &(dyn std::error::Error + 'static), kind: io::ErrorKind) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == kind)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Why a request got no response.
fn response_reason(e: &hyper::Error, ep: &Endpoint) -> String {
    // The usual cause: a collector serving TLS (it drops a plain-text request).
    let hint = if ep.tls {
        ""
    } else {
        " (if the collector was started with --tls-cert, connect with https://)"
    };
    if e.is_incomplete_message() || has_io_kind(e, io::ErrorKind::UnexpectedEof) {
        format!("the collector closed the connection without answering{hint}")
    } else if e.is_parse() {
        format!("the answer is not plain HTTP{hint}")
    } else {
        format!("connection lost: {}", chain(e))
    }
}

/// Why an open stream failed.
fn body_reason(e: &hyper::Error) -> String {
    if e.is_incomplete_message() || has_io_kind(e, io::ErrorKind::UnexpectedEof) {
        "connection closed mid-stream (collector stopped?)".to_string()
    } else {
        format!("connection lost: {}", chain(e))
    }
}

/// Why a TLS handshake failed, and what to do about it.
fn tls_reason(e: &io::Error, ep: &Endpoint, ca_cert: Option<&Path>) -> String {
    use rustls::CertificateError as Cert;
    let not_tls = "TLS handshake failed: the collector does not speak TLS on this port \
                   (if it serves plain HTTP, use http://)";
    let Some(err) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
        return match e.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => not_tls.to_string(),
            _ => format!("TLS handshake failed: {e}"),
        };
    };
    match err {
        // A bad signature: a trusted CA has the issuer's name but did not sign it (two self-signed
        // certificates with the same default subject, say): to the user, the same thing.
        rustls::Error::InvalidCertificate(Cert::UnknownIssuer | Cert::BadSignature) => match ca_cert {
            Some(p) => format!(
                "TLS: the collector's certificate is not signed by a CA of --ca-cert {}",
                p.display()
            ),
            None => "TLS: the collector's certificate is not signed by a CA this system trusts \
                     (self-signed?): pass its CA certificate with --ca-cert FILE"
                .to_string(),
        },
        rustls::Error::InvalidCertificate(Cert::NotValidForName) => format!(
            "TLS: the collector's certificate is not valid for {}: connect with a name it was issued for",
            ep.host()
        ),
        rustls::Error::InvalidCertificate(Cert::NotValidForNameContext { presented, .. }) => {
            let names: Vec<String> = presented.iter().map(|n| san_value(n)).collect();
            format!(
                "TLS: the collector's certificate is not valid for {} (only for {}): connect with one of those names",
                ep.host(),
                if names.is_empty() { "no name".to_string() } else { names.join(", ") }
            )
        }
        rustls::Error::InvalidCertificate(Cert::Expired | Cert::ExpiredContext { .. }) => {
            "TLS: the collector's certificate has expired".to_string()
        }
        rustls::Error::InvalidCertificate(Cert::NotValidYet | Cert::NotValidYetContext { .. }) => {
            "TLS: the collector's certificate is not valid yet (is a clock wrong?)".to_string()
        }
        rustls::Error::InvalidCertificate(_) if is_ca_used_as_end_entity(err) => match ca_cert {
            Some(p) => format!(
                "TLS: the collector's certificate is marked as a CA (CA:TRUE) and is not one of \
                 --ca-cert {}: pass that very certificate",
                p.display()
            ),
            None => "TLS: the collector's certificate is a CA certificate (self-signed?) that \
                     this system does not trust: pass it with --ca-cert FILE"
                .to_string(),
        },
        rustls::Error::InvalidCertificate(_) => {
            format!("TLS: the collector's certificate was refused: {err}")
        }
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. } => not_tls.to_string(),
        rustls::Error::AlertReceived(alert) => {
            format!("TLS handshake failed: the collector sent the alert {alert:?}")
        }
        other => format!("TLS handshake failed: {other}"),
    }
}

/// `DnsName("localhost")` (how rustls lists a certificate's names) → `localhost`.
fn san_value(presented: &str) -> String {
    let inner = presented
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(presented);
    inner.trim_matches('"').to_string()
}

/// Cuts the decoded payload into lines and counts their store positions.
#[derive(Debug)]
struct LineSplitter {
    max_line: usize,
    /// Inside a line already known to be too long: its bytes are dropped up to its newline.
    skipping: bool,
}

impl LineSplitter {
    fn new(max_line: usize) -> LineSplitter {
        LineSplitter {
            max_line,
            skipping: false,
        }
    }

    /// Takes the complete lines out of `pending` as messages, advancing `*next` once per line
    /// (delivered or skipped; empty lines are not events and do not count). The incomplete last
    /// line stays in `pending`, unless it is already too long: then it is dropped and the rest
    /// of it skipped as it arrives, so `pending` never holds much more than `max_line` bytes.
    fn split(&mut self, pending: &mut Vec<u8>, next: &mut u64) -> Vec<LiveMsg> {
        let mut out = Vec::new();
        let mut batch: Vec<u8> = Vec::new();
        let mut count = 0u64;
        let mut first = *next;
        let mut start = 0;
        let flush = |batch: &mut Vec<u8>, count: &mut u64, first: u64, out: &mut Vec<LiveMsg>| {
            if *count > 0 {
                out.push(LiveMsg::Lines {
                    bytes: std::mem::take(batch),
                    count: std::mem::take(count),
                    first,
                });
            }
        };
        while let Some(nl) = pending[start..].iter().position(|&b| b == b'\n') {
            let line = &pending[start..start + nl];
            start += nl + 1;
            if self.skipping || line.len() > self.max_line {
                self.skipping = false;
                flush(&mut batch, &mut count, first, &mut out);
                out.push(LiveMsg::Skipped {
                    position: *next,
                    reason: format!(
                        "line {} is longer than {} bytes: skipped",
                        *next, self.max_line
                    ),
                });
                *next += 1;
                continue;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if count == 0 {
                first = *next;
            }
            batch.extend_from_slice(line);
            batch.push(b'\n');
            count += 1;
            *next += 1;
            if batch.len() >= BATCH_BYTES {
                flush(&mut batch, &mut count, first, &mut out);
            }
        }
        flush(&mut batch, &mut count, first, &mut out);
        pending.drain(..start);
        if self.skipping || pending.len() > self.max_line {
            self.skipping = true;
            pending.clear();
        }
        out
    }
}

/// The status task: polls `/v1/status` about once a second and sends the counters when the
/// collector answers, on one kept-alive connection (opened again after a failure). Failures are
/// silent: the stream task reports the link's state.
async fn poll_status(cfg: &LiveConfig, link: &Link) {
    let Ok(ep) = Endpoint::parse(&cfg.url) else {
        return;
    };
    let mut tls = TlsSetup::default();
    let mut conn: Option<SendRequest<Empty<Bytes>>> = None;
    loop {
        if link.stopped() {
            return;
        }
        let polled = link
            .or_stop(timeout(
                STATUS_TIMEOUT,
                fetch_status(&ep, cfg, &mut tls, &mut conn),
            ))
            .await;
        match polled {
            None => return,
            Some(Ok(Some(stats))) => {
                if !link.send(LiveMsg::Stats(stats)).await {
                    return;
                }
            }
            Some(Ok(None)) => {}
            // Timed out mid-request: that connection cannot be reused.
            Some(Err(_)) => conn = None,
        }
        if !link.sleep(STATUS_EVERY).await {
            return;
        }
    }
}

/// One poll; on any failure the connection is dropped, so the next poll opens a new one.
async fn fetch_status(
    ep: &Endpoint,
    cfg: &LiveConfig,
    tls: &mut TlsSetup,
    conn: &mut Option<SendRequest<Empty<Bytes>>>,
) -> Option<CollectorStats> {
    let sender = match conn.take() {
        Some(s) if !s.is_closed() => s,
        _ => {
            let config = if ep.tls {
                Some(tls.get(cfg).ok()?)
            } else {
                None
            };
            open(ep, config.as_ref(), cfg.ca_cert.as_deref())
                .await
                .ok()?
        }
    };
    let mut sender = sender;
    sender.ready().await.ok()?;
    let req = request(
        ep,
        &ep.status_target(),
        cfg.token.as_deref(),
        "application/json",
    )
    .ok()?;
    let resp = sender.send_request(req).await.ok()?;
    let ok = resp.status().is_success();
    let mut body = resp.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Some(d) = frame.ok()?.data_ref() {
            bytes.extend_from_slice(d);
        }
        if bytes.len() > MAX_ERROR_BODY {
            return None;
        }
    }
    // The whole answer was read: the connection can carry the next poll.
    *conn = Some(sender);
    if !ok {
        return None;
    }
    parse_stats(&bytes)
}

/// The counters of a `/v1/status` answer; None unless it is a JSON object with `events`. A
/// missing or non-integer counter reads as 0, so an older or newer collector still works.
fn parse_stats(body: &[u8]) -> Option<CollectorStats> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    let get = |k: &str| obj.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    obj.get("events")?;
    Some(CollectorStats {
        events: get("events"),
        duplicates: get("duplicates"),
        rejected: get("rejected"),
        dropped_batches: get("dropped_batches"),
        skipped_otlp_records: get("skipped_otlp_records"),
        queue_depth: get("queue_depth"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_batched_positioned_and_bounded() {
        let mut s = LineSplitter::new(8);
        let mut next = 10;
        let mut pending = b"a\n\nbb\n0123456789\nc\npart".to_vec();
        let msgs = s.split(&mut pending, &mut next);
        assert_eq!(
            msgs,
            vec![
                LiveMsg::Lines {
                    bytes: b"a\nbb\n".to_vec(),
                    count: 2,
                    first: 10
                },
                LiveMsg::Skipped {
                    position: 12,
                    reason: "line 12 is longer than 8 bytes: skipped".into()
                },
                LiveMsg::Lines {
                    bytes: b"c\n".to_vec(),
                    count: 1,
                    first: 13
                },
            ]
        );
        assert_eq!(next, 14);
        assert_eq!(pending, b"part");
        // An incomplete line grows past the limit: dropped now, skipped when it ends.
        pending.extend_from_slice(b"-too-long");
        assert!(s.split(&mut pending, &mut next).is_empty());
        assert!(pending.is_empty());
        pending.extend_from_slice(b"still the same line");
        assert!(s.split(&mut pending, &mut next).is_empty());
        assert!(pending.is_empty());
        pending.extend_from_slice(b"end\nok\n");
        let msgs = s.split(&mut pending, &mut next);
        assert!(matches!(msgs[0], LiveMsg::Skipped { position: 14, .. }));
        assert_eq!(
            msgs[1],
            LiveMsg::Lines {
                bytes: b"ok\n".to_vec(),
                count: 1,
                first: 15
            }
        );
        assert_eq!(next, 16);
    }

    #[test]
    fn http_reasons() {
        let body = br#"{"error":"missing or wrong bearer token"}"#;
        assert_eq!(
            http_reason(StatusCode::UNAUTHORIZED, body, true),
            "HTTP 401: missing or wrong bearer token (the collector refused the --token given)"
        );
        assert_eq!(
            http_reason(StatusCode::UNAUTHORIZED, b"", false),
            "HTTP 401: Unauthorized (the collector requires a token: pass --token)"
        );
        assert_eq!(
            http_reason(StatusCode::NOT_FOUND, b"\n  no such page\nmore", false),
            "HTTP 404: no such page"
        );
        assert_eq!(
            http_reason(StatusCode::from_u16(599).unwrap(), b"", false),
            "HTTP 599"
        );
    }

    #[test]
    fn urls() {
        for (raw, tls, port, host, stream, status) in [
            (
                "http://127.0.0.1:4318",
                false,
                4318,
                "127.0.0.1:4318",
                "/v1/stream?from=7",
                "/v1/status",
            ),
            (
                "http://127.0.0.1:4318/",
                false,
                4318,
                "127.0.0.1:4318",
                "/v1/stream?from=7",
                "/v1/status",
            ),
            (
                "127.0.0.1:4318",
                false,
                4318,
                "127.0.0.1:4318",
                "/v1/stream?from=7",
                "/v1/status",
            ),
            (
                "http://h/weft/",
                false,
                80,
                "h",
                "/weft/v1/stream?from=7",
                "/weft/v1/status",
            ),
            (
                "https://collector.example/",
                true,
                443,
                "collector.example",
                "/v1/stream?from=7",
                "/v1/status",
            ),
            (
                "https://[::1]:9/",
                true,
                9,
                "[::1]:9",
                "/v1/stream?from=7",
                "/v1/status",
            ),
        ] {
            let ep = Endpoint::parse(raw).unwrap();
            assert_eq!(
                (
                    ep.tls,
                    ep.port,
                    ep.host_header(),
                    ep.stream_target(7),
                    ep.status_target()
                ),
                (tls, port, host.to_string(), stream.into(), status.into()),
                "{raw}"
            );
        }
        assert_eq!(
            Endpoint::parse("https://[::1]:9")
                .unwrap()
                .server_name()
                .unwrap(),
            ServerName::IpAddress(std::net::IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]).into())
        );
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://").is_err());
    }

    #[test]
    fn tls_reasons_say_what_to_do() {
        let ep = Endpoint::parse("https://127.0.0.1:4318").unwrap();
        let io = |e: rustls::Error| io::Error::new(io::ErrorKind::InvalidData, e);
        let unknown = io(rustls::CertificateError::UnknownIssuer.into());
        assert!(
            tls_reason(&unknown, &ep, None).contains("pass its CA certificate with --ca-cert FILE")
        );
        assert!(tls_reason(&unknown, &ep, Some(Path::new("ca.pem")))
            .contains("not signed by a CA of --ca-cert ca.pem"));
        let name = io(rustls::CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("127.0.0.1").unwrap(),
            presented: vec![
                "DnsName(\"localhost\")".into(),
                "IpAddress(10.0.0.1)".into(),
            ],
        }
        .into());
        assert_eq!(
            tls_reason(&name, &ep, None),
            "TLS: the collector's certificate is not valid for 127.0.0.1 (only for localhost, 10.0.0.1): connect with one of those names"
        );
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        assert!(tls_reason(&eof, &ep, None).contains("use http://"));
    }

    #[test]
    fn ca_files_are_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let missing = dir.join("missing.pem");
        let e = check_ca_cert(&missing).unwrap_err();
        assert_eq!(e.path, missing.display().to_string());
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not pem at all\n").unwrap();
        assert!(check_ca_cert(&empty)
            .unwrap_err()
            .reason
            .contains("no certificate"));
        let bad = dir.join("bad.pem");
        std::fs::write(
            &bad,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        assert!(check_ca_cert(&bad).is_err());
    }

    #[test]
    fn stats_tolerate_missing_fields() {
        let s = parse_stats(br#"{"events": 7, "queue_depth": 2, "replicas": ["a"]}"#).unwrap();
        assert_eq!(
            s,
            CollectorStats {
                events: 7,
                queue_depth: 2,
                ..CollectorStats::default()
            }
        );
        assert!(parse_stats(b"[]").is_none());
        assert!(parse_stats(b"{}").is_none());
    }
}
