//! Pool settings: every default is a named const, stated once here.

use std::sync::Arc;
use std::time::Duration;

use crate::connect::{GaiResolver, Keepalive, Resolve, SocketOptions, TlsSettings};
use crate::protocol::Protocol;
use crate::BuildError;

/// Default [`PoolBuilder::idle_timeout`]: 20 s.
///
/// Why 20 s: the server side sets the real limit and does not say it. Lambda's front end purges
/// idle connections after an unstated time; PrivateLink, NAT gateways and NLBs forget a flow
/// after 350 s; application load balancers and many proxies close at 60 s. An idle timeout far
/// below all of them costs one TLS handshake per 20 s of silence per connection, a price that
/// buys never racing any of those cutoffs. The pool also learns a shorter limit on its own
/// (see [`crate::pool`]'s "Learning the server's idle limit").
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(20);

/// Default [`PoolBuilder::max_lifetime`]: 5 minutes, so new DNS answers and replaced endpoint
/// ENIs are picked up without a restart.
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(300);

/// Default [`PoolBuilder::max_connections_per_host`]: 512 (established + connecting + in use).
pub const DEFAULT_MAX_CONNECTIONS_PER_HOST: usize = 512;

/// Default [`PoolBuilder::max_waiters_per_host`]: 4096 callers may queue for a connection.
pub const DEFAULT_MAX_WAITERS_PER_HOST: usize = 4096;

/// Default [`PoolBuilder::acquire_timeout`]: 10 s to get a connection before failing "not sent".
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The deadline the SDK adapter and the lean path give a call that sets none (the SDK's
/// `read_timeout`, [`LeanInvokerBuilder::response_timeout`](crate::lean::LeanInvokerBuilder::response_timeout)):
/// 910 s, so a synchronous invoke of a function running its full 15 minutes (900 s) completes.
/// Both callers apply it through [`RequestOptions`](crate::pool::RequestOptions); the pool
/// itself sets no deadline.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(910);

/// Default [`PoolBuilder::connect_timeout`]: 3.1 s for each connect attempt to one address,
/// TCP connect and TLS handshake together (the AWS SDK's own default connect timeout).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// Default [`PoolBuilder::connect_attempt_delay`]: 100 ms between starting a connect to one
/// address of an endpoint and racing the next one.
///
/// Why 100 ms, not Happy Eyeballs' 250 ms: RFC 8305 picks 250 ms for the internet, where a
/// handshake may take that long, and asks for no less than 100 ms, "to avoid congestion
/// collapse" from redundant attempts. Inside a VPC, TCP and TLS to an endpoint ENI take a few
/// milliseconds even across zones, and loaded as this crate's benchmarks load it, tens: 100 ms
/// is still several times that, so a healthy first address almost always wins alone, while a
/// caller that meets a black-holed address (one that swallows SYNs: an impaired zone) waits
/// 100 ms instead of 250 ms before the next zone is tried, and only until that address is
/// ejected.
pub const DEFAULT_CONNECT_ATTEMPT_DELAY: Duration = Duration::from_millis(100);

/// Default [`PoolBuilder::min_idle`]: 0 (no connections are kept open before they are needed).
pub const DEFAULT_MIN_IDLE: usize = 0;

/// Default TCP keepalive idle time: the first probe after 30 s of silence. Well under the 350 s
/// after which PrivateLink forgets a flow, so a 15-minute synchronous invoke keeps its flow.
pub const DEFAULT_TCP_KEEPALIVE_IDLE: Duration = Duration::from_secs(30);

/// Default TCP keepalive probe interval: 10 s.
pub const DEFAULT_TCP_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);

/// Default TCP keepalive probe count: 3 unanswered probes end the connection, so a silent dead
/// peer is noticed within 30 s + 3 × 10 s = 60 s.
pub const DEFAULT_TCP_KEEPALIVE_COUNT: u32 = 3;

/// Default [`PoolBuilder::h2_keepalive`] interval: an HTTP/2 PING every 20 s, also while idle
/// and while streams wait silently for a long invoke, keeps a shared connection's flow alive
/// (PrivateLink forgets one after 350 s) and proves the peer is there.
pub const DEFAULT_H2_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(20);

