//! TLS for `https://`: the rustls client configuration (the system's CA certificates, or those
//! of `--ca-cert` with a self-signed certificate accepted as its own anchor), reading a CA file,
//! and why a handshake failed in words that say what to do. Separate from the plain-HTTP path,
//! which never touches it.

use std::io;
use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

use super::endpoint::Endpoint;
use super::{CaCertError, LiveConfig};

/// The rustls client configuration, built on first use and kept; a failure (an unreadable CA
/// file) is retried at the next use, so a fixed file is picked up.
#[derive(Default)]
pub(super) struct TlsSetup(Option<Arc<rustls::ClientConfig>>);

impl TlsSetup {
    pub(super) fn get(&mut self, cfg: &LiveConfig) -> Result<Arc<rustls::ClientConfig>, String> {
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
pub(super) fn ca_certs(
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

/// Why a TLS handshake failed, and what to do about it.
pub(super) fn tls_reason(e: &io::Error, ep: &Endpoint, ca_cert: Option<&Path>) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
