//! Timing an endpoint's DNS, TCP and TLS handshakes, and capturing its certificate's names.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

use super::h2_settings::{read_server_settings, Http2Settings};
use super::CertificateNames;
use crate::connect::TlsSettings;
use crate::protocol::Protocol;
use crate::{endpoint::Endpoint, BuildError, GaiResolver, Resolve};

/// The DNS, TCP and TLS handshakes with an endpoint's connect host, timed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Probe {
    /// The host resolved and connected to ([`Endpoint::connect_host`]).
    pub host: String,
    /// The TCP port.
    pub port: u16,
    /// The TLS server name sent ([`Endpoint::sni`]).
    pub sni: String,
    /// The addresses resolved, or why resolution failed.
    pub resolved: Result<Vec<IpAddr>, String>,
    /// How long resolution took.
    pub resolve_time: Duration,
    /// One TCP connect per resolved address, in order.
    pub tcp: Vec<TcpProbe>,
    /// The TLS handshake over the first address that accepted TCP (`None` for `http://`, or
    /// when no address accepted).
    pub tls: Option<TlsProbe>,
}

/// One TCP connect.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TcpProbe {
    /// The address tried.
    pub address: SocketAddr,
    /// The time to connect, or why it failed.
    pub result: Result<Duration, String>,
}

/// One TLS handshake, verified against the usual roots plus the added CAs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TlsProbe {
    /// The address the handshake ran over.
    pub address: SocketAddr,
    /// The handshake's duration (after TCP connected).
    pub elapsed: Duration,
    /// `Ok` when the certificate verified for the SNI; otherwise why not.
    pub result: Result<(), String>,
    /// The negotiated version, such as `TLSv1_3`.
    pub protocol: Option<String>,
    /// The negotiated key-exchange group (IANA name), such as `X25519MLKEM768` (the
    /// post-quantum hybrid the default build offers first) or `X25519`.
    pub key_exchange_group: Option<String>,
    /// The negotiated cipher suite (IANA name), such as `TLS13_AES_128_GCM_SHA256`.
    pub cipher_suite: Option<String>,
    /// The negotiated ALPN protocol: `h2` or `http/1.1` (both are offered, `h2` first).
    pub alpn: Option<String>,
    /// When ALPN picked `h2`: the server's first SETTINGS frame (its stream limit), or why it
    /// could not be read. `None` otherwise.
    pub http2: Option<Result<Http2Settings, String>>,
    /// The server certificate's names, read even when verification failed.
    pub names: Option<CertificateNames>,
}

/// Resolves the endpoint's connect host, connects TCP to every address (all at once, each
/// timed on its own), and runs one TLS handshake (SNI [`Endpoint::sni`], ALPN `h2` then
/// `http/1.1`, the crate's crypto provider and key-exchange groups: [`crate::tls`]) over the
/// first that accepted,
/// each step within `timeout`; when the server picks `h2`, reads its SETTINGS (within
/// `timeout` too). `ca_pem` adds trusted CAs to the Mozilla roots. Fails only when `ca_pem`
/// holds no certificate; network failures are reported in the [`Probe`].
pub async fn probe(
    endpoint: &Endpoint,
    ca_pem: Option<&[u8]>,
    timeout: Duration,
) -> Result<Probe, BuildError> {
    let connector = if endpoint.scheme() == "https" {
        Some(tls_connector(ca_pem)?)
    } else {
        None
    };
    let host = endpoint.connect_host().to_owned();
    let port = endpoint.port();
    let started = Instant::now();
    let resolved = match tokio::time::timeout(timeout, GaiResolver.resolve(&host, port)).await {
        Ok(Ok(addrs)) => Ok(addrs),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {timeout:?}")),
    };
    let resolve_time = started.elapsed();
    let mut probe = Probe {
        host,
        port,
        sni: endpoint.sni().to_owned(),
        resolved: resolved
            .as_ref()
            .map(|a| a.iter().map(SocketAddr::ip).collect())
            .map_err(Clone::clone),
        resolve_time,
        tcp: Vec::new(),
        tls: None,
    };
    let Ok(addrs) = resolved else {
        return Ok(probe);
    };
    // Every address at once, so that a dark one (an impaired zone that swallows SYNs) costs
    // the timeout once, not once per address before it.
    let connects: Vec<_> = addrs
        .into_iter()
        .map(|address| {
            let task = tokio::spawn(async move {
                let started = Instant::now();
                let result = match tokio::time::timeout(timeout, TcpStream::connect(address)).await
                {
                    Ok(Ok(stream)) => Ok(stream),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err(format!("no answer within {timeout:?}")),
                };
                (started.elapsed(), result)
            });
            (address, task)
        })
        .collect();
    for (address, task) in connects {
        let (elapsed, result) = task
            .await
            .unwrap_or_else(|e| (Duration::ZERO, Err(format!("the probe task failed: {e}"))));
        let stream = match result {
            Ok(stream) => {
                probe.tcp.push(TcpProbe {
                    address,
                    result: Ok(elapsed),
                });
                stream
            }
            Err(e) => {
                probe.tcp.push(TcpProbe {
                    address,
                    result: Err(e),
                });
                continue;
            }
        };
        if probe.tls.is_none() {
            if let Some((connector, seen)) = &connector {
                probe.tls =
                    Some(handshake(connector, seen, stream, address, &probe.sni, timeout).await);
            }
        }
    }
    Ok(probe)
}