/// Default [`PoolBuilder::h2_keepalive`] timeout: a PING unanswered for 10 s ends the
/// connection, so a black-holed HTTP/2 connection is noticed within 20 s + 10 s = 30 s; its
/// open streams end "may have executed", new requests go to another connection.
pub const DEFAULT_H2_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Default [`PoolBuilder::max_streams_per_connection`]: 128, what Lambda's endpoint
/// advertises. The server's own `SETTINGS_MAX_CONCURRENT_STREAMS` applies when it is lower.
pub const DEFAULT_MAX_STREAMS_PER_CONNECTION: u32 = 128;

/// Default [`PoolBuilder::h2_windows`] stream window: 8 MiB, more than Lambda's 6 MB
/// synchronous response, so a response streams in without waiting for a WINDOW_UPDATE (the
/// protocol's default is 64 KiB, a round trip per 64 KiB).
pub const DEFAULT_H2_STREAM_WINDOW: u32 = 8 << 20;

/// Default [`PoolBuilder::h2_windows`] connection window: 32 MiB, shared by the connection's
/// streams (several 6 MB responses at full speed). A window is an allowance, not a buffer:
/// memory is used only by data the caller has not read yet.
pub const DEFAULT_H2_CONNECTION_WINDOW: u32 = 32 << 20;

/// The largest flow-control window HTTP/2 allows (RFC 9113 §6.9.1).
const MAX_H2_WINDOW: u32 = (1 << 31) - 1;
/// The smallest: the protocol's initial window.
const MIN_H2_WINDOW: u32 = 65_535;

/// How many times one request may be handed back unsent by a connection and sent on another
/// before the call fails "not sent": 4. (HTTP/2 streams the server refused have their own
/// budget, `h2::MAX_REFUSED_RESENDS`, beside the refused-stream rule.)
pub(crate) const MAX_UNSENT_RESENDS: u32 = 4;

/// The smallest margin kept below a learned or announced server idle limit: covers timer slop
/// and the request's trip to the server: 100 ms.
pub(crate) const LEARNED_IDLE_MARGIN_MIN: Duration = Duration::from_millis(100);

/// The margin below a learned or announced idle limit is at least this fraction of the limit
/// (1/10: 2 s becomes 1.8 s, 350 s becomes 315 s).
pub(crate) const LEARNED_IDLE_MARGIN_DIVISOR: u32 = 10;

/// How often the maintenance task reaps expired idle connections and refills `min_idle`:
/// every 500 ms.
pub(crate) const MAINTENANCE_INTERVAL: Duration = Duration::from_millis(500);

/// After this many consecutive connect failures to a zonal VPCE name, new connections go to the
/// regional name: 3.
pub(crate) const ZONAL_FAILURES_BEFORE_FALLBACK: u32 = 3;

/// How long new connections stay on the regional name before the zonal name is tried again:
/// 60 s.
pub(crate) const ZONAL_FALLBACK_COOLDOWN: Duration = Duration::from_secs(60);

/// The longest a checked-out connection may take to become ready for the next request (hyper
/// finishing the previous exchange) before it is closed ([`CloseReason::NotReady`]) and
/// another is used.
///
/// [`CloseReason::NotReady`]: super::CloseReason::NotReady
pub(crate) const SETTLE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long after a failed connect an origin opens no background connect to spread HTTP/2
/// streams over [`PoolBuilder::h2_connections`] connections: 5 s, so that an origin refusing
/// connects is not asked again on every call.
pub(crate) const SPREAD_RETRY_AFTER: Duration = Duration::from_secs(5);

const MAX_KEEPALIVE_COUNT: u32 = 127;
const MAX_KEEPALIVE_SECS: u64 = 32_767;

/// The protocol a pool speaks unless told otherwise: ALPN decides, and Lambda's endpoint picks
/// `h2`, over which a graceful restart or GOAWAY fails no call (a stream the server did not
/// process is resent), where over HTTP/1.1 a close racing a request leaves it "may have
/// executed". A server offering only `http/1.1`, and plain `http://`, get HTTP/1.1. The
/// measurements are in docs/http2.md ("Which protocol").
pub const DEFAULT_PROTOCOL: Protocol = Protocol::Auto;

