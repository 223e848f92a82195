//! `raw-hyper`: the floor. One warm hyper 1.x `client::conn` connection per worker, over
//! tokio-rustls, sending a fixed Invoke request signed once with aws-sigv4's `sign()`
//! (re-signed every [`RESIGN_AFTER`], well inside the 15 minutes a signature is accepted).
//! It speaks what the crate's clients speak (`--protocol`, default the pool's: ALPN decides):
//! HTTP/1.1 on `client::conn::http1`, HTTP/2 on `client::conn::http2` (still one connection and
//! one stream at a time per worker, so that the two protocols differ in nothing else).
//!
//! Only valid against servers that do not check a signature's freshness beyond SigV4's
//! clock-skew window (the embedded endpoint accepts 15 minutes; real Lambda also does, but
//! nothing else about this client is what a real caller should do). A connection that closed
//! is replaced before the next call; a request hyper hands back unsent is sent once more on a
//! fresh connection.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use lambda_vpce::pool::Protocol;
use lambda_vpce::wire::header;
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

use lambda_vpce_bench::{ErrorKind, Outcome};

use super::clients::{Call, Versions};
use super::target::Target;
use crate::common::CmdError;

/// How long one signature is used before the request is signed again.
pub(crate) const RESIGN_AFTER: Duration = Duration::from_secs(5 * 60);

/// The signed request every call repeats, in the form each protocol sends it.
#[derive(Debug)]
struct Template {
    /// HTTP/1.1: origin-form URI, `Host` among the headers.
    uri: Uri,
    headers: HeaderMap,
    /// HTTP/2: absolute URI (hyper derives `:scheme` and `:authority` from it), no `Host`.
    h2_uri: Uri,
    h2_headers: HeaderMap,
    body: Bytes,
    signed_at: Instant,
}

#[derive(Debug, Default)]
struct Slot {
    sender: Option<Sender>,
    template: Option<Arc<Template>>,
}

/// One connection's request sender, of the protocol it speaks.
#[derive(Debug)]
enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    Http2(http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    fn is_closed(&self) -> bool {
        match self {
            Sender::Http1(s) => s.is_closed(),
            Sender::Http2(s) => s.is_closed(),
        }
    }

    async fn ready(&mut self) -> hyper::Result<()> {
        match self {
            Sender::Http1(s) => s.ready().await,
            Sender::Http2(s) => s.ready().await,
        }
    }

    async fn try_send_request(
        &mut self,
        req: Request<Full<Bytes>>,
    ) -> Result<
        http::Response<hyper::body::Incoming>,
        hyper::client::conn::TrySendError<Request<Full<Bytes>>>,
    > {
        match self {
            Sender::Http1(s) => s.try_send_request(req).await,
            Sender::Http2(s) => s.try_send_request(req).await,
        }
    }

    fn version(&self) -> http::Version {
        match self {
            Sender::Http1(_) => http::Version::HTTP_11,
            Sender::Http2(_) => http::Version::HTTP_2,
        }
    }
}

/// How to open one connection.
struct Dialer {
    host: String,
    port: u16,
    tls: Option<(TlsConnector, rustls_pki_types::ServerName<'static>)>,
    /// Plain `http://` only: speak HTTP/2 with prior knowledge (`--protocol http2`).
    h2_prior_knowledge: bool,
}

impl std::fmt::Debug for Dialer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls.is_some())
            .field("h2_prior_knowledge", &self.h2_prior_knowledge)
            .finish()
    }
}

/// The raw-hyper client.
#[derive(Debug)]
pub(crate) struct RawHyper {
    slots: Vec<Mutex<Slot>>,
    dialer: Dialer,
    signer: Signer,
    opened: Arc<AtomicU64>,
}

/// What signing a template needs.
#[derive(Debug)]
struct Signer {
    absolute: String,
    origin_form: Uri,
    host: HeaderValue,
    invocation_type: HeaderValue,
    tenant_id: Option<HeaderValue>,
    body: Bytes,
    identity: Identity,
    region: String,
}

