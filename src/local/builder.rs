//! Configuration of a [`LocalEndpoint`] before it starts.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use super::faults::{FaultConfig, Faults};
use super::functions::{FunctionSpec, Registry};
use super::http2::H2Config;
use super::server::{Config, LocalEndpoint};
use super::tls;
use crate::BuildError;

/// Default region requests must be signed for.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Default access key id the endpoint accepts (a fixed test credential, not a secret).
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIDLOCALLAMBDAVPCE";
/// Default secret access key the endpoint verifies with (a fixed test credential).
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "local-lambda-vpce-secret-access-key";

/// Default `SETTINGS_MAX_CONCURRENT_STREAMS` the endpoint advertises on HTTP/2 (Lambda's).
pub const DEFAULT_H2_MAX_CONCURRENT_STREAMS: u32 = 128;
/// The HTTP/2 stream receive window the endpoint advertises (`SETTINGS_INITIAL_WINDOW_SIZE`):
/// 8 MiB, more than a 6 MB synchronous payload, so a request body never waits for a
/// `WINDOW_UPDATE`. (Not a setting; the client pool's own window is
/// [`pool::DEFAULT_H2_STREAM_WINDOW`](crate::pool::DEFAULT_H2_STREAM_WINDOW).)
pub(crate) const H2_STREAM_WINDOW: u32 = 8 * 1024 * 1024;
/// The HTTP/2 connection receive window the endpoint keeps: 16 MiB (two 6 MB bodies in flight
/// at once without waiting; it bounds what one connection can make the server buffer). Not a
/// setting, and not the client pool's
/// [`pool::DEFAULT_H2_CONNECTION_WINDOW`](crate::pool::DEFAULT_H2_CONNECTION_WINDOW) (32 MiB).
pub(crate) const H2_CONNECTION_WINDOW: u32 = 16 * 1024 * 1024;

/// Builds a [`LocalEndpoint`].
///
/// Defaults: HTTPS, `127.0.0.1` on an ephemeral port, HTTP/2 and HTTP/1.1 (ALPN `h2`, then
/// `http/1.1`, as Lambda), region [`DEFAULT_REGION`], credentials
/// [`DEFAULT_ACCESS_KEY_ID`]/[`DEFAULT_SECRET_ACCESS_KEY`], signatures verified, the functions
/// of [`FunctionSpec::defaults`], no faults.
///
/// # HTTP/2
/// With [`http2`](Self::http2) on (the default), TLS ALPN offers `h2` before `http/1.1`, and on
/// plain HTTP a connection that opens with the HTTP/2 preface is served as h2c (prior
/// knowledge). An HTTP/2 connection is served by the `h2` crate's server: it advertises
/// [`h2_max_concurrent_streams`](Self::h2_max_concurrent_streams) and receive windows of
/// 8 MiB per stream (`SETTINGS_INITIAL_WINDOW_SIZE`, more than a 6 MB payload) and 16 MiB per
/// connection.
/// An HTTP/2 request must name its target the HTTP/2 way, `:scheme` (`https`, or `http` on
/// h2c) and `:authority` (with a `Host` header, if any, naming the same; RFC 9113 §8.3.1), or
/// it is refused with 400 `InvalidRequestContentException`.
///
/// Which [`FaultConfig`] knobs act on which protocol:
///
/// | faults | HTTP/1.1 connections | HTTP/2 connections |
/// |---|---|---|
/// | `status`, `retry_after`, `latency`, `stall` | yes | yes (per stream) |
/// | `die_after_request`, `chaos` | yes | yes — their closes end the whole connection, every stream on it |
/// | `idle_close`, `idle_reset`, `max_requests`, `announce_keep_alive`, `truncate_body`, `garbage_response`, `oversized_headers`, `trickle_headers` | yes | no (HTTP/1 byte-stream faults) |
/// | `h2_*` (GOAWAY after N / on idle / abrupt, refused streams, black hole, reset mid-response, stream limit) | no | yes |
///
/// [`LocalEndpoint::drain_connections`] acts on both (see there).
pub struct LocalEndpointBuilder {
    region: String,
    access_key_id: String,
    secret_access_key: String,
    addr: SocketAddr,
    plain_http: bool,
    http2: bool,
    h2_max_concurrent_streams: u32,
    verify_signatures: bool,
    functions: Vec<FunctionSpec>,
    faults: FaultConfig,
    call_ledger_limit: Option<usize>,
    worker_threads: usize,
}

impl std::fmt::Debug for LocalEndpointBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEndpointBuilder")
            .field("region", &self.region)
            .field("addr", &self.addr)
            .field("plain_http", &self.plain_http)
            .field("http2", &self.http2)
            .field("h2_max_concurrent_streams", &self.h2_max_concurrent_streams)
            .field("verify_signatures", &self.verify_signatures)
            .field("functions", &self.functions)
            .field("faults", &self.faults)
            .field("call_ledger_limit", &self.call_ledger_limit)
            .field("worker_threads", &self.worker_threads)
            .finish_non_exhaustive()
    }
}