async fn handshake(
    connector: &TlsConnector,
    seen: &Arc<Mutex<Option<CertificateDer<'static>>>>,
    tcp: TcpStream,
    address: SocketAddr,
    sni: &str,
    timeout: Duration,
) -> TlsProbe {
    let mut out = TlsProbe {
        address,
        elapsed: Duration::ZERO,
        result: Ok(()),
        protocol: None,
        key_exchange_group: None,
        cipher_suite: None,
        alpn: None,
        http2: None,
        names: None,
    };
    let server_name = match ServerName::try_from(sni.to_owned()) {
        Ok(name) => name,
        Err(e) => {
            out.result = Err(format!("{sni:?} is not a valid TLS server name: {e}"));
            return out;
        }
    };
    let started = Instant::now();
    let result = tokio::time::timeout(timeout, connector.connect(server_name, tcp)).await;
    out.elapsed = started.elapsed();
    match result {
        Ok(Ok(mut tls)) => {
            let (_, conn) = tls.get_ref();
            out.protocol = conn.protocol_version().map(|v| format!("{v:?}"));
            out.key_exchange_group = conn
                .negotiated_key_exchange_group()
                .map(|g| crate::tls::group_name(g.name()));
            out.cipher_suite = conn
                .negotiated_cipher_suite()
                .map(|s| crate::tls::suite_name(s.suite()));
            out.alpn = conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned());
            if out.alpn.as_deref() == Some("h2") {
                out.http2 = Some(read_server_settings(&mut tls, timeout).await);
            }
        }
        Ok(Err(e)) => out.result = Err(describe(&e)),
        Err(_) => out.result = Err(format!("no handshake within {timeout:?}")),
    }
    if let Ok(mut cert) = seen.lock() {
        out.names = cert.take().and_then(|der| CertificateNames::from_der(&der));
    }
    out
}

fn describe(e: &io::Error) -> String {
    match e.get_ref() {
        Some(inner) => inner.to_string(),
        None => e.to_string(),
    }
}

type Seen = Arc<Mutex<Option<CertificateDer<'static>>>>;