impl Signer {
    fn sign(&self) -> Result<Template, CmdError> {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(self.absolute.as_str())
            .header(http::header::HOST, self.host.clone())
            .header(header::INVOCATION_TYPE, self.invocation_type.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(())?;
        if let Some(tenant) = &self.tenant_id {
            req.headers_mut().insert(header::TENANT_ID, tenant.clone());
        }
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("lambda")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()?
            .into();
        let headers: Vec<(&str, &str)> = req
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
            .collect();
        let signable = SignableRequest::new(
            "POST",
            self.absolute.as_str(),
            headers.into_iter(),
            SignableBody::Bytes(&self.body),
        )?;
        let (instructions, _) = sign(signable, &params)?.into_parts();
        instructions.apply_to_request_http1x(&mut req);
        let mut h2_headers = req.headers().clone();
        h2_headers.remove(http::header::HOST);
        Ok(Template {
            uri: self.origin_form.clone(),
            headers: req.headers().clone(),
            h2_uri: self.absolute.parse()?,
            h2_headers,
            body: self.body.clone(),
            signed_at: Instant::now(),
        })
    }
}

impl RawHyper {
    /// Opens one connection per worker and signs the request, offering ALPN as a pool of
    /// `protocol` does.
    pub(crate) async fn connect(
        target: &Target,
        call: &Call,
        workers: usize,
        protocol: Protocol,
        resolve: Option<std::net::IpAddr>,
    ) -> Result<RawHyper, CmdError> {
        let e = &target.endpoint;
        let https = e.scheme() == "https";
        // `host[:port]`, the port only when not the scheme's default.
        let host = e.signing_host().to_owned();
        let path = format!(
            "/2015-03-31/functions/{}/invocations",
            encode_segment(&call.function)
        );
        let tls = if https {
            let config = tls_config(target.ca_pem.as_deref(), protocol)?;
            let name = rustls_pki_types::ServerName::try_from(e.sni().to_owned())
                .map_err(|err| format!("bad TLS server name {}: {err}", e.sni()))?;
            Some((TlsConnector::from(Arc::new(config)), name))
        } else {
            None
        };
        let signer = Signer {
            absolute: format!("{}://{host}{path}", e.scheme()),
            origin_form: path.parse()?,
            host: HeaderValue::from_str(&host)?,
            invocation_type: HeaderValue::from_str(call.invocation_type.as_str())?,
            tenant_id: call
                .tenant_id
                .as_deref()
                .map(HeaderValue::from_str)
                .transpose()?,
            body: call.payload.clone(),
            identity: target.credentials.clone().into(),
            region: target.region.clone(),
        };
        let raw = RawHyper {
            slots: (0..workers.max(1)).map(|_| Mutex::default()).collect(),
            dialer: Dialer {
                // `--resolve`: the first address given.
                host: resolve.map_or_else(|| e.connect_host().to_owned(), |ip| ip.to_string()),
                port: e.port(),
                tls,
                h2_prior_knowledge: protocol == Protocol::Http2,
            },
            signer,
            opened: Arc::new(AtomicU64::new(0)),
        };
        let template = Arc::new(raw.signer.sign()?);
        for slot in &raw.slots {
            let mut slot = slot.lock().await;
            slot.sender = Some(raw.dial().await?);
            slot.template = Some(template.clone());
        }
        Ok(raw)
    }

    /// The count of connections opened, shared.
    pub(crate) fn opened(&self) -> Arc<AtomicU64> {
        self.opened.clone()
    }

    async fn dial(&self) -> Result<Sender, CmdError> {
        let tcp = TcpStream::connect((self.dialer.host.as_str(), self.dialer.port)).await?;
        tcp.set_nodelay(true)?;
        let sender = match &self.dialer.tls {
            Some((connector, name)) => {
                let stream = connector.connect(name.clone(), tcp).await?;
                let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                handshake(TokioIo::new(stream), h2).await?
            }
            None => handshake(TokioIo::new(tcp), self.dialer.h2_prior_knowledge).await?,
        };
        self.opened.fetch_add(1, Ordering::Relaxed);
        Ok(sender)
    }