impl Default for LocalEndpointBuilder {
    fn default() -> Self {
        LocalEndpointBuilder {
            region: DEFAULT_REGION.to_owned(),
            access_key_id: DEFAULT_ACCESS_KEY_ID.to_owned(),
            secret_access_key: DEFAULT_SECRET_ACCESS_KEY.to_owned(),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            plain_http: false,
            http2: true,
            h2_max_concurrent_streams: DEFAULT_H2_MAX_CONCURRENT_STREAMS,
            verify_signatures: true,
            functions: FunctionSpec::defaults(),
            faults: FaultConfig::default(),
            call_ledger_limit: None,
            worker_threads: 0,
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

    /// Serves HTTP/2 too: ALPN offers `h2` before `http/1.1` (on plain HTTP, a connection that
    /// opens with the HTTP/2 preface is served as h2c). `false` serves HTTP/1.1 only (ALPN
    /// `http/1.1` alone, no preface sniffing). See [HTTP/2](Self#http2) for which faults act on
    /// which protocol. Default: on.
    pub fn http2(mut self, on: bool) -> Self {
        self.http2 = on;
        self
    }

    /// `SETTINGS_MAX_CONCURRENT_STREAMS` advertised on every HTTP/2 connection (at least 1;
    /// [`FaultConfig::h2_max_concurrent_streams`] overrides it at run time for new
    /// connections). Default: [`DEFAULT_H2_MAX_CONCURRENT_STREAMS`] (128, as Lambda).
    pub fn h2_max_concurrent_streams(mut self, n: u32) -> Self {
        self.h2_max_concurrent_streams = n;
        self
    }

    /// Whether SigV4 signatures are verified. Turn off only for clients that cannot sign
    /// (wrk, curl). Default: on.
    pub fn verify_signatures(mut self, on: bool) -> Self {
        self.verify_signatures = on;
        self
    }

    /// Keeps the executions of only the most recent `n` call ids in the [`Ledger`](super::Ledger)
    /// (the oldest are forgotten first; the total counts on), so that an endpoint serving for
    /// hours does not grow by every call it ever answered. `serve` and `bench` use
    /// [`LONG_RUN_CALL_LEDGER_LIMIT`](super::LONG_RUN_CALL_LEDGER_LIMIT). Default: no limit
    /// (every call id is kept, so a test can ask about any call it made).
    pub fn call_ledger_limit(mut self, n: usize) -> Self {
        self.call_ledger_limit = Some(n);
        self
    }

    /// Serves on a tokio runtime of the endpoint's own with `n` worker threads (named
    /// `lambda-vpce-endpoint`), as a server in another process would, instead of on the
    /// caller's runtime. Then the caller's scheduler runs only the caller's tasks: a benchmark
    /// measures its client, not how the client's and the server's tasks share two workers
    /// (`bench` serves this way), and a test may block its own runtime while the endpoint keeps
    /// answering. The runtime ends with the endpoint (without waiting for its tasks); its timers
    /// are its own, so the caller's `tokio::time::pause` does not reach them. `0`: the caller's
    /// runtime. Default: 0.
    ///
    /// The runtime is built, and its threads started, in the first poll of
    /// [`start`](Self::start), from the thread that polls it: on Linux they inherit that
    /// thread's CPU affinity (`bench --server-cpus` pins the endpoint this way).
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n;
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
    /// An invalid setting is refused before binding: an [`io::ErrorKind::InvalidInput`] error
    /// whose inner error is a [`BuildError`] naming the field (`"h2_max_concurrent_streams"`,
    /// `"plain_http"`).
    pub async fn start(self) -> io::Result<LocalEndpoint> {
        let invalid = |e: BuildError| io::Error::new(io::ErrorKind::InvalidInput, e);
        if self.h2_max_concurrent_streams == 0 {
            return Err(invalid(BuildError::new(
                "h2_max_concurrent_streams",
                "0",
                "at least 1",
            )));
        }
        if self.plain_http && !self.addr.ip().is_loopback() {
            return Err(invalid(BuildError::new(
                "plain_http",
                format!("true on {}", self.addr.ip()),
                "a loopback address (plain HTTP is only served on loopback)",
            )));
        }
        let tls = if self.plain_http {
            None
        } else {
            Some(tls::make(self.http2)?)
        };
        let config = Config {
            addr: self.addr,
            tls,
            http2: self.http2.then_some(H2Config {
                max_concurrent_streams: self.h2_max_concurrent_streams,
                stream_window: H2_STREAM_WINDOW,
                connection_window: H2_CONNECTION_WINDOW,
            }),
            registry: Registry::new(&self.region, self.functions),
            call_ledger_limit: self.call_ledger_limit,
            region: self.region,
            access_key_id: self.access_key_id,
            secret_access_key: self.secret_access_key,
            verify_signatures: self.verify_signatures,
            faults: Faults::new(self.faults),
        };
        match self.worker_threads {
            0 => LocalEndpoint::launch(config).await,
            n => LocalEndpoint::launch_on_own_runtime(config, n).await,
        }
    }
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
    async fn a_stream_limit_of_zero_is_refused_by_name() {
        let e = refusal(LocalEndpointBuilder::default().h2_max_concurrent_streams(0)).await;
        assert_eq!(e.field(), "h2_max_concurrent_streams");
    }

    #[tokio::test]
    async fn plain_http_off_loopback_is_refused_by_name() {
        let any = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
        let e = refusal(LocalEndpointBuilder::default().bind(any).plain_http(true)).await;
        assert_eq!(e.field(), "plain_http");
    }

    #[tokio::test]
    async fn http1_only_faults_are_accepted_with_http2_on_by_default() {
        let faults = FaultConfig {
            max_requests: Some(3),
            idle_close: Some(Duration::from_secs(1)),
            die_after_request: Some(CloseKind::Reset),
            ..FaultConfig::default()
        };
        let ep = LocalEndpointBuilder::default()
            .faults(faults.clone())
            .start()
            .await
            .expect("HTTP/1 faults act on HTTP/1.1 connections");
        assert_eq!(ep.faults().snapshot(), faults);
    }
}
