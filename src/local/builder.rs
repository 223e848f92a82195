//! Configuration of a [`LocalEndpoint`] before it starts.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use super::faults::{FaultConfig, Faults};
use super::functions::{FunctionSpec, Registry};
use super::server::{Config, LocalEndpoint};
use super::tls;
use crate::BuildError;

/// Default region requests must be signed for.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Default access key id the endpoint accepts (a fixed test credential, not a secret).
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIDLOCALLAMBDAVPCE";
/// Default secret access key the endpoint verifies with (a fixed test credential).
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "local-lambda-vpce-secret-access-key";

/// Builds a [`LocalEndpoint`].
///
/// Defaults: HTTPS, `127.0.0.1` on an ephemeral port, HTTP/1.1 only, region
/// [`DEFAULT_REGION`], credentials [`DEFAULT_ACCESS_KEY_ID`]/[`DEFAULT_SECRET_ACCESS_KEY`],
/// signatures verified, the functions of [`FunctionSpec::defaults`], no faults.
///
/// # HTTP/2
/// [`http2(true)`](Self::http2) offers `h2` before `http/1.1` in TLS ALPN; a connection whose
/// client picked `h2` is served by hyper's HTTP/2 server (every request a stream of one
/// connection), any other as before. An HTTP/2 request must name its target the HTTP/2 way,
/// `:scheme: https` and `:authority` (with a `Host` header, if any, naming the same; RFC 9113
/// §8.3.1), or it is refused with 400 `InvalidRequestContentException`.
///
/// Of the [`FaultConfig`] knobs, these act on HTTP/2 connections as on HTTP/1: `status` and
/// `retry_after`, `latency`, `stall`, and `die_after_request` and `chaos` — whose closes end
/// the whole connection, every stream on it. The others only make sense for HTTP/1's
/// one-exchange-at-a-time byte stream: `idle_close`, `idle_reset` (HTTP/2 idleness is not a
/// request/response turn), `max_requests` and `announce_keep_alive` (`Connection` and
/// `Keep-Alive` are illegal in HTTP/2), and `truncate_body`, `garbage_response`,
/// `oversized_headers`, `trickle_headers` (they write an HTTP/1.1 response by hand).
/// [`start`](Self::start) refuses them with HTTP/2 on (see there); switched on later through
/// [`LocalEndpoint::faults`], they act on HTTP/1.1 connections only and HTTP/2 connections
/// ignore them.
#[derive(Debug)]
pub struct LocalEndpointBuilder {
    region: String,
    access_key_id: String,
    secret_access_key: String,
    addr: SocketAddr,
    plain_http: bool,
    http2: bool,
    verify_signatures: bool,
    functions: Vec<FunctionSpec>,
    faults: FaultConfig,
}

impl Default for LocalEndpointBuilder {
    fn default() -> Self {
        LocalEndpointBuilder {
            region: DEFAULT_REGION.to_owned(),
            access_key_id: DEFAULT_ACCESS_KEY_ID.to_owned(),
            secret_access_key: DEFAULT_SECRET_ACCESS_KEY.to_owned(),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            plain_http: false,
            http2: false,
            verify_signatures: true,
            functions: FunctionSpec::defaults(),
            faults: FaultConfig::default(),
        }
    }
}

impl LocalEndpointBuilder {
    /// The region requests must be signed for. Default: [`DEFAULT_REGION`].
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// The only credentials accepted. Default: [`DEFAULT_ACCESS_KEY_ID`] and
    /// [`DEFAULT_SECRET_ACCESS_KEY`]. Any session token is accepted with them.
    pub fn credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.access_key_id = access_key_id.into();
        self.secret_access_key = secret_access_key.into();
        self
    }

    /// Listens on this port of `127.0.0.1`. Default: 0 (an ephemeral port).
    pub fn port(mut self, port: u16) -> Self {
        self.addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        self
    }

    /// Listens on this address, which may be non-loopback (explicitly asked for).
    /// Default: `127.0.0.1:0`.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Serves plain HTTP instead of HTTPS; only allowed on a loopback address. Default: off.
    pub fn plain_http(mut self, on: bool) -> Self {
        self.plain_http = on;
        self
    }

    /// Offers HTTP/2 in ALPN (`h2`, then `http/1.1`) and serves a connection that picked `h2`
    /// over HTTP/2; see [HTTP/2](Self#http2) for the faults it refuses. HTTPS only (HTTP/2 is
    /// negotiated by ALPN; there is no cleartext `h2c`). Default: off (HTTP/1.1 only).
    pub fn http2(mut self, on: bool) -> Self {
        self.http2 = on;
        self
    }

    /// Whether SigV4 signatures are verified. Turn off only for clients that cannot sign
    /// (wrk, curl). Default: on.
    pub fn verify_signatures(mut self, on: bool) -> Self {
        self.verify_signatures = on;
        self
    }

    /// Adds (or replaces, by name) a function.
    pub fn function(mut self, spec: FunctionSpec) -> Self {
        self.functions.retain(|f| f.name != spec.name);
        self.functions.push(spec);
        self
    }

    /// Removes every function (the defaults included).
    pub fn no_functions(mut self) -> Self {
        self.functions.clear();
        self
    }

    /// The misbehaviours in force from the start. Default: none.
    pub fn faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }

    /// Binds and starts serving. Must be called inside a tokio runtime.
    ///
    /// With [`http2`](Self::http2) on, plain HTTP or an HTTP/1-only fault is refused before
    /// binding: an [`io::ErrorKind::InvalidInput`] error whose inner error is a
    /// [`BuildError`] naming the field (`"plain_http"`, `"faults.max_requests"`, ...).
    pub async fn start(self) -> io::Result<LocalEndpoint> {
        if self.http2 {
            http2_conflict(self.plain_http, &self.faults).map_or(Ok(()), |e| {
                Err(io::Error::new(io::ErrorKind::InvalidInput, e))
            })?;
        }
        if self.plain_http && !self.addr.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "plain HTTP is only served on a loopback address, not {}",
                    self.addr.ip()
                ),
            ));
        }
        let tls = if self.plain_http {
            None
        } else {
            Some(tls::make(self.http2)?)
        };
        LocalEndpoint::launch(Config {
            addr: self.addr,
            tls,
            registry: Registry::new(&self.region, self.functions),
            region: self.region,
            access_key_id: self.access_key_id,
            secret_access_key: self.secret_access_key,
            verify_signatures: self.verify_signatures,
            faults: Faults::new(self.faults),
        })
        .await
    }
}

