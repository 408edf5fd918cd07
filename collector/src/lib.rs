//! # weft-collector: NDJSON and OpenTelemetry ingest, a durable store, a live stream
//!
//! Replicas in the field, and applications instrumented with any OpenTelemetry SDK, send events
//! here; the collector validates each request as a whole, appends it to an append-only store of
//! weft-trace/1 segment files, acknowledges it only once it is on disk (fsync, shared by the
//! requests that arrived together), and streams stored events live.
//!
//! * HTTP (default `127.0.0.1:4318`, the OTLP/HTTP port): `POST /v1/events` (NDJSON),
//!   `POST /v1/logs` and `/v1/traces` (OTLP protobuf or JSON), `GET /v1/stream?from=N`,
//!   `GET /v1/status`, `GET /healthz`, `GET /metrics`.
//! * OTLP/gRPC (default `127.0.0.1:4317`): LogsService and TraceService.
//!
//! Handlers only decode and validate; one thread owns the store and receives batches through a
//! bounded queue (a full queue answers 503 with `Retry-After`). Everything has a limit: body
//! size (OTLP's smaller), line length, queue depth, connections in total and per client address,
//! and time: for a request head, a body, an idle connection, and a shutdown's grace period
//! ([`net`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let cfg = weft_collector::Config { data: "weft-data".into(), ..weft_collector::Config::default() };
//! let collector = weft_collector::start(cfg).await?;
//! println!("listening on http://{}", collector.http_addr);
//! collector.shutdown().await?;
//! # Ok(()) }
//! ```

pub mod analysis;
mod findings_diff;
pub mod grpc;
pub mod http;
pub mod ingest;
pub mod io;
pub mod net;
pub mod otlp;
pub mod store;
pub mod tls;
pub mod writer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;

pub use store::Recovery;

/// How to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// HTTP address (port 0 picks a free port).
    pub listen: SocketAddr,
    /// OTLP/gRPC address, if served.
    pub grpc: Option<SocketAddr>,
    /// The data directory.
    pub data: PathBuf,
    /// Bearer token clients must send, if any.
    pub token: Option<String>,
    /// Allow a non-loopback address without a token.
    pub insecure: bool,
    /// Largest request body, compressed or not (413 past it). OTLP requests have their own,
    /// smaller limit: [`Config::max_otlp_body`].
    pub max_body: usize,
    /// Largest OTLP request, compressed or not: an OTLP/HTTP body (413 past it) or an OTLP/gRPC
    /// message (`RESOURCE_EXHAUSTED`). Smaller than `max_body` because decoding protobuf
    /// amplifies memory about a hundredfold (an empty log record is 2 bytes on the wire and
    /// about 184 bytes decoded).
    pub max_otlp_body: usize,
    /// Longest NDJSON line.
    pub max_line: usize,
    /// Batches that may wait for the store (503 past it).
    pub queue: usize,
    /// Open connections in total, for each server (HTTP and gRPC). Past it the connection idle
    /// the longest is closed to make room; when none is idle, `503`.
    pub max_connections: usize,
    /// Open connections from one client address, for each server (`503` past it).
    pub max_connections_per_ip: usize,
    /// How long clients may take: request heads, bodies, idle connections, and the grace
    /// period of a shutdown (see [`net::Timeouts`]).
    pub timeouts: net::Timeouts,
    /// Size at which a segment file is closed.
    pub segment_bytes: u64,
    /// TLS certificate chain and private key (PEM), for both servers.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Analyse what is stored, live (`GET /v1/report`, `/v1/findings`, finding gauges in
    /// `/metrics`).
    pub analysis: bool,
    /// The store's write path: `None` is the real file system; tests pass an
    /// [`io::FaultyIo`] to make writes and syncs fail.
    pub io: Option<Arc<dyn io::StorageIo>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 4318)),
            grpc: Some(SocketAddr::from(([127, 0, 0, 1], 4317))),
            data: PathBuf::from("weft-data"),
            token: None,
            insecure: false,
            max_body: 16 << 20,
            max_otlp_body: 4 << 20,
            max_line: 1 << 20,
            queue: 1024,
            max_connections: 1024,
            max_connections_per_ip: 256,
            timeouts: net::Timeouts::default(),
            segment_bytes: 256 << 20,
            tls: None,
            analysis: true,
            io: None,
        }
    }
}

/// Why the collector could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be opened or recovered.
    #[error("{0}")]
    Store(#[from] store::StoreError),
    /// An address could not be bound.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the OS said.
        #[source]
        error: std::io::Error,
    },
    /// The TLS certificate or key could not be used.
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    /// A non-loopback address without `--token` or `--insecure`.
    #[error("{0} is not a loopback address: anyone who can reach it could write events; pass --token TOKEN (clients send Authorization: Bearer TOKEN) or --insecure")]
    Exposed(SocketAddr),
}

