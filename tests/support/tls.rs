//! TLS clients of the embedded endpoint (or a server it signed for): the one rustls client
//! config trusting only its CA, a TLS connection offering chosen ALPN protocols, and
//! aws-sdk-lambda's own default HTTP client trusting the same CA (the bench's `sdk-default`).

use std::sync::Arc;

use aws_credential_types::Credentials;
use aws_sdk_lambda::config::Region;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use lambda_vpce::local::LocalEndpoint;
use rustls::pki_types::ServerName;
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio_rustls::client::TlsStream;

/// The name every certificate of the embedded endpoint covers.
pub const SERVER_NAME: &str = "localhost";

/// A rustls client config on the crate's crypto provider trusting only `ca_pem`, offering
/// `alpn` (none: no ALPN extension).
pub fn client_config(ca_pem: &str, alpn: &[&[u8]]) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
        let cert = cert.map_err(|e| format!("CA PEM: {e}"))?;
        roots.add(cert).map_err(|e| format!("CA root: {e}"))?;
    }
    let mut config =
        rustls::ClientConfig::builder_with_provider(lambda_vpce::tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS versions: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// A TLS connection to `addr` for [`SERVER_NAME`], trusting only `ca_pem` and offering
/// `alpn`.
pub async fn try_connect(
    addr: impl ToSocketAddrs,
    ca_pem: &str,
    alpn: &[&[u8]],
) -> Result<TlsStream<TcpStream>, String> {
    let config = client_config(ca_pem, alpn)?;
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("TCP: {e}"))?;
    let name = ServerName::try_from(SERVER_NAME).map_err(|e| e.to_string())?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))
}

/// [`try_connect`] to the embedded endpoint `ep`, with its CA; panics on failure.
pub async fn connect(ep: &LocalEndpoint, alpn: &[&[u8]]) -> TlsStream<TcpStream> {
    try_connect(ep.addr(), ep.ca_pem(), alpn)
        .await
        .unwrap_or_else(|e| panic!("connecting to {}: {e}", ep.url()))
}

/// The ALPN protocol `ep` picks for a client offering `offer`.
pub async fn negotiated_alpn(ep: &LocalEndpoint, offer: &[&[u8]]) -> Option<Vec<u8>> {
    connect(ep, offer)
        .await
        .get_ref()
        .1
        .alpn_protocol()
        .map(<[u8]>::to_vec)
}

/// aws-sdk-lambda's configuration with its default HTTP client (aws-smithy-http-client: rustls
/// on aws-lc-rs, ALPN `h2` then `http/1.1`) trusting only `ca_pem`, for `url`, `region` and
/// `credentials`: the bench's `sdk-default` client. Finish it with `.build()` (after any
/// setting of the test's own, such as its retries).
pub fn sdk_default_config(
    url: &str,
    ca_pem: &[u8],
    region: &str,
    credentials: Credentials,
) -> aws_sdk_lambda::config::Builder {
    let context = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(ca_pem.to_vec()))
        .build()
        .expect("a TLS context with the test CA");
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(context)
        .build_https();
    aws_sdk_lambda::Config::builder()
        .behavior_version_latest()
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .endpoint_url(url)
        .http_client(http)
}

/// [`sdk_default_config`] on the embedded endpoint `ep`, with its credentials and region and
/// the SDK's default retries.
pub fn sdk_default_client(ep: &LocalEndpoint) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::from_conf(
        sdk_default_config(
            &ep.url(),
            ep.ca_pem().as_bytes(),
            ep.region(),
            ep.credentials(),
        )
        .build(),
    )
}