/// What HTTP/2 cannot be combined with: plain HTTP, and the faults of HTTP/1 only.
fn http2_conflict(plain_http: bool, faults: &FaultConfig) -> Option<BuildError> {
    const EXPECTED: &str = "off with http2 (an HTTP/1-only fault)";
    if plain_http {
        return Some(BuildError::new(
            "plain_http",
            "true",
            "off with http2 (HTTP/2 is negotiated by TLS ALPN)",
        ));
    }
    let debug = |d: Option<std::time::Duration>| d.map(|d| format!("{d:?}"));
    let flag = |on: bool| on.then(|| "true".to_owned());
    let set: [(&'static str, Option<String>); 8] = [
        ("faults.idle_close", debug(faults.idle_close)),
        ("faults.idle_reset", debug(faults.idle_reset)),
        (
            "faults.max_requests",
            faults.max_requests.map(|n| n.to_string()),
        ),
        (
            "faults.announce_keep_alive",
            flag(faults.announce_keep_alive),
        ),
        ("faults.truncate_body", flag(faults.truncate_body)),
        ("faults.garbage_response", flag(faults.garbage_response)),
        ("faults.oversized_headers", flag(faults.oversized_headers)),
        ("faults.trickle_headers", debug(faults.trickle_headers)),
    ];
    set.into_iter()
        .find_map(|(field, got)| got.map(|got| BuildError::new(field, got, EXPECTED)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::CloseKind;
    use std::time::Duration;

    /// The `BuildError` inside the error `start` returned.
    async fn refusal(builder: LocalEndpointBuilder) -> BuildError {
        let err = builder.start().await.expect_err("refused");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        err.get_ref()
            .and_then(|e| e.downcast_ref::<BuildError>())
            .cloned()
            .expect("a BuildError inside")
    }

    #[tokio::test]
    async fn http2_refuses_plain_http() {
        let e = refusal(LocalEndpointBuilder::default().http2(true).plain_http(true)).await;
        assert_eq!(e.field(), "plain_http");
    }

    #[tokio::test]
    async fn http2_refuses_every_http1_only_fault_by_name() {
        type Set = fn(&mut FaultConfig);
        let cases: [(&str, Set); 8] = [
            ("faults.idle_close", |f| {
                f.idle_close = Some(Duration::from_secs(1))
            }),
            ("faults.idle_reset", |f| {
                f.idle_reset = Some(Duration::from_secs(1))
            }),
            ("faults.max_requests", |f| f.max_requests = Some(3)),
            ("faults.announce_keep_alive", |f| {
                f.announce_keep_alive = true
            }),
            ("faults.truncate_body", |f| f.truncate_body = true),
            ("faults.garbage_response", |f| f.garbage_response = true),
            ("faults.oversized_headers", |f| f.oversized_headers = true),
            ("faults.trickle_headers", |f| {
                f.trickle_headers = Some(Duration::from_millis(1))
            }),
        ];
        for (field, set) in cases {
            let mut faults = FaultConfig::default();
            set(&mut faults);
            let e = refusal(LocalEndpointBuilder::default().http2(true).faults(faults)).await;
            assert_eq!(e.field(), field);
            assert!(e.expected().contains("HTTP/1-only"), "{e}");
        }
    }

    #[tokio::test]
    async fn http2_keeps_the_faults_that_act_on_any_connection() {
        let faults = FaultConfig {
            status: Some(500),
            latency: Duration::from_millis(1),
            die_after_request: Some(CloseKind::Reset),
            ..FaultConfig::default()
        };
        let ep = LocalEndpointBuilder::default()
            .http2(true)
            .faults(faults.clone())
            .start()
            .await
            .expect("starts");
        assert_eq!(ep.faults().snapshot(), faults);
    }

    #[tokio::test]
    async fn http1_only_faults_are_still_accepted_without_http2() {
        let faults = FaultConfig {
            max_requests: Some(3),
            idle_close: Some(Duration::from_secs(1)),
            ..FaultConfig::default()
        };
        LocalEndpointBuilder::default()
            .faults(faults)
            .start()
            .await
            .expect("HTTP/1.1 by default, every fault allowed");
    }
}