/// A running collector.
pub struct Collector {
    /// The bound HTTP address.
    pub http_addr: SocketAddr,
    /// The bound gRPC address.
    pub grpc_addr: Option<SocketAddr>,
    /// What recovery found in the data directory.
    pub recovery: Recovery,
    stop: watch::Sender<bool>,
    shared: Arc<writer::Shared>,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
    grpc: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    writer: std::thread::JoinHandle<()>,
    analysis: Option<(Arc<analysis::Analysis>, std::thread::JoinHandle<()>)>,
}

/// Opens the store (recovering it) and starts serving.
pub async fn start(cfg: Config) -> Result<Collector, StartError> {
    for addr in std::iter::once(cfg.listen).chain(cfg.grpc) {
        if !addr.ip().is_loopback() && cfg.token.is_none() && !cfg.insecure {
            return Err(StartError::Exposed(addr));
        }
    }
    let tls = match &cfg.tls {
        Some((cert, key)) => Some(tls::Tls::load(cert, key)?),
        None => None,
    };
    let data = cfg.data.clone();
    let segment_bytes = cfg.segment_bytes;
    let storage = cfg.io.clone().unwrap_or_else(|| Arc::new(io::OsIo));
    let (store, recovery) =
        tokio::task::spawn_blocking(move || store::Store::open_with(&data, segment_bytes, storage))
            .await
            .expect("the store opener does not panic")?;
    let bind = |addr: SocketAddr| async move {
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|error| StartError::Bind { addr, error })
    };
    let http_listener = bind(cfg.listen).await?;
    let grpc_listener = match cfg.grpc {
        Some(a) => Some(bind(a).await?),
        None => None,
    };
    let http_addr = http_listener
        .local_addr()
        .map_err(|error| StartError::Bind {
            addr: cfg.listen,
            error,
        })?;
    let grpc_addr = grpc_listener.as_ref().and_then(|l| l.local_addr().ok());

    let (queue, shared, writer) = writer::start(store, cfg.queue);
    let analysis = cfg.analysis.then(|| analysis::start(Arc::clone(&shared)));
    let ingest = ingest::Ingest::new(queue, cfg.max_line);
    let (stop, stopping) = watch::channel(false);
    let token: Option<Arc<str>> = cfg.token.as_deref().map(Arc::from);

    let state = http::AppState {
        ingest: ingest.clone(),
        shared: Arc::clone(&shared),
        analysis: analysis.as_ref().map(|(a, _)| Arc::clone(a)),
        token: token.clone(),
        max_body: cfg.max_body,
        max_otlp_body: cfg.max_otlp_body,
        timeouts: cfg.timeouts,
        stopping: stopping.clone(),
    };
    let app = http::router(state);
    let options = |grpc: bool| net::Options {
        total: cfg.max_connections,
        per_ip: cfg.max_connections_per_ip,
        timeouts: cfg.timeouts,
        tls: tls.as_ref().map(|t| t.acceptor.clone()),
        grpc,
    };
    let http = tokio::spawn(net::serve(
        http_listener,
        app,
        options(false),
        stopping.clone(),
    ));
    let grpc = grpc_listener.map(|l| {
        let routes = grpc::routes(grpc::Otlp { ingest, token }, cfg.max_otlp_body);
        tokio::spawn(net::serve(l, routes, options(true), stopping.clone()))
    });
    Ok(Collector {
        http_addr,
        grpc_addr,
        recovery,
        stop,
        shared,
        analysis,
        http,
        grpc,
        writer,
    })
}

impl Collector {
    /// Whether the store is taking writes, as of its last commit or probe.
    pub fn store_health(&self) -> store::Health {
        self.shared
            .stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .health
            .clone()
    }

    /// Stops accepting, closes idle connections, ends live streams, lets in-flight requests
    /// finish (each waits for its sync) for the grace period ([`net::Timeouts::grace`]) and cuts
    /// what is left (nothing cut was acknowledged), then lets the store thread commit what is
    /// queued and stop.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        let http = self
            .http
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        if let Some(g) = self.grpc {
            g.await
                .map_err(|e| std::io::Error::other(e.to_string()))??;
        }
        http?;
        // Every queue sender lived in the servers' state, now dropped: the writer drains and ends.
        if let Some((analysis, thread)) = self.analysis {
            analysis.stop();
            tokio::task::spawn_blocking(move || thread.join())
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?
                .map_err(|_| std::io::Error::other("the analysis thread panicked"))?;
        }
        let writer = self.writer;
        tokio::task::spawn_blocking(move || writer.join())
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?
            .map_err(|_| std::io::Error::other("the store thread panicked"))?;
        Ok(())
    }
}