/// Validated pool settings. Read them back with [`crate::Pool::config`].
#[derive(Clone)]
pub struct PoolConfig {
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_lifetime: Option<Duration>,
    pub(crate) max_connections_per_host: usize,
    pub(crate) max_waiters_per_host: usize,
    pub(crate) acquire_timeout: Option<Duration>,
    pub(crate) connect_timeout: Duration,
    pub(crate) connect_attempt_delay: Duration,
    pub(crate) min_idle: usize,
    pub(crate) learn_idle_limit: bool,
    pub(crate) socket: SocketOptions,
    pub(crate) tls: TlsSettings,
    pub(crate) h2: H2Config,
    pub(crate) resolver: Arc<dyn Resolve>,
}

/// HTTP/2 settings of a pool.
#[derive(Debug, Clone, Copy)]
pub(crate) struct H2Config {
    pub(crate) keepalive_interval: Option<Duration>,
    pub(crate) keepalive_timeout: Duration,
    pub(crate) max_streams_per_connection: u32,
    /// `None`: the worker threads of the runtime the origin is first used on.
    pub(crate) connections: Option<usize>,
    pub(crate) stream_window: u32,
    pub(crate) connection_window: u32,
}

impl Default for H2Config {
    fn default() -> Self {
        H2Config {
            keepalive_interval: Some(DEFAULT_H2_KEEPALIVE_INTERVAL),
            keepalive_timeout: DEFAULT_H2_KEEPALIVE_TIMEOUT,
            max_streams_per_connection: DEFAULT_MAX_STREAMS_PER_CONNECTION,
            connections: None,
            stream_window: DEFAULT_H2_STREAM_WINDOW,
            connection_window: DEFAULT_H2_CONNECTION_WINDOW,
        }
    }
}

impl std::fmt::Debug for PoolConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolConfig")
            .field("idle_timeout", &self.idle_timeout)
            .field("max_lifetime", &self.max_lifetime)
            .field("max_connections_per_host", &self.max_connections_per_host)
            .field("max_waiters_per_host", &self.max_waiters_per_host)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("connect_attempt_delay", &self.connect_attempt_delay)
            .field("min_idle", &self.min_idle)
            .field("learn_idle_limit", &self.learn_idle_limit)
            .field("socket", &self.socket)
            .field("protocol", &self.tls.protocol)
            .field("h2", &self.h2)
            .field("extra_ca_roots", &self.tls.extra_roots.len())
            .field("resolver", &self.resolver)
            .finish()
    }
}

impl PoolConfig {
    /// Idle connections older than this are never reused. `None`: no configured limit.
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }
    /// Connections older than this are never reused.
    pub fn max_lifetime(&self) -> Option<Duration> {
        self.max_lifetime
    }
    /// Established + connecting + in-use connections per origin.
    pub fn max_connections_per_host(&self) -> usize {
        self.max_connections_per_host
    }
    /// Idle connections kept open per origin.
    pub fn min_idle(&self) -> usize {
        self.min_idle
    }
    /// Time allowed for each connect attempt to one address (TCP and TLS).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
    /// How long a connect attempt to one address runs before the next address is raced.
    pub fn connect_attempt_delay(&self) -> Duration {
        self.connect_attempt_delay
    }
    /// Time allowed to get a connection.
    pub fn acquire_timeout(&self) -> Option<Duration> {
        self.acquire_timeout
    }
    /// The longest a silent dead peer goes unnoticed on an open connection (TCP keepalive
    /// idle + interval × count), if keepalive is on.
    pub fn dead_peer_detection(&self) -> Option<Duration> {
        self.socket.keepalive.map(|k| k.detection_bound())
    }
}

/// Builds a [`crate::Pool`]; every setting is validated by [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct PoolBuilder {
    pub(crate) config: PoolConfig,
    pub(crate) routes: Vec<crate::Endpoint>,
    pub(crate) keepalive: (Option<Duration>, Duration, u32),
    pub(crate) errors: Vec<BuildError>,
}

