//! TLS client configuration: rustls with the Mozilla roots, plus CAs the user adds, on the
//! crate's crypto provider ([`crate::tls`]: aws-lc-rs with its default key-exchange groups, the
//! post-quantum hybrid first, unless a cargo feature picks `ring` or `fips`). Verification
//! cannot be switched off; there is no setting for it.

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;

use crate::protocol::Protocol;
use crate::BuildError;

/// Roots and ALPN for a pool's TLS connections.
#[derive(Debug, Clone)]
pub(crate) struct TlsSettings {
    /// Extra trusted CA certificates (DER), added to the Mozilla roots.
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    /// Trust only `extra_roots`, not the Mozilla roots (for tests against a private CA).
    pub(crate) only_extra_roots: bool,
    /// What ALPN offers.
    pub(crate) protocol: Protocol,
}

impl TlsSettings {
    /// The Mozilla roots alone, ALPN offering `protocol`.
    pub(crate) fn new(protocol: Protocol) -> Self {
        TlsSettings {
            extra_roots: Vec::new(),
            only_extra_roots: false,
            protocol,
        }
    }

    /// Parses every certificate in a PEM bundle and adds it as a trusted root.
    pub(crate) fn add_ca_pem(&mut self, pem: &[u8]) -> Result<(), BuildError> {
        let mut reader = pem;
        let mut added = 0;
        for cert in rustls_pemfile::certs(&mut reader) {
            let cert = cert.map_err(|e| {
                BuildError::new("ca_pem", e.to_string(), "PEM-encoded X.509 certificates")
            })?;
            self.extra_roots.push(cert);
            added += 1;
        }
        if added == 0 {
            return Err(BuildError::new(
                "ca_pem",
                String::from_utf8_lossy(&pem[..pem.len().min(60)]),
                "at least one `-----BEGIN CERTIFICATE-----` block",
            ));
        }
        Ok(())
    }

    pub(crate) fn client_config(&self) -> Result<rustls::ClientConfig, BuildError> {
        let mut roots = RootCertStore::empty();
        if !self.only_extra_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for cert in &self.extra_roots {
            roots
                .add(cert.clone())
                .map_err(|e| BuildError::new("ca_pem", e.to_string(), "a valid CA certificate"))?;
        }
        let mut config = rustls::ClientConfig::builder_with_provider(crate::tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| BuildError::new("tls", e.to_string(), "TLS 1.2 or 1.3 support"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = self.protocol.alpn();
        crate::tls::check_fips(config.fips(), "the TLS client configuration")?;
        Ok(config)
    }
}
