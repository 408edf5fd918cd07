//! The flags of `weft collect`: addresses, limits, timeouts, storage and TLS.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// HTTP address: NDJSON, OTLP/HTTP, stream, status, metrics, e.g. --listen 0.0.0.0:4318.
    #[arg(long, default_value = "127.0.0.1:4318", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,

    /// OTLP/gRPC address, e.g. --grpc 127.0.0.1:4317.
    #[arg(long, default_value = "127.0.0.1:4317", value_name = "ADDR")]
    pub grpc: std::net::SocketAddr,

    /// Do not serve OTLP/gRPC.
    #[arg(long)]
    pub no_grpc: bool,

    /// Do not analyse what is stored (no GET /v1/report, /v1/findings or finding gauges in
    /// /metrics): only store and stream.
    #[arg(long)]
    pub no_analysis: bool,

    /// Data directory (weft check and weft tui read it as it is), e.g. --data /var/lib/weft.
    #[arg(long, default_value = "weft-data", value_name = "DIR")]
    pub data: PathBuf,

    /// Require `Authorization: Bearer TOKEN` from clients (required off loopback unless
    /// --insecure), e.g. --token "$WEFT_TOKEN".
    #[arg(long, value_name = "TOKEN", env = "WEFT_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Allow a non-loopback address without a token.
    #[arg(long)]
    pub insecure: bool,

    /// Largest NDJSON request body in bytes, compressed or after gzip inflation (413 past it),
    /// e.g. --max-body 33554432.
    #[arg(long, default_value_t = 16 << 20, value_name = "BYTES")]
    pub max_body: usize,

    /// Largest OTLP request in bytes, compressed or after gzip inflation: an OTLP/HTTP body (413
    /// past it) or an OTLP/gRPC message (RESOURCE_EXHAUSTED). Decoding OTLP takes up to about
    /// 100 times its size in memory. E.g. --max-otlp-body 8388608.
    #[arg(long, default_value_t = 4 << 20, value_name = "BYTES")]
    pub max_otlp_body: usize,

    /// Longest NDJSON line in bytes, e.g. --max-line 65536.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    pub max_line: usize,

    /// Batches that may wait for the disk (503 + Retry-After past it), e.g. --queue 256.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub queue: usize,

    /// Open connections in total, HTTP and gRPC each: past it the connection idle the longest
    /// is closed to make room (503 + Retry-After when every one is busy), e.g.
    /// --max-connections 4096.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_connections: usize,

    /// Open connections from one client address, HTTP and gRPC each (503 + Retry-After past
    /// it), e.g. --max-connections-per-ip 16.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_connections_per_ip: usize,

    /// Time for a request head: the first from accept (TLS handshake included), later ones
    /// from their first byte; past it the connection is closed, e.g. --header-timeout 5s.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub header_timeout: String,

    /// Time for a request body, plus one second per --body-min-rate bytes received (408 past
    /// it), e.g. --body-timeout 1m.
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub body_timeout: String,

    /// Bytes of request body that earn one more second of --body-timeout (0: none), e.g.
    /// --body-min-rate 4096.
    #[arg(long, default_value_t = 1024, value_name = "BYTES")]
    pub body_min_rate: u64,

    /// Time a connection may stay open without a request, or without reading a response, e.g.
    /// --idle-timeout 2m.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub idle_timeout: String,

    /// On Ctrl-C or SIGTERM, time for in-flight requests to finish before they are cut, e.g.
    /// --shutdown-grace 30s.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub shutdown_grace: String,

    /// Segment file size limit in bytes, e.g. --segment-bytes 67108864.
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES")]
    pub segment_bytes: u64,

    /// Serve HTTPS and gRPC over TLS with this PEM certificate chain (needs --tls-key),
    /// e.g. --tls-cert cert.pem.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key for --tls-cert, e.g. --tls-key key.pem.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}