    /// Sends the fixed request once, on worker `worker`'s connection; records the protocol
    /// of the connection that answered in `versions`.
    pub(crate) async fn call(&self, worker: usize, versions: &Versions) -> Outcome {
        let Some(slot) = self.slots.get(worker % self.slots.len()) else {
            return Err(ErrorKind::Other);
        };
        let mut slot = slot.lock().await;
        let template = match &slot.template {
            Some(t) if t.signed_at.elapsed() < RESIGN_AFTER => t.clone(),
            _ => {
                let t = Arc::new(self.signer.sign().map_err(|_| ErrorKind::Other)?);
                slot.template = Some(t.clone());
                t
            }
        };
        for _ in 0..2 {
            let mut sender = match slot.sender.take() {
                Some(s) if !s.is_closed() => s,
                _ => self.dial().await.map_err(|_| ErrorKind::NotSent)?,
            };
            if sender.ready().await.is_err() {
                continue;
            }
            let mut req = Request::new(Full::new(template.body.clone()));
            *req.method_mut() = Method::POST;
            if let Sender::Http2(_) = sender {
                *req.uri_mut() = template.h2_uri.clone();
                *req.headers_mut() = template.h2_headers.clone();
            } else {
                *req.uri_mut() = template.uri.clone();
                *req.headers_mut() = template.headers.clone();
            }
            match sender.try_send_request(req).await {
                Ok(resp) => {
                    let ok = resp.status().is_success()
                        && !resp.headers().contains_key(header::FUNCTION_ERROR);
                    let mut body = resp.into_body();
                    while let Some(frame) = body.frame().await {
                        if frame.is_err() {
                            return Err(ErrorKind::MaybeExecuted);
                        }
                    }
                    versions.record(sender.version());
                    slot.sender = Some(sender);
                    return if ok { Ok(()) } else { Err(ErrorKind::Service) };
                }
                Err(mut e) => {
                    if e.take_message().is_none() {
                        return Err(ErrorKind::MaybeExecuted);
                    }
                    // Handed back unsent: try once more on a fresh connection.
                }
            }
        }
        Err(ErrorKind::NotSent)
    }
}

async fn handshake<T>(io: TokioIo<T>, h2: bool) -> Result<Sender, CmdError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    if h2 {
        let (sender, conn) = http2::handshake(TokioExecutor::new(), io).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        return Ok(Sender::Http2(sender));
    }
    let (sender, conn) = http1::handshake(io).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(Sender::Http1(sender))
}

/// ALPN as the crate's pool offers it for `protocol`.
fn tls_config(ca_pem: Option<&[u8]>, protocol: Protocol) -> Result<rustls::ClientConfig, CmdError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = ca_pem {
        let mut reader = pem;
        for cert in rustls_pemfile::certs(&mut reader) {
            roots.add(cert?)?;
        }
    }
    let provider = lambda_vpce::tls::crypto_provider();
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn_ids(protocol);
    Ok(config)
}

/// The ALPN ids (RFC 7301) the crate's pool offers for `protocol`, in order of preference:
/// the server picks.
fn alpn_ids(protocol: Protocol) -> Vec<Vec<u8>> {
    match protocol {
        Protocol::Http1 => vec![b"http/1.1".to_vec()],
        Protocol::Http2 => vec![b"h2".to_vec()],
        // Auto, and any protocol a later pool adds: offer both.
        _ => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
    }
}

/// Percent-encodes one path segment the way the SDK does (everything but unreserved bytes).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_arns_are_percent_encoded_like_the_sdk_does() {
        assert_eq!(encode_segment("echo"), "echo");
        assert_eq!(
            encode_segment("arn:aws:lambda:us-east-1:123456789012:function:f"),
            "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af"
        );
    }
}
