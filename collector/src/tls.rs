//! Optional TLS (rustls with the ring provider) for both servers, from PEM files.
//!
//! TLS handshakes run in each connection's own task, off the accept loop, so a slow or hostile
//! client cannot hold up everyone else's connections; a handshake must be done within the
//! request-head deadline counted from accept (see [`crate::net::Timeouts::header`]).

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why TLS could not be set up: the file and the reason.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct TlsError {
    /// The certificate or key file.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The PEM contents and the rustls configuration built from them.
#[derive(Clone)]
pub struct Tls {
    /// For the HTTP server.
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Certificate chain PEM (for tonic).
    pub cert_pem: Vec<u8>,
    /// Private key PEM (for tonic).
    pub key_pem: Vec<u8>,
}

impl Tls {
    /// Loads a certificate chain and a private key (PEM).
    pub fn load(cert: &Path, key: &Path) -> Result<Tls, TlsError> {
        let err = |path: &Path, reason: String| TlsError {
            path: path.display().to_string(),
            reason,
        };
        let cert_pem = std::fs::read(cert).map_err(|e| err(cert, e.to_string()))?;
        let key_pem = std::fs::read(key).map_err(|e| err(key, e.to_string()))?;
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| err(cert, format!("not a PEM certificate chain: {e}")))?;
        if certs.is_empty() {
            return Err(err(cert, "no certificate in the file".into()));
        }
        let private = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|e| err(key, format!("not a PEM private key: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| err(cert, e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, private)
            .map_err(|e| err(key, format!("does not match the certificate: {e}")))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            cert_pem,
            key_pem,
        })
    }
}