impl Default for PoolBuilder {
    fn default() -> Self {
        PoolBuilder {
            config: PoolConfig {
                idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
                max_lifetime: Some(DEFAULT_MAX_LIFETIME),
                max_connections_per_host: DEFAULT_MAX_CONNECTIONS_PER_HOST,
                max_waiters_per_host: DEFAULT_MAX_WAITERS_PER_HOST,
                acquire_timeout: Some(DEFAULT_ACQUIRE_TIMEOUT),
                connect_timeout: DEFAULT_CONNECT_TIMEOUT,
                connect_attempt_delay: DEFAULT_CONNECT_ATTEMPT_DELAY,
                min_idle: DEFAULT_MIN_IDLE,
                learn_idle_limit: true,
                socket: SocketOptions {
                    nodelay: true,
                    keepalive: None,
                },
                tls: TlsSettings::new(DEFAULT_PROTOCOL),
                h2: H2Config::default(),
                resolver: Arc::new(GaiResolver),
            },
            routes: Vec::new(),
            keepalive: (
                Some(DEFAULT_TCP_KEEPALIVE_IDLE),
                DEFAULT_TCP_KEEPALIVE_INTERVAL,
                DEFAULT_TCP_KEEPALIVE_COUNT,
            ),
            errors: Vec::new(),
        }
    }
}

impl PoolBuilder {
    /// A builder with every default.
    pub fn new() -> Self {
        Self::default()
    }

