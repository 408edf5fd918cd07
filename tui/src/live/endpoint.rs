//! The collector's base URL, checked and normalised: the scheme (plain or TLS), the port, the
//! path prefix of a collector behind a reverse proxy, the request targets and the addresses to
//! connect to. Separate because every request of both tasks starts from it and it holds no I/O
//! but the host name lookup.

use std::net::SocketAddr;

use tokio::time::timeout;
use tokio_rustls::rustls::pki_types::ServerName;
use url::{Host, Url};

use super::RESOLVE_TIMEOUT;

/// The collector's base URL, checked and normalised.
pub(super) struct Endpoint {
    url: Url,
    /// `https://`.
    pub(super) tls: bool,
    pub(super) port: u16,
    /// The path prefix without a trailing slash ("" for a collector at the root).
    prefix: String,
}

impl Endpoint {
    pub(super) fn parse(raw: &str) -> Result<Endpoint, String> {
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

    pub(super) fn host(&self) -> &str {
        self.url.host_str().unwrap_or("")
    }

    /// The value of the Host header: the host, and the port unless it is the default.
    pub(super) fn host_header(&self) -> String {
        match self.url.port() {
            Some(p) => format!("{}:{p}", self.host()),
            None => self.host().to_string(),
        }
    }

    /// The request target of the stream from position `from`.
    pub(super) fn stream_target(&self, from: u64) -> String {
        format!("{}/v1/stream?from={from}", self.prefix)
    }

    pub(super) fn status_target(&self) -> String {
        format!("{}/v1/status", self.prefix)
    }

    /// The name the collector's certificate must hold: the URL's host name or IP address.
    pub(super) fn server_name(&self) -> Result<ServerName<'static>, String> {
        match self.url.host() {
            Some(Host::Ipv4(ip)) => Ok(ServerName::IpAddress(std::net::IpAddr::V4(ip).into())),
            Some(Host::Ipv6(ip)) => Ok(ServerName::IpAddress(std::net::IpAddr::V6(ip).into())),
            Some(Host::Domain(d)) => ServerName::try_from(d.to_string())
                .map_err(|e| format!("{d:?} cannot be checked against a certificate: {e}")),
            None => Err("no host".into()),
        }
    }

    pub(super) async fn addrs(&self) -> Result<Vec<SocketAddr>, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