fn tls_connector(ca_pem: Option<&[u8]>) -> Result<(TlsConnector, Seen), BuildError> {
    // Only its roots are used here; ALPN offers both protocols, as a pool on `Auto` does.
    let mut settings = TlsSettings::new(Protocol::Auto);
    if let Some(pem) = ca_pem {
        settings.add_ca_pem(pem)?;
    }
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in &settings.extra_roots {
        roots
            .add(cert.clone())
            .map_err(|e| BuildError::new("ca_pem", e.to_string(), "a valid CA certificate"))?;
    }
    let provider = crate::tls::crypto_provider();
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| BuildError::new("ca_pem", e.to_string(), "usable CA certificates"))?;
    let seen = Seen::default();
    let verifier = Recording {
        inner,
        seen: seen.clone(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BuildError::new("tls", e.to_string(), "TLS 1.2 or 1.3 support"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = settings.protocol.alpn();
    crate::tls::check_fips(config.fips(), "doctor's TLS client configuration")?;
    Ok((TlsConnector::from(Arc::new(config)), seen))
}

/// The standard WebPKI verifier, keeping a copy of the end-entity certificate it was shown so
/// that a name mismatch can be reported with the names the certificate does have. It
/// verifies exactly as the inner verifier does.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    seen: Seen,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(end_entity.clone().into_owned());
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(all(test, feature = "local"))]
mod tests {
    use super::*;
    use crate::local::LocalEndpoint;

    const TIMEOUT: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn the_local_endpoint_handshakes_and_shows_its_names() {
        let local = LocalEndpoint::builder()
            .http2(false)
            .start()
            .await
            .expect("endpoint");
        let endpoint = Endpoint::from_url(&local.url()).expect("url");
        let probe = probe(&endpoint, Some(local.ca_pem().as_bytes()), TIMEOUT)
            .await
            .expect("probe");
        assert!(probe.tcp.iter().any(|t| t.result.is_ok()), "{probe:?}");
        let tls = probe.tls.expect("a handshake");
        assert_eq!(tls.result, Ok(()));
        assert_eq!(tls.alpn.as_deref(), Some("http/1.1"));
        assert_eq!(tls.http2, None, "no SETTINGS read over HTTP/1.1");
        let names = tls.names.expect("names");
        assert!(names.covers("localhost"));
        local.shutdown().await;
    }

    #[tokio::test]
    async fn the_probe_reports_the_key_exchange_group_the_endpoint_negotiated() {
        let local = LocalEndpoint::start().await.expect("endpoint");
        let endpoint = Endpoint::from_url(&local.url()).expect("url");
        let probe = probe(&endpoint, Some(local.ca_pem().as_bytes()), TIMEOUT)
            .await
            .expect("probe");
        let tls = probe.tls.expect("a handshake");
        let seen = local.tls_handshakes();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(tls.key_exchange_group.is_some(), "{tls:?}");
        assert_eq!(tls.key_exchange_group, seen[0].key_exchange_group);
        assert_eq!(tls.cipher_suite, seen[0].cipher_suite);
        // Both sides run the crate's provider: its first group wins.
        assert_eq!(
            tls.key_exchange_group.as_ref(),
            crate::tls::TlsProvider::current()
                .key_exchange_groups
                .first()
        );
        local.shutdown().await;
    }

    #[tokio::test]
    async fn an_http2_endpoint_is_reported_with_its_stream_limit() {
        let local = LocalEndpoint::builder()
            .http2(true)
            .start()
            .await
            .expect("endpoint");
        let endpoint = Endpoint::from_url(&local.url()).expect("url");
        let probe = probe(&endpoint, Some(local.ca_pem().as_bytes()), TIMEOUT)
            .await
            .expect("probe");
        let tls = probe.tls.expect("a handshake");
        assert_eq!(tls.result, Ok(()));
        assert_eq!(tls.alpn.as_deref(), Some("h2"));
        let settings = tls.http2.expect("SETTINGS read").expect("SETTINGS parsed");
        assert!(
            settings.max_concurrent_streams.is_some_and(|n| n > 0),
            "the embedded endpoint announces a stream limit: {settings:?}"
        );
        local.shutdown().await;
    }

    #[tokio::test]
    async fn an_unknown_ca_fails_verification_but_the_names_are_still_read() {
        let local = LocalEndpoint::start().await.expect("endpoint");
        let endpoint = Endpoint::from_url(&local.url()).expect("url");
        let probe = probe(&endpoint, None, TIMEOUT).await.expect("probe");
        let tls = probe.tls.expect("a handshake");
        assert!(tls.result.is_err());
        assert!(tls.names.expect("names").covers("127.0.0.1"));
        local.shutdown().await;
    }
}