    /// An idle connection older than this is closed, never reused. The pool may use a shorter
    /// limit it learned from the server. Default: [`DEFAULT_IDLE_TIMEOUT`]; `None` disables
    /// (not recommended: the server's limit is then learned only after a failure).
    pub fn idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.idle_timeout = timeout.into();
        self
    }

    /// A connection older than this is closed when it next becomes idle. Default:
    /// [`DEFAULT_MAX_LIFETIME`]; `None` disables.
    pub fn max_lifetime(mut self, lifetime: impl Into<Option<Duration>>) -> Self {
        self.config.max_lifetime = lifetime.into();
        self
    }

    /// The most connections to one origin: established + connecting + in use. Default:
    /// [`DEFAULT_MAX_CONNECTIONS_PER_HOST`]; at least 1.
    pub fn max_connections_per_host(mut self, max: usize) -> Self {
        self.config.max_connections_per_host = max;
        self
    }

    /// How many callers may wait for a connection to one origin; one more fails at once with
    /// [`crate::Error::is_pool_exhausted`]. Default: [`DEFAULT_MAX_WAITERS_PER_HOST`].
    pub fn max_waiters_per_host(mut self, max: usize) -> Self {
        self.config.max_waiters_per_host = max;
        self
    }

    /// How long a caller may wait for a connection; one too long for the clock (`Duration::MAX`)
    /// is no limit. Default: [`DEFAULT_ACQUIRE_TIMEOUT`]; `None` disables (a call's own
    /// deadline still applies).
    pub fn acquire_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.acquire_timeout = timeout.into();
        self
    }

    /// Time allowed for each connect attempt to one address: TCP connect and TLS handshake
    /// together (DNS has the same allowance before it). A connect races the endpoint's
    /// addresses (see [`connect_attempt_delay`](Self::connect_attempt_delay)), so it takes at
    /// most this plus the attempt delay for each address after the first. Default:
    /// [`DEFAULT_CONNECT_TIMEOUT`]. The AWS SDK's `connect_timeout`, when set, overrides it
    /// for calls through the SDK.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// How long a connect attempt to one address of the endpoint runs before a connect to the
    /// next address starts beside it (RFC 8305's "Connection Attempt Delay", applied to the
    /// endpoint's addresses, one per Availability Zone, both families). The first attempt to
    /// complete TCP and TLS wins; a failed attempt starts the next address at once. Attempts
    /// still pending when another won run on until they end (within `connect_timeout`) so that
    /// a dead address is found out, then are closed. `Duration::ZERO` starts every address at
    /// once. Default: [`DEFAULT_CONNECT_ATTEMPT_DELAY`] (the reasoning is there).
    pub fn connect_attempt_delay(mut self, delay: Duration) -> Self {
        self.config.connect_attempt_delay = delay;
        self
    }

    /// Connections kept open per origin by the maintenance task, so a call after a quiet spell
    /// finds a warm one: when idle + connecting + in-use connections fall below this, new ones
    /// are opened (in-use ones count, as they are idle again when their call ends).
    /// [`crate::Pool::prewarm`] opens them before the first call. Over HTTP/2 one shared
    /// connection satisfies it: with `h2` offered, one is opened first and more only if the
    /// server answers HTTP/1.1. Default: [`DEFAULT_MIN_IDLE`].
    pub fn min_idle(mut self, min: usize) -> Self {
        self.config.min_idle = min;
        self
    }

    /// TCP keepalive: first probe after `idle` of silence, then every `interval`, giving up
    /// after `count` probes. Defaults: [`DEFAULT_TCP_KEEPALIVE_IDLE`],
    /// [`DEFAULT_TCP_KEEPALIVE_INTERVAL`], [`DEFAULT_TCP_KEEPALIVE_COUNT`]; `None` as `idle`
    /// disables keepalive (a long invoke may then lose its flow at a middlebox).
    pub fn tcp_keepalive(
        mut self,
        idle: impl Into<Option<Duration>>,
        interval: Duration,
        count: u32,
    ) -> Self {
        self.keepalive = (idle.into(), interval, count);
        self
    }

    /// Which HTTP version to speak: [`Protocol::Http1`], [`Protocol::Http2`], or
    /// [`Protocol::Auto`] (offer both in ALPN, the server decides). Default: [`DEFAULT_PROTOCOL`].
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.config.tls.protocol = protocol;
        self
    }

    /// HTTP/2: a PING every `interval` (also while idle or while streams wait), and the
    /// connection ends when one goes unanswered for `timeout`: a dead or black-holed
    /// connection is noticed within `interval + timeout`, its open streams end "may have
    /// executed", and new requests go to another connection. Defaults:
    /// [`DEFAULT_H2_KEEPALIVE_INTERVAL`], [`DEFAULT_H2_KEEPALIVE_TIMEOUT`]; `None` as
    /// `interval` disables PINGs (TCP keepalive still runs).
    pub fn h2_keepalive(
        mut self,
        interval: impl Into<Option<Duration>>,
        timeout: Duration,
    ) -> Self {
        self.config.h2.keepalive_interval = interval.into();
        self.config.h2.keepalive_timeout = timeout;
        self
    }

    /// HTTP/2: at most this many streams (requests) at once on one connection; the server's
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` applies when lower. When every connection of an origin
    /// is full, the pool opens another (within `max_connections_per_host`) or the caller waits
    /// as a pool waiter — never inside `h2`. Default: [`DEFAULT_MAX_STREAMS_PER_CONNECTION`].
    pub fn max_streams_per_connection(mut self, max: u32) -> Self {
        self.config.h2.max_streams_per_connection = max;
        self
    }

    /// HTTP/2: how many shared connections per origin the pool spreads concurrent streams
    /// over before it stacks them on one. Each connection's framing, HPACK and TLS run in its
    /// own task, one core at a time: with a single connection every stream of the process
    /// queues behind that one task, and each call pays for waking it from another thread (on
    /// 2 cores at 16 callers, measured: a single connection costs the lean path ~1.2× the
    /// client CPU per call of two; docs/performance.md, "Spreading streams over connections").
    /// A further connection is opened in the background (the caller takes a slot on an existing
    /// one meanwhile) only while every connection in service carries a stream, so one caller at a
    /// time keeps one connection; new streams go to the least loaded connection. Default: the
    /// number of worker threads of the tokio runtime the origin is first used on (1 on a
    /// current-thread runtime), as an event-loop proxy keeps one connection per worker. At
    /// least 1; never above `max_connections_per_host`.
    pub fn h2_connections(mut self, n: usize) -> Self {
        self.config.h2.connections = Some(n);
        self
    }

    /// HTTP/2 flow-control windows this client grants the server: per stream and per
    /// connection, in bytes (65,535 to 2³¹−1). Defaults: [`DEFAULT_H2_STREAM_WINDOW`],
    /// [`DEFAULT_H2_CONNECTION_WINDOW`].
    pub fn h2_windows(mut self, stream: u32, connection: u32) -> Self {
        self.config.h2.stream_window = stream;
        self.config.h2.connection_window = connection;
        self
    }

    /// Sets `TCP_NODELAY`. Default: on.
    pub fn tcp_nodelay(mut self, nodelay: bool) -> Self {
        self.config.socket.nodelay = nodelay;
        self
    }

    /// Learn each origin's idle limit from the server's `Keep-Alive: timeout=N` and from
    /// connections it closed while idle. Default: on.
    pub fn learn_idle_limit(mut self, learn: bool) -> Self {
        self.config.learn_idle_limit = learn;
        self
    }

    /// Trusts the CA certificates in this PEM bundle *in addition to* the Mozilla roots.
    /// TLS verification itself cannot be turned off.
    pub fn add_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        if let Err(e) = self.config.tls.add_ca_pem(pem.as_ref()) {
            self.errors.push(e);
        }
        self
    }

    /// Trusts only the CAs added with [`add_ca_pem`](Self::add_ca_pem) (a private CA, tests).
    pub fn only_added_roots(mut self, only: bool) -> Self {
        self.config.tls.only_extra_roots = only;
        self
    }

    /// Replaces the DNS resolver. Default: [`GaiResolver`].
    pub fn resolver(mut self, resolver: impl Resolve) -> Self {
        self.config.resolver = Arc::new(resolver);
        self
    }

    /// Routes requests whose URI authority is this endpoint's signing host to its connect host
    /// and TLS name (with a zonal fallback when it has one). Requests to other authorities
    /// connect where their URI says.
    pub fn endpoint(mut self, endpoint: &crate::Endpoint) -> Self {
        self.routes.push(endpoint.clone());
        self
    }

    /// Validates every setting and builds the pool. Needs no runtime; the maintenance task
    /// starts with the first call.
    pub fn build(self) -> Result<crate::Pool, BuildError> {
        let mut cfg = self.validate()?;
        let (idle, interval, count) = self.keepalive;
        cfg.socket.keepalive = idle.map(|idle| Keepalive {
            idle,
            interval,
            count,
        });
        crate::Pool::from_parts(cfg, &self.routes)
    }

    #[cfg(test)]
    pub(crate) fn validate_for_tests(self) -> PoolConfig {
        let mut cfg = self.validate().expect("valid test settings");
        cfg.socket.keepalive = None;
        cfg
    }

    fn validate(&self) -> Result<PoolConfig, BuildError> {
        if let Some(e) = self.errors.first() {
            return Err(e.clone());
        }
        let c = &self.config;
        positive("idle_timeout", c.idle_timeout)?;
        positive("max_lifetime", c.max_lifetime)?;
        positive("acquire_timeout", c.acquire_timeout)?;
        positive("connect_timeout", Some(c.connect_timeout))?;
        if c.max_connections_per_host == 0 {
            return Err(BuildError::new(
                "max_connections_per_host",
                "0",
                "at least 1",
            ));
        }
        if c.min_idle > c.max_connections_per_host {
            return Err(BuildError::new(
                "min_idle",
                c.min_idle.to_string(),
                format!(
                    "at most max_connections_per_host ({})",
                    c.max_connections_per_host
                ),
            ));
        }
        if c.h2.max_streams_per_connection == 0 {
            return Err(BuildError::new(
                "max_streams_per_connection",
                "0",
                "at least 1",
            ));
        }
        if c.h2.connections == Some(0) {
            return Err(BuildError::new("h2_connections", "0", "at least 1"));
        }
        positive("h2_keepalive.interval", c.h2.keepalive_interval)?;
        positive("h2_keepalive.timeout", Some(c.h2.keepalive_timeout))?;
        for (field, w) in [
            ("h2_windows.stream", c.h2.stream_window),
            ("h2_windows.connection", c.h2.connection_window),
        ] {
            if !(MIN_H2_WINDOW..=MAX_H2_WINDOW).contains(&w) {
                return Err(BuildError::new(
                    field,
                    w.to_string(),
                    "between 65535 and 2147483647 bytes",
                ));
            }
        }
        let (idle, interval, count) = self.keepalive;
        if let Some(idle) = idle {
            if idle < Duration::from_secs(1) || idle.as_secs() > MAX_KEEPALIVE_SECS {
                return Err(BuildError::new(
                    "tcp_keepalive.idle",
                    format!("{idle:?}"),
                    "between 1 s and 32767 s",
                ));
            }
            if interval < Duration::from_secs(1) || interval.as_secs() > MAX_KEEPALIVE_SECS {
                return Err(BuildError::new(
                    "tcp_keepalive.interval",
                    format!("{interval:?}"),
                    "between 1 s and 32767 s",
                ));
            }
            if count == 0 || count > MAX_KEEPALIVE_COUNT {
                return Err(BuildError::new(
                    "tcp_keepalive.count",
                    count.to_string(),
                    "between 1 and 127",
                ));
            }
        }
        Ok(c.clone())
    }
}

fn positive(field: &'static str, value: Option<Duration>) -> Result<(), BuildError> {
    match value {
        Some(d) if d.is_zero() => Err(BuildError::new(
            field,
            "0s",
            "a positive duration, or None to disable",
        )),
        _ => Ok(()),
    }
}
